// Drawing for the history views, from plain data and with no library: the response-time chart
// with its incident lane (SVG), and the tooltip and keyboard behaviour it shares with the
// heartbeat strips and the day bar. history.js and heartbeat.js own the data and the requests;
// nothing here talks to the node.
//
// Hover and keyboard work the same way everywhere: each tick, day, chart bucket and incident is
// an item with an aria-label in a "tip group". The group is one tab stop; arrow keys, Home and
// End move between its items, and hovering or focusing an item shows its label in one shared
// tooltip. Labels are set as attributes (text), never parsed as markup.

import { el, ms } from './util.js';

/** The SVG namespace is a name, not an address: nothing is loaded from it. */
const SVG_NS = 'http://www.w3.org/2000/svg';
const MINUTE = 60 * 1000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

const PLOT_HEIGHT = 160; // px of the latency plot
const AXIS_HEIGHT = 22; // px below the plot for the time labels
const LANE_HEIGHT = 12; // px of the incident lane under the time labels
const MARGIN = { left: 60, right: 10, top: 8, bottom: 4 };
const MIN_PLOT_WIDTH = 120; // px; a narrower box gets a sideways scroll rather than a squashed chart
const X_LABEL_SPACING = 90; // px wanted between two time labels
const Y_TICKS = 4; // about this many latency grid lines
const MIN_Y_MAX_MS = 10; // the latency axis goes at least this high (a flat 0 ms line reads badly)
const MIN_OUTAGE_PX = 2; // a short incident is still drawn this wide
const TIP_GAP_PX = 6;
/** A bucket further than this many steps from the one before starts a new line segment. */
const GAP_STEPS = 1.5;
/** Time-label spacings to choose from, smallest first. */
const LABEL_STEPS = [MINUTE, 5 * MINUTE, 10 * MINUTE, 15 * MINUTE, 30 * MINUTE, HOUR, 2 * HOUR, 3 * HOUR, 6 * HOUR, 12 * HOUR, DAY, 2 * DAY, 7 * DAY, 14 * DAY, 30 * DAY, 61 * DAY, 91 * DAY];

// ---------- SVG ----------

/** Creates an SVG element; `attrs` become attributes (text), children are appended. */
function svg(tag, attrs, ...children) {
  const node = document.createElementNS(SVG_NS, tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value !== null && value !== undefined) node.setAttribute(key, String(value));
  }
  node.append(...children.filter(Boolean));
  return node;
}

const px = (v) => Math.round(v * 10) / 10;

// ---------- tooltip and keyboard ----------

let tip = null;
let tipItem = null;

function tipNode() {
  if (!tip) {
    // Hidden from screen readers: they read the focused item's own aria-label.
    tip = el('div', { class: 'tip', 'aria-hidden': 'true', hidden: true });
    document.body.append(tip);
    window.addEventListener('scroll', hideTip, true);
  }
  return tip;
}

function showTip(item) {
  const t = tipNode();
  tipItem = item;
  t.textContent = item.getAttribute('aria-label') || '';
  t.hidden = false;
  const box = item.getBoundingClientRect();
  const left = Math.min(Math.max(4, box.left + box.width / 2 - t.offsetWidth / 2), window.innerWidth - t.offsetWidth - 4);
  let top = box.top - t.offsetHeight - TIP_GAP_PX;
  if (top < 4) top = box.bottom + TIP_GAP_PX;
  t.style.left = `${Math.max(4, left)}px`;
  t.style.top = `${top}px`;
}

function hideTip() {
  if (tip) tip.hidden = true;
  tipItem = null;
}

/** Hides the tooltip if it belongs to an item of `group` (which is being redrawn or removed). */
export function dropTip(group) {
  if (tipItem && (group.contains(tipItem) || !tipItem.isConnected)) hideTip();
}

/**
 * Makes the items (matching `selector`) of `group` one tab stop with a tooltip; items may be
 * replaced freely afterwards (call `rove` after each redraw).
 */
