// The drivers view (#/drivers and #/drivers/<driverId>): every driver's hours of
// service with clear marks for stale, cached, unknown ("—", never 0) and overridden
// values, sorted by least drive time left, searchable, reloaded live when an HOS sync
// succeeds; for the selected driver, the details and the override form.

import { $, el, sentence, showState } from '../dom.js';
import * as fmt from '../format.js';
import * as ff from './fleet-format.js';

// Only what the view shows: the server's cost limit counts every field once per driver
// (25,000 a request); the board is read 500 drivers a request (ff.allDrivers).
export const HOS_FIELDS = `dutyStatus driveRemainingHours shiftRemainingHours cycleRemainingHours timeUntilBreakHours
  dataSource syncedAt cached stale error note cycleViolationHours shiftDrivingViolationHours
  overriddenBy { email } overriddenAt overrideReason overrideExpiresAt`;

const Q = {
  override: `mutation Override($driverId: String!, $input: HOSOverrideInput!) {
    overrideDriverHOS(driverId: $driverId, input: $input) { ${HOS_FIELDS} } }`,
  clear: `mutation Clear($driverId: String!) { clearDriverHOSOverride(driverId: $driverId) { ${HOS_FIELDS} } }`,
};

const SORTS = {
  drive: 'Least drive time left',
  name: 'Name',
  age: 'Oldest data first',
};

const EXPIRIES = [
  ['', 'Until cleared'], ['1', '1 hour'], ['4', '4 hours'], ['12', '12 hours'], ['24', '24 hours'],
  ['72', '3 days'], ['168', '7 days'], ['336', '14 days'],
];

/** The marks of a driver, in words: stale, override, violation, unknown. */
export function marks(d) {
  const h = d.hos;
  const out = [];
  if (h && h.stale) out.push({ key: 'stale', label: 'Stale', tone: 'bad', title: h.error || 'The vendor failed: older data is shown.' });
  if (h && (h.dataSource === 'manual_override')) {
    const until = h.overrideExpiresAt ? `until ${fmt.absoluteTime(h.overrideExpiresAt)}` : 'until cleared';
    const who = h.overriddenBy ? h.overriddenBy.email : '—';
    out.push({ key: 'override', label: 'Override', tone: 'override', title: `By ${who}, ${until}. Reason: ${h.overrideReason || '—'}` });
  }
  if (ff.inViolation(h)) out.push({ key: 'violation', label: 'Violation', tone: 'bad', title: 'The vendor reports the driver in violation.' });
  if (ff.unknown(h)) out.push({ key: 'unknown', label: 'Unknown', tone: 'neutral', title: (h && h.note) || 'Not reported by the vendor.' });
  return out;
}

function sortDrivers(list, sort) {
  const byName = (a, b) => (a.name || '').localeCompare(b.name || '') || a.driverId.localeCompare(b.driverId);
  const drive = (d) => (d.hos ? d.hos.driveRemainingHours : null);
  const age = (d) => (d.hos && d.hos.syncedAt ? Date.parse(d.hos.syncedAt) : 0);
  const out = [...list];
  if (sort === 'name') out.sort(byName);
  else if (sort === 'age') out.sort((a, b) => age(a) - age(b) || byName(a, b));
  else {
    // Unknown first: a drive time nobody reported may be none at all.
    out.sort((a, b) => {
      const x = drive(a);
      const y = drive(b);
      if (x == null && y != null) return -1;
      if (x != null && y == null) return 1;
      if (x != null && x !== y) return x - y;
      return byName(a, b);
    });
  }
  return out;
}

function matches(d, q) {
  if (!q) return true;
  const h = d.hos;
  const text = [d.name, d.driverId, h && ff.dutyLabels[h.dutyStatus], ...marks(d).map((m) => m.label)].join(' ').toLowerCase();
  return text.includes(q);
}

