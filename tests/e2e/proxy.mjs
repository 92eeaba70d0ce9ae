// A fault-injecting proxy for end-to-end tests. It serves the SDK test page and
// the built package on /_test/, takes fault rules on /_proxy/, and forwards
// everything else to the reference server, dropping requests, losing responses
// after the server committed, answering 5xx with Retry-After, delaying, or
// cutting a response mid-body, as the rules say.
import http from 'node:http';
import net from 'node:net';
import { readFile } from 'node:fs/promises';
import { join, normalize, extname } from 'node:path';
import { root } from './harness.mjs';

const types = { '.html': 'text/html', '.js': 'text/javascript', '.mjs': 'text/javascript', '.wasm': 'application/wasm', '.json': 'application/json', '.ts': 'text/plain' };

async function serveStatic(res, dir, rel) {
  const path = normalize(join(dir, rel));
  if (!path.startsWith(dir)) { res.writeHead(404).end(); return; }
  try {
    const body = await readFile(path);
    res.writeHead(200, { 'content-type': types[extname(path)] ?? 'application/octet-stream' }).end(body);
  } catch {
    res.writeHead(404).end();
  }
}

function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/**
 * Starts a proxy in front of `target` (what `startServer` returned); returns
 * its URL and a control handle. A database is prepared on the server (created
 * with its members, on CouchDB) before the first request that names it.
 */
