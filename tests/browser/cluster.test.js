// The cluster panel of a cluster with zones: two nodes in zones eu and us, the panel of the
// first groups them by zone, and once the us node is killed its zone shows as unreachable.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { expectText, launchBrowser, openDashboard, row, startNode, startTarget, until } from './harness.js';

const TEST_TIMEOUT_MS = 60000;

describe('cluster panel with zones', () => {
  const env = {};
  before(async () => {
    env.eu = await startNode('zone-eu', { env: { RINGWATCH_ZONE: 'eu' } });
    env.us = await startNode('zone-us', { env: { RINGWATCH_ZONE: 'us', RINGWATCH_JOIN: env.eu.cluster } });
    env.browser = await launchBrowser();
    env.target = await startTarget();
  });
  after(async () => {
    await env.target?.close();
    await env.browser?.close();
    await env.us?.kill();
    await env.eu?.kill();
  });

  test('a monitor probed from every zone: its zones, degraded, down by quorum, back to one probe', { timeout: TEST_TIMEOUT_MS }, async () => {
    const page = await openDashboard(env.browser, env.eu);
    try {
      await page.goto(env.eu.url);
      const name = 'zoned-in-browser';
      const form = page.locator('#add-form');
      await form.getByLabel('URL', { exact: true }).fill(`${env.target.url}/zone/k1`);
      await form.getByLabel('Name', { exact: true }).fill(name);
      await form.getByLabel('Interval (s)', { exact: true }).fill('1');
      await form.locator('summary').click();
      await form.getByLabel('Probe from zones').fill('all');
      await form.getByLabel('Down when this many zones see it down').fill('2');
      await form.getByRole('button', { name: 'Add', exact: true }).click();
      await expectText(page.locator('#add-msg'), `Added ${name}`);
      const r = row(page, name);
      const chip = (zone) => r.locator(`.zone-chip[data-zone="${zone}"]`);
      const chipState = async (zone, state) => {
        await expectText(chip(zone), zone);
        await until(async () => (await chip(zone).getAttribute('data-state')) === state, `zone ${zone} to show ${state}`);
        assert.equal(await chip(zone).getAttribute('title'), `zone ${zone}: ${state}`);
      };
      await chipState('eu', 'up');
      await chipState('us', 'up');
      await expectText(r.locator('.badge'), 'up');

      // Failing from eu only: one zone of two is not the quorum of 2.
      env.target.failingZones.k1 = ['eu'];
      await chipState('eu', 'down');
      await expectText(r.locator('.badge'), 'degraded');
      await chipState('us', 'up');
      // From both: down.
      env.target.failingZones.k1 = ['eu', 'us'];
      await expectText(r.locator('.badge'), 'down');
      env.target.failingZones.k1 = [];
      await expectText(r.locator('.badge'), 'up');

      // The detail says where it is probed from; the edit form shows the zones and quorum.
      await r.getByRole('button', { name: 'Show recent results' }).click();
      const detail = page.locator('tr.detail');
      await expectText(detail, 'probed from every zone, down when 2 zones see it down');
      await detail.getByText('Edit monitor').click();
      const edit = detail.locator('form.edit-form');
      await until(async () => (await edit.getByLabel('Probe from zones').inputValue()) === 'all', 'the edit form to show the zones');
      assert.equal(await edit.getByLabel('Down when this many zones see it down').inputValue(), '2');
      // Cleared: probed once in the cluster again, the quorum cleared with it.
      await edit.getByLabel('Probe from zones').fill('');
      await edit.getByRole('button', { name: 'Save changes' }).click();
      await expectText(edit.locator('.form-msg'), 'Saved: zones, quorum');
      await until(async () => (await r.locator('.zone-chip').count()) === 0, 'the zone labels to go');
      const list = (await env.eu.api('GET', `api/monitors?q=${name}`)).data;
      assert.equal(list[0].zones, null);
      assert.equal(list[0].quorum, null);
      page.assertNoErrors();
    } finally {
      await page.close();
    }
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
