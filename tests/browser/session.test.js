// The dashboard of a node with auth on: the login form, a read token's session (no write
// controls anywhere), a write token's session (the controls, and they work), a refused token,
// and logging out. The session cookie is HttpOnly and SameSite=Strict: the page's scripts
// never see the token.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { expectText, launchBrowser, openDashboard, row, startNode, startTarget, until } from './harness.js';

const ADMIN = 'browser-admin-token-0123456789abcdef';
const TEST_TIMEOUT_MS = 60000;

describe('dashboard login', () => {
  const env = {};
  before(async () => {
    env.target = await startTarget();
    env.node = await startNode('session', { env: { RINGWATCH_AUTH: 'on', RINGWATCH_ADMIN_TOKEN: ADMIN } });
    env.browser = await launchBrowser();
    const token = async (scope) => {
      const made = await env.node.api('POST', 'api/tokens', { name: `browser-${scope}`, scope }, ADMIN);
      assert.equal(made.status, 201, JSON.stringify(made.data));
      return made.data.token_secret;
    };
    env.read = await token('read');
    env.write = await token('write');
    const created = await env.node.api('POST', 'api/monitors', { url: `${env.target.url}/ok`, name: 'guarded', interval_secs: 1, timeout_ms: 2000 }, ADMIN);
    assert.equal(created.status, 201, JSON.stringify(created.data));
    env.monitorId = created.data.id;
    const weekly = { title: 'weekly backup', monitors: 'all', cron: '0 3 * * SUN', duration_secs: 3600, timezone: 'Europe/Berlin' };
    const window = await env.node.api('POST', 'api/maintenance', weekly, ADMIN);
    assert.equal(window.status, 201, JSON.stringify(window.data));
  });
  after(async () => {
    await env.browser?.close();
    await env.node?.kill();
    await env.target?.close();
  });

  /** A test on a fresh page (own cookies) that fails on unexpected console or page errors. */
  const pageTest = (name, fn) =>
    test(name, { timeout: TEST_TIMEOUT_MS }, async () => {
      const page = await openDashboard(env.browser, env.node);
      try {
        await page.goto(env.node.url);
        await fn(page);
      } catch (e) {
        if (page.errors.length) e.message += `\nthe page also reported:\n${page.errors.join('\n')}`;
        throw e;
      } finally {
        await page.close();
      }
      page.assertNoErrors();
    });

  /** Logs in with `token` through the form and waits for the monitors. */
  async function logIn(page, token, scope) {
    await until(() => page.locator('#login').isVisible(), 'the login form');
    assert.equal(await page.locator('main').isVisible(), false, 'no monitors before login');
    await page.getByLabel('API token').fill(token);
    await page.getByRole('button', { name: 'Log in' }).click();
    await expectText(page.locator('#session-scope'), scope);
    await expectText(page.locator('#node-name'), env.node.name);
    await expectText(row(page, 'guarded').locator('.badge'), 'up');
    assert.equal(await page.locator('#login').isVisible(), false);
  }

  /** The session cookie as the browser holds it; the page's scripts cannot read it. */
  async function sessionCookie(page, token) {
    const cookies = await page.context().cookies();
    const session = cookies.find((c) => c.name === 'ringwatch_session');
    assert.ok(session, `a session cookie: ${JSON.stringify(cookies.map((c) => c.name))}`);
    assert.equal(session.httpOnly, true);
    assert.equal(session.sameSite, 'Strict');
    assert.ok(!session.value.includes(token), 'the cookie does not show the token as it is');
    assert.equal(await page.evaluate(() => document.cookie), '', 'scripts see no cookie');
    assert.ok(!(await page.content()).includes(token), 'the page does not hold the token');
  }

  async function logOut(page) {
    await page.getByRole('button', { name: 'Log out' }).click();
    await until(() => page.locator('#login').isVisible(), 'the login form after logout');
    const cookies = await page.context().cookies();
    assert.ok(!cookies.some((c) => c.name === 'ringwatch_session'), 'the cookie is gone');
  }

  // A poll in flight while the page logs out may be answered 401: expected, and harmless.
  const allow401 = (page) => page.allowConsole(({ text }) => text.includes('status of 401'));

  pageTest('a read token sees the monitors and no write control, then logs out', async (page) => {
    allow401(page);
    await logIn(page, env.read, 'read');
    await sessionCookie(page, env.read);
    const r = row(page, 'guarded');
    for (const name of ['Pause', 'Check now', 'Delete']) {
      assert.equal(await r.getByRole('button', { name }).isVisible(), false, `${name} is hidden`);
    }
    assert.equal(await page.locator('#add-form').isVisible(), false, 'no add form');
    assert.equal(await page.locator('.notifier-add').isVisible(), false, 'no notifier form');
    const windowItem = page.locator('#maintenance-list li');
    await expectText(windowItem.locator('.window-title'), 'weekly backup');
    for (const name of ['Edit', 'Delete']) {
      assert.equal(await windowItem.getByRole('button', { name }).isVisible(), false, `maintenance ${name} is hidden`);
    }
    assert.equal(await page.locator('#maintenance-add').isVisible(), false, 'no maintenance form');
    assert.equal(await page.locator('#page-editor').isVisible(), false, 'no status page form');
    assert.equal(await page.locator('#status-pages').isVisible(), true, 'the status pages are listed');
    await r.locator('button[data-action=toggle]').click();
    await until(() => page.locator('.detail-body').first().isVisible(), 'the detail panel');
    assert.equal(await page.getByText('Edit monitor').isVisible(), false, 'no edit form');
    const status = await page.evaluate(async () => (await fetch('api/monitors')).status);
    assert.equal(status, 200, 'the session reads');
    await logOut(page);
    const after = await page.evaluate(async () => (await fetch('api/monitors')).status);
    assert.equal(after, 401, 'no session after logout');
  });

  pageTest('a write token sees the write controls and they work', async (page) => {
    allow401(page);
    await logIn(page, env.write, 'write');
    await sessionCookie(page, env.write);
    const r = row(page, 'guarded');
    assert.equal(await page.locator('#add-form').isVisible(), true, 'the add form');
    assert.equal(await page.locator('#maintenance-add').isVisible(), true, 'the maintenance form');
    await expectText(page.locator('#maintenance-list li .window-title'), 'weekly backup');
    assert.equal(await page.locator('#maintenance-list li').getByRole('button', { name: 'Edit' }).isVisible(), true);
    await r.getByRole('button', { name: 'Pause' }).click();
    await expectText(r.locator('.badge'), 'paused');
    assert.equal((await env.node.api('GET', `api/monitors/${env.monitorId}`, undefined, ADMIN)).data.active, false);
    await r.getByRole('button', { name: 'Resume' }).click();
    await expectText(r.locator('button[data-action=pause]'), 'Pause');
    await logOut(page);
  });

  pageTest('an unknown token is refused with the node’s words', async (page) => {
    page.allowConsole(({ text, url }) => url.endsWith('/api/session') && text.includes('status of 401'));
    await until(() => page.locator('#login').isVisible(), 'the login form');
    await page.getByLabel('API token').fill('rw_0000000000000000_not-a-token');
    await page.getByRole('button', { name: 'Log in' }).click();
    await expectText(page.locator('#login-msg'), 'unknown or revoked token');
    assert.equal(await page.locator('main').isVisible(), false);
  });
});
