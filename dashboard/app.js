// Ringwatch dashboard: one page, no framework, no build step.
//
// Data flow: the current page of monitors and /api/summary are polled every 2 s (a poll is
// skipped while the previous one is still running); /api/events (SSE) patches visible rows in
// between. Every string that comes from the API reaches the DOM as a text node, textContent or
// a checked attribute, never as markup: monitor names and URLs are user input.
'use strict';

(() => {
  const PAGE_SIZE = 50;
  const POLL_MS = 2000; // page + summary refresh period
  const CLUSTER_EVERY_TICKS = 1; // with the page: owners move within seconds of a failover
  const SEARCH_DEBOUNCE_MS = 300;
  const CHECK_NOTE_MS = 6000; // how long a "check now" result stays next to its buttons
  const HISTORY_LEN = 20; // results shown in a detail panel
  // A detail panel asks for the results of the last HISTORY_WINDOW_INTERVALS intervals (at
  // least HISTORY_MIN_WINDOW_MS) before the monitor's last result, then shows the newest
  // HISTORY_LEN: the results endpoint answers oldest first, so `?limit=20` alone would give
  // the oldest results, not the latest.
  const HISTORY_WINDOW_INTERVALS = 30;
  const HISTORY_MIN_WINDOW_MS = 5 * 60 * 1000;
  const HISTORY_FETCH_LIMIT = 1000;
  const CLOCK_SKEW_IGNORE_MS = 2500; // the Date header has 1 s resolution
  const STATUSES = ['up', 'down', 'pending', 'paused'];

  const $ = (id) => document.getElementById(id);

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
    ticks: 0,
    skewMs: 0, // server clock minus browser clock, when it matters
    nodeName: '',
    sseOpen: false,
    lastPollOk: true,
    dirty: new Set(), // ids whose rows wait for the next animation frame
  };

  // ---------- small helpers ----------

  /** Creates an element; string children become text nodes, so data is never parsed as HTML. */
  function el(tag, props, ...children) {
    const node = document.createElement(tag);
    if (props) {
      for (const [key, value] of Object.entries(props)) {
        if (key === 'class') node.className = value;
        else if (key === 'text') node.textContent = value;
        else if (key.includes('-')) node.setAttribute(key, value); // data-*, aria-*
        else node[key] = value;
      }
    }
    for (const child of children) {
      if (child !== null && child !== undefined) {
        node.append(typeof child === 'string' ? document.createTextNode(child) : child);
      }
    }
    return node;
  }

  /** Sets text only when it changed, so polling does not disturb a user's text selection. */
  function setText(node, text) {
    if (node.textContent !== text) node.textContent = text;
  }

  function setClass(node, cls) {
    if (node.className !== cls) node.className = cls;
  }

  /** Only http(s) URLs become links: a `javascript:` URL must never reach an href. */
  function safeHref(url) {
    try {
      const parsed = new URL(String(url));
      return parsed.protocol === 'http:' || parsed.protocol === 'https:' ? parsed.href : null;
    } catch {
      return null;
    }
  }

  const enc = encodeURIComponent;
  const num = (v) => (typeof v === 'number' && Number.isFinite(v) ? v : null);
  const str = (v) => (v === null || v === undefined ? '' : String(v));
  const serverNow = () => Date.now() + state.skewMs;

  function ago(ms) {
    if (num(ms) === null) return 'never';
    const s = Math.max(0, serverNow() - ms) / 1000;
    if (s < 1) return 'just now';
    if (s < 60) return `${Math.floor(s)} s ago`;
    if (s < 3600) return `${Math.floor(s / 60)} min ago`;
    if (s < 86400) return `${Math.floor(s / 3600)} h ago`;
    return `${Math.floor(s / 86400)} d ago`;
  }

  function duration(secs) {
    if (num(secs) === null) return '–';
    if (secs % 3600 === 0) return `${secs / 3600} h`;
    if (secs >= 60 && secs % 60 === 0) return `${secs / 60} min`;
    return `${secs} s`;
  }

  const ms = (v) => (num(v) === null ? '–' : `${Math.round(v)} ms`);
  const clockTime = (at) => (num(at) === null ? '–' : new Date(at).toLocaleString());
  const knownStatus = (s) => (STATUSES.includes(s) ? s : 'pending');

  // ---------- API ----------

  class ApiError extends Error {
    constructor(message, status) {
      super(message);
      this.status = status;
    }
  }

  /** Calls the API (relative paths, so a reverse-proxy prefix keeps working). */
  async function api(method, path, body, signal) {
    const init = { method, headers: { Accept: 'application/json' }, signal };
    if (body !== undefined) {
      init.headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
    const res = await fetch(path, init);
    noteServerClock(res.headers.get('date'));
    const text = await res.text();
    let data = null;
    if (text) {
      try {
        data = JSON.parse(text);
      } catch {
        data = null;
      }
    }
    if (!res.ok) {
      const msg = data && typeof data.error === 'string' ? data.error : `HTTP ${res.status}`;
      throw new ApiError(msg, res.status);
    }
    return { data, headers: res.headers };
  }

  /** "3 s ago" must use the server's clock: result times are stamped by the nodes. */
  function noteServerClock(dateHeader) {
    const server = dateHeader ? Date.parse(dateHeader) : NaN;
    if (Number.isNaN(server)) return;
    const skew = server + 500 - Date.now();
    state.skewMs = Math.abs(skew) > CLOCK_SKEW_IGNORE_MS ? skew : 0;
  }

  const isAbort = (e) => e && e.name === 'AbortError';

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
    state.nodeName = str(s.node);
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

  /** The cluster shape is not final: show `nodes[].name/alive` when present, else nothing. */
  function renderCluster(data) {
    const nodes = data && Array.isArray(data.nodes) ? data.nodes : null;
    $('cluster').hidden = !nodes || nodes.length === 0;
    if (!nodes) return;
    const items = nodes
      .filter((n) => n && typeof n === 'object')
      .map((n) => {
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
    view.tr.remove();
    if (view.detail) view.detail.tr.remove();
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
    v.latency = el('td', { class: 'num' });
    v.checked = el('td', { class: 'checked' });
    v.owner = el('td');
    v.interval = el('td', { class: 'num' });
    v.error = el('td', { class: 'error' });
    v.pause = el('button', { type: 'button', 'data-action': 'pause' });
    v.check = el('button', { type: 'button', text: 'Check now', 'data-action': 'check' });
    v.del = el('button', { type: 'button', class: 'danger', text: 'Delete', 'data-action': 'delete' });
    v.note = el('div', { class: 'note' });
    v.tr = el(
      'tr',
      { class: 'mon' },
      el('td', null, v.toggle),
      el('td', { class: 'name-cell' }, v.link, v.url),
      el('td', null, v.badge),
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
    setText(v.badge, status);
    setClass(v.badge, `badge b-${status}`);
    if (v.lastStatus !== null && v.lastStatus !== status) flash(v.tr);
    v.lastStatus = status;
    setText(v.latency, r ? ms(r.latency_ms) : '–');
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

  function flash(tr) {
    tr.classList.remove('flash');
    void tr.offsetWidth; // restart the CSS animation
    tr.classList.add('flash');
  }

  /** Refreshes only the "3 s ago" cells; cheap, runs every second. */
  function tickClocks() {
    for (const v of state.views.values()) {
      const r = v.m.last_result;
      setText(v.checked, r ? ago(r.at_ms) : 'never');
      if (v.detail) {
        for (const [cell, at] of v.detail.agoCells) setText(cell, ago(at));
      }
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
    if (v.detail && v.detail.results) {
      v.detail.results = [...v.detail.results, result].slice(-HISTORY_LEN);
      renderHistory(v);
    }
    markDirty(v.m.id);
  }

  // ---------- detail panel ----------

  function toggleDetail(v) {
    if (v.detail) {
      closeDetail(v);
      return;
    }
    const open = state.openId && state.views.get(state.openId);
    if (open) closeDetail(open);
    state.openId = v.m.id;
    const head = el('div', { class: 'detail-head muted' });
    const body = el('div', { class: 'detail-body', text: 'Loading recent results…' });
    const tr = el('tr', { class: 'detail' }, el('td', { colSpan: 9 }, head, body));
    v.detail = { tr, head, body, results: null, agoCells: [] };
    v.toggle.setAttribute('aria-expanded', 'true');
    v.tr.classList.add('open');
    v.tr.after(tr);
    renderDetailHead(v);
    loadHistory(v);
  }

  function closeDetail(v) {
    if (!v.detail) return;
    v.detail.tr.remove();
    v.detail = null;
    v.toggle.setAttribute('aria-expanded', 'false');
    v.tr.classList.remove('open');
    if (state.openId === v.m.id) state.openId = null;
  }

  function renderDetailHead(v) {
    const m = v.m;
    const facts = [
      `id ${m.id}`,
      `timeout ${ms(m.timeout_ms)}`,
      num(m.failure_threshold) !== null ? `down after ${m.failure_threshold} failures` : null,
      num(m.recovery_threshold) !== null ? `up after ${m.recovery_threshold} successes` : null,
      num(m.created_ms) !== null ? `created ${clockTime(m.created_ms)}` : null,
    ];
    setText(v.detail.head, facts.filter(Boolean).join(' · '));
  }

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

  /** Newest result first. */
  function renderHistory(v) {
    const d = v.detail;
    d.agoCells = [];
    if (!d.results.length) {
      d.body.replaceChildren(el('p', { class: 'muted', text: 'No results recorded in the recent window.' }));
      return;
    }
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
          el('td', { class: 'error', text: str(r.error), title: str(r.error) }),
          el('td', { class: 'muted', text: str(r.node) }),
        );
      });
    const head = el(
      'tr',
      null,
      ...['Time', 'Result', 'Code', 'Latency', 'Error', 'Probed by'].map((h) => el('th', { scope: 'col', text: h })),
    );
    const title = el('p', { class: 'muted', text: `Last ${rows.length} results, newest first` });
    d.body.replaceChildren(title, el('table', { class: 'history' }, el('thead', null, head), el('tbody', null, ...rows)));
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
      state.sseOpen = true;
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

  function setFormMsg(text, ok) {
    const out = $('add-msg');
    setText(out, text);
    setClass(out, ok ? 'form-msg ok' : 'form-msg bad');
  }

  // form.name would be the form's own name attribute, hence namedItem().
  const field = (form, name) => form.elements.namedItem(name);

  function formBody(form) {
    const url = field(form, 'url').value.trim();
    if (!url) throw new Error('URL is required.');
    const body = { url };
    const name = field(form, 'name').value.trim();
    if (name) body.name = name;
    for (const [key, label] of [['interval_secs', 'Interval'], ['timeout_ms', 'Timeout']]) {
      const raw = field(form, key).value.trim();
      if (!raw) continue; // the server default applies
      const n = Number(raw);
      if (!Number.isInteger(n) || n < 1) throw new Error(`${label} must be a whole number of at least 1.`);
      body[key] = n;
    }
    return body;
  }

  async function submitAdd(ev) {
    ev.preventDefault();
    const form = ev.currentTarget;
    let body;
    try {
      body = formBody(form);
    } catch (e) {
      setFormMsg(e.message, false);
      return;
    }
    const button = form.querySelector('button[type=submit]');
    button.disabled = true;
    setFormMsg('Adding…', true);
    try {
      const { data } = await api('POST', 'api/monitors', body);
      form.reset();
      field(form, 'url').focus();
      const label = data && typeof data === 'object' ? str(data.name) || str(data.url) : body.url;
      setFormMsg(`Added ${label}`, true);
      refreshSoon();
    } catch (e) {
      setFormMsg(e instanceof ApiError ? e.message : `Cannot reach the node: ${e.message}`, false);
    } finally {
      button.disabled = false;
    }
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

  function start() {
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
    $('add-form').addEventListener('submit', submitAdd);
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
})();
