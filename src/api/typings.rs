//! TypeScript declarations of what the API takes (documents, options,
//! queries, callbacks) and of the event map; the exported methods refer to
//! them by name. The values it returns and emits are declared from their Rust
//! types (`crate::payloads`), appended by `scripts/build-pkg`.

use wasm_bindgen::prelude::*;

#[wasm_bindgen(typescript_custom_section)]
const TYPES: &'static str = r#"
/** A JSON value a document may hold. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
/** A document: a JSON object with an optional `_id` (generated when absent). */
export interface Doc { _id?: string; _rev?: string; _deleted?: boolean; [key: string]: Json | undefined; }
/** Options of `Tidesync.open()`. */
export interface OpenOptions {
  /** Local database name (one IndexedDB database per name). */
  name: string;
  /** Remote CouchDB database URL, e.g. `http://127.0.0.1:5984/cars`. */
  remote?: string;
  /** Headers sent with every request, e.g. `{ Authorization: 'Bearer ...' }`. */
  headers?: Record<string, string>;
  /**
   * Whether requests carry the browser's cookies, as fetch's `credentials`
   * (default `'same-origin'`). `'include'` for a cookie session (`signIn`)
   * with a server on another origin.
   */
  credentials?: 'omit' | 'same-origin' | 'include';
  /** The app's own fetch, used for every request to the remote (signing, routing, tests). */
  fetch?: (request: Request) => Promise<Response>;
  /** Largest serialised document accepted locally (bytes, default 1 000 000). */
  maxDocumentBytes?: number;
  /** Most documents per push request (default 500). */
  batchSize?: number;
  /** Most bytes per push request (default 1 000 000). */
  batchBytes?: number;
  /** `_changes` page size (default 1 000). */
  pullPageSize?: number;
  /** Milliseconds before a request is aborted (default 30 000). */
  requestTimeoutMs?: number;
  /** Create the remote database when missing (default true). */
  createRemote?: boolean;
  /** Automatic sync: after writes, when back online or visible, and by polling (default true). */
  live?: boolean;
  /** Quiet time after the last write before pushing, in ms (default 100). */
  debounceMs?: number;
  /** Pull interval while the page is visible and no live feed is open, in ms; 0 turns polling off (default 30 000). */
  pollIntervalMs?: number;
  /** Hold a live `_changes` feed while syncing automatically, so other clients' changes arrive at once (default true). */
  liveFeed?: boolean;
  /** The feed's heartbeat, in ms; twice this without a byte counts as a stall and steps the feed down (default 10 000). */
  feedHeartbeatMs?: number;
  /** First retry delay ceiling, in ms (default 1 000); doubles per failure, with full jitter. */
  backoffBaseMs?: number;
  /** Largest retry delay, in ms (default 60 000). */
  backoffCapMs?: number;
  /**
   * Called on a 401 for fresh headers, e.g. `async () => ({ Authorization: 'Bearer …' })`;
   * one that returns nothing (having signed in again with `Tidesync.signIn`,
   * for a cookie session) keeps the headers. The request is then retried once.
   */
  auth?: () => Record<string, string> | void | Promise<Record<string, string> | void>;
  /** Who writes through this client, stamped into each write as `editor` (with `updatedAt`), e.g. `{ id: 'ann', role: 'inspector' }`. */
  author?: Json;
  /** Stamp `updatedAt` (ms since the epoch) into every write (implied by `author` and by `newestWins`). */
  stampUpdatedAt?: boolean;
  /**
   * Let a `put` without `_rev` replace a stored document (default false: such
   * a put fails with `conflict`, as in CouchDB and PouchDB). A `put` naming a
   * `_rev` is checked either way.
   */
  lastWriteWins?: boolean;
  /** How conflicts are decided automatically; manual (reported to the app) by default. */
  conflicts?: ConflictPolicy;
  /**
   * The app's own resolver, asked first: return the body to keep, or `null` to
   * let `conflicts` (then the app, via the `conflict` event) decide.
   */
  resolver?: (conflict: Conflict) => { [key: string]: Json } | null | Promise<{ [key: string]: Json } | null>;
  /**
   * Milliseconds `resolver` and `auth` may take (default 10 000). One that
   * does not answer in time counts as declined (the resolver: the policy, then
   * the app decide) or failed (auth), and an `error` event says so.
   */
  callbackTimeoutMs?: number;
  /** Largest attachment accepted locally, in bytes (default 10 MiB); a larger one is refused with `attachment_too_large`. */
  maxAttachmentBytes?: number;
  /**
   * When the bytes of attachments other clients added are downloaded:
   * `'lazy'` (default) on first `getAttachment`, `'eager'` right after each
   * pull that brought them, so they can be read offline.
   */
  attachments?: 'lazy' | 'eager';
}
/** Options of `putAttachment()`. */
/** Where `Tidesync.signOut()` and `Tidesync.session()` ask. */
export interface SessionOptions {
  /** The server's URL (its root, e.g. `http://127.0.0.1:5984`), not a database's. */
  server: string;
  /** Whether the request carries and accepts cookies (default `'include'`: a session is a cookie). */
  credentials?: 'omit' | 'same-origin' | 'include';
  /** The app's own fetch, as in `open()`. */
  fetch?: (request: Request) => Promise<Response>;
  /** Milliseconds before the request is given up (default 30 000). */
  requestTimeoutMs?: number;
}
/** `Tidesync.signIn()`: a name and password, sent once to `_session`, never kept. */
export interface SignInOptions extends SessionOptions {
  name: string;
  password: string;
}
/** Who the server takes the page for; `name` is `null` when no session is open. */
export interface UserContext {
  name: string | null;
  roles: string[];
}
export interface PutAttachmentOptions {
  /** The MIME type (default: the Blob's `type`, else `application/octet-stream`). */
  contentType?: string;
  /** The `_rev` the change is based on: a stale one is refused with `conflict`. */
  rev?: string;
}
/** Options of `compact()`. */
export interface CompactOptions {
  /** Keep unnamed bytes saved less than this many ms ago (default one hour). */
  olderThanMs?: number;
}
/** Options of `removeAttachment()`. */
export interface RemoveAttachmentOptions {
  /** The `_rev` the change is based on: a stale one is refused with `conflict`. */
  rev?: string;
}
/**
 * A conflict strategy. `merge` is a three-way merge (text through
 * diff-match-patch, lists by insertions and removals) that falls back to manual
 * on a clash. `newestWins` compares the `updatedAt` stamps, so it trusts the
 * writers' clocks: skewed device clocks pick the wrong winner.
 */
