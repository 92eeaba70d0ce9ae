// Users and access, as an app deploys them: a server that checks credentials
// (the reference server with an admin, or CouchDB), users signing in by
// cookie (`Tidesync.signIn`) or by header, a shared database whose
// `_security` names its members, and per-user databases. Each user browses in
// a browser context of their own (cookies are per context).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sdkPage, eventually, serverDocs } from './harness.mjs';
import { syncSuite, fresh } from './suite.mjs';

let server;
let proxy;
let browser;
// The reference server of the tests is a debug build, where CouchDB's
// 600 000 PBKDF2 rounds take seconds a sign-in: it hashes with fewer.
syncSuite((started) => {
  ({ server, proxy, browser } = started);
  // Each test sets its databases' members itself (the proxy would otherwise
  // give them the harness's app user on CouchDB).
  server.prepare = async () => {};
},
  ['--admin', 'admin:admin-secret', '--session-timeout', '4', '--per-user-dbs', '--pbkdf2-iterations', '1000']);

const json = { 'content-type': 'application/json' };

/** Creates user `name` (as the server admin) with `password`. */
async function addUser(name, password) {
  const res = await server.fetch(`/_users/org.couchdb.user:${name}`, {
    method: 'PUT', headers: json, body: JSON.stringify({ _id: `org.couchdb.user:${name}`, name, password, roles: [], type: 'user' }),
  });
  assert.ok(res.ok, `user ${name}: ${res.status} ${await res.text()}`);
}

/** Creates `db` (as the server admin) with `members` as its only members. */
async function sharedDb(db, members) {
  let res = await server.fetch(`/${db}`, { method: 'PUT' });
  assert.ok(res.ok, `create ${db}: ${res.status}`);
  res = await server.fetch(`/${db}/_security`, {
    method: 'PUT', headers: json, body: JSON.stringify({ admins: { names: [], roles: [] }, members: { names: members, roles: [] } }),
  });
  assert.ok(res.ok, `_security of ${db}: ${res.status}`);
}

/** A page of its own browser context, signed in by cookie as `name`. */
async function signedIn(name, password) {
  const context = await browser.newContext();
  const page = await sdkPage(context, proxy.url);
  const user = await page.evaluate(({ server, name, password }) => window.tidesync.Tidesync.signIn({ server, name, password }),
    { server: proxy.url, name, password });
  assert.equal(user.name, name);
  return { context, page };
}

/** Opens `remoteDb` in `page` as window.db; errors and statuses are kept. */
async function openDb(page, remoteDb, options = {}) {
  await page.evaluate(async ({ name, remote, options }) => {
    window.errors = [];
    window.db = await window.tidesync.Tidesync.open({ name, remote, debounceMs: 20, backoffBaseMs: 100, backoffCapMs: 1000, pollIntervalMs: 200, ...options });
    window.db.on('error', (e) => window.errors.push(e));
  }, { name: fresh('local'), remote: `${proxy.url}/${remoteDb}`, options });
}

const docOf = (page, id) => page.evaluate((id) => window.db.get(id), id);

test('two members sync one shared database; a third user is refused and keeps their change queued', async () => {
  const [ann, ben, cid] = [fresh('ann'), fresh('ben'), fresh('cid')];
  for (const name of [ann, ben, cid]) await addUser(name, `${name}-pw`);
  const db = fresh('shared');
  await sharedDb(db, [ann, ben]);
  const a = await signedIn(ann, `${ann}-pw`);
  const b = await signedIn(ben, `${ben}-pw`);
  await openDb(a.page, db);
  await openDb(b.page, db);
  await a.page.evaluate(() => window.db.put({ _id: 'room-1', by: 'ann' }));
  await eventually(async () => (await docOf(b.page, 'room-1'))?.by === 'ann', 15000, 'ben to receive ann\'s document');
  const current = await docOf(b.page, 'room-1');
  await b.page.evaluate((doc) => window.db.put({ ...doc, checked: true }), current);
  await eventually(async () => (await docOf(a.page, 'room-1'))?.checked === true, 15000, 'ann to receive ben\'s edit');

  // Cid is signed in, but no member: the server refuses the database.
  const c = await signedIn(cid, `${cid}-pw`);
  await openDb(c.page, db, { live: false });
  await c.page.evaluate(() => window.db.put({ _id: 'intruder', by: 'cid' }));
  const report = await c.page.evaluate(() => window.db.sync());
  assert.equal(report.pushed, 0);
  assert.equal(report.errors[0]?.code, 'forbidden', JSON.stringify(report));
  const status = await c.page.evaluate(() => window.db.status());
  assert.equal(status.lastError?.code, 'forbidden');
  assert.equal(status.pending, 1, 'the change stays queued, not parked');
  assert.equal(await c.page.evaluate(() => window.db.pendingCount()), 1);
  const entries = await c.page.evaluate(() => window.db.outbox());
  assert.deepEqual(entries.map((e) => [e.docId, e.state]), [['intruder', 'queued']]);
  const docs = await serverDocs(server, db);
  assert.deepEqual(Object.keys(docs).sort(), ['room-1']);
  assert.equal(docs['room-1'].checked, true);
  for (const client of [a, b, c]) await client.context.close();
});

