// Formatting shared by the Drivers and Loads views. A value the vendor did not report
// is null in the API and "—" here, never 0.

/** Hours as "5h 50m"; "—" when unknown (null). */
export function hours(h) {
  if (h == null || Number.isNaN(h)) return '—';
  const m = Math.round(Math.max(h, 0) * 60);
  return `${Math.floor(m / 60)}h ${String(m % 60).padStart(2, '0')}m`;
}

export const dutyLabels = {
  UNKNOWN: 'Unknown',
  OFF_DUTY: 'Off duty',
  SLEEPER_BERTH: 'Sleeper berth',
  DRIVING: 'Driving',
  ON_DUTY: 'On duty',
  YARD_MOVE: 'Yard move',
  PERSONAL_CONVEYANCE: 'Personal conveyance',
};

export const loadStatusLabels = { ASSIGNED: 'Assigned', IN_TRANSIT: 'In transit', DELIVERED: 'Delivered', CANCELLED: 'Cancelled' };

export const sourceLabels = {
  samsara_eld: 'Samsara ELD',
  manual_override: 'Manual override',
  fuelfinder: 'Fuel Finder',
  openweather: 'OpenWeather',
  truckbase_tms: 'Truckbase',
};

/** The planning speed of a trip: a load is flagged when its driver has less drive
 * time left than miles / TRIP_SPEED_MPH hours. */
export const TRIP_SPEED_MPH = 50;

/** Whether a driver's HOS has something unknown: the duty status or a clock. */
export function unknown(hos) {
  if (!hos) return true;
  return hos.dutyStatus === 'UNKNOWN' || hos.driveRemainingHours == null || hos.shiftRemainingHours == null ||
    hos.cycleRemainingHours == null || hos.timeUntilBreakHours == null;
}

/** Whether the vendor reports the driver in violation. */
export function inViolation(hos) {
  return !!hos && ((hos.cycleViolationHours || 0) > 0 || (hos.shiftDrivingViolationHours || 0) > 0);
}

/** "Amarillo, TX"; "—" when neither is known. */
export function place(loc) {
  const parts = [loc && loc.city, loc && loc.state].filter(Boolean);
  return parts.length ? parts.join(', ') : '—';
}

/** "Tue 13:00"; "—" when unknown. */
export function appointment(iso) {
  if (!iso) return '—';
  return new Intl.DateTimeFormat('en-US', { weekday: 'short', hour: '2-digit', minute: '2-digit', hour12: false }).format(new Date(iso));
}

/**
 * Every driver, a page at a time (driverPage, 500 a page): a large fleet's board in one
 * request would exceed the server's cost limit. fields is each driver's selection and
 * must hold driverId; api is the app's GraphQL call.
 */
export async function allDrivers(api, fields, pageSize = 500) {
  const query = `query DriverPage($first: Int, $after: String) { driverPage(first: $first, after: $after) { ${fields} } }`;
  const out = [];
  let after = null;
  for (;;) {
    const page = (await api(query, { first: pageSize, after })).driverPage;
    out.push(...page);
    if (page.length < pageSize) return out;
    after = page[page.length - 1].driverId;
  }
}

