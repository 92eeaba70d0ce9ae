// Typed usage of the whole public API; `tsc --strict` over this file checks the
// typings (scripts/check-typings). Lines marked @ts-expect-error must stay errors.
import init, { initSync, Tidesync, TidesyncError } from 'tidesync';
import type {
  AllOptions, ChangeEvent, Conflict, ConflictPolicy, Doc, DocStatus, ErrorCode, ErrorEvent, EventName,
  EventPayload, InitOutput, Json, OpenOptions, OutboxEntry, RejectReason, ResolvedEvent, Status, Strategy,
  SyncIssue, SyncOutcome, SyncReport, SyncState, WriteResult, FeedTransport, AttachmentInfo, UserContext,
} from 'tidesync';

/** Everything `open()` accepts. */
export function allOptions(token: string): OpenOptions {
  return {
    name: 'inspections',
    remote: 'http://127.0.0.1:5984/inspections',
    headers: { Authorization: `Bearer ${token}` },
    maxDocumentBytes: 100_000,
    batchSize: 50,
    batchBytes: 500_000,
    pullPageSize: 100,
    requestTimeoutMs: 10_000,
    createRemote: false,
    live: true,
    debounceMs: 50,
    pollIntervalMs: 0,
    liveFeed: true,
    feedHeartbeatMs: 10_000,
    backoffBaseMs: 500,
    backoffCapMs: 30_000,
    auth: async () => ({ Authorization: `Bearer ${token}-fresh` }),
    credentials: 'include',
    fetch: (request: Request) => fetch(request),
  };
}

/** Signing in by cookie, then opening with that session; signing out. */
export async function cookieSession(server: string): Promise<string[]> {
  const user: UserContext = await Tidesync.signIn({ server, name: 'ann', password: 'secret' });
  const again: UserContext = await Tidesync.session({ server, requestTimeoutMs: 5_000 });
  const name: string | null = again.name;
  const db = await Tidesync.open({ name: 'inspections', remote: `${server}/inspections`, credentials: 'include' });
  await db.close();
  await Tidesync.signOut({ server, credentials: 'include' });
  // @ts-expect-error: signing in needs a password
  await Tidesync.signIn({ server, name: 'ann' });
  // @ts-expect-error: not a credentials mode
  await Tidesync.open({ name: 'x', credentials: 'always' });
  void name;
  return user.roles;
}

/** Loading the module: from the default URL, a given URL, or compiled bytes. */
export async function loading(bytes: ArrayBuffer): Promise<WebAssembly.Memory> {
  const first: InitOutput = await init();
  await init({ module_or_path: new URL('./tidesync_bg.wasm', import.meta.url) });
  const sync: InitOutput = initSync({ module: bytes });
  return sync.memory ?? first.memory;
}

/** What a sync outcome means to an app. */
export function describe(outcome: SyncOutcome): string {
  switch (outcome.outcome) {
    case 'accepted':
      return `accepted as ${outcome.rev ?? 'unknown rev'}`;
    case 'conflict': {
      const c: Conflict = outcome.conflict;
      return `conflict on ${c.id} since ${new Date(c.detectedAt).toISOString()}`;
    }
    case 'rejected': {
      const reason: RejectReason = outcome.error;
      return `rejected (${reason.status ?? 'no status'}): ${reason.error}: ${reason.reason}`;
    }
    case 'discarded':
      return 'discarded';
  }
}

/** The status bar of an app. */
export function statusLine(s: Status): string {
  const state: SyncState = s.state;
  const issue: SyncIssue | null = s.lastError;
  const last = s.lastSyncAt === null ? 'never' : new Date(s.lastSyncAt).toLocaleTimeString();
  const retry = s.nextRetryAt === null ? '' : ` retry at ${s.nextRetryAt}`;
  const transport: FeedTransport = s.transport;
  return `${state} (${transport}): ${s.pending} pending, ${s.conflicts} conflicts, last sync ${last}${retry}${issue ? ` (${issue.code}: ${issue.message})` : ''}`;
}

