// Status pages: owns the "Status pages" panel. Lists the cluster's pages with a link to each,
// and (write scope) creates, edits and deletes them: title, slug, description, public, groups
// of monitors, and an announcement. The pages themselves are served by the node at
// /status/{slug}, rendered on the server; nothing here draws them.
//
// The list is small, so it is reloaded whole at start and after this user's changes. The
// monitors a group may hold are loaded when the form opens.

import { $, api, el, enc, failureText, field, setMsg, str, submitForm } from './util.js';

/** The pages as last loaded, oldest first. */
let pages = [];
/** The monitors the group pickers offer: [{id, name}], by name. */
let monitors = [];
/** The id of the page the form edits; null when it makes a new one. */
let editing = null;

/** Reloads and redraws the list; answers whether that worked (a failure is shown). */
export async function loadStatusPages() {
  try {
    const { data } = await api('GET', 'api/status-pages');
    pages = Array.isArray(data) ? data.filter((p) => p && typeof p.id === 'string') : [];
    renderList();
    setMsg($('page-list-msg'), '', true);
    return true;
  } catch (e) {
    setMsg($('page-list-msg'), `Cannot load status pages: ${failureText(e)}`, false);
    return false;
  }
}

function renderList() {
  const items = pages.map((p) => {
    const title = str(p.title) || str(p.slug);
    const link = el('a', { href: `status/${enc(str(p.slug))}`, text: `/status/${str(p.slug)}`, target: '_blank', rel: 'noopener', class: 'page-link' });
    const edit = el('button', { type: 'button', class: 'w', text: 'Edit', 'aria-label': `Edit status page ${title}` });
    edit.addEventListener('click', () => openEditor(p));
    const del = el('button', { type: 'button', class: 'danger w', text: 'Delete', 'aria-label': `Delete status page ${title}` });
    del.addEventListener('click', () => deletePage(p, del));
    return el(
      'li',
      { class: 'page-item', 'data-slug': str(p.slug) },
      el(
        'div',
        { class: 'page-main' },
        el('span', { class: 'page-name', text: title }),
        el('span', { class: 'kind', text: p.public ? 'public' : 'private' }),
        el('div', { class: 'page-target' }, link),
      ),
      el('div', { class: 'page-actions' }, edit, del),
    );
  });
  $('page-list').replaceChildren(...items);
  $('page-empty').hidden = items.length > 0;
}

async function deletePage(p, button) {
  const title = str(p.title) || str(p.slug);
  if (!window.confirm(`Delete status page "${title}"?\n/status/${str(p.slug)} will answer 404.`)) return;
  button.disabled = true;
  try {
    await api('DELETE', `api/status-pages/${enc(p.id)}`);
    if (editing === p.id) resetForm();
    // Said after the reload, which clears the list's message.
    if (await loadStatusPages()) setMsg($('page-list-msg'), `Deleted ${title}`, true);
  } catch (e) {
    button.disabled = false;
    setMsg($('page-list-msg'), `Delete failed: ${failureText(e)}`, false);
  }
}

// ---------- the form ----------

async function loadMonitors() {
  try {
    const { data } = await api('GET', 'api/monitors');
    monitors = (Array.isArray(data) ? data : [])
      .map((m) => ({ id: str(m.id), name: str(m.name) || str(m.id) }))
      .sort((a, b) => a.name.localeCompare(b.name));
  } catch (e) {
    setMsg($('page-msg'), `Cannot load monitors: ${failureText(e)}`, false);
  }
}

/** One group of the form: a name and a tick box per monitor. */
function groupEditor(group) {
  const chosen = new Set((group && group.monitors) || []);
  const name = el('input', { type: 'text', name: 'group-name', maxLength: 200, value: str(group && group.name), placeholder: 'e.g. Website' });
  const known = new Set(monitors.map((m) => m.id));
  const rows = [
    ...monitors.map((m) => [m.id, m.name]),
    ...[...chosen].filter((id) => !known.has(id)).map((id) => [id, `${id} (no such monitor)`]),
  ];
  const boxes = el(
    'div',
    { class: 'choices' },
    ...rows.map(([id, text]) =>
      el('label', { class: 'check' }, el('input', { type: 'checkbox', value: id, checked: chosen.has(id) }), text),
    ),
  );
  const remove = el('button', { type: 'button', text: 'Remove group', class: 'remove-group' });
  const root = el('fieldset', { class: 'group page-group' }, el('legend', { text: 'Group' }), el('label', null, 'Name', name), boxes, remove);
  remove.addEventListener('click', () => root.remove());
  if (rows.length === 0) boxes.append(el('p', { class: 'muted hint', text: 'No monitors yet.' }));
  return root;
}

