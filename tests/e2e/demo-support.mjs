// Helpers of the demo and package tests (not a test file itself): a tiny static
// file server, a look inside a .wasm file to tell the optimised build apart,
// and a small PNG to stand for a photo.
import http from 'node:http';
import { readFile } from 'node:fs/promises';
import { join, normalize, extname, resolve } from 'node:path';
import { crc32, deflateSync } from 'node:zlib';

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

function pngChunk(type, data) {
  const chunk = Buffer.alloc(12 + data.length);
  chunk.writeUInt32BE(data.length, 0);
  chunk.write(type, 4, 'latin1');
  data.copy(chunk, 8);
  chunk.writeUInt32BE(crc32(chunk.subarray(4, 8 + data.length)), 8 + data.length);
  return chunk;
}

/**
 * A valid `size`×`size` RGB PNG of pseudo-random pixels from `seed` (so it
 * does not compress: 40×40 is about 5 KB), for a photo the demo can show.
 */
export function noisePng(size = 40, seed = 1) {
  const raw = Buffer.alloc(size * (1 + size * 3));
  let x = seed >>> 0;
  for (let row = 0; row < size; row++) {
    const start = row * (1 + size * 3); // each scanline starts with filter type 0
    for (let i = 1; i <= size * 3; i++) {
      x = (x * 1103515245 + 12345) >>> 0;
      raw[start + i] = x >>> 24;
    }
  }
  const header = Buffer.alloc(13);
  header.writeUInt32BE(size, 0);
  header.writeUInt32BE(size, 4);
  header.set([8, 2, 0, 0, 0], 8); // 8 bits per channel, RGB, deflate, no filter, no interlace
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    pngChunk('IHDR', header), pngChunk('IDAT', deflateSync(raw)), pngChunk('IEND', Buffer.alloc(0)),
  ]);
}
