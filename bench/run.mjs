// The benchmark runner: starts the tidesync reference server, pouchdb-server
// in memory and a static server for the bench page, drives headless Chromium
// through every benchmark, prints the table and writes JSON and markdown to
// bench-results/. Exits non-zero when any benchmark failed; targets never fail it.
//
//   node bench/run.mjs [--n 10000] [--runs 5] [--pull-n 100000] [--fanout-clients 1000] [--timeout 600] [--smoke]
//                      [--photos 20] [--photo-kib 1024]  (the attachment benchmarks' photos: how many, KiB each)
//                      [--only writes,reads.all,replay,pull,attachments,memory,fanout,size]  (benchmark ids or their prefixes)
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { launch, root } from '../tests/e2e/harness.mjs';
import { startTidesync, startPouchServer, startStatic } from './lib/servers.mjs';
import { timedBenchmarks } from './lib/suite.mjs';
import { authorize } from './lib/couch.mjs';
import { memoryBenchmark } from './lib/memory.mjs';
import { fanoutBenchmark } from './lib/fanout.mjs';
import { sizeBenchmark } from './lib/size.mjs';
import { machine } from './lib/machine.mjs';
import { textReport, markdownReport } from './lib/report.mjs';

const { values: flags } = parseArgs({
  options: {
    n: { type: 'string', default: '10000' },
    runs: { type: 'string', default: '5' },
    'pull-n': { type: 'string', default: '100000' },
    'fanout-clients': { type: 'string', default: '1000' },
    photos: { type: 'string', default: '20' },
    'photo-kib': { type: 'string', default: '1024' },
    timeout: { type: 'string', default: '600' },
    smoke: { type: 'boolean', default: false },
    only: { type: 'string' },
  },
});
const int = (name, v) => {
  const x = Number(v);
  if (!Number.isInteger(x) || x < 1) throw new Error(`--${name} takes a positive integer, got ${v}`);
  return x;
};
const config = flags.smoke
  ? { n: 50, runs: 1, pullN: 200, photos: 3, photoBytes: 64 * 1024, timeoutMs: 60_000, smoke: true }
  : { n: int('n', flags.n), runs: int('runs', flags.runs), pullN: int('pull-n', flags['pull-n']),
    photos: int('photos', flags.photos), photoBytes: int('photo-kib', flags['photo-kib']) * 1024,
    timeoutMs: int('timeout', flags.timeout) * 1000, smoke: false };
config.fanoutClients = int('fanout-clients', flags['fanout-clients']);
// `--only a,b`: just the benchmarks whose id is or starts with one of these.
const only = flags.only ? flags.only.split(',').filter(Boolean) : null;
config.wants = (id) => !only || only.some((prefix) => id.startsWith(prefix));

const log = (msg) => process.stderr.write(`bench: ${msg}\n`);
const pkgDir = join(root, 'pkg');
const pouchDist = join(root, 'node_modules', 'pouchdb', 'dist');

const stops = [];
let browser;
const results = [];
try {
  const tide = await startTidesync();
  stops.push(tide.stop);
  const pouch = await startPouchServer();
  stops.push(pouch.stop);
  const page = await startStatic({ '/': join(root, 'bench', 'page'), '/pkg/': pkgDir, '/pouchdb/': pouchDist });
  stops.push(page.stop);
  browser = await launch();
  log(`tidesync-server ${tide.url}, pouchdb-server ${pouch.url}, page ${page.url}/bench.html`);
  log(`N=${config.n}, runs=${config.runs}, memory pull of ${config.pullN}, ${config.photos} photos of ${config.photoBytes} bytes`);

  // Apache CouchDB too, when COUCHDB_URL names one (COUCHDB_USER/COUCHDB_PASSWORD an admin).
  const couch = process.env.COUCHDB_URL
    ? { url: process.env.COUCHDB_URL.replace(/\/+$/, ''), username: process.env.COUCHDB_USER ?? 'admin', password: process.env.COUCHDB_PASSWORD ?? 'admin' }
    : null;
  if (couch) {
    authorize(couch.url, `Basic ${Buffer.from(`${couch.username}:${couch.password}`).toString('base64')}`);
    log(`CouchDB ${couch.url}: replay and pull also run against it`);
  } else {
    log('CouchDB rows not run (set COUCHDB_URL, COUCHDB_USER, COUCHDB_PASSWORD to add them)');
  }
  const ctx = { ...config, browser, pageUrl: page.url, tide: tide.url, pouch: pouch.url, couch, log };
  if (config.wants('size')) {
    try {
      results.push(sizeBenchmark(pkgDir, join(pouchDist, 'pouchdb.min.js')));
    } catch (e) {
      results.push({ id: 'size', error: e.message });
    }
  }
  results.push(...await timedBenchmarks(ctx));
  if (config.wants('memory')) results.push(await memoryBenchmark(ctx));
  if (config.wants('fanout')) results.push(await fanoutBenchmark(ctx, startTidesync));

  const data = {
    date: new Date().toISOString(),
    machine: machine(browser.version()),
    config: { n: config.n, runs: config.runs, pullN: config.pullN, photos: config.photos, photoBytes: config.photoBytes,
      fanoutClients: config.fanoutClients, smoke: config.smoke,
      tidesync: 'defaults: batchSize 500, pullPageSize 1000; live: false for sync benchmarks',
      pouchdb: 'pouchdb 9 browser bundle, idb adapter, replicate batch_size 100 (default)' },
    results,
  };
  const dir = join(root, 'bench-results');
  mkdirSync(dir, { recursive: true });
  const base = config.smoke ? 'smoke' : `bench-${data.date.replace(/[:.]/g, '-')}`;
  writeFileSync(join(dir, `${base}.json`), `${JSON.stringify(data, null, 2)}\n`);
  writeFileSync(join(dir, `${config.smoke ? 'smoke' : only ? 'partial' : 'latest'}.md`), `${markdownReport(data)}\n`);
  if (!config.smoke && !only) writeFileSync(join(dir, 'latest.json'), `${JSON.stringify(data, null, 2)}\n`);
  console.log(textReport(data));
  log(`results in bench-results/${base}.json`);
} catch (e) {
  results.push({ id: 'setup', error: e.message });
  log(`FAILED: ${e.stack ?? e.message}`);
} finally {
  await browser?.close().catch(() => {});
  for (const stop of stops.reverse()) await stop().catch(() => {});
}

const failed = results.filter((r) => r.error);
if (failed.length) {
  log(`${failed.length} benchmark(s) failed: ${failed.map((r) => r.id).join(', ')}`);
  process.exitCode = 1;
}