function outboxLine(e: OutboxEntry): string {
  const op: 'put' | 'delete' = e.op;
  const state: 'queued' | 'inFlight' | 'rejected' = e.state;
  const body: { [key: string]: Json } | null = e.body;
  return `#${e.seq} ${e.id} ${op} ${e.docId} on ${e.baseRev ?? 'new'} ${state} after ${e.attempts} tries ${e.lastError ?? ''} at ${e.createdAt} ${body ? Object.keys(body).length : 0}`;
}

/** A field-wise merge as an app could write it for `resolve()`. */
function merged(c: Conflict): Doc | null {
  if (c.local === null || c.remote === null) return c.local ?? c.remote;
  const out: Doc = { ...c.remote };
  for (const [key, value] of Object.entries(c.local)) {
    const base: Json | undefined = c.base?.[key];
    if (JSON.stringify(value) !== JSON.stringify(base)) out[key] = value;
  }
  return out;
}

/** The quick start of the package README, as written there. */
export async function readmeQuickStart(): Promise<void> {
  await init();
  const db = await Tidesync.open({ name: 'cars', remote: 'https://couch.example.com/cars' });
  const { synced } = await db.put({ _id: 'car-1', color: 'red' });
  db.on('status', (s) => console.log((s as Status).state, `${(s as Status).pending} pending`));
  db.on('conflict', async (p) => {
    const c = p as Conflict;
    await db.resolve(c.id, { ...c.remote, color: c.local?.color ?? 'red' });
  });
  console.log(await synced);
  console.log(await db.get('car-1'), await db.all(undefined));
}

/** Conflict policies and the app's own resolver. */
export async function policies(): Promise<Tidesync[]> {
  const remote = 'http://127.0.0.1:5984/inspections';
  const supervisorWins: ConflictPolicy = {
    strategy: { priority: { field: 'editor.role', order: ['supervisor', 'inspector'], fallback: 'merge' } },
    byType: { field: 'type', strategies: { note: 'newestWins', photo: 'serverWins', draft: 'clientWins', log: 'manual' } },
  };
  const strategies: Strategy[] = ['manual', 'merge', 'serverWins', 'clientWins', 'newestWins'];
  return Promise.all([
    Tidesync.open({ name: 'a', remote, author: { id: 'ann', role: 'inspector' }, conflicts: supervisorWins }),
    Tidesync.open({ name: 'b', remote, stampUpdatedAt: true, conflicts: { strategy: strategies[1] } }),
    Tidesync.open({
      name: 'c', remote,
      resolver: (c: Conflict) => (c.local && c.remote ? { ...c.remote, ...c.local } : null),
    }),
    Tidesync.open({ name: 'd', remote, resolver: async () => null }),
  ]);
}

