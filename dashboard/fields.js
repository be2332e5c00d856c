// The fields of a monitor definition in a form: built once here for both the add form and the
// edit form of a detail panel, read into API bodies, and filled from a monitor.
//
// Reading gives a normalised definition (every field present; `null` for "not set"), the same
// shape `normalise(monitor)` gives for a monitor from the API, so an edit sends only the
// fields whose normalised values differ.

import { el, field, num, str } from './util.js';
import { notifierChoice } from './notifiers.js';

const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'];
const DEFAULT_METHOD = 'GET';

/** Fields a tcp:// check refuses; disabled (and read as unset) while the URL is tcp://. */
const HTTP_ONLY = 'http';
/** Fields only an https:// check takes. */
const HTTPS_ONLY = 'https';

function input(label, name, props, cls) {
  return el('label', { class: cls || '' }, label, el('input', { name, ...props }));
}

function numberInput(label, name, min, props, cls) {
  return input(label, name, { type: 'number', min: String(min), step: '1', inputMode: 'numeric', ...props }, cls);
}

function textArea(label, name, props) {
  return el('label', { class: 'wide' }, label, el('textarea', { name, rows: 3, spellcheck: false, ...props }));
}

/**
 * The URL, name, interval and timeout fields and the "active" switch (pause/resume) of the
 * edit form; the add form has its own fields in the page and creates active monitors.
 */
export function basicFields() {
  return [
    input('URL', 'url', { type: 'url', required: true, placeholder: 'https://example.com/health' }, 'f-url'),
    input('Name', 'name', { type: 'text', maxLength: 200 }, 'f-name'),
    numberInput('Interval (s)', 'interval_secs', 1, { required: true }, 'f-num'),
    numberInput('Timeout (ms)', 'timeout_ms', 1, { required: true }, 'f-num'),
    el('label', { class: 'check' }, el('input', { type: 'checkbox', name: 'active' }), 'Active (unticked: paused, not probed)'),
  ];
}

/**
 * The assertion, request, alerting and threshold fields, as one element to put in a form.
 * Returns `{ root, notifiers }`; `notifiers` is the notifier choice (see notifiers.js).
 */
export function advancedFields() {
  const method = el(
    'select',
    { name: 'method' },
    ...METHODS.map((m) => el('option', { value: m, text: m, defaultSelected: m === DEFAULT_METHOD })),
  );
  const notifiers = notifierChoice();
  const root = el(
    'div',
    { class: 'mon-fields' },
    el(
      'fieldset',
      { class: 'group', 'data-kind': HTTP_ONLY },
      el('legend', { text: 'Response must' }),
      input('Have status', 'expect_status', { type: 'text', placeholder: '200-299, 301 (default: 2xx, 3xx)' }),
      input('Contain text', 'expect_body_contains', { type: 'text', maxLength: 1024 }),
      input('Not contain text', 'expect_body_not_contains', { type: 'text', maxLength: 1024 }),
    ),
    el(
      'fieldset',
      { class: 'group' },
      el('legend', { text: 'Timing and certificate' }),
      numberInput('Max response (ms)', 'max_response_ms', 1, { placeholder: 'no limit' }),
      el(
        'fieldset',
        { class: 'plain', 'data-kind': HTTPS_ONLY },
        numberInput('TLS cert valid for at least (days)', 'tls_min_days', 0, { placeholder: 'https only' }),
      ),
      el(
        'fieldset',
        { class: 'plain', 'data-kind': HTTP_ONLY },
        el('label', { class: 'check' }, el('input', { type: 'checkbox', name: 'tls_skip_verify' }), 'Skip TLS certificate verification'),
      ),
    ),
    el(
      'fieldset',
      { class: 'group' },
      el('legend', { text: 'Status decision' }),
      numberInput('Down after failures in a row', 'failure_threshold', 1, { placeholder: '2' }),
      numberInput('Up after successes in a row', 'recovery_threshold', 1, { placeholder: '1' }),
    ),
    el(
      'fieldset',
      { class: 'group' },
      el('legend', { text: 'Reminders and badges' }),
      input('Remind while down, every', 'repeat_every', { type: 'text', placeholder: '30m, 1h (empty: no reminders)' }),
      el('label', { class: 'check' }, el('input', { type: 'checkbox', name: 'public_badges' }), 'Public badges (no token needed)'),
    ),
    el(
      'fieldset',
      { class: 'group' },
      el('legend', { text: 'Locations' }),
      input('Probe from zones', 'zones', { type: 'text', placeholder: 'all, or eu, us (empty: once in the cluster)' }),
      numberInput('Down when this many zones see it down', 'quorum', 1, { placeholder: 'a majority' }),
    ),
    el(
      'fieldset',
      { class: 'group wide', 'data-kind': HTTP_ONLY },
      el('legend', { text: 'Request' }),
      el('label', null, 'Method', method),
      textArea('Headers, one "Name: value" per line', 'headers', { placeholder: 'Authorization: Bearer …' }),
      input('Secret headers (names; shown as ***)', 'secret_headers', {
        type: 'text',
        placeholder: 'X-Tenant, X-Signature (Authorization, Cookie, *token*, *key* always are)',
      }),
      textArea('Body', 'body', {}),
      el('label', { class: 'check' }, el('input', { type: 'checkbox', name: 'secret_body' }), 'Body is secret (shown as ***)'),
    ),
    notifiers.root,
    el('p', { class: 'muted hint wide', 'data-hint': 'kind' }),
  );
  return { root, notifiers };
}

