// The dashboard's login. With auth on, the page asks /api/session who it is: without a valid
// session it shows the login form instead of the monitors; a login sends the token once to
// POST /api/session, which answers an HttpOnly session cookie (no script here ever sees the
// token again, nothing stores it). A read-only session gets `read-only` on <body>, which hides
// every write control (class `w`); a 401 later (token revoked, cookie gone) reloads the page,
// which then shows the login form. With auth off nothing changes: no login, no logout.
import { $, api, failureText, field, onUnauthorized, setMsg, setText } from './util.js';

const WRITE_SCOPES = ['write', 'admin'];

/** Resolves true when the dashboard may start (auth off, or a valid session); else shows the login form. */
export async function startSession() {
  let who;
  try {
    who = (await api('GET', 'api/session')).data || {};
  } catch {
    return true; // an unreachable node: the page starts and shows it is offline
  }
  if (who.auth !== 'on') return true;
  if (!who.scope) {
    showLogin();
    return false;
  }
  document.body.classList.toggle('read-only', !WRITE_SCOPES.includes(who.scope));
  setText($('session-scope'), who.scope);
  $('session').hidden = false;
  $('logout').addEventListener('click', logout);
  let reloading = false;
  onUnauthorized(() => {
    if (reloading) return;
    reloading = true;
    location.reload();
  });
  return true;
}

function showLogin() {
  document.body.classList.add('logged-out');
  $('login').hidden = false;
  const form = $('login-form');
  const input = field(form, 'token');
  input.focus();
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const token = input.value.trim();
    if (!token) {
      setMsg($('login-msg'), 'Paste an API token.', false);
      return;
    }
    const button = form.querySelector('button[type=submit]');
    button.disabled = true;
    setMsg($('login-msg'), 'Logging in…', null);
    try {
      await api('POST', 'api/session', { token });
      input.value = '';
      location.reload();
    } catch (e) {
      setMsg($('login-msg'), failureText(e), false);
      button.disabled = false;
    }
  });
}

async function logout() {
  $('logout').disabled = true;
  try {
    await api('DELETE', 'api/session');
  } finally {
    location.reload();
  }
}
