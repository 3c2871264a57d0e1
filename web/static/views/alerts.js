// The alerts view (#/alerts, admins): the open alerts of the tenant and the recent
// ones, each with its kind, severity, integration, time and whether its email went
// out; updated live. badge() keeps the count of open alerts on the navigation link
// for the whole session.

import { $, el, sentence, showState } from '../dom.js';
import * as fmt from '../format.js';

const RECENT = 50;
const ALERT_FIELDS = 'id kind severity title message firing status muted deliveryAttempts createdAt sentAt resolvedAt lastError integrationId integration { id displayName }';

const Q = {
  alerts: `query Alerts($limit: Int!) { openAlerts { ${ALERT_FIELDS} } alerts(limit: $limit) { ${ALERT_FIELDS} } }`,
  count: 'query OpenAlertCount { openAlerts { id } }',
};

const ALERT_EVENTS = new Set(['ALERT_RAISED', 'ALERT_RESOLVED', 'INTEGRATION_CHANGED']);

/** Calls fn soon, once for a burst of calls; returns [trigger, cancel]. */
function debounce(fn, ms) {
  let t = 0;
  return [() => {
    clearTimeout(t);
    t = setTimeout(fn, ms);
  }, () => clearTimeout(t)];
}

/** The count of open alerts on the Alerts link, kept live; returns its stop function. */
export function badge(app) {
  let alive = true;
  const load = async () => {
    try {
      const data = await app.api(Q.count);
      if (alive) app.setBadge('alerts', data.openAlerts.length);
    } catch {
      // A hint only: the next event tries again.
    }
  };
  const [soon, cancel] = debounce(load, 300);
  const offEvent = app.onEvent((ev) => {
    if (ALERT_EVENTS.has(ev.type)) soon();
  });
  const offReconnect = app.onReconnect(soon);
  load();
  return () => {
    alive = false;
    cancel();
    offEvent();
    offReconnect();
  };
}

function render() {
  return el('section', { class: 'alerts-page', 'aria-labelledby': 'alerts-title' },
    el('div', { class: 'page-head' },
      el('h1', { id: 'alerts-title', text: 'Alerts' }),
      el('p', { class: 'muted', text: 'Emails to the admins when an integration keeps failing, stops syncing or needs new credentials, and when it recovers.' })),
    el('div', { class: 'card alerts-card' },
      el('h2', { id: 'open-alerts-title', text: 'Open' }),
      el('div', { id: 'open-alerts-state', class: 'state', hidden: true }),
      el('ul', { id: 'open-alerts', class: 'alert-list', 'aria-labelledby': 'open-alerts-title' })),
    el('div', { class: 'card alerts-card' },
      el('h2', { id: 'recent-alerts-title', text: 'Recent' }),
      el('div', { id: 'recent-alerts-state', class: 'state', hidden: true }),
      el('ul', { id: 'recent-alerts', class: 'alert-list', 'aria-labelledby': 'recent-alerts-title' })));
}

function alertItem(a) {
  const sev = el('span', { class: `badge ${fmt.severityTones[a.severity] || 'neutral'}`, text: fmt.severityLabels[a.severity] || a.severity });
  const d = fmt.delivery(a);
  const integration = a.integration
    ? el('a', { href: `#/integrations/${encodeURIComponent(a.integration.id)}`, class: 'alert-integration', text: a.integration.displayName })
    : el('span', { class: 'muted', text: a.integrationId ? 'Deleted integration' : '—' });
  let state = null;
  if (a.firing && !a.resolvedAt) state = el('span', { class: 'badge bad', text: 'Open' });
  else if (a.firing && a.resolvedAt) {
    state = el('span', { class: 'badge good', title: fmt.absoluteTime(a.resolvedAt) }, `Resolved ${fmt.relativeTime(a.resolvedAt)}`);
  }
  const delivery = el('span', { class: `badge ${d.tone}`, 'data-delivery': a.status, text: d.label });
  if (a.lastError && a.status === 'FAILED') delivery.title = a.lastError;
  return el('li', { class: 'alert-item', 'data-id': a.id, 'data-kind': a.kind, 'data-status': a.status },
    el('div', { class: 'alert-line' },
      sev,
      el('span', { class: 'alert-kind', text: fmt.alertKindLabels[a.kind] || a.kind }),
      state,
      el('time', { datetime: a.createdAt, title: fmt.absoluteTime(a.createdAt), 'data-relative': '', class: 'muted small' }, fmt.relativeTime(a.createdAt))),
    el('p', { class: 'alert-title', text: a.title }),
    el('p', { class: 'alert-message muted', text: a.message }),
    el('div', { class: 'alert-line small' },
      integration,
      delivery,
      a.muted ? el('span', { class: 'muted', text: 'Alerts of this integration were muted' }) : null,
      a.status === 'FAILED' && a.lastError ? el('span', { class: 'muted alert-reason', text: sentence(a.lastError) }) : null));
}

export function mount(root, app) {
  let alive = true;
  let seq = 0;
  root.replaceChildren(render());

  async function load({ quiet = false } = {}) {
    const mine = ++seq;
    if (!quiet) {
      showState($('open-alerts-state'), 'loading', 'Loading alerts…');
      showState($('recent-alerts-state'), null);
    }
    let data;
    try {
      data = await app.api(Q.alerts, { limit: RECENT });
    } catch (e) {
      if (!alive || mine !== seq) return;
      showState($('open-alerts-state'), 'error', `Could not load the alerts. ${sentence(e.message)}`, () => load());
      return;
    }
    if (!alive || mine !== seq) return;
    $('open-alerts').replaceChildren(...data.openAlerts.map(alertItem));
    $('recent-alerts').replaceChildren(...data.alerts.map(alertItem));
    showState($('open-alerts-state'), data.openAlerts.length ? null : 'empty', 'No open alerts: every integration is fine.');
    showState($('recent-alerts-state'), data.alerts.length ? null : 'empty', 'No alerts yet.');
    app.setBadge('alerts', data.openAlerts.length);
  }

  const [soon, cancel] = debounce(() => load({ quiet: true }), 300);
  const offEvent = app.onEvent((ev) => {
    if (ALERT_EVENTS.has(ev.type)) soon();
  });
  const offReconnect = app.onReconnect(soon);
  load();

  return {
    route() {},
    unmount() {
      alive = false;
      cancel();
      offEvent();
      offReconnect();
    },
  };
}
