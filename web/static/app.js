// Sally Integrations: the page's shell. It logs in and out, keeps the one live
// connection, draws the navigation bar and routes #/<path>/… to the view registered
// for <path>. Each view is a module under views/ (plain DOM, no framework) that
// exports mount(root, app) and returns { route(params), unmount() }; see
// views/integrations.js.

import { LiveClient, request } from './api.js';
import { $, el, sentence, showState } from './dom.js';
import * as fmt from './format.js';

const ADMINS = ['SUPER_ADMIN', 'ADMIN'];

// The views, one line each, in the order of the navigation bar (Integrations, Sync
// log, Drivers, Loads, Alerts, Team). path: the first segment of the route
// (#/<path>/<rest…>?<query>); title: the link in the navigation bar (null: a route
// without a link); module: the view's module; roles: who may open it (omitted: every
// signed-in user; the server checks again); public: opens without signing in;
// badge: the module's badge(app) runs for the whole session (a count on the link,
// through app.setBadge) and returns its stop function.
// A route that is not registered, or that the role may not open, shows the first view.
const VIEWS = [
  { path: 'integrations', title: 'Integrations', module: './views/integrations.js' },
  { path: 'sync-log', title: 'Sync log', module: './views/sync-log.js' },
  { path: 'drivers', title: 'Drivers', module: './views/drivers.js' }, { path: 'loads', title: 'Loads', module: './views/loads.js' },
  { path: 'alerts', title: 'Alerts', module: './views/alerts.js', roles: ADMINS, badge: true },
  { path: 'team', title: 'Team', module: './views/team.js', roles: ADMINS },
  { path: 'account', title: null, module: './views/account.js' },
  { path: 'set-password', title: null, module: './views/set-password.js', public: true },
];

const SESSION_KEY = 'sally.session';
const RELATIVE_TICK_MS = 15000;

const LOG_FIELDS = 'id syncType status trigger startedAt completedAt durationMs recordsProcessed error';

const Q = {
  login: `mutation Login($email: String!, $password: String!) {
    login(email: $email, password: $password) { token expiresAt user { email role } } }`,
  // The vendors' names and types (format.js), loaded before the first view.
  vendors: 'query Vendors { vendors { vendor displayName integrationType } }',
  // The shell's one subscription; views listen with app.onEvent.
  events: `subscription SyncEvents { syncEvents {
    type at integrationId integrationName vendor circuitState message attempt retryInMs syncLog { ${LOG_FIELDS} } } }`,
};

const state = {
  session: null, // { token, expiresAt, email, role }
  live: null, // LiveClient
  current: null, // { view, instance } mounted in #view
  routeSeq: 0, // an import that finishes after a newer route is dropped
};

const eventListeners = new Set();
const reconnectListeners = new Set();

function listen(set, fn) {
  set.add(fn);
  return () => set.delete(fn);
}

function allowed(view) {
  if (view.public) return true;
  if (!state.session) return false;
  return !view.roles || view.roles.includes(state.session.role);
}

/**
 * What the shell offers the views. Listeners and subscriptions a view opens must be
 * closed in its unmount (each returns its closing function).
 */
export const app = {
  /** { email, role } of the signed-in user, or null. */
  get session() {
    return state.session ? { email: state.session.email, role: state.session.role } : null;
  },
  /** True when the signed-in user has one of the roles. */
  hasRole(...roles) {
    return !!state.session && roles.flat().includes(state.session.role);
  },
  /** True when the user is an ADMIN or SUPER_ADMIN. */
  isAdmin() {
    return this.hasRole(ADMINS);
  },
  /** True when a view for path is registered and the user may open it. */
  hasView(path) {
    const v = VIEWS.find((x) => x.path === path);
    return !!v && allowed(v);
  },
  /** Calls the API with the session's token; an UNAUTHENTICATED answer ends the session. */
  api,
  /** Calls fn(event) with every syncEvents event of the tenant. */
  onEvent: (fn) => listen(eventListeners, fn),
  /** Calls fn() after the live connection came back (events may have been missed). */
  onReconnect: (fn) => listen(reconnectListeners, fn),
  /** Opens another subscription on the live connection: sink { next(payload), error(errors) }. */
  subscribe(query, variables, sink) {
    return state.live ? state.live.subscribe(query, variables, sink) : () => {};
  },
  /** Goes to #/<path>/<rest…>. */
  navigate(path, ...rest) {
    window.location.hash = href(path, ...rest);
  },
  href,
  /** Shows a count next to a view's link in the navigation bar (null or 0: none). */
  setBadge(path, count) {
    const b = document.querySelector(`#nav a[data-path="${path}"] .nav-count`);
    if (!b) return;
    b.hidden = !count;
    b.textContent = count ? String(count) : '';
  },
  logout,
  /** Starts a session from an AuthPayload (setPassword) and opens the first view. */
  signIn(payload) {
    window.location.hash = href(VIEWS[0].path);
    signIn(payload);
  },
  /**
   * Runs fn (a call that returns an AuthPayload, e.g. changePassword) with the live
   * connection paused, then continues the session with the new token: the server ends
   * the old token's sockets, which must not read as a lost session.
   */
  async renewSession(fn) {
    if (state.live) state.live.stop();
    state.live = null;
    try {
      const payload = await fn();
      signIn(payload);
      return payload;
    } catch (e) {
      if (state.session) startSession();
      throw e;
    }
  },
};

