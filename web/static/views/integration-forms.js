// The admin forms of the integrations view: add an integration (test, then save) and
// the settings of one (rename, interval, alert rule, pause/resume, rotate the key,
// mute alerts, delete). Keys are tested with testCredentials before they are stored;
// a key never goes back into the page once saved (only its hint is shown).

import { el, sentence } from '../dom.js';
import * as fmt from '../format.js';

const RESULT = 'success latencyMs message';
export const INTEGRATION_FIELDS =
  'id displayName integrationType vendor enabled syncIntervalSeconds circuitState lastSyncAt lastSyncStatus nextSyncAt ' +
  'state stateReason alertsMutedUntil credentialsHint alertFailureThreshold alertWindowMinutes createdBy { email }';

const Q = {
  testCredentials: `mutation TestCredentials($vendor: Vendor!, $c: CredentialsInput!) {
    testCredentials(vendor: $vendor, credentials: $c) { ${RESULT} } }`,
  create: `mutation CreateIntegration($in: CreateIntegrationInput!) { createIntegration(input: $in) { ${INTEGRATION_FIELDS} } }`,
  update: `mutation UpdateIntegration($id: ID!, $in: UpdateIntegrationInput!) {
    updateIntegration(id: $id, input: $in) { ${INTEGRATION_FIELDS} } }`,
  mute: `mutation Mute($id: ID!, $until: Time) { muteIntegrationAlerts(id: $id, until: $until) { ${INTEGRATION_FIELDS} } }`,
  remove: 'mutation DeleteIntegration($id: ID!) { deleteIntegration(id: $id) }',
};

let uid = 0;

/** A labelled input; extra: attributes of the input. */
function field(label, input, hint) {
  const id = input.id || `f${++uid}`;
  input.id = id;
  const parts = [el('label', { for: id, text: label }), input];
  if (hint) {
    const h = el('p', { class: 'hint', id: `${id}-hint`, text: hint });
    input.setAttribute('aria-describedby', h.id);
    parts.push(h);
  }
  return el('div', { class: 'field' }, ...parts);
}

function message(kind, text) {
  return el('p', { class: 'message', 'data-tone': kind, role: kind === 'bad' ? 'alert' : 'status', text });
}

/**
 * The key fields with their Test button: the vendor's key (and Truckbase's secret),
 * tested with testCredentials. state() says whether the key now in the fields passed.
 */
function keyTester(app, { vendor, prefix }) {
  const key = el('input', { id: `${prefix}-key`, type: 'password', autocomplete: 'off', spellcheck: 'false', required: true });
  const secret = el('input', { id: `${prefix}-secret`, type: 'password', autocomplete: 'off', spellcheck: 'false' });
  const secretField = field('API secret', secret, "Truckbase's second credential.");
  const result = el('div', { id: `${prefix}-test-result`, class: 'test-result', 'aria-live': 'polite' });
  const test = el('button', { id: `${prefix}-test`, type: 'button', class: 'button', text: 'Test' });
  let current = vendor;
  let verdict = null; // { passed, for: "<vendor>\n<key>\n<secret>" }
  const signature = () => `${current}\n${key.value}\n${secret.value}`;
  const onChange = new Set();
  const changed = () => {
    if (verdict && verdict.for !== signature()) {
      verdict = null;
      result.replaceChildren();
    }
    for (const fn of onChange) fn();
  };
  key.addEventListener('input', changed);
  secret.addEventListener('input', changed);
  const setVendor = (v) => {
    current = v;
    secretField.hidden = v !== 'TRUCKBASE_TMS';
    changed();
  };
  setVendor(vendor);

  test.addEventListener('click', async () => {
    if (!key.value) {
      result.replaceChildren(message('bad', 'Enter the API key first.'));
      key.focus();
      return;
    }
    const sig = signature();
    test.disabled = true;
    test.textContent = 'Testing…';
    result.replaceChildren(message('info', 'Calling the vendor once with this key…'));
    try {
      const data = await app.api(Q.testCredentials, { vendor: current, c: credentials() });
      const r = data.testCredentials;
      if (sig !== signature()) return; // edited meanwhile: that answer is about another key
      verdict = { passed: r.success, for: sig };
      result.replaceChildren(r.success
        ? message('good', `Connection OK: ${fmt.vendorLabel(current)} accepted the key and answered in ${fmt.duration(r.latencyMs)}.`)
        : message('bad', `${fmt.vendorLabel(current)} refused: ${sentence(r.message) || 'no reason given.'} (${fmt.duration(r.latencyMs)})`));
    } catch (e) {
      result.replaceChildren(message('bad', `Could not test the key. ${sentence(e.message)}`));
    } finally {
      test.disabled = false;
      test.textContent = 'Test';
      for (const fn of onChange) fn();
    }
  });

  function credentials() {
    const c = { apiKey: key.value };
    if (current === 'TRUCKBASE_TMS' && secret.value) c.apiSecret = secret.value;
    return c;
  }

  return {
    fields: [field('API key', key, 'Stored encrypted; only its last characters are ever shown again.'), secretField],
    test,
    result,
    key,
    credentials,
    setVendor,
    onChange: (fn) => onChange.add(fn),
    /** null: not tested; true/false: the key in the fields passed or failed. */
    passed: () => (verdict && verdict.for === signature() ? verdict.passed : null),
    clear() {
      key.value = '';
      secret.value = '';
      changed();
    },
  };
}