export function tipGroup(group, selector) {
  const itemOf = (target) => {
    const item = target instanceof Element ? target.closest(selector) : null;
    return item && group.contains(item) ? item : null;
  };
  group.addEventListener('mouseover', (ev) => {
    const item = itemOf(ev.target);
    if (item) showTip(item);
  });
  group.addEventListener('mouseleave', () => {
    const focused = itemOf(document.activeElement);
    if (focused) showTip(focused);
    else hideTip();
  });
  group.addEventListener('focusin', (ev) => {
    const item = itemOf(ev.target);
    if (!item) return;
    for (const other of group.querySelectorAll(selector)) other.setAttribute('tabindex', other === item ? '0' : '-1');
    showTip(item);
  });
  group.addEventListener('focusout', hideTip);
  group.addEventListener('keydown', (ev) => {
    const items = [...group.querySelectorAll(selector)].filter((i) => i.getClientRects().length > 0); // shown ones
    const at = items.indexOf(itemOf(ev.target));
    if (at < 0) return;
    const to = { ArrowLeft: at - 1, ArrowUp: at - 1, ArrowRight: at + 1, ArrowDown: at + 1, Home: 0, End: items.length - 1 }[ev.key];
    if (ev.key === 'Escape') hideTip();
    if (to === undefined) return;
    ev.preventDefault();
    items[Math.max(0, Math.min(items.length - 1, to))].focus();
  });
}

/** Keeps exactly one item of `group` in the tab order: the one that had it, else the last. */
export function rove(group, selector) {
  const items = [...group.querySelectorAll(selector)];
  const current = items.find((i) => i.getAttribute('tabindex') === '0') || items[items.length - 1];
  for (const item of items) item.setAttribute('tabindex', item === current ? '0' : '-1');
}

// ---------- time and number labels ----------

const timeOfDay = (t) => new Date(t).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
const dayOfMonth = (t) => new Date(t).toLocaleDateString([], { day: 'numeric', month: 'short' });

/** A UTC day (the server's day buckets are UTC days): "Wed, 3 Dec 2026 (UTC)". */
export const utcDay = (t) =>
  `${new Date(t).toLocaleDateString([], { weekday: 'short', day: 'numeric', month: 'short', year: 'numeric', timeZone: 'UTC' })} (UTC)`;

/** A bucket's time span for a label: "3 Dec, 09:10 – 09:15"; whole UTC days by their dates. */
function spanLabel(from, to) {
  if (from % DAY === 0 && (to - from) % DAY === 0) return to - from === DAY ? utcDay(from) : `${utcDay(from)} – ${utcDay(to - DAY)}`;
  if (to - from >= DAY) return `${dayOfMonth(from)}, ${timeOfDay(from)} – ${dayOfMonth(to)}, ${timeOfDay(to)}`;
  return `${dayOfMonth(from)}, ${timeOfDay(from)} – ${timeOfDay(to)}`;
}

/** The first label step giving at most `n` labels over `span`. */
function labelStep(span, n) {
  return LABEL_STEPS.find((s) => span / s <= n) || LABEL_STEPS[LABEL_STEPS.length - 1];
}

/** Label times: multiples of `step` in local time (midnight, full hours), within [from, to]. */
function labelTimes(from, to, step) {
  const offset = new Date(from).getTimezoneOffset() * MINUTE; // UTC minus local
  const times = [];
  for (let t = Math.ceil((from - offset) / step) * step + offset; t <= to; t += step) times.push(t);
  return times;
}

/** A round axis maximum and its grid step for values up to `max`. */
function niceAxis(max) {
  const rough = Math.max(max, MIN_Y_MAX_MS) / Y_TICKS;
  const power = 10 ** Math.floor(Math.log10(rough));
  const step = [1, 2, 2.5, 5, 10].map((f) => f * power).find((s) => s >= rough);
  return { top: Math.ceil(Math.max(max, MIN_Y_MAX_MS) / step) * step, step };
}

const msLabel = (v) => (v >= 1000 ? `${Math.round(v / 100) / 10} s` : `${Math.round(v * 10) / 10} ms`);

// ---------- response-time chart ----------

/** A bucket had failed checks: some of its checks failed, or it counts down time. */
const failed = (p) => (p.checks > 0 && p.ok < p.checks) || (p.uptime !== null && p.uptime < 1);

/** Runs of consecutive buckets with latency (a bucket without checks breaks the lines). */
function segments(points, stepMs) {
  const runs = [];
  let run = null;
  let prev = null;
  for (const p of points) {
    if (p.p50 === null || p.p95 === null) {
      run = null;
      continue;
    }
    if (!run || !prev || p.at - prev.at > stepMs * GAP_STEPS) {
      run = [];
      runs.push(run);
    }
    run.push(p);
    prev = p;
  }
  return runs;
}

/** One line through the runs; a run of one bucket is a dot (round caps on a tiny segment). */
function linePath(runs, key, x, y) {
  return runs
    .map((run) => {
      const [first, ...rest] = run;
      const start = `M${px(x(first))},${px(y(first[key]))}`;
      return rest.length ? start + rest.map((p) => `L${px(x(p))},${px(y(p[key]))}`).join('') : `${start}l0.01,0`;
    })
    .join('');
}

