// The detail panel under a monitor's row: what the monitor checks, its history (figures,
// response-time chart and daily availability, owned by history.js), its incidents (down
// periods, decided cluster-wide), its recent results and a form to edit its definition.
//
// A panel belongs to a row view `v` of app.js as `v.detail`; app.js opens and closes it and
// tells it about new results and status changes, and this module keeps it current.

import { ago, api, clockTime, el, elapsed, enc, ms, num, serverNow, setClass, setMsg, setText, str, submitForm } from './util.js';
import { advancedFields, basicFields, fillMonitor, normalise, patchBody, readMonitor, syncKind } from './fields.js';
import { notifierById } from './notifiers.js';
import { closeHistory, createHistory, historyIncidents, refreshHistory, tickHistory } from './history.js';

const HISTORY_LEN = 20; // results shown in a detail panel
// A panel asks for the results of the last HISTORY_WINDOW_INTERVALS intervals (at least
// HISTORY_MIN_WINDOW_MS) before the monitor's last result, then shows the newest HISTORY_LEN:
// the results endpoint answers oldest first, so `?limit=20` alone would give the oldest
// results, not the latest.
const HISTORY_WINDOW_INTERVALS = 30;
const HISTORY_MIN_WINDOW_MS = 5 * 60 * 1000;
const HISTORY_FETCH_LIMIT = 1000;
const INCIDENTS_PAGE = 20; // incidents shown at first, and added per "Show more"

/**
 * Opens the panel of `v` after its row. `hooks.saved(v, monitor, startedAt)` is called with
 * the server's answer to an edit.
 */
export function openDetail(v, hooks) {
  const head = el('div', { class: 'detail-head muted' });
  const checks = el('div', { class: 'detail-head muted' });
  const tls = el('p', { class: 'tls', hidden: true });
  const body = el('div', { class: 'detail-body', text: 'Loading recent results…' });
  const incidents = el('div', { class: 'detail-body', text: 'Loading incidents…' });
  const edit = editForm(v, hooks);
  const history = createHistory(v);
  const inner = el(
    'div',
    { class: 'detail-inner' },
    head,
    checks,
    tls,
    history.root,
    el('section', { class: 'detail-incidents', 'aria-label': 'Incidents' }, el('h3', { text: 'Incidents' }), incidents),
    el('section', { class: 'detail-results', 'aria-label': 'Recent results' }, body),
    edit.root,
  );
  const tr = el('tr', { class: 'detail' }, el('td', { colSpan: v.tr.cells.length }, inner));
  v.detail = {
    tr,
    head,
    checks,
    tls,
    body,
    results: null,
    agoCells: [],
    incidents,
    incidentList: null,
    incidentsShown: INCIDENTS_PAGE,
    incidentsBusy: false,
    incidentsAgain: false,
    ongoingCells: [],
    edit,
    history,
  };
  v.tr.after(tr);
  renderDetailHead(v);
  refreshHistory(v);
  loadHistory(v);
  loadIncidents(v);
}

export function closeDetail(v) {
  if (!v.detail) return;
  v.detail.edit.notifiers.detach();
  closeHistory(v.detail.history);
  v.detail.tr.remove();
  v.detail = null;
}

/** The monitor's definition, its TLS certificate and where it alerts; cheap, runs per poll. */
export function renderDetailHead(v) {
  const m = v.m;
  const d = v.detail;
  const facts = [
    `id ${m.id}`,
    `timeout ${ms(m.timeout_ms)}`,
    num(m.failure_threshold) !== null ? `down after ${m.failure_threshold} failures` : null,
    num(m.recovery_threshold) !== null ? `up after ${m.recovery_threshold} successes` : null,
    zonesSummary(m),
    num(m.created_ms) !== null ? `created ${clockTime(m.created_ms)}` : null,
  ];
  setText(d.head, facts.filter(Boolean).join(' · '));
  setText(d.checks, `Checks: ${checkSummary(m)} · Notifies: ${notifySummary(m.notifiers)}`);
  renderTls(d.tls, m);
  d.edit.follow();
}

