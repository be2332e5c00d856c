// The history part of a monitor's detail panel: the figures and the response-time chart of a
// chosen range (1 h to 1 y) with the incidents of that range in a lane under it, and a bar of
// daily availability over the last DAYS days.
//
// It belongs to a detail panel as `v.detail.history`: detail.js creates it, hands it each
// incident list it loads, ticks it every second and closes it. The figures come from
// /api/monitors/{id}/stats, the chart and the day bar from /series; they are loaded when the
// panel opens, when a range button is clicked (also the pressed one: a reload), and again while
// the panel is open, as often as the range's finest data changes on the node (minute figures
// every few seconds, hour and day figures every minute). Anything missing (a null field, an
// endpoint the node does not have) shows as "–" or a note, never breaks the panel.

import { api, ApiError, clockTime, count, el, elapsed, enc, ms, num, pct, serverNow, setText, str, uptimeClass } from './util.js';
import { dropTip, responseChart, rove, tipGroup, utcDay } from './charts.js';

const MINUTE = 60 * 1000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
/**
 * The ranges offered: the bucket step asked for (at most a few hundred points each) and how
 * often an open panel reloads the range (a bucket of 5 min changes more often than one of 1 d).
 */
const RANGES = [
  { key: '1h', label: '1 h', ms: HOUR, step: '60s', refreshMs: 15 * 1000 },
  { key: '24h', label: '24 h', ms: DAY, step: '300s', refreshMs: 60 * 1000 },
  { key: '7d', label: '7 d', ms: 7 * DAY, step: '1h', refreshMs: 5 * 60 * 1000 },
  { key: '30d', label: '30 d', ms: 30 * DAY, step: '1h', refreshMs: 5 * 60 * 1000 },
  { key: '90d', label: '90 d', ms: 90 * DAY, step: '1d', refreshMs: 5 * 60 * 1000 },
  { key: '1y', label: '1 y', ms: 365 * DAY, step: '1d', refreshMs: 5 * 60 * 1000 },
];
const DEFAULT_RANGE = RANGES[1];
const DAYS = 90; // cells of the daily availability bar, today included
const DAYS_REFRESH_MS = 5 * 60 * 1000;
const REDRAW_MIN_PX = 4; // a width change smaller than this keeps the drawn chart

/** The history part of the panel of `v` (not yet loaded: call `refreshHistory`). */
export function createHistory(v) {
  const h = {
    range: DEFAULT_RANGE,
    seq: 0, // the newest range load; older answers are dropped
    daysSeq: 0,
    loadedAt: 0, // Date.now() of the last range load
    daysAt: 0, // and of the day bar's
    daysStatus: null, // the monitor's status when the day bar was loaded
    chart: null, // { from, to, stepMs, points } of the range shown, or { error }
    incidents: [],
    width: 0,
    observer: null,
  };
  h.buttons = RANGES.map((r) => {
    const b = el('button', { type: 'button', class: 'range', text: r.label, 'data-range': r.key, 'aria-pressed': String(r === h.range) });
    b.addEventListener('click', () => chooseRange(v, h, r));
    return b;
  });
  h.title = el('h3', { text: rangeTitle(h.range) });
  h.stats = el('dl', { class: 'stats' });
  h.nodes = el('p', { class: 'by-node muted', hidden: true });
  h.chartBox = el('div', { class: 'chart-box', text: 'Loading response times…' });
  h.days = el('div', { class: 'days', role: 'group', 'aria-label': `Availability per day, last ${DAYS} days` });
  h.daysTotal = el('span', { class: 'days-total' });
  tipGroup(h.days, '.day');
  renderStats(h, null);
  h.root = el(
    'div',
    { class: 'history' },
    el(
      'section',
      { class: 'detail-history', 'aria-label': 'Response time' },
      el('div', { class: 'history-top' }, h.title, el('div', { class: 'ranges', role: 'group', 'aria-label': 'Range' }, ...h.buttons)),
      h.stats,
      h.nodes,
      h.chartBox,
      legend(),
    ),
    el(
      'section',
      { class: 'detail-days', 'aria-label': `Availability, last ${DAYS} days` },
      el('div', { class: 'history-top' }, el('h3', { text: `Availability, last ${DAYS} days` }), h.daysTotal),
      h.days,
      el('div', { class: 'days-axis muted', 'aria-hidden': 'true' }, el('span', { text: `${DAYS} days ago` }), el('span', { text: 'today' })),
    ),
  );
  if (typeof ResizeObserver === 'function') {
    h.observer = new ResizeObserver(() => {
      if (Math.abs(h.chartBox.clientWidth - h.width) >= REDRAW_MIN_PX) drawChart(h);
    });
    h.observer.observe(h.chartBox);
  }
  return h;
}

/** Loads the figures, the chart and the day bar. */
export function refreshHistory(v) {
  const h = v.detail.history;
  loadRange(v, h);
  loadDays(v, h);
}

