// The loads view (#/loads and #/loads/<loadId>): the active loads with pickup,
// delivery, appointments, status, miles and the assigned driver with that driver's
// drive time left, flagged when it is less than the trip needs at 50 mph; reloaded
// live when a TMS or HOS sync succeeds. For the selected load: diesel prices and the
// weather near its pickup and delivery, each with its source and age.

import { $, el, sentence, showState } from '../dom.js';
import * as fmt from '../format.js';
import * as ff from './fleet-format.js';

const LOC = 'city state latitude longitude';
const Q = {
  loads: `query Loads { loads { loadId pickupLocation { ${LOC} } deliveryLocation { ${LOC} } pickupAppointment
    deliveryAppointment assignedDriverId status totalMiles } }`,
  fuel: `query Fuel($lat: Float!, $lon: Float!) { fuelStations(latitude: $lat, longitude: $lon, radiusMiles: 25, maxResults: 5) {
    stationId name brand city state dieselPrice pricePerGallon distanceMiles lastUpdated dataSource } }`,
  weather: `query Weather($lat: Float!, $lon: Float!) { weather(latitude: $lat, longitude: $lon) {
    temperatureF feelsLikeF windSpeedMph conditions description observedAt dataSource } }`,
};

/** The load's row as shown: its driver's drive time left and what the trip needs. */
export function assess(load, drivers) {
  const d = load.assignedDriverId ? drivers.get(load.assignedDriverId) : null;
  const driveLeft = d && d.hos ? d.hos.driveRemainingHours : null;
  const need = load.totalMiles == null ? null : load.totalMiles / ff.TRIP_SPEED_MPH;
  return { driver: d, driveLeft, need, short: driveLeft != null && need != null && driveLeft < need };
}

function render() {
  return el('div', { class: 'fleet' },
    el('div', { class: 'card fleet-head' },
      el('h1', { id: 'loads-title', text: 'Loads' }),
      el('p', { id: 'loads-summary', class: 'muted small', 'aria-live': 'polite' })),
    el('div', { id: 'loads-state', class: 'state card', hidden: true }),
    el('div', { class: 'card table-wrap' },
      el('table', { id: 'loads-table', 'aria-labelledby': 'loads-title', hidden: true },
        el('thead', {}, el('tr', {},
          ...['Load', 'Pickup', 'Pickup at', 'Delivery', 'Delivery at', 'Status', 'Miles', 'Driver', 'Drive left', 'Trip needs', 'Flag']
            .map((t) => el('th', { scope: 'col', text: t })))),
        el('tbody', { id: 'load-rows' }))),
    el('section', { id: 'load-detail', class: 'fleet-detail', 'aria-labelledby': 'load-detail-title', hidden: true },
      el('h2', { id: 'load-detail-title' }),
      el('div', { class: 'surroundings' },
        place('pickup', 'Pickup'),
        place('delivery', 'Delivery'))));
}

function place(key, title) {
  return el('div', { class: 'card surrounding', 'data-place': key },
    el('h3', { id: `${key}-title`, text: title }),
    el('p', { id: `${key}-where`, class: 'muted small' }),
    el('h4', { text: 'Weather' }),
    el('div', { id: `${key}-weather`, class: 'surrounding-body' }),
    el('h4', { text: 'Diesel within 25 miles, cheapest first' }),
    el('div', { id: `${key}-fuel`, class: 'surrounding-body' }));
}