/**
 * Save buttons that follow a key test: "Save" after a passing test; after a failing
 * (or no) test, "Save anyway" with a warning, for an admin who knows better.
 */
function saveControls(tester, { label, anywayLabel, warning }) {
  const save = el('button', { type: 'submit', class: 'button primary', text: label });
  const warn = el('p', { class: 'message', 'data-tone': 'warn', role: 'status', hidden: true, text: warning });
  const sync = () => {
    const passed = tester.passed();
    save.textContent = passed || !tester.key.value ? label : anywayLabel;
    save.classList.toggle('primary', passed === true);
    save.classList.toggle('danger', passed === false && !!tester.key.value);
    save.disabled = !tester.key.value;
    warn.hidden = passed === true || !tester.key.value; // untested or failed: say what saving means
  };
  tester.onChange(sync);
  sync();
  return { save, warn, sync };
}

function minutesInput(id, seconds, min, max) {
  return el('input', { id, type: 'number', min, max, step: 'any', value: String(Math.round((seconds / 60) * 100) / 100), required: true, inputmode: 'decimal' });
}

function intInput(id, value, min, max) {
  return el('input', { id, type: 'number', min, max, step: '1', value: String(value), required: true, inputmode: 'numeric' });
}

/** Reads the settings fields into an input for the API; throws a message when invalid. */
function readSettings(f) {
  const minutes = Number(f.interval.value);
  const seconds = Math.round(minutes * 60);
  if (!Number.isFinite(minutes) || seconds < 60 || seconds > 86400) throw new Error('Sync every: between 1 and 1440 minutes.');
  const threshold = Number(f.threshold.value);
  if (!Number.isInteger(threshold) || threshold < 1 || threshold > 100) throw new Error('Alert after: 1 to 100 failed syncs.');
  const window = Number(f.window.value);
  if (!Number.isInteger(window) || window < 5 || window > 1440) throw new Error('Within: 5 to 1440 minutes.');
  const name = f.name.value.trim();
  if (!name || name.length > 100) throw new Error('Name: 1 to 100 characters.');
  return { displayName: name, syncIntervalSeconds: seconds, alertFailureThreshold: threshold, alertWindowMinutes: window };
}

