// The history cell of a monitor's row: the heartbeat strip (its last STRIP_LEN results as
// coloured ticks, newest on the right; hovering or focusing a tick shows time, code and
// latency) and under it the uptime of the last 24 h and 30 d, which come with the list.
//
// A strip loads its results once when its row appears, at most STRIP_LOADS_AT_ONCE strips at a
// time so that a fresh page of 50 rows does not send 50 requests at once; after that it
// follows the results app.js hands it (live events, and each poll's last result) and is
// reloaded whole only when app.js may have missed results (the event stream reconnected).

import { api, clockTime, el, enc, ms, num, pct, setClass, setText, str, uptimeClass } from './util.js';
import { dropTip, rove, tipGroup } from './charts.js';

const STRIP_LEN = 40; // ticks in a row's strip
const STRIP_LOADS_AT_ONCE = 3;

const queue = []; // strips waiting for their first (or a fresh) load
let loading = 0;

/** The history cell of a new row for `m`, as `{ cell, strip, up24, up30 }`; starts loading. */
export function historyCells(m) {
  const root = el('div', { class: 'strip', role: 'group', 'aria-label': `Last ${STRIP_LEN} checks: loading` });
  root.append(...placeholders(STRIP_LEN));
  tipGroup(root, '.tick[aria-label]');
  const strip = { id: m.id, root, results: null, later: [], dropped: false };
  const up24 = el('span', { class: 'uptime' });
  const up30 = el('span', { class: 'uptime' });
  const uptimes = el('div', { class: 'uptimes' }, el('span', null, el('span', { class: 'muted', text: '24 h ' }), up24), el('span', null, el('span', { class: 'muted', text: '30 d ' }), up30));
  const cells = { strip, up24, up30, cell: el('td', { class: 'history-cell' }, root, uptimes) };
  loadStrip(strip);
  return cells;
}

/** Shows the uptime figures of `m` (from the list) and its last result in the strip. */
export function renderHistoryCells(cells, m) {
  for (const [cell, value, span] of [
    [cells.up24, m.uptime_24h, '24 h'],
    [cells.up30, m.uptime_30d, '30 d'],
  ]) {
    setText(cell, pct(value));
    setClass(cell, `uptime ${uptimeClass(value)}`);
    cell.title = num(value) === null ? `No checks in the last ${span}` : `Up ${pct(value)} of the last ${span}`;
  }
  if (m.last_result && typeof m.last_result === 'object') stripResult(cells.strip, m.last_result);
}

/** The row is gone: a queued load is skipped, and its tooltip closes. */
export function dropHistoryCells(cells) {
  cells.strip.dropped = true;
  dropTip(cells.strip.root);
}

/** Loads the strip again, whole (results may have been missed). */
export function reloadStrip(cells) {
  const strip = cells.strip;
  if (strip.results === null) return; // a load is queued or running
  strip.results = null;
  strip.later = [];
  loadStrip(strip);
}

/** Adds a result to the strip if it is newer than every result shown. */
export function stripResult(strip, r) {
  if (!r || num(r.at_ms) === null) return;
  if (strip.results === null) {
    strip.later.push(r); // merged when the load answers
    return;
  }
  const newest = strip.results.length ? strip.results[strip.results.length - 1].at_ms : -1;
  if (r.at_ms <= newest) return;
  strip.results.push(r);
  if (strip.results.length > STRIP_LEN) strip.results.shift();
  dropTip(strip.root);
  strip.root.firstChild.remove();
  strip.root.append(tick(r));
  finishStrip(strip);
}

function loadStrip(strip) {
  queue.push(strip);
  pump();
}

function pump() {
  while (loading < STRIP_LOADS_AT_ONCE && queue.length) {
    const strip = queue.shift();
    if (strip.dropped) continue;
    loading += 1;
    fetchStrip(strip).finally(() => {
      loading -= 1;
      pump();
    });
  }
}

async function fetchStrip(strip) {
  let list = [];
  try {
    // `last` answers the newest results, oldest first.
    const { data } = await api('GET', `api/monitors/${enc(strip.id)}/results?last=${STRIP_LEN}`);
    list = Array.isArray(data) ? data.filter((r) => r && num(r.at_ms) !== null) : [];
  } catch {
    // Shown as an empty strip; live results still fill it.
  }
  if (strip.dropped) return;
  const newest = list.length ? list[list.length - 1].at_ms : -1;
  const later = strip.later.filter((r) => r.at_ms > newest).sort((a, b) => a.at_ms - b.at_ms);
  strip.results = [...list, ...later].slice(-STRIP_LEN);
  strip.later = [];
  dropTip(strip.root);
  strip.root.replaceChildren(...placeholders(STRIP_LEN - strip.results.length), ...strip.results.map(tick));
  finishStrip(strip);
}

/** The strip's name says what it shows, for screen readers and the tests alike. */
function finishStrip(strip) {
  const failed = strip.results.filter((r) => r.ok !== true).length;
  const n = strip.results.length;
  const summary = n === 0 ? 'no checks yet' : `${n - failed} ok, ${failed} failed`;
  strip.root.setAttribute('aria-label', `Last ${n || STRIP_LEN} checks: ${summary}`);
  rove(strip.root, '.tick[aria-label]');
}

function placeholders(n) {
  return Array.from({ length: Math.max(0, n) }, () => el('span', { class: 'tick none', 'aria-hidden': 'true' }));
}

function tick(r) {
  return el('span', { class: r.ok === true ? 'tick ok' : 'tick bad', role: 'img', tabIndex: -1, 'aria-label': resultLabel(r) });
}

/** "3/12/2026, 09:10:02 · OK · HTTP 200 · 45 ms · by node-a" (and the error of a failure). */
function resultLabel(r) {
  const parts = [clockTime(r.at_ms), r.ok === true ? 'OK' : 'Failed', num(r.status_code) === null ? 'no HTTP status' : `HTTP ${r.status_code}`, ms(r.latency_ms)];
  if (r.ok !== true && r.error) parts.push(str(r.error));
  if (r.node) parts.push(`by ${str(r.node)}`);
  return parts.join(' · ');
}
