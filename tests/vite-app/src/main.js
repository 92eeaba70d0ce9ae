// Uses the package the way an app bundled by Vite would: a bare import of
// `tidesync` and no set-up (open() initialises the module), the .wasm found by
// the bundler through `new URL(..., import.meta.url)`.
import { Tidesync, TidesyncError } from 'tidesync';

async function smoke() {
  const db = await Tidesync.open({ name: `vite-smoke-${Date.now()}` });
  const written = await db.put({ _id: 'inspection-1', building: 'Town hall', extinguishers: [{ tag: 'FE-1', status: 'ok' }] });
  const doc = await db.get('inspection-1');
  let errorCode = null;
  try {
    await db.put({ _id: '_reserved' });
  } catch (e) {
    errorCode = e instanceof TidesyncError ? e.code : `not a TidesyncError: ${e}`;
  }
  const all = await db.all();
  await db.destroy();
  return { status: written.status, doc, count: all.length, errorCode };
}

const out = document.getElementById('out');
smoke().then(
  (result) => { window.smokeResult = { ok: true, ...result }; out.textContent = `ok: read back ${result.doc?.building}`; },
  (error) => { window.smokeResult = { ok: false, error: String(error) }; out.textContent = `failed: ${error}`; },
);