function render() {
  return el('div', { class: 'fleet' },
    el('div', { class: 'card fleet-head' },
      el('h1', { id: 'drivers-title', text: 'Drivers' }),
      el('div', { class: 'fleet-tools' },
        el('label', { for: 'driver-search', class: 'visually-hidden', text: 'Search drivers' }),
        el('input', { id: 'driver-search', type: 'search', placeholder: 'Search name, id, duty status or mark', autocomplete: 'off' }),
        el('label', { for: 'driver-sort', text: 'Sort' }),
        el('select', { id: 'driver-sort' }, ...Object.entries(SORTS).map(([v, t]) => el('option', { value: v, text: t })))),
      el('p', { id: 'drivers-summary', class: 'muted small', 'aria-live': 'polite' })),
    el('div', { id: 'drivers-state', class: 'state card', hidden: true }),
    el('div', { class: 'card table-wrap' },
      el('table', { id: 'drivers-table', 'aria-labelledby': 'drivers-title', hidden: true },
        el('thead', {}, el('tr', {},
          ...['Driver', 'Duty', 'Drive left', 'Shift left', 'Cycle left', 'Break in', 'Violations', 'Data', 'Marks']
            .map((t) => el('th', { scope: 'col', text: t })))),
        el('tbody', { id: 'driver-rows' }))),
    el('section', { id: 'driver-detail', class: 'card fleet-detail', 'aria-labelledby': 'driver-detail-title', hidden: true },
      el('h2', { id: 'driver-detail-title' }),
      el('p', { id: 'driver-detail-info', class: 'muted' }),
      el('form', { id: 'override-form', class: 'override-form', novalidate: true },
        el('h3', { text: 'Override the hours of service' }),
        el('div', { class: 'override-grid' },
          field('ov-duty', 'Duty status', el('select', { id: 'ov-duty', required: true },
            el('option', { value: '', text: 'Choose…' }),
            ...Object.entries(ff.dutyLabels).filter(([k]) => k !== 'UNKNOWN').map(([k, t]) => el('option', { value: k, text: t })))),
          num('ov-driven', 'Hours driven', 24), num('ov-drive', 'Drive left (h)', 11), num('ov-shift', 'Shift left (h)', 14),
          num('ov-cycle', 'Cycle left (h)', 70), num('ov-break', 'Break in (h)', 8),
          field('ov-until', 'Ends', el('select', { id: 'ov-until' }, ...EXPIRIES.map(([v, t]) => el('option', { value: v, text: t }))))),
        field('ov-reason', 'Reason (shown to every dispatcher)',
          el('input', { id: 'ov-reason', type: 'text', maxlength: 500, required: true, placeholder: 'e.g. ELD offline, paper log checked' })),
        el('p', { id: 'override-result', class: 'message', role: 'status', 'aria-live': 'polite', hidden: true }),
        el('div', { class: 'actions' },
          el('button', { id: 'override-submit', type: 'submit', class: 'button primary', text: 'Override' }),
          el('button', { id: 'override-clear', type: 'button', class: 'button', text: 'Clear override' })))));
}

function field(id, label, input) {
  return el('div', { class: 'field' }, el('label', { for: id, text: label }), input);
}

function num(id, label, max) {
  return field(id, label, el('input', { id, type: 'number', min: 0, max, step: '0.01', inputmode: 'decimal', required: true }));
}

/**
 * Mounts the view into root; app is the shell (api, onEvent, onReconnect).
 */
