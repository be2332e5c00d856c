// Helpers shared by the dashboard's modules: DOM building, formatting, and the API client.
//
// Every string that comes from the API reaches the DOM through `el` (text nodes, textContent,
// properties) or `setText`, never as markup: monitor names, URLs, causes and notifier names
// are user input.

const CLOCK_SKEW_IGNORE_MS = 2500; // the Date header has 1 s resolution

/** Server clock minus browser clock, when it matters. */
let skewMs = 0;

export const $ = (id) => document.getElementById(id);

/** Creates an element; string children become text nodes, so data is never parsed as HTML. */
export function el(tag, props, ...children) {
  const node = document.createElement(tag);
  if (props) {
    for (const [key, value] of Object.entries(props)) {
      if (key === 'class') node.className = value;
      else if (key === 'text') node.textContent = value;
      else if (key.includes('-') || key === 'role') node.setAttribute(key, value); // data-*, aria-*, role
      else node[key] = value;
    }
  }
  for (const child of children) {
    if (child !== null && child !== undefined && child !== false) {
      node.append(typeof child === 'string' ? document.createTextNode(child) : child);
    }
  }
  return node;
}

/** Sets text only when it changed, so polling does not disturb a user's text selection. */
export function setText(node, text) {
  if (node.textContent !== text) node.textContent = text;
}

export function setClass(node, cls) {
  if (node.className !== cls) node.className = cls;
}

/** Only http(s) URLs become links: a `javascript:` URL must never reach an href. */
export function safeHref(url) {
  try {
    const parsed = new URL(String(url));
    return parsed.protocol === 'http:' || parsed.protocol === 'https:' ? parsed.href : null;
  } catch {
    return null;
  }
}

export const enc = encodeURIComponent;
export const num = (v) => (typeof v === 'number' && Number.isFinite(v) ? v : null);
export const str = (v) => (v === null || v === undefined ? '' : String(v));
export const serverNow = () => Date.now() + skewMs;

export function ago(ms) {
  if (num(ms) === null) return 'never';
  const s = Math.max(0, serverNow() - ms) / 1000;
  if (s < 1) return 'just now';
  if (s < 60) return `${Math.floor(s)} s ago`;
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ago`;
  return `${Math.floor(s / 86400)} d ago`;
}

/** An interval in seconds: "30 s", "5 min", "1 h". */
export function duration(secs) {
  if (num(secs) === null) return '–';
  if (secs % 3600 === 0) return `${secs / 3600} h`;
  if (secs >= 60 && secs % 60 === 0) return `${secs / 60} min`;
  return `${secs} s`;
}

/** A length of time in milliseconds, to the two largest units: "4 s", "3 min 20 s", "2 d 5 h". */
export function elapsed(msValue) {
  if (num(msValue) === null) return '–';
  let s = Math.max(0, Math.floor(msValue / 1000));
  if (s === 0) return '< 1 s';
  const parts = [];
  for (const [unit, size] of [['d', 86400], ['h', 3600], ['min', 60], ['s', 1]]) {
    if (s >= size || parts.length) {
      parts.push(`${Math.floor(s / size)} ${unit}`);
      s %= size;
    }
    if (parts.length === 2) break;
  }
  // "2 h 0 min" reads worse than "2 h".
  return parts.filter((p, i) => i === 0 || !p.startsWith('0 ')).join(' ');
}

export const ms = (v) => (num(v) === null ? '–' : `${Math.round(v)} ms`);
export const clockTime = (at) => (num(at) === null ? '–' : new Date(at).toLocaleString());

/** A share 0..1 as a percentage to two decimals, rounded down so that only 1 shows "100%". */
export function pct(ratio) {
  if (num(ratio) === null) return '–';
  if (ratio >= 1) return '100%';
  // The epsilon undoes float error (0.9995 * 10000 = 9994.999…); 99.99 % is the most below 1.
  return `${Math.min(9999, Math.floor(Math.max(0, ratio) * 10000 + 1e-6)) / 100}%`;
}

/** How good an availability is, as a CSS class: u-full (100 %), u-high, u-mid, u-low, u-none. */
export function uptimeClass(ratio) {
  if (num(ratio) === null) return 'u-none';
  if (ratio >= 1) return 'u-full';
  if (ratio >= 0.99) return 'u-high';
  return ratio >= 0.95 ? 'u-mid' : 'u-low';
}

/** A count with the reader's digit grouping: "12,345". */
export const count = (n) => (num(n) === null ? '–' : n.toLocaleString());

// ---------- API ----------

export class ApiError extends Error {
  constructor(message, status) {
    super(message);
    this.status = status;
  }
}

/** What happens when the node answers 401: the session ended (set by session.js). */
let unauthorized = () => {};
export const onUnauthorized = (fn) => {
  unauthorized = fn;
};

/**
 * Calls the API (relative paths, so a reverse-proxy prefix keeps working). The session cookie
 * goes with it (same origin); bodies are JSON, as the node requires of every change.
 */
export async function api(method, path, body, signal) {
  const init = { method, headers: { Accept: 'application/json' }, signal };
  if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  const res = await fetch(path, init);
  noteServerClock(res.headers.get('date'));
  const text = await res.text();
  let data = null;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = null;
    }
  }
  if (res.status === 401 && path !== 'api/session') unauthorized();
  if (!res.ok) {
    const msg = data && typeof data.error === 'string' ? data.error : `HTTP ${res.status}`;
    throw new ApiError(msg, res.status);
  }
  return { data, headers: res.headers };
}

/** "3 s ago" must use the server's clock: result times are stamped by the nodes. */
function noteServerClock(dateHeader) {
  const server = dateHeader ? Date.parse(dateHeader) : NaN;
  if (Number.isNaN(server)) return;
  const skew = server + 500 - Date.now();
  skewMs = Math.abs(skew) > CLOCK_SKEW_IGNORE_MS ? skew : 0;
}

export const isAbort = (e) => e && e.name === 'AbortError';

/** What a form shows when a request fails: the server's words, or that it is unreachable. */
export const failureText = (e) => (e instanceof ApiError ? e.message : `Cannot reach the node: ${e.message}`);

// ---------- forms ----------

/** A named control of a form (form.name would be the form's own name attribute). */
export const field = (form, name) => form.elements.namedItem(name);

/** Shows a message in a form's <output>; `ok` null is neutral (work in progress). */
export function setMsg(out, text, ok) {
  setText(out, text);
  setClass(out, ok === null ? 'form-msg' : ok ? 'form-msg ok' : 'form-msg bad');
}

/**
 * One submit of a form: `build()` makes the request body (an Error it throws is shown as it
 * is), then `send(body)` talks to the node and answers the message for success. The submit
 * button is off meanwhile; a refusal shows the server's words in `out`.
 */
export async function submitForm(form, out, working, build, send) {
  let body;
  try {
    body = build();
  } catch (e) {
    setMsg(out, e.message, false);
    return;
  }
  const button = form.querySelector('button[type=submit]');
  button.disabled = true;
  setMsg(out, working, null);
  try {
    setMsg(out, await send(body), true);
  } catch (e) {
    setMsg(out, failureText(e), false);
  } finally {
    button.disabled = false;
  }
}
