// A monitor's history as the dashboard shows it: each row's heartbeat strip (ticks with time,
// code and latency on hover and keyboard focus) and uptime figures; in the detail panel the
// response-time chart (p50 and p95, failures marked) with its six ranges, the 90-day bar of
// daily availability and the incident lane; the same on a 390 px screen; and "–" with a note
// when the node has no history to give.
//
// The node aggregates checks into minute figures every few seconds and computes the list's
// uptime figures once a minute, so a test waits (with a deadline) until the node answers the
// data it then expects the page to show.
//
// With RINGWATCH_SCREENS set to a directory, the tests save screenshots of the list and the
// detail panel there (PNG).

import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe } from 'node:test';
import { createMonitors, dashboardTest, expectCount, expectText, row, suite, until } from './harness.js';

const HOUR = 3600 * 1000;
const DAY = 24 * HOUR;
/** The range buttons of the detail panel and the span each asks the series for (history.js). */
const RANGES = [
  ['1h', '1 h', HOUR],
  ['24h', '24 h', DAY],
  ['7d', '7 d', 7 * DAY],
  ['30d', '30 d', 30 * DAY],
  ['90d', '90 d', 90 * DAY],
  ['1y', '1 y', 365 * DAY],
];
const DAYS = 90;
const UPTIME = /^(100|\d{1,2}(\.\d{1,2})?)%$/;
const BELOW_100 = /^\d{1,2}(\.\d{1,2})?%$/;
/** How long the node may take to show a monitor's list figures (computed at creation and at each status change, then carried forward). */
const FIGURES_WAIT_MS = 15000;

async function screenshot(page, name) {
  const dir = process.env.RINGWATCH_SCREENS;
  if (!dir) return;
  mkdirSync(dir, { recursive: true });
  await page.screenshot({ path: join(dir, `${name}.png`), fullPage: true });
}

/** The series requests the page makes, as `{ from, to, step }` (numbers, step a string). */
function watchSeries(page) {
  const seen = [];
  page.on('request', (req) => {
    const url = new URL(req.url());
    if (!url.pathname.endsWith('/series')) return;
    const p = url.searchParams;
    seen.push({ from: Number(p.get('from')), to: Number(p.get('to')), step: p.get('step') });
  });
  return seen;
}

