// When the node behind the page goes away, the page says so instead of showing stale data as
// current. This file kills its node, so it has one of its own.

import assert from 'node:assert/strict';
import { describe } from 'node:test';
import { createMonitors, dashboardTest, expectText, row, suite } from './harness.js';

describe('node gone', () => {
  const env = suite('banner');

  dashboardTest('a banner and the offline marker appear when the node dies', env, async (page) => {
    const name = 'watched';
    await createMonitors(env().node, { url: `${env().target.url}/ok`, name, interval_secs: 1 });
    await expectText(row(page, name).locator('.badge'), 'up');
    await expectText(page.locator('#conn'), 'live');
    assert.ok(await page.locator('#banner').isHidden(), 'no banner while the node answers');

    // From the kill on, the browser logs network failures of requests to the node as console
    // errors: refused polls and event-stream retries, the event stream cut mid-body, and a
    // request that was in flight at the kill. Those, and only those, are expected.
    let killed = false;
    const origin = new URL(env().node.url).origin;
    const expected = (text, url) =>
      text.includes('net::ERR_CONNECTION_REFUSED') ||
      (url === `${origin}/api/events` && text.includes('net::ERR_INCOMPLETE_CHUNKED_ENCODING')) ||
      /net::ERR_(EMPTY_RESPONSE|CONNECTION_RESET)/.test(text);
    page.allowConsole(({ text, url }) => killed && url.startsWith(`${origin}/`) && expected(text, url));
    killed = true;
    await env().node.kill();

    const banner = page.locator('#banner');
    await banner.waitFor({ state: 'visible' });
    await expectText(banner, /^Cannot refresh from the node: .+\. Retrying every 2 s\.$/);
    await expectText(page.locator('#conn'), 'offline');
    assert.match(await page.locator('#conn').getAttribute('class'), /\bconn-bad\b/);
    // The last known rows stay readable.
    await expectText(row(page, name).locator('.badge'), 'up');
  });
});
