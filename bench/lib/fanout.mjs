// The fan-out load tool: many live clients on one database of the reference
// server, each holding a live feed (a third each: an `eventsource` feed, a
// `continuous` feed, and the database's WebSocket), and changes
// written one at a time; for each change, how long until each client had it
// (every delivery, and until the last client had it), and the server's
// resident memory idle and with every client connected. Loopback only, and
// bounded: at most MAX_CLIENTS clients, each connected once, nothing retried.
import http from 'node:http';
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { median } from './stats.mjs';

export const MAX_CLIENTS = 5000;
const TRANSPORTS = ['eventsource', 'continuous', 'websocket'];

/** The resident memory of process `pid`, in bytes (Linux). */
export function residentBytes(pid) {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith('VmRSS:'));
  return Number(line?.match(/(\d+)/)?.[1] ?? 0) * 1024;
}

function percentile(values, p) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
}

/** Opens the database's socket; `onId(id)` for each change it carries. */
function openSocket(base, db, clientId, onId) {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(`${base.replace('http://', 'ws://')}/${db}/_socket?since=now&heartbeat=10000&client_id=${clientId}`);
    socket.onopen = () => resolve(() => socket.close());
    socket.onerror = () => reject(new Error('a socket failed to open'));
    socket.onmessage = (event) => {
      const frame = JSON.parse(event.data);
      if (frame.type === 'change') onId(frame.row.id);
    };
  });
}

/** Opens one feed; `onId(id)` is called for each document id it carries. */
function openFeed(base, db, transport, clientId, onId) {
  if (transport === 'websocket') return openSocket(base, db, clientId, onId);
  return new Promise((resolve, reject) => {
    const path = `/${db}/_changes?feed=${transport}&since=now&heartbeat=10000&client_id=${clientId}`;
    const req = http.get(`${base}${path}`, { agent: false }, (res) => {
      if (res.statusCode !== 200) {
        res.resume();
        reject(new Error(`${transport} feed answered ${res.statusCode}`));
        return;
      }
      res.setEncoding('utf8');
      let buffer = '';
      res.on('data', (chunk) => {
        buffer += chunk;
        let end;
        while ((end = buffer.indexOf('\n')) >= 0) {
          const line = buffer.slice(0, end).replace(/^data: /, '');
          buffer = buffer.slice(end + 1);
          if (!line.startsWith('{')) continue;
          try {
            const row = JSON.parse(line);
            if (row.id) onId(row.id);
          } catch { /* a partial or foreign line */ }
        }
      });
      resolve(() => req.destroy());
    });
    req.on('error', reject);
  });
}

async function call(base, method, path, body) {
  const res = await fetch(`${base}${path}`, {
    method, headers: { 'content-type': 'application/json' }, body: body && JSON.stringify(body),
  });
  if (!res.ok && res.status !== 412) throw new Error(`${method} ${path}: ${res.status}`);
  return res.json();
}

/**
 * Runs the load against the server at `base` (process `pid`): `clients`
 * feeds, `changes` documents written one after another, each once every
 * client had the one before. Resolves to the measurements.
 */
export async function fanout({ base, pid, clients, changes, timeoutMs = 30_000, log = () => {} }) {
  const url = new URL(base);
  if (!['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname)) throw new Error(`the load tool runs against loopback only, not ${url.hostname}`);
  if (!(clients >= 1 && clients <= MAX_CLIENTS)) throw new Error(`clients must be 1 to ${MAX_CLIENTS}`);
  if (typeof WebSocket === 'undefined') throw new Error('the socket clients need WebSocket: node --experimental-websocket (Node 20)');
  const db = `fanout-${Date.now().toString(36)}`;
  await call(base, 'PUT', `/${db}`);
  await sleep(200);
  const idle = residentBytes(pid);
  // arrivals[change][client]: ms from the write to the client having it.
  const arrivals = new Map();
  const written = new Map();
  const closers = [];
  try {
    const t0 = performance.now();
    for (let start = 0; start < clients; start += 100) {
      const batch = [];
      for (let i = start; i < Math.min(clients, start + 100); i++) {
        const transport = TRANSPORTS[i % TRANSPORTS.length];
        batch.push(openFeed(base, db, transport, `load-${i}`, (id) => {
          const at = written.get(id);
          if (at !== undefined) arrivals.get(id).set(i, performance.now() - at);
        }));
      }
      closers.push(...await Promise.all(batch));
    }
    const connectMs = performance.now() - t0;
    const listed = (await call(base, 'GET', '/_active_tasks')).filter((t) => t.database === db).length;
    if (listed !== clients) throw new Error(`the server lists ${listed} sessions for ${clients} clients`);
    await sleep(200);
    const connected = residentBytes(pid);
    log(`fanout: ${clients} clients connected in ${connectMs.toFixed(0)} ms`);
    const byTransport = Object.fromEntries(TRANSPORTS.map((t) => [t, []]));
    const lastDelivery = [];
    for (let c = 0; c < changes; c++) {
      const id = `change-${c}`;
      arrivals.set(id, new Map());
      written.set(id, performance.now());
      await call(base, 'PUT', `/${db}/${id}`, { n: c });
      const deadline = performance.now() + timeoutMs;
      while (arrivals.get(id).size < clients) {
        if (performance.now() > deadline) throw new Error(`${id} reached ${arrivals.get(id).size} of ${clients} clients in ${timeoutMs} ms`);
        await sleep(1);
      }
      const times = arrivals.get(id);
      for (const [client, ms] of times) byTransport[TRANSPORTS[client % TRANSPORTS.length]].push(ms);
      lastDelivery.push(Math.max(...times.values()));
    }
    return {
      clients, changes, connectMs, idleBytes: idle, connectedBytes: connected,
      transports: TRANSPORTS.map((t) => ({
        transport: t, clients: Math.ceil((clients - TRANSPORTS.indexOf(t)) / TRANSPORTS.length),
        deliveries: byTransport[t].length, p50: percentile(byTransport[t], 0.5), p99: percentile(byTransport[t], 0.99),
      })),
      allDelivered: { p50: median(lastDelivery), max: Math.max(...lastDelivery) },
    };
  } finally {
    for (const close of closers) close();
  }
}

/**
 * The `fanout` benchmark of scripts/bench: its own reference server (so its
 * memory is the load's alone), `ctx.fanoutClients` clients, 20 changes
 * (smoke: 20 clients, 3 changes).
 */
export async function fanoutBenchmark(ctx, startTidesync) {
  const clients = ctx.smoke ? 20 : ctx.fanoutClients;
  const changes = ctx.smoke ? 3 : 20;
  const result = { id: 'fanout', title: `fan-out: ${clients} live clients on one database of tidesync-server, ${changes} changes`, error: null };
  const server = await startTidesync(['--max-live-feeds', String(clients + 10)]);
  try {
    Object.assign(result, await fanout({ base: server.url, pid: server.pid, clients, changes, log: ctx.log }));
  } catch (e) {
    result.error = e.message;
  } finally {
    await server.stop();
  }
  return result;
}
