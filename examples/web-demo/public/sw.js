// The demo's service worker: keeps the app shell available offline. The API (/v1, /healthz, /metrics) is
// never touched: chat data lives in IndexedDB through the SDK, not in this cache.
const CACHE = 'natter-demo-shell-v1';
const PASS_THROUGH = /^\/(v1|healthz|metrics)(\/|$)/;

async function precache() {
  const cache = await caches.open(CACHE);
  const response = await fetch('/', { cache: 'no-store' });
  const html = await response.clone().text();
  // The hashed bundles the current page loads; later builds are picked up as pages load them.
  const assets = [...new Set(html.match(/\/assets\/[\w.-]+/g) ?? [])];
  await cache.put('/', response);
  await cache.addAll(assets);
}

self.addEventListener('install', (event) => {
  event.waitUntil(precache().then(() => self.skipWaiting()));
});

self.addEventListener('activate', (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((keys) => Promise.all(keys.filter((key) => key !== CACHE).map((key) => caches.delete(key))))
      .then(() => self.clients.claim()),
  );
});

self.addEventListener('fetch', (event) => {
  const { request } = event;
  const url = new URL(request.url);
  if (request.method !== 'GET' || url.origin !== self.location.origin || PASS_THROUGH.test(url.pathname))
    return;
  if (request.mode === 'navigate') {
    // Network first, so a new build shows at once; the cached shell when offline.
    event.respondWith(
      fetch(request)
        .then((response) => {
          if (response.ok) {
            const copy = response.clone();
            caches.open(CACHE).then((cache) => cache.put('/', copy));
          }
          return response;
        })
        .catch(() => caches.match('/').then((cached) => cached ?? Response.error())),
    );
    return;
  }
  if (url.pathname.startsWith('/assets/')) {
    // Hashed file names never change content: cache first.
    event.respondWith(
      caches.match(request).then(
        (cached) =>
          cached ??
          fetch(request).then((response) => {
            if (response.ok) {
              const copy = response.clone();
              caches.open(CACHE).then((cache) => cache.put(request, copy));
            }
            return response;
          }),
      ),
    );
  }
});

// Web Push: the payload carries ids and counts only (no message text), so the notification says how many
// new messages wait; opening it focuses the app, which syncs. The notification `tag` collapses per channel.
self.addEventListener('push', (event) => {
  let payload = {};
  try {
    payload = event.data ? event.data.json() : {};
  } catch {
    payload = {};
  }
  if (payload.type !== 'natter.message') return;
  const count = Number(payload.count) || 1;
  // `label` ("Photo", "File") says what an attachment message is without giving its content.
  const body =
    count === 1
      ? payload.label
        ? `${payload.label}`
        : 'You have a new message'
      : `You have ${count} new messages`;
  event.waitUntil(
    self.registration.showNotification('natter', {
      body,
      tag: `natter:${payload.channelId}`,
      data: { channelId: payload.channelId },
    }),
  );
});

// A click focuses an open tab (which opens the conversation when told which) or opens the app there.
self.addEventListener('notificationclick', (event) => {
  event.notification.close();
  const channelId = event.notification.data?.channelId;
  event.waitUntil(
    self.clients.matchAll({ type: 'window', includeUncontrolled: true }).then((windows) => {
      const open = windows.find((w) => 'focus' in w);
      if (!open) return self.clients.openWindow(channelId ? `/#/c/${channelId}` : '/');
      if (channelId) open.postMessage({ type: 'natter.open', channelId });
      return open.focus();
    }),
  );
});
