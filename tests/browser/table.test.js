// Finding monitors in the table: search, the status filter (the count buttons and the select),
// and paging through more monitors than one page holds.

import assert from 'node:assert/strict';
import { describe } from 'node:test';
import { createMonitors, dashboardTest, expectCount, expectText, row, suite, until } from './harness.js';

const PAGE_SIZE = 50; // app.js

describe('finding monitors', () => {
  const env = suite('table');
  const tag = Date.now().toString(36);
  const spec = (name, path, extra = {}) => ({ url: `${env().target.url}${path}`, name, interval_secs: 1, timeout_ms: 2000, ...extra });
  const rows = (page) => page.locator('tr.mon');
  const names = (page) => page.locator('tr.mon a.name').allTextContents();
  /** Waits until the table shows exactly these monitors, in this order. */
  const expectNames = async (page, expected) => {
    let shown = [];
    await until(async () => JSON.stringify((shown = await names(page))) === JSON.stringify(expected), `rows ${expected.join(', ')}`).catch((e) => {
      throw new Error(`${e.message}; rows were ${shown.join(', ')}`);
    });
  };
  const badges = (page) => page.locator('tr.mon .badge').allTextContents();

  dashboardTest('search narrows the table by name or URL', env, async (page) => {
    await createMonitors(env().node, [spec(`alpha-${tag}`, '/ok'), spec(`beta-${tag}`, '/ok?beta'), spec(`gamma-${tag}`, '/ok')]);
    await expectCount(rows(page), 3);
    await page.locator('#search').fill(`alpha-${tag}`);
    await expectNames(page, [`alpha-${tag}`]);
    assert.match(await page.evaluate(() => location.hash), new RegExp(`q=alpha-${tag}`), 'the search is kept in the address');
    await page.locator('#search').fill('?beta'); // part of a URL
    await expectNames(page, [`beta-${tag}`]);
    await page.locator('#search').fill('no-such-monitor');
    await page.locator('#empty').waitFor({ state: 'visible' });
    await expectCount(rows(page), 0);
    await expectText(page.locator('#page-info'), '0 of 0');
    await page.locator('#search').fill('');
    await expectCount(rows(page), 3);
    await until(() => page.locator('#empty').isHidden(), 'the "no monitors" note to go');
  });

  dashboardTest('the count buttons and the status select filter the table', env, async (page) => {
    const [down, paused] = await createMonitors(env().node, [spec(`down-${tag}`, '/fail'), spec(`paused-${tag}`, '/ok', { active: false })]);
    await expectText(row(page, `down-${tag}`).locator('.badge'), 'down');
    await expectText(row(page, `paused-${tag}`).locator('.badge'), 'paused');
    await until(async () => (await badges(page)).every((b) => b === 'up' || b === 'down' || b === 'paused'), 'every monitor decided');
    const summary = (await env().node.api('GET', 'api/summary')).data;
    assert.deepEqual([summary.total, summary.up, summary.down, summary.paused], [5, 3, 1, 1]);
    for (const [key, n] of [['total', 5], ['up', 3], ['down', 1], ['paused', 1], ['pending', 0]]) {
      await expectText(page.locator(`#count-${key}`), String(n));
    }

    const filterBy = async (key) => {
      await page.locator(`.counts [data-filter="${key}"]`).click();
      assert.equal(await page.locator('#status-filter').inputValue(), key, 'the select follows the button');
    };
    await filterBy('down');
    await expectNames(page, [down.name]);
    await filterBy('paused');
    await expectNames(page, [paused.name]);
    await filterBy('up');
    await expectCount(rows(page), 3);
    assert.deepEqual(await badges(page), ['up', 'up', 'up']);
    await filterBy('pending');
    await expectCount(rows(page), 0);
    await filterBy('');
    await expectCount(rows(page), 5);

    // The select does the same, and a filter combines with the search.
    await page.locator('#status-filter').selectOption('down');
    await expectNames(page, [down.name]);
    await page.locator('#search').fill(`alpha-${tag}`);
    await expectCount(rows(page), 0);
    await page.locator('#status-filter').selectOption('');
    await expectNames(page, [`alpha-${tag}`]);
  });

  dashboardTest('paging through more monitors than a page holds', env, async (page) => {
    const extra = Array.from({ length: PAGE_SIZE + 3 }, (_, i) => spec(`bulk-${tag}-${String(i).padStart(2, '0')}`, '/ok', { interval_secs: 3600, active: false }));
    await createMonitors(env().node, extra);
    const total = Number((await env().node.api('GET', 'api/monitors?limit=1')).headers.get('x-total-count'));
    assert.equal(total, 5 + extra.length);
    await expectText(page.locator('#page-info'), `1-${PAGE_SIZE} of ${total}`);
    await expectCount(rows(page), PAGE_SIZE);
    assert.ok(await page.locator('#prev').isDisabled());
    const firstPage = await names(page);

    await page.locator('#next').click();
    await expectText(page.locator('#page-info'), `${PAGE_SIZE + 1}-${total} of ${total}`);
    await expectCount(rows(page), total - PAGE_SIZE);
    assert.ok(await page.locator('#next').isDisabled());
    const secondPage = await names(page);
    assert.equal(secondPage.filter((n) => firstPage.includes(n)).length, 0, 'no monitor on both pages');
    assert.match(await page.evaluate(() => location.hash), /offset=50/);

    // The page is in the address: a reload stays on it.
    await page.reload();
    await expectText(page.locator('#page-info'), `${PAGE_SIZE + 1}-${total} of ${total}`);

    await page.locator('#prev').click();
    await expectText(page.locator('#page-info'), `1-${PAGE_SIZE} of ${total}`);
    assert.deepEqual(await names(page), firstPage);

    // Filtering goes back to the first page of the matches.
    await page.locator('#next').click();
    await expectText(page.locator('#page-info'), `${PAGE_SIZE + 1}-`);
    await page.locator('.counts [data-filter="down"]').click();
    await expectText(page.locator('#page-info'), '1-1 of 1');
  });
});
