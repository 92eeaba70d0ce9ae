// Typed usage of the package; `tsc --strict` over this file checks the typings.
import init, { Tidesync, TidesyncError } from 'tidesync';
import type { Conflict, SyncOutcome, SyncReport, WriteResult, Doc } from 'tidesync';

export async function example(): Promise<number> {
  await init();
  const db: Tidesync = await Tidesync.open({ name: 'cars', remote: 'http://127.0.0.1:5984/cars', batchSize: 50 });
  const written: WriteResult = await db.put({ _id: 'car-1', car: { make: 'Toyota', color: 'red' } });
  const outcome: SyncOutcome = await written.synced;
  if (outcome.outcome === 'conflict') {
    const c: Conflict = outcome.conflict;
    await db.resolve(c.id, { ...(c.remote ?? {}), color: 'green' });
  } else if (outcome.outcome === 'rejected') {
    console.log(outcome.error.reason);
  } else {
    console.log(outcome.rev);
  }
  const doc: Doc | null = await db.get('car-1');
  const all: Doc[] = await db.all({ status: 'pending' });
  const many: WriteResult[] = await db.putMany([{ a: 1 }, { _id: 'x', b: [1, 2] }]);
  const off: () => void = db.on('change', () => undefined);
  off();
  const report: SyncReport = await db.sync();
  try {
    await db.put({ _id: '_bad' });
  } catch (e) {
    if (e instanceof TidesyncError && e.code === 'invalid_id') {
      console.log(e.message);
    }
  }
  db.close();
  return report.pushed + many.length + all.length + (doc ? 1 : 0) + (await db.pendingCount());
}
