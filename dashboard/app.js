// Ringwatch dashboard: one page, no framework, no build step. This module owns the monitor
// table (paging, filtering, row actions), the header counts, the cluster panel, the add form
// and the live events; heartbeat.js owns a row's heartbeat strip and uptime cells, detail.js
// a row's detail panel (history.js its charts, drawn by charts.js), notifiers.js the notifiers
// panel, maintenance.js the maintenance windows panel, fields.js the monitor fields shared by the add and edit forms, util.js the helpers.
//
// Data flow: the current page of monitors and /api/summary are polled every 2 s (a poll is
// skipped while the previous one is still running); /api/events (SSE) patches visible rows in
// between. Every string that comes from the API reaches the DOM as a text node, textContent or
// a checked attribute, never as markup: monitor names and URLs are user input.
import { $, ago, api, ApiError, clockTime, duration, el, enc, field, isAbort, ms, num, safeHref, setClass, setText, str, submitForm } from './util.js';
import { closeDetail, detailResult, loadIncidents, openDetail, renderDetailHead, tickDetail } from './detail.js';
import { advancedFields, createBody, readMonitor, syncKind } from './fields.js';
import { dropHistoryCells, historyCells, reloadStrip, renderHistoryCells, stripResult } from './heartbeat.js';
import { startMaintenance } from './maintenance.js';
import { loadNotifiers, NOTIFIERS_POLL_MS, startNotifiers } from './notifiers.js';
import { startSession } from './session.js';
import { startStatusPages } from './statuspages.js';

const PAGE_SIZE = 50;
const POLL_MS = 2000; // page + summary refresh period
const CLUSTER_EVERY_TICKS = 1; // with the page: owners move within seconds of a failover
const NOTIFIERS_EVERY_TICKS = NOTIFIERS_POLL_MS / POLL_MS;
const SEARCH_DEBOUNCE_MS = 300;
const CHECK_NOTE_MS = 6000; // how long a "check now" result stays next to its buttons
const STATUSES = ['up', 'down', 'pending', 'paused', 'maintenance'];

const state = {
  offset: 0,
  q: '',
  status: '',
  total: 0,
  views: new Map(), // monitor id -> row view (rows of the current page only)
  openId: null, // monitor whose detail panel is open
  listCtl: null, // AbortController of the page request in flight
  summaryBusy: false,
  clusterBusy: false,
  cluster: null, // the last /api/cluster answer, drawn again once this node's name is known
  ticks: 0,
  nodeName: '',
  sseOpen: false,
  sseOpened: false, // the event stream was open before (a reconnect may have missed results)
  lastPollOk: true,
  dirty: new Set(), // ids whose rows wait for the next animation frame
};

const knownStatus = (s) => (STATUSES.includes(s) ? s : 'pending');

// ---------- connection ----------

function showBanner(text) {
  const banner = $('banner');
  setText(banner, text);
  banner.hidden = !text;
}

function renderConn() {
  const conn = $('conn');
  if (!state.lastPollOk) {
    setText(conn, 'offline');
    setClass(conn, 'conn conn-bad');
  } else if (state.sseOpen) {
    setText(conn, 'live');
    setClass(conn, 'conn conn-live');
  } else {
    setText(conn, 'polling');
    setClass(conn, 'conn conn-poll');
  }
}

function pollFailed(e) {
  state.lastPollOk = false;
  showBanner(`Cannot refresh from the node: ${e.message}. Retrying every ${POLL_MS / 1000} s.`);
  renderConn();
}

function pollSucceeded() {
  if (!state.lastPollOk) showBanner('');
  state.lastPollOk = true;
  renderConn();
}

// ---------- summary, cluster ----------

async function loadSummary() {
  if (state.summaryBusy) return;
  state.summaryBusy = true;
  try {
    const { data } = await api('GET', 'api/summary');
    renderSummary(data || {});
  } catch (e) {
    if (!(e instanceof ApiError)) pollFailed(e); // an answer, even a refusal, means it is up
  } finally {
    state.summaryBusy = false;
  }
}

function renderSummary(s) {
  const name = str(s.node);
  const renamed = name !== state.nodeName;
  state.nodeName = name;
  if (renamed && state.cluster) renderCluster(state.cluster); // marks "this node"
  setText($('node-name'), state.nodeName || '?');
  setText($('node-version'), s.version ? `v${s.version}` : '');
  for (const key of ['total', ...STATUSES]) {
    setText($(`count-${key}`), num(s[key]) === null ? '–' : String(s[key]));
  }
  const down = num(s.down) || 0;
  document.title = down > 0 ? `(${down} down) Ringwatch` : 'Ringwatch';
}

