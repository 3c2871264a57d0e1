// The integrations view (#/integrations and #/integrations/<id>): the list of the
// tenant's integrations with their health and, for the one selected, its sync
// statistics and the paged, filterable sync history, updated live.

import { $, el, sentence, showState } from '../dom.js';
import * as fmt from '../format.js';
import { INTEGRATION_FIELDS, addForm, settingsPanel } from './integration-forms.js';

const PAGE_SIZE = 10;

const LOG_FIELDS = 'id syncType status trigger startedAt completedAt durationMs recordsProcessed error errorClass';
// An error longer than this is shown folded, with the whole text one click away.
const FOLD_ERRORS_OVER = 90;
const STATS_FIELDS = 'totalSyncs successfulSyncs failedSyncs successRate';

const Q = {
  integrations: `query Integrations { integrations { ${INTEGRATION_FIELDS} } }`,
  detail: `query Detail($id: ID!, $limit: Int!, $offset: Int!, $status: SyncStatus) {
    integration(id: $id) { ${INTEGRATION_FIELDS} stats { ${STATS_FIELDS} }
      history(limit: $limit, offset: $offset, status: $status) { ${LOG_FIELDS} } } }`,
  history: `query History($id: ID!, $limit: Int!, $offset: Int!, $status: SyncStatus) {
    syncHistory(integrationId: $id, limit: $limit, offset: $offset, status: $status) { ${LOG_FIELDS} } }`,
  stats: `query Stats($id: ID!) { syncStats(integrationId: $id) { ${STATS_FIELDS} } }`,
  syncNow: `mutation SyncNow($id: ID!) { syncIntegration(id: $id) { ${LOG_FIELDS} } }`,
  testConnection: `mutation TestConnection($id: ID!) { testIntegration(id: $id) { success latencyMs message } }`,
  resume: `mutation Resume($id: ID!) { updateIntegration(id: $id, input: { enabled: true }) { ${INTEGRATION_FIELDS} } }`,
};

function statCard(name, label, tone) {
  return el('div', { class: tone ? `card stat ${tone}` : 'card stat' },
    el('h3', { id: `stat-${name}-label`, text: label }),
    el('p', { class: 'stat-value', 'data-stat': name, 'aria-labelledby': `stat-${name}-label`, text: '–' }));
}

