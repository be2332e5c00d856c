// What every browser test needs: a real `ringwatch` node, a local target server to probe, a
// headless Chromium driven by playwright-core, and polling with deadlines instead of sleeps.
//
// Nothing here reaches the internet: the node binds 127.0.0.1:0, the targets are served by
// this process on 127.0.0.1:0, and Chromium runs with its background networking off.

import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, test } from 'node:test';
import { chromium } from 'playwright-core';

/** How long a node may take to print its `listening` line. */
const NODE_START_MS = 20000;
/** Default deadline of `until`: status decisions on a 1 s interval need a few seconds. */
export const WAIT_MS = 15000;
const POLL_MS = 50;
/** A test that runs longer than this fails (a hang must not hang the suite). */
const TEST_TIMEOUT_MS = 60000;
/** How long Chromium may take to start. */
const LAUNCH_TIMEOUT_MS = 30000;

const CHROMIUM = process.env.RINGWATCH_CHROMIUM || '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-dev-shm-usage',
];

/** Processes to kill if this test process exits without its `after` hooks (a crash). */
const children = new Set();
process.on('exit', () => {
  for (const child of children) child.kill('SIGKILL');
});

/** Polls `check` (sync or async) until it returns a truthy value, which it returns. */
export async function until(check, what, timeoutMs = WAIT_MS) {
  const deadline = Date.now() + timeoutMs;
  let last;
  for (;;) {
    try {
      const value = await check();
      if (value) return value;
      last = value;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) {
      const detail = last instanceof Error ? last.message : JSON.stringify(last);
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} (last: ${detail})`);
    }
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

/** Waits until the locator's text matches `expected` (a string it must contain, or a RegExp). */
export async function expectText(locator, expected, timeoutMs = WAIT_MS) {
  let text = '';
  const matches = () => (expected instanceof RegExp ? expected.test(text) : text.includes(expected));
  await until(
    async () => {
      text = (await locator.textContent({ timeout: timeoutMs })) ?? '';
      return matches();
    },
    `text ${expected} in ${locator}`,
    timeoutMs,
  ).catch((e) => {
    throw new Error(`${e.message}; text was ${JSON.stringify(text)}`);
  });
  return text;
}

/** Waits until the locator matches exactly `n` elements. */
export async function expectCount(locator, n, timeoutMs = WAIT_MS) {
  let count = -1;
  await until(
    async () => (count = await locator.count()) === n,
    `${n} × ${locator}`,
    timeoutMs,
  ).catch((e) => {
    throw new Error(`${e.message}; count was ${count}`);
  });
}

// ---------- node ----------

/**
 * Starts `ringwatch node` on free ports with a fresh data directory and waits for its
 * `listening http=...` line; `env` adds environment variables (e.g. `RINGWATCH_AUTH`).
 * Returns `{ url, name, cluster, process, api, kill }` (`cluster`: its cluster address); `api(method, path, body, token)` sends `token`
 * as a bearer token when given.
 */
export async function startNode(label, { env = {} } = {}) {
  const bin = process.env.RINGWATCH_BIN;
  if (!bin) throw new Error('RINGWATCH_BIN is not set (scripts/test sets it after cargo build)');
  const data = mkdtempSync(join(tmpdir(), `ringwatch-browser-${label}-`));
  const name = `browser-${label}-${process.pid}`;
  const child = spawn(bin, ['node'], {
    env: {
      ...process.env,
      RINGWATCH_HTTP: '127.0.0.1:0',
      RINGWATCH_CLUSTER: '127.0.0.1:0',
      RINGWATCH_NAME: name,
      RINGWATCH_DATA: data,
      RUST_LOG: process.env.RUST_LOG || 'warn',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  let stderr = '';
  child.stderr.on('data', (chunk) => {
    stderr = (stderr + chunk).slice(-4000);
  });
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  const listening = new Promise((resolve) => {
    createInterface({ input: child.stdout }).on('line', (line) => {
      const m = /^listening http=(\S+) cluster=(\S+) /.exec(line);
      if (m) resolve({ http: m[1], cluster: m[2] });
    });
  });
  let timer;
  const timeout = new Promise((resolve) => {
    timer = setTimeout(() => resolve(null), NODE_START_MS);
  });
  const first = await Promise.race([listening, exited.then((e) => ({ exited: e })), timeout]);
  clearTimeout(timer);
  if (!first || first.exited) {
    child.kill('SIGKILL');
    rmSync(data, { recursive: true, force: true });
    const why = first ? `exited (${JSON.stringify(first.exited)})` : `printed no listening line in ${NODE_START_MS} ms`;
    throw new Error(`ringwatch node ${why}; stderr:\n${stderr}`);
  }
  const url = `http://${first.http}/`;
  return {
    url,
    name,
    cluster: first.cluster,
    process: child,
    api: (method, path, body, token) => apiCall(url, method, path, body, token),
    /** Kills the node (SIGKILL) and waits for it to be gone; safe to call twice. */
    async kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
      children.delete(child);
      rmSync(data, { recursive: true, force: true });
    },
  };
}

/** One API request with a JSON body (and a bearer token); returns `{ status, data, headers }`. */
async function apiCall(base, method, path, body, token) {
  const init = { method, headers: { Accept: 'application/json' } };
  if (token) init.headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  const res = await fetch(new URL(path, base), init);
  const text = await res.text();
  return { status: res.status, data: text ? JSON.parse(text) : null, headers: res.headers };
}

/**
 * Registers the file's `before`/`after` hooks: one target server, one node, one browser, all
 * stopped at the end (also when tests fail). Returns a getter of `{ target, node, browser }`.
 */