test('signing in: a wrong password is unauthorized, bad arguments are invalid_options, signing out ends the session', async () => {
  const name = fresh('dee');
  await addUser(name, 'right-pw');
  const context = await browser.newContext();
  const page = await sdkPage(context, proxy.url);
  const failures = await page.evaluate(async ({ server, name }) => {
    const codes = [];
    const { Tidesync } = window.tidesync;
    for (const options of [
      { server, name, password: 'wrong-pw' },
      { server, name },
      { server: 'not a url', name, password: 'x' },
      { server, name, password: 'x', unknown: 1 },
      { server: 'http://127.0.0.1:9/', name, password: 'x', requestTimeoutMs: 2000 },
    ]) {
      try {
        await Tidesync.signIn(options);
        codes.push('signed in');
      } catch (e) {
        codes.push(`${e instanceof window.tidesync.TidesyncError}:${e.code}`);
      }
    }
    return codes;
  }, { server: proxy.url, name });
  assert.deepEqual(failures, ['true:unauthorized', 'true:invalid_options', 'true:invalid_options', 'true:invalid_options', 'true:network']);
  const flow = await page.evaluate(async ({ server, name }) => {
    const { Tidesync } = window.tidesync;
    const before = await Tidesync.session({ server });
    const user = await Tidesync.signIn({ server, name, password: 'right-pw' });
    const during = await Tidesync.session({ server });
    await Tidesync.signOut({ server });
    const after = await Tidesync.session({ server });
    return { before: before.name, user, during: during.name, after: after.name };
  }, { server: proxy.url, name });
  assert.deepEqual(flow, { before: null, user: { name, roles: [] }, during: name, after: null });
  await context.close();
});

test('a session that expires mid-sync is renewed through auth, and nothing is lost or pushed twice', async () => {
  const name = fresh('eve');
  await addUser(name, 'eve-pw');
  const db = fresh('expiring');
  await sharedDb(db, [name]);
  const { context, page } = await signedIn(name, 'eve-pw');
  // The app's `auth` signs in again (from a stored refresh token, in a real
  // app) and returns nothing: the cookie is the credential.
  await page.evaluate(async ({ server, name, remote }) => {
    window.signIns = 0;
    window.errors = [];
    window.db = await window.tidesync.Tidesync.open({
      name: `${name}-local`, remote, debounceMs: 20, backoffBaseMs: 5000, batchSize: 20, pollIntervalMs: 0,
      auth: async () => {
        window.signIns++;
        await window.tidesync.Tidesync.signIn({ server, name, password: 'eve-pw' });
      },
    });
    window.db.on('error', (e) => window.errors.push(e));
    await window.db.put({ _id: 'first' });
    await window.db.sync();
  }, { server: proxy.url, name, remote: `${proxy.url}/${db}` });
  assert.equal((await serverDocs(server, db)).first?._id, 'first');
  // The session times out (4 s) while the app writes offline from sync's view.
  await page.evaluate(() => window.db.pause());
  await page.evaluate(async () => { for (let i = 0; i < 100; i++) await window.db.put({ _id: `later-${String(i).padStart(3, '0')}`, i }); });
  await new Promise((r) => setTimeout(r, 5000));
  const before = proxy.requests(`/${db}/_bulk_docs`).length;
  await page.evaluate(() => window.db.resume());
  await eventually(async () => (await page.evaluate(() => window.db.pendingCount())) === 0, 30000, 'the queue to drain after signing in again');
  assert.equal(await page.evaluate(() => window.signIns), 1, 'one sign-in renewed the session');
  const refused = proxy.requests(`/${db}/_bulk_docs`).slice(before);
  assert.ok(refused.length >= 2, 'a refused push, then the retry');
  const docs = await serverDocs(server, db);
  assert.equal(Object.keys(docs).length, 101);
  for (const doc of Object.values(docs)) assert.match(doc._rev, /^1-/, `${doc._id} written more than once`);
  await context.close();
});

