// Murmur's service worker. The page registers it only for a kept profile, never in a temporary
// session, so an installed Murmur starts offline to its unlock screen. It serves the bundle it
// was installed with (every file of it, listed below by the build); a newly deployed bundle is
// a new sw.js, which the browser installs beside this one and which waits until the user
// chooses to reload (the page shows "A new version of Murmur is available"). config.json comes
// from the network whenever it can. Logout unregisters the worker and deletes its cache.
const VERSION = '@VERSION@';
const FILES = ['@FILES@'];
const CACHE = `murmur-${VERSION}`;

self.addEventListener('install', (event) => {
  event.waitUntil(caches.open(CACHE).then((cache) => cache.addAll(FILES)));
});

self.addEventListener('activate', (event) => {
  event.waitUntil(caches.keys()
    .then((names) => Promise.all(names
      .filter((name) => name.startsWith('murmur-') && name !== CACHE)
      .map((name) => caches.delete(name))))
    .then(() => self.clients.claim()));
});

// The page asks for the waiting version when the user chose to reload.
self.addEventListener('message', (event) => {
  if (event.data === 'update') self.skipWaiting();
});

self.addEventListener('fetch', (event) => {
  const { request } = event;
  const url = new URL(request.url);
  // The nodes (other origins, POST) are never touched.
  if (request.method !== 'GET' || url.origin !== self.location.origin) return;
  const path = url.pathname.slice(new URL(self.registration.scope).pathname.length);
  if (path === 'config.json') {
    event.respondWith(fetch(request)
      .then((response) => {
        if (response.ok) {
          const copy = response.clone();
          event.waitUntil(caches.open(CACHE).then((cache) => cache.put('config.json', copy)));
        }
        return response;
      })
      .catch(() => caches.match('config.json', { cacheName: CACHE }))
      .then((response) => response || Response.error()));
    return;
  }
  // (caches.match, not caches.open: reading must not bring back a cache logout deleted.)
  const name = request.mode === 'navigate' ? 'index.html' : path;
  event.respondWith(caches.match(name, { cacheName: CACHE }).then((hit) => hit || fetch(request)));
});
