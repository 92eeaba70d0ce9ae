// The memory benchmark's page side: a tidesync pull of a large database whose
// wasm memory the node side samples (through `wasmBytes`) while it runs.
import { openTidesync } from './tidesync.js';

let pulling = null;

/**
 * Opens an empty client on `remote`; the pull starts with `memoryPull`. The
 * page keeps no resource timing entries from here on: they would grow the
 * heap by one entry per request, which is not tidesync's memory.
 */
export async function memoryOpen({ name, remote }) {
  performance.clearResourceTimings();
  performance.setResourceTimingBufferSize(0);
  pulling = { db: await openTidesync(name, remote) };
  return {};
}

/** One `sync()` of the opened client: pulls every page of the remote. */
export async function memoryPull({ n }) {
  const { db } = pulling;
  const t0 = performance.now();
  const report = await db.sync();
  const ms = performance.now() - t0;
  if (report.errors.length) throw new Error(`sync errors: ${JSON.stringify(report.errors.slice(0, 3))}`);
  if (report.pulled !== n) throw new Error(`pulled ${report.pulled} documents, expected ${n}`);
  return { ms, pulled: report.pulled };
}

/** Destroys the client. */
export async function memoryClose() {
  if (pulling) await pulling.db.destroy();
  pulling = null;
  return {};
}
