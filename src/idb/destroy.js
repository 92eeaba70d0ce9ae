// Deletes an IndexedDB database. A `blocked` event only says that some
// connection has not closed yet; tidesync's own connections close themselves
// (at once, or once their last transaction ends), so the deletion is given
// `graceMs` to complete before it is reported as blocked by another tab.
export function deleteDatabase(name, graceMs) {
  return new Promise((resolve, reject) => {
    const request = indexedDB.deleteDatabase(name);
    let timer;
    request.onsuccess = () => { clearTimeout(timer); resolve(); };
    request.onerror = () => { clearTimeout(timer); reject(request.error); };
    request.onblocked = () => {
      clearTimeout(timer);
      timer = setTimeout(() => reject(Object.assign(new Error('blocked'), { name: 'BlockedError' })), graceMs);
    };
  });
}
