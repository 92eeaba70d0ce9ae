// A forward HTTP proxy for the wasm-bindgen browser tests: Chromium sends every
// request through it, and it sends each one upstream on a fresh connection
// that closes after the answer.
//
// Why: wasm-bindgen-test-runner serves the test page with tiny_http, whose
// pool keeps one thread per open connection and can leave a new connection's
// task queued while every thread sits on an idle keep-alive socket. Chromium
// keeps up to six such sockets to a host, so the page's module scripts could
// wait minutes for an answer ("Loading scripts...", then the harness gives
// up). One request per upstream connection frees the thread at once.
//
//   node scripts/harness-proxy.mjs <port-file>
// writes the port it listens on to <port-file>; stops on SIGTERM.
import { createServer, request } from 'node:http';
import { writeFileSync } from 'node:fs';

const portFile = process.argv[2];
if (!portFile) {
  console.error('usage: harness-proxy.mjs <port-file>');
  process.exit(2);
}

const server = createServer((req, res) => {
  let target;
  try {
    target = new URL(req.url);
  } catch {
    res.writeHead(400, { 'content-type': 'text/plain' }).end('harness-proxy: absolute URL expected\n');
    return;
  }
  const headers = { ...req.headers, connection: 'close' };
  delete headers['proxy-connection'];
  const upstream = request(
    { host: target.hostname, port: target.port || 80, method: req.method, path: target.pathname + target.search, headers, agent: false },
    (answer) => {
      const back = { ...answer.headers };
      delete back.connection;
      delete back['keep-alive'];
      res.writeHead(answer.statusCode ?? 502, back);
      answer.pipe(res);
    },
  );
  upstream.on('error', (err) => {
    if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
    res.end(`harness-proxy: ${err.message}\n`);
  });
  // A page that goes away mid-answer (a live feed closed) ends the upstream too.
  res.on('close', () => upstream.destroy());
  req.pipe(upstream);
});

server.listen(0, '127.0.0.1', () => {
  writeFileSync(portFile, String(server.address().port));
});
process.on('SIGTERM', () => {
  server.close();
  server.closeAllConnections();
  process.exit(0);
});