/** '#/<path>/<rest…>', each segment encoded. */
function href(path, ...rest) {
  return `#/${[path, ...rest].map((s) => encodeURIComponent(String(s))).join('/')}`;
}

// ---- session -------------------------------------------------------------------

let expiryTimer = 0;

function loadSession() {
  try {
    const s = JSON.parse(sessionStorage.getItem(SESSION_KEY) || 'null');
    if (s && s.token && new Date(s.expiresAt).getTime() > Date.now()) return s;
  } catch {
    // unreadable: start over
  }
  sessionStorage.removeItem(SESSION_KEY);
  return null;
}

async function api(query, variables) {
  const token = state.session && state.session.token;
  try {
    return await request(query, variables, token);
  } catch (e) {
    if (e.code === 'UNAUTHENTICATED' && state.session && state.session.token === token) {
      logout('Your session has ended. Log in again.');
    }
    throw e;
  }
}

function showLogin(message) {
  unmountView();
  $('app-view').hidden = true;
  $('session').hidden = true;
  $('nav').hidden = true;
  $('login-view').hidden = false;
  const err = $('login-error');
  err.hidden = !message;
  err.textContent = message || '';
  $('email').focus();
}

async function onLogin(ev) {
  ev.preventDefault();
  const email = $('email').value.trim();
  const password = $('password').value;
  const err = $('login-error');
  if (!email || !password) {
    err.textContent = 'Enter your email and password.';
    err.hidden = false;
    return;
  }
  const button = $('login-submit');
  button.disabled = true;
  button.textContent = 'Logging in…';
  err.hidden = true;
  try {
    const data = await request(Q.login, { email, password });
    $('password').value = '';
    signIn(data.login);
  } catch (e) {
    err.textContent = sentence(e.message) || 'Login failed.';
    err.hidden = false;
    $('password').focus();
    $('password').select();
  } finally {
    button.disabled = false;
    button.textContent = 'Log in';
  }
}

/** Starts (or continues) a session with an AuthPayload { token expiresAt user { email role } }. */
function signIn(p) {
  if (state.live) state.live.stop();
  state.live = null;
  state.session = { token: p.token, expiresAt: p.expiresAt, email: p.user.email, role: p.user.role };
  sessionStorage.setItem(SESSION_KEY, JSON.stringify(state.session));
  startSession();
}

function logout(message) {
  if (state.live) state.live.stop();
  state.live = null;
  clearTimeout(expiryTimer);
  sessionStorage.removeItem(SESSION_KEY);
  state.session = null;
  stopBadges();
  $('nav-links').replaceChildren();
  $('account-menu').open = false;
  showLogin(message);
}

/** After a login, or on a page load with a stored session. */
function startSession() {
  const s = state.session;
  $('who').textContent = s.email;
  clearTimeout(expiryTimer);
  const left = new Date(s.expiresAt).getTime() - Date.now();
  expiryTimer = setTimeout(() => logout('Your session has expired. Log in again.'), Math.min(Math.max(left, 0), 2 ** 31 - 1));

  const live = new LiveClient(s.token, {
    onState: setLiveState,
    onAuthError: () => logout('Your session has ended. Log in again.'),
    onReconnected: () => {
      for (const fn of [...reconnectListeners]) fn();
    },
  });
  live.subscribe(Q.events, {}, {
    next: (payload) => {
      const ev = payload && payload.data && payload.data.syncEvents;
      if (ev && ev.type === 'STREAM_RESET') {
        // The server may have missed events for us: refetch, as after a reconnect.
        for (const fn of [...reconnectListeners]) fn();
      } else if (ev) {
        for (const fn of [...eventListeners]) fn(ev);
      }
    },
    error: () => setLiveState('offline'),
  });
  state.live = live;
  live.start();
  renderNav();
  startBadges();
  route();
}

let badgeStops = [];
let badgeSeq = 0;

/** Runs badge(app) of every badge view the user may open (see VIEWS). */
function startBadges() {
  stopBadges();
  const seq = badgeSeq;
  for (const v of VIEWS) {
    if (!v.badge || !allowed(v)) continue;
    import(v.module).then((mod) => {
      if (seq === badgeSeq && state.session && mod.badge) badgeStops.push(mod.badge(app));
    }).catch(() => {
      // The badge is a hint: without it, the page still works.
    });
  }
}

