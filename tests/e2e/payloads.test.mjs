// The typings cannot drift from what JavaScript receives: real payloads of
// every result and event, collected in Chromium from real operations, are
// written out as object literals typed by the package's own declarations and
// compiled with `tsc --strict --exactOptionalPropertyTypes`. A member the
// typings lack (an excess property), a missing one or a wrong type fails the
// compile. A drifted copy of the same payloads must fail it, so the check bites.
// The payloads' declarations are generated from their Rust types; the options
// `open()` and `all()` take are declared by hand, so a second test checks
// those declarations name exactly the options each accepts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sdkPage, root } from './harness.mjs';
import { syncSuite, fresh } from './suite.mjs';

let server;
let proxy;
let browser;
syncSuite((started) => ({ server, proxy, browser } = started), ['--max-document-bytes', '4096']);

/**
 * Runs every operation whose payload the typings describe, in one page (and
 * a second page of the same context for another tab's change), and returns
 * `[typeName, payload]` pairs. Promises are left out of write results (their
 * outcomes are collected apart).
 */
async function collect(remote) {
  const context = await browser.newContext();
  const page = await sdkPage(context, proxy.url);
  const other = await sdkPage(context, proxy.url);
  const names = { a: fresh('a'), b: fresh('b'), m: fresh('m'), r: fresh('r') };
  const samples = await page.evaluate(async ({ remote, names }) => {
    const { Tidesync, mergeDocuments } = window.tidesync;
    const out = [];
    const seen = [];
    const open = async (name, extra = {}) => {
      const db = await Tidesync.open({ name, remote, headers: window.remoteHeaders, live: false, ...extra });
      for (const ev of ['change', 'conflict', 'status', 'error', 'resolved']) db.on(ev, (p) => seen.push([ev, p]));
      return db;
    };
    const result = (r) => { const { synced, ...rest } = r; out.push(['WriteResult', rest]); return synced; };
    const a = await open(names.a);
    const b = await open(names.b);
    const m = await open(names.m, { conflicts: { strategy: 'merge' } });
    // A write accepted by the server, pulled by b, then edited on both sides.
    // (`live: false`: a write's `synced` settles in the sync() that pushes it.)
    const first = result(await a.put({ _id: 'car', color: 'red', parts: ['wheel'] }));
    out.push(['SyncReport', await a.sync()]);
    out.push(['SyncOutcome', await first]);
    out.push(['SyncReport', await b.sync()]);
    await m.sync();
    out.push(['Doc', await b.get('car')]);
    for (const doc of await a.all({ includeDeleted: true })) out.push(['Doc', doc]);
    const held = await a.get('car');
    result(await a.put({ ...held, color: 'blue' }));
    await a.sync();
    const heldByB = await b.get('car');
    const stale = result(await b.put({ ...heldByB, color: 'yellow' }));
    out.push(['Status', await b.status()]);
    out.push(['SyncReport', await b.sync()]);
    out.push(['SyncOutcome', await stale]);
    for (const conflict of await b.conflicts()) out.push(['Conflict', conflict]);
    const resolved = result(await b.resolve('car', { color: 'green', parts: ['wheel'] }));
    await b.sync();
    out.push(['SyncOutcome', await resolved]);
    // The merging client edits another member: merged by the policy (resolved event).
    const heldByM = await m.get('car');
    await m.put({ ...heldByM, parts: ['wheel', 'door'] });
    await m.sync();
    // A change the server refuses for good, parked in the outbox.
    const refused = result(await b.put({ _id: 'big', text: 'x'.repeat(8000) }));
    const queued = result(await b.put({ _id: 'later', n: 1 }));
    for (const entry of await b.outbox()) out.push(['OutboxEntry', entry]);
    await b.sync();
    out.push(['SyncOutcome', await refused]);
    out.push(['SyncOutcome', await queued]);
    for (const entry of await b.outbox()) out.push(['OutboxEntry', entry]);
    // A change dropped before it reached the server.
    const dropped = result(await b.put({ _id: 'draft', n: 1 }));
    result(await b.discardLocal('draft'));
    out.push(['SyncOutcome', await dropped]);
    result(await b.delete('later'));
    // Refusals: each a TidesyncError with its code and details.
    const failures = [
      () => b.put({ _id: 'later', _rev: '1-abc' }), () => b.put({ _id: 'x', _rev: 'nope' }),
      () => b.get('_design/x'), () => b.resolve('car', {}), () => b.delete('missing'),
      () => b.put({ _id: 'huge', text: 'x'.repeat(2_000_000) }), () => b.all({ limt: 1 }),
      () => b.putAttachment('car', 'big.bin', new ArrayBuffer(11 * 1024 * 1024)),
      () => b.putAttachment('car', '_bad', new Uint8Array(1)),
      () => b.getAttachment('car', 'none.jpg'),
    ];
    for (const fail of failures) {
      try { await fail(); out.push(['unexpected success', null]); } catch (e) {
        out.push(['ThrownError', { name: e.name, code: e.code, message: e.message, ...(e.details === undefined ? {} : { details: e.details }) }]);
      }
    }
    out.push(['MergeResult', mergeDocuments({ n: 1, s: 'a' }, { n: 2, s: 'a' }, { n: 1, s: 'b' })]);
    out.push(['MergeResult', mergeDocuments({ n: 1 }, { n: 2 }, { n: 3 })]);
    // A resolver that throws: the conflict goes to the app, and an error
    // event says what the callback did.
    const r = await open(names.r, { resolver: () => { throw new Error('no answer'); } });
    await r.sync();
    await r.put({ ...(await r.get('car')), color: 'purple' });
    await a.sync();
    await a.put({ ...(await a.get('car')), color: 'white' });
    await a.sync();
    out.push(['SyncReport', await r.sync()]);
    out.push(['Status', await a.status()]);
    out.push(['StorageInfo', await a.storage()]);
    out.push(['boolean', await a.persist()]);
    // An attachment added here (pending), then pushed (a stub of the server's).
    const photo = result(await a.putAttachment('car', 'photo.jpg', new Uint8Array([1, 2, 3]), { contentType: 'image/jpeg' }));
    out.push(['AttachmentInfo[]', await a.attachments('car')]);
    await a.sync();
    await photo;
    out.push(['AttachmentInfo[]', await a.attachments('car')]);
    await Promise.all([a.close(), b.close(), m.close(), r.close()]);
    for (const [ev, payload] of seen) out.push([`EventMap['${ev}']`, payload]);
    return out;
  }, { remote, names });
  // Another tab's write, heard as origin 'tab'; a sync whose pull meets a 503.
  const tabbed = await other.evaluate(async ({ remote, names }) => {
    const { Tidesync } = window.tidesync;
    const heard = [];
    const one = await Tidesync.open({ name: names.a, remote, headers: window.remoteHeaders, live: false });
    const two = await Tidesync.open({ name: names.a, remote, headers: window.remoteHeaders, live: false });
    one.on('change', (p) => heard.push(p));
    await two.put({ _id: 'from-two', n: 1 });
    const start = Date.now();
    while (!heard.some((p) => p.origin === 'tab') && Date.now() - start < 5000) await new Promise((r) => setTimeout(r, 20));
    await Promise.all([one.close(), two.close()]);
    return heard.map((p) => ["EventMap['change']", p]);
  }, { remote, names });
  proxy.fault({ method: 'GET', path: `/${new URL(remote).pathname.slice(1)}/_changes`, action: 'status', status: 503, retryAfter: 2, times: 1 });
  const failing = await other.evaluate(async ({ remote, name }) => {
    const { Tidesync } = window.tidesync;
    const db = await Tidesync.open({ name, remote, headers: window.remoteHeaders, live: false });
    const errors = [];
    db.on('error', (p) => errors.push(p));
    const report = await db.sync();
    await db.close();
    return [['SyncReport', report], ...errors.map((p) => ["EventMap['error']", p])];
  }, { remote, name: fresh('c') });
  // Whether this engine has a storage manager at all (WebKitGTK's
  // MiniBrowser has none), which decides what storage() can know.
  const storageManager = await other.evaluate(() => typeof navigator.storage?.estimate === 'function');
  await context.close();
  return Object.assign([...samples, ...tabbed, ...failing], { storageManager });
}