/** The area between the p50 and p95 lines of each run. */
function bandPath(runs, x, y) {
  return runs
    .filter((run) => run.length > 1)
    .map((run) => {
      const upper = run.map((p, i) => `${i ? 'L' : 'M'}${px(x(p))},${px(y(p.p95))}`).join('');
      const lower = run
        .slice()
        .reverse()
        .map((p) => `L${px(x(p))},${px(y(p.p50))}`)
        .join('');
      return `${upper}${lower}Z`;
    })
    .join('');
}

/**
 * The response-time chart of one range as an SVG element `width` px wide: p50 and p95 lines
 * (with the band between them), failed buckets marked in red, and under the time axis a lane
 * with the incidents that overlap the range.
 *
 * `points` are buckets `{ at, checks, ok, uptime, p50, p95, max }` (ms; latency null when no
 * check succeeded), `stepMs` their length, `incidents` `{ start, end, label }` (end null while
 * ongoing), `now` the server's clock, `label` the chart's accessible name.
 */
export function responseChart({ from, to, stepMs, points, incidents, now, width, label }) {
  const plotW = Math.max(MIN_PLOT_WIDTH, width - MARGIN.left - MARGIN.right);
  const plotBottom = MARGIN.top + PLOT_HEIGHT;
  const withData = points.filter((p) => p.checks > 0 || p.p50 !== null);
  const axis = niceAxis(Math.max(0, ...withData.map((p) => p.p95 ?? p.p50 ?? 0)));
  const scale = {
    from,
    to,
    plotW,
    stepMs,
    x: (t) => MARGIN.left + ((Math.min(Math.max(t, from), to) - from) / (to - from)) * plotW,
    y: (v) => plotBottom - (Math.min(v, axis.top) / axis.top) * PLOT_HEIGHT,
  };
  const chart = svg(
    'svg',
    { class: 'chart', width: MARGIN.left + plotW + MARGIN.right, height: plotBottom + AXIS_HEIGHT + LANE_HEIGHT + MARGIN.bottom, role: 'group', 'aria-label': label, 'data-from': from, 'data-to': to, 'data-step': stepMs },
    grid(scale, axis),
    failMarks(points, scale),
    lines(points, scale),
    hitLayer(withData, scale, label),
    incidentLane(incidents, now, scale),
  );
  if (withData.length === 0) {
    chart.append(svg('text', { class: 'no-data', x: MARGIN.left + plotW / 2, y: MARGIN.top + PLOT_HEIGHT / 2, 'text-anchor': 'middle' }, 'No checks in this range'));
  }
  return chart;
}

/** Latency grid lines with their labels, and the time axis with its labels. */
function grid({ from, to, plotW, x, y }, axis) {
  const plotBottom = MARGIN.top + PLOT_HEIGHT;
  const g = svg('g', { class: 'grid', 'aria-hidden': 'true' });
  for (let v = 0; v <= axis.top; v += axis.step) {
    g.append(
      svg('line', { x1: MARGIN.left, x2: MARGIN.left + plotW, y1: px(y(v)), y2: px(y(v)) }),
      svg('text', { x: MARGIN.left - 6, y: px(y(v)), 'text-anchor': 'end', 'dominant-baseline': 'middle' }, msLabel(v)),
    );
  }
  const step = labelStep(to - from, Math.max(2, Math.floor(plotW / X_LABEL_SPACING)));
  for (const t of labelTimes(from, to, step)) {
    const at = x(t);
    const midnight = (t - new Date(t).getTimezoneOffset() * MINUTE) % DAY === 0;
    const anchor = at - MARGIN.left < 20 ? 'start' : MARGIN.left + plotW - at < 20 ? 'end' : 'middle';
    g.append(
      svg('line', { class: 'tick', x1: px(at), x2: px(at), y1: plotBottom, y2: plotBottom + 4 }),
      svg('text', { x: px(at), y: plotBottom + 15, 'text-anchor': anchor }, step >= DAY || midnight ? dayOfMonth(t) : timeOfDay(t)),
    );
  }
  g.append(svg('line', { class: 'axis', x1: MARGIN.left, x2: MARGIN.left + plotW, y1: plotBottom, y2: plotBottom }));
  return g;
}

