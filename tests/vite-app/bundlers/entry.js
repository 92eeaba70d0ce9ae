// The same smoke as the Vite app's, bundled by esbuild and by webpack 5: a
// bare import of `tidesync` with no set-up, open, write, read back, and a
// coded error.
import { Tidesync, TidesyncError } from 'tidesync';

async function smoke() {
  const db = await Tidesync.open({ name: `bundled-${Date.now()}` });
  await db.put({ _id: 'inspection-1', building: 'Town hall' });
  const doc = await db.get('inspection-1');
  let errorCode = null;
  try {
    await db.put({ _id: '_reserved' });
  } catch (e) {
    errorCode = e instanceof TidesyncError ? e.code : `not a TidesyncError: ${e}`;
  }
  await db.destroy();
  return { building: doc?.building ?? null, errorCode };
}

smoke().then(
  (result) => { window.smokeResult = { ok: true, ...result }; },
  (error) => { window.smokeResult = { ok: false, error: String(error) }; },
);