async function loadCluster() {
  if (state.clusterBusy) return;
  state.clusterBusy = true;
  try {
    const { data } = await api('GET', 'api/cluster');
    renderCluster(data);
  } catch (e) {
    if (!(e instanceof ApiError)) pollFailed(e);
    renderCluster(null);
  } finally {
    state.clusterBusy = false;
  }
}

/** One member of the cluster panel. */
function nodeItem(n) {
  const alive = n.alive === true;
  const owned = num(n.monitors_owned);
  return el(
    'li',
    { class: alive ? 'node alive' : 'node dead' },
    el('span', { class: 'dot', 'aria-hidden': 'true' }),
    el('span', { class: 'node-name', text: str(n.name) || '?' }),
    n.name && n.name === state.nodeName ? el('span', { class: 'muted', text: ' (this node)' }) : null,
    el('span', { class: 'node-state', text: alive ? 'alive' : 'not alive' }),
    owned === null ? null : el('span', { class: 'muted', text: `${owned} monitors` }),
  );
}

/**
 * The members, grouped by zone when the cluster has more than the default one: each zone a
 * heading (with "unreachable" while none of its nodes is alive) over its nodes.
 */
function renderCluster(data) {
  state.cluster = data;
  const nodes = data && Array.isArray(data.nodes) ? data.nodes.filter((n) => n && typeof n === 'object') : null;
  $('cluster').hidden = !nodes || nodes.length === 0;
  if (!nodes) return;
  const zones = Array.isArray(data.zones) ? data.zones.filter((z) => z && typeof z === 'object') : [];
  const zoned = zones.length > 1 || (zones.length === 1 && zones[0].name !== 'default');
  if (!zoned) {
    $('cluster-nodes').replaceChildren(...nodes.map(nodeItem));
    return;
  }
  const items = zones.map((z) => {
    const members = nodes.filter((n) => n.zone === z.name);
    const unreachable = z.unreachable === true;
    return el(
      'li',
      { class: unreachable ? 'zone unreachable' : 'zone', 'data-zone': str(z.name) },
      el(
        'div',
        { class: 'zone-head' },
        el('span', { class: 'zone-name', text: `zone ${str(z.name)}` }),
        el('span', { class: 'zone-state', text: unreachable ? 'unreachable' : `${members.filter((n) => n.alive === true).length} of ${members.length} alive` }),
      ),
      el('ul', { class: 'nodes' }, ...members.map(nodeItem)),
    );
  });
  $('cluster-nodes').replaceChildren(...items);
}

// ---------- monitor page ----------

function pageQuery() {
  const p = new URLSearchParams({ offset: String(state.offset), limit: String(PAGE_SIZE) });
  if (state.q) p.set('q', state.q);
  if (state.status) p.set('status', state.status);
  return p;
}

/** Loads the current page; a newer call aborts an older one so stale pages never render. */
async function loadPage() {
  if (state.listCtl) state.listCtl.abort();
  const ctl = new AbortController();
  state.listCtl = ctl;
  const startedAt = performance.now();
  try {
    const res = await api('GET', `api/monitors?${pageQuery()}`, undefined, ctl.signal);
    if (ctl !== state.listCtl) return;
    let list = Array.isArray(res.data) ? res.data : [];
    const header = res.headers.get('x-total-count');
    let total;
    if (header !== null && /^\d+$/.test(header.trim())) {
      total = Number(header);
    } else if (list.length > PAGE_SIZE) {
      // A node that ignores the paging parameters answers everything: page on this side.
      total = list.length;
      list = list.slice(state.offset, state.offset + PAGE_SIZE);
    } else {
      total = state.offset + list.length; // no count: at least this many
    }
    if (list.length === 0 && state.offset > 0 && total > 0) {
      state.offset = Math.floor((total - 1) / PAGE_SIZE) * PAGE_SIZE;
      saveHash();
      loadPage();
      return;
    }
    state.total = total;
    renderRows(list.slice(0, PAGE_SIZE), startedAt);
    renderPager();
    pollSucceeded();
  } catch (e) {
    if (!isAbort(e)) pollFailed(e);
  } finally {
    if (state.listCtl === ctl) state.listCtl = null;
  }
}

