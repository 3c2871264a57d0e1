// Sally Integrations: the sync-history page. Plain DOM, no framework. Everything the
// API returns is inserted as text (textContent, text nodes, attributes), never as
// HTML: the page's Content-Security-Policy enforces Trusted Types, so an HTML string
// assigned to the DOM would throw.

import { LiveClient, request } from './api.js';
import * as fmt from './format.js';

const PAGE_SIZE = 10;
const SESSION_KEY = 'sally.session';
const RELATIVE_TICK_MS = 15000;

const INTEGRATION_FIELDS =
  'id displayName integrationType vendor enabled syncIntervalSeconds circuitState lastSyncAt lastSyncStatus nextSyncAt';
const LOG_FIELDS = 'id syncType status trigger startedAt completedAt durationMs recordsProcessed error';
const STATS_FIELDS = 'totalSyncs successfulSyncs failedSyncs successRate';

const Q = {
  login: `mutation Login($email: String!, $password: String!) {
    login(email: $email, password: $password) { token expiresAt user { email role } } }`,
  integrations: `query Integrations { integrations { ${INTEGRATION_FIELDS} } }`,
  detail: `query Detail($id: ID!, $limit: Int!, $offset: Int!, $status: SyncStatus) {
    integration(id: $id) { ${INTEGRATION_FIELDS} stats { ${STATS_FIELDS} }
      history(limit: $limit, offset: $offset, status: $status) { ${LOG_FIELDS} } } }`,
  history: `query History($id: ID!, $limit: Int!, $offset: Int!, $status: SyncStatus) {
    syncHistory(integrationId: $id, limit: $limit, offset: $offset, status: $status) { ${LOG_FIELDS} } }`,
  stats: `query Stats($id: ID!) { syncStats(integrationId: $id) { ${STATS_FIELDS} } }`,
  syncNow: `mutation SyncNow($id: ID!) { syncIntegration(id: $id) { ${LOG_FIELDS} } }`,
  testConnection: `mutation TestConnection($id: ID!) { testIntegration(id: $id) { success latencyMs message } }`,
  events: `subscription SyncEvents { syncEvents {
    type at integrationId circuitState message syncLog { ${LOG_FIELDS} } } }`,
};

const state = {
  session: null, // { token, expiresAt, email, role }
  live: null, // LiveClient
  integrations: [],
  selectedId: null,
  selected: null, // the selected entry of integrations
  filter: '',
  page: 0,
  rows: [],
  hasNext: false,
  stats: null,
  fresh: new Set(), // ids of rows that arrived live, highlighted for a moment
  busy: new Set(), // "<id>:sync" and "<id>:test" while those run
  seq: 0, // history requests: an answer to an older one is dropped
  statsSeq: 0,
};

const $ = (id) => document.getElementById(id);

/** Builds an element; string children become text nodes, never HTML. */
function el(tag, props = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (v == null || v === false) continue;
    if (k === 'class') e.className = v;
    else if (k === 'text') e.textContent = v;
    else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children) if (c != null) e.append(c);
  return e;
}

