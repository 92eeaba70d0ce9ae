// Shared set-up of the end-to-end tests: a reference server on a free port with
// a throw-away data folder, serving the demo and the built package, and the
// browser engine of this run (browsers.mjs: Chromium by default).
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, existsSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { launchBrowser } from './browsers.mjs';

export const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const artifacts = join(root, 'test-results');

export { chromiumArgs, engine, lacks } from './browsers.mjs';

/**
 * Apache CouchDB as the sync target, when the CouchDB tier runs
 * (`TIDESYNC_E2E_TARGET=couchdb` with `COUCHDB_URL`, `COUCHDB_USER`,
 * `COUCHDB_PASSWORD` naming an admin): each test database is created by the
 * admin with `_security` naming the app user as a member, as an app's back
 * end would, and the SDK signs in as that member through its `headers`.
 */
export const couch = process.env.TIDESYNC_E2E_TARGET === 'couchdb'
  ? {
    url: (process.env.COUCHDB_URL ?? '').replace(/\/+$/, ''),
    admin: `Basic ${Buffer.from(`${process.env.COUCHDB_USER ?? 'admin'}:${process.env.COUCHDB_PASSWORD ?? 'admin'}`).toString('base64')}`,
  }
  : null;
if (couch && !couch.url) throw new Error('TIDESYNC_E2E_TARGET=couchdb needs COUCHDB_URL');

/** The app user the SDK signs in as on CouchDB (a member of each test database). */
export const appUser = { name: 'tidesync-app', password: 'app-secret' };
/** A second member, whose credentials stand for ones that expired. */
const oldUser = { name: 'tidesync-app-old', password: 'old-secret' };
const basic = (user, password) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

/** The headers an app passes to `open()` to reach the target as its user. */
export const appHeaders = couch ? { Authorization: basic(appUser.name, appUser.password) } : {};

/** Credentials the target refuses, for tests of the `auth` callback. */
export const staleHeaders = couch ? { Authorization: basic(oldUser.name, oldUser.password) } : { Authorization: 'Bearer stale' };

