// Logging in, and the locked profile: after a logout the data stays on the device but the
// app shows none of it until its user logs in again; it can be wiped from here. Another
// user logging in on this browser gets a profile of their own (profile.js).

import { h, field, confirmButton, toast, errorText } from '../ui.js';
import { t } from '../i18n.js';
import { app } from '../kinds.js';
import { Client } from '../pkg/jiuloop_wasm.js';
import { claim, dbForLogin, forget } from '../profile.js';

export function viewLogin(session) {
  // Prefill the name only to log the same user in again (an expired login), not after a
  // logout on a shared device.
  const again = session.user && session.logged_in;
  const user = h('input#login-user', { autocomplete: 'username', value: again ? session.user : '', required: true });
  const password = h('input#login-password', { type: 'password', autocomplete: 'current-password', required: true });
  const error = h('p#login-error.error', { role: 'alert' });
  const submit = h('button#login-submit.primary', { type: 'submit' }, t('login'));
  const form = h(
    'form#login-form.card',
    {
      on: {
        submit: async (e) => {
          e.preventDefault();
          submit.disabled = true;
          error.textContent = '';
          try {
            await login(user.value.trim(), password.value);
            app.go(app.home(app.session()));
          } catch (err) {
            error.textContent = `${t('login_failed')}: ${errorText(err)}`;
          } finally {
            submit.disabled = false;
          }
        },
      },
    },
    h('h1', t('app')),
    h('p.hint', t('login_hint')),
    field(t('user'), user),
    field(t('password'), password),
    submit,
    error,
    session.user && !session.logged_in ? lockedBox(session) : h('p.hint#first-start', t('first_start')),
  );
  return { node: h('section.login', form), focus: () => (again ? password : user).focus() };
}

/// The profile of a logged-out user: locked, with the offer to wipe it.
function lockedBox(session) {
  const s = JSON.parse(app.client.status());
  return h(
    'div#locked.warn-box',
    h('p', t('locked', { user: session.user })),
    s.pending ? h('p.warn', t('wipe_unsent', { n: s.pending })) : null,
    confirmButton({
      id: 'wipe-data',
      label: t('wipe'),
      confirmLabel: t('wipe_confirm'),
      run: async () => {
        await wipe();
        toast(t('wiped'));
        app.render();
      },
    }),
  );
}

/// Delete this profile's database and start with an empty one.
export async function wipe() {
  const db = window.jiuloop.db();
  app.client.close();
  await Client.deleteDatabase(db);
  forget(db);
  await app.switchProfile(`jiuloop-${Math.random().toString(36).slice(2, 10)}`);
}

async function login(user, password) {
  // This user's own profile: never another user's.
  const owner = app.session().user;
  const db = dbForLogin(user, window.jiuloop.db(), owner);
  await app.switchProfile(db);
  const body = JSON.stringify({
    user,
    password,
    device_id: app.client.deviceId(),
    device_name: `jiuloop-web ${navigator.userAgent.slice(0, 80)}`,
  });
  let resp;
  try {
    resp = await fetch(new URL('api/login', location.href), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
    });
  } catch (e) {
    throw new Error(`${t('offline')}: ${errorText(e)}`);
  }
  const text = await resp.text();
  if (!resp.ok) {
    let msg = `HTTP ${resp.status}`;
    try {
      const j = JSON.parse(text);
      msg = j.message || j.code || msg;
    } catch (_) {
      /* not JSON */
    }
    throw new Error(msg);
  }
  const server = new URL('.', location.href).href.replace(/\/$/, '');
  await app.client.completeLogin(server, text);
  claim(JSON.parse(text).user || user, db);
}
