// Readies a server that checks credentials for the demo, as its admin: the
// demo's people (www-demo/people.js) become users with their roles, and the
// shared database is created with them as its members. Running it again
// changes nothing. Used by `scripts/demo` and the demo's end-to-end tests.
//
//   node scripts/demo-setup.mjs http://127.0.0.1:5984   (admin NAME:PASSWORD in TIDESYNC_DEMO_ADMIN)
import { DATABASE, DEVICES } from '../www-demo/people.js';

/** Readies the server at `url`; `admin` is the admin's `Authorization` value. */
export async function provision(url, admin) {
  const call = async (method, path, body) => {
    const res = await fetch(`${url}${path}`, {
      method,
      headers: { authorization: admin, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, body: await res.json().catch(() => null) };
  };
  const must = (answer, what, ok = [200, 201, 202]) => {
    if (!ok.includes(answer.status)) throw new Error(`${what}: ${answer.status} ${JSON.stringify(answer.body)}`);
  };
  for (const { user, author } of DEVICES) {
    const path = `/_users/org.couchdb.user:${encodeURIComponent(user.name)}`;
    const existing = await call('GET', path);
    const doc = { _id: `org.couchdb.user:${user.name}`, name: user.name, type: 'user', roles: [author.role], password: user.password };
    if (existing.status === 200) doc._rev = existing.body._rev;
    must(await call('PUT', path, doc), `user ${user.name}`);
  }
  must(await call('PUT', `/${DATABASE}`), `database ${DATABASE}`, [201, 202, 412]);
  const security = { admins: { names: [], roles: [] }, members: { names: DEVICES.map((d) => d.user.name), roles: [] } };
  must(await call('PUT', `/${DATABASE}/_security`, security), `_security of ${DATABASE}`);
}

/** Waits until the server at `url` answers, for `ms` at most. */
async function reachable(url, ms) {
  const end = Date.now() + ms;
  for (;;) {
    try {
      if ((await fetch(`${url}/_up`)).ok) return;
    } catch { /* not listening yet */ }
    if (Date.now() > end) throw new Error(`${url} did not answer within ${ms / 1000} s`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

if (process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href) {
  const [url] = process.argv.slice(2);
  const admin = process.env.TIDESYNC_DEMO_ADMIN ?? '';
  if (!url || !admin.includes(':')) {
    console.error('usage: TIDESYNC_DEMO_ADMIN=NAME:PASSWORD node scripts/demo-setup.mjs URL');
    process.exit(2);
  }
  await reachable(url, 30000);
  await provision(url, `Basic ${Buffer.from(admin).toString('base64')}`);
}
