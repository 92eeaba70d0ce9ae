// The processes and servers a benchmark run needs: the tidesync reference
// server (release-grade `server` profile), pouchdb-server in memory, and a
// static server for the bench page, the package and PouchDB's browser bundle.
import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import { createReadStream, existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer as createNetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { extname, join, normalize, sep } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { root } from '../../tests/e2e/harness.mjs';

export const serverBin = join(root, 'target', 'server', 'tidesync-server');

/** A free loopback TCP port (free when asked; the caller binds it right away). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const probe = createNetServer();
    probe.on('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}

function stopper(child, dir) {
  return async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await Promise.race([exited, sleep(3000)]);
    }
    rmSync(dir, { recursive: true, force: true });
  };
}

/**
 * The tidesync reference server on a free port with a throw-away data folder
 * (`extraArgs`: more flags); `pid` is its process, for memory readings.
 */
export async function startTidesync(extraArgs = []) {
  if (!existsSync(serverBin)) throw new Error(`${serverBin} missing: cargo build -p tidesync-server --profile server`);
  const dir = mkdtempSync(join(tmpdir(), 'tidesync-bench-'));
  const portFile = join(dir, 'port');
  const child = spawn(serverBin, ['--port', '0', '--port-file', portFile, '--data-dir', join(dir, 'db'),
    '--log-level', 'warn', ...extraArgs], { stdio: ['ignore', 'ignore', 'inherit'] });
  let port = '';
  for (let i = 0; i < 200 && !port; i++) {
    if (existsSync(portFile)) port = readFileSync(portFile, 'utf8').trim();
    if (!port) await sleep(50);
  }
  const stop = stopper(child, dir);
  if (!port) { await stop(); throw new Error('tidesync-server did not start'); }
  return { url: `http://127.0.0.1:${port}`, pid: child.pid, stop };
}

/** pouchdb-server from npm, in memory (memdown), with CORS for any origin. */
export async function startPouchServer() {
  const dir = mkdtempSync(join(tmpdir(), 'pouchdb-bench-'));
  const port = await freePort();
  const bin = join(root, 'node_modules', 'pouchdb-server', 'bin', 'pouchdb-server');
  const child = spawn(process.execPath, [bin, '--in-memory', '--host', '127.0.0.1', '--port', String(port),
    '--no-stdout-logs', '--config', join(dir, 'config.json')], { cwd: dir, stdio: ['ignore', 'ignore', 'inherit'] });
  const url = `http://127.0.0.1:${port}`;
  const stop = stopper(child, dir);
  for (let i = 0; i < 300; i++) {
    if (child.exitCode !== null) break;
    try {
      if ((await fetch(`${url}/`)).ok) return { url, stop };
    } catch { /* not listening yet */ }
    await sleep(50);
  }
  await stop();
  throw new Error('pouchdb-server did not start');
}

const TYPES = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8',
  '.wasm': 'application/wasm', '.json': 'application/json', '.map': 'application/json',
};

/**
 * Serves `mounts` ({ '/prefix/': folder }) on a free loopback port, so the
 * page, the package and PouchDB's bundle share one origin.
 */
export async function startStatic(mounts) {
  const server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url, 'http://x').pathname);
    const prefix = Object.keys(mounts).filter((p) => path.startsWith(p)).sort((a, b) => b.length - a.length)[0];
    const base = prefix && normalize(mounts[prefix]);
    const file = base && normalize(join(base, path.slice(prefix.length)));
    if (!file || !file.startsWith(base + sep) || !existsSync(file) || !statSync(file).isFile()) {
      res.writeHead(404).end('not found');
      return;
    }
    res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream', 'cache-control': 'no-store' });
    createReadStream(file).pipe(res);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${server.address().port}`;
  return { url, stop: () => new Promise((resolve) => server.close(resolve)) };
}