export async function startProxy(target) {
  let rules = [];
  const log = [];
  const upstream = new URL(target.url);

  // Every request to the server, until it ends: closing the proxy ends them
  // (a server that stays up, like CouchDB, would otherwise hold them open).
  const streams = new Set();
  function upstreamRequest(req, onAnswer) {
    const headers = { ...req.headers, host: upstream.host };
    const out = http.request({ host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers }, onAnswer);
    streams.add(out);
    out.on('close', () => streams.delete(out));
    return out;
  }

  function forward(req, body) {
    return new Promise((resolve, reject) => {
      const out = upstreamRequest(req, (res) => {
        readBody(res).then((data) => resolve({ status: res.statusCode, headers: res.headers, body: data }), reject);
      });
      out.on('error', reject);
      out.end(body);
    });
  }

  // A live feed (`feed=continuous|longpoll|eventsource`) is piped as it
  // streams, whatever fault rule met it (a feed never ends by itself, so it
  // cannot be buffered); `stall` sends one heartbeat and then nothing,
  // `silent` (a server or proxy buffering the stream) not even that, and
  // `drop-request` and `status` act as on any request.
  async function stream(req, res, body, rule, entry) {
    if (rule?.action === 'drop-request') { req.socket.destroy(); return; }
    if (rule?.action === 'status') { res.writeHead(rule.status, { 'content-type': 'application/json' }).end('{"error":"unavailable"}'); return; }
    if (rule?.action === 'delay') await new Promise((r) => setTimeout(r, rule.delayMs));
    if (rule?.action === 'stall' || rule?.action === 'silent') {
      res.writeHead(200, { 'content-type': 'application/json' });
      if (rule.action === 'stall') res.write('\n');
      else res.flushHeaders();
      return;
    }
    const out = upstreamRequest(req, (answer) => {
      entry.status = answer.statusCode;
      res.writeHead(answer.statusCode, answer.headers);
      res.flushHeaders();
      answer.pipe(res);
    });
    out.on('error', (e) => { if (!res.headersSent) res.writeHead(502).end(String(e)); else res.destroy(); });
    // The client went away: so does the upstream feed.
    res.on('close', () => out.destroy());
    out.end(body);
  }

  const server = http.createServer(async (req, res) => {
    const url = new URL(req.url, 'http://proxy');
    if (url.pathname.startsWith('/_test/pkg/')) return serveStatic(res, join(root, 'pkg'), url.pathname.slice('/_test/pkg/'.length));
    if (url.pathname.startsWith('/_test/')) return serveStatic(res, join(root, 'tests', 'e2e', 'page'), url.pathname.slice('/_test/'.length) || 'index.html');
    const body = await readBody(req);
    // A database name as CouchDB allows them (not favicon.ico, not _session).
    const db = decodeURIComponent(url.pathname.split('/')[1] ?? '');
    if (/^[a-z][a-z0-9_$()+/-]*$/.test(db)) {
      try { await target.prepare(db); } catch (e) { res.writeHead(502).end(String(e)); return; }
    }
    const feed = url.searchParams.get('feed') ?? undefined;
    const live = feed !== undefined && feed !== 'normal';
    const rule = rules.find((r) => (!r.method || r.method === req.method) && (!r.path || url.pathname.includes(r.path)) && (r.feed ? r.feed === feed : !live) && r.times > 0);
    if (rule) rule.times -= 1;
    const entry = { t: Date.now(), method: req.method, path: url.pathname, feed, action: rule?.action ?? 'pass', bytes: body.length, auth: req.headers.authorization };
    if (req.method === 'POST' && url.pathname.endsWith('/_bulk_docs')) {
      try { entry.ids = JSON.parse(body.toString()).docs.map((d) => d._id); } catch { entry.ids = []; }
    }
    log.push(entry);
    if (live) return stream(req, res, body, rule, entry);
    try {
      if (rule?.action === 'drop-request') { req.socket.destroy(); return; }
      if (rule?.action === 'status') {
        const headers = { 'content-type': 'application/json' };
        if (rule.retryAfter !== undefined) headers['retry-after'] = String(rule.retryAfter);
        res.writeHead(rule.status, headers).end(JSON.stringify({ error: 'unavailable', reason: 'injected by the test proxy' }));
        return;
      }
      if (rule?.action === 'delay') await new Promise((r) => setTimeout(r, rule.delayMs));
      const answer = await forward(req, body);
      entry.status = answer.status;
      if (rule?.action === 'drop-response') { req.socket.destroy(); return; }
      const headers = { ...answer.headers };
      delete headers['transfer-encoding'];
      if (rule?.action === 'cut') {
        headers['content-length'] = String(answer.body.length);
        res.writeHead(answer.status, headers);
        res.write(answer.body.subarray(0, Math.floor(answer.body.length / 2)));
        setTimeout(() => req.socket.destroy(), 20);
        return;
      }
      res.writeHead(answer.status, headers).end(answer.body);
    } catch (e) {
      res.writeHead(502, { 'content-type': 'application/json' }).end(JSON.stringify({ error: 'bad_gateway', reason: String(e) }));
    }
  });
  // A WebSocket (`/{db}/_socket`): the upgrade goes to the server and the two
  // connections are piped as they are (the proxy cannot read the masked
  // frames; the log counts the bytes sent up). A rule with `socket: true` and
  // action `cut-up` meets the first chunk sent up larger than `bytes`: it goes
  // to the server, then both connections are cut before the answer comes
  // back (a lost answer); `refuse` answers the upgrade 503.
  const sockets = new Set();
  server.on('upgrade', (req, client, head) => {
    const url = new URL(req.url, 'http://proxy');
    const rule = rules.find((r) => r.socket && (!r.path || url.pathname.includes(r.path)) && r.times > 0);
    if (rule) rule.times -= 1;
    const entry = { t: Date.now(), method: req.method, path: url.pathname, feed: 'socket', action: rule?.action ?? 'pass', up: 0, cut: false };
    log.push(entry);
    if (rule?.action === 'refuse') {
      client.end('HTTP/1.1 503 Service Unavailable\r\ncontent-length: 0\r\nconnection: close\r\n\r\n');
      return;
    }
    const out = net.connect(Number(upstream.port), upstream.hostname);
    sockets.add(out);
    sockets.add(client);
    const cut = () => { client.destroy(); out.destroy(); };
    out.on('error', cut);
    client.on('error', cut);
    out.on('close', () => { sockets.delete(out); client.destroy(); });
    client.on('close', () => { sockets.delete(client); out.destroy(); });
    out.on('connect', () => {
      const headers = { ...req.headers, host: upstream.host };
      const lines = Object.entries(headers).map(([k, v]) => `${k}: ${v}`);
      out.write(`${req.method} ${req.url} HTTP/1.1\r\n${lines.join('\r\n')}\r\n\r\n`);
      if (head.length) out.write(head);
      out.pipe(client);
      client.on('data', (chunk) => {
        entry.up += chunk.length;
        out.write(chunk);
        if (rule?.action === 'cut-up' && !entry.cut && chunk.length > rule.bytes) {
          entry.cut = true;
          out.unpipe(client);
          setTimeout(cut, rule.delayMs ?? 200);
        }
      });
    });
  });

  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${server.address().port}`;
  return {
    url,
    /** Adds fault rules: { method?, path?, feed?, socket?, action, status?, retryAfter?, delayMs?, bytes?, times? }; only a rule naming a `feed` meets a live feed request, only one with `socket: true` a WebSocket; `stall` and `silent` hold one open with one heartbeat or none. */
    fault(...add) { for (const r of add) rules.push({ times: 1, ...r }); },
    clearFaults() { rules = []; },
    log,
    requests(path, method = 'POST') { return log.filter((e) => e.path.endsWith(path) && e.method === method); },
    close() {
      for (const out of streams) out.destroy();
      for (const socket of sockets) socket.destroy();
      server.closeAllConnections?.();
      return new Promise((r) => server.close(r));
    },
  };
}