function renderPager() {
  const { offset, total } = state;
  const shown = state.views.size;
  const info = total === 0 ? '0 of 0' : `${offset + 1}-${offset + shown} of ${total}`;
  setText($('page-info'), info);
  $('prev').disabled = offset === 0;
  $('next').disabled = offset + PAGE_SIZE >= total;
  $('empty').hidden = shown > 0;
}

/** Reconciles table rows with a fresh page, keeping rows (and an open panel) by id. */
function renderRows(list, startedAt) {
  const tbody = $('rows');
  const seen = new Set();
  const ordered = [];
  for (const fresh of list) {
    if (!fresh || typeof fresh.id !== 'string' || seen.has(fresh.id)) continue;
    seen.add(fresh.id);
    let view = state.views.get(fresh.id);
    if (view) {
      mergeMonitor(view, fresh, startedAt);
    } else {
      view = createRow(fresh);
      state.views.set(fresh.id, view);
    }
    renderRow(view);
    ordered.push(view.tr);
    if (view.detail) ordered.push(view.detail.tr);
  }
  for (const [id, view] of state.views) {
    if (!seen.has(id)) dropRow(view);
  }
  // Moving a node to where it already is is a no-op for the user, but skip it anyway.
  let cursor = tbody.firstChild;
  for (const tr of ordered) {
    if (tr === cursor) cursor = cursor.nextSibling;
    else tbody.insertBefore(tr, cursor);
  }
  while (cursor) {
    const next = cursor.nextSibling;
    cursor.remove();
    cursor = next;
  }
}

/** A poll answer may be older than an event that arrived while it was in flight. */
function mergeMonitor(view, fresh, startedAt) {
  const old = view.m;
  const merged = { ...fresh };
  if (newerResult(old.last_result, fresh.last_result)) merged.last_result = old.last_result;
  if (view.eventAt > startedAt && typeof old.status === 'string') merged.status = old.status;
  view.m = merged;
}

function newerResult(a, b) {
  return !!a && num(a.at_ms) !== null && (!b || num(b.at_ms) === null || a.at_ms > b.at_ms);
}

function dropRow(view) {
  clearTimeout(view.noteTimer);
  dropHistoryCells(view.history);
  view.tr.remove();
  closeDetail(view);
  if (state.openId === view.m.id) state.openId = null;
  state.views.delete(view.m.id);
}

function createRow(m) {
  const v = { m, eventAt: 0, noteTimer: 0, detail: null, lastStatus: null };
  v.toggle = el('button', { type: 'button', class: 'toggle', 'data-action': 'toggle' });
  v.toggle.setAttribute('aria-expanded', 'false');
  v.toggle.setAttribute('aria-label', 'Show recent results');
  v.link = el('a', { class: 'name', target: '_blank', rel: 'noopener noreferrer' });
  v.url = el('div', { class: 'url muted' });
  v.badge = el('span');
  v.zones = el('div', { class: 'zone-chips' });
  v.history = historyCells(m);
  v.latency = el('td', { class: 'num' });
  v.checked = el('td', { class: 'checked' });
  v.owner = el('td');
  v.interval = el('td', { class: 'num' });
  v.error = el('td', { class: 'error' });
  v.pause = el('button', { type: 'button', class: 'w', 'data-action': 'pause' });
  v.check = el('button', { type: 'button', class: 'w', text: 'Check now', 'data-action': 'check' });
  v.del = el('button', { type: 'button', class: 'danger w', text: 'Delete', 'data-action': 'delete' });
  v.note = el('div', { class: 'note' });
  v.tr = el(
    'tr',
    { class: 'mon' },
    el('td', null, v.toggle),
    el('td', { class: 'name-cell' }, v.link, v.url),
    el('td', null, v.badge, v.zones),
    v.history.cell,
    v.latency,
    v.checked,
    v.owner,
    v.interval,
    v.error,
    el('td', { class: 'actions' }, v.pause, v.check, v.del, v.note),
  );
  v.tr.dataset.id = m.id;
  return v;
}