export type Strategy =
  | 'manual' | 'merge' | 'serverWins' | 'clientWins' | 'newestWins'
  | { priority: { field: string; order: Json[]; fallback?: Strategy } };
/** A default strategy, optionally overridden per document type (the value of `byType.field`). */
export interface ConflictPolicy {
  strategy?: Strategy;
  byType?: { field: string; strategies: { [type: string]: Strategy } };
}
/**
 * What `all()` reads, as CouchDB's `_all_docs` pages: documents by id from
 * `startKey` to `endKey` (both included; with `descending`, `startKey` is the
 * highest), or those whose id starts with `prefix`, past `skip`, at most
 * `limit`. A page reads about its own size from IndexedDB, not the whole
 * database. Ids order by UTF-16 code units in a page, by code point in a full
 * listing (the two differ only for characters above U+FFFF).
 */
export interface AllOptions {
  includeDeleted?: boolean;
  status?: DocStatus;
  startKey?: string;
  endKey?: string;
  prefix?: string;
  skip?: number;
  limit?: number;
  descending?: boolean;
}
/**
 * An attachment as the server describes it, without its bytes (CouchDB's
 * stub). Passed through as the server sends it, so declared here rather than
 * from a Rust type.
 */
export interface AttachmentStub { content_type: string; digest?: string; length?: number; revpos?: number; stub?: true; }
/** Names accepted by `on()`. */
export type EventName = 'change' | 'conflict' | 'status' | 'error' | 'resolved';
/** What listeners receive, by event. */
export interface EventMap { change: ChangeEvent; conflict: Conflict; status: Status; error: ErrorEvent; resolved: ResolvedEvent; }
/** Any listener payload. */
export type EventPayload = EventMap[EventName];
export interface Tidesync {
  /**
   * Subscribes to an event; returns the function that unsubscribes. Listeners
   * run after the change is stored; one that throws is reported to the console
   * and breaks nothing.
   */
  on<E extends EventName>(event: E, callback: (payload: EventMap[E]) => void): () => void;
  /** Documents, ordered by id; `{ includeDeleted, status }` filter them, `{ startKey, endKey, prefix, skip, limit, descending }` page through them. */
  all(options?: AllOptions): Promise<Doc[]>;
  /**
   * Deletes a document locally (a tombstone that syncs). With `rev`, only that
   * version: a stale one is refused with `conflict`, a malformed one with
   * `invalid_rev`; a missing document is `not_found` either way.
   */
  delete(id: string, rev?: string): Promise<WriteResult>;
  /** Re-queues rejected changes (of one document, or all) for the next cycle; resolves to how many. */
  retryRejected(id?: string): Promise<number>;
}
"#;
