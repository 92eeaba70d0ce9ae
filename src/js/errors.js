// The error class of every tidesync failure: a real Error with a stable `code`.
export class TidesyncError extends Error {
  constructor(code, message, details) {
    super(message);
    this.name = 'TidesyncError';
    this.code = code;
    if (details !== undefined && details !== null) {
      this.details = details;
    }
  }
}
