// The sync log view (#/sync-log): every sync of the tenant, newest first, filtered by
// integration, vendor, status, trigger, error class and a date range. The filters
// live in the URL (#/sync-log?status=FAILED&vendor=SAMSARA_ELD&from=2026-12-01…), so
// a view can be shared. Pages follow the server's cursor ("Load more"); syncs that
// start or end while someone reads are counted in a "N new syncs" notice instead of
// moving the rows; "Export CSV" downloads every sync of the current filter.
// #/sync-log/<id> shows one sync (views/sync-detail.js).

import { el, sentence, showState } from '../dom.js';
import * as fmt from '../format.js';
import { renderDetail } from './sync-detail.js';

const PAGE = 50;
const EXPORT_PAGE = 500;
const EXPORT_MAX = 20000;

const ROW_FIELDS = `id integrationId syncType status trigger startedAt completedAt durationMs attempts
  recordsProcessed recordsCreated recordsUpdated error errorClass integration { displayName vendor }
  triggeredBy { email }`;

const Q = {
  integrations: `query SyncLogIntegrations { integrations { id displayName vendor } }`,
  page: `query SyncLogs($filter: SyncLogFilter, $first: Int, $after: String) {
    syncLogs(filter: $filter, first: $first, after: $after) {
      edges { cursor node { ${ROW_FIELDS} } } pageInfo { hasNextPage endCursor } } }`,
  count: `query SyncLogsCount($filter: SyncLogFilter) { syncLogs(filter: $filter, first: 1) { totalCount } }`,
};

// The URL's query keys and the filter fields they set (a key may repeat: any of).
const KEYS = {
  integration: 'integrationIds',
  vendor: 'vendors',
  status: 'statuses',
  trigger: 'triggers',
  errorClass: 'errorClasses',
};

const ERROR_CLASSES = ['auth', 'rate_limited', 'unavailable', 'network', 'timeout', 'bad_response', 'circuit_open', 'interrupted'];

/** The filter of a route's query (URLSearchParams): { vendors: […], from: ISO, … }. */
export function filterOf(query) {
  const f = {};
  for (const [key, field] of Object.entries(KEYS)) {
    const vs = query.getAll(key).flatMap((v) => v.split(',')).filter(Boolean);
    if (vs.length) f[field] = vs;
  }
  for (const key of ['from', 'to']) {
    const v = query.get(key);
    if (v && !Number.isNaN(new Date(v).getTime())) f[key] = new Date(v).toISOString();
  }
  return f;
}

/** Does a sync (as an event carries it) match the filter, as far as the event tells? */
function matches(f, log, ev) {
  if (f.integrationIds && !f.integrationIds.includes(log.integrationId || ev.integrationId)) return false;
  if (f.vendors && !f.vendors.includes(ev.vendor)) return false;
  if (f.statuses && !f.statuses.includes(log.status)) return false;
  if (f.triggers && log.trigger && !f.triggers.includes(log.trigger)) return false;
  if (f.errorClasses && !f.errorClasses.includes(log.errorClass)) return false;
  if (f.from && log.startedAt && new Date(log.startedAt) < new Date(f.from)) return false;
  if (f.to && log.startedAt && new Date(log.startedAt) >= new Date(f.to)) return false;
  return true;
}