/** A faint red band over each bucket with failed checks, and a red mark on the time axis. */
function failMarks(points, { x, stepMs }) {
  const g = svg('g', { class: 'fails', 'aria-hidden': 'true' });
  for (const p of points.filter(failed)) {
    const left = x(p.at);
    const w = Math.max(1.5, x(p.at + stepMs) - left);
    g.append(
      svg('rect', { class: 'fail-band', x: px(left), y: MARGIN.top, width: px(w), height: PLOT_HEIGHT }),
      svg('rect', { class: 'fail', x: px(left), y: MARGIN.top + PLOT_HEIGHT - 4, width: px(w), height: 4 }),
    );
  }
  return g;
}

/** The p50 and p95 lines through the buckets' middles, and the band between them. */
function lines(points, { x, y, stepMs }) {
  const runs = segments(points, stepMs);
  const mid = (p) => x(p.at + stepMs / 2);
  return svg(
    'g',
    { 'aria-hidden': 'true' },
    svg('path', { class: 'band', d: bandPath(runs, mid, y) }),
    svg('path', { class: 'p95', d: linePath(runs, 'p95', mid, y) }),
    svg('path', { class: 'p50', d: linePath(runs, 'p50', mid, y) }),
  );
}

/** One invisible column per bucket with checks: what hover and the keyboard show. */
function hitLayer(points, { x, stepMs }, label) {
  const g = svg('g', { class: 'hits', role: 'group', 'aria-label': `${label}, one item per ${stepText(stepMs)}` });
  for (const p of points) {
    const left = x(p.at);
    g.append(
      svg('rect', {
        class: failed(p) ? 'hit has-fail' : 'hit',
        x: px(left),
        y: MARGIN.top,
        width: px(Math.max(2, x(p.at + stepMs) - left)),
        height: PLOT_HEIGHT,
        role: 'img',
        tabindex: '-1',
        'aria-label': bucketLabel(p, stepMs),
      }),
    );
  }
  tipGroup(g, '.hit');
  rove(g, '.hit');
  return g;
}

function stepText(stepMs) {
  if (stepMs % DAY === 0) return stepMs === DAY ? 'day' : `${stepMs / DAY} days`;
  if (stepMs % HOUR === 0) return stepMs === HOUR ? 'hour' : `${stepMs / HOUR} hours`;
  if (stepMs % MINUTE === 0) return stepMs === MINUTE ? 'minute' : `${stepMs / MINUTE} minutes`;
  return `${Math.round(stepMs / 1000)} seconds`;
}

function bucketLabel(p, stepMs) {
  const parts = [spanLabel(p.at, p.at + stepMs)];
  const bad = p.checks - p.ok;
  parts.push(`${p.checks.toLocaleString()} check${p.checks === 1 ? '' : 's'}${bad > 0 ? `, ${bad.toLocaleString()} failed` : ''}`);
  if (p.p50 !== null) parts.push(`p50 ${ms(p.p50)}`, `p95 ${ms(p.p95)}`);
  if (p.max !== null) parts.push(`max ${ms(p.max)}`);
  return parts.join(' · ');
}

/** The lane of incidents under the time axis; each overlapping incident is a red span. */
function incidentLane(incidents, now, { from, to, plotW, x: tx }) {
  const top = MARGIN.top + PLOT_HEIGHT + AXIS_HEIGHT;
  const shown = incidents.filter((i) => i.start < to && (i.end === null || i.end > from));
  const lane = svg(
    'g',
    { class: 'lane', role: 'group', 'aria-label': shown.length ? `Incidents in this range: ${shown.length}` : 'No incidents in this range' },
    svg('text', { x: MARGIN.left - 6, y: top + LANE_HEIGHT / 2, 'text-anchor': 'end', 'dominant-baseline': 'middle', 'aria-hidden': 'true' }, 'Incidents'),
    svg('rect', { class: 'lane-bg', x: MARGIN.left, y: top, width: plotW, height: LANE_HEIGHT, 'aria-hidden': 'true' }),
  );
  for (const i of shown) {
    const end = i.end === null ? now : i.end;
    const x = tx(i.start);
    const w = Math.max(MIN_OUTAGE_PX, tx(end) - x);
    lane.append(
      svg('rect', {
        class: i.end === null ? 'outage ongoing' : 'outage',
        x: px(Math.min(x, MARGIN.left + plotW - w)),
        y: top,
        width: px(w),
        height: LANE_HEIGHT,
        role: 'img',
        tabindex: '-1',
        'aria-label': i.label,
      }),
    );
  }
  tipGroup(lane, '.outage');
  rove(lane, '.outage');
  return lane;
}
