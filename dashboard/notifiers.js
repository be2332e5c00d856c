// Notifiers: the cluster's alert channels. Owns the "Notifiers" panel (list, add, delete) and
// the list every monitor form picks its channels from.
//
// The list is small (a few channels), so it is reloaded whole: at start, after this user's
// changes, and every NOTIFIERS_POLL_MS while the tab is visible (others may change it).

import { $, api, el, enc, failureText, field, num, setMsg, str, submitForm } from './util.js';

export const NOTIFIERS_POLL_MS = 10000;
const URL_TYPES = ['webhook', 'slack', 'discord'];
/** The server's default SMTP port for each security mode. */
const SMTP_PORTS = { starttls: 587, tls: 465, none: 25 };

/** The notifiers as last loaded, in the server's order (oldest first); null before the first load. */
let list = null;
let busy = false;
let loadFailed = false; // the panel's message is a load error, to clear once loading works
const listeners = new Set();

export const notifierById = (id) => (list || []).find((n) => n.id === id) || null;

/** Calls `fn` after every change of the list (for forms with notifier checkboxes). */
function onNotifiers(fn) {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

/** Reloads the list; failures show in the panel and keep the last list. */
export async function loadNotifiers() {
  if (busy) return;
  busy = true;
  try {
    const { data } = await api('GET', 'api/notifiers');
    const fresh = Array.isArray(data) ? data.filter((n) => n && typeof n.id === 'string') : [];
    const changed = JSON.stringify(fresh) !== JSON.stringify(list);
    list = fresh;
    if (changed) {
      renderList();
      for (const fn of listeners) fn(list);
    }
    if (loadFailed) setMsg($('notifier-list-msg'), '', true);
    loadFailed = false;
  } catch (e) {
    setMsg($('notifier-list-msg'), `Cannot load notifiers: ${failureText(e)}`, false);
    loadFailed = true;
  } finally {
    busy = false;
  }
}

// ---------- list ----------

/** Where a notifier sends, without the secret parts of a webhook URL (Slack's are tokens). */
function target(n) {
  if (n.type === 'email') {
    const port = num(n.smtp_port) === null ? '' : `:${n.smtp_port}`;
    const to = Array.isArray(n.to) ? n.to.map(str).join(', ') : '';
    return `${str(n.smtp_host)}${port} (${str(n.smtp_security) || 'starttls'}) → ${to}`;
  }
  try {
    return new URL(str(n.url)).host;
  } catch {
    return str(n.url);
  }
}

function renderList() {
  const items = (list || []).map((n) => {
    const name = str(n.name) || str(n.type);
    const del = el('button', { type: 'button', class: 'danger w', text: 'Delete', 'aria-label': `Delete notifier ${name}` });
    del.addEventListener('click', () => deleteNotifier(n, del));
    return el(
      'li',
      { class: 'notifier' },
      el(
        'div',
        { class: 'notifier-main' },
        el('span', { class: 'notifier-name', text: name }),
        el('span', { class: 'kind', text: str(n.type) }),
        el('div', { class: 'notifier-target muted', text: target(n), title: `id ${n.id}` }),
      ),
      del,
    );
  });
  $('notifier-list').replaceChildren(...items);
  $('notifier-empty').hidden = items.length > 0;
}

async function deleteNotifier(n, button) {
  const name = str(n.name) || str(n.type);
  const question = `Delete notifier "${name}"?\nNo status change will be sent to it any more.`;
  if (!window.confirm(question)) return;
  button.disabled = true;
  try {
    await api('DELETE', `api/notifiers/${enc(n.id)}`);
    setMsg($('notifier-list-msg'), `Deleted ${name}`, true);
    await loadNotifiers();
  } catch (e) {
    button.disabled = false;
    setMsg($('notifier-list-msg'), `Delete failed: ${failureText(e)}`, false);
  }
}

// ---------- add form ----------

/** Shows the fields of the chosen type; hidden ones are disabled so they are never read. */
function switchType(form) {
  const type = field(form, 'type').value;
  for (const group of form.querySelectorAll('[data-types]')) {
    const shown = group.dataset.types.split(' ').includes(type);
    group.hidden = !shown;
    group.disabled = !shown;
  }
  syncPortHint(form);
}

function syncPortHint(form) {
  field(form, 'smtp_port').placeholder = String(SMTP_PORTS[field(form, 'smtp_security').value] || '');
}

const addresses = (text) => text.split(/[\s,;]+/).filter(Boolean);

/** The POST body of the add form; throws an Error whose message is for the user. */
function notifierBody(form) {
  const type = field(form, 'type').value;
  const body = { type };
  const text = (name) => field(form, name).value.trim();
  if (text('name')) body.name = text('name');
  if (URL_TYPES.includes(type)) {
    if (!text('url')) throw new Error('URL is required.');
    body.url = text('url');
    return body;
  }
  for (const key of ['smtp_host', 'from']) {
    if (!text(key)) throw new Error(`${key === 'from' ? 'From' : 'SMTP host'} is required.`);
    body[key] = text(key);
  }
  body.smtp_security = field(form, 'smtp_security').value;
  if (text('smtp_port')) {
    const port = Number(text('smtp_port'));
    if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error('Port must be a whole number from 1 to 65535.');
    body.smtp_port = port;
  }
  if (text('smtp_username')) body.smtp_username = text('smtp_username');
  const password = field(form, 'smtp_password').value; // spaces may be part of it
  if (password) body.smtp_password = password;
  body.to = addresses(text('to'));
  if (body.to.length === 0) throw new Error('To needs at least one address.');
  return body;
}

async function addNotifier(form, body) {
  const { data } = await api('POST', 'api/notifiers', body);
  form.reset();
  field(form, 'type').value = body.type; // adding a second one of a kind is common
  switchType(form);
  await loadNotifiers();
  return `Added ${str(data && data.name) || body.type}`;
}

export function startNotifiers() {
  const form = $('notifier-form');
  field(form, 'type').addEventListener('change', () => switchType(form));
  field(form, 'smtp_security').addEventListener('change', () => syncPortHint(form));
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    submitForm(form, $('notifier-msg'), 'Adding…', () => notifierBody(form), (body) => addNotifier(form, body));
  });
  switchType(form);
  loadNotifiers();
}

