// The tabs (and workers) of one origin that open the same tidesync database
// share its IndexedDB data, and exactly one of them syncs it: the leader. Web
// Locks elect it (the browser hands the lock on when the leader's tab closes or
// crashes); a BroadcastChannel carries nudges to it and events from it, as JSON
// strings. Where Web Locks is missing, a lease in localStorage stands in: the
// leader renews it every second and it expires after five, so a crashed
// leader's tab is replaced within that time (see the README).

const LEASE_MS = 5000;
const RENEW_MS = 1000;
const CONFIRM_MS = 50;

function newId() {
  return globalThis.crypto?.randomUUID?.() ?? `${Date.now()}-${Math.random()}`;
}

function leaseStorage() {
  try {
    const storage = globalThis.localStorage;
    return storage && typeof storage.getItem === 'function' ? storage : null;
  } catch {
    return null; // a sandboxed frame that denies storage
  }
}

/** One tab's link to the others of its database: leadership and messages. */
export class TabLink {
  /**
   * @param {string} name the tidesync database name
   * @param {(leader: boolean) => void} onRole called when this tab becomes or stops being leader
   * @param {(from: string, json: string) => void} onMessage called with each message of another tab
   */
  constructor(name, onRole, onMessage) {
    this.name = name;
    this.id = newId();
    this.leader = false;
    this.closed = false;
    this.onRole = onRole;
    this.kind = 'none';
    this.channel = typeof BroadcastChannel === 'function' ? new BroadcastChannel(`tidesync:${name}`) : null;
    if (this.channel) {
      this.channel.onmessage = (event) => {
        const data = event.data;
        if (!this.closed && data && typeof data.json === 'string') onMessage(String(data.from), data.json);
      };
    }
  }

  /** Starts competing for leadership: `locks`, `lease` or `alone` says how. */
  start() {
    const locks = globalThis.navigator?.locks;
    if (locks && typeof locks.request === 'function') {
      this.kind = 'locks';
      this.abort = new AbortController();
      locks.request(`tidesync:${this.name}`, { signal: this.abort.signal }, () => {
        if (this.closed) return undefined;
        this.setRole(true);
        return new Promise((resolve) => { this.release = resolve; });
      }).catch(() => { /* aborted by close() */ });
    } else if (leaseStorage()) {
      this.kind = 'lease';
      this.startLease(leaseStorage());
    } else {
      // Neither Web Locks nor storage to hold a lease: no other tab can be
      // told apart, so this one syncs.
      this.kind = 'alone';
      this.setRole(true);
    }
    return this.kind;
  }

  startLease(storage) {
    const key = `tidesync:lease:${this.name}`;
    const read = () => {
      try { return JSON.parse(storage.getItem(key) ?? 'null'); } catch { return null; }
    };
    const tick = () => {
      if (this.closed) return;
      const now = Date.now();
      const lease = read();
      if (!lease || lease.owner === this.id || !(lease.expires > now)) {
        storage.setItem(key, JSON.stringify({ owner: this.id, expires: now + LEASE_MS }));
        // Two tabs may have written at once, and the last write wins: confirm
        // a moment later that the lease is still ours.
        setTimeout(() => { if (!this.closed) this.setRole(read()?.owner === this.id); }, CONFIRM_MS);
      } else {
        this.setRole(false);
      }
    };
    this.dropLease = () => {
      if (read()?.owner === this.id) storage.removeItem(key);
    };
    this.onPageHide = () => this.dropLease();
    globalThis.addEventListener?.('pagehide', this.onPageHide);
    tick();
    this.timer = setInterval(tick, RENEW_MS);
  }

  setRole(leader) {
    if (this.closed || this.leader === leader) return;
    this.leader = leader;
    this.onRole(leader);
  }

  /** Whether this tab syncs the database. */
  isLeader() {
    return this.leader;
  }

  /** Sends a JSON message to every other tab of the database. */
  post(json) {
    if (this.closed || !this.channel) return;
    try { this.channel.postMessage({ from: this.id, json }); } catch { /* closing */ }
  }

  /** Leaves: gives up leadership at once and stops listening. */
  close() {
    if (this.closed) return;
    this.closed = true;
    this.leader = false;
    this.abort?.abort();
    this.release?.();
    clearInterval(this.timer);
    this.dropLease?.();
    if (this.onPageHide) globalThis.removeEventListener?.('pagehide', this.onPageHide);
    this.channel?.close();
  }
}

/**
 * Settles with `promise`, or rejects with an Error named `TimeoutError` after
 * `ms`, so an app callback that never returns cannot hold sync up.
 */
export function withTimeout(promise, ms) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => {
      const error = new Error(`no answer within ${ms} ms`);
      error.name = 'TimeoutError';
      reject(error);
    }, ms);
  });
  return Promise.race([Promise.resolve(promise), timeout]).finally(() => clearTimeout(timer));
}