/** Compiles `source` against the package's typings; resolves to tsc's exit code and output. */
function compile(source) {
  const dir = mkdtempSync(join(tmpdir(), 'tidesync-payloads-'));
  writeFileSync(join(dir, 'payloads.ts'), source);
  writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({
    compilerOptions: {
      strict: true, exactOptionalPropertyTypes: true, noEmit: true, target: 'ES2022', module: 'ES2022',
      moduleResolution: 'bundler', lib: ['ESNext', 'DOM'], baseUrl: '.', paths: { tidesync: [join(root, 'pkg', 'index.d.ts')] },
    },
    files: ['payloads.ts'],
  }));
  return new Promise((resolve) => {
    execFile(join(root, 'node_modules', '.bin', 'tsc'), ['-p', join(dir, 'tsconfig.json')], { timeout: 120_000 }, (error, stdout, stderr) => {
      rmSync(dir, { recursive: true, force: true });
      resolve({ code: error ? (error.code ?? 1) : 0, output: `${stdout}${stderr}` });
    });
  });
}

const HEADER = `import type {
  AttachmentInfo, Conflict, Doc, ErrorCode, EventMap, MergeResult, OutboxEntry, Status, StorageInfo, SyncOutcome, SyncReport, TidesyncError, WriteResult,
} from 'tidesync';
type ThrownError = { name: 'TidesyncError'; code: ErrorCode; message: string; details?: NonNullable<TidesyncError['details']> };
type WriteResultNow = Omit<WriteResult, 'synced'>;
`;