// ---------- the choice of notifiers in a monitor form ----------

/**
 * A fieldset choosing a monitor's notifiers: "all" (`null`, also ones added later) or a list of
 * ids. `set(value)` shows a monitor's choice, `get()` reads it. Ids that name no notifier any
 * more stay listed (and chosen) until the user unticks them.
 */
export function notifierChoice() {
  const all = el('input', { type: 'checkbox', checked: true, defaultChecked: true });
  const boxes = el('div', { class: 'choices' });
  const none = el('p', { class: 'muted hint', text: 'No notifiers yet: add one in the Notifiers panel.' });
  const root = el(
    'fieldset',
    { class: 'notifier-choice wide' },
    el('legend', { text: 'Notify on status changes' }),
    el('label', { class: 'check' }, all, 'All notifiers, also ones added later'),
    boxes,
    none,
  );
  let chosen = new Set(); // ids ticked while "all" is off
  let extra = []; // chosen ids that are not in the list

  const readBoxes = () => {
    if (all.checked) return;
    chosen = new Set([...boxes.querySelectorAll('input:checked')].map((b) => b.value));
  };
  const render = () => {
    const known = list || [];
    const ids = new Set(known.map((n) => n.id));
    const rows = [
      ...known.map((n) => [n.id, `${str(n.name) || str(n.type)} (${str(n.type)})`]),
      ...extra.filter((id) => !ids.has(id)).map((id) => [id, `${id} (no such notifier)`]),
    ];
    boxes.replaceChildren(
      ...rows.map(([id, text]) =>
        el(
          'label',
          { class: 'check' },
          el('input', { type: 'checkbox', value: id, checked: all.checked || chosen.has(id), disabled: all.checked }),
          text,
        ),
      ),
    );
    none.hidden = list === null || rows.length > 0;
  };
  boxes.addEventListener('change', readBoxes);
  all.addEventListener('change', () => {
    // Unticking "all" starts from every current notifier ticked: the user removes some.
    if (!all.checked) chosen = new Set((list || []).map((n) => n.id).concat(extra));
    render();
  });
  const unsubscribe = onNotifiers(() => {
    readBoxes();
    render();
  });
  render();
  return {
    root,
    /** Stops following the list (when the form is removed). */
    detach: unsubscribe,
    get: () => (all.checked ? null : [...boxes.querySelectorAll('input:checked')].map((b) => b.value)),
    set(value) {
      all.checked = !Array.isArray(value);
      chosen = new Set(Array.isArray(value) ? value.map(str) : []);
      extra = [...chosen];
      render();
    },
  };
}
