// Service worker: keeps the app (html, js, wasm, css) in a cache so that a reload with
// the server unreachable still opens the app with all local data (which lives in
// IndexedDB, not here). The build writes BUILD (a hash of the files) and FILES.

const BUILD = '__BUILD__';
const FILES = __FILES__;
const CACHE = `jiuloop-app-${BUILD}`;

self.addEventListener('install', (event) => {
  event.waitUntil(
    caches
      .open(CACHE)
      .then((cache) => cache.addAll(FILES.map((f) => new Request(f, { cache: 'reload' }))))
      .then(() => self.skipWaiting()),
  );
});

self.addEventListener('activate', (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((keys) => Promise.all(keys.filter((k) => k.startsWith('jiuloop-app-') && k !== CACHE).map((k) => caches.delete(k))))
      .then(() => self.clients.claim()),
  );
});

self.addEventListener('fetch', (event) => {
  const req = event.request;
  const url = new URL(req.url);
  if (req.method !== 'GET' || url.origin !== self.location.origin) return;
  const scope = new URL(self.registration.scope);
  const path = url.pathname.slice(scope.pathname.length);
  // The API and the sync socket always go to the network.
  if (path.startsWith('api/') || path === 'sync' || path === 'health') return;
  // The app shell: from the cache (same version as the wasm it was built with), else the
  // network (and keep a copy).
  const key = req.mode === 'navigate' ? new URL('./', scope).href : req;
  event.respondWith(
    caches.open(CACHE).then((cache) =>
      cache.match(key, { ignoreSearch: true }).then(
        (hit) =>
          hit ||
          fetch(req).then((resp) => {
            if (resp.ok && resp.type === 'basic') cache.put(req, resp.clone());
            return resp;
          }),
      ),
    ),
  );
});