/** A value of a date-time input (local time) for an ISO time, or ''. */
function localInput(iso) {
  if (!iso) return '';
  const d = new Date(iso);
  const pad = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

function select(id, label, options, value) {
  return el('div', { class: 'field' },
    el('label', { for: id, text: label }),
    el('select', { id },
      el('option', { value: '', text: 'All' }),
      options.map(([v, text]) => el('option', { value: v, text, selected: v === value }))));
}

function render(f, integrations) {
  const one = (xs) => (xs && xs.length === 1 ? xs[0] : '');
  return el('div', { class: 'sync-log' },
    el('section', { class: 'card sync-log-filters', 'aria-labelledby': 'sync-log-title' },
      el('div', { class: 'history-head' },
        el('h1', { id: 'sync-log-title', text: 'Sync log' }),
        el('div', { class: 'actions' },
          el('button', { id: 'sync-log-export', type: 'button', class: 'button small', text: 'Export CSV' }),
          el('button', { id: 'sync-log-clear', type: 'button', class: 'button ghost small', text: 'Clear filters' }))),
      el('form', { id: 'sync-log-form', class: 'sync-log-form', novalidate: true },
        select('f-integration', 'Integration', integrations.map((i) => [i.id, i.displayName]), one(f.integrationIds)),
        select('f-vendor', 'Vendor', Object.entries(fmt.vendorLabels), one(f.vendors)),
        select('f-status', 'Status', Object.entries(fmt.statusLabels), one(f.statuses)),
        select('f-trigger', 'Trigger', Object.entries(fmt.triggerLabels), one(f.triggers)),
        select('f-error-class', 'Error class', ERROR_CLASSES.map((c) => [c, c]), one(f.errorClasses)),
        el('div', { class: 'field' },
          el('label', { for: 'f-from', text: 'From' }),
          el('input', { id: 'f-from', type: 'datetime-local', value: localInput(f.from) })),
        el('div', { class: 'field' },
          el('label', { for: 'f-to', text: 'Until' }),
          el('input', { id: 'f-to', type: 'datetime-local', value: localInput(f.to) }))),
      el('p', { id: 'sync-log-summary', class: 'muted small', 'aria-live': 'polite' })),
    el('section', { class: 'card history', 'aria-labelledby': 'sync-log-rows-title' },
      el('h2', { id: 'sync-log-rows-title', class: 'visually-hidden', text: 'Syncs' }),
      el('div', { id: 'sync-log-new', class: 'new-syncs', hidden: true },
        el('span', { id: 'sync-log-new-text' }),
        el('button', { id: 'sync-log-show-new', type: 'button', class: 'button small', text: 'Show them' })),
      el('div', { id: 'sync-log-state', class: 'state', hidden: true }),
      el('div', { class: 'table-wrap' },
        el('table', { id: 'sync-log-table', 'aria-labelledby': 'sync-log-title' },
          el('thead', {},
            el('tr', {},
              el('th', { scope: 'col', text: 'Started' }),
              el('th', { scope: 'col', text: 'Integration' }),
              el('th', { scope: 'col', text: 'Status' }),
              el('th', { scope: 'col', class: 'num', text: 'Duration' }),
              el('th', { scope: 'col', class: 'num', text: 'Tries' }),
              el('th', { scope: 'col', class: 'num', text: 'Records' }),
              el('th', { scope: 'col', text: 'Error' }))),
          el('tbody', { id: 'sync-log-rows' }))),
      el('div', { class: 'pager' },
        el('button', { id: 'sync-log-more', type: 'button', class: 'button', text: 'Load more', hidden: true }))));
}

function row(l, href) {
  const who = l.trigger === 'MANUAL' && l.triggeredBy ? ` by ${l.triggeredBy.email}` : '';
  return el('tr', { 'data-id': l.id },
    el('td', { 'data-label': 'Started' },
      el('a', { href, class: 'row-link' },
        el('time', { datetime: l.startedAt, title: fmt.absoluteTime(l.startedAt), text: fmt.absoluteTime(l.startedAt) })),
      el('span', { class: 'trigger', text: `${fmt.triggerLabels[l.trigger] || l.trigger}${who}` })),
    el('td', { 'data-label': 'Integration' },
      el('span', { text: l.integration ? l.integration.displayName : '—' }),
      el('span', { class: 'trigger', text: l.integration ? fmt.vendorLabel(l.integration.vendor) : '' })),
    el('td', { 'data-label': 'Status' },
      el('span', { class: `badge ${fmt.statusTone(l.status)}`, text: fmt.statusLabels[l.status] || l.status })),
    el('td', { 'data-label': 'Duration', class: 'num', text: fmt.duration(l.durationMs) }),
    el('td', { 'data-label': 'Tries', class: 'num', text: fmt.count(l.attempts) }),
    el('td', { 'data-label': 'Records', class: 'num', text: fmt.count(l.recordsProcessed) }),
    el('td', { 'data-label': 'Error' },
      l.errorClass ? el('span', { class: 'badge bad', text: l.errorClass }) : el('span', { class: 'muted', text: '—' }),
      l.error ? el('span', { class: 'row-error', title: l.error, text: l.error }) : null));
}

/** One CSV field: quoted when it holds a comma, quote or line break. */
function csvField(v) {
  const s = v == null ? '' : String(v);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

const CSV_COLUMNS = [
  ['id', (l) => l.id], ['integration', (l) => l.integration && l.integration.displayName],
  ['vendor', (l) => l.integration && l.integration.vendor], ['syncType', (l) => l.syncType],
  ['status', (l) => l.status], ['trigger', (l) => l.trigger], ['triggeredBy', (l) => l.triggeredBy && l.triggeredBy.email],
  ['startedAt', (l) => l.startedAt], ['completedAt', (l) => l.completedAt], ['durationMs', (l) => l.durationMs],
  ['attempts', (l) => l.attempts], ['recordsProcessed', (l) => l.recordsProcessed],
  ['recordsCreated', (l) => l.recordsCreated], ['recordsUpdated', (l) => l.recordsUpdated],
  ['errorClass', (l) => l.errorClass], ['error', (l) => l.error],
];

export function toCSV(logs) {
  const lines = [CSV_COLUMNS.map(([h]) => h).join(',')];
  for (const l of logs) lines.push(CSV_COLUMNS.map(([, get]) => csvField(get(l))).join(','));
  return `${lines.join('\r\n')}\r\n`;
}

export function mount(root, app) {
  const state = { alive: true, filter: null, key: null, logs: [], after: null, seq: 0, summarySeq: 0, fresh: new Set(), detail: null, integrations: null };
  const q = (id) => root.querySelector(`#${id}`);

  async function integrations() {
    if (!state.integrations) {
      try {
        state.integrations = (await app.api(Q.integrations)).integrations;
      } catch {
        state.integrations = [];
      }
    }
    return state.integrations;
  }

  /** Puts the form's filter into the URL; the route that follows loads it. */
  function applyForm() {
    const p = new URLSearchParams();
    const put = (key, id) => {
      const v = q(id).value;
      if (v) p.set(key, v);
    };
    put('integration', 'f-integration');
    put('vendor', 'f-vendor');
    put('status', 'f-status');
    put('trigger', 'f-trigger');
    put('errorClass', 'f-error-class');
    for (const [key, id] of [['from', 'f-from'], ['to', 'f-to']]) {
      const v = q(id).value;
      if (v) p.set(key, new Date(v).toISOString());
    }
    const s = p.toString();
    window.location.hash = `${app.href('sync-log')}${s ? `?${s}` : ''}`;
  }

  function hrefOf(id) {
    return `${app.href('sync-log', id)}${state.key ? `?${state.key}` : ''}`;
  }

  function setNew() {
    const n = state.fresh.size;
    q('sync-log-new').hidden = n === 0;
    q('sync-log-new-text').textContent = `${n} new ${n === 1 ? 'sync' : 'syncs'} since this list was loaded.`;
  }

  async function load(append) {
    const seq = ++state.seq;
    const box = q('sync-log-state');
    const more = q('sync-log-more');
    if (!append) {
      state.logs = [];
      state.after = null;
      state.fresh.clear();
      setNew();
      q('sync-log-rows').replaceChildren();
      showState(box, 'loading', 'Loading syncs…');
    }
    more.disabled = true;
    try {
      const data = await app.api(Q.page, { filter: state.filter, first: PAGE, after: append ? state.after : null });
      if (!state.alive || seq !== state.seq) return;
      const page = data.syncLogs;
      const logs = page.edges.map((e) => e.node);
      state.logs.push(...logs);
      state.after = page.pageInfo.endCursor;
      q('sync-log-rows').append(...logs.map((l) => row(l, hrefOf(l.id))));
      more.hidden = !page.pageInfo.hasNextPage;
      showState(box, state.logs.length ? null : 'empty', 'No syncs match these filters.');
      if (!append) count(seq);
    } catch (e) {
      if (!state.alive || seq !== state.seq) return;
      showState(box, 'error', sentence(e.message) || 'Could not load the syncs.', () => load(append));
    } finally {
      more.disabled = false;
    }
  }

  // The summary line says the count, or the last export's result: a count that
  // answers after an export began does not overwrite what the export says.
  async function count(seq) {
    const summary = q('sync-log-summary');
    const mine = ++state.summarySeq;
    try {
      const data = await app.api(Q.count, { filter: state.filter });
      if (!state.alive || seq !== state.seq || mine !== state.summarySeq) return;
      const n = data.syncLogs.totalCount;
      summary.textContent = `${fmt.count(n)} ${n === 1 ? 'sync matches' : 'syncs match'} these filters.`;
    } catch {
      if (mine === state.summarySeq) summary.textContent = '';
    }
  }

  async function exportCSV() {
    const button = q('sync-log-export');
    state.summarySeq++;
    button.disabled = true;
    button.textContent = 'Exporting…';
    const logs = [];
    let after = null;
    try {
      for (;;) {
        const data = await app.api(Q.page, { filter: state.filter, first: EXPORT_PAGE, after });
        logs.push(...data.syncLogs.edges.map((e) => e.node));
        if (!data.syncLogs.pageInfo.hasNextPage || logs.length >= EXPORT_MAX) break;
        after = data.syncLogs.pageInfo.endCursor;
      }
      const url = URL.createObjectURL(new Blob([toCSV(logs)], { type: 'text/csv;charset=utf-8' }));
      const a = el('a', { href: url, download: `sync-log-${new Date().toISOString().slice(0, 19).replace(/:/g, '')}.csv`, hidden: true });
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10000);
      q('sync-log-summary').textContent = `Exported ${fmt.count(logs.length)} ${logs.length === 1 ? 'sync' : 'syncs'}${logs.length >= EXPORT_MAX ? ' (the first ones; narrow the filters for the rest)' : ''}.`;
    } catch (e) {
      q('sync-log-summary').textContent = sentence(e.message) || 'The export failed.';
    } finally {
      button.disabled = false;
      button.textContent = 'Export CSV';
    }
  }

  function showList(r) {
    const key = r.query.toString();
    const fresh = state.detail || !q('sync-log-form') || key !== state.key;
    state.detail = null;
    if (!fresh) return;
    state.key = key;
    state.filter = filterOf(r.query);
    integrations().then((ins) => {
      if (!state.alive || state.detail || key !== state.key) return;
      root.replaceChildren(render(state.filter, ins));
      q('sync-log-form').addEventListener('change', applyForm);
      q('sync-log-form').addEventListener('submit', (e) => { e.preventDefault(); applyForm(); });
      q('sync-log-clear').addEventListener('click', () => app.navigate('sync-log'));
      q('sync-log-more').addEventListener('click', () => load(true));
      q('sync-log-show-new').addEventListener('click', () => load(false));
      q('sync-log-export').addEventListener('click', exportCSV);
      load(false);
    });
  }

  function showDetail(r, id) {
    state.seq++;
    state.detail = renderDetail(root, app, id, `${app.href('sync-log')}${r.query.toString() ? `?${r.query}` : ''}`);
  }

  const offEvent = app.onEvent((ev) => {
    if (state.detail) {
      state.detail.onEvent(ev);
      return;
    }
    const l = ev.syncLog;
    if (!l || !state.filter || state.logs.some((x) => x.id === l.id) || state.fresh.has(l.id)) return;
    if (!['SYNC_STARTED', 'SYNC_SUCCEEDED', 'SYNC_FAILED'].includes(ev.type)) return;
    if (!matches(state.filter, l, ev)) return;
    state.fresh.add(l.id);
    setNew();
  });
  const offReconnect = app.onReconnect(() => {
    if (!state.detail && state.filter) load(false);
  });

  return {
    route(r) {
      if (r.rest[0]) showDetail(r, r.rest[0]);
      else showList(r);
    },
    unmount() {
      state.alive = false;
      offEvent();
      offReconnect();
    },
  };
}
