// The team view (#/team, ADMIN and SUPER_ADMIN): the tenant's users with their role,
// state and last sign-in; invite a colleague (the one-time link is shown once, with a
// copy button, and says whether it was emailed); change a role; deactivate or
// reactivate; send a password-reset link; delete after a confirmation. The server
// decides: whatever it refuses is shown with its message.

import { el, sentence, showState } from '../dom.js';
import * as fmt from '../format.js';

const USER_FIELDS = 'id email role isActive lastLoginAt invitationPending createdAt';
const INVITATION_FIELDS = `url expiresAt emailed user { ${USER_FIELDS} }`;

const Q = {
  users: `query Team { users { ${USER_FIELDS} } }`,
  invite: `mutation Invite($email: String!, $role: Role!) { inviteUser(email: $email, role: $role) { ${INVITATION_FIELDS} } }`,
  reset: `mutation ResetPassword($id: ID!) { resetUserPassword(id: $id) { ${INVITATION_FIELDS} } }`,
  update: `mutation UpdateUser($id: ID!, $input: UpdateUserInput!) { updateUser(id: $id, input: $input) { ${USER_FIELDS} } }`,
  remove: `mutation DeleteUser($id: ID!) { deleteUser(id: $id) }`,
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

function render(roles) {
  return el('div', { class: 'team' },
    el('section', { class: 'card team-invite', 'aria-labelledby': 'invite-title' },
      el('div', { class: 'team-head' },
        el('h1', { id: 'team-title', text: 'Team' }),
        el('p', { class: 'muted', text: 'Who can sign in to your Sally, and what they may do. Dispatchers see integrations, syncs, drivers and loads; admins also manage the team, integrations and alerts.' })),
      el('form', { id: 'invite-form', class: 'invite-form', novalidate: true },
        el('h2', { id: 'invite-title', text: 'Invite a colleague' }),
        el('div', { class: 'invite-fields' },
          el('div', { class: 'field' },
            el('label', { for: 'invite-email', text: 'Email' }),
            el('input', { id: 'invite-email', type: 'email', autocomplete: 'off', spellcheck: 'false', required: true, placeholder: 'name@company.com' })),
          el('div', { class: 'field' },
            el('label', { for: 'invite-role', text: 'Role' }),
            el('select', { id: 'invite-role' }, roles.map((r) => el('option', { value: r, text: ROLE_LABELS[r] })))),
          el('button', { id: 'invite-submit', type: 'submit', class: 'button primary', text: 'Invite' }))),
      el('p', { id: 'team-message', class: 'message', role: 'status', 'aria-live': 'polite', hidden: true }),
      el('div', { id: 'link-box', class: 'link-box', hidden: true },
        el('p', { id: 'link-title', class: 'link-title' }),
        el('div', { class: 'link-row' },
          el('input', { id: 'link-url', type: 'text', readonly: true, 'aria-label': 'One-time link', spellcheck: 'false' }),
          el('button', { id: 'link-copy', type: 'button', class: 'button', text: 'Copy link' })),
        el('p', { id: 'link-note', class: 'muted small' }))),
    el('section', { class: 'card team-list', 'aria-labelledby': 'members-title' },
      el('div', { class: 'history-head' },
        el('h2', { id: 'members-title', text: 'Members' }),
        el('button', { id: 'team-refresh', type: 'button', class: 'button ghost small', text: 'Refresh' })),
      el('div', { id: 'team-state', class: 'state', hidden: true }),
      el('div', { class: 'table-wrap' },
        el('table', { id: 'team-table', 'aria-labelledby': 'members-title' },
          el('thead', {},
            el('tr', {},
              el('th', { scope: 'col', text: 'Email' }),
              el('th', { scope: 'col', text: 'Role' }),
              el('th', { scope: 'col', text: 'Status' }),
              el('th', { scope: 'col', text: 'Last sign-in' }),
              el('th', { scope: 'col', text: 'Actions' }))),
          el('tbody', { id: 'team-rows' })))));
}

export function mount(root, app) {
  const me = app.session;
  const roles = app.hasRole('SUPER_ADMIN') ? ['DISPATCHER', 'ADMIN', 'SUPER_ADMIN'] : ['DISPATCHER', 'ADMIN'];
  const state = { alive: true, users: [], busy: new Set(), confirming: null, seq: 0 };
  root.replaceChildren(render(roles));
  const q = (id) => root.querySelector(`#${id}`);

  function say(text, tone) {
    const m = q('team-message');
    m.hidden = !text;
    m.textContent = text ? said(text) : '';
    m.dataset.tone = tone || 'info';
    if (tone === 'bad') m.setAttribute('role', 'alert');
    else m.setAttribute('role', 'status');
  }

  function showLink(inv, kind) {
    q('link-box').hidden = false;
    q('link-title').textContent = kind === 'invite'
      ? `Invitation link for ${inv.user.email}`
      : `Password link for ${inv.user.email}`;
    q('link-url').value = inv.url;
    q('link-copy').textContent = 'Copy link';
    const emailed = inv.emailed
      ? `Emailed to ${inv.user.email}.`
      : 'Not emailed: no SMTP configured. Hand the link over yourself.';
    q('link-note').textContent = `${emailed} It works once, until ${fmt.absoluteTime(inv.expiresAt)}, and is shown only now.`;
    q('link-box').dataset.emailed = String(inv.emailed);
  }

  async function load() {
    const seq = ++state.seq;
    if (!state.users.length) showState(q('team-state'), 'loading', 'Loading the team…');
    try {
      const data = await app.api(Q.users);
      if (!state.alive || seq !== state.seq) return;
      state.users = data.users;
      showState(q('team-state'), null);
      draw();
    } catch (e) {
      if (!state.alive || seq !== state.seq) return;
      showState(q('team-state'), 'error', said(e.message), load);
    }
  }

  function statusBadges(u) {
    const out = [];
    out.push(u.isActive
      ? el('span', { class: 'badge good', text: 'Active' })
      : el('span', { class: 'badge bad', text: 'Deactivated' }));
    if (u.invitationPending) out.push(el('span', { class: 'badge info', text: 'Invitation pending' }));
    return out;
  }

  function lastLogin(u) {
    if (!u.lastLoginAt) return el('span', { class: 'muted', text: 'Never' });
    return el('time', {
      datetime: u.lastLoginAt, title: fmt.absoluteTime(u.lastLoginAt), 'data-relative': true,
      text: fmt.relativeTime(u.lastLoginAt),
    });
  }

  function roleSelect(u) {
    const options = roles.includes(u.role) ? roles : [...roles, u.role];
    const s = el('select', {
      class: 'role-select', 'data-id': u.id, 'aria-label': `Role of ${u.email}`,
      disabled: state.busy.has(u.id) || (u.role === 'SUPER_ADMIN' && !roles.includes('SUPER_ADMIN')),
      onchange: () => act(u, 'role', s.value),
    }, options.map((r) => el('option', { value: r, text: ROLE_LABELS[r], selected: r === u.role })));
    return s;
  }

  function actions(u) {
    const busy = state.busy.has(u.id);
    if (state.confirming === u.id) {
      return el('div', { class: 'row-actions confirm', role: 'group', 'aria-label': `Confirm deleting ${u.email}` },
        el('span', { class: 'confirm-text', text: `Delete ${u.email}? Their syncs stay in the history.` }),
        el('button', { type: 'button', class: 'button small danger', 'data-action': 'confirm-delete', disabled: busy, onclick: () => act(u, 'delete'), text: 'Delete' }),
        el('button', { type: 'button', class: 'button small', 'data-action': 'cancel-delete', onclick: () => { state.confirming = null; draw(); }, text: 'Cancel' }));
    }
    return el('div', { class: 'row-actions' },
      el('button', {
        type: 'button', class: 'button small', 'data-action': u.isActive ? 'deactivate' : 'reactivate', disabled: busy,
        'aria-label': `${u.isActive ? 'Deactivate' : 'Reactivate'} ${u.email}`,
        onclick: () => act(u, u.isActive ? 'deactivate' : 'reactivate'), text: u.isActive ? 'Deactivate' : 'Reactivate',
      }),
      el('button', {
        type: 'button', class: 'button small', 'data-action': 'reset', disabled: busy,
        'aria-label': `${u.invitationPending ? 'New invitation link for' : 'Reset the password of'} ${u.email}`,
        onclick: () => act(u, 'reset'), text: u.invitationPending ? 'New link' : 'Reset password',
      }),
      el('button', {
        type: 'button', class: 'button small danger-ghost', 'data-action': 'delete', disabled: busy,
        'aria-label': `Delete ${u.email}`, onclick: () => { state.confirming = u.id; draw(); }, text: 'Delete',
      }));
  }

  function draw() {
    const rows = state.users.map((u) => {
      const you = me && u.email === me.email;
      return el('tr', { 'data-id': u.id, 'data-email': u.email, 'data-active': String(u.isActive) },
        el('td', { 'data-label': 'Email' },
          el('span', { class: 'member-email', text: u.email }),
          you ? el('span', { class: 'muted small you', text: ' (you)' }) : null),
        el('td', { 'data-label': 'Role' }, roleSelect(u)),
        el('td', { 'data-label': 'Status' }, el('span', { class: 'badges' }, statusBadges(u))),
        el('td', { 'data-label': 'Last sign-in' }, lastLogin(u)),
        el('td', { 'data-label': 'Actions' }, actions(u)));
    });
    q('team-rows').replaceChildren(...rows);
    if (!rows.length) showState(q('team-state'), 'empty', 'Nobody here yet.');
  }

  function replaceUser(u) {
    const i = state.users.findIndex((x) => x.id === u.id);
    if (i >= 0) state.users[i] = u;
    else state.users.push(u);
  }

  async function act(u, what, value) {
    if (state.busy.has(u.id)) return;
    state.busy.add(u.id);
    draw();
    say('');
    try {
      switch (what) {
        case 'role': {
          const data = await app.api(Q.update, { id: u.id, input: { role: value } });
          replaceUser(data.updateUser);
          say(`Changed the role of ${u.email} to ${ROLE_LABELS[data.updateUser.role].toLowerCase()}.`, 'good');
          break;
        }
        case 'deactivate':
        case 'reactivate': {
          const active = what === 'reactivate';
          const data = await app.api(Q.update, { id: u.id, input: { isActive: active } });
          replaceUser(data.updateUser);
          say(active
            ? `Reactivated ${u.email}: they can sign in again (their old sessions stay ended).`
            : `Deactivated ${u.email}: their sessions end within 15 seconds.`, 'good');
          break;
        }
        case 'reset': {
          const data = await app.api(Q.reset, { id: u.id });
          replaceUser(data.resetUserPassword.user);
          showLink(data.resetUserPassword, u.invitationPending ? 'invite' : 'reset');
          say(u.invitationPending
            ? `New invitation link for ${u.email}: the older one no longer works.`
            : `Password link for ${u.email}: their current password works until they use it.`, 'good');
          break;
        }
        case 'delete': {
          await app.api(Q.remove, { id: u.id });
          state.users = state.users.filter((x) => x.id !== u.id);
          state.confirming = null;
          say(`Deleted ${u.email}.`, 'good');
          break;
        }
        default:
          break;
      }
    } catch (e) {
      if (!state.alive) return;
      say(e.message, 'bad');
    } finally {
      state.busy.delete(u.id);
      if (state.alive) draw(); // a refused role change shows the role the server kept
    }
  }

  async function onInvite(ev) {
    ev.preventDefault();
    const email = q('invite-email').value.trim();
    const role = q('invite-role').value;
    if (!email) {
      say('Enter the email address of the person to invite.', 'bad');
      q('invite-email').focus();
      return;
    }
    const button = q('invite-submit');
    button.disabled = true;
    button.textContent = 'Inviting…';
    say('');
    try {
      const data = await app.api(Q.invite, { email, role });
      if (!state.alive) return;
      replaceUser(data.inviteUser.user);
      draw();
      showLink(data.inviteUser, 'invite');
      q('invite-email').value = '';
      say(`Invited ${data.inviteUser.user.email} as ${ROLE_LABELS[data.inviteUser.user.role].toLowerCase()}.`, 'good');
    } catch (e) {
      if (!state.alive) return;
      say(e.message, 'bad');
      q('invite-email').focus();
    } finally {
      button.disabled = false;
      button.textContent = 'Invite';
    }
  }

  async function onCopy() {
    const input = q('link-url');
    try {
      await navigator.clipboard.writeText(input.value);
      q('link-copy').textContent = 'Copied';
    } catch {
      // No clipboard permission (e.g. not a secure context): select it for Ctrl+C.
      input.focus();
      input.select();
      q('link-copy').textContent = 'Press Ctrl+C';
    }
  }

  q('invite-form').addEventListener('submit', onInvite);
  q('link-copy').addEventListener('click', onCopy);
  q('team-refresh').addEventListener('click', load);
  load();

  return {
    route() {},
    unmount() {
      state.alive = false;
    },
  };
}