export function suite(label) {
  const env = {};
  before(async () => {
    env.target = await startTarget();
    env.node = await startNode(label);
    env.browser = await launchBrowser();
  });
  after(async () => {
    await env.browser?.close();
    await env.node?.kill();
    await env.target?.close();
  });
  return () => env;
}

// ---------- target ----------

/**
 * A local HTTP server to probe: `/ok` answers 200, `/fail` 500, `/flip/KEY` 500 while
 * `target.failing` has KEY (else 200), `/hook` records webhook posts in `target.hooks`, and
 * `/seen/KEY` answers 200 and keeps the last request's headers and body in `target.seen[KEY]`,
 * and `/zone/KEY` answers 500 to checks whose User-Agent names a zone in
 * `target.failingZones[KEY]` (an array), else 200.
 */
export async function startTarget() {
  const target = { failing: new Set(), failingZones: {}, hooks: [], seen: {}, url: '', close: null };
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const path = new URL(req.url, 'http://x').pathname;
      if (path === '/hook') target.hooks.push(Buffer.concat(chunks).toString());
      const seen = /^\/seen\/(.+)$/.exec(path);
      if (seen) target.seen[seen[1]] = { headers: req.headers, body: Buffer.concat(chunks).toString() };
      const flip = /^\/flip\/(.+)$/.exec(path);
      const zoned = /^\/zone\/(.+)$/.exec(path);
      const agentZone = (/\(zone ([^)]+)\)/.exec(req.headers['user-agent'] || '') || [])[1];
      const zoneOk = zoned !== null && !(target.failingZones[zoned[1]] || []).includes(agentZone);
      const ok = path === '/ok' || path === '/hook' || seen !== null || zoneOk || (flip !== null && !target.failing.has(flip[1]));
      res.writeHead(ok ? 200 : 500, { 'content-type': 'text/plain' });
      res.end(ok ? 'ok\n' : 'broken\n');
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  target.url = `http://127.0.0.1:${server.address().port}`;
  target.close = () => {
    server.closeAllConnections();
    return new Promise((resolve) => server.close(resolve));
  };
  return target;
}

// ---------- browser ----------

/** Launches Chromium (a fresh temporary profile each time). */
export function launchBrowser() {
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS, timeout: LAUNCH_TIMEOUT_MS });
}

/**
 * Reports each failure message the dashboard shows (`.bad` notes and form messages, the
 * banner) to `window.__ringwatchSaid`: a failing test lists them, since a row's note is
 * gone again by the time a wait times out.
 */
function watchFailureMessages() {
  const last = new WeakMap();
  const report = () => {
    for (const node of document.querySelectorAll('.bad, #banner:not([hidden])')) {
      const text = node.textContent.trim();
      if (text && last.get(node) !== text) {
        last.set(node, text);
        window.__ringwatchSaid(text);
      }
    }
  };
  const what = { subtree: true, childList: true, characterData: true, attributes: true, attributeFilter: ['class', 'hidden'] };
  new MutationObserver(report).observe(document, what);
}

/**
 * A fresh context and page on the dashboard of `node` (not yet navigated), collecting page
 * errors, console errors and the failure messages the page showed (`page.said`).
 * `page.allowConsole(fn)` lets one test accept console errors `fn({ text, url })` approves
 * (e.g. the 400 of a refused request); `page.assertNoErrors()` fails on any other.
 */
export async function openDashboard(browser, node, { viewport = { width: 1280, height: 900 } } = {}) {
  const context = await browser.newContext({ viewport });
  const page = await context.newPage();
  const errors = [];
  const allowed = [];
  page.on('pageerror', (e) => errors.push(`page error: ${e.stack || e.message}`));
  page.on('console', (msg) => {
    if (msg.type() !== 'error') return;
    const entry = { text: msg.text(), url: msg.location().url || '' };
    if (!allowed.some((fn) => fn(entry))) errors.push(`console error: ${entry.text} (${entry.url})`);
  });
  page.errors = errors;
  page.said = [];
  await page.exposeFunction('__ringwatchSaid', (text) => page.said.push(text));
  await page.addInitScript(watchFailureMessages);
  page.allowConsole = (fn) => allowed.push(fn);
  page.assertNoErrors = () => {
    if (errors.length) throw new Error(`the page reported errors:\n${errors.join('\n')}`);
  };
  page.close = ((close) => async () => {
    await close();
    await context.close();
  })(page.close.bind(page));
  return page;
}

/** The table row of the monitor named `name`. */
export const row = (page, name) => page.locator('tr.mon').filter({ has: page.locator('a.name', { hasText: name }) });

/** Creates monitors through the API; `specs` is one body or an array (bulk). */
export async function createMonitors(node, specs) {
  const res = await node.api('POST', 'api/monitors', specs);
  if (res.status !== 201) throw new Error(`create answered ${res.status}: ${JSON.stringify(res.data)}`);
  return res.data;
}

/**
 * A `node:test` test with its own page on the dashboard of `env().node`: it fails on a page
 * error or console error even when its steps pass, and a failing step's message also lists
 * the page's errors and the failure messages it showed (often the actual cause). The page
 * is closed either way.
 */
export function dashboardTest(name, env, fn, options) {
  test(name, { timeout: TEST_TIMEOUT_MS }, async (t) => {
    const { browser, node } = env();
    const page = await openDashboard(browser, node, options);
    try {
      await page.goto(node.url);
      // Ready: the first summary arrived (the node name is in the header).
      await expectText(page.locator('#node-name'), node.name);
      await fn(page, t);
    } catch (e) {
      if (page.errors.length) e.message += `\nthe page also reported:\n${page.errors.join('\n')}`;
      if (page.said.length) e.message += `\nthe page showed these failure messages:\n${page.said.join('\n')}`;
      throw e;
    } finally {
      await page.close();
    }
    page.assertNoErrors();
  });
}
