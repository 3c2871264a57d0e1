// Formatting of API values for people: labels, relative times, durations, numbers.

const numbers = new Intl.NumberFormat('en-US');
const relative = new Intl.RelativeTimeFormat('en', { numeric: 'auto' });
const absolute = new Intl.DateTimeFormat('en-US', { dateStyle: 'medium', timeStyle: 'medium' });

export const statusLabels = { SUCCESS: 'Success', FAILED: 'Failed', RUNNING: 'Running' };

export const syncTypeLabels = {
  HOS_SYNC: 'HOS sync',
  LOAD_SYNC: 'Load sync',
  FUEL_SYNC: 'Fuel sync',
  WEATHER_SYNC: 'Weather sync',
};

export const triggerLabels = { SCHEDULED: 'Scheduled', MANUAL: 'Manual' };

/**
 * The vendors the server syncs with, in its order (Query.vendors: the shell loads
 * them before the first view): each one's display name, and the integration type it
 * serves (the add form's type follows the vendor). A vendor missing here is shown by
 * its enum value.
 */
export const vendorLabels = {};
export const vendorTypes = {};

/** Fills vendorLabels and vendorTypes from Query.vendors. */
export function setVendors(vendors) {
  for (const m of [vendorLabels, vendorTypes]) for (const k of Object.keys(m)) delete m[k];
  for (const v of vendors) {
    vendorLabels[v.vendor] = v.displayName;
    vendorTypes[v.vendor] = v.integrationType;
  }
}

/** How people see a vendor named: its display name, else its enum value. */
export function vendorLabel(vendor) {
  return vendorLabels[vendor] || vendor;
}

export const typeLabels = { HOS_ELD: 'Hours of service', TMS: 'Loads (TMS)', FUEL: 'Fuel prices', WEATHER: 'Weather' };

/** @param {string|number|null|undefined} n */
export function count(n) {
  return n == null ? '–' : numbers.format(n);
}

/** A success rate in percent, one decimal at most: "100%", "96.7%". */
export function percent(rate) {
  if (rate == null || Number.isNaN(rate)) return '–';
  return `${Math.round(rate * 10) / 10}%`;
}

/** "340 ms", "1.2 s", "2 min 5 s"; an em dash when unknown. */
export function duration(ms) {
  if (ms == null) return '—';
  if (ms < 1000) return `${ms} ms`;
  if (ms < 60000) return `${Math.round(ms / 100) / 10} s`;
  const min = Math.floor(ms / 60000);
  const s = Math.round((ms % 60000) / 1000);
  return s ? `${min} min ${s} s` : `${min} min`;
}

/** "just now", "12 seconds ago", "3 minutes ago", "in 2 minutes", "yesterday". */
export function relativeTime(iso, now = Date.now()) {
  if (!iso) return '—';
  const diff = (new Date(iso).getTime() - now) / 1000;
  const abs = Math.abs(diff);
  if (abs < 5) return 'just now';
  if (abs < 60) return relative.format(Math.round(diff), 'second');
  if (abs < 3600) return relative.format(Math.round(diff / 60), 'minute');
  if (abs < 86400) return relative.format(Math.round(diff / 3600), 'hour');
  return relative.format(Math.round(diff / 86400), 'day');
}

export function absoluteTime(iso) {
  return iso ? absolute.format(new Date(iso)) : '';
}

/**
 * The health of an integration in one word, with a tone for its badge:
 * good, warn, bad or neutral.
 */
export function health(integration) {
  if (integration.state === 'NEEDS_CREDENTIALS') return { label: 'Needs new key', tone: 'bad' };
  if (integration.state === 'PAUSED' || !integration.enabled) return { label: 'Paused', tone: 'neutral' };
  if (integration.circuitState === 'OPEN') return { label: 'Circuit open', tone: 'bad' };
  if (integration.circuitState === 'HALF_OPEN') return { label: 'Recovering', tone: 'warn' };
  if (integration.syncing) return { label: 'Syncing', tone: 'info' };
  switch (integration.lastSyncStatus) {
    case 'SUCCESS':
      return { label: 'Healthy', tone: 'good' };
    case 'FAILED':
      return { label: 'Failing', tone: 'bad' };
    case 'RUNNING':
      return { label: 'Syncing', tone: 'info' };
    default:
      return { label: 'No syncs yet', tone: 'neutral' };
  }
}

/** The tone of a sync status badge. */
export function statusTone(status) {
  return { SUCCESS: 'good', FAILED: 'bad', RUNNING: 'info' }[status] || 'neutral';
}

/** "every 5 min", "every 90 s", "every 6 h". */
export function every(seconds) {
  if (seconds == null) return '—';
  if (seconds % 3600 === 0) return `every ${seconds / 3600} h`;
  if (seconds % 60 === 0) return `every ${seconds / 60} min`;
  return `every ${seconds} s`;
}

export const severityTones = { INFO: 'info', WARNING: 'warn', ERROR: 'bad', CRITICAL: 'bad' };
export const severityLabels = { INFO: 'Info', WARNING: 'Warning', ERROR: 'Error', CRITICAL: 'Critical' };

export const alertKindLabels = {
  failure: 'Failing syncs',
  stale: 'No recent success',
  credentials: 'Credentials rejected',
  recovery: 'Recovered',
};

/** Whether an alert's email went out, in words with a tone. */
export function delivery(alert) {
  switch (alert.status) {
    case 'SENT':
      return { label: 'Emailed', tone: 'good' };
    case 'PENDING':
      return { label: 'Sending…', tone: 'info' };
    case 'MUTED':
      return { label: 'Muted: not emailed', tone: 'neutral' };
    case 'FAILED':
      return { label: 'Not delivered', tone: 'bad' };
    default:
      return { label: alert.status || '—', tone: 'neutral' };
  }
}