function renderRow(v) {
  const m = v.m;
  const r = m.last_result && typeof m.last_result === 'object' ? m.last_result : null;
  const status = knownStatus(m.status);
  const name = str(m.name) || str(m.url) || m.id;
  setText(v.link, name);
  const href = safeHref(m.url);
  if (href) {
    if (v.link.getAttribute('href') !== href) v.link.href = href;
  } else {
    v.link.removeAttribute('href');
  }
  setText(v.url, str(m.url));
  v.url.title = str(m.url);
  // Failing in some zones, not enough of them for down: shown apart from up.
  const degraded = m.degraded === true && status === 'up';
  setText(v.badge, degraded ? 'degraded' : status);
  setClass(v.badge, degraded ? 'badge b-degraded' : `badge b-${status}`);
  renderZoneChips(v.zones, m.zone_status);
  if (v.lastStatus !== null && v.lastStatus !== status) {
    flash(v.tr);
    if (v.detail) loadIncidents(v); // also without events: a change seen by polling
  }
  v.lastStatus = status;
  setText(v.latency, r ? ms(r.latency_ms) : '–');
  v.latency.title = num(m.p95_ms_24h) === null ? '' : `p95 of the last 24 h: ${ms(m.p95_ms_24h)}`;
  renderHistoryCells(v.history, m);
  setText(v.checked, r ? ago(r.at_ms) : 'never');
  v.checked.title = r ? clockTime(r.at_ms) : '';
  setText(v.owner, str(m.owner) || '–');
  setText(v.interval, duration(num(m.interval_secs)));
  const err = r && r.ok === false ? str(r.error) || (r.status_code ? `HTTP ${r.status_code}` : 'failed') : '';
  setText(v.error, err);
  v.error.title = err;
  const paused = m.active === false;
  setText(v.pause, paused ? 'Resume' : 'Pause');
  v.pause.dataset.active = paused ? 'false' : 'true';
  if (v.detail) renderDetailHead(v);
}

/** Each zone state's mark on a zone label (the state is also its colour and its title). */
const ZONE_MARKS = { up: '✓', down: '✗', pending: '…', unreachable: '⊘' };

/** Each zone's view of a monitor probed from several zones, as small labels; none otherwise. */
function renderZoneChips(box, zoneStatus) {
  const entries = zoneStatus && typeof zoneStatus === 'object' ? Object.entries(zoneStatus) : [];
  const key = JSON.stringify(entries);
  if (box.dataset.key === key) return;
  box.dataset.key = key;
  box.replaceChildren(
    ...entries.map(([zone, state]) => {
      const known = Object.hasOwn(ZONE_MARKS, state) ? state : 'pending';
      return el('span', {
        class: `zone-chip z-${known}`,
        'data-zone': zone,
        'data-state': known,
        title: `zone ${zone}: ${known}`,
        'aria-label': `zone ${zone}: ${known}`,
        text: `${ZONE_MARKS[known]} ${zone}`,
      });
    }),
  );
}

function flash(tr) {
  tr.classList.remove('flash');
  void tr.offsetWidth; // restart the CSS animation
  tr.classList.add('flash');
}

/** Refreshes only the "3 s ago" cells (and an open panel's clocks); cheap, runs every second. */
function tickClocks() {
  for (const v of state.views.values()) {
    const r = v.m.last_result;
    setText(v.checked, r ? ago(r.at_ms) : 'never');
    if (v.detail) tickDetail(v);
  }
}

// ---------- row actions ----------

async function togglePause(v) {
  const active = v.pause.dataset.active !== 'true';
  const startedAt = performance.now();
  v.pause.disabled = true;
  try {
    const { data } = await api('PATCH', `api/monitors/${enc(v.m.id)}`, { active });
    if (data && data.id === v.m.id) {
      mergeMonitor(v, data, startedAt);
      renderRow(v);
    }
    refreshSoon();
  } catch (e) {
    showNote(v, `Failed: ${e.message}`, false);
  } finally {
    v.pause.disabled = false;
  }
}

async function checkNow(v) {
  v.check.disabled = true;
  showNote(v, 'Checking…', null);
  try {
    const { data } = await api('POST', `api/monitors/${enc(v.m.id)}/check`);
    if (data && typeof data === 'object') {
      const parts = [data.ok ? 'OK' : 'Failed'];
      if (num(data.status_code) !== null) parts.push(String(data.status_code));
      parts.push(ms(data.latency_ms));
      if (!data.ok && data.error) parts.push(str(data.error));
      showNote(v, parts.join(' · '), data.ok === true);
      if (num(data.at_ms) !== null) noteResult(v, { monitor_id: v.m.id, ...data });
    } else {
      showNote(v, 'Checked', true);
    }
  } catch (e) {
    showNote(v, `Check failed: ${e.message}`, false);
  } finally {
    v.check.disabled = false;
  }
}