async function couchCall(method, path, body) {
  const res = await fetch(`${couch.url}${path}`, {
    method,
    headers: { authorization: couch.admin, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!res.ok && res.status !== 409 && res.status !== 412) {
    throw new Error(`CouchDB ${method} ${path}: ${res.status} ${await res.text()}`);
  }
  return res;
}

/** Sets a CouchDB node setting; returns the previous value. */
async function couchConfig(section, key, value) {
  // A setting that had no value before is removed again, not set to "".
  if (value === '') return (await couchCall('DELETE', `/_node/_local/_config/${section}/${key}`).catch(() => ({ json: () => '' }))).json();
  const res = await couchCall('PUT', `/_node/_local/_config/${section}/${key}`, String(value));
  return res.json();
}

async function startCouch(extraArgs) {
  for (const user of [appUser, oldUser]) {
    await couchCall('PUT', `/_users/org.couchdb.user:${user.name}`, { name: user.name, password: user.password, roles: [], type: 'user' });
  }
  // The reference server's --max-document-bytes has CouchDB's counterpart.
  const limit = extraArgs.indexOf('--max-document-bytes');
  const restore = [];
  if (limit >= 0) restore.push(['couchdb', 'max_document_size', await couchConfig('couchdb', 'max_document_size', extraArgs[limit + 1])]);
  // So are --session-timeout and --per-user-dbs (CouchDB's admins are its own).
  const timeout = extraArgs.indexOf('--session-timeout');
  if (timeout >= 0) restore.push(['chttpd_auth', 'timeout', await couchConfig('chttpd_auth', 'timeout', extraArgs[timeout + 1])]);
  if (extraArgs.includes('--per-user-dbs')) restore.push(['couch_peruser', 'enable', await couchConfig('couch_peruser', 'enable', 'true')]);
  const created = new Set();
  return {
    kind: 'couchdb',
    url: couch.url,
    admin: couch.admin,
    /** Creates `db` with the app user as its only member (once). */
    async prepare(db) {
      if (created.has(db)) return;
      created.add(db);
      await couchCall('PUT', `/${db}`);
      await couchCall('PUT', `/${db}/_security`, { admins: { names: [], roles: [] }, members: { names: [appUser.name, oldUser.name], roles: [] } });
    },
    /** A request straight to the server, as its admin. */
    fetch: (path, init = {}) => fetch(`${couch.url}${path}`, { ...init, headers: { ...init.headers, authorization: couch.admin } }),
    stop: async () => { for (const [section, key, value] of restore) await couchConfig(section, key, value); },
  };
}

/**
 * Starts the sync target of this run: the reference server on a free port with
 * a throw-away data folder (serving the demo and the built package), or
 * CouchDB in the CouchDB tier. `extraArgs` are reference-server flags.
 */
export async function startServer(extraArgs = []) {
  if (couch) return startCouch(extraArgs);
  return startReference(extraArgs);
}

/**
 * Starts the reference server whatever the run's target (for tests that
 * need it beside CouchDB), with the same defaults as `startServer`.
 */
export async function startReference(extraArgs = []) {
  // The suites test the HTTP feeds and count requests at the proxy, which
  // cannot read a WebSocket's frames: the reference server offers its socket
  // only to the suites that ask (`--websocket true`).
  if (!extraArgs.includes('--websocket')) extraArgs = [...extraArgs, '--websocket', 'false'];
  const dir = mkdtempSync(join(tmpdir(), 'tidesync-e2e-'));
  const portFile = join(dir, 'port');
  const bin = join(root, 'target', 'debug', 'tidesync-server');
  const child = spawn(bin, ['--port', '0', '--port-file', portFile, '--data-dir', join(dir, 'db'),
    '--static-dir', join(root, 'www-demo'), '--pkg-dir', join(root, 'pkg'), '--log-level', 'warn', ...extraArgs],
  { stdio: ['ignore', 'ignore', 'inherit'] });
  for (let i = 0; i < 200 && !existsSync(portFile); i++) await sleep(50);
  let port = '';
  for (let i = 0; i < 20 && !port; i++) { port = readFileSync(portFile, 'utf8').trim(); if (!port) await sleep(50); }
  if (!port) throw new Error('the server did not start');
  const url = `http://127.0.0.1:${port}`;
  // With `--admin NAME:PASSWORD` the server checks credentials: its own
  // requests (`fetch`) go as that admin.
  const adminAt = extraArgs.indexOf('--admin');
  const admin = adminAt >= 0 ? `Basic ${Buffer.from(extraArgs[adminAt + 1]).toString('base64')}` : undefined;
  return {
    kind: 'reference',
    url,
    admin,
    // The SDK creates its database on the reference server itself.
    prepare: async () => {},
    fetch: (path, init = {}) => fetch(`${url}${path}`, admin ? { ...init, headers: { ...init.headers, authorization: admin } } : init),
    stop: () => { child.kill('SIGTERM'); rmSync(dir, { recursive: true, force: true }); },
  };
}

export async function launch() {
  mkdirSync(artifacts, { recursive: true });
  return launchBrowser();
}

/**
 * Opens the SDK test page (served by the proxy) and waits for the package.
 * `window.remoteHeaders` holds the headers that sign the app in to the target.
 */
export async function sdkPage(context, proxyUrl) {
  const page = await context.newPage();
  page.on('pageerror', (e) => console.error('page error:', e.message));
  await page.addInitScript((headers) => { window.remoteHeaders = headers; }, appHeaders);
  await page.goto(`${proxyUrl}/_test/index.html`);
  await page.waitForFunction(() => window.ready === true);
  return page;
}

/** Polls `check` until it returns a truthy value or `ms` pass. */
export async function eventually(check, ms = 15000, what = 'condition') {
  const end = Date.now() + ms;
  let last;
  while (Date.now() < end) {
    last = await check();
    if (last) return last;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what} (last: ${JSON.stringify(last)})`);
}

/** The server's documents of one database, by id (tombstones excluded). */
export async function serverDocs(server, db) {
  const res = await server.fetch(`/${db}/_all_docs?include_docs=true`);
  if (res.status === 404) return {};
  const body = await res.json();
  return Object.fromEntries(body.rows.map((r) => [r.id, r.doc]));
}