/** Where a monitor is probed from and what makes it down, for one probed from several zones. */
function zonesSummary(m) {
  const n = normalise(m);
  if (n.zones === null) return null;
  const where = n.zones === 'all' ? 'probed from every zone' : `probed from zones ${n.zones.join(', ')}`;
  const quorum = n.quorum === null ? 'a majority of its zones' : `${n.quorum} zone${n.quorum === 1 ? '' : 's'}`;
  return `${where}, down when ${quorum} see it down`;
}

function checkSummary(m) {
  const n = normalise(m);
  const parts = [n.method];
  if (n.expect_status) parts.push(`status ${n.expect_status.join(', ')}`);
  if (n.expect_body_contains !== null) parts.push(`body contains "${n.expect_body_contains}"`);
  if (n.expect_body_not_contains !== null) parts.push(`body lacks "${n.expect_body_not_contains}"`);
  if (n.max_response_ms !== null) parts.push(`answer within ${n.max_response_ms} ms`);
  if (n.headers) parts.push(`${Object.keys(n.headers).length} request headers`);
  if (n.body !== null) parts.push('request body');
  if (n.tls_min_days !== null) parts.push(`certificate valid ≥ ${n.tls_min_days} days`);
  if (n.tls_skip_verify) parts.push('certificate not verified');
  return str(m.url).startsWith('tcp:') ? 'TCP connect' + (n.max_response_ms !== null ? ` within ${n.max_response_ms} ms` : '') : parts.join(', ');
}

function notifySummary(ids) {
  if (!Array.isArray(ids)) return 'all notifiers';
  if (ids.length === 0) return 'nobody';
  return ids.map((id) => str((notifierById(id) || {}).name) || id).join(', ');
}

function renderTls(p, m) {
  const r = m.last_result && typeof m.last_result === 'object' ? m.last_result : null;
  const days = r ? num(r.tls_days_left) : null;
  p.hidden = days === null;
  if (days === null) return;
  const min = num(m.tls_min_days);
  const plural = (n) => `${n} day${n === 1 ? '' : 's'}`;
  let text = days < 0 ? `TLS certificate expired ${plural(-days)} ago` : `TLS certificate expires in ${plural(days)}`;
  if (min !== null) text += ` (at least ${plural(min)} required)`;
  setText(p, text);
  setClass(p, days < 0 || (min !== null && days < min) ? 'tls bad' : 'tls');
}

// ---------- results ----------

async function loadHistory(v) {
  const detail = v.detail;
  const m = v.m;
  const anchor = (m.last_result && num(m.last_result.at_ms)) || serverNow();
  const windowMs = Math.max(HISTORY_MIN_WINDOW_MS, (num(m.interval_secs) || 30) * 1000 * HISTORY_WINDOW_INTERVALS);
  const since = Math.max(0, Math.floor(anchor - windowMs));
  try {
    const path = `api/monitors/${enc(m.id)}/results?since=${since}&limit=${HISTORY_FETCH_LIMIT}`;
    const { data } = await api('GET', path);
    if (v.detail !== detail) return; // closed or reopened meanwhile
    const list = Array.isArray(data) ? data.filter((r) => r && num(r.at_ms) !== null) : [];
    // Events may have arrived while loading; keep what is newer than the answer.
    const newest = list.length ? list[list.length - 1].at_ms : -1;
    const later = (detail.results || []).filter((r) => r.at_ms > newest);
    detail.results = [...list, ...later].slice(-HISTORY_LEN);
    renderHistory(v);
  } catch (e) {
    if (v.detail === detail) detail.body.replaceChildren(el('p', { class: 'bad', text: `Could not load results: ${e.message}` }));
  }
}