test('per-user databases keep users apart', async () => {
  const [fay, gus] = [fresh('fay'), fresh('gus')];
  await addUser(fay, 'fay-pw');
  await addUser(gus, 'gus-pw');
  const userDb = (name) => `userdb-${Buffer.from(name).toString('hex')}`;
  // CouchDB creates it a moment after the user, then names its member.
  const members = async () => {
    const res = await server.fetch(`/${userDb(fay)}/_security`);
    return res.ok ? (await res.json()).members?.names ?? [] : [];
  };
  await eventually(async () => (await members()).includes(fay), 15000, 'fay\'s database to be created for her');
  const f = await signedIn(fay, 'fay-pw');
  await openDb(f.page, userDb(fay), { live: false, createRemote: false });
  await f.page.evaluate(() => window.db.put({ _id: 'diary', text: 'private' }));
  const pushed = await f.page.evaluate(() => window.db.sync());
  assert.equal(pushed.pushed, 1, JSON.stringify(pushed));
  // Gus cannot read or write Fay's database.
  const g = await signedIn(gus, 'gus-pw');
  await openDb(g.page, userDb(fay), { live: false, createRemote: false });
  await g.page.evaluate(() => window.db.put({ _id: 'graffiti' }));
  const report = await g.page.evaluate(() => window.db.sync());
  assert.equal(report.pulled, 0);
  assert.equal(report.errors[0]?.code, 'forbidden', JSON.stringify(report));
  assert.equal(await g.page.evaluate(() => window.db.get('diary')), null);
  assert.deepEqual(Object.keys(await serverDocs(server, userDb(fay))), ['diary']);
  for (const client of [f, g]) await client.context.close();
});

test('requests carry the session cookie as `credentials` says, and an app\'s own `fetch` carries every request', async () => {
  const name = fresh('hal');
  await addUser(name, 'hal-pw');
  const db = fresh('modes');
  await sharedDb(db, [name]);
  const { context, page } = await signedIn(name, 'hal-pw');
  // The remote on another origin than the page (another port of the same
  // host): the cookie goes only with `credentials: 'include'`.
  const modes = await page.evaluate(async ({ remote, name }) => {
    const results = {};
    for (const credentials of ['omit', 'same-origin', 'include']) {
      const local = await window.tidesync.Tidesync.open({ name: `${name}-${credentials}`, remote, live: false, credentials });
      await local.put({ _id: credentials });
      const report = await local.sync();
      results[credentials] = report.errors[0]?.code ?? `pushed ${report.pushed}`;
      await local.close();
    }
    return results;
  }, { remote: `${server.url}/${db}`, name });
  assert.deepEqual(modes, { omit: 'unauthorized', 'same-origin': 'unauthorized', include: 'pushed 1' });

  // Without cookies, the app's fetch signs each request itself: pushes,
  // pulls, the live feed and attachment downloads all go through it.
  const result = await page.evaluate(async ({ remote, name }) => {
    const seen = [];
    const authorization = `Basic ${btoa(`${name}:hal-pw`)}`;
    const signed = (request) => {
      const url = new URL(request.url);
      seen.push(`${url.pathname.split('/').slice(2).join('/')}${url.search}`);
      const headers = new Headers(request.headers);
      headers.set('Authorization', authorization);
      return fetch(new Request(request, { headers }));
    };
    const options = { remote, credentials: 'omit', fetch: signed, debounceMs: 20, pollIntervalMs: 0 };
    const writer = await window.tidesync.Tidesync.open({ name: `${name}-writer`, ...options, live: false });
    await writer.putAttachment('signed', 'note.txt', new Blob(['hello']), { contentType: 'text/plain' });
    const report = await writer.sync();
    await writer.close();
    const reader = await window.tidesync.Tidesync.open({ name: `${name}-reader`, ...options });
    await reader.sync();
    const text = await (await reader.getAttachment('signed', 'note.txt')).text();
    const deadline = Date.now() + 10000;
    while (!seen.some((s) => s.startsWith('_changes') && /feed=(longpoll|continuous|eventsource)/.test(s)) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
    }
    await reader.close();
    return { pushed: report.pushed, text, seen };
  }, { remote: `${server.url}/${db}`, name });
  assert.equal(result.pushed, 1, JSON.stringify(result));
  assert.equal(result.text, 'hello');
  const through = (pattern) => assert.ok(result.seen.some((s) => pattern.test(s)), `${pattern} went through the app's fetch: ${result.seen}`);
  through(/^_bulk_docs/);
  through(/^_changes\?(?!.*feed=(longpoll|continuous|eventsource))/);
  through(/^_changes\?.*feed=(longpoll|continuous|eventsource)/);
  through(/^signed\/note\.txt\?rev=/);
  const docs = await serverDocs(server, db);
  assert.deepEqual(Object.keys(docs).sort(), ['include', 'signed']);
  assert.ok(docs.signed._attachments?.['note.txt'], 'the attachment went up through the app\'s fetch');
  await context.close();
});