/** One typed constant per sample: a literal is checked member by member. */
function typedSource(samples) {
  const lines = samples.map(([type, payload], i) => {
    const name = type === 'WriteResult' ? 'WriteResultNow' : type;
    return `export const sample${i}: ${name} = ${JSON.stringify(payload)};`;
  });
  return `${HEADER}${lines.join('\n')}\n`;
}

test('real payloads of every result and event match the package typings, and a drifted payload does not', async () => {
  const remote = `${proxy.url}/${fresh('payloads')}`;
  const samples = await collect(remote);
  const kinds = new Set(samples.map(([type]) => type));
  assert.ok(!kinds.has('unexpected success'), 'every bad call was refused');
  for (const kind of ['WriteResult', 'SyncOutcome', 'SyncReport', 'Doc', 'Conflict', 'OutboxEntry', 'Status', 'MergeResult', 'ThrownError', 'AttachmentInfo[]',
    "EventMap['change']", "EventMap['conflict']", "EventMap['status']", "EventMap['error']", "EventMap['resolved']"]) {
    assert.ok(kinds.has(kind), `a ${kind} payload was collected`);
  }
  const outcome = (o) => samples.filter(([type, p]) => type === 'SyncOutcome' && p.outcome === o).length;
  for (const o of ['accepted', 'conflict', 'rejected', 'discarded']) assert.ok(outcome(o) > 0, `a ${o} outcome`);
  const origins = new Set(samples.filter(([type]) => type === "EventMap['change']").map(([, p]) => p.origin));
  assert.deepEqual([...origins].sort(), ['local', 'remote', 'tab']);
  const codes = new Set(samples.filter(([type]) => type === 'ThrownError').map(([, p]) => p.code));
  assert.deepEqual([...codes].sort(), ['attachment_too_large', 'conflict', 'document_too_large', 'invalid_attachment', 'invalid_id', 'invalid_options', 'invalid_rev', 'not_conflicted', 'not_found']);
  const lists = samples.filter(([type]) => type === 'AttachmentInfo[]').map(([, list]) => list.map((x) => [x.name, x.length, x.stored, x.pending]));
  assert.deepEqual(lists, [[['photo.jpg', 3, true, true]], [['photo.jpg', 3, true, false]]]);
  assert.ok(samples.some(([type, p]) => type === 'SyncReport' && p.errors.some((e) => e.retryAfterMs === 2000)), 'a sync issue with Retry-After');
  // What the browser's storage manager says of this origin: some bytes used,
  // room for more, and a yes or no on persistence; an engine without one
  // answers null for each and persist() false.
  const [, storage] = samples.find(([type]) => type === 'StorageInfo');
  const persisted = samples.find(([type]) => type === 'boolean')[1];
  if (samples.storageManager) {
    assert.ok(storage.usage > 0 && storage.quota > storage.usage, JSON.stringify(storage));
    assert.equal(typeof storage.persisted, 'boolean');
    assert.equal(typeof persisted, 'boolean', 'persist() resolves to a boolean');
  } else {
    assert.deepEqual(storage, { usage: null, quota: null, persisted: null });
    assert.equal(persisted, false, 'persist() without a storage manager');
  }
  const eventCodes = new Set(samples.filter(([type]) => type === "EventMap['error']").map(([, p]) => p.code));
  for (const code of ['rejected', 'server', 'resolver_failed']) assert.ok(eventCodes.has(code), `an error event of code ${code}`);

  const typed = await compile(typedSource(samples));
  assert.equal(typed.code, 0, `the payloads do not match the typings:\n${typed.output}`);

  // The same payloads, each drifted as typings and code have drifted before:
  // a renamed member, a value outside its union, a member the types lack.
  const drifted = samples.map(([type, payload]) => [type, structuredClone(payload)]);
  const issue = drifted.find(([type, p]) => type === 'SyncReport' && p.errors.length)[1].errors[0];
  issue.retryAfter = issue.retryAfterMs;
  delete issue.retryAfterMs;
  drifted.find(([type]) => type === 'OutboxEntry')[1].state = 'in-flight';
  drifted.find(([type]) => type === "EventMap['change']")[1].seq = 1;
  const bad = await compile(typedSource(drifted));
  assert.notEqual(bad.code, 0, 'drifted payloads must not compile');
  for (const word of ['"retryAfter"', '"in-flight"', '"seq"']) assert.ok(bad.output.includes(word), `tsc names ${word}:\n${bad.output}`);
});

