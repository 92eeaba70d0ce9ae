// Shared set-up of the end-to-end tests: a reference server on a free port with
// a throw-away data folder, serving the demo and the built package, and Debian's
// Chromium driven by playwright-core.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, existsSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { chromium } from 'playwright-core';

export const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const artifacts = join(root, 'test-results');

export const chromiumArgs = [
  '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-background-networking',
  '--disable-component-update', '--no-first-run',
  '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1',
];

export async function startServer(extraArgs = []) {
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
  return { url, stop: () => { child.kill('SIGTERM'); rmSync(dir, { recursive: true, force: true }); } };
}

export async function launch() {
  mkdirSync(artifacts, { recursive: true });
  return chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args: chromiumArgs });
}

/** Opens the SDK test page (served by the proxy) and waits for the package. */
export async function sdkPage(context, proxyUrl) {
  const page = await context.newPage();
  page.on('pageerror', (e) => console.error('page error:', e.message));
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
export async function serverDocs(serverUrl, db) {
  const res = await fetch(`${serverUrl}/${db}/_all_docs?include_docs=true`);
  if (res.status === 404) return {};
  const body = await res.json();
  return Object.fromEntries(body.rows.map((r) => [r.id, r.doc]));
}
