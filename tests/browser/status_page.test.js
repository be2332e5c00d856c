// Status pages through the dashboard: create a page with the "Status pages" panel's form
// (title, slug, a group with two monitors, an announcement), follow its link, and check the
// server-rendered page: overall state, each monitor's state, 90 day bars with hover details,
// no URL of a monitor, no JavaScript needed, and no sideways scrolling on a 390 px wide
// screen. Also a badge of a monitor on the page. Then the panel's other controls: edit a page
// (title, a group added, a group removed, made private) and delete it after the confirmation.
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

  dashboardTest('edit a page, add and remove a group, make it private, delete it', env, async (page) => {
    const { node, target } = env();
    const [a, b] = await createMonitors(node, [
      { url: `${target.url}/ok`, name: 'Alpha', interval_secs: 1, timeout_ms: 2000 },
      { url: `${target.url}/ok`, name: 'Beta', interval_secs: 1, timeout_ms: 2000 },
    ]);
    const made = (await node.api('POST', 'api/status-pages', { slug: 'edit-me', title: 'Before', groups: [{ name: 'G1', monitors: [a.id] }] })).data;
    await page.goto(node.url);
    const panel = page.locator('#status-pages');
    const item = panel.locator('li', { hasText: 'Before' });
    await item.getByRole('button', { name: 'Edit' }).click();
    const form = page.locator('#page-form');
    await until(async () => (await form.getByLabel('Title', { exact: true }).first().inputValue()) === 'Before', 'the form to show the page');
    await form.getByLabel('Title', { exact: true }).first().fill('After');
    await form.getByRole('button', { name: 'Add group' }).click();
    const second = form.locator('.page-group').nth(1);
    await second.getByLabel('Name').fill('G2');
    await second.getByLabel('Beta').check();
    await form.getByLabel('Public (no token needed)').uncheck();
    await form.getByRole('button', { name: 'Save page' }).click();
    await expectText(page.locator('#page-msg'), 'Saved /status/edit-me');
    let stored = (await node.api('GET', `api/status-pages/${made.id}`)).data;
    assert.equal(stored.title, 'After');
    assert.equal(stored.public, false);
    assert.deepEqual(stored.groups.map((g) => [g.name, g.monitors]), [['G1', [a.id]], ['G2', [b.id]]]);
    // Remove the first group.
    await panel.locator('li', { hasText: 'After' }).getByRole('button', { name: 'Edit' }).click();
    await until(async () => (await form.locator('.page-group').count()) === 2, 'two groups in the form');
    await form.locator('.page-group').first().getByRole('button', { name: 'Remove group' }).click();
    await form.getByRole('button', { name: 'Save page' }).click();
    await expectText(page.locator('#page-msg'), 'Saved /status/edit-me');
    stored = (await node.api('GET', `api/status-pages/${made.id}`)).data;
    assert.deepEqual(stored.groups.map((g) => g.name), ['G2']);
    await expectText(panel.locator('li', { hasText: 'After' }).locator('.kind'), 'private');
    // Delete after the confirmation.
    page.once('dialog', (d) => d.accept());
    await panel.locator('li', { hasText: 'After' }).getByRole('button', { name: 'Delete' }).click();
    await expectText(page.locator('#page-list-msg'), 'Deleted After');
    assert.equal((await node.api('GET', `api/status-pages/${made.id}`)).status, 404);
    const gone = await page.request.get(new URL('status/edit-me', node.url).href);
    assert.equal(gone.status(), 404);
  });
});
