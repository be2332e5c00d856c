// Maintenance windows on the dashboard: create a one-off window over a monitor with the form
// (the monitor's badge turns `maintenance`, the header counts it), edit it into a recurring
// window in another time zone (the badge goes back to `up`), and delete it.

import assert from 'node:assert/strict';
import { describe } from 'node:test';
import { createMonitors, dashboardTest, expectCount, expectText, row, suite, until } from './harness.js';

describe('maintenance windows', () => {
  const env = suite('maintenance');
  const windows = async () => (await env().node.api('GET', 'api/maintenance')).data;

  dashboardTest('create, edit and delete a window; the monitor shows maintenance', env, async (page) => {
    const name = `maint-${Date.now().toString(36)}`;
    const m = await createMonitors(env().node, { url: `${env().target.url}/ok`, name, interval_secs: 1, timeout_ms: 2000 });
    const r = row(page, name);
    await expectText(r.locator('.badge'), 'up');

    // Create: a one-off window from a minute ago to an hour from now, over this monitor.
    const panel = page.locator('#maintenance');
    const form = page.locator('#maintenance-form');
    await panel.getByText('Add maintenance window').click();
    await form.getByLabel('Title').fill('Deploy');
    await form.getByLabel('All monitors').uncheck();
    await form.getByLabel('Monitor ids (comma separated)').fill(m.id);
    await form.getByLabel('When').selectOption('once');
    // datetime-local values are the browser's local time: made by the browser itself.
    const local = (offsetMs) =>
      page.evaluate((at) => {
        const d = new Date(at);
        const pad = (n) => String(n).padStart(2, '0');
        return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
      }, Date.now() + offsetMs);
    await form.getByLabel('Start').fill(await local(-60_000));
    await form.getByLabel('End').fill(await local(3_600_000));
    await form.getByRole('button', { name: 'Add window' }).click();
    await expectText(page.locator('#maintenance-msg'), 'Added Deploy');
    const item = page.locator('#maintenance-list li');
    await expectCount(item, 1);
    await expectText(item.locator('.window-title'), 'Deploy');
    await expectText(item.locator('.window-scope'), m.id);
    await expectText(r.locator('.badge'), 'maintenance');
    assert.match(await r.locator('.badge').getAttribute('class'), /\bb-maintenance\b/);
    await expectText(page.locator('#count-maintenance'), '1');
    const [made] = await windows();
    assert.equal(made.active_now, true, JSON.stringify(made));
    assert.deepEqual(made.monitors, [m.id]);
    assert.ok(made.end_ms - made.start_ms >= 3_600_000, JSON.stringify(made));

    // Edit: recurring, at a Berlin hour 12 hours away from now, so not in force now.
    await item.getByRole('button', { name: 'Edit' }).click();
    assert.equal(await form.getByLabel('Title').inputValue(), 'Deploy', 'the form holds the window');
    const berlinHour = Number(new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/Berlin', hour: '2-digit', hour12: false }).format(new Date()));
    const cron = `15 ${(berlinHour + 12) % 24} * * *`;
    await form.getByLabel('Title').fill('Nightly backup');
    await form.getByLabel('When').selectOption('recurring');
    await form.getByLabel('Cron (min hour day month weekday)').fill(cron);
    await form.getByLabel('Duration (min)').fill('90');
    await form.getByLabel('Time zone').fill('Europe/Berlin');
    await form.getByRole('button', { name: 'Save window' }).click();
    await expectText(page.locator('#maintenance-msg'), 'Saved Nightly backup');
    await expectText(item.locator('.window-title'), 'Nightly backup');
    await expectText(item.locator('.window-when'), `cron "${cron}" (Europe/Berlin), 90 min each`);
    const [edited] = await windows();
    assert.equal(edited.id, made.id);
    assert.deepEqual([edited.cron, edited.duration_secs, edited.timezone, edited.start_ms, edited.active_now], [cron, 5400, 'Europe/Berlin', null, false]);
    assert.ok(edited.next_start_ms > Date.now(), JSON.stringify(edited));
    await expectText(r.locator('.badge'), 'up');

    // Delete, after the confirmation.
    page.once('dialog', (d) => d.accept());
    await item.getByRole('button', { name: 'Delete' }).click();
    await expectCount(item, 0);
    await until(() => page.locator('#maintenance-empty').isVisible(), 'the empty note');
    assert.deepEqual(await windows(), []);
  });
});