function stopBadges() {
  badgeSeq++;
  for (const stop of badgeStops) if (stop) stop();
  badgeStops = [];
}

function setLiveState(s) {
  const labels = { connecting: 'Connecting…', live: 'Live', reconnecting: 'Reconnecting…', offline: 'Offline' };
  const e = $('live');
  e.dataset.state = s;
  e.textContent = labels[s] || s;
  e.title = s === 'live' ? 'Updates arrive as syncs run' : 'Live updates are paused';
}

// ---- navigation and routes ---------------------------------------------------------

let vendorsLoaded = null; // Query.vendors into format.js, once (a failed load is tried again)

function loadVendors() {
  if (!vendorsLoaded) {
    vendorsLoaded = api(Q.vendors).then((d) => fmt.setVendors(d.vendors)).catch((e) => {
      vendorsLoaded = null;
      throw e;
    });
  }
  return vendorsLoaded;
}

function renderNav() {
  const links = VIEWS.filter((v) => v.title && !v.public && allowed(v)).map((v) =>
    el('li', {},
      el('a', { href: href(v.path), 'data-path': v.path, class: 'nav-link' },
        v.title,
        el('span', { class: 'nav-count', hidden: true }))));
  $('nav-links').replaceChildren(...links);
}

/** The route of the location's hash: #/<path>/<rest…>?<query>. */
function parseHash() {
  const h = window.location.hash.replace(/^#\/?/, '');
  const q = h.indexOf('?');
  const pathPart = q >= 0 ? h.slice(0, q) : h;
  const segments = pathPart.split('/').filter(Boolean).map((s) => {
    try {
      return decodeURIComponent(s);
    } catch {
      return s;
    }
  });
  return {
    path: segments[0] || '',
    rest: segments.slice(1),
    query: new URLSearchParams(q >= 0 ? h.slice(q + 1) : ''),
  };
}

function unmountView() {
  const c = state.current;
  state.current = null;
  state.routeSeq++;
  if (c && c.instance && c.instance.unmount) c.instance.unmount();
  $('view').replaceChildren();
}

async function route() {
  let r = parseHash();
  let view = VIEWS.find((v) => v.path === r.path);
  if (!(view && view.public) && !state.session) {
    showLogin();
    return;
  }
  if (!view || !allowed(view)) {
    view = VIEWS[0];
    r = { path: view.path, rest: [], query: r.query };
  }

  const signedIn = !!state.session && !view.public;
  $('login-view').hidden = true;
  $('app-view').hidden = false;
  $('session').hidden = !signedIn;
  $('nav').hidden = !signedIn;
  for (const a of document.querySelectorAll('#nav a[data-path]')) {
    if (a.dataset.path === view.path) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  document.title = view.title ? `${view.title} · Sally Integrations` : 'Sally Integrations';

  if (state.current && state.current.view === view) {
    if (state.current.instance && state.current.instance.route) state.current.instance.route(r);
    return;
  }
  unmountView();
  const seq = state.routeSeq;
  const root = $('view');
  let mod;
  try {
    // Views name vendors through format.js: a signed-in view waits for their names.
    [mod] = await Promise.all([import(view.module), signedIn ? loadVendors() : null]);
  } catch {
    if (seq !== state.routeSeq) return;
    const box = el('div', { class: 'state card' });
    root.replaceChildren(box);
    showState(box, 'error', `Could not load the ${view.title || view.path} page. Check your connection.`, () => route());
    return;
  }
  if (seq !== state.routeSeq) return;
  const instance = mod.mount(root, app) || {};
  state.current = { view, instance };
  // A newer route that came while the module loaded is the one to show.
  route();
}

function updateRelativeTimes() {
  const now = Date.now();
  for (const t of document.querySelectorAll('time[data-relative]')) {
    t.textContent = (t.dataset.prefix || '') + fmt.relativeTime(t.getAttribute('datetime'), now);
  }
}

// ---- start ------------------------------------------------------------------------

function start() {
  $('login-form').addEventListener('submit', onLogin);
  $('logout').addEventListener('click', () => logout());
  window.addEventListener('hashchange', () => route());
  // The account menu closes on a click elsewhere, on Escape and on navigation.
  const menu = $('account-menu');
  document.addEventListener('click', (e) => { if (menu.open && !menu.contains(e.target)) menu.open = false; });
  document.addEventListener('keydown', (e) => { if (e.key === 'Escape' && menu.open) menu.open = false; });
  window.addEventListener('hashchange', () => { menu.open = false; });
  setInterval(updateRelativeTimes, RELATIVE_TICK_MS);

  $('boot').hidden = true;
  state.session = loadSession();
  if (state.session) {
    startSession();
  } else {
    const view = VIEWS.find((v) => v.path === parseHash().path);
    if (view && view.public) route();
    else showLogin();
  }
}

start();