/** Enables the fields that fit the URL's scheme; call when the URL changes. */
export function syncKind(form) {
  const url = field(form, 'url').value.trim().toLowerCase();
  const tcp = url.startsWith('tcp:');
  const https = url.startsWith('https:');
  for (const fs of form.querySelectorAll('fieldset[data-kind]')) {
    fs.disabled = fs.dataset.kind === HTTP_ONLY ? tcp : !https;
  }
  const hint = form.querySelector('[data-hint=kind]');
  if (hint) {
    hint.textContent = tcp ? 'A tcp:// check only connects: response, request and TLS fields do not apply.' : '';
  }
}

// ---------- reading ----------

/** Whether a control is off, by itself or through a disabled fieldset around it. */
const off = (control) => !control || control.matches(':disabled');

/** A whole number of at least `min`, or null when empty; throws for anything else. */
function wholeNumber(form, name, label, min) {
  const control = field(form, name);
  if (off(control)) return null;
  const raw = control.value.trim();
  if (control.validity && control.validity.badInput) throw new Error(`${label} must be a number.`);
  if (!raw) return null;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min) throw new Error(`${label} must be a whole number of at least ${min}.`);
  return n;
}

/** "200-299, 301" -> ["200-299", 301]; the server checks the ranges. */
function parseStatuses(text) {
  const out = [];
  for (const token of text.split(/[\s,]+/).filter(Boolean)) {
    if (/^\d+$/.test(token)) out.push(Number(token));
    else if (/^\d+-\d+$/.test(token)) out.push(token);
    else throw new Error(`Status "${token}" is not a code like 200 or a range like 200-299.`);
  }
  return out.length ? out : null;
}

/** "Name: value" lines -> an object in line order; blank lines are skipped. */
function parseHeaders(text) {
  const out = {};
  const seen = new Set();
  text.split(/\r?\n/).forEach((line, i) => {
    if (!line.trim()) return;
    const colon = line.indexOf(':');
    const name = colon > 0 ? line.slice(0, colon).trim() : '';
    if (!name) throw new Error(`Headers, line ${i + 1}: write "Name: value".`);
    if (seen.has(name.toLowerCase())) throw new Error(`Headers: ${name} is given twice.`);
    seen.add(name.toLowerCase());
    out[name] = line.slice(colon + 1).trim();
  });
  return seen.size ? out : null;
}

