export * from './tidesync.js';
export { default } from './tidesync.js';

/** Stable codes of `TidesyncError`. */
export type ErrorCode =
  | 'invalid_document'
  | 'invalid_id'
  | 'document_too_large'
  | 'not_found'
  | 'not_conflicted'
  | 'invalid_options'
  | 'invalid_listener'
  | 'no_remote'
  | 'quota_exceeded'
  | 'storage'
  | 'closed'
  | 'blocked'
  | 'migration_failed';

/** Every failure of tidesync: a real `Error` with a stable `code`. */
export declare class TidesyncError extends Error {
  constructor(code: ErrorCode, message: string, details?: unknown);
  readonly name: 'TidesyncError';
  readonly code: ErrorCode;
  /**
   * The parts of the message an app acts on: `{ id, size, limit }` for
   * `document_too_large`, `{ id }` for `not_found` and `not_conflicted`;
   * absent for other codes.
   */
  readonly details?: { id: string; size?: number; limit?: number };
}
