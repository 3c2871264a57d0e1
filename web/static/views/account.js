// The account view (#/account), opened from the account menu: who is signed in, a
// password change (current password, the new one twice) and signing out. After a
// change the session goes on with the fresh token; the user's other sessions end
// within 15 seconds.

import { el, sentence } from '../dom.js';

const Q = {
  changePassword: `mutation ChangePassword($current: String!, $password: String!) {
    changePassword(currentPassword: $current, newPassword: $password) { token expiresAt user { email role } } }`,
};

const ROLE_LABELS = { SUPER_ADMIN: 'Super admin', ADMIN: 'Admin', DISPATCHER: 'Dispatcher' };

/**
 * A server's message as a sentence: capitalised unless it starts with an argument's
 * name (newPassword …), ending in a full stop.
 */
function said(s) {
  const t = String(s || '').trim();
  if (/^[a-z]+[A-Z]\w* /.test(t)) return /[.!?]$/.test(t) ? t : `${t}.`;
  return sentence(t);
}

function render(session) {
  return el('div', { class: 'account' },
    el('section', { class: 'card account-card', 'aria-labelledby': 'account-title' },
      el('h1', { id: 'account-title', text: 'Your account' }),
      el('p', { class: 'muted' },
        el('span', { id: 'account-email', text: session ? session.email : '' }),
        session ? ` · ${ROLE_LABELS[session.role] || session.role}` : ''),
      el('form', { id: 'change-password-form', novalidate: true, 'aria-labelledby': 'change-password-title' },
        el('h2', { id: 'change-password-title', text: 'Change password' }),
        el('div', { class: 'field' },
          el('label', { for: 'current-password', text: 'Current password' }),
          el('input', { id: 'current-password', type: 'password', autocomplete: 'current-password', required: true })),
        el('div', { class: 'field' },
          el('label', { for: 'account-new-password', text: 'New password' }),
          el('input', { id: 'account-new-password', type: 'password', autocomplete: 'new-password', required: true, minlength: '12' }),
          el('p', { class: 'muted small', text: 'At least 12 characters; your email, names and common passwords are refused.' })),
        el('div', { class: 'field' },
          el('label', { for: 'account-confirm-password', text: 'Repeat the new password' }),
          el('input', { id: 'account-confirm-password', type: 'password', autocomplete: 'new-password', required: true })),
        el('p', { id: 'account-message', class: 'message', role: 'status', 'aria-live': 'polite', hidden: true }),
        el('div', { class: 'account-actions' },
          el('button', { id: 'change-password-submit', type: 'submit', class: 'button primary', text: 'Change password' }),
          el('button', { id: 'account-logout', type: 'button', class: 'button', text: 'Sign out' })))));
}

export function mount(root, app) {
  const state = { alive: true };
  const menu = document.getElementById('account-menu');
  if (menu) menu.open = false;
  root.replaceChildren(render(app.session));
  const q = (id) => root.querySelector(`#${id}`);

  function say(text, tone) {
    const m = q('account-message');
    m.hidden = !text;
    m.textContent = text ? said(text) : '';
    m.dataset.tone = tone;
    m.setAttribute('role', tone === 'bad' ? 'alert' : 'status');
  }

  async function onSubmit(ev) {
    ev.preventDefault();
    const current = q('current-password').value;
    const pw = q('account-new-password').value;
    const again = q('account-confirm-password').value;
    say('');
    if (!current || !pw) {
      say('Enter your current password and a new one', 'bad');
      return;
    }
    if (pw !== again) {
      say('The two new passwords differ', 'bad');
      q('account-confirm-password').focus();
      return;
    }
    const button = q('change-password-submit');
    button.disabled = true;
    button.textContent = 'Changing…';
    try {
      await app.renewSession(async () => (await app.api(Q.changePassword, { current, password: pw })).changePassword);
      if (!state.alive) return;
      for (const id of ['current-password', 'account-new-password', 'account-confirm-password']) q(id).value = '';
      say('Password changed. Your other sessions end within 15 seconds', 'good');
    } catch (e) {
      if (!state.alive) return;
      say(e.message, 'bad');
    } finally {
      if (state.alive) {
        button.disabled = false;
        button.textContent = 'Change password';
      }
    }
  }

  q('change-password-form').addEventListener('submit', onSubmit);
  q('account-logout').addEventListener('click', () => app.logout());

  return {
    route() {},
    unmount() {
      state.alive = false;
    },
  };
}