function readGroups(form) {
  return [...form.querySelectorAll('.page-group')].map((g) => ({
    name: g.querySelector('input[name=group-name]').value.trim(),
    monitors: [...g.querySelectorAll('.choices input:checked')].map((b) => b.value),
  }));
}

/** `datetime-local` text for unix ms, in the browser's time zone; '' for none. */
function localInput(msValue) {
  if (typeof msValue !== 'number') return '';
  const d = new Date(msValue - new Date(msValue).getTimezoneOffset() * 60000);
  return d.toISOString().slice(0, 16);
}

function pageBody(form) {
  const text = (name) => field(form, name).value.trim();
  if (!text('title')) throw new Error('Title is required.');
  if (!/^[a-z0-9-]{1,64}$/.test(text('slug'))) throw new Error('Slug: 1 to 64 of a-z, 0-9 and -.');
  const body = {
    title: text('title'),
    slug: text('slug'),
    description: field(form, 'description').value,
    public: field(form, 'public').checked,
    show_details: field(form, 'show_details').checked,
    groups: readGroups(form),
    announcement: null,
  };
  if (text('ann_title')) {
    const at = (name) => (text(name) ? new Date(text(name)).getTime() : null);
    body.announcement = {
      title: text('ann_title'),
      text: field(form, 'ann_text').value,
      severity: field(form, 'ann_severity').value,
      start_ms: at('ann_start'),
      end_ms: at('ann_end'),
    };
  }
  return body;
}

function resetForm() {
  const form = $('page-form');
  form.reset();
  editing = null;
  $('page-groups').replaceChildren();
  $('page-editor-title').textContent = 'Add status page';
  form.querySelector('button[type=submit]').textContent = 'Create page';
  $('page-cancel').hidden = true;
}

async function openEditor(p) {
  await loadMonitors();
  resetForm();
  const form = $('page-form');
  editing = p ? p.id : null;
  if (p) {
    field(form, 'title').value = str(p.title);
    field(form, 'slug').value = str(p.slug);
    field(form, 'description').value = str(p.description);
    field(form, 'public').checked = !!p.public;
    field(form, 'show_details').checked = !!p.show_details;
    const a = p.announcement;
    if (a) {
      field(form, 'ann_title').value = str(a.title);
      field(form, 'ann_text').value = str(a.text);
      field(form, 'ann_severity').value = str(a.severity) || 'info';
      field(form, 'ann_start').value = localInput(a.start_ms);
      field(form, 'ann_end').value = localInput(a.end_ms);
    }
    $('page-groups').replaceChildren(...(p.groups || []).map(groupEditor));
    $('page-editor-title').textContent = `Edit ${str(p.title)}`;
    form.querySelector('button[type=submit]').textContent = 'Save page';
    $('page-cancel').hidden = false;
  } else {
    $('page-groups').replaceChildren(groupEditor(null));
  }
  $('page-editor').open = true;
}

async function savePage(body) {
  const id = editing;
  const { data } = id
    ? await api('PATCH', `api/status-pages/${enc(id)}`, body)
    : await api('POST', 'api/status-pages', body);
  resetForm();
  $('page-editor').open = false;
  await loadStatusPages();
  return `${id ? 'Saved' : 'Created'} /status/${str(data && data.slug)}`;
}

export function startStatusPages() {
  const form = $('page-form');
  $('page-editor').addEventListener('toggle', () => {
    if ($('page-editor').open && !editing && !form.querySelector('.page-group')) openEditor(null);
  });
  $('page-add-group').addEventListener('click', async () => {
    if (monitors.length === 0) await loadMonitors();
    $('page-groups').append(groupEditor(null));
  });
  $('page-cancel').addEventListener('click', () => {
    resetForm();
    $('page-editor').open = false;
  });
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    submitForm(form, $('page-msg'), 'Saving…', () => pageBody(form), savePage);
  });
  loadStatusPages();
}