/** Every second: reloads what is due, unless someone is reading it by keyboard. */
export function tickHistory(v) {
  const h = v.detail.history;
  const now = Date.now();
  const reading = (node) => node.contains(document.activeElement);
  if (!reading(h.chartBox) && now - h.loadedAt >= h.range.refreshMs) loadRange(v, h);
  // A status change shows in today's cell at once, not at the next 5-minute refresh.
  const due = now - h.daysAt >= DAYS_REFRESH_MS || v.m.status !== h.daysStatus;
  if (!reading(h.days) && due) loadDays(v, h);
}

export function closeHistory(h) {
  if (h.observer) h.observer.disconnect();
  dropTip(h.root);
}

/**
 * The incidents detail.js loaded (newest first, as the API answers them) go in the lane; one
 * that started or ended after the chart's end (a status change just now) reloads the chart.
 */
export function historyIncidents(v, list) {
  const h = v.detail.history;
  h.incidents = list.map((i) => ({ start: i.start_ms, end: num(i.end_ms), cause: str(i.cause) }));
  const end = h.chart && !h.chart.error ? h.chart.to : Infinity;
  if (h.incidents.some((i) => Math.max(i.start, i.end ?? 0) > end)) loadRange(v, h);
  else drawChart(h);
}

function chooseRange(v, h, range) {
  h.range = range;
  for (const b of h.buttons) b.setAttribute('aria-pressed', String(b.dataset.range === range.key));
  setText(h.title, rangeTitle(range));
  loadRange(v, h);
}

const rangeTitle = (range) => `Response time, last ${range.label}`;

// ---------- loading ----------

async function loadRange(v, h) {
  const seq = ++h.seq;
  const range = h.range;
  const id = v.m.id;
  h.loadedAt = Date.now();
  const to = Math.round(serverNow());
  const from = to - range.ms;
  h.chartBox.classList.add('loading');
  const [stats, series] = await Promise.allSettled([
    api('GET', `api/monitors/${enc(id)}/stats?window=${range.key}`),
    loadSeries(id, from, to, range.step),
  ]);
  if (seq !== h.seq || v.detail?.history !== h) return; // a newer range, or the panel closed
  h.chartBox.classList.remove('loading');
  renderStats(h, stats.status === 'fulfilled' ? stats.value.data : null);
  h.chart = series.status === 'fulfilled' ? chartData(series.value, from, to, range) : { error: series.reason };
  drawChart(h);
}

/** A series; a node that refuses the step asked for picks its own. */
async function loadSeries(id, from, to, step) {
  const path = `api/monitors/${enc(id)}/series?from=${from}&to=${to}`;
  try {
    return (await api('GET', `${path}&step=${step}`)).data;
  } catch (e) {
    if (e instanceof ApiError && e.status === 400) return (await api('GET', path)).data;
    throw e;
  }
}

/** The buckets of a series answer, sorted, with numbers checked (latency null without checks). */
function seriesPoints(data) {
  const list = data && Array.isArray(data.points) ? data.points : [];
  return list
    .filter((p) => p && num(p.at_ms) !== null)
    .map((p) => {
      const l = p.latency_ms && typeof p.latency_ms === 'object' ? p.latency_ms : {};
      const checks = num(p.checks) ?? 0;
      return {
        at: p.at_ms,
        checks,
        ok: num(p.ok) ?? checks,
        downMs: num(p.down_ms) ?? 0,
        uptime: num(p.uptime),
        p50: num(l.p50),
        p95: num(l.p95),
        max: num(l.max),
      };
    })
    .sort((a, b) => a.at - b.at);
}

function chartData(data, from, to, range) {
  const points = seriesPoints(data);
  const stepSecs = data ? num(data.step_secs) : null;
  const inferred = points.length > 1 ? points[1].at - points[0].at : range.ms / 60;
  return {
    from: (data && num(data.from_ms)) ?? from,
    to: (data && num(data.to_ms)) ?? to,
    stepMs: stepSecs !== null && stepSecs > 0 ? stepSecs * 1000 : inferred,
    points,
  };
}

// ---------- figures and chart ----------

