// The demo's service worker: keeps the app shell (page, scripts, styles and the
// tidesync package) in a cache so the page loads with no network. Network
// first, so a reachable server always serves the current files; the cache only
// answers when the network fails. Database requests pass straight through: the
// SDK handles being offline itself.
const CACHE = 'tidesync-demo-shell';
const SCOPE = new URL('./', self.location).pathname;
const SHELL = [
  './', 'index.html', 'style.css', 'app.js', 'device.js', 'render.js', 'model.js', 'merge.js',
  'editor-dialog.js', 'conflict-dialog.js', 'photos.js', 'people.js',
  'pkg/index.js', 'pkg/tidesync.js', 'pkg/tidesync_bg.wasm',
];

/** The package's own relative imports (the error class lives in a snippets/ path). */
async function packageImports() {
  const found = [];
  for (const file of ['pkg/index.js', 'pkg/tidesync.js']) {
    const text = await (await fetch(file, { cache: 'no-cache' })).text();
    for (const [, path] of text.matchAll(/from\s+['"](\.\/snippets\/[^'"]+)['"]/g)) found.push(`pkg/${path.slice(2)}`);
  }
  return found;
}

self.addEventListener('install', (event) => {
  event.waitUntil((async () => {
    const cache = await caches.open(CACHE);
    await cache.addAll([...new Set([...SHELL, ...(await packageImports())])]);
    await self.skipWaiting();
  })());
});

self.addEventListener('activate', (event) => event.waitUntil(self.clients.claim()));

async function networkFirst(request) {
  const cache = await caches.open(CACHE);
  try {
    const response = await fetch(request);
    if (response.ok) await cache.put(request, response.clone());
    return response;
  } catch (error) {
    const cached = await cache.match(request, { ignoreSearch: true });
    if (cached) return cached;
    throw error;
  }
}

self.addEventListener('fetch', (event) => {
  const url = new URL(event.request.url);
  if (event.request.method !== 'GET' || url.origin !== self.location.origin || !url.pathname.startsWith(SCOPE)) return;
  event.respondWith(networkFirst(event.request));
});
