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

export async function startServer() {
  const dir = mkdtempSync(join(tmpdir(), 'tidesync-e2e-'));
  const portFile = join(dir, 'port');
  const bin = join(root, 'target', 'debug', 'tidesync-server');
  const child = spawn(bin, ['--port', '0', '--port-file', portFile, '--data-dir', join(dir, 'db'),
    '--static-dir', join(root, 'www-demo'), '--pkg-dir', join(root, 'pkg'), '--log-level', 'warn'],
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
