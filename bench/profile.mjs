// Profiles one bench function in the page with the DevTools CPU profiler and
// prints where the time went (self time by function, top 30).
//
//   node bench/profile.mjs <setupFn|-> <fn> [n]
//   e.g. node bench/profile.mjs readSetup readAll 10000
//        node bench/profile.mjs - pullTidesync 10000 tide   (against the reference server)
//        PROFILE_CONTENDER=idb node bench/profile.mjs - writeSingle 3000   (a baseline, same way)
import { join } from 'node:path';
import { launch, root } from '../tests/e2e/harness.mjs';
import { startStatic, startTidesync } from './lib/servers.mjs';
import { BenchPage } from './lib/page.mjs';
import { seedDb } from './lib/couch.mjs';

const [setupFn, fn, nArg, remoteKind] = process.argv.slice(2);
const n = Number(nArg ?? 10000);
const contender = process.env.PROFILE_CONTENDER ?? 'tidesync';
const page = await startStatic({ '/': join(root, 'bench', 'page'), '/pkg/': join(root, 'pkg'), '/pouchdb/': join(root, 'node_modules', 'pouchdb', 'dist') });
const tide = remoteKind ? await startTidesync() : null;
const browser = await launch();
try {
  const bp = await BenchPage.open(browser, page.url, 600_000);
  const name = `prof-${Date.now()}`;
  const args = remoteKind ? [{ n, name, remote: `${tide.url}/${name}` }] : [contender, { n, name }];
  // A pull needs documents on the server first.
  if (remoteKind && fn.startsWith('pull')) await seedDb(`${tide.url}/${name}`, n);
  if (setupFn !== '-') await bp.call(setupFn, ...args);
  const cdp = await bp.page.context().newCDPSession(bp.page);
  await cdp.send('Profiler.enable');
  await cdp.send('Profiler.setSamplingInterval', { interval: 200 });
  await cdp.send('Profiler.start');
  const out = await bp.call(fn, ...(setupFn === '-' ? args : [contender]));
  const { profile } = await cdp.send('Profiler.stop');
  const self = new Map();
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const dt = new Map();
  profile.samples.forEach((id, i) => dt.set(id, (dt.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
  let total = 0;
  for (const [id, us] of dt) {
    const node = byId.get(id);
    const key = `${node.callFrame.functionName || `(anon):${node.callFrame.lineNumber + 1}`} ${node.callFrame.url.split('/').pop()}`;
    self.set(key, (self.get(key) ?? 0) + us);
    total += us;
  }
  console.log(`${fn}: ${JSON.stringify(out)}; profiled ${(total / 1000).toFixed(0)} ms`);
  for (const [k, us] of [...self].sort((a, b) => b[1] - a[1]).slice(0, 30)) {
    console.log(`${(us / 1000).toFixed(1).padStart(8)} ms ${(100 * us / total).toFixed(1).padStart(5)}%  ${k}`);
  }
} finally {
  await browser.close();
  await page.stop();
  await tide?.stop();
}