/** The view's markup; ids are the page's (one view is mounted at a time). */
function render(admin) {
  return el('div', { class: 'layout' },
    el('nav', { class: 'sidebar card', 'aria-labelledby': 'integrations-title' },
      el('div', { class: 'sidebar-head' },
        el('h2', { id: 'integrations-title', text: 'Integrations' }),
        el('div', { class: 'row-actions' },
          admin ? el('a', { id: 'add-integration', href: '#/integrations/new', class: 'button primary small', text: 'Add' }) : null,
          el('button', { id: 'refresh-integrations', type: 'button', class: 'button ghost small', 'aria-label': 'Refresh integrations', text: 'Refresh' }))),
      el('div', { id: 'integrations-state', class: 'state', hidden: true }),
      el('ul', { id: 'integrations', class: 'integration-list' })),
    el('section', { id: 'detail', class: 'detail', 'aria-label': 'Integration details' },
      el('div', { id: 'detail-placeholder', class: 'card placeholder' },
        el('h2', { id: 'detail-title-placeholder', text: 'Select an integration' }),
        el('p', { class: 'muted', text: 'Its sync statistics and history appear here.' })),
      el('div', { id: 'detail-state', class: 'state card', hidden: true }),
      el('div', { id: 'add-slot', hidden: true }),
      el('div', { id: 'detail-body', hidden: true },
        el('div', { id: 'state-banner', class: 'banner', role: 'alert', hidden: true }),
        el('div', { class: 'card detail-head' },
          el('div', { class: 'detail-title' },
            el('h1', { id: 'detail-title' }),
            el('p', { id: 'detail-meta', class: 'muted' }),
            el('p', {}, el('span', { id: 'detail-health', class: 'badge' }), ' ', el('span', { id: 'detail-next', class: 'muted small' }))),
          el('div', { class: 'actions' },
            admin ? el('a', { id: 'settings-link', class: 'button', href: '#' }, 'Settings') : null,
            el('button', { id: 'test-connection', type: 'button', class: 'button', text: 'Test connection' }),
            el('button', { id: 'sync-now', type: 'button', class: 'button primary', text: 'Sync now' })),
          el('p', { id: 'action-result', class: 'message action-result', role: 'status', 'aria-live': 'polite', hidden: true })),
        el('div', { id: 'detail-main', class: 'detail-main' },
        el('div', { id: 'settings-slot', hidden: true }),
        el('div', { class: 'detail-data' },
        el('div', { class: 'stats', role: 'group', 'aria-label': 'Sync statistics' },
          statCard('total', 'Total Syncs'),
          statCard('rate', 'Success Rate'),
          statCard('successful', 'Successful', 'good'),
          statCard('failed', 'Failed', 'bad')),
        el('div', { class: 'card history' },
          el('div', { class: 'history-head' },
            el('h2', { id: 'history-title', text: 'Sync history' }),
            el('div', { class: 'filter' },
              el('label', { for: 'status-filter', text: 'Status' }),
              el('select', { id: 'status-filter' },
                el('option', { value: '', text: 'All' }),
                el('option', { value: 'SUCCESS', text: 'Success' }),
                el('option', { value: 'FAILED', text: 'Failed' }),
                el('option', { value: 'RUNNING', text: 'Running' })))),
          el('div', { id: 'history-state', class: 'state', hidden: true }),
          el('div', { class: 'table-wrap' },
            el('table', { id: 'history-table', 'aria-labelledby': 'history-title' },
              el('thead', {},
                el('tr', {},
                  el('th', { scope: 'col', text: 'Status' }),
                  el('th', { scope: 'col', text: 'Type' }),
                  el('th', { scope: 'col', text: 'Started' }),
                  el('th', { scope: 'col', text: 'Duration' }),
                  el('th', { scope: 'col', class: 'num', text: 'Records processed' }))),
              el('tbody', { id: 'history-rows' }))),
          el('nav', { class: 'pager', 'aria-label': 'Sync history pages' },
            el('button', { id: 'prev-page', type: 'button', class: 'button small', 'aria-label': 'Previous page', text: 'Previous' }),
            el('span', { id: 'page-label', class: 'muted small', 'aria-live': 'polite' }),
            el('button', { id: 'next-page', type: 'button', class: 'button small', 'aria-label': 'Next page', text: 'Next' }))))))));
}

/**
 * Mounts the view into root. app is the shell (see app.js): api, onEvent,
 * onReconnect, session.
 */