/** The add-integration form. onSaved(integration) after createIntegration. */
export function addForm(app, { onSaved, onCancel }) {
  const vendor = el('select', { id: 'add-vendor' },
    ...Object.keys(fmt.vendorTypes).map((v) => el('option', { value: v, text: `${fmt.vendorLabel(v)} — ${fmt.typeLabels[fmt.vendorTypes[v]] || fmt.vendorTypes[v]}` })));
  const type = el('p', { id: 'add-type', class: 'muted small' });
  const f = {
    name: el('input', { id: 'add-name', type: 'text', maxlength: '100', required: true, autocomplete: 'off' }),
    interval: minutesInput('add-interval', 300, 1, 1440),
    threshold: intInput('add-threshold', 3, 1, 100),
    window: intInput('add-window', 60, 5, 1440),
  };
  const tester = keyTester(app, { vendor: vendor.value, prefix: 'add' });
  const controls = saveControls(tester, {
    label: 'Save', anywayLabel: 'Save anyway',
    warning: 'This key has not passed a test. Saved anyway, its syncs fail until the vendor accepts it, and after a few rejected syncs the integration pauses and the admins get an email.',
  });
  const error = el('p', { id: 'add-error', class: 'message', 'data-tone': 'bad', role: 'alert', hidden: true });
  let autoName = true;
  f.name.addEventListener('input', () => { autoName = false; });
  const onVendor = () => {
    type.textContent = `Type: ${fmt.typeLabels[fmt.vendorTypes[vendor.value]] || fmt.vendorTypes[vendor.value]} (follows the vendor)`;
    if (autoName) f.name.value = fmt.vendorLabel(vendor.value);
    tester.setVendor(vendor.value);
  };
  vendor.addEventListener('change', onVendor);
  onVendor();

  const form = el('form', { id: 'add-form', class: 'card form-card', novalidate: true, 'aria-labelledby': 'add-title' },
    el('h1', { id: 'add-title', text: 'Add an integration' }),
    el('p', { class: 'muted', text: 'Test the key with the vendor, then save: the first sync starts at once.' }),
    field('Vendor', vendor), type,
    field('Name', f.name, 'Unique in your fleet, as dispatchers will see it.'),
    ...tester.fields,
    el('div', { class: 'row-actions' }, tester.test),
    tester.result,
    el('fieldset', { class: 'inline-fields' },
      el('legend', { text: 'Schedule and alerts' }),
      field('Sync every (minutes)', f.interval),
      field('Alert after (failed syncs)', f.threshold),
      field('Within (minutes)', f.window)),
    controls.warn,
    error,
    el('div', { class: 'row-actions' },
      controls.save,
      el('button', { type: 'button', class: 'button ghost', onclick: onCancel, text: 'Cancel' })));

  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    error.hidden = true;
    let settings;
    try {
      settings = readSettings(f);
    } catch (e) {
      error.textContent = e.message;
      error.hidden = false;
      return;
    }
    controls.save.disabled = true;
    try {
      const data = await app.api(Q.create, {
        in: { vendor: vendor.value, integrationType: fmt.vendorTypes[vendor.value], credentials: tester.credentials(), ...settings },
      });
      tester.clear();
      onSaved(data.createIntegration);
    } catch (e) {
      error.textContent = `Not saved. ${sentence(e.message)}`;
      error.hidden = false;
      controls.sync();
    }
  });
  return { el: form, focus: () => vendor.focus() };
}

/** "in 1 h" buttons and a date for muting alerts. */
function muteSection(app, get, onChanged) {
  const status = el('p', { id: 'mute-status', class: 'muted small', 'aria-live': 'polite' });
  const until = el('input', { id: 'mute-until', type: 'datetime-local' });
  const result = el('div', { 'aria-live': 'polite' });
  const run = async (date) => {
    result.replaceChildren();
    try {
      const data = await app.api(Q.mute, { id: get().id, until: date ? date.toISOString() : null });
      onChanged(data.muteIntegrationAlerts);
    } catch (e) {
      result.replaceChildren(message('bad', sentence(e.message)));
    }
  };
  const hours = (h) => el('button', {
    type: 'button', class: 'button small', 'data-mute': `${h}h`, text: `${h} h`,
    onclick: () => run(new Date(Date.now() + h * 3600 * 1000)),
  });
  const unmute = el('button', { id: 'unmute', type: 'button', class: 'button small', text: 'Unmute', onclick: () => run(null) });
  const untilButton = el('button', {
    type: 'button', class: 'button small', 'data-mute': 'until', text: 'Mute until',
    onclick: () => {
      const d = until.value ? new Date(until.value) : null;
      if (!d || Number.isNaN(d.getTime())) {
        result.replaceChildren(message('bad', 'Pick the date and time alerts resume.'));
        return;
      }
      run(d);
    },
  });
  const section = el('section', { class: 'settings-section', 'aria-labelledby': 'mute-title' },
    el('h3', { id: 'mute-title', text: 'Mute alert emails' }),
    el('p', { class: 'muted small', text: 'Alerts are still recorded and listed; no email goes out until then (nor later for what happened meanwhile).' }),
    status,
    el('div', { class: 'row-actions' }, hours(1), hours(8), hours(24), unmute),
    el('div', { class: 'row-actions' }, field('Until', until), untilButton),
    result);
  return {
    el: section,
    update(i) {
      const muted = i.alertsMutedUntil;
      status.textContent = muted ? `Muted until ${fmt.absoluteTime(muted)}.` : 'Not muted: alert emails go out.';
      unmute.hidden = !muted;
    },
  };
}