/** "all" -> "all"; "eu, us" -> ["eu", "us"]; the server checks the names. */
function parseZones(text) {
  if (text.trim().toLowerCase() === 'all') return 'all';
  return parseNames(text);
}

/** A monitor's `zones` as the form shows it. */
function formatZones(zones) {
  if (zones === 'all') return 'all';
  return Array.isArray(zones) ? zones.join(', ') : '';
}

/** "X-A, X-B" -> ["X-A", "X-B"], or null when empty; the server checks the names. */
function parseNames(text) {
  const names = text.split(/[\s,]+/).filter(Boolean);
  return names.length ? names : null;
}

function formatHeaders(headers) {
  if (!headers || typeof headers !== 'object') return '';
  return Object.entries(headers)
    .map(([name, value]) => `${name}: ${str(value)}`)
    .join('\n');
}

/** The text of a control, or null when it is empty or does not apply (disabled). */
function text(form, name, { trim = true } = {}) {
  const control = field(form, name);
  if (off(control)) return null;
  const value = trim ? control.value.trim() : control.value;
  return value.trim() ? value : null;
}

/**
 * The definition a form describes, normalised; throws an Error whose message is for the user.
 * `notifiers` is the form's notifier choice.
 */
export function readMonitor(form, notifiers) {
  const url = text(form, 'url');
  if (!url) throw new Error('URL is required.');
  const statuses = text(form, 'expect_status');
  const headers = text(form, 'headers', { trim: false });
  const skip = field(form, 'tls_skip_verify');
  const secretBody = field(form, 'secret_body');
  const secretHeaders = text(form, 'secret_headers');
  const active = field(form, 'active'); // only in the edit form
  const zones = text(form, 'zones');
  // Without zones there is no quorum: clearing the zones clears it too.
  const quorum = zones === null ? null : wholeNumber(form, 'quorum', 'Zones that must see it down', 1);
  const publicBadges = field(form, 'public_badges');
  return {
    url,
    name: text(form, 'name'),
    interval_secs: wholeNumber(form, 'interval_secs', 'Interval', 1),
    timeout_ms: wholeNumber(form, 'timeout_ms', 'Timeout', 1),
    active: active ? active.checked : null,
    expect_status: statuses === null ? null : parseStatuses(statuses),
    expect_body_contains: text(form, 'expect_body_contains', { trim: false }),
    expect_body_not_contains: text(form, 'expect_body_not_contains', { trim: false }),
    max_response_ms: wholeNumber(form, 'max_response_ms', 'Max response', 1),
    method: off(field(form, 'method')) ? DEFAULT_METHOD : field(form, 'method').value,
    headers: headers === null ? null : parseHeaders(headers),
    secret_headers: secretHeaders === null ? null : parseNames(secretHeaders),
    body: text(form, 'body', { trim: false }),
    secret_body: !off(secretBody) && secretBody.checked,
    tls_min_days: wholeNumber(form, 'tls_min_days', 'TLS days', 0),
    tls_skip_verify: !off(skip) && skip.checked,
    failure_threshold: wholeNumber(form, 'failure_threshold', 'Failures in a row', 1),
    recovery_threshold: wholeNumber(form, 'recovery_threshold', 'Successes in a row', 1),
    notifiers: notifiers.get(),
    zones: zones === null ? null : parseZones(zones),
    quorum,
    repeat_every: text(form, 'repeat_every'),
    public_badges: publicBadges.checked,
  };
}

