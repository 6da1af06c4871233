// The server's HTTP JSON API beyond sync (the analysis endpoints), with this profile's
// login token. The token lives in the profile's IndexedDB meta store, where the wasm
// client keeps it (wasm-client/src/idb.rs: store "meta", key "token").

import { currentDb } from './profile.js';

function token() {
  return new Promise((resolve) => {
    const req = indexedDB.open(currentDb());
    req.onerror = () => resolve(null);
    req.onsuccess = () => {
      const db = req.result;
      try {
        const get = db.transaction('meta', 'readonly').objectStore('meta').get('token');
        get.onsuccess = () => {
          resolve(typeof get.result === 'string' ? get.result : null);
          db.close();
        };
        get.onerror = () => {
          resolve(null);
          db.close();
        };
      } catch {
        resolve(null);
        db.close();
      }
    };
  });
}

/// GET `path` (e.g. `/api/analytics/revenue?period=month`) as JSON; rejects with the
/// server's `{code, message}` (or a network error) otherwise.
export async function apiGet(path) {
  const tok = await token();
  if (!tok) throw Object.assign(new Error('not logged in'), { code: 'unauthorized' });
  const res = await fetch(path, { headers: { Authorization: `Bearer ${tok}` } });
  const body = await res.json().catch(() => ({}));
  if (!res.ok) throw Object.assign(new Error(body.message || res.statusText), { code: body.code, status: res.status });
  return body;
}