/** The members an interface of the package's `tidesync.d.ts` declares. */
function declaredMembers(name) {
  const typings = readFileSync(join(root, 'pkg', 'tidesync.d.ts'), 'utf8');
  const body = typings.match(new RegExp(`export interface ${name} \\{\\n([\\s\\S]*?)\\n\\}`))?.[1] ?? '';
  return [...body.matchAll(/^\s+(\w+)\??:/gm)].map((m) => m[1]).sort();
}

test('the options the typings declare are exactly those open() and all() accept', async () => {
  const context = await browser.newContext();
  const page = await sdkPage(context, proxy.url);
  // Each refuses an unknown option with the list of those it knows.
  const known = await page.evaluate(async (name) => {
    const { Tidesync } = window.tidesync;
    const listed = (e) => e.message.split('known: ')[1].split(', ');
    const out = {};
    try { await Tidesync.open({ name, notAnOption: 1 }); } catch (e) { out.open = [e.code, listed(e)]; }
    const db = await Tidesync.open({ name, live: false });
    try { await db.all({ notAnOption: 1 }); } catch (e) { out.all = [e.code, listed(e)]; }
    await db.close();
    return out;
  }, fresh('options'));
  await context.close();
  for (const [method, type] of [['open', 'OpenOptions'], ['all', 'AllOptions']]) {
    const [code, names] = known[method];
    assert.equal(code, 'invalid_options');
    const declared = declaredMembers(type);
    assert.ok(declared.length > 5, `${type} members found in the typings: ${declared}`);
    assert.deepEqual([...names].sort(), declared, `${method}() accepts what ${type} declares`);
  }
});