/**
 * The settings of an integration. get() returns the integration shown; onChanged(i)
 * gets the updated one; onDeleted() after the delete.
 */
export function settingsPanel(app, { get, onChanged, onDeleted }) {
  const f = {
    name: el('input', { id: 'set-name', type: 'text', maxlength: '100', required: true, autocomplete: 'off' }),
    interval: minutesInput('set-interval', 300, 1, 1440),
    threshold: intInput('set-threshold', 3, 1, 100),
    window: intInput('set-window', 60, 5, 1440),
  };
  const generalResult = el('div', { 'aria-live': 'polite' });
  const general = el('form', { id: 'settings-form', class: 'settings-section', novalidate: true, 'aria-labelledby': 'general-title' },
    el('h3', { id: 'general-title', text: 'General' }),
    field('Name', f.name),
    el('div', { class: 'inline-fields' },
      field('Sync every (minutes)', f.interval),
      field('Alert after (failed syncs)', f.threshold),
      field('Within (minutes)', f.window)),
    generalResult,
    el('div', { class: 'row-actions' }, el('button', { id: 'settings-save', type: 'submit', class: 'button primary', text: 'Save changes' })));
  general.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    generalResult.replaceChildren();
    let input;
    try {
      input = readSettings(f);
    } catch (e) {
      generalResult.replaceChildren(message('bad', e.message));
      return;
    }
    try {
      const data = await app.api(Q.update, { id: get().id, in: input });
      onChanged(data.updateIntegration);
      generalResult.replaceChildren(message('good', 'Saved.'));
    } catch (e) {
      generalResult.replaceChildren(message('bad', `Not saved. ${sentence(e.message)}`));
    }
  });

  // Pause and resume.
  const pauseText = el('p', { class: 'muted small' });
  const pause = el('button', { id: 'pause-toggle', type: 'button', class: 'button' });
  const pauseResult = el('div', { 'aria-live': 'polite' });
  pause.addEventListener('click', async () => {
    const i = get();
    pause.disabled = true;
    pauseResult.replaceChildren();
    try {
      const data = await app.api(Q.update, { id: i.id, in: { enabled: !i.enabled } });
      onChanged(data.updateIntegration);
    } catch (e) {
      pauseResult.replaceChildren(message('bad', sentence(e.message)));
    } finally {
      pause.disabled = false;
    }
  });
  const pauseSection = el('section', { class: 'settings-section', 'aria-labelledby': 'pause-title' },
    el('h3', { id: 'pause-title', text: 'Syncing' }), pauseText, el('div', { class: 'row-actions' }, pause), pauseResult);

  // Rotate the key: tested before it replaces the stored one.
  const tester = keyTester(app, { vendor: 'SAMSARA_ELD', prefix: 'rotate' });
  const controls = saveControls(tester, {
    label: 'Replace the key', anywayLabel: 'Replace anyway',
    warning: 'This key has not passed a test: replacing the stored key with it may leave the integration failing.',
  });
  const hint = el('p', { id: 'key-hint', class: 'muted small' });
  const rotateResult = el('div', { 'aria-live': 'polite' });
  const rotate = el('form', { id: 'rotate-form', class: 'settings-section', novalidate: true, 'aria-labelledby': 'rotate-title' },
    el('h3', { id: 'rotate-title', text: 'API key' }), hint,
    ...tester.fields,
    el('div', { class: 'row-actions' }, tester.test),
    tester.result, controls.warn, rotateResult,
    el('div', { class: 'row-actions' }, controls.save));
  rotate.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    rotateResult.replaceChildren();
    if (!tester.key.value) return;
    controls.save.disabled = true;
    try {
      const data = await app.api(Q.update, { id: get().id, in: { credentials: tester.credentials() } });
      tester.clear();
      onChanged(data.updateIntegration);
      rotateResult.replaceChildren(message('good', 'Key replaced: the integration syncs with it now.'));
    } catch (e) {
      rotateResult.replaceChildren(message('bad', `Not replaced. ${sentence(e.message)}`));
      controls.sync();
    }
  });

  const mute = muteSection(app, get, onChanged);

  // Delete after typing the name.
  const confirm = el('input', { id: 'delete-confirm', type: 'text', autocomplete: 'off', spellcheck: 'false' });
  const del = el('button', { id: 'delete-integration', type: 'submit', class: 'button danger', text: 'Delete integration', disabled: true });
  const delLabel = el('span');
  const delResult = el('div', { 'aria-live': 'polite' });
  confirm.addEventListener('input', () => { del.disabled = confirm.value !== get().displayName; });
  const remove = el('form', { id: 'delete-form', class: 'settings-section danger-zone', novalidate: true, 'aria-labelledby': 'delete-title' },
    el('h3', { id: 'delete-title', text: 'Delete' }),
    el('p', { class: 'muted small', text: 'Deletes the integration with its sync history, drivers and loads. Its alerts stay, without it. This cannot be undone.' }),
    el('div', { class: 'field' }, el('label', { for: 'delete-confirm' }, delLabel), confirm),
    delResult,
    el('div', { class: 'row-actions' }, del));
  remove.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    if (confirm.value !== get().displayName) return;
    del.disabled = true;
    try {
      await app.api(Q.remove, { id: get().id });
      onDeleted();
    } catch (e) {
      delResult.replaceChildren(message('bad', `Not deleted. ${sentence(e.message)}`));
      del.disabled = false;
    }
  });

  const panel = el('div', { id: 'settings-panel', class: 'card settings-panel', 'aria-labelledby': 'settings-title' },
    el('h2', { id: 'settings-title', text: 'Settings' }),
    general, pauseSection, rotate, mute.el, remove);

  let shownId = null;
  return {
    el: panel,
    /** Shows integration i; the form fields are reset when it is another one. */
    update(i) {
      if (i.id !== shownId) {
        shownId = i.id;
        f.name.value = i.displayName;
        f.interval.value = String(Math.round((i.syncIntervalSeconds / 60) * 100) / 100);
        f.threshold.value = String(i.alertFailureThreshold);
        f.window.value = String(i.alertWindowMinutes);
        generalResult.replaceChildren();
        rotateResult.replaceChildren();
        pauseResult.replaceChildren();
        delResult.replaceChildren();
        confirm.value = '';
        tester.clear();
        tester.setVendor(i.vendor);
      }
      del.disabled = confirm.value !== i.displayName;
      delLabel.textContent = `Type "${i.displayName}" to confirm`;
      hint.textContent = `The stored key ends in ${i.credentialsHint.replace(/^•+/, '')}. Enter a new one, test it, then replace.`;
      pause.textContent = i.enabled ? 'Pause' : 'Resume';
      pause.classList.toggle('primary', !i.enabled);
      pauseText.textContent = i.enabled
        ? `Syncs ${fmt.every(i.syncIntervalSeconds)}. Pausing stops its syncs until resumed.`
        : 'Paused: no syncs run. Resuming syncs it at once.';
      mute.update(i);
    },
    /** Opens the key form (the NEEDS_CREDENTIALS banner's "Enter a new key"). */
    focusKey() {
      rotate.scrollIntoView({ block: 'center' });
      tester.key.focus();
    },
  };
}
