// The reads outside `transact`, each in a readonly transaction of its own,
// issued from JavaScript: one call across the wasm boundary per read, and the
// transaction then completes by itself (a dropped Rust transaction handle
// aborts it, which costs the browser as much again as the read).

function read(db, store, index, act) {
  return new Promise((resolve, reject) => {
    // Inside the executor, a throw (a closed connection) rejects.
    const tx = db.transaction(store, "readonly");
    const source = index ? tx.objectStore(store).index(index) : tx.objectStore(store);
    const request = act(source);
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

// The record of `key`, or undefined.
export function readOne(db, store, key) {
  return read(db, store, null, (source) => source.get(key));
}

// The records of `store` (or of its `index` at `key` when given), in key order.
export function readAll(db, store, index, key) {
  return read(db, store, index, (source) => source.getAll(key));
}

// At most `count` records of `index` past `after` (from the start when it is
// undefined), in key order.
export function readAfter(db, store, index, after, count) {
  const range = after === undefined ? undefined : IDBKeyRange.lowerBound(after, true);
  return read(db, store, index, (source) => source.getAll(range, count));
}

// How many entries `index` holds.
export function countIndex(db, store, index) {
  return read(db, store, index, (source) => source.count());
}