async function deleteMonitor(v) {
  const label = str(v.m.name) || str(v.m.url);
  if (!window.confirm(`Delete monitor "${label}"?\nProbing stops on every node.`)) return;
  v.del.disabled = true;
  try {
    await api('DELETE', `api/monitors/${enc(v.m.id)}`);
    dropRow(v);
    renderPager();
    refreshSoon();
  } catch (e) {
    v.del.disabled = false;
    showNote(v, `Delete failed: ${e.message}`, false);
  }
}

function showNote(v, text, ok) {
  clearTimeout(v.noteTimer);
  setText(v.note, text);
  v.note.title = text;
  setClass(v.note, ok === null ? 'note' : ok ? 'note ok' : 'note bad');
  if (ok !== null) {
    v.noteTimer = setTimeout(() => {
      setText(v.note, '');
      v.note.className = 'note';
    }, CHECK_NOTE_MS);
  }
}

/** Records a newer result for a visible monitor: row cells and an open history follow it. */
function noteResult(v, result) {
  if (!newerResult(result, v.m.last_result)) return;
  v.m = { ...v.m, last_result: result };
  stripResult(v.history.strip, result);
  if (v.detail) detailResult(v, result);
  markDirty(v.m.id);
}

// ---------- detail panel ----------

/** Opens one panel at a time; detail.js builds and maintains it. */
function toggleDetail(v) {
  if (v.detail) {
    hideDetail(v);
    return;
  }
  const open = state.openId && state.views.get(state.openId);
  if (open) hideDetail(open);
  state.openId = v.m.id;
  v.toggle.setAttribute('aria-expanded', 'true');
  v.tr.classList.add('open');
  openDetail(v, { saved: monitorSaved });
}

function hideDetail(v) {
  if (!v.detail) return;
  closeDetail(v);
  v.toggle.setAttribute('aria-expanded', 'false');
  v.tr.classList.remove('open');
  if (state.openId === v.m.id) state.openId = null;
}

/** The server's answer to an edit made in a detail panel. */
function monitorSaved(v, data, startedAt) {
  mergeMonitor(v, data, startedAt);
  renderRow(v);
  refreshSoon();
}

// ---------- live events ----------

function markDirty(id) {
  if (state.dirty.size === 0) requestAnimationFrame(flushDirty);
  state.dirty.add(id);
}

function flushDirty() {
  for (const id of state.dirty) {
    const v = state.views.get(id);
    if (v) renderRow(v);
  }
  state.dirty.clear();
}

function parseEvent(e) {
  try {
    const data = JSON.parse(e.data);
    return data && typeof data === 'object' ? data : null;
  } catch {
    return null;
  }
}

function connectEvents() {
  if (typeof EventSource !== 'function') return;
  const source = new EventSource('api/events');
  source.onopen = () => {
    // Results sent while the stream was down are missed: the strips load theirs again.
    if (state.sseOpened) for (const v of state.views.values()) reloadStrip(v.history);
    state.sseOpen = true;
    state.sseOpened = true;
    renderConn();
  };
  source.onerror = () => {
    // The browser reconnects by itself unless it gave up (CLOSED); polling covers both.
    state.sseOpen = false;
    renderConn();
  };
  source.addEventListener('result', (e) => {
    const r = parseEvent(e);
    const v = r && state.views.get(r.monitor_id);
    if (v && num(r.at_ms) !== null) noteResult(v, r);
  });
  source.addEventListener('status', (e) => {
    const s = parseEvent(e);
    const v = s && state.views.get(s.monitor_id);
    if (!v || typeof s.status !== 'string') return;
    // A decision opens or closes an incident: renderRow reloads an open panel's incidents when
    // the status differs from the one shown, and here when a poll showed it first.
    if (v.detail && s.status === v.lastStatus) loadIncidents(v);
    v.m = { ...v.m, status: s.status };
    v.eventAt = performance.now();
    markDirty(v.m.id);
    loadSummary(); // keep the header counts in step with the rows
  });
  source.addEventListener('monitor', (e) => {
    const m = parseEvent(e);
    const v = m && state.views.get(m.id);
    if (!v) return;
    // An update event may omit live fields; keep what the row knows.
    const fresh = { ...v.m, ...m };
    if (!('last_result' in m)) fresh.last_result = v.m.last_result;
    mergeMonitor(v, fresh, performance.now());
    markDirty(v.m.id);
  });
  source.addEventListener('deleted', (e) => {
    const d = parseEvent(e);
    const v = d && state.views.get(d.id);
    if (!v) return;
    dropRow(v);
    renderPager();
    refreshSoon();
  });
}