export function mount(root, app) {
  const state = {
    alive: true,
    integrations: [],
    selectedId: undefined,
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
  const timers = new Set();
  const later = (fn, ms) => {
    const t = setTimeout(() => {
      timers.delete(t);
      if (state.alive) fn();
    }, ms);
    timers.add(t);
    return t;
  };
  const cancel = (t) => {
    clearTimeout(t);
    timers.delete(t);
  };

  const admin = app.isAdmin();
  root.replaceChildren(render(admin));
  let mode = 'detail'; // detail, settings or add
  let add = null; // the add form while shown
  const settings = admin ? settingsPanel(app, {
    get: () => state.selected,
    onChanged: (i) => applyIntegration(i),
    onDeleted: () => {
      state.integrations = state.integrations.filter((x) => x.id !== state.selectedId);
      renderIntegrations();
      app.navigate('integrations');
    },
  }) : null;
  if (settings) $('settings-slot').append(settings.el);

  // ---- integrations list ----------------------------------------------------------

  let reloadTimer = 0;

  /** Reloads the list soon, once for a burst of events. */
  function reloadIntegrationsSoon() {
    cancel(reloadTimer);
    reloadTimer = later(() => loadIntegrations({ quiet: true }), 1000);
  }

  async function loadIntegrations({ quiet = false } = {}) {
    const box = $('integrations-state');
    if (!quiet || state.integrations.length === 0) showState(box, 'loading', 'Loading integrations…');
    let data;
    try {
      data = await app.api(Q.integrations);
    } catch (e) {
      if (!state.alive) return;
      if (!quiet || state.integrations.length === 0) {
        showState(box, 'error', `Could not load the integrations. ${sentence(e.message)}`, () => loadIntegrations());
      }
      return;
    }
    if (!state.alive) return;
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
          'data-state': i.state,
          'aria-current': i.id === state.selectedId ? 'page' : null,
          'data-id': i.id,
        },
        el('span', { class: 'integration-name', text: i.displayName }),
        el('span', { class: `badge ${h.tone}`, 'data-health': '', text: h.label }),
        el('span', { class: 'integration-meta', text: `${fmt.vendorLabel(i.vendor)} · ${fmt.typeLabels[i.integrationType] || i.integrationType}` }),
        el('span', { class: 'integration-meta' }, last)));
    });
    $('integrations').replaceChildren(...items);
  }

  // ---- one integration ------------------------------------------------------------

  function select(id) {
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
      data = await app.api(Q.detail, historyVars());
    } catch (e) {
      if (seq !== state.seq || !state.alive) return;
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
    if (seq !== state.seq || id !== state.selectedId || !state.alive) return;
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
      data = await app.api(Q.history, historyVars());
    } catch (e) {
      if (seq !== state.seq || !state.alive) return;
      state.rows = [];
      renderHistory();
      showState($('history-state'), 'error', `Could not load the sync history. ${sentence(e.message)}`, () => loadHistory());
      return;
    }
    if (seq !== state.seq || id !== state.selectedId || !state.alive) return;
    setRows(data.syncHistory);
    renderHistory();
  }

  let statsTimer = 0;
  function refreshStatsSoon() {
    cancel(statsTimer);
    statsTimer = later(loadStats, 250);
  }

  async function loadStats() {
    const id = state.selectedId;
    if (!id) return;
    const seq = ++state.statsSeq;
    try {
      const data = await app.api(Q.stats, { id });
      if (seq !== state.statsSeq || id !== state.selectedId || !state.alive) return;
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
    let meta = `${fmt.vendorLabel(i.vendor)} · ${fmt.typeLabels[i.integrationType] || i.integrationType} · syncs ${fmt.every(i.syncIntervalSeconds)}`;
    if (i.alertsMutedUntil) meta += ` · alert emails muted until ${fmt.absoluteTime(i.alertsMutedUntil)}`;
    if (i.createdBy) meta += ` · added by ${i.createdBy.email}`;
    $('detail-meta').textContent = meta;
    const h = fmt.health(i);
    const badge = $('detail-health');
    badge.className = `badge ${h.tone}`;
    badge.textContent = h.label;
    const next = $('detail-next');
    renderBanner(i);
    const link = $('settings-link');
    if (link) {
      const open = mode === 'settings';
      link.href = open ? `#/integrations/${encodeURIComponent(i.id)}` : `#/integrations/${encodeURIComponent(i.id)}/settings`;
      link.textContent = open ? 'Close settings' : 'Settings';
      link.setAttribute('aria-expanded', String(open));
    }
    if (settings && mode === 'settings') settings.update(i);
    if (i.state === 'ACTIVE' && i.nextSyncAt) {
      next.replaceChildren(el('time', {
        datetime: i.nextSyncAt, title: fmt.absoluteTime(i.nextSyncAt), 'data-relative': '', 'data-prefix': 'Next scheduled sync ',
      }, `Next scheduled sync ${fmt.relativeTime(i.nextSyncAt)}`));
    } else {
      next.replaceChildren();
    }
    renderActions();
  }

  /** The NEEDS_CREDENTIALS banner (impossible to miss), or PAUSED's quieter one. */
  function renderBanner(i) {
    const b = $('state-banner');
    if (i.state === 'ACTIVE') {
      b.hidden = true;
      b.replaceChildren();
      return;
    }
    const needs = i.state === 'NEEDS_CREDENTIALS';
    b.hidden = false;
    b.dataset.tone = needs ? 'bad' : 'neutral';
    b.dataset.state = i.state;
    const parts = [
      el('p', { class: 'banner-title', text: needs ? 'Needs new credentials: syncing has stopped' : 'Paused' }),
      el('p', { class: 'banner-text', text: i.stateReason || '' }),
    ];
    if (needs && admin) {
      parts.push(el('a', { id: 'enter-new-key', class: 'button primary', href: `#/integrations/${encodeURIComponent(i.id)}/settings?key`, text: 'Enter a new key' }));
    } else if (needs) {
      parts.push(el('p', { class: 'banner-text', text: 'Ask an admin of your fleet to enter a new key.' }));
    } else if (admin) {
      parts.push(el('button', { id: 'banner-resume', type: 'button', class: 'button', text: 'Resume', onclick: () => resume(i.id) }));
    }
    b.replaceChildren(...parts);
  }

  async function resume(id) {
    try {
      const data = await app.api(Q.resume, { id });
      applyIntegration(data.updateIntegration);
    } catch (e) {
      showResult('bad', `Could not resume. ${sentence(e.message)}`);
    }
  }

  /** Puts an integration the API answered into the list and the detail. */
  function applyIntegration(i) {
    let entry = state.integrations.find((x) => x.id === i.id);
    if (entry) Object.assign(entry, i);
    else {
      entry = { ...i, syncing: false };
      state.integrations.push(entry);
    }
    if (i.id === state.selectedId) state.selected = entry;
    renderIntegrations();
    if (i.id === state.selectedId) renderHeader();
  }

  function renderActions() {
    const id = state.selectedId;
    const syncing = state.busy.has(`${id}:sync`);
    const testing = state.busy.has(`${id}:test`);
    const sync = $('sync-now');
    const active = !state.selected || state.selected.state === 'ACTIVE';
    sync.disabled = syncing || !active;
    sync.title = active ? '' : 'Only an active integration syncs';
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
    if (log.error && log.error.length > FOLD_ERRORS_OVER) {
      // Folded, never cut off: the whole text is one click away.
      status.append(el('details', { class: 'row-error' },
        el('summary', { text: `${log.error.slice(0, FOLD_ERRORS_OVER - 30).trimEnd()}…` }),
        el('p', { class: 'row-error-full', text: log.error })));
    } else if (log.error) {
      status.append(el('span', { class: 'row-error', text: log.error }));
    }
    return el('tr', { 'data-id': log.id, 'data-status': log.status, class: state.fresh.has(log.id) ? 'fresh' : null },
      el('td', { 'data-label': 'Status' }, status),
      el('td', { 'data-label': 'Type' },
        el('span', { class: 'cell' },
          el('span', { text: fmt.syncTypeLabels[log.syncType] || log.syncType }),
          el('span', { class: 'trigger', text: fmt.triggerLabels[log.trigger] || log.trigger }))),
      el('td', { 'data-label': 'Started' },
        // The sync's detail, with its requests (views/sync-detail.js).
        el('a', { href: app.href('sync-log', log.id), class: 'row-link', title: 'Open this sync' },
          el('time', { datetime: log.startedAt, title: fmt.absoluteTime(log.startedAt), 'data-relative': '' }, fmt.relativeTime(log.startedAt)))),
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
      later(() => state.fresh.delete(log.id), 3000);
    } else {
      return;
    }
    renderHistory();
  }

  // showResult says how an action ended; with a sync id it links to that sync in full
  // (its tries and the whole error).
  function showResult(tone, text, syncId) {
    const r = $('action-result');
    r.dataset.tone = tone;
    r.replaceChildren(text);
    if (syncId) r.append(' ', el('a', { href: `#/sync-log/${encodeURIComponent(syncId)}`, class: 'result-link', text: 'Details' }));
    r.hidden = false;
  }

  async function syncNow() {
    const id = state.selectedId;
    if (!id || state.busy.has(`${id}:sync`)) return;
    state.busy.add(`${id}:sync`);
    renderActions();
    showResult('info', 'Syncing…');
    try {
      const data = await app.api(Q.syncNow, { id });
      const log = data.syncIntegration;
      if (id !== state.selectedId || !state.alive) return;
      upsertRow(log);
      refreshStatsSoon();
      if (log.status === 'SUCCESS') {
        showResult('good', `Sync finished: ${fmt.count(log.recordsProcessed)} records processed in ${fmt.duration(log.durationMs)}.`, log.id);
      } else {
        showResult('bad', `Sync failed: ${sentence(log.error) || 'no reason given.'}`, log.id);
      }
    } catch (e) {
      if (id === state.selectedId && state.alive) showResult('bad', `Sync could not run. ${sentence(e.message)}`);
    } finally {
      state.busy.delete(`${id}:sync`);
      if (id === state.selectedId && state.alive) renderActions();
    }
  }

  async function testConnection() {
    const id = state.selectedId;
    if (!id || state.busy.has(`${id}:test`)) return;
    state.busy.add(`${id}:test`);
    renderActions();
    showResult('info', 'Testing the connection…');
    try {
      const data = await app.api(Q.testConnection, { id });
      const r = data.testIntegration;
      if (id !== state.selectedId || !state.alive) return;
      if (r.success) showResult('good', `Connection OK: the vendor answered in ${fmt.duration(r.latencyMs)}.`);
      else showResult('bad', `Connection failed: ${sentence(r.message) || 'no reason given.'}`);
    } catch (e) {
      if (id === state.selectedId && state.alive) showResult('bad', `Could not test the connection. ${sentence(e.message)}`);
    } finally {
      state.busy.delete(`${id}:test`);
      if (id === state.selectedId && state.alive) renderActions();
    }
  }

  // ---- live events ----------------------------------------------------------------

  function onEvent(ev) {
    if (ev.type === 'INTEGRATION_CHANGED') {
      // Created, changed or deleted, here or elsewhere: read it again.
      reloadIntegrationsSoon();
      if (ev.integrationId === state.selectedId) loadDetail({ quiet: true });
      return;
    }
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

  // ---- wiring -----------------------------------------------------------------------

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
  const offEvent = app.onEvent(onEvent);
  const offReconnect = app.onReconnect(() => {
    // Events may have been missed while the socket was down.
    loadIntegrations({ quiet: true });
    if (state.selectedId) loadDetail({ quiet: true });
  });

  function setMode(m) {
    mode = m;
    $('detail').dataset.mode = m;
    $('settings-slot').hidden = m !== 'settings';
  }

  function showAdd() {
    select(null);
    setMode('add');
    $('detail-placeholder').hidden = true;
    if (!add) {
      add = addForm(app, {
        onSaved: (i) => {
          applyIntegration(i);
          add = null;
          app.navigate('integrations', i.id);
        },
        onCancel: () => app.navigate('integrations'),
      });
      $('add-slot').replaceChildren(add.el);
    }
    $('add-slot').hidden = false;
    add.focus();
  }

  function hideAdd() {
    $('add-slot').hidden = true;
    $('add-slot').replaceChildren();
    add = null;
  }

  loadIntegrations();

  return {
    /** Shows #/integrations/<id> (rest[0]) or no selection. */
    route({ rest, query }) {
      if (rest[0] === 'new' && admin) {
        showAdd();
        return;
      }
      hideAdd();
      const id = rest[0] && rest[0] !== 'new' && /^[0-9A-Za-z-]+$/.test(rest[0]) ? rest[0] : null;
      const changed = id !== state.selectedId;
      setMode(id && admin && rest[1] === 'settings' ? 'settings' : 'detail');
      select(id);
      if (!id) $('detail-placeholder').hidden = false;
      if (state.selected) renderHeader();
      if (mode === 'settings' && query.has('key')) {
        // "Enter a new key": once the settings show, put the cursor in the key field.
        const focus = () => (state.selected && state.selected.id === id ? settings.focusKey() : setTimeout(focus, 100));
        setTimeout(focus, 0);
      }
      if (changed && id && window.matchMedia('(max-width: 800px)').matches) {
        $('detail').scrollIntoView({ block: 'start' });
      }
    },
    unmount() {
      state.alive = false;
      state.seq++;
      state.statsSeq++;
      for (const t of timers) clearTimeout(t);
      timers.clear();
      offEvent();
      offReconnect();
    },
  };
}
