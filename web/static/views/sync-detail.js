// One sync in full (#/sync-log/<id>): status, trigger and who asked for it, timings,
// records, the whole error, and its vendor requests as a timeline: each try as a bar
// on the sync's time axis with its HTTP status, duration and the wait before the next
// try of the same call. A RUNNING sync is read again when it ends.

import { el, sentence, showState } from '../dom.js';
import * as fmt from '../format.js';

const Q = {
  sync: `query SyncDetail($id: ID!) { syncLog(id: $id) {
    id integrationId syncType status trigger startedAt completedAt durationMs attempts
    recordsProcessed recordsCreated recordsUpdated error errorClass
    integration { id displayName vendor } triggeredBy { email role }
    tries { call attempt startedAt durationMs httpStatus errorClass error retryInMs } } }`,
};

function fact(label, ...value) {
  return el('div', { class: 'fact' }, el('dt', { text: label }), el('dd', {}, ...value));
}

function who(l) {
  if (l.trigger !== 'MANUAL') return 'Scheduled';
  return l.triggeredBy ? `Manual, by ${l.triggeredBy.email}` : 'Manual (by a user who no longer exists)';
}

/** The tries as a timeline: bars placed on the sync's time axis. */
function timeline(l) {
  if (!l.tries.length) {
    return el('p', { class: 'muted', text: l.errorClass === 'circuit_open'
      ? 'No request was made: the circuit breaker was open.'
      : 'This sync made no vendor request.' });
  }
  const t0 = new Date(l.startedAt).getTime();
  const ends = l.tries.map((t) => new Date(t.startedAt).getTime() + t.durationMs);
  const end = Math.max(l.completedAt ? new Date(l.completedAt).getTime() : 0, ...ends);
  const span = Math.max(end - t0, 1);
  const pct = (ms) => `${Math.min(100, Math.max(0, (ms / span) * 100)).toFixed(2)}%`;
  return el('ol', { id: 'tries', class: 'tries' }, l.tries.map((t, i) => {
    const at = new Date(t.startedAt).getTime() - t0;
    const failed = !!t.errorClass;
    const status = t.httpStatus ? `HTTP ${t.httpStatus}` : 'no answer';
    return el('li', { class: `try ${failed ? 'failed' : 'ok'}`, 'data-index': i },
      el('div', { class: 'try-head' },
        el('span', { class: 'try-call', text: t.call }),
        el('span', { class: 'try-attempt muted', text: t.attempt > 1 ? `try ${t.attempt}` : 'first try' }),
        el('span', { class: `badge ${failed ? 'bad' : 'good'}`, text: failed ? `${status} · ${t.errorClass}` : status }),
        el('span', { class: 'try-duration', text: fmt.duration(t.durationMs) }),
        el('span', { class: 'muted small', text: `+${fmt.duration(at)}` })),
      el('div', { class: 'try-track', 'aria-hidden': 'true' },
        el('span', { class: 'try-bar', 'data-left': pct(at), 'data-width': pct(Math.max(t.durationMs, span / 400)) }),
        t.retryInMs != null
          ? el('span', { class: 'try-wait', 'data-left': pct(at + t.durationMs), 'data-width': pct(t.retryInMs) })
          : null),
      t.error ? el('p', { class: 'try-error', text: t.error }) : null,
      t.retryInMs != null ? el('p', { class: 'try-wait-text muted small', text: `Waited ${fmt.duration(t.retryInMs)} before the next try.` }) : null);
  }));
}

/** Bars are placed from data attributes: the page's CSP allows no inline styles. */
function place(box) {
  for (const b of box.querySelectorAll('[data-left]')) {
    b.style.setProperty('left', b.dataset.left);
    b.style.setProperty('width', b.dataset.width);
  }
}

function render(l, back) {
  const records = `${fmt.count(l.recordsProcessed)} processed · ${fmt.count(l.recordsCreated)} created · ${fmt.count(l.recordsUpdated)} updated`;
  return el('div', { class: 'sync-detail' },
    el('p', {}, el('a', { href: back, id: 'sync-back', text: '← Sync log' })),
    el('section', { class: 'card sync-summary', 'aria-labelledby': 'sync-title' },
      el('div', { class: 'detail-title' },
        el('h1', { id: 'sync-title', text: `${fmt.syncTypeLabels[l.syncType] || l.syncType} of ${l.integration.displayName}` }),
        el('p', {},
          el('span', { id: 'sync-status', class: `badge ${fmt.statusTone(l.status)}`, text: fmt.statusLabels[l.status] || l.status }),
          ' ',
          el('span', { class: 'muted', text: fmt.vendorLabel(l.integration.vendor) }))),
      el('dl', { class: 'facts' },
        fact('Trigger', el('span', { id: 'sync-trigger', text: who(l) })),
        fact('Started', el('time', { datetime: l.startedAt, text: fmt.absoluteTime(l.startedAt) })),
        fact('Completed', l.completedAt ? el('time', { datetime: l.completedAt, text: fmt.absoluteTime(l.completedAt) }) : '—'),
        fact('Duration', fmt.duration(l.durationMs)),
        fact('Most tries of one call', fmt.count(l.attempts)),
        fact('Records', records)),
      l.error
        ? el('div', { class: 'sync-error', role: 'note' },
          el('h2', { text: l.errorClass ? `Error (${l.errorClass})` : 'Error' }),
          el('p', { id: 'sync-error', text: l.error }))
        : null),
    el('section', { class: 'card history', 'aria-labelledby': 'tries-title' },
      el('h2', { id: 'tries-title', text: `Requests (${l.tries.length})` }),
      el('p', { class: 'muted small', text: 'Each request to the vendor in the order it started, on the sync’s time axis; hatched: the wait before a retry.' }),
      timeline(l)));
}

/**
 * Shows sync id in root; back is the list's address. Returns { onEvent(ev) }, which
 * reads the sync again when an event says it changed.
 */
export function renderDetail(root, app, id, back) {
  const box = el('div', { class: 'state card' });
  root.replaceChildren(box);
  let alive = true;
  let current = null;
  async function load() {
    if (!current) showState(box, 'loading', 'Loading the sync…');
    try {
      const data = await app.api(Q.sync, { id });
      if (!alive || !root.isConnected) return;
      const l = data.syncLog;
      if (!l) {
        root.replaceChildren(box);
        showState(box, 'empty', 'There is no such sync (it may have been removed by the retention rule).');
        return;
      }
      current = l;
      root.replaceChildren(render(l, back));
      place(root);
    } catch (e) {
      if (!alive) return;
      root.replaceChildren(box);
      showState(box, 'error', sentence(e.message) || 'Could not load the sync.', load);
    }
  }
  load();
  return {
    onEvent(ev) {
      if (ev.syncLog && ev.syncLog.id === id && ev.type !== 'SYNC_STARTED') load();
    },
    close() {
      alive = false;
    },
  };
}
