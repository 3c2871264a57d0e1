// The set-password view (#/set-password/<token>), opened from an invitation or a
// password-reset link without signing in: it sets the password, which signs the
// person in, and opens the integrations. The server checks the link (once, 72 hours)
// and the password rule, and says why it refuses.

import { request } from '../api.js';
import { el, sentence } from '../dom.js';

const Q = {
  setPassword: `mutation SetPassword($token: String!, $password: String!) {
    setPassword(token: $token, newPassword: $password) { token expiresAt user { email role } } }`,
};

/**
 * A server's message as a sentence: capitalised unless it starts with an argument's
 * name (newPassword …), ending in a full stop.
 */
function said(s) {
  const t = String(s || '').trim();
  if (/^[a-z]+[A-Z]\w* /.test(t)) return /[.!?]$/.test(t) ? t : `${t}.`;
  return sentence(t);
}

function render() {
  return el('section', { class: 'login-view', 'aria-labelledby': 'set-password-title' },
    el('form', { id: 'set-password-form', class: 'card login-card', novalidate: true },
      el('h1', { id: 'set-password-title', text: 'Set your password' }),
      el('p', { class: 'muted', text: 'At least 12 characters. A few unrelated words are easy to remember and hard to guess; your email, names and common passwords are refused.' }),
      el('div', { class: 'field' },
        el('label', { for: 'new-password', text: 'New password' }),
        el('input', { id: 'new-password', type: 'password', autocomplete: 'new-password', required: true, minlength: '12' })),
      el('div', { class: 'field' },
        el('label', { for: 'confirm-password', text: 'Repeat the new password' }),
        el('input', { id: 'confirm-password', type: 'password', autocomplete: 'new-password', required: true })),
      el('p', { id: 'set-password-error', class: 'message error', role: 'alert', hidden: true }),
      el('button', { id: 'set-password-submit', type: 'submit', class: 'button primary wide', text: 'Set password and sign in' }),
      el('p', { class: 'muted small form-foot' }, 'Already have a password? ', el('a', { href: '#/', text: 'Log in' }))));
}

export function mount(root, app) {
  const state = { alive: true, token: '' };
  root.replaceChildren(render());
  const q = (id) => root.querySelector(`#${id}`);

  function fail(message) {
    const e = q('set-password-error');
    e.textContent = said(message);
    e.hidden = false;
  }

  async function onSubmit(ev) {
    ev.preventDefault();
    const pw = q('new-password').value;
    const again = q('confirm-password').value;
    q('set-password-error').hidden = true;
    if (!state.token) {
      fail('This link has no token: open the whole link from your email, or ask an admin for a new one');
      return;
    }
    if (!pw) {
      fail('Enter a new password');
      q('new-password').focus();
      return;
    }
    if (pw !== again) {
      fail('The two passwords differ');
      q('confirm-password').focus();
      return;
    }
    const button = q('set-password-submit');
    button.disabled = true;
    button.textContent = 'Setting the password…';
    try {
      const data = await request(Q.setPassword, { token: state.token, password: pw });
      if (!state.alive) return;
      app.signIn(data.setPassword);
    } catch (e) {
      if (!state.alive) return;
      fail(e.message);
      button.disabled = false;
      button.textContent = 'Set password and sign in';
    }
  }

  q('set-password-form').addEventListener('submit', onSubmit);
  q('new-password').focus();

  return {
    route(r) {
      state.token = (r.rest && r.rest[0]) || '';
    },
    unmount() {
      state.alive = false;
    },
  };
}