// ---------- add form ----------

/** The advanced fields of the add form (built by fields.js in its "Advanced" section). */
let addAdvanced = null;

function setupAddForm() {
  const form = $('add-form');
  addAdvanced = advancedFields();
  $('add-advanced').append(addAdvanced.root);
  field(form, 'url').addEventListener('input', () => syncKind(form));
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    submitForm(form, $('add-msg'), 'Adding…', () => createBody(readMonitor(form, addAdvanced.notifiers)), addMonitor);
  });
  syncKind(form);
}

async function addMonitor(body) {
  const form = $('add-form');
  const { data } = await api('POST', 'api/monitors', body);
  form.reset();
  addAdvanced.notifiers.set(null);
  syncKind(form);
  field(form, 'url').focus();
  refreshSoon();
  return `Added ${data && typeof data === 'object' ? str(data.name) || str(data.url) : body.url}`;
}

// ---------- navigation, polling, start ----------

function saveHash() {
  const p = new URLSearchParams();
  if (state.q) p.set('q', state.q);
  if (state.status) p.set('status', state.status);
  if (state.offset) p.set('offset', String(state.offset));
  const hash = p.toString();
  history.replaceState(null, '', hash ? `#${hash}` : location.pathname + location.search);
}

function loadHash() {
  const p = new URLSearchParams(location.hash.slice(1));
  state.q = p.get('q') || '';
  state.status = STATUSES.includes(p.get('status')) ? p.get('status') : '';
  const offset = Number(p.get('offset'));
  state.offset = Number.isInteger(offset) && offset > 0 ? offset - (offset % PAGE_SIZE) : 0;
  $('search').value = state.q;
  $('status-filter').value = state.status;
}

/** After a change by this user: show it now rather than at the next poll. */
function refreshSoon() {
  loadPage();
  loadSummary();
}

function goTo(offset) {
  state.offset = Math.max(0, offset);
  saveHash();
  loadPage();
}

function setStatusFilter(status) {
  state.status = status;
  $('status-filter').value = status;
  goTo(0);
}

function tick() {
  if (document.hidden) return; // a background tab costs the cluster nothing
  state.ticks += 1;
  if (!state.listCtl) loadPage();
  loadSummary(); // returns at once while the previous summary request runs
  if (state.ticks % CLUSTER_EVERY_TICKS === 0) loadCluster();
  if (state.ticks % NOTIFIERS_EVERY_TICKS === 0) loadNotifiers();
}

function onRowsClick(ev) {
  const button = ev.target.closest('button[data-action]');
  const tr = ev.target.closest('tr.mon');
  const v = tr && state.views.get(tr.dataset.id);
  if (!v) return;
  if (button) {
    const action = button.dataset.action;
    if (action === 'toggle') toggleDetail(v);
    else if (action === 'pause') togglePause(v);
    else if (action === 'check') checkNow(v);
    else if (action === 'delete') deleteMonitor(v);
    return;
  }
  if (ev.target.closest('a') || String(window.getSelection() || '')) return; // link or text selection
  toggleDetail(v);
}

async function start() {
  // With auth on and no session, the login form instead: nothing is polled.
  if (!(await startSession())) return;
  loadHash();
  let searchTimer = 0;
  $('search').addEventListener('input', (ev) => {
    clearTimeout(searchTimer);
    const value = ev.target.value.trim();
    searchTimer = setTimeout(() => {
      if (value === state.q) return;
      state.q = value;
      goTo(0);
    }, SEARCH_DEBOUNCE_MS);
  });
  $('status-filter').addEventListener('change', (ev) => setStatusFilter(ev.target.value));
  for (const button of document.querySelectorAll('.counts [data-filter]')) {
    button.addEventListener('click', () => setStatusFilter(button.dataset.filter));
  }
  $('prev').addEventListener('click', () => goTo(state.offset - PAGE_SIZE));
  $('next').addEventListener('click', () => goTo(state.offset + PAGE_SIZE));
  $('rows').addEventListener('click', onRowsClick);
  setupAddForm();
  startNotifiers();
  startMaintenance(refreshSoon);
  startStatusPages();
  document.addEventListener('visibilitychange', () => {
    if (!document.hidden) refreshSoon();
  });
  window.addEventListener('hashchange', () => {
    loadHash();
    loadPage();
  });

  refreshSoon();
  loadCluster();
  connectEvents();
  setInterval(tick, POLL_MS);
  setInterval(tickClocks, 1000);
}

start();
