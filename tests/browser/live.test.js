// What the page shows without being asked: live updates (new monitors, results, renames), a
// monitor's detail panel with its results and the incident of a down period, and the
// notifiers panel (add, refuse, delete).

import assert from 'node:assert/strict';
import { describe } from 'node:test';
import { createMonitors, dashboardTest, expectCount, expectText, row, suite, until } from './harness.js';

describe('live page, details and notifiers', () => {
  const env = suite('live');
  const tag = Date.now().toString(36);
  const spec = (name, path, extra = {}) => ({ url: `${env().target.url}${path}`, name, interval_secs: 1, timeout_ms: 2000, ...extra });

  dashboardTest('changes made elsewhere arrive without a reload', env, async (page) => {
    await expectText(page.locator('#conn'), 'live'); // the event stream is open
    const navigations = await page.evaluate(() => performance.getEntriesByType('navigation').length);
    const name = `live-${tag}`;
    const [m] = await createMonitors(env().node, [spec(name, '/ok')]);
    const r = row(page, name);
    await r.waitFor();
    await expectText(r.locator('.badge'), 'up');
    await expectText(r.locator('.checked'), /just now|s ago/);
    await expectText(r.locator('td.num').first(), /^\d+ ms$/);
    await expectText(page.locator('#count-up'), '1');

    // A result changes the row: the failing target shows its error in the row.
    await env().node.api('PATCH', `api/monitors/${m.id}`, { url: `${env().target.url}/fail`, name: `${name}-moved` });
    const moved = row(page, `${name}-moved`);
    await expectText(moved.locator('td.error'), /500/);
    await expectText(moved.locator('.badge'), 'down');
    await expectText(page.locator('#count-down'), '1');
    assert.match(await page.title(), /^\(1 down\) Ringwatch$/);

    await env().node.api('DELETE', `api/monitors/${m.id}`);
    await expectCount(moved, 0);
    await expectText(page.locator('#count-total'), '0');
    assert.equal(await page.evaluate(() => performance.getEntriesByType('navigation').length), navigations, 'no reload happened');
  });

  dashboardTest('the detail panel shows results and the incident of a down period', env, async (page) => {
    const name = `flappy-${tag}`;
    env().target.failing.add(name);
    await createMonitors(env().node, [spec(name, `/flip/${name}`, { failure_threshold: 2, recovery_threshold: 1 })]);
    const r = row(page, name);
    await r.getByRole('button', { name: 'Show recent results' }).click();
    assert.equal(await r.getByRole('button', { name: 'Show recent results' }).getAttribute('aria-expanded'), 'true');
    const detail = page.locator('tr.detail');
    await expectText(detail.locator('.detail-head').first(), 'down after 2 failures');
    await expectText(detail.locator('.detail-head').nth(1), 'Checks: GET');

    await expectText(r.locator('.badge'), 'down');
    const incidents = detail.locator('.detail-incidents');
    await expectText(incidents, '1 incident, newest first');
    await expectText(incidents.locator('tbody tr').first(), 'ongoing');
    await expectText(incidents.locator('tbody tr td.error').first(), /\S/); // a cause is named
    const results = detail.locator('.detail-results');
    await expectText(results.locator('tbody tr').first(), 'failed');
    await expectText(results.locator('tbody tr').first(), '500');

    env().target.failing.delete(name);
    await expectText(r.locator('.badge'), 'up');
    await expectText(results.locator('tbody tr').first(), 'ok');
    await expectText(results.locator('tbody tr').first(), '200');
    await until(async () => !(await incidents.locator('tbody tr').first().textContent()).includes('ongoing'), 'the incident to end');
    await expectCount(incidents.locator('tbody tr'), 1);
    const ended = await incidents.locator('tbody tr td').allTextContents();
    assert.notEqual(ended[1], '–', 'an end time is shown');
    assert.match(ended[2], /\d+ s|< 1 s/, 'a duration is shown');
    assert.match(ended[4], new RegExp(env().node.name), 'the deciding node is named');
    assert.ok((await results.locator('tbody tr').count()) >= 3, 'several results are listed');

    // The toggle closes the panel.
    await r.getByRole('button', { name: 'Show recent results' }).click();
    await expectCount(detail, 0);
  });

  dashboardTest('notifiers: add, refused add, delete', env, async (page) => {
    page.allowConsole(({ text, url }) => url.endsWith('/api/notifiers') && text.includes('status of 400'));
    const panel = page.locator('#notifiers');
    await panel.locator('#notifier-empty').waitFor({ state: 'visible' });
    await panel.locator('summary', { hasText: 'Add notifier' }).click();
    const form = page.locator('#notifier-form');
    const name = `hook-${tag}`;
    await form.getByLabel('Type').selectOption('webhook');
    await form.getByLabel('Name', { exact: true }).fill(name);
    await form.getByLabel('URL', { exact: true }).fill(`${env().target.url}/hook`);
    await form.getByRole('button', { name: 'Add notifier' }).click();
    await expectText(page.locator('#notifier-msg'), `Added ${name}`);
    const item = panel.locator('li.notifier').filter({ hasText: name });
    await expectText(item, new URL(env().target.url).host);
    await until(() => panel.locator('#notifier-empty').isHidden(), 'the "none yet" note to go');
    const listed = (await env().node.api('GET', 'api/notifiers')).data;
    // A webhook URL is a secret: the API shows its host only (docs/api.md, "Secrets").
    assert.deepEqual(listed.map((n) => [n.name, n.type, n.url]), [[name, 'webhook', `${env().target.url}/***`]]);

    // The new notifier is offered in the monitor forms.
    await page.locator('#add-advanced summary').click();
    await page.locator('#add-advanced').getByText(`${name} (webhook)`).waitFor();

    // Refused by the server: its words are shown.
    const bad = { type: 'webhook', url: 'ftp://127.0.0.1/x' };
    const refusal = await env().node.api('POST', 'api/notifiers', bad);
    assert.equal(refusal.status, 400);
    await form.getByLabel('URL', { exact: true }).fill(bad.url);
    await form.getByRole('button', { name: 'Add notifier' }).click();
    await expectText(page.locator('#notifier-msg'), refusal.data.error);

    // Email fields appear for the email type; a missing field is named before sending.
    await form.getByLabel('Type').selectOption('email');
    await form.getByLabel('SMTP host').waitFor({ state: 'visible' });
    assert.ok(await form.getByLabel('URL', { exact: true }).isHidden());
    await form.getByRole('button', { name: 'Add notifier' }).click();
    await expectText(page.locator('#notifier-msg'), 'SMTP host is required.');

    let question = '';
    page.once('dialog', (d) => {
      question = d.message();
      return d.accept();
    });
    await item.getByRole('button', { name: `Delete notifier ${name}` }).click();
    await expectCount(item, 0);
    assert.match(question, new RegExp(`Delete notifier "${name}"`));
    await expectText(page.locator('#notifier-list-msg'), `Deleted ${name}`);
    await panel.locator('#notifier-empty').waitFor({ state: 'visible' });
    assert.deepEqual((await env().node.api('GET', 'api/notifiers')).data, []);
  });
});