function sentence(s) {
  const t = String(s || '').trim();
  if (!t) return '';
  const c = t.charAt(0).toUpperCase() + t.slice(1);
  return /[.!?]$/.test(c) ? c : `${c}.`;
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

/** Calls the API with the session's token; an UNAUTHENTICATED answer ends the session. */
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
  $('app-view').hidden = true;
  $('session').hidden = true;
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
    const p = data.login;
    state.session = { token: p.token, expiresAt: p.expiresAt, email: p.user.email, role: p.user.role };
    sessionStorage.setItem(SESSION_KEY, JSON.stringify(state.session));
    $('password').value = '';
    showApp();
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

function logout(message) {
  if (state.live) state.live.stop();
  clearTimeout(expiryTimer);
  sessionStorage.removeItem(SESSION_KEY);
  Object.assign(state, {
    session: null,
    live: null,
    integrations: [],
    selectedId: null,
    selected: null,
    filter: '',
    page: 0,
    rows: [],
    hasNext: false,
    stats: null,
  });
  state.seq++;
  state.statsSeq++;
  state.busy.clear();
  $('integrations').replaceChildren();
  $('history-rows').replaceChildren();
  showLogin(message);
}

function showApp() {
  const s = state.session;
  $('login-view').hidden = true;
  $('app-view').hidden = false;
  $('session').hidden = false;
  $('who').textContent = s.email;
  clearTimeout(expiryTimer);
  const left = new Date(s.expiresAt).getTime() - Date.now();
  expiryTimer = setTimeout(() => logout('Your session has expired. Log in again.'), Math.min(Math.max(left, 0), 2 ** 31 - 1));

  const live = new LiveClient(s.token, {
    onState: setLiveState,
    onAuthError: () => logout('Your session has ended. Log in again.'),
    onReconnected: () => {
      // Events may have been missed while the socket was down.
      loadIntegrations({ quiet: true });
      if (state.selectedId) loadDetail({ quiet: true });
    },
  });
  live.subscribe(Q.events, {}, {
    next: onEvent,
    error: () => setLiveState('offline'),
  });
  state.live = live;
  live.start();

  selectFromLocation();
  loadIntegrations();
}

function setLiveState(s) {
  const labels = { connecting: 'Connecting…', live: 'Live', reconnecting: 'Reconnecting…', offline: 'Offline' };
  const e = $('live');
  e.dataset.state = s;
  e.textContent = labels[s] || s;
  e.title = s === 'live' ? 'Updates arrive as syncs run' : 'Live updates are paused';
}

// ---- integrations list ------------------------------------------------------------

function showState(box, kind, message, onRetry) {
  if (!kind) {
    box.hidden = true;
    box.replaceChildren();
    box.removeAttribute('role');
    box.removeAttribute('data-kind');
    box.removeAttribute('aria-busy');
    return;
  }
  box.hidden = false;
  box.dataset.kind = kind;
  box.setAttribute('role', kind === 'error' ? 'alert' : 'status');
  if (kind === 'loading') box.setAttribute('aria-busy', 'true');
  else box.removeAttribute('aria-busy');
  const parts = [el('p', { class: 'state-message', text: message })];
  if (kind === 'error' && onRetry) {
    parts.push(el('button', { type: 'button', class: 'button small retry', onclick: onRetry, text: 'Retry' }));
  }
  box.replaceChildren(...parts);
}

let reloadTimer = 0;

/** Reloads the list soon, once for a burst of events. */
function reloadIntegrationsSoon() {
  clearTimeout(reloadTimer);
  reloadTimer = setTimeout(() => loadIntegrations({ quiet: true }), 1000);
}

async function loadIntegrations({ quiet = false } = {}) {
  const box = $('integrations-state');
  if (!quiet || state.integrations.length === 0) showState(box, 'loading', 'Loading integrations…');
  let data;
  try {
    data = await api(Q.integrations);
  } catch (e) {
    if (!state.session) return;
    if (!quiet || state.integrations.length === 0) {
      showState(box, 'error', `Could not load the integrations. ${sentence(e.message)}`, () => loadIntegrations());
    }
    return;
  }
  if (!state.session) return;
  const old = new Map(state.integrations.map((i) => [i.id, i]));
  state.integrations = data.integrations.map((i) => {
    const prev = old.get(i.id);
    return Object.assign(prev || {}, i, { syncing: prev ? prev.syncing : false });
  });
  state.selected = state.integrations.find((i) => i.id === state.selectedId) || state.selected;
  showState(box, state.integrations.length ? null : 'empty', 'No integrations yet.');
  renderIntegrations();
  if (state.selected && !$('detail-body').hidden) renderHeader();
}

function renderIntegrations() {
  const items = state.integrations.map((i) => {
    const h = fmt.health(i);
    const last = i.lastSyncAt
      ? el('time', { datetime: i.lastSyncAt, title: fmt.absoluteTime(i.lastSyncAt), 'data-relative': '', 'data-prefix': 'Last sync ' },
          `Last sync ${fmt.relativeTime(i.lastSyncAt)}`)
      : el('span', { text: 'Never synced' });
    return el('li', {},
      el('a', {
        class: 'integration-link',
        href: `#/integrations/${encodeURIComponent(i.id)}`,
        'aria-current': i.id === state.selectedId ? 'page' : null,
        'data-id': i.id,
      },
      el('span', { class: 'integration-name', text: i.displayName }),
      el('span', { class: `badge ${h.tone}`, 'data-health': '', text: h.label }),
      el('span', { class: 'integration-meta', text: `${fmt.vendorLabels[i.vendor] || i.vendor} · ${fmt.typeLabels[i.integrationType] || i.integrationType}` }),
      el('span', { class: 'integration-meta' }, last)));
  });
  $('integrations').replaceChildren(...items);
}

// ---- one integration --------------------------------------------------------------

function selectFromLocation() {
  const m = /^#\/integrations\/([0-9A-Za-z-]+)$/.exec(window.location.hash);
  const id = m ? m[1] : null;
  if (id === state.selectedId) return;
  state.selectedId = id;
  state.selected = state.integrations.find((i) => i.id === id) || null;
  state.filter = '';
  state.page = 0;
  state.rows = [];
  state.hasNext = false;
  state.stats = null;
  state.fresh.clear();
  $('status-filter').value = '';
  $('action-result').hidden = true;
  renderIntegrations();
  if (!id) {
    state.seq++;
    $('detail-body').hidden = true;
    showState($('detail-state'), null);
    $('detail-placeholder').hidden = false;
    return;
  }
  $('detail-placeholder').hidden = true;
  loadDetail();
}

function historyVars() {
  return {
    id: state.selectedId,
    limit: PAGE_SIZE + 1, // one more than shown: is there a next page?
    offset: state.page * PAGE_SIZE,
    status: state.filter || null,
  };
}

function setRows(list) {
  state.hasNext = list.length > PAGE_SIZE;
  state.rows = list.slice(0, PAGE_SIZE);
}

/** Loads the integration, its stats and the current page of its history. */
async function loadDetail({ quiet = false } = {}) {
  const id = state.selectedId;
  const seq = ++state.seq;
  const body = $('detail-body');
  if (!quiet) {
    if (state.selected) {
      showState($('detail-state'), null);
      body.hidden = false;
      renderHeader();
      renderStats();
      showHistoryLoading();
    } else {
      body.hidden = true;
      showState($('detail-state'), 'loading', 'Loading integration…');
    }
  }
  let data;
  try {
    data = await api(Q.detail, historyVars());
  } catch (e) {
    if (seq !== state.seq || !state.session) return;
    const msg = `Could not load the sync history. ${sentence(e.message)}`;
    if (body.hidden) {
      showState($('detail-state'), 'error', msg, () => loadDetail());
    } else {
      state.rows = [];
      renderHistory();
      showState($('history-state'), 'error', msg, () => loadDetail());
    }
    return;
  }
  if (seq !== state.seq || id !== state.selectedId) return;
  const i = data.integration;
  if (!i) {
    body.hidden = true;
    showState($('detail-state'), 'empty', 'This integration does not exist, or it was deleted.');
    return;
  }
  const { stats, history, ...fields } = i;
  let entry = state.integrations.find((x) => x.id === id);
  if (entry) Object.assign(entry, fields);
  else entry = { ...fields, syncing: false };
  state.selected = entry;
  state.stats = stats;
  setRows(history);
  showState($('detail-state'), null);
  body.hidden = false;
  renderIntegrations();
  renderHeader();
  renderStats();
  renderHistory();
}

/** Loads only the current page of history (paging, filtering). */
async function loadHistory() {
  const id = state.selectedId;
  const seq = ++state.seq;
  showHistoryLoading();
  let data;
  try {
    data = await api(Q.history, historyVars());
  } catch (e) {
    if (seq !== state.seq || !state.session) return;
    state.rows = [];
    renderHistory();
    showState($('history-state'), 'error', `Could not load the sync history. ${sentence(e.message)}`, () => loadHistory());
    return;
  }
  if (seq !== state.seq || id !== state.selectedId) return;
  setRows(data.syncHistory);
  renderHistory();
}

function refreshStatsSoon() {
  clearTimeout(refreshStatsSoon.timer);
  refreshStatsSoon.timer = setTimeout(loadStats, 250);
}

async function loadStats() {
  const id = state.selectedId;
  if (!id) return;
  const seq = ++state.statsSeq;
  try {
    const data = await api(Q.stats, { id });
    if (seq !== state.statsSeq || id !== state.selectedId) return;
    state.stats = data.syncStats;
    renderStats();
  } catch {
    // Keep the numbers shown; the next event tries again.
  }
}

function renderHeader() {
  const i = state.selected;
  if (!i) return;
  $('detail-title').textContent = i.displayName;
  const every = i.syncIntervalSeconds % 60 === 0 ? `${i.syncIntervalSeconds / 60} min` : `${i.syncIntervalSeconds} s`;
  $('detail-meta').textContent =
    `${fmt.vendorLabels[i.vendor] || i.vendor} · ${fmt.typeLabels[i.integrationType] || i.integrationType} · syncs every ${every}`;
  const h = fmt.health(i);
  const badge = $('detail-health');
  badge.className = `badge ${h.tone}`;
  badge.textContent = h.label;
  const next = $('detail-next');
  if (i.enabled && i.nextSyncAt) {
    next.replaceChildren(el('time', {
      datetime: i.nextSyncAt, title: fmt.absoluteTime(i.nextSyncAt), 'data-relative': '', 'data-prefix': 'Next scheduled sync ',
    }, `Next scheduled sync ${fmt.relativeTime(i.nextSyncAt)}`));
  } else {
    next.replaceChildren();
  }
  renderActions();
}

function renderActions() {
  const id = state.selectedId;
  const syncing = state.busy.has(`${id}:sync`);
  const testing = state.busy.has(`${id}:test`);
  const sync = $('sync-now');
  sync.disabled = syncing;
  sync.textContent = syncing ? 'Syncing…' : 'Sync now';
  sync.setAttribute('aria-busy', String(syncing));
  const test = $('test-connection');
  test.disabled = testing;
  test.textContent = testing ? 'Testing…' : 'Test connection';
  test.setAttribute('aria-busy', String(testing));
}

function renderStats() {
  const s = state.stats;
  const set = (name, text) => {
    document.querySelector(`[data-stat="${name}"]`).textContent = text;
  };
  set('total', s ? fmt.count(s.totalSyncs) : '–');
  set('rate', s ? (s.totalSyncs ? fmt.percent(s.successRate) : '–') : '–');
  set('successful', s ? fmt.count(s.successfulSyncs) : '–');
  set('failed', s ? fmt.count(s.failedSyncs) : '–');
}

function showHistoryLoading() {
  state.rows = [];
  $('history-rows').replaceChildren();
  $('history-table').hidden = true;
  showState($('history-state'), 'loading', 'Loading sync history…');
  $('prev-page').disabled = true;
  $('next-page').disabled = true;
}

function renderHistory() {
  const rows = state.rows.map((log) => historyRow(log));
  $('history-rows').replaceChildren(...rows);
  $('history-table').hidden = rows.length === 0;
  if (rows.length === 0) {
    let msg = 'No sync history yet.';
    if (state.filter) msg = `No syncs with status ${fmt.statusLabels[state.filter] || state.filter}.`;
    else if (state.page > 0) msg = 'No syncs on this page.';
    showState($('history-state'), 'empty', msg);
  } else {
    showState($('history-state'), null);
  }
  $('prev-page').disabled = state.page === 0;
  $('next-page').disabled = !state.hasNext;
  $('page-label').textContent = `Page ${state.page + 1}`;
}

function historyRow(log) {
  const status = el('span', { class: 'cell' },
    el('span', { class: `badge ${fmt.statusTone(log.status)}`, text: fmt.statusLabels[log.status] || log.status }));
  if (log.error) status.append(el('span', { class: 'row-error', title: log.error, text: log.error }));
  return el('tr', { 'data-id': log.id, 'data-status': log.status, class: state.fresh.has(log.id) ? 'fresh' : null },
    el('td', { 'data-label': 'Status' }, status),
    el('td', { 'data-label': 'Type' },
      el('span', { class: 'cell' },
        el('span', { text: fmt.syncTypeLabels[log.syncType] || log.syncType }),
        el('span', { class: 'trigger', text: fmt.triggerLabels[log.trigger] || log.trigger }))),
    el('td', { 'data-label': 'Started' },
      el('time', { datetime: log.startedAt, title: fmt.absoluteTime(log.startedAt), 'data-relative': '' }, fmt.relativeTime(log.startedAt))),
    el('td', { 'data-label': 'Duration', text: log.status === 'RUNNING' ? 'Running…' : fmt.duration(log.durationMs) }),
    el('td', { 'data-label': 'Records processed', class: 'num', text: fmt.count(log.recordsProcessed) }));
}

function newestFirst(a, b) {
  const d = Date.parse(b.startedAt) - Date.parse(a.startedAt);
  return d !== 0 ? d : b.id.localeCompare(a.id);
}

/** Puts a sync that arrived live (or from Sync now) into the page shown. */
function upsertRow(log) {
  const matches = !state.filter || state.filter === log.status;
  const at = state.rows.findIndex((r) => r.id === log.id);
  if (at >= 0) {
    if (matches) state.rows[at] = log;
    else state.rows.splice(at, 1);
  } else if (matches && state.page === 0 && $('history-state').dataset.kind !== 'loading') {
    state.rows.push(log);
    state.rows.sort(newestFirst);
    if (state.rows.length > PAGE_SIZE) {
      state.rows.length = PAGE_SIZE;
      state.hasNext = true;
    }
    state.fresh.add(log.id);
    setTimeout(() => state.fresh.delete(log.id), 3000);
  } else {
    return;
  }
  renderHistory();
}

function showResult(tone, text) {
  const r = $('action-result');
  r.dataset.tone = tone;
  r.textContent = text;
  r.hidden = false;
}

async function syncNow() {
  const id = state.selectedId;
  if (!id || state.busy.has(`${id}:sync`)) return;
  state.busy.add(`${id}:sync`);
  renderActions();
  showResult('info', 'Syncing…');
  try {
    const data = await api(Q.syncNow, { id });
    const log = data.syncIntegration;
    if (id !== state.selectedId) return;
    upsertRow(log);
    refreshStatsSoon();
    if (log.status === 'SUCCESS') {
      showResult('good', `Sync finished: ${fmt.count(log.recordsProcessed)} records processed in ${fmt.duration(log.durationMs)}.`);
    } else {
      showResult('bad', `Sync failed: ${sentence(log.error) || 'no reason given.'}`);
    }
  } catch (e) {
    if (id === state.selectedId && state.session) showResult('bad', `Sync could not run. ${sentence(e.message)}`);
  } finally {
    state.busy.delete(`${id}:sync`);
    if (id === state.selectedId) renderActions();
  }
}

async function testConnection() {
  const id = state.selectedId;
  if (!id || state.busy.has(`${id}:test`)) return;
  state.busy.add(`${id}:test`);
  renderActions();
  showResult('info', 'Testing the connection…');
  try {
    const data = await api(Q.testConnection, { id });
    const r = data.testIntegration;
    if (id !== state.selectedId) return;
    if (r.success) showResult('good', `Connection OK: the vendor answered in ${fmt.duration(r.latencyMs)}.`);
    else showResult('bad', `Connection failed: ${sentence(r.message) || 'no reason given.'}`);
  } catch (e) {
    if (id === state.selectedId && state.session) showResult('bad', `Could not test the connection. ${sentence(e.message)}`);
  } finally {
    state.busy.delete(`${id}:test`);
    if (id === state.selectedId) renderActions();
  }
}

// ---- live events ------------------------------------------------------------------

function onEvent(payload) {
  const ev = payload && payload.data && payload.data.syncEvents;
  if (!ev) return;
  const log = ev.syncLog;
  const finished = ev.type === 'SYNC_SUCCEEDED' || ev.type === 'SYNC_FAILED';
  const entry = state.integrations.find((i) => i.id === ev.integrationId);
  if (entry) {
    entry.circuitState = ev.circuitState;
    if (log && !finished) entry.syncing = true;
    if (log && finished) {
      entry.syncing = false;
      entry.lastSyncStatus = log.status;
      entry.lastSyncAt = log.completedAt || ev.at;
    }
    renderIntegrations();
    if (entry.id === state.selectedId) {
      state.selected = entry;
      renderHeader();
    }
  }
  // nextSyncAt and anything else the events do not carry, and integrations added
  // elsewhere: read the list again.
  if (finished || !entry) reloadIntegrationsSoon();
  if (ev.integrationId === state.selectedId && log) {
    upsertRow(log);
    if (finished) refreshStatsSoon();
  }
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
  $('refresh-integrations').addEventListener('click', () => loadIntegrations());
  $('sync-now').addEventListener('click', syncNow);
  $('test-connection').addEventListener('click', testConnection);
  $('status-filter').addEventListener('change', (e) => {
    state.filter = e.target.value;
    state.page = 0;
    loadHistory();
  });
  $('prev-page').addEventListener('click', () => {
    if (state.page === 0) return;
    state.page--;
    loadHistory();
  });
  $('next-page').addEventListener('click', () => {
    if (!state.hasNext) return;
    state.page++;
    loadHistory();
  });
  window.addEventListener('hashchange', () => {
    if (!state.session) return;
    selectFromLocation();
    if (state.selectedId && window.matchMedia('(max-width: 800px)').matches) {
      $('detail').scrollIntoView({ block: 'start' });
    }
  });
  setInterval(updateRelativeTimes, RELATIVE_TICK_MS);

  $('boot').hidden = true;
  state.session = loadSession();
  if (state.session) showApp();
  else showLogin();
}

start();