/** A newer result of the monitor (already checked to be newer than the row's last). */
export function detailResult(v, result) {
  const d = v.detail;
  if (!d.results) return; // still loading: the answer will include it or `later` keeps it
  d.results = [...d.results, result].slice(-HISTORY_LEN);
  renderHistory(v);
}

/** Newest result first. */
function renderHistory(v) {
  const d = v.detail;
  d.agoCells = [];
  if (!d.results.length) {
    d.body.replaceChildren(el('p', { class: 'muted', text: 'No results recorded in the recent window.' }));
    return;
  }
  const withTls = d.results.some((r) => num(r.tls_days_left) !== null);
  const rows = d.results
    .slice()
    .reverse()
    .map((r) => {
      const agoCell = el('span', { class: 'muted', text: ago(r.at_ms) });
      d.agoCells.push([agoCell, r.at_ms]);
      return el(
        'tr',
        null,
        el('td', null, clockTime(r.at_ms), ' ', agoCell),
        el('td', null, el('span', { class: r.ok ? 'badge b-up' : 'badge b-down', text: r.ok ? 'ok' : 'failed' })),
        el('td', { class: 'num', text: num(r.status_code) === null ? '–' : String(r.status_code) }),
        el('td', { class: 'num', text: ms(r.latency_ms) }),
        withTls ? el('td', { class: 'num', text: num(r.tls_days_left) === null ? '–' : String(r.tls_days_left) }) : null,
        el('td', { class: 'error', text: str(r.error), title: str(r.error) }),
        el('td', { class: 'muted', text: str(r.node) }),
      );
    });
  const heads = ['Time', 'Result', 'Code', 'Latency', withTls ? 'Cert days' : null, 'Error', 'Probed by'];
  const head = el('tr', null, ...heads.filter(Boolean).map((h) => el('th', { scope: 'col', text: h })));
  const title = el('h3', { text: `Last ${rows.length} results, newest first` });
  d.body.replaceChildren(title, el('div', { class: 'scroll' }, el('table', { class: 'history' }, el('thead', null, head), el('tbody', null, ...rows))));
}

// ---------- incidents ----------

/** Reloads the incidents; a call while one is in flight makes one more load after it. */
export async function loadIncidents(v) {
  const d = v.detail;
  if (!d) return;
  if (d.incidentsBusy) {
    d.incidentsAgain = true;
    return;
  }
  d.incidentsBusy = true;
  try {
    const { data } = await api('GET', `api/monitors/${enc(v.m.id)}/incidents`);
    if (v.detail !== d) return;
    d.incidentList = Array.isArray(data) ? data.filter((i) => i && num(i.start_ms) !== null) : [];
    renderIncidents(v);
    historyIncidents(v, d.incidentList);
  } catch (e) {
    if (v.detail === d) d.incidents.replaceChildren(el('p', { class: 'bad', text: `Could not load incidents: ${e.message}` }));
  } finally {
    d.incidentsBusy = false;
    if (d.incidentsAgain && v.detail === d) {
      d.incidentsAgain = false;
      loadIncidents(v);
    }
  }
}

function renderIncidents(v) {
  const d = v.detail;
  const all = d.incidentList;
  d.ongoingCells = [];
  if (!all.length) {
    d.incidents.replaceChildren(el('p', { class: 'muted', text: 'None: this monitor has not been down.' }));
    return;
  }
  const shown = all.slice(0, d.incidentsShown);
  const rows = shown.map((i) => incidentRow(d, i));
  const head = el('tr', null, ...['Started', 'Ended', 'Duration', 'Cause', 'Decided by'].map((h) => el('th', { scope: 'col', text: h })));
  const note = el('p', {
    class: 'muted',
    text: shown.length < all.length ? `Newest ${shown.length} of ${all.length}` : `${all.length} incident${all.length === 1 ? '' : 's'}, newest first`,
  });
  let more = null;
  if (shown.length < all.length) {
    more = el('button', { type: 'button', text: 'Show more' });
    more.addEventListener('click', () => {
      d.incidentsShown += INCIDENTS_PAGE;
      renderIncidents(v);
    });
  }
  const table = el('table', { class: 'history incidents' }, el('thead', null, head), el('tbody', null, ...rows));
  d.incidents.replaceChildren(...[note, el('div', { class: 'scroll' }, table), more].filter(Boolean));
}