function renderStats(h, s) {
  const stats = s && typeof s === 'object' ? s : {};
  const lat = stats.latency_ms && typeof stats.latency_ms === 'object' ? stats.latency_ms : {};
  const checks = num(stats.checks);
  const bad = checks !== null && num(stats.ok) !== null ? checks - stats.ok : 0;
  const down = num(stats.down_ms);
  const items = [
    ['Uptime', pct(stats.uptime), uptimeClass(stats.uptime)],
    ['Down', down === null ? '–' : down === 0 ? 'never' : elapsed(down)],
    ['Incidents', count(stats.incidents)],
    ['Checks', checks === null ? '–' : `${count(checks)}${bad > 0 ? ` (${count(bad)} failed)` : ''}`],
    ['p50', ms(lat.p50)],
    ['p95', ms(lat.p95)],
    ['p99', ms(lat.p99)],
    ['Max', ms(lat.max)],
  ];
  h.stats.replaceChildren(...items.map(([name, value, cls]) => el('div', { class: cls ? `stat ${cls}` : 'stat' }, el('dt', { text: name }), el('dd', { text: value }))));
  const nodes = Array.isArray(stats.by_node) ? stats.by_node.filter((n) => n && typeof n === 'object') : [];
  h.nodes.hidden = nodes.length < 2; // one node: the figures above say it all
  setText(h.nodes, `By node: ${nodes.map(nodeFigures).join(' · ')}`);
}

function nodeFigures(n) {
  const lat = n.latency_ms && typeof n.latency_ms === 'object' ? n.latency_ms : {};
  return `${str(n.node) || '?'} ${pct(n.success_ratio)} ok of ${count(n.checks)} checks, p95 ${ms(lat.p95)}`;
}

function drawChart(h) {
  const box = h.chartBox;
  if (!h.chart) return; // still loading; the incidents are drawn with the chart
  dropTip(box);
  if (h.chart.error) {
    const e = h.chart.error;
    const why = e instanceof ApiError && e.status === 404 ? 'this node does not keep response-time history' : e.message;
    box.replaceChildren(el('p', { class: 'muted', text: `No response-time chart: ${why}.` }));
    return;
  }
  h.width = box.clientWidth;
  const incidents = h.incidents.map((i) => ({ ...i, label: incidentLabel(i) }));
  const label = `Response time, last ${h.range.label}: p50 and p95 latency, failed checks, incidents`;
  box.replaceChildren(responseChart({ ...h.chart, incidents, now: serverNow(), width: h.width, label }));
}

function incidentLabel(i) {
  const cause = i.cause ? `: ${i.cause}` : '';
  if (i.end === null) return `Down since ${clockTime(i.start)} (ongoing, ${elapsed(serverNow() - i.start)})${cause}`;
  return `Down ${clockTime(i.start)} – ${clockTime(i.end)} (${elapsed(i.end - i.start)})${cause}`;
}

function legend() {
  const item = (cls, text) => el('li', null, el('span', { class: `swatch ${cls}`, 'aria-hidden': 'true' }), text);
  return el('ul', { class: 'legend' }, item('p50', 'p50'), item('p95', 'p95'), item('fail', 'failed checks'), item('outage', 'incident'));
}

// ---------- daily availability ----------

async function loadDays(v, h) {
  const seq = ++h.daysSeq;
  const id = v.m.id;
  h.daysAt = Date.now();
  h.daysStatus = v.m.status;
  const now = Math.round(serverNow());
  const from = Math.floor(now / DAY) * DAY - (DAYS - 1) * DAY; // the start of a UTC day
  const [series, stats] = await Promise.allSettled([
    api('GET', `api/monitors/${enc(id)}/series?from=${from}&to=${now}&step=1d`),
    api('GET', `api/monitors/${enc(id)}/stats?window=${DAYS}d`),
  ]);
  if (seq !== h.daysSeq || v.detail?.history !== h) return;
  const total = stats.status === 'fulfilled' && stats.value.data ? num(stats.value.data.uptime) : null;
  setText(h.daysTotal, total === null ? '–' : `${pct(total)} up`);
  h.daysTotal.className = `days-total ${uptimeClass(total)}`;
  const byDay = new Map();
  if (series.status === 'fulfilled') {
    for (const p of seriesPoints(series.value.data)) byDay.set(Math.floor((p.at - from) / DAY), p);
  }
  const cells = [];
  for (let i = 0; i < DAYS; i += 1) {
    const p = byDay.get(i) || null;
    const uptime = p ? p.uptime : null;
    cells.push(el('span', { class: `day ${uptimeClass(uptime)}`, role: 'img', tabIndex: -1, 'aria-label': dayLabel(from + i * DAY, p) }));
  }
  const signature = cells.map((c) => `${c.className}|${c.getAttribute('aria-label')}`).join('\n');
  if (signature === h.daysShown) return; // unchanged: keep the cells (and a keyboard focus)
  h.daysShown = signature;
  dropTip(h.days);
  h.days.replaceChildren(...cells);
  rove(h.days, '.day');
}

function dayLabel(day, p) {
  if (!p || p.uptime === null) return `${utcDay(day)}: no data`;
  const parts = [`${utcDay(day)}: ${pct(p.uptime)} up`];
  if (p.checks > 0) parts.push(`${count(p.checks)} checks${p.ok < p.checks ? `, ${count(p.checks - p.ok)} failed` : ''}`);
  if (p.downMs > 0) parts.push(`down ${elapsed(p.downMs)}`);
  return parts.join(' · ');
}
