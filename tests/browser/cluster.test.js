// The cluster panel of a cluster with zones: two nodes in zones eu and us, the panel of the
// first groups them by zone, and once the us node is killed its zone shows as unreachable.

import { after, before, describe, test } from 'node:test';
import { expectText, launchBrowser, openDashboard, startNode, until } from './harness.js';

const TEST_TIMEOUT_MS = 60000;

describe('cluster panel with zones', () => {
  const env = {};
  before(async () => {
    env.eu = await startNode('zone-eu', { env: { RINGWATCH_ZONE: 'eu' } });
    env.us = await startNode('zone-us', { env: { RINGWATCH_ZONE: 'us', RINGWATCH_JOIN: env.eu.cluster } });
    env.browser = await launchBrowser();
  });
  after(async () => {
    await env.browser?.close();
    await env.us?.kill();
    await env.eu?.kill();
  });

  test('nodes are grouped by zone; a zone without a live node is unreachable', { timeout: TEST_TIMEOUT_MS }, async () => {
    const page = await openDashboard(env.browser, env.eu);
    try {
      await page.goto(env.eu.url);
      const panel = page.locator('#cluster');
      const eu = panel.locator('li.zone[data-zone="eu"]');
      const us = panel.locator('li.zone[data-zone="us"]');
      await expectText(eu.locator('.zone-name'), 'zone eu');
      await expectText(us.locator('.zone-name'), 'zone us');
      await expectText(eu.locator('.zone-state'), '1 of 1 alive');
      await expectText(us.locator('.zone-state'), '1 of 1 alive');
      await expectText(eu.locator('.node-name'), env.eu.name);
      await expectText(us.locator('.node-name'), env.us.name);
      await expectText(eu.locator('li.node'), /this node/);

      await env.us.kill();
      await expectText(us.locator('.zone-state'), 'unreachable');
      await until(async () => (await us.getAttribute('class')).includes('unreachable'), 'the us zone to be marked unreachable');
      await expectText(us.locator('.node-state'), 'not alive');
      await expectText(eu.locator('.zone-state'), '1 of 1 alive');
      page.assertNoErrors();
    } finally {
      await page.close();
    }
  });
});
