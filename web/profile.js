// Whose data this browser holds. Each user who logs in on this browser gets an IndexedDB
// profile of their own (one database each), so a second user never sees — or sends — the
// first one's records. Logging out forgets the token: the profile is locked (the app
// shows nothing of it until its user logs in again) and can be wiped. The mapping user →
// database lives in localStorage; the data itself only in IndexedDB.

const CURRENT = 'jiuloop.db';
const BY_USER = 'jiuloop.dbs';
const DEFAULT = 'jiuloop';

function byUser() {
  try {
    return JSON.parse(localStorage.getItem(BY_USER) || '{}') || {};
  } catch (_) {
    return {};
  }
}

function save(map) {
  localStorage.setItem(BY_USER, JSON.stringify(map));
}

/// The database the app opens at start: the last one used.
export function currentDb() {
  return localStorage.getItem(CURRENT) || DEFAULT;
}

export function setCurrentDb(name) {
  localStorage.setItem(CURRENT, name);
}

/// The database for `user` logging in while `current` (owned by `owner`, '' for none) is
/// open: theirs if they have one here, else the open one if nobody owns it, else a new one.
export function dbForLogin(user, current, owner) {
  const map = byUser();
  if (map[user]) return map[user];
  if (!owner || owner === user) return current;
  let name;
  do name = `${DEFAULT}-${Math.random().toString(36).slice(2, 10)}`;
  while (Object.values(map).includes(name));
  return name;
}

export function claim(user, db) {
  const map = byUser();
  map[user] = db;
  save(map);
}

/// Forget a wiped database; the app opens a fresh one afterwards.
export function forget(db) {
  const map = byUser();
  for (const [u, d] of Object.entries(map)) if (d === db) delete map[u];
  save(map);
  if (currentDb() === db) localStorage.removeItem(CURRENT);
}