function incidentRow(d, i) {
  const ongoing = num(i.end_ms) === null;
  const lasted = el('td', { class: 'num', text: elapsed(ongoing ? serverNow() - i.start_ms : i.duration_ms) });
  if (ongoing) d.ongoingCells.push([lasted, i.start_ms]);
  const decided = [str(i.node) || '?'];
  if (i.confirmed_by) decided.push(`confirmed by ${str(i.confirmed_by)}`);
  return el(
    'tr',
    { class: ongoing ? 'ongoing' : '' },
    el('td', { text: clockTime(i.start_ms) }),
    el('td', null, ongoing ? el('span', { class: 'badge b-down', text: 'ongoing' }) : clockTime(i.end_ms)),
    lasted,
    el('td', { class: 'error', text: str(i.cause), title: str(i.cause) }),
    el('td', { class: 'muted', text: decided.join(', ') }),
  );
}

/** Refreshes the "3 s ago" cells and the durations of ongoing incidents; runs every second. */
export function tickDetail(v) {
  for (const [cell, at] of v.detail.agoCells) setText(cell, ago(at));
  for (const [cell, start] of v.detail.ongoingCells) setText(cell, elapsed(serverNow() - start));
  tickHistory(v);
}

// ---------- edit ----------

/** A collapsed form with every field of the definition; only changed fields are sent. */
function editForm(v, hooks) {
  const advanced = advancedFields();
  const msg = el('output', { class: 'form-msg', 'aria-live': 'polite' });
  const save = el('button', { type: 'submit', class: 'primary', text: 'Save changes' });
  const revert = el('button', { type: 'button', text: 'Revert' });
  const form = el(
    'form',
    { class: 'edit-form', noValidate: true, autocomplete: 'off' },
    el('div', { class: 'edit-basic' }, ...basicFields()),
    advanced.root,
    el('div', { class: 'edit-actions' }, save, revert, msg),
  );
  const root = el('details', { class: 'edit w' }, el('summary', { text: 'Edit monitor' }), form);
  const state = { root, notifiers: advanced.notifiers, base: null, dirty: false };
  const fill = () => {
    fillMonitor(form, advanced.notifiers, v.m);
    state.base = normalise(v.m);
    state.dirty = false;
  };
  /** An open form nobody typed in follows changes made elsewhere (the row's Pause button). */
  state.follow = () => {
    if (root.open && !state.dirty && JSON.stringify(normalise(v.m)) !== JSON.stringify(state.base)) fill();
  };
  // Filled when opened, not before: the definition may change while the panel is open.
  root.addEventListener('toggle', () => {
    if (root.open && !state.dirty) fill();
  });
  form.addEventListener('input', (ev) => {
    state.dirty = true;
    if (ev.target.name === 'url') syncKind(form);
  });
  form.addEventListener('change', () => {
    state.dirty = true;
  });
  revert.addEventListener('click', () => {
    fill();
    setMsg(msg, '', true);
  });
  const send = async (patch) => {
    if (Object.keys(patch).length === 0) return 'Nothing changed.';
    const startedAt = performance.now();
    const { data } = await api('PATCH', `api/monitors/${enc(v.m.id)}`, patch);
    if (data && data.id === v.m.id) hooks.saved(v, data, startedAt);
    fill();
    return `Saved: ${Object.keys(patch).join(', ')}`;
  };
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    submitForm(form, msg, 'Saving…', () => patchBody(state.base, readMonitor(form, advanced.notifiers)), send);
  });
  return state;
}
