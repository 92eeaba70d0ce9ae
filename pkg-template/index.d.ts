import type {
  AllOptions, ChangeEvent, Conflict, ErrorCode, ErrorDetails, EventMap, EventName, OpenOptions,
  SessionOptions, SignInOptions, Tidesync as UntypedTidesync, UserContext, WriteResult,
} from './tidesync.js';

export * from './tidesync.js';
export { default } from './tidesync.js';

/** What every stored document carries besides the app's own members. */
export interface DocMeta { _id: string; _rev?: string; _deleted?: boolean; }

/** A document of type `T` as tidesync returns it. */
export type Stored<T> = T & DocMeta;

/** A document of type `T` as the app writes it (`_id` generated when absent). */
export type Writable<T> = T & { _id?: string; _rev?: string };

/** The events of a database whose documents are `T`: a change carries a `Stored<T>`. */
export interface TypedEventMap<T> extends Omit<EventMap, 'change'> {
  change: Omit<ChangeEvent, 'doc'> & { doc?: Stored<T> };
}

/**
 * A database whose documents have the app's own type `T` (an interface or a
 * type; no index signature needed), from `Tidesync.open<T>()`. The same
 * object at run time: only the types differ.
 */
export interface TypedTidesync<T extends object>
  extends Omit<UntypedTidesync, 'put' | 'putMany' | 'get' | 'all' | 'subscribe' | 'resolve' | 'on' | 'conflicts'> {
  put(doc: Writable<T>): Promise<WriteResult>;
  putMany(docs: Writable<T>[]): Promise<WriteResult[]>;
  get(id: string): Promise<Stored<T> | null>;
  all(options?: AllOptions): Promise<Stored<T>[]>;
  subscribe(options: AllOptions | undefined, callback: (docs: Stored<T>[]) => void): () => void;
  resolve(id: string, body: T | null): Promise<WriteResult>;
  conflicts(): Promise<Conflict[]>;
  on<E extends EventName>(event: E, callback: (payload: TypedEventMap<T>[E]) => void): () => void;
}

/**
 * The class, with `open<T>()` typing the database by the app's document
 * type: `const db = await Tidesync.open<Report>({ name: 'reports' })`.
 * Without `T`, documents are plain JSON objects (`Doc`).
 */
export declare const Tidesync: {
  open<T extends object = import('./tidesync.js').Doc>(options: OpenOptions): Promise<TypedTidesync<T>>;
  /**
   * Signs in by name and password (`POST /_session`); the server's session
   * cookie then signs the requests of databases opened with the matching
   * `credentials`. A refused password is `unauthorized`, too many attempts
   * `too_many_requests`, no answer `network`.
   */
  signIn(options: SignInOptions): Promise<UserContext>;
  /** Signs out (`DELETE /_session`). */
  signOut(options: SessionOptions): Promise<void>;
  /** Who the server takes this page for (`GET /_session`). */
  session(options: SessionOptions): Promise<UserContext>;
  readonly prototype: UntypedTidesync;
  /** Databases come from `open()`; `instanceof Tidesync` tells one. */
  [Symbol.hasInstance](value: unknown): value is TypedTidesync<object>;
};
/** An open database; `Tidesync<Report>` holds `Report` documents. */
export type Tidesync<T extends object = import('./tidesync.js').Doc> = TypedTidesync<T>;

/** Every failure of tidesync: a real `Error` with a stable `code`. */
export declare class TidesyncError extends Error {
  constructor(code: ErrorCode, message: string, details?: unknown);
  readonly name: 'TidesyncError';
  readonly code: ErrorCode;
  /** The parts of the message an app acts on (see `ErrorDetails`); absent for codes without any. */
  readonly details?: ErrorDetails;
}
