// Status pages through the dashboard: create a page with the "Status pages" panel's form
// (title, slug, a group with two monitors, an announcement), follow its link, and check the
// server-rendered page: overall state, each monitor's state, 90 day bars with hover details,
// no URL of a monitor, no JavaScript needed, and no sideways scrolling on a 390 px wide
// screen. Also a badge of a monitor on the page.
//
// With RINGWATCH_SCREENSHOTS set to a directory, the test saves screenshots there: the page
// on a desktop and on a 390 px screen, and a badge.

import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe } from 'node:test';
import { createMonitors, dashboardTest, expectText, openDashboard, suite, until } from './harness.js';

async function screenshot(page, name) {
  const dir = process.env.RINGWATCH_SCREENSHOTS;
  if (!dir) return;
  mkdirSync(dir, { recursive: true });
  await page.screenshot({ path: join(dir, `${name}.png`), fullPage: true });
}

describe('status pages', () => {
  const env = suite('status-page');

  dashboardTest('create a page in the dashboard and open it on a desktop and a phone', env, async (page) => {
    const { node, target, browser } = env();
    const [up, down] = await createMonitors(node, [
      { url: `${target.url}/ok`, name: 'Website', interval_secs: 1, timeout_ms: 2000 },
      { url: `${target.url}/fail`, name: 'Payments <API>', interval_secs: 1, timeout_ms: 2000 },
    ]);
    await until(async () => (await node.api('GET', `api/monitors/${down.id}`)).data.status === 'down', 'the failing monitor to be down');
    await until(async () => (await node.api('GET', `api/monitors/${up.id}`)).data.status === 'up', 'the good monitor to be up');

    const panel = page.locator('#status-pages');
    await panel.locator('summary', { hasText: 'Add status page' }).click();
    const form = page.locator('#page-form');
    await form.getByLabel('Title', { exact: true }).first().fill('Acme Status');
    await form.getByLabel('Slug (the page is /status/slug)').fill('acme');
    await form.getByLabel('Description').fill('Live state of Acme services.');
    const group = form.locator('.page-group').first();
    await group.getByLabel('Name').fill('Customer facing');
    await group.getByLabel('Website').check();
    await group.getByLabel('Payments <API>').check();
    const ann = form.locator('fieldset', { hasText: 'Announcement' });
    await ann.getByLabel('Title').fill('Payments degraded');
    await ann.getByLabel('Text').fill('We are looking into failed payments.');
    await ann.getByLabel('Severity').selectOption('warning');
    await form.getByRole('button', { name: 'Create page' }).click();
    await expectText(page.locator('#page-msg'), 'Created /status/acme');

    const stored = (await node.api('GET', 'api/status-pages')).data;
    assert.equal(stored.length, 1);
    assert.equal(stored[0].groups.length, 1);
    assert.equal(stored[0].groups[0].name, 'Customer facing');
    assert.deepEqual([...stored[0].groups[0].monitors].sort(), [up.id, down.id].sort());
    assert.equal(stored[0].announcement.severity, 'warning');
    assert.equal(stored[0].public, true);

    const link = panel.locator('a.page-link', { hasText: '/status/acme' });
    const [statusPage] = await Promise.all([page.context().waitForEvent('page'), link.click()]);
    await statusPage.waitForLoadState();
    assert.equal(new URL(statusPage.url()).pathname, '/status/acme');
    await expectText(statusPage.locator('#overall'), 'Partial outage');
    await expectText(statusPage.locator('h1'), 'Acme Status');
    await expectText(statusPage.locator('.ann h2'), 'Payments degraded');
    const states = await statusPage.locator('.mon').evaluateAll((rows) =>
      rows.map((r) => [r.querySelector('.name').textContent, r.querySelector('.state').textContent]));
    const expected = { [up.id]: ['Website', 'Up'], [down.id]: ['Payments <API>', 'Down'] };
    assert.deepEqual(states, stored[0].groups[0].monitors.map((id) => expected[id]));
    assert.equal(await statusPage.locator('.mon').first().locator('.bars i').count(), 90);
    const today = await statusPage.locator('.mon').first().locator('.bars i').last().getAttribute('title');
    assert.match(today, /^\d{4}-\d{2}-\d{2}: \d+\.\d{2}% up/);
    const html = await statusPage.content();
    assert.ok(!html.includes(target.url) && !html.includes('/fail'), 'no monitor URL on the page');
    assert.equal(await statusPage.locator('script').count(), 0, 'no JavaScript');
    await screenshot(statusPage, 'status-page-desktop');
    await statusPage.close();

    // A phone: the same page, nothing wider than the screen.
    const phone = await openDashboard(browser, node, { viewport: { width: 390, height: 844 } });
    try {
      await phone.goto(new URL('status/acme', node.url).href);
      await expectText(phone.locator('#overall'), 'Partial outage');
      const overflow = await phone.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
      assert.equal(overflow, 0, 'no horizontal scrolling at 390 px');
      const barsFit = await phone.locator('.bars').first().evaluate((b) => b.getBoundingClientRect().right <= window.innerWidth);
      assert.ok(barsFit, 'the day bars fit the screen');
      await screenshot(phone, 'status-page-390px');

      const badge = await phone.goto(new URL(`badge/${up.id}/uptime.svg?window=30d`, node.url).href);
      assert.equal(badge.status(), 200);
      assert.equal(badge.headers()['content-type'], 'image/svg+xml');
      const svg = await badge.text();
      assert.match(svg, /uptime 30d/);
      if (process.env.RINGWATCH_SCREENSHOTS) {
        await phone.goto('about:blank');
        await phone.setViewportSize({ width: 390, height: 200 });
        await phone.setContent(`<body style="margin:16px">${svg} ${await (await phone.request.get(new URL(`badge/${down.id}/status.svg`, node.url).href)).text()}</body>`);
        await phone.locator('body').screenshot({ path: join(process.env.RINGWATCH_SCREENSHOTS, 'badges.png') });
      }
      phone.assertNoErrors();
    } finally {
      await phone.close();
    }
  });
});
