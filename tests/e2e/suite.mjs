// What every sync suite sets up the same way: the sync target of this run
// (the reference server, or CouchDB in the CouchDB tier), the fault-injecting
// proxy in front of it and Chromium, started before the suite's tests and
// stopped after them; and names no other test uses.
import { before, after } from 'node:test';
import { startServer, launch } from './harness.mjs';
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