export async function example(): Promise<number> {
  await init();
  const db: Tidesync = await Tidesync.open({ name: 'cars', remote: 'http://127.0.0.1:5984/cars', batchSize: 50 });
  const name: string = db.name;

  // Writes: durable at once, `synced` settles when the server has answered.
  const written: WriteResult = await db.put({ _id: 'car-1', car: { make: 'Toyota', color: 'red' }, seats: 5, used: false, tags: ['a'], note: null });
  const status: DocStatus = written.status;
  const rev: string | null = written.rev;
  console.log(describe(await written.synced), status, rev, name);
  const many: WriteResult[] = await db.putMany([{ a: 1 }, { _id: 'x', b: [1, 2] }]);
  const removed: WriteResult = await db.delete('x');
  console.log(removed.id);

  // Reads.
  const doc: Doc | null = await db.get('car-1');
  const color: Json | undefined = doc?.['car'];
  const id: string | undefined = doc?._id;
  const filter: AllOptions = { includeDeleted: true, status: 'conflicted' };
  const all: Doc[] = await db.all({ status: 'pending' });
  const everything: Doc[] = await db.all(filter);
  const page: Doc[] = await db.all({ prefix: 'car-', skip: 20, limit: 10, descending: true });
  const range: Doc[] = await db.all({ startKey: 'car-1', endKey: 'car-9', includeDeleted: true });
  void page; void range;
  const unsubscribe: () => void = db.subscribe({ prefix: 'car-', limit: 20 }, (docs: Doc[]) => {
    for (const doc of docs) console.log(doc._id, doc._rev);
  });
  unsubscribe();
  db.subscribe(undefined, (docs) => console.log(docs.length))();
  // `all(options: AllOptions | undefined)` and `retryRejected(id: string | undefined)` are
  // declared with required parameters, so TypeScript cannot leave the argument out yet.
  const defaults: Doc[] = await db.all(undefined);
  const pending: number = await db.pendingCount();
  const outbox: OutboxEntry[] = await db.outbox();
  outbox.map(outboxLine).forEach((line) => console.log(line));
  console.log(statusLine(await db.status()), color, id, everything.length, defaults.length);

  // Sync by hand, and the switches of automatic sync.
  const report: SyncReport = await db.sync();
  const pulled: SyncReport = await db.pullNow();
  for (const issue of [...report.errors, ...pulled.errors]) console.log(issue.code, issue.message, issue.id, issue.status, issue.retryAfterMs);
  db.pause();
  db.resume();
  db.setNetworkEnabled(false);
  db.setNetworkEnabled(true);
  const requeued: number = (await db.retryRejected('car-1')) + (await db.retryRejected(undefined));

  // Conflicts: keep mine, keep theirs, a merge, or a delete.
  const conflicts: Conflict[] = await db.conflicts();
  for (const c of conflicts) {
    const remoteRev: string | null = c.remoteRev;
    const photos: string[] = Object.entries(c.remoteAttachments ?? {})
      .filter(([, stub]) => stub.content_type.startsWith('image/'))
      .map(([name, stub]) => `${name} (${stub.length ?? 0} bytes, ${stub.digest ?? 'no digest'})`);
    void photos;
    // A conflict between two branches on the server names the losing leaf.
    const losing: string[] = c.losingRevs ?? [];
    if (losing.length > 0) await db.discardLocal(c.id);
    else if (c.local === null) await db.discardLocal(c.id);
    else if (remoteRev === null) await db.resolve(c.id, null);
    else await db.resolve(c.id, merged(c));
  }

  // Events; each returns its unsubscribe function.
  const events: EventName[] = ['change', 'conflict', 'status', 'error', 'resolved'];
  const offs: (() => void)[] = events.map((event) => db.on(event, (payload: EventPayload) => console.log(event, payload)));
  const offChange = db.on('change', (payload) => {
    const change = payload as ChangeEvent;
    const origin: 'local' | 'tab' | 'remote' = change.origin;
    console.log(change.type, change.id, origin, change.deleted);
    const title: Json | undefined = change.doc?.title;
    if (change.doc !== undefined) console.log(change.doc._id, change.doc._rev, title);
  });
  const offResolved = db.on('resolved', (payload) => {
    const resolved = payload as ResolvedEvent;
    console.log(resolved.type, resolved.id, resolved.strategy, resolved.clashes.join(', '));
  });
  const offError = db.on('error', (payload) => {
    const error = payload as ErrorEvent;
    console.log(error.code, error.message, error.id, error.status, error.error, error.reason, error.retryAfterMs);
  });
  for (const off of [...offs, offChange, offResolved, offError]) off();

  // Errors: a real Error with a stable code.
  try {
    await db.put({ _id: '_bad' });
  } catch (e) {
    if (e instanceof TidesyncError) {
      const code: ErrorCode = e.code;
      const details: unknown = e.details;
      if (code === 'invalid_id') console.log(e.name, e.message, details);
    }
  }
  // Optimistic concurrency: an update names the _rev it edits; a stale one is `conflict`.
  const loose = await Tidesync.open({ name: 'upserts', lastWriteWins: true });
  const first = await db.put({ _id: 'car-9', color: 'red' });
  try {
    await db.put({ _id: 'car-9', _rev: first.rev ?? undefined, color: 'blue' });
  } catch (e) {
    if (e instanceof TidesyncError && (e.code === 'conflict' || e.code === 'invalid_rev')) {
      const current: string | undefined = e.details?.current;
      const named: string | undefined = e.details?.rev;
      console.log(current, named);
    }
  }
  await db.delete('car-9', first.rev ?? undefined);
  await db.delete('car-10');
  await loose.close();
  const made = new TidesyncError('closed', 'closed by the app');
  console.log(made instanceof Error, made.code);

  // @ts-expect-error: a document is an object, not an array of them
  await db.put([{ a: 1 }]);
  // @ts-expect-error: values must be JSON
  await db.put({ when: new Date() });
  // @ts-expect-error: unknown event names are refused
  db.on('changes', () => undefined);
  // @ts-expect-error: the name is required
  await Tidesync.open({ remote: 'http://127.0.0.1:5984/cars' });
  // @ts-expect-error: not an error code
  const wrong: ErrorCode = 'oops';
  console.log(wrong);

  const closing: Promise<void> = db.close();
  await closing;
  const other = await Tidesync.open({ name: 'scratch', callbackTimeoutMs: 5000 });
  await other.destroy();
  const scoped = await Tidesync.open({ name: 'scoped' });
  console.log(scoped.name);
  await scoped.close();
  // @ts-expect-error free() is not offered: it would drop the handle without closing the database.
  scoped.free();
  return report.pushed + report.pulled + report.conflicts + many.length + all.length + (doc ? 1 : 0) + pending + requeued;
}