/** A monitor from the API in the shape `readMonitor` gives. */
export function normalise(m) {
  const list = (v) => (Array.isArray(v) && v.length ? v : null);
  const object = (v) => (v && typeof v === 'object' && Object.keys(v).length ? v : null);
  const orNull = (v) => (v === undefined || v === '' ? null : v);
  return {
    url: str(m.url),
    name: orNull(m.name),
    interval_secs: num(m.interval_secs),
    timeout_ms: num(m.timeout_ms),
    active: m.active !== false,
    expect_status: list(m.expect_status),
    expect_body_contains: orNull(m.expect_body_contains),
    expect_body_not_contains: orNull(m.expect_body_not_contains),
    max_response_ms: num(m.max_response_ms),
    method: str(m.method) || DEFAULT_METHOD,
    headers: object(m.headers),
    secret_headers: list(m.secret_headers),
    body: orNull(m.body),
    secret_body: m.secret_body === true,
    tls_min_days: num(m.tls_min_days),
    tls_skip_verify: m.tls_skip_verify === true,
    failure_threshold: num(m.failure_threshold),
    recovery_threshold: num(m.recovery_threshold),
    notifiers: Array.isArray(m.notifiers) ? m.notifiers : null,
    zones: m.zones === 'all' ? 'all' : list(m.zones),
    quorum: num(m.quorum),
    repeat_every: orNull(m.repeat_every),
    public_badges: m.public_badges === true,
  };
}

/** The POST body for a new monitor: unset fields are left out, so server defaults apply. */
export function createBody(def) {
  const body = {};
  for (const [key, value] of Object.entries(def)) {
    if (value === null || value === false) continue;
    if (key === 'method' && value === DEFAULT_METHOD) continue;
    body[key] = value;
  }
  return body;
}

/** Fields that cannot be cleared: left empty (or absent) in a form, they keep their value. */
const REQUIRED = ['url', 'interval_secs', 'timeout_ms', 'active', 'failure_threshold', 'recovery_threshold'];

/** Notifier ids, headers, secret header names and zones are sets to the server: their order is no change. */
function canonical(key, v) {
  if (key === 'notifiers' && Array.isArray(v)) return JSON.stringify(v.map(String).sort());
  if (key === 'headers' && v) return JSON.stringify(Object.entries(v).sort());
  if (key === 'secret_headers' && Array.isArray(v)) return JSON.stringify(v.map((n) => n.toLowerCase()).sort());
  if (key === 'zones' && Array.isArray(v)) return JSON.stringify([...new Set(v.map(String))].sort());
  return JSON.stringify(v);
}

/** The PATCH body that turns `base` (normalised) into `def`: changed fields only, null clears. */
export function patchBody(base, def) {
  const patch = {};
  for (const [key, value] of Object.entries(def)) {
    if (value === null && REQUIRED.includes(key)) continue;
    // An emptied name goes back to the create default: the URL.
    const wanted = key === 'name' && value === null ? def.url : value;
    if (canonical(key, base[key]) !== canonical(key, wanted)) patch[key] = wanted;
  }
  return patch;
}

/** Shows a monitor's definition in a form built from `basicFields` and `advancedFields`. */
export function fillMonitor(form, notifiers, m) {
  const d = normalise(m);
  const set = (name, value) => {
    field(form, name).value = value === null || value === undefined ? '' : String(value);
  };
  for (const key of ['url', 'name', 'interval_secs', 'timeout_ms', 'expect_body_contains', 'expect_body_not_contains', 'max_response_ms', 'body', 'tls_min_days', 'failure_threshold', 'recovery_threshold']) {
    set(key, d[key]);
  }
  set('expect_status', (d.expect_status || []).join(', '));
  set('method', d.method);
  set('headers', formatHeaders(d.headers));
  set('secret_headers', (d.secret_headers || []).join(', '));
  set('zones', formatZones(d.zones));
  set('quorum', d.quorum);
  set('repeat_every', d.repeat_every);
  field(form, 'public_badges').checked = d.public_badges;
  field(form, 'tls_skip_verify').checked = d.tls_skip_verify;
  field(form, 'secret_body').checked = d.secret_body;
  field(form, 'active').checked = d.active;
  notifiers.set(d.notifiers);
  syncKind(form);
}
