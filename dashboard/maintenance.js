// Maintenance windows: owns the "Maintenance" panel (list, add, edit, delete). A window is
// one-off (start and end, entered in the browser's local time) or recurring (a 5-field cron
// read in an IANA time zone, each occurrence lasting a number of minutes). While a window
// covers a monitor the node shows it as `maintenance`; app.js draws that badge like any status.
//
// The list is small, so it is reloaded whole: at start, after this user's changes, every
// MAINTENANCE_POLL_MS while the tab is visible, and when the next window starts or ends (the
// monitor table then refreshes too, through `onBoundary`).

import { $, api, clockTime, el, enc, failureText, field, num, setMsg, str, submitForm } from './util.js';

const MAINTENANCE_POLL_MS = 10000;

let list = null; // the windows as last loaded
let busy = false;
let editing = null; // the id of the window the form edits, or null when it adds one
let boundaryTimer = 0;
let boundaryListener = () => {};

/** Reloads the list; failures show in the panel and keep the last list. */
async function loadWindows() {
  if (busy) return;
  busy = true;
  try {
    const { data } = await api('GET', 'api/maintenance');
    const fresh = Array.isArray(data) ? data.filter((w) => w && typeof w.id === 'string') : [];
    if (JSON.stringify(fresh) !== JSON.stringify(list)) {
      list = fresh;
      renderList();
    }
    armBoundary();
  } catch (e) {
    setMsg($('maintenance-list-msg'), `Cannot load maintenance windows: ${failureText(e)}`, false);
  } finally {
    busy = false;
  }
}

/** Reloads at the next start or end of a window, so badges change when the window does. */
function armBoundary() {
  clearTimeout(boundaryTimer);
  const now = Date.now();
  const edges = (list || [])
    .flatMap((w) => [w.active_now ? null : num(w.next_start_ms), num(w.next_end_ms)])
    .filter((t) => t !== null && t > now);
  if (edges.length === 0) return;
  const wait = Math.min(Math.min(...edges) - now + 500, 2 ** 31 - 1);
  boundaryTimer = setTimeout(() => {
    boundaryListener();
    loadWindows();
  }, wait);
}

// ---------- list ----------

const minutes = (secs) => (secs % 60 === 0 ? `${secs / 60} min` : `${secs} s`);

/** When a window is in force, for people. */
function when(w) {
  if (w.cron) return `cron "${str(w.cron)}" (${str(w.timezone)}), ${minutes(num(w.duration_secs) || 0)} each`;
  return `${clockTime(w.start_ms)} – ${clockTime(w.end_ms)}`;
}

function state(w) {
  if (w.active === false) return 'inactive';
  if (w.active_now) return `in force until ${clockTime(w.next_end_ms)}`;
  if (num(w.next_start_ms) !== null) return `next ${clockTime(w.next_start_ms)}`;
  return 'over';
}

const scope = (w) => (Array.isArray(w.monitors) ? `${w.monitors.length} monitor${w.monitors.length === 1 ? '' : 's'}: ${w.monitors.join(', ')}` : 'all monitors');

function renderList() {
  const items = (list || []).map((w) => {
    const title = str(w.title) || w.id;
    const edit = el('button', { type: 'button', class: 'w', text: 'Edit', 'aria-label': `Edit maintenance ${title}` });
    const del = el('button', { type: 'button', class: 'danger w', text: 'Delete', 'aria-label': `Delete maintenance ${title}` });
    edit.addEventListener('click', () => startEdit(w));
    del.addEventListener('click', () => deleteWindow(w, del));
    return el(
      'li',
      { class: w.active_now ? 'window now' : 'window', 'data-id': w.id },
      el(
        'div',
        { class: 'window-main' },
        el('span', { class: 'window-title', text: title }),
        el('span', { class: w.active_now ? 'badge b-maintenance' : 'kind', text: state(w) }),
        el('div', { class: 'window-when muted', text: when(w) }),
        el('div', { class: 'window-scope muted', text: scope(w) }),
      ),
      el('div', { class: 'window-actions' }, edit, del),
    );
  });
  $('maintenance-list').replaceChildren(...items);
  $('maintenance-empty').hidden = items.length > 0;
}

async function deleteWindow(w, button) {
  const title = str(w.title) || w.id;
  if (!window.confirm(`Delete maintenance window "${title}"?`)) return;
  button.disabled = true;
  try {
    await api('DELETE', `api/maintenance/${enc(w.id)}`);
    setMsg($('maintenance-list-msg'), `Deleted ${title}`, true);
    if (editing === w.id) stopEdit();
    await loadWindows();
    boundaryListener();
  } catch (e) {
    button.disabled = false;
    setMsg($('maintenance-list-msg'), `Delete failed: ${failureText(e)}`, false);
  }
}