export function mount(root, app) {
  const state = { alive: true, drivers: [], loadedAt: null, q: '', sort: 'drive', selectedId: null, prefilledFor: null, seq: 0, busy: false };
  let reloadTimer = 0;
  root.replaceChildren(render());

  async function load({ quiet = false } = {}) {
    const seq = ++state.seq;
    const box = $('drivers-state');
    if (!quiet || !state.loadedAt) showState(box, 'loading', 'Loading drivers…');
    let drivers;
    try {
      drivers = await ff.allDrivers(app.api, `driverId name hos { ${HOS_FIELDS} }`);
    } catch (e) {
      if (!state.alive || seq !== state.seq) return;
      if (!quiet || !state.loadedAt) showState(box, 'error', `Could not load the drivers. ${sentence(e.message)}`, () => load());
      return;
    }
    if (!state.alive || seq !== state.seq) return;
    state.drivers = drivers;
    state.loadedAt = new Date().toISOString();
    showState(box, state.drivers.length ? null : 'empty', 'No drivers yet: they appear after the first HOS sync.');
    renderRows();
    renderDetail();
    if (state.selectedId && state.prefilledFor !== state.selectedId) prefill();
  }

  function reloadSoon() {
    clearTimeout(reloadTimer);
    reloadTimer = setTimeout(() => state.alive && load({ quiet: true }), 200);
  }

  function cell(label, value, cls) {
    return el('td', { 'data-label': label, class: cls || null }, value);
  }

  function hoursCell(label, col, v, warn) {
    const unknownValue = v == null;
    let cls = unknownValue ? 'unknown' : null;
    if (!unknownValue && warn && v < 1) cls = 'low';
    else if (!unknownValue && warn && v < 2) cls = 'lowish';
    const td = cell(label, ff.hours(v), cls);
    td.dataset.col = col;
    return td;
  }

  function row(d) {
    const h = d.hos;
    const duty = h ? (ff.dutyLabels[h.dutyStatus] || h.dutyStatus) : '—';
    let violations = '—';
    if (h && (h.cycleViolationHours != null || h.shiftDrivingViolationHours != null)) {
      const parts = [];
      if ((h.cycleViolationHours || 0) > 0) parts.push(`cycle ${ff.hours(h.cycleViolationHours)}`);
      if ((h.shiftDrivingViolationHours || 0) > 0) parts.push(`shift ${ff.hours(h.shiftDrivingViolationHours)}`);
      violations = parts.length ? parts.join(', ') : 'none';
    }
    let data = 'never synced';
    if (h) {
      const overridden = h.dataSource === 'manual_override';
      const at = overridden ? (h.overriddenAt || h.syncedAt) : h.syncedAt;
      let kind = 'live';
      if (overridden) kind = 'override, set';
      else if (h.stale) kind = 'stale';
      else if (h.cached) kind = 'cached';
      data = at
        ? el('time', { datetime: at, title: fmt.absoluteTime(at), 'data-relative': '', 'data-prefix': `${kind} · ` }, `${kind} · ${fmt.relativeTime(at)}`)
        : kind;
    }
    const ms = marks(d);
    const markCell = cell('Marks', ms.map((m) => el('span', { class: `badge mark ${m.tone}`, 'data-mark': m.key, title: m.title, text: m.label })), 'marks');
    if (h && h.note) markCell.append(el('span', { class: 'note', text: h.note }));
    if (h && h.stale && h.error) markCell.append(el('span', { class: 'note bad', text: h.error }));
    if (h && (h.dataSource === 'manual_override')) {
      markCell.append(el('span', { class: 'note', text: ms.find((m) => m.key === 'override').title }));
    }
    const dutyCell = cell('Duty', duty, !h || h.dutyStatus === 'UNKNOWN' ? 'unknown' : null);
    dutyCell.dataset.col = 'duty';
    return el('tr', {
      'data-driver-id': d.driverId,
      class: d.driverId === state.selectedId ? 'selected' : null,
      tabindex: 0,
      onclick: () => app.navigate('drivers', d.driverId),
      onkeydown: (ev) => {
        if (ev.key === 'Enter') app.navigate('drivers', d.driverId);
      },
    },
    cell('Driver', el('span', { class: 'cell' }, el('span', { class: 'name', text: d.name || d.driverId }), el('span', { class: 'muted small', text: d.driverId }))),
    dutyCell,
    hoursCell('Drive left', 'drive', h && h.driveRemainingHours, true),
    hoursCell('Shift left', 'shift', h && h.shiftRemainingHours),
    hoursCell('Cycle left', 'cycle', h && h.cycleRemainingHours),
    hoursCell('Break in', 'break', h && h.timeUntilBreakHours),
    cell('Violations', violations, violations !== '—' && violations !== 'none' ? 'low' : null),
    cell('Data', data, h && h.stale ? 'data low' : 'data'),
    markCell);
  }

  function renderRows() {
    const shown = sortDrivers(state.drivers.filter((d) => matches(d, state.q)), state.sort);
    $('driver-rows').replaceChildren(...shown.map(row));
    $('drivers-table').hidden = state.drivers.length === 0;
    const n = state.drivers.length;
    const count = shown.length === n ? `${fmt.count(n)} drivers` : `${fmt.count(shown.length)} of ${fmt.count(n)} drivers`;
    const summary = $('drivers-summary');
    summary.replaceChildren(count, state.loadedAt ? ' · updated ' : '',
      state.loadedAt ? el('time', { datetime: state.loadedAt, 'data-relative': '' }, fmt.relativeTime(state.loadedAt)) : '');
  }

  function renderDetail() {
    const box = $('driver-detail');
    const d = state.drivers.find((x) => x.driverId === state.selectedId);
    if (!d) {
      box.hidden = true;
      return;
    }
    box.hidden = false;
    const h = d.hos;
    $('driver-detail-title').textContent = `${d.name || d.driverId} · ${d.driverId}`;
    const info = [];
    if (h) {
      info.push(`Data from ${ff.sourceLabels[h.dataSource] || h.dataSource}${h.syncedAt ? `, ${fmt.relativeTime(h.syncedAt)}` : ''}.`);
      if (h.note) info.push(`Note: ${h.note}.`);
      if (h.stale) info.push(`Stale: ${h.error || 'the vendor failed'}.`);
      const o = marks(d).find((m) => m.key === 'override');
      if (o) info.push(`Overridden. ${o.title}`);
    } else {
      info.push('No hours of service synced yet.');
    }
    $('driver-detail-info').textContent = info.join(' ');
    $('override-clear').disabled = state.busy || !(h && h.dataSource === 'manual_override');
    $('override-submit').disabled = state.busy;
  }

  function prefill() {
    const d = state.drivers.find((x) => x.driverId === state.selectedId);
    state.prefilledFor = d ? d.driverId : null;
    const h = d && d.hos;
    const v = (x) => (x == null ? '' : String(Math.round(x * 100) / 100));
    $('ov-duty').value = h && h.dutyStatus !== 'UNKNOWN' ? h.dutyStatus : '';
    // Samsara's definition: the 11 hours less what is left.
    $('ov-driven').value = v(h && h.driveRemainingHours != null ? Math.max(0, 11 - h.driveRemainingHours) : null);
    $('ov-drive').value = v(h && h.driveRemainingHours);
    $('ov-shift').value = v(h && h.shiftRemainingHours);
    $('ov-cycle').value = v(h && h.cycleRemainingHours);
    $('ov-break').value = v(h && h.timeUntilBreakHours);
    $('ov-reason').value = (h && h.overrideReason) || '';
    $('ov-until').value = '';
    $('override-result').hidden = true;
  }

  function result(tone, text) {
    const r = $('override-result');
    r.dataset.tone = tone;
    r.textContent = text;
    r.hidden = false;
  }

  async function act(query, variables, done) {
    state.busy = true;
    renderDetail();
    result('info', 'Saving…');
    try {
      await app.api(query, variables);
      if (!state.alive) return;
      result('good', done);
      await load({ quiet: true });
    } catch (e) {
      if (state.alive) result('bad', `Not saved. ${sentence(e.message)}`);
    } finally {
      state.busy = false;
      if (state.alive) renderDetail();
    }
  }

  function submit(ev) {
    ev.preventDefault();
    const id = state.selectedId;
    const duty = $('ov-duty').value;
    const reason = $('ov-reason').value.trim();
    if (!duty) return result('bad', 'Choose the duty status.');
    const input = { dutyStatus: duty, reason };
    for (const [fid, key, label] of [['ov-driven', 'hoursDriven', 'Hours driven'], ['ov-drive', 'driveRemainingHours', 'Drive left'],
      ['ov-shift', 'shiftRemainingHours', 'Shift left'], ['ov-cycle', 'cycleRemainingHours', 'Cycle left'], ['ov-break', 'timeUntilBreakHours', 'Break in']]) {
      const raw = $(fid).value.trim();
      const n = Number(raw);
      if (raw === '' || Number.isNaN(n)) return result('bad', `${label}: enter a number of hours.`);
      input[key] = n;
    }
    if (!reason) return result('bad', 'Say why the vendor\'s data is overridden: the reason is shown to every dispatcher.');
    const hoursAhead = $('ov-until').value;
    input.expiresAt = hoursAhead ? new Date(Date.now() + Number(hoursAhead) * 3600e3).toISOString() : null;
    const until = hoursAhead ? `until ${fmt.absoluteTime(input.expiresAt)}` : 'until cleared';
    return act(Q.override, { driverId: id, input }, `Override set, ${until}.`);
  }

  function onEvent(ev) {
    if (ev.type === 'SYNC_SUCCEEDED' && ev.vendor === 'SAMSARA_ELD') reloadSoon();
  }

  $('driver-search').addEventListener('input', (e) => {
    state.q = e.target.value.trim().toLowerCase();
    renderRows();
  });
  $('driver-sort').addEventListener('change', (e) => {
    state.sort = e.target.value;
    renderRows();
  });
  $('override-form').addEventListener('submit', submit);
  $('override-clear').addEventListener('click', () => act(Q.clear, { driverId: state.selectedId }, 'Override cleared: the vendor\'s data is shown again.'));
  const offEvent = app.onEvent(onEvent);
  const offReconnect = app.onReconnect(() => load({ quiet: true }));
  load();

  return {
    route({ rest }) {
      const id = rest[0] || null;
      if (id === state.selectedId) return;
      state.selectedId = id;
      renderRows();
      renderDetail();
      prefill();
    },
    unmount() {
      state.alive = false;
      clearTimeout(reloadTimer);
      offEvent();
      offReconnect();
    },
  };
}
