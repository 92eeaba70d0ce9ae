// The memory benchmark: an empty tidesync client pulls a large database from
// the reference server while the node side samples the page's JS heap (CDP
// `Runtime.getHeapUsage`) and the wasm module's memory (`memory.buffer`).
// The JS heap's peaks follow the garbage collector's sawtooth (V8 lets the
// heap grow further between collections as allocation goes on), so what the
// pull retains is read from the lowest sample of each half. "Flat" means the
// second half retains at most 1.25× the first half's JS heap and peaks at most
// 1.25× its wasm memory (which never shrinks): a pull that streams page by
// page stays level, one that holds every document grows with the count.
import { setTimeout as sleep } from 'node:timers/promises';
import { BenchPage } from './page.mjs';
import { deleteDb, seedDb } from './couch.mjs';

const SAMPLE_MS = 100;
const FLAT_SLACK = 1.25;

function peak(samples, key) {
  return samples.reduce((m, s) => Math.max(m, s[key]), 0);
}

function floor(samples, key) {
  return samples.reduce((m, s) => Math.min(m, s[key]), Infinity);
}

export async function memoryBenchmark(ctx) {
  const n = ctx.pullN;
  const remote = `${ctx.tide}/memory-source-${Date.now().toString(36)}`;
  const result = { id: 'memory', title: `memory: tidesync pull of ${n} documents (tidesync-server)`, docs: n, error: null };
  let page;
  try {
    ctx.log(`memory: seeding ${n} documents`);
    await seedDb(remote, n, 5000);
    page = await BenchPage.open(ctx.browser, ctx.pageUrl, ctx.timeoutMs);
    const cdp = await page.page.context().newCDPSession(page.page);
    const sample = async (t0) => {
      const [{ usedSize }, wasm] = await Promise.all([cdp.send('Runtime.getHeapUsage'), page.call('wasmBytes')]);
      return { t: performance.now() - t0, heap: usedSize, wasm };
    };
    await page.call('memoryOpen', { name: `memory-${Date.now().toString(36)}`, remote });
    await cdp.send('HeapProfiler.collectGarbage');
    const t0 = performance.now();
    const before = await sample(t0);
    const samples = [];
    let settled = false;
    const pulling = page.call('memoryPull', { n }).finally(() => { settled = true; });
    pulling.catch(() => {});
    while (!settled) {
      samples.push(await sample(t0));
      await sleep(SAMPLE_MS);
    }
    const { ms, pulled } = await pulling;
    samples.push(await sample(t0));
    await cdp.send('HeapProfiler.collectGarbage');
    const after = await sample(t0);
    await page.call('memoryClose');
    const first = samples.filter((s) => s.t <= ms / 2);
    const second = samples.filter((s) => s.t > ms / 2);
    result.ms = ms;
    result.pulled = pulled;
    result.samples = samples.length;
    result.heap = {
      before: before.heap, afterGc: after.heap, peak: peak(samples, 'heap'),
      first: { floor: floor(first, 'heap'), peak: peak(first, 'heap') },
      second: { floor: floor(second, 'heap'), peak: peak(second, 'heap') },
    };
    result.wasm = {
      before: before.wasm, afterGc: after.wasm, peak: peak(samples, 'wasm'),
      first: { peak: peak(first, 'wasm') }, second: { peak: peak(second, 'wasm') },
    };
    result.flat = first.length > 0 && second.length > 0
      && result.heap.second.floor <= result.heap.first.floor * FLAT_SLACK
      && result.wasm.second.peak <= result.wasm.first.peak * FLAT_SLACK;
    result.series = samples.map((s) => [Math.round(s.t), s.heap, s.wasm]);
  } catch (e) {
    result.error = e.message;
    ctx.log(`memory FAILED: ${e.message}`);
  } finally {
    await page?.close().catch(() => {});
    await deleteDb(remote).catch(() => {});
  }
  return result;
}