// Optional arguments may be left out, and each event's listener sees its own payload type.
export async function optionalArgumentsAndEventPayloads(db: Tidesync): Promise<number> {
  const docs = await db.all();
  const requeued = await db.retryRejected();
  const off = db.on('status', (s) => { const n: number = s.pending; void n; });
  db.on('conflict', (c) => { const r: string | null = c.remoteRev; void r; });
  db.on('change', (c) => { const o: 'local' | 'tab' | 'remote' = c.origin; void o; });
  off();
  return docs.length + requeued;
}

// Attachments: a Blob, a buffer or a typed array in; a Blob, a URL and the list out.
export async function attachments(db: Tidesync, photo: Blob): Promise<number> {
  const put: WriteResult = await db.putAttachment('room', 'photo.jpg', photo, { contentType: 'image/jpeg' });
  await db.putAttachment('room', 'plan.pdf', new Uint8Array([37, 80, 68, 70]), { rev: put.rev ?? undefined });
  await db.putAttachment('room', 'raw.bin', new ArrayBuffer(8));
  const blob: Blob = await db.getAttachment('room', 'photo.jpg');
  const url: string = await db.attachmentUrl('room', 'photo.jpg');
  URL.revokeObjectURL(url);
  const list: AttachmentInfo[] = await db.attachments('room');
  const first = list[0];
  const stored: boolean | undefined = first?.stored;
  const length: number | null | undefined = first?.length;
  await db.removeAttachment('room', 'raw.bin');
  await db.removeAttachment('room', 'plan.pdf', { rev: put.rev ?? undefined });
  const eager = await Tidesync.open({ name: 'photos', attachments: 'eager', maxAttachmentBytes: 5_000_000 });
  await eager.close();
  // @ts-expect-error: a string is not attachment data
  await db.putAttachment('room', 'a.txt', 'text');
  // @ts-expect-error: only 'lazy' or 'eager'
  await Tidesync.open({ name: 'photos', attachments: 'sometimes' });
  const conflict = (await db.conflicts())[0];
  const mine = conflict?.localAttachments?.['photo.jpg']?.digest;
  void stored; void length; void mine;
  return blob.size + list.length;
}