/** Mounts the view into root; app is the shell (api, onEvent, onReconnect). */
export function mount(root, app) {
  const state = { alive: true, loads: [], drivers: new Map(), loadedAt: null, selectedId: null, seq: 0, detailSeq: 0 };
  let reloadTimer = 0;
  root.replaceChildren(render());

  async function load({ quiet = false } = {}) {
    const seq = ++state.seq;
    const box = $('loads-state');
    if (!quiet || !state.loadedAt) showState(box, 'loading', 'Loading loads…');
    let data, drivers;
    try {
      [data, drivers] = await Promise.all([app.api(Q.loads), ff.allDrivers(app.api, 'driverId name hos { driveRemainingHours }')]);
    } catch (e) {
      if (!state.alive || seq !== state.seq) return;
      if (!quiet || !state.loadedAt) showState(box, 'error', `Could not load the loads. ${sentence(e.message)}`, () => load());
      return;
    }
    if (!state.alive || seq !== state.seq) return;
    state.loads = data.loads;
    state.drivers = new Map(drivers.map((d) => [d.driverId, d]));
    state.loadedAt = new Date().toISOString();
    showState(box, state.loads.length ? null : 'empty', 'No active loads.');
    renderRows();
    if (state.selectedId) renderDetailHead();
  }

  function reloadSoon() {
    clearTimeout(reloadTimer);
    reloadTimer = setTimeout(() => state.alive && load({ quiet: true }), 200);
  }

  function cell(label, value, cls) {
    return el('td', { 'data-label': label, class: cls || null }, value);
  }

  function sorted() {
    const withA = state.loads.map((l) => ({ l, a: assess(l, state.drivers) }));
    withA.sort((x, y) => {
      if (x.a.short !== y.a.short) return x.a.short ? -1 : 1;
      const px = x.l.pickupAppointment ? Date.parse(x.l.pickupAppointment) : Infinity;
      const py = y.l.pickupAppointment ? Date.parse(y.l.pickupAppointment) : Infinity;
      return (px - py) || x.l.loadId.localeCompare(y.l.loadId);
    });
    return withA;
  }

  function row({ l, a }) {
    const d = a.driver;
    let driver = 'unassigned';
    if (l.assignedDriverId) driver = d && d.name ? `${d.name} · ${l.assignedDriverId}` : l.assignedDriverId;
    let flag = '';
    let flagCls = null;
    if (a.short) {
      flag = el('span', { class: 'badge bad', 'data-flag': 'short', title: `The trip needs ${ff.hours(a.need)} at ${ff.TRIP_SPEED_MPH} mph`, text: 'Short of drive time' });
    } else if (l.assignedDriverId && a.driveLeft == null) {
      flag = el('span', { class: 'badge neutral', 'data-flag': 'unknown', text: 'Drive time unknown' });
    } else if (l.assignedDriverId && a.need == null) {
      flag = el('span', { class: 'badge neutral', 'data-flag': 'unknown', text: 'Miles unknown' });
    }
    if (a.short) flagCls = 'low';
    const driveCell = cell('Drive left', l.assignedDriverId ? ff.hours(a.driveLeft) : '—', a.driveLeft == null ? 'unknown' : flagCls);
    driveCell.dataset.col = 'drive';
    return el('tr', {
      'data-load-id': l.loadId,
      class: [l.loadId === state.selectedId ? 'selected' : '', a.short ? 'flagged' : ''].join(' ').trim() || null,
      tabindex: 0,
      onclick: () => app.navigate('loads', l.loadId),
      onkeydown: (ev) => {
        if (ev.key === 'Enter') app.navigate('loads', l.loadId);
      },
    },
    cell('Load', l.loadId),
    cell('Pickup', ff.place(l.pickupLocation), 'wrap'),
    cell('Pickup at', ff.appointment(l.pickupAppointment)),
    cell('Delivery', ff.place(l.deliveryLocation), 'wrap'),
    cell('Delivery at', ff.appointment(l.deliveryAppointment)),
    cell('Status', ff.loadStatusLabels[l.status] || l.status),
    cell('Miles', l.totalMiles == null ? '—' : fmt.count(Math.round(l.totalMiles)), 'num'),
    cell('Driver', driver, l.assignedDriverId ? 'wrap' : 'wrap unknown'),
    driveCell,
    cell('Trip needs', ff.hours(a.need)),
    cell('Flag', flag));
  }

  function renderRows() {
    const rows = sorted();
    $('load-rows').replaceChildren(...rows.map(row));
    $('loads-table').hidden = rows.length === 0;
    const short = rows.filter((r) => r.a.short).length;
    $('loads-summary').replaceChildren(
      `${fmt.count(rows.length)} active loads · ${short} flagged (driver has less drive time left than the trip needs at ${ff.TRIP_SPEED_MPH} mph)`,
      state.loadedAt ? ' · updated ' : '',
      state.loadedAt ? el('time', { datetime: state.loadedAt, 'data-relative': '' }, fmt.relativeTime(state.loadedAt)) : '');
  }

  function renderDetailHead() {
    const l = state.loads.find((x) => x.loadId === state.selectedId);
    $('load-detail').hidden = !l;
    if (!l) return null;
    $('load-detail-title').textContent = `Near load ${l.loadId}`;
    $('pickup-where').textContent = `${ff.place(l.pickupLocation)} · ${ff.appointment(l.pickupAppointment)}`;
    $('delivery-where').textContent = `${ff.place(l.deliveryLocation)} · ${ff.appointment(l.deliveryAppointment)}`;
    return l;
  }

  function source(s) {
    return ff.sourceLabels[s] || s;
  }

  function weatherBlock(w) {
    const feels = w.feelsLikeF == null ? '—' : `${Math.round(w.feelsLikeF)}°F`;
    const wind = w.windSpeedMph == null ? '—' : `${Math.round(w.windSpeedMph)} mph`;
    const cond = w.description && w.description.toLowerCase() !== (w.conditions || '').toLowerCase()
      ? `${w.conditions}: ${w.description}` : (w.conditions || '—');
    return el('p', {},
      el('strong', { text: `${Math.round(w.temperatureF)}°F` }), ` (feels ${feels}) · ${cond} · wind ${wind}`,
      el('span', { class: 'source' }, `${source(w.dataSource)}, observed `,
        el('time', { datetime: w.observedAt, title: fmt.absoluteTime(w.observedAt), 'data-relative': '' }, fmt.relativeTime(w.observedAt))));
  }

  function fuelBlock(stations) {
    if (!stations.length) return el('p', { class: 'muted', text: 'No stations within 25 miles.' });
    const list = [...stations].sort((a, b) => {
      if (a.dieselPrice == null) return b.dieselPrice == null ? 0 : 1;
      if (b.dieselPrice == null) return -1;
      return a.dieselPrice - b.dieselPrice;
    });
    return el('ul', { class: 'fuel-list' }, ...list.map((s) => el('li', { 'data-station': s.stationId },
      el('span', { class: 'name', text: s.name }),
      el('span', { text: ` · ${s.distanceMiles == null ? '—' : `${s.distanceMiles.toFixed(1)} mi`} · diesel ` }),
      el('strong', { class: s.dieselPrice == null ? 'unknown' : null, text: s.dieselPrice == null ? '—' : `$${s.dieselPrice.toFixed(3)}` }),
      el('span', { class: 'source' }, `${source(s.dataSource)}, price `,
        s.lastUpdated
          ? el('time', { datetime: s.lastUpdated, title: fmt.absoluteTime(s.lastUpdated), 'data-relative': '' }, fmt.relativeTime(s.lastUpdated))
          : 'age unknown'))));
  }

  async function fill(boxId, query, loc, pick, block, what) {
    const box = $(boxId);
    const seq = state.detailSeq;
    if (!loc || loc.latitude == null || loc.longitude == null) {
      showState(box, 'empty', 'No coordinates from the TMS: nothing to look up.');
      return;
    }
    showState(box, 'loading', `Loading ${what}…`);
    try {
      const data = await app.api(query, { lat: loc.latitude, lon: loc.longitude });
      if (!state.alive || seq !== state.detailSeq) return;
      showState(box, null);
      box.hidden = false;
      box.replaceChildren(block(pick(data)));
    } catch (e) {
      if (!state.alive || seq !== state.detailSeq) return;
      showState(box, 'error', `Could not load ${what}. ${sentence(e.message)}`);
    }
  }

  function loadDetail() {
    state.detailSeq++;
    const l = renderDetailHead();
    if (!l) return;
    fill('pickup-weather', Q.weather, l.pickupLocation, (d) => d.weather, weatherBlock, 'the weather');
    fill('delivery-weather', Q.weather, l.deliveryLocation, (d) => d.weather, weatherBlock, 'the weather');
    fill('pickup-fuel', Q.fuel, l.pickupLocation, (d) => d.fuelStations, fuelBlock, 'diesel prices');
    fill('delivery-fuel', Q.fuel, l.deliveryLocation, (d) => d.fuelStations, fuelBlock, 'diesel prices');
  }

  function onEvent(ev) {
    if (ev.type === 'SYNC_SUCCEEDED' && (ev.vendor === 'TRUCKBASE_TMS' || ev.vendor === 'SAMSARA_ELD')) reloadSoon();
  }

  const offEvent = app.onEvent(onEvent);
  const offReconnect = app.onReconnect(() => load({ quiet: true }));
  const first = load();

  return {
    async route({ rest }) {
      const id = rest[0] || null;
      if (id === state.selectedId) return;
      state.selectedId = id;
      await first;
      if (!state.alive || id !== state.selectedId) return;
      renderRows();
      loadDetail();
    },
    unmount() {
      state.alive = false;
      clearTimeout(reloadTimer);
      offEvent();
      offReconnect();
    },
  };
}