describe('history views', () => {
  const env = suite('history');
  const tag = Date.now().toString(36);
  const spec = (name, path, extra = {}) => ({ url: `${env().target.url}${path}`, name, interval_secs: 1, timeout_ms: 2000, ...extra });
  /** The last hour of `id` by minute, as the node answers it. */
  const lastHour = async (id) => {
    const now = Date.now();
    const res = await env().node.api('GET', `api/monitors/${id}/series?from=${now - HOUR}&to=${now}&step=60s`);
    return res.status === 200 ? res.data.points : [];
  };
  const good = `strip-ok-${tag}`;
  const bad = `strip-fail-${tag}`;

  dashboardTest('each row shows its recent checks as ticks', env, async (page) => {
    await createMonitors(env().node, [spec(good, '/ok'), spec(bad, '/fail')]);
    const okRow = row(page, good);
    await until(async () => (await okRow.locator('.tick.ok').count()) >= 3, 'three good ticks');
    assert.equal(await okRow.locator('.tick.bad').count(), 0);

    // Each tick is labelled with time, code and latency; hovering shows the label.
    const newest = okRow.locator('.tick[aria-label]').last();
    const label = await newest.getAttribute('aria-label');
    assert.match(label, /\d{1,2}:\d{2}:\d{2}/, 'a time of day');
    assert.match(label, / · OK · HTTP 200 · \d+ ms · by /, 'result, code and latency');
    await newest.hover();
    const tip = page.locator('.tip');
    await tip.waitFor({ state: 'visible' });
    await expectText(tip, 'HTTP 200');

    const badRow = row(page, bad);
    await until(async () => (await badRow.locator('.tick.bad').count()) >= 2, 'two failed ticks');
    assert.match(await badRow.locator('.tick.bad').last().getAttribute('aria-label'), / · Failed · HTTP 500 · \d+ ms · .*500/);

    // Live results extend the strip (a monitor checked every second).
    const before = await okRow.locator('.tick.ok').count();
    await until(async () => (await okRow.locator('.tick.ok').count()) > before, 'a new tick');
    assert.match(await okRow.locator('.strip').getAttribute('aria-label'), /^Last \d+ checks: \d+ ok, 0 failed$/);

    // The keyboard reaches the strip as one stop; arrows move between its ticks.
    await okRow.locator('.tick[tabindex="0"]').focus();
    const focused = await tip.textContent();
    await page.keyboard.press('ArrowLeft');
    await until(async () => (await tip.textContent()) !== focused, 'the tooltip of the tick before');
    assert.equal(await page.evaluate(() => document.activeElement.classList.contains('tick')), true);
  });

  dashboardTest('the detail panel shows the chart, its ranges, 90 days and the incidents', env, async (page) => {
    const series = watchSeries(page);
    const name = `history-${tag}`;
    const [m] = await createMonitors(env().node, [spec(name, `/flip/${name}`, { failure_threshold: 2, recovery_threshold: 1 })]);
    const r = row(page, name);
    await until(async () => (await lastHour(m.id)).some((p) => p.latency_ms), 'the first minute figures on the node');
    await r.getByRole('button', { name: 'Show recent results' }).click();
    const detail = page.locator('tr.detail');
    const chart = detail.locator('svg.chart');
    const outage = chart.locator('.lane .outage');
    const outageLabel = async () => (await outage.first().getAttribute('aria-label', { timeout: 1000 }).catch(() => '')) || '';

    // The chart of the default range (24 h): p50 and p95 of the good checks.
    await chart.waitFor();
    assert.equal(await detail.locator('button.range[aria-pressed="true"]').textContent(), '24 h');
    for (const line of ['p50', 'p95']) assert.match(await chart.locator(`path.${line}`).getAttribute('d'), /^M[\d.]+,[\d.]+/, `a ${line} line`);
    await expectText(detail.locator('.stat').filter({ hasText: 'Uptime' }).locator('dd'), UPTIME);
    await expectText(detail.locator('.stat').filter({ hasText: 'Checks' }).locator('dd'), /^\d/);
    await expectText(detail.locator('.stat').filter({ hasText: 'p95' }).locator('dd'), /^\d+ ms$/);
    const hit = chart.locator('.hit').last();
    assert.match(await hit.getAttribute('aria-label'), /\d+ checks? · p50 \d+ ms · p95 \d+ ms/);
    await hit.hover();
    await expectText(page.locator('.tip'), 'p95');

    // The 90-day bar: one cell per UTC day, today with data, the days before the monitor none.
    const days = detail.locator('.days .day');
    await expectCount(days, DAYS);
    assert.match(await days.last().getAttribute('aria-label'), /: (100|\d{1,2}(\.\d+)?)% up/);
    assert.match(await days.first().getAttribute('aria-label'), /: no data$/);
    assert.ok(series.some((s) => s.step === '1d' && s.from % DAY === 0 && s.to - s.from > (DAYS - 1) * DAY), 'the bar asks for daily points since a UTC midnight');

    // An outage: the incident appears in the lane under the chart while it lasts ...
    env().target.failing.add(name);
    await expectText(r.locator('.badge'), 'down');
    await until(async () => /^Down since .* \(ongoing, /.test(await outageLabel()), 'an ongoing incident in the lane');
    await expectText(detail.locator('.detail-incidents tbody tr').first(), 'ongoing');
    // ... and once it is over, with its end and length; the failed checks are marked.
    env().target.failing.delete(name);
    await expectText(r.locator('.badge'), 'up');
    await until(async () => /^Down .* – .* \((< 1 s|\d+ s)\)/.test(await outageLabel()), 'the ended incident in the lane');
    await expectCount(outage, 1);
    // Today's cell of the day bar follows the status changes, not only its 5-minute refresh.
    await until(async () => /: \d{1,2}(\.\d+)?% up.* · down /.test(await days.last().getAttribute('aria-label')), "today's cell with the outage");
    await until(async () => (await lastHour(m.id)).some((p) => p.ok < p.checks), 'the failed checks in the minute figures');

    // Each range reloads the chart with a series of its span and marks its button.
    for (const [key, label, span] of RANGES.slice().reverse()) {
      const asked = series.length;
      await detail.locator(`button.range[data-range="${key}"]`).click();
      assert.equal(await detail.locator('button.range[aria-pressed="true"]').textContent(), label);
      await until(() => series.slice(asked).some((s) => s.to - s.from === span), `a series request over ${label}`);
      await until(async () => Number(await chart.getAttribute('data-to')) - Number(await chart.getAttribute('data-from')) === span, `the chart of ${label}`);
      await expectText(detail.locator('.history-top h3').first(), `Response time, last ${label}`);
    }
    // The last range clicked is 1 h: the failed checks of the outage are marked in it.
    assert.ok((await chart.locator('rect.fail').count()) >= 1, 'failed checks are marked');
    assert.ok((await chart.locator('.hit.has-fail').count()) >= 1, 'a bucket with failures');
    assert.match(await chart.locator('.hit.has-fail').first().getAttribute('aria-label'), /\d+ checks?, \d+ failed/);
    await outage.hover();
    await expectText(page.locator('.tip'), /^Down /);
    await screenshot(page, 'detail');
  });

  dashboardTest(
    'a 390 px wide screen: strip, chart and day bar stay in view',
    env,
    async (page) => {
      const name = `phone-history-${tag}`;
      await createMonitors(env().node, [spec(name, '/ok')]);
      const r = row(page, name);
      await until(async () => (await r.locator('.tick.ok').count()) >= 2, 'good ticks');
      await r.getByRole('button', { name: 'Show recent results' }).click();
      const detail = page.locator('tr.detail');
      await detail.locator('svg.chart').waitFor();
      await expectCount(detail.locator('.days .day'), DAYS);
      const width = page.viewportSize().width;
      for (const [what, locator] of [
        ['the range buttons', detail.locator('.ranges')],
        ['the chart', detail.locator('svg.chart')],
        ['the day bar', detail.locator('.days')],
      ]) {
        await locator.scrollIntoViewIfNeeded();
        const box = await locator.boundingBox();
        assert.ok(box && box.x >= 0 && box.x + box.width <= width + 0.5, `${what} lies within the screen: ${JSON.stringify(box)}`);
      }
      const sideScroll = await page.evaluate(() => document.documentElement.scrollWidth > document.documentElement.clientWidth);
      assert.ok(!sideScroll, 'the page does not scroll sideways');
      await screenshot(page, 'detail-390px');
    },
    { viewport: { width: 390, height: 844 } },
  );

  dashboardTest('without history from the node: dashes and a note, nothing breaks', env, async (page) => {
    // A node without the history endpoints, and a list without the figures.
    page.allowConsole(({ text, url }) => /\/(stats|series)\?/.test(url) && text.includes('status of 404'));
    await page.route(/\/api\/monitors\/[^/]+\/(stats|series)\?/, (route) => route.fulfill({ status: 404, json: { error: 'not found' } }));
    await page.route(/\/api\/monitors\?/, async (route) => {
      const response = await route.fetch();
      const list = (await response.json()).map((m) => ({ ...m, uptime_24h: null, uptime_30d: null, p95_ms_24h: null }));
      await route.fulfill({ response, json: list });
    });
    const name = `no-history-${tag}`;
    await createMonitors(env().node, [spec(name, '/ok')]);
    const r = row(page, name);
    await expectText(r.locator('.badge'), 'up');
    await expectText(r.locator('.uptime').nth(0), '–');
    await expectText(r.locator('.uptime').nth(1), '–');
    await r.getByRole('button', { name: 'Show recent results' }).click();
    const detail = page.locator('tr.detail');
    await expectText(detail.locator('.chart-box'), 'No response-time chart: this node does not keep response-time history.');
    await expectText(detail.locator('.stat').filter({ hasText: 'Uptime' }).locator('dd'), '–');
    await expectCount(detail.locator('.days .day.u-none'), DAYS);
    await expectText(detail.locator('.days-total'), '–');
    // The rest of the panel works as before.
    await expectText(detail.locator('.detail-results'), 'ok');
  });

  // Last: the monitors of the first test are old enough by now for the node's list figures.
  dashboardTest('the rows show uptime over 24 h and 30 d', env, async (page) => {
    const listed = async (name) => (await env().node.api('GET', `api/monitors?q=${name}`)).data[0];
    // Figures computed before the first checks (or the first down decision) would say nothing
    // (or 100 %): wait for a refresh after them.
    await until(
      async () => {
        const [up, down] = [await listed(good), await listed(bad)];
        return up.uptime_24h === 1 && up.uptime_30d === 1 && down.uptime_24h < 1 && down.uptime_30d < 1;
      },
      'list figures that know of the outage',
      FIGURES_WAIT_MS,
    );
    const okRow = row(page, good);
    const badRow = row(page, bad);
    await expectText(okRow.locator('.uptime').nth(0), '100%');
    await expectText(okRow.locator('.uptime').nth(1), '100%');
    // Down after its first two checks, for good: nearly 0 %, never rounded up. (The page's
    // first poll may still have answered the figures from before the outage.)
    for (const n of [0, 1]) {
      await expectText(badRow.locator('.uptime').nth(n), BELOW_100);
      assert.match(await badRow.locator('.uptime').nth(n).getAttribute('class'), /\bu-low\b/);
    }
    assert.match(await okRow.locator('.uptime').first().getAttribute('title'), /^Up 100% of the last 24 h$/);
    await screenshot(page, 'list');
  });
});
