// What every sync suite sets up the same way: the sync target of this run
// (the reference server, or CouchDB in the CouchDB tier), the fault-injecting
// proxy in front of it and Chromium, started before the suite's tests and
// stopped after them; and names no other test uses.
import { before, after } from 'node:test';
import { startServer, launch, sdkPage } from './harness.mjs';
import { startProxy } from './proxy.mjs';

/**
 * Registers the suite's `before` and `after`; `started` receives
 * `{ server, proxy, browser }` once all three run, and may return a promise
 * (the suite's own set-up), awaited before any test. `serverArgs` are
 * reference-server flags.
 */
export function syncSuite(started, serverArgs = []) {
  let running = {};
  before(async () => {
    const server = await startServer(serverArgs);
    running = { server };
    running.proxy = await startProxy(server);
    running.browser = await launch();
    await started(running);
  });
  after(async () => {
    await running.browser?.close();
    await running.proxy?.close();
    await running.server?.stop();
  });
}

let count = 0;

/** A name no other database of this run has: `prefix`, the time and a counter. */
export const fresh = (prefix) => `${prefix}-${Date.now()}-${count++}`;

/**
 * A client of `remoteDb` (through `proxy`) in a browser context of its own,
 * as `window.db`, with polling off unless `options` say otherwise;
 * `window.heard` lists the ids of remote changes, `window.transports` each
 * transport its status went through.
 */
export async function liveClient(browser, proxy, remoteDb, options = {}) {
  const context = await browser.newContext();
  const page = await sdkPage(context, proxy.url);
  await page.evaluate(async ({ name, remote, options }) => {
    window.heard = [];
    window.transports = [];
    window.db = await window.tidesync.Tidesync.open({ name, remote, headers: window.remoteHeaders, debounceMs: 20, backoffBaseMs: 100, backoffCapMs: 1000, pollIntervalMs: 0, ...options });
    window.db.on('change', (e) => { if (e.origin === 'remote') window.heard.push(e.id); });
    window.db.on('status', (s) => { if (window.transports.at(-1) !== s.transport) window.transports.push(s.transport); });
  }, { name: fresh('client'), remote: `${proxy.url}/${remoteDb}`, options });
  return { context, page };
}