// ---------- the form (add and edit) ----------

/** A `datetime-local` value for unix ms, in the browser's time zone. */
function localInput(msValue) {
  if (num(msValue) === null) return '';
  const d = new Date(msValue);
  const pad = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

function switchKind(form) {
  const kind = field(form, 'kind').value;
  for (const group of form.querySelectorAll('[data-kind]')) {
    const shown = group.dataset.kind === kind;
    group.hidden = !shown;
    group.disabled = !shown;
  }
  field(form, 'monitor_ids').disabled = field(form, 'all_monitors').checked;
}

/** The body of the form; every field of the other kind is `null` (a PATCH then removes it). */
function windowBody(form) {
  const text = (name) => field(form, name).value.trim();
  const body = { title: text('title'), start_ms: null, end_ms: null, cron: null, duration_secs: null, timezone: null };
  if (!body.title) throw new Error('Title is required.');
  if (field(form, 'all_monitors').checked) {
    body.monitors = 'all';
  } else {
    body.monitors = text('monitor_ids').split(/[\s,;]+/).filter(Boolean);
    if (body.monitors.length === 0) throw new Error('Name at least one monitor id, or tick "All monitors".');
  }
  if (field(form, 'kind').value === 'once') {
    const start = Date.parse(text('start'));
    const end = Date.parse(text('end'));
    if (!Number.isFinite(start) || !Number.isFinite(end)) throw new Error('Start and end are required.');
    body.start_ms = start;
    body.end_ms = end;
  } else {
    body.cron = text('cron');
    const mins = Number(text('duration_min'));
    if (!body.cron) throw new Error('Cron is required, e.g. 0 3 * * SUN.');
    if (!Number.isFinite(mins) || mins <= 0) throw new Error('Duration must be a positive number of minutes.');
    body.duration_secs = Math.round(mins * 60);
    body.timezone = text('timezone') || 'UTC';
  }
  return body;
}

function startEdit(w) {
  const form = $('maintenance-form');
  editing = w.id;
  $('maintenance-add').open = true;
  field(form, 'title').value = str(w.title);
  field(form, 'all_monitors').checked = !Array.isArray(w.monitors);
  field(form, 'monitor_ids').value = Array.isArray(w.monitors) ? w.monitors.join(', ') : '';
  field(form, 'kind').value = w.cron ? 'recurring' : 'once';
  field(form, 'start').value = localInput(w.start_ms);
  field(form, 'end').value = localInput(w.end_ms);
  field(form, 'cron').value = str(w.cron);
  field(form, 'duration_min').value = num(w.duration_secs) === null ? '' : String(w.duration_secs / 60);
  field(form, 'timezone').value = str(w.timezone) || browserZone();
  switchKind(form);
  form.querySelector('button[type=submit]').textContent = 'Save window';
  $('maintenance-cancel').hidden = false;
  setMsg($('maintenance-msg'), `Editing ${str(w.title)}`, null);
  field(form, 'title').focus();
}

function stopEdit() {
  const form = $('maintenance-form');
  editing = null;
  form.reset();
  field(form, 'timezone').value = browserZone();
  switchKind(form);
  form.querySelector('button[type=submit]').textContent = 'Add window';
  $('maintenance-cancel').hidden = true;
}

async function saveWindow(body) {
  const id = editing;
  const { data } = id ? await api('PATCH', `api/maintenance/${enc(id)}`, body) : await api('POST', 'api/maintenance', body);
  stopEdit();
  await loadWindows();
  boundaryListener();
  return `${id ? 'Saved' : 'Added'} ${str(data && data.title) || body.title}`;
}

function browserZone() {
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
  } catch {
    return 'UTC';
  }
}

/**
 * Sets up the panel and its polling; `onBoundary` is called after a change made here and
 * when a window starts or ends (the monitor table then shows the new statuses).
 */
export function startMaintenance(onBoundary) {
  boundaryListener = onBoundary;
  const form = $('maintenance-form');
  field(form, 'kind').addEventListener('change', () => switchKind(form));
  field(form, 'all_monitors').addEventListener('change', () => switchKind(form));
  field(form, 'timezone').value = browserZone();
  $('maintenance-cancel').addEventListener('click', () => {
    stopEdit();
    setMsg($('maintenance-msg'), '', true);
  });
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    submitForm(form, $('maintenance-msg'), editing ? 'Saving…' : 'Adding…', () => windowBody(form), saveWindow);
  });
  switchKind(form);
  loadWindows();
  setInterval(() => {
    if (!document.hidden) loadWindows();
  }, MAINTENANCE_POLL_MS);
}
