// Helpers of the demo and package tests (not a test file itself): a tiny static
// file server, and a look inside a .wasm file to tell the optimised build apart.
import http from 'node:http';
import { readFile } from 'node:fs/promises';
import { join, normalize, extname, resolve } from 'node:path';

const types = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.mjs': 'text/javascript',
  '.css': 'text/css', '.wasm': 'application/wasm', '.json': 'application/json', '.svg': 'image/svg+xml',
};

/** Serves the files of `dir` on a free port of 127.0.0.1; `/` is index.html. */
export async function serveDir(dir) {
  const base = resolve(dir);
  const server = http.createServer(async (req, res) => {
    const rel = decodeURIComponent(new URL(req.url, 'http://x').pathname);
    const path = normalize(join(base, rel.endsWith('/') ? `${rel}index.html` : rel));
    if (!path.startsWith(base)) { res.writeHead(403).end(); return; }
    try {
      const body = await readFile(path);
      res.writeHead(200, { 'content-type': types[extname(path)] ?? 'application/octet-stream' }).end(body);
    } catch {
      res.writeHead(404).end();
    }
  });
  await new Promise((done) => server.listen(0, '127.0.0.1', done));
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    close: () => new Promise((done) => server.close(done)),
  };
}

function leb128(bytes, at) {
  let value = 0;
  let shift = 0;
  for (;;) {
    const byte = bytes[at++];
    value += (byte & 0x7f) * 2 ** shift;
    shift += 7;
    if (byte < 0x80) return [value, at];
  }
}

/** The names of a WebAssembly module's custom sections, in order. */
export function customSections(bytes) {
  if (bytes.readUInt32BE(0) !== 0x0061736d) throw new Error('not a WebAssembly module');
  const names = [];
  let at = 8;
  while (at < bytes.length) {
    const id = bytes[at++];
    let size;
    [size, at] = leb128(bytes, at);
    if (id === 0) {
      const [length, start] = leb128(bytes, at);
      names.push(bytes.subarray(start, start + length).toString('utf8'));
    }
    at += size;
  }
  return names;
}

/**
 * Whether a .wasm is the release build as scripts/build-pkg leaves it: wasm-opt
 * with --strip-debug --strip-producers removes the `producers` section that
 * wasm-bindgen writes, and any `name` or DWARF section.
 */
export function isOptimisedBuild(bytes) {
  const sections = customSections(bytes);
  return !sections.some((s) => s === 'producers' || s === 'name' || s.startsWith('.debug'));
}
