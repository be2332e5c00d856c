// The monitor controls a user has on the dashboard of one node: add (accepted and refused),
// pause and resume, check now, delete, edit and save (including pausing from the edit form),
// secret headers and a secret body (marked, shown as ***, kept through an edit), reminders and
// public badges (set, changed, refused, cleared), and the same
// page on a 390 px wide phone screen.

import assert from 'node:assert/strict';
import { describe } from 'node:test';
import { createMonitors, dashboardTest, expectCount, expectText, row, suite, until } from './harness.js';

describe('monitor controls', () => {
  const env = suite('monitors');
  let seq = 0;
  const unique = (what) => `${what}-${++seq}-${Date.now().toString(36)}`;
  const monitor = (name, path, extra = {}) => createMonitors(env().node, { url: `${env().target.url}${path}`, name, interval_secs: 1, timeout_ms: 2000, ...extra });
  const stored = async (id) => (await env().node.api('GET', `api/monitors/${id}`)).data;

  dashboardTest('add a monitor with the form', env, async (page) => {
    const name = unique('added');
    const form = page.locator('#add-form');
    await form.getByLabel('URL', { exact: true }).fill(`${env().target.url}/ok`);
    await form.getByLabel('Name', { exact: true }).fill(name);
    await form.getByLabel('Interval (s)', { exact: true }).fill('1');
    await form.getByLabel('Timeout (ms)', { exact: true }).fill('2000');
    await form.getByRole('button', { name: 'Add', exact: true }).click();
    await expectText(page.locator('#add-msg'), `Added ${name}`);
    assert.equal(await form.getByLabel('URL', { exact: true }).inputValue(), '', 'the form is cleared for the next one');
    const r = row(page, name);
    await expectText(r.locator('.badge'), 'up');
    const list = (await env().node.api('GET', `api/monitors?q=${name}`)).data;
    assert.equal(list.length, 1);
    assert.equal(list[0].url, `${env().target.url}/ok`);
    assert.equal(list[0].interval_secs, 1);
    assert.equal(list[0].timeout_ms, 2000);
  });

  dashboardTest('a refused add shows the server’s message', env, async (page) => {
    // The browser logs the 400 answer as a console error: expected here, and only here.
    page.allowConsole(({ text, url }) => url.endsWith('/api/monitors') && text.includes('status of 400'));
    const body = { url: 'ftp://127.0.0.1/file', interval_secs: 30, timeout_ms: 10000 };
    const refusal = await env().node.api('POST', 'api/monitors', body);
    assert.equal(refusal.status, 400);
    const form = page.locator('#add-form');
    await form.getByLabel('URL', { exact: true }).fill(body.url);
    await form.getByRole('button', { name: 'Add', exact: true }).click();
    await expectText(page.locator('#add-msg'), refusal.data.error);
    assert.match(await page.locator('#add-msg').getAttribute('class'), /\bbad\b/);
    assert.equal(await form.getByLabel('URL', { exact: true }).inputValue(), body.url, 'the input is kept for fixing');
    // A form error found before sending: no request, the page's own words.
    await form.getByLabel('URL', { exact: true }).fill('');
    await form.getByRole('button', { name: 'Add', exact: true }).click();
    await expectText(page.locator('#add-msg'), 'URL is required.');
  });

  dashboardTest('pause and resume from the row', env, async (page) => {
    const name = unique('pausable');
    const m = await monitor(name, '/ok');
    const r = row(page, name);
    await expectText(r.locator('.badge'), 'up');
    await r.getByRole('button', { name: 'Pause' }).click();
    await expectText(r.locator('.badge'), 'paused');
    await expectText(r.locator('button[data-action=pause]'), 'Resume');
    assert.equal((await stored(m.id)).active, false);
    await r.getByRole('button', { name: 'Resume' }).click();
    await expectText(r.locator('button[data-action=pause]'), 'Pause');
    await expectText(r.locator('.badge'), /^(pending|up)$/);
    assert.equal((await stored(m.id)).active, true);
    await expectText(r.locator('.badge'), 'up');
  });

  dashboardTest('check now shows the result next to the buttons', env, async (page) => {
    const okName = unique('check-ok');
    const failName = unique('check-fail');
    await monitor(okName, '/ok', { interval_secs: 3600 });
    await monitor(failName, '/fail', { interval_secs: 3600 });
    const ok = row(page, okName);
    await ok.getByRole('button', { name: 'Check now' }).click();
    await expectText(ok.locator('.note'), /^OK · 200 · \d+ ms$/);
    assert.match(await ok.locator('.note').getAttribute('class'), /\bok\b/);
    await expectText(ok.locator('.checked'), /just now|s ago/);
    const fail = row(page, failName);
    await fail.getByRole('button', { name: 'Check now' }).click();
    await expectText(fail.locator('.note'), /^Failed · 500 · \d+ ms/);
    assert.match(await fail.locator('.note').getAttribute('class'), /\bbad\b/);
    await expectText(fail.locator('td.error'), /500/);
  });

  dashboardTest('delete asks first, and only deletes when confirmed', env, async (page) => {
    const name = unique('deletable');
    const m = await monitor(name, '/ok');
    const r = row(page, name);
    await r.waitFor();
    const questions = [];
    const answer = (accept) => page.once('dialog', (d) => {
      questions.push([d.type(), d.message()]);
      return accept ? d.accept() : d.dismiss();
    });
    answer(false);
    await r.getByRole('button', { name: 'Delete' }).click();
    await until(() => questions.length === 1, 'the first confirmation');
    assert.equal(questions[0][0], 'confirm');
    assert.match(questions[0][1], new RegExp(`Delete monitor "${name}"`));
    assert.equal((await env().node.api('GET', `api/monitors/${m.id}`)).status, 200, 'cancelled: still there');
    await expectCount(r, 1);
    answer(true);
    await r.getByRole('button', { name: 'Delete' }).click();
    await expectCount(r, 0);
    assert.equal((await env().node.api('GET', `api/monitors/${m.id}`)).status, 404);
  });

  dashboardTest('edit and save in the detail panel, pause and resume there', env, async (page) => {
    const name = unique('editable');
    const m = await monitor(name, '/ok');
    const r = row(page, name);
    await r.getByRole('button', { name: 'Show recent results' }).click();
    const detail = page.locator('tr.detail');
    await detail.getByText('Edit monitor').click();
    const form = detail.locator('form.edit-form');
    // The form is filled when it opens (the toggle event comes just after the click).
    await until(async () => (await form.getByLabel('Name', { exact: true }).inputValue()) === name, 'the edit form to show the monitor');
    assert.equal(await form.getByLabel('Interval (s)', { exact: true }).inputValue(), '1');
    assert.equal(await form.getByLabel(/^Active/).isChecked(), true);

    const renamed = `${name}-renamed`;
    await form.getByLabel('Name', { exact: true }).fill(renamed);
    await form.getByLabel('Interval (s)', { exact: true }).fill('2');
    await form.getByRole('button', { name: 'Save changes' }).click();
    await expectText(form.locator('.form-msg'), 'Saved: name, interval_secs');
    const renamedRow = row(page, renamed);
    await expectText(renamedRow.locator('td.num').nth(1), '2 s');
    let s = await stored(m.id);
    assert.equal(s.name, renamed);
    assert.equal(s.interval_secs, 2);

    // Pausing from the edit form.
    await form.getByLabel(/^Active/).uncheck();
    await form.getByRole('button', { name: 'Save changes' }).click();
    await expectText(form.locator('.form-msg'), 'Saved: active');
    await expectText(renamedRow.locator('.badge'), 'paused');
    await expectText(renamedRow.locator('button[data-action=pause]'), 'Resume');
    assert.equal((await stored(m.id)).active, false);

    // Resuming from the row: the open, untouched form follows.
    await renamedRow.getByRole('button', { name: 'Resume' }).click();
    await until(() => form.getByLabel(/^Active/).isChecked(), 'the edit form to show the monitor active again');
    assert.equal((await stored(m.id)).active, true);

    // And resuming from the form after pausing from the row.
    await renamedRow.getByRole('button', { name: 'Pause' }).click();
    await until(async () => !(await form.getByLabel(/^Active/).isChecked()), 'the edit form to show the monitor paused');
    await form.getByLabel(/^Active/).check();
    await form.getByRole('button', { name: 'Save changes' }).click();
    await expectText(form.locator('.form-msg'), 'Saved: active');
    await expectText(renamedRow.locator('button[data-action=pause]'), 'Pause');
    s = await stored(m.id);
    assert.equal(s.active, true);
    assert.equal(s.name, renamed, 'only the changed field was sent');

    // Nothing changed: nothing sent.
    await form.getByRole('button', { name: 'Save changes' }).click();
    await expectText(form.locator('.form-msg'), 'Nothing changed.');
  });

  dashboardTest('set reminders and public badges in the add form, change and clear them in the edit form', env, async (page) => {
    const name = unique('reminded');
    const form = page.locator('#add-form');
    await form.getByLabel('URL', { exact: true }).fill(`${env().target.url}/ok`);
    await form.getByLabel('Name', { exact: true }).fill(name);
    await form.locator('summary').click();
    await form.getByLabel('Remind while down, every').fill('90m');
    await form.getByLabel(/^Public badges/).check();
    await form.getByRole('button', { name: 'Add', exact: true }).click();
    await expectText(page.locator('#add-msg'), `Added ${name}`);
    const list = (await env().node.api('GET', `api/monitors?q=${name}`)).data;
    assert.equal(list[0].repeat_every, '1h 30m');
    assert.equal(list[0].public_badges, true);
    const r = row(page, name);
    await r.getByRole('button', { name: 'Show recent results' }).click();
    const detail = page.locator('tr.detail');
    await detail.getByText('Edit monitor').click();
    const edit = detail.locator('form.edit-form');
    await until(async () => (await edit.getByLabel('Remind while down, every').inputValue()) === '1h 30m', 'the edit form to show the period');
    assert.equal(await edit.getByLabel(/^Public badges/).isChecked(), true);
    // A bad period is refused with the server's reason; nothing changes. The browser logs
    // that 400 as a console error: expected here.
    page.allowConsole(({ text, url }) => url.endsWith(`/api/monitors/${list[0].id}`) && text.includes('status of 400'));
    await edit.getByLabel('Remind while down, every').fill('often');
    await edit.getByRole('button', { name: 'Save changes' }).click();
    await expectText(edit.locator('.form-msg'), 'repeat_every must be a duration');
    assert.equal((await stored(list[0].id)).repeat_every, '1h 30m');
    await edit.getByLabel('Remind while down, every').fill('');
    await edit.getByLabel(/^Public badges/).uncheck();
    await edit.getByRole('button', { name: 'Save changes' }).click();
    await expectText(edit.locator('.form-msg'), 'Saved: repeat_every, public_badges');
    const after = await stored(list[0].id);
    assert.equal(after.repeat_every, null);
    assert.equal(after.public_badges, false);
  });

  dashboardTest('mark a header and the body secret: shown as ***, still sent, kept through an edit', env, async (page) => {
    const name = unique('secretive');
    const key = unique('seen');
    const form = page.locator('#add-form');
    await form.getByLabel('URL', { exact: true }).fill(`${env().target.url}/seen/${key}`);
    await form.getByLabel('Name', { exact: true }).fill(name);
    await form.getByLabel('Interval (s)', { exact: true }).fill('1');
    await form.locator('summary').click();
    await form.locator('select[name=method]').selectOption('POST');
    await form.getByLabel(/^Headers/).fill('X-Tenant: tenant-s7\nAccept: text/plain');
    await form.getByLabel(/^Secret headers/).fill('x-tenant');
    await form.getByLabel('Body', { exact: true }).fill('{"pin":"body-s8"}');
    await form.getByLabel(/^Body is secret/).check();
    await form.getByRole('button', { name: 'Add', exact: true }).click();
    await expectText(page.locator('#add-msg'), `Added ${name}`);
    // The probes send the real values.
    await until(() => env().target.seen[key], 'a probe at the target');
    assert.equal(env().target.seen[key].headers['x-tenant'], 'tenant-s7');
    assert.equal(env().target.seen[key].body, '{"pin":"body-s8"}');
    // The API and the page show neither.
    const list = (await env().node.api('GET', `api/monitors?q=${name}`)).data;
    assert.deepEqual(list[0].headers, { 'X-Tenant': '***', Accept: 'text/plain' });
    assert.deepEqual(list[0].secret_headers, ['x-tenant']);
    assert.equal(list[0].body, '***');
    assert.equal(list[0].secret_body, true);
    const r = row(page, name);
    await expectText(r.locator('.badge'), 'up');
    await r.getByRole('button', { name: 'Show recent results' }).click();
    const detail = page.locator('tr.detail');
    await detail.getByText('Edit monitor').click();
    const edit = detail.locator('form.edit-form');
    await until(async () => (await edit.getByLabel('Name', { exact: true }).inputValue()) === name, 'the edit form to show the monitor');
    assert.equal(await edit.getByLabel(/^Headers/).inputValue(), 'X-Tenant: ***\nAccept: text/plain');
    assert.equal(await edit.getByLabel(/^Secret headers/).inputValue(), 'x-tenant');
    assert.equal(await edit.getByLabel('Body', { exact: true }).inputValue(), '***');
    assert.equal(await edit.getByLabel(/^Body is secret/).isChecked(), true);
    const html = await page.content();
    for (const secret of ['tenant-s7', 'body-s8']) assert.ok(!html.includes(secret), `${secret} is not in the page`);
    // An edit of another field, with the redacted values left as shown, keeps both secrets.
    await edit.getByLabel(/^Headers/).fill('X-Tenant: ***\nAccept: text/html');
    await edit.getByRole('button', { name: 'Save changes' }).click();
    await expectText(edit.locator('.form-msg'), 'Saved: headers');
    delete env().target.seen[key];
    await until(() => env().target.seen[key], 'a probe after the edit');
    assert.equal(env().target.seen[key].headers['x-tenant'], 'tenant-s7');
    assert.equal(env().target.seen[key].headers.accept, 'text/html');
    assert.equal(env().target.seen[key].body, '{"pin":"body-s8"}');
    // Unmarking the header shows it again.
    await edit.getByLabel(/^Secret headers/).fill('');
    await edit.getByRole('button', { name: 'Save changes' }).click();
    await expectText(edit.locator('.form-msg'), 'Saved: secret_headers');
    assert.equal((await stored(list[0].id)).headers['X-Tenant'], 'tenant-s7');
  });

  dashboardTest(
    'a 390 px wide screen: no sideways page scroll, every control reachable',
    env,
    async (page) => {
      const name = unique('phone');
      const noSideScroll = () => page.evaluate(() => document.documentElement.scrollWidth <= document.documentElement.clientWidth && document.body.scrollWidth <= document.body.clientWidth);
      assert.ok(await noSideScroll(), 'the page body does not scroll sideways');
      const width = page.viewportSize().width;
      const inside = async (locator, what) => {
        await locator.scrollIntoViewIfNeeded();
        const box = await locator.boundingBox();
        assert.ok(box && box.width > 0 && box.x >= 0 && box.x + box.width <= width + 0.5, `${what} lies within the screen: ${JSON.stringify(box)}`);
      };
      for (const key of ['total', 'up', 'down', 'pending', 'paused']) {
        await inside(page.locator(`.counts [data-filter="${key === 'total' ? '' : key}"]`), `the ${key} count`);
      }
      const form = page.locator('#add-form');
      for (const label of ['URL', 'Name', 'Interval (s)', 'Timeout (ms)']) await inside(form.getByLabel(label, { exact: true }), `the ${label} field`);
      await inside(form.getByRole('button', { name: 'Add', exact: true }), 'the Add button');
      await inside(page.locator('#search'), 'the search box');
      await page.locator('#cluster').waitFor({ state: 'visible' });
      const clipped = await page.evaluate(() => [...document.querySelectorAll('#cluster-nodes')].some((ul) => ul.scrollWidth > ul.clientWidth));
      assert.ok(!clipped, 'the cluster panel shows its lines whole, not cut off at the edge');
      await inside(page.locator('#status-filter'), 'the status filter');

      await form.getByLabel('URL', { exact: true }).fill(`${env().target.url}/ok`);
      await form.getByLabel('Name', { exact: true }).fill(name);
      await form.getByLabel('Interval (s)', { exact: true }).fill('1');
      await form.getByRole('button', { name: 'Add', exact: true }).click();
      const r = row(page, name);
      await expectText(r.locator('.badge'), 'up');
      for (const button of ['Pause', 'Check now', 'Delete']) {
        await inside(r.getByRole('button', { name: button }), `the ${button} button`);
      }
      await r.getByRole('button', { name: 'Check now' }).click();
      await expectText(r.locator('.note'), /^OK · 200/);
      await r.getByRole('button', { name: 'Pause' }).click();
      await expectText(r.locator('.badge'), 'paused');
      await r.getByRole('button', { name: 'Show recent results' }).click();
      await expectText(page.locator('tr.detail'), 'Last ');
      assert.ok(await noSideScroll(), 'still no sideways scroll with rows and a detail panel');
    },
    { viewport: { width: 390, height: 844 } },
  );
});
