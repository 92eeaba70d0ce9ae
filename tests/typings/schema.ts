// An app with its own document types (interfaces, no index signature), typed
// end to end through `Tidesync.open<T>()`; compiled by scripts/check-typings
// under tsc --strict. The @ts-expect-error lines must stay errors.
import { Tidesync } from 'tidesync';
import type { Stored, TypedTidesync } from 'tidesync';

interface Extinguisher { tag: string; status: 'ok' | 'due'; }
interface Report { building: string; floor?: number; extinguishers: Extinguisher[]; }

export async function typedApp(): Promise<string[]> {
  const reports = await Tidesync.open<Report>({ name: 'reports' });
  const report: Report = { building: 'Town hall', extinguishers: [{ tag: 'FE-1', status: 'ok' }] };
  await reports.put(report);
  await reports.put({ _id: 'r-2', ...report, floor: 2 });
  await reports.putMany([report, { ...report, building: 'Library' }]);
  // @ts-expect-error building must be a string
  await reports.put({ building: 3, extinguishers: [] });
  // @ts-expect-error extinguishers is required
  await reports.put({ building: 'Gym' });

  const one: Stored<Report> | null = await reports.get('r-2');
  const floor: number | undefined = one?.floor;
  const id: string | undefined = one?._id;
  const page: Stored<Report>[] = await reports.all({ prefix: 'r-', limit: 10 });
  const due = page.flatMap((r) => r.extinguishers.filter((e) => e.status === 'due').map((e) => e.tag));
  const off = reports.subscribe({ limit: 5 }, (docs) => { for (const d of docs) console.log(d.building.toUpperCase(), d._id); });
  off();
  reports.on('change', (c) => { if (c.doc) console.log(c.doc.building, c.origin); });
  reports.on('status', (s) => console.log(s.pending));
  await reports.resolve('r-2', { ...report, floor: 3 });
  await reports.close();

  const untyped: Tidesync = await Tidesync.open({ name: 'any' });
  const doc = await untyped.get('x');
  console.log(doc?._id, doc?.anything);
  const typedView: TypedTidesync<Report> = reports;
  if (!(untyped instanceof Tidesync)) throw new Error('one class at run time');
  void typedView;
  return [...due, String(floor), id ?? ''];
}
