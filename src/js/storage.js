// The browser's storage manager, where there is one (a window or a worker
// in a secure context): how much this origin stores and may store, and
// whether the browser keeps its data under storage pressure.
const manager = () => globalThis.navigator?.storage;

export async function storageEstimate() {
  const storage = manager();
  if (!storage?.estimate) return { usage: null, quota: null, persisted: null };
  const { usage, quota } = await storage.estimate();
  const persisted = storage.persisted ? await storage.persisted() : null;
  return { usage: usage ?? null, quota: quota ?? null, persisted };
}

export async function storagePersist() {
  const storage = manager();
  return storage?.persist ? storage.persist() : false;
}
