// The documents every benchmark writes, reads and syncs: one shape for all
// contenders (about 330 bytes of JSON each). Plain ESM with no browser API, so
// the node side seeds servers with the very same documents.

const NOTES = 'Fire exits clear; extinguishers checked and tagged; '
  + 'emergency lighting tested on every floor; no blocked corridors.';

/** The id of document `i` under `prefix`, zero-padded so ids sort by number. */
export function docId(prefix, i) {
  return `${prefix}${String(i).padStart(7, '0')}`;
}

/** Document `i`: a small inspection record with nested and array members. */
export function makeDoc(prefix, i) {
  return {
    _id: docId(prefix, i),
    type: 'inspection',
    building: `Building ${i}`,
    floor: i % 12,
    inspector: { name: `Inspector ${i % 37}`, badge: 1000 + (i % 37) },
    passed: i % 3 !== 0,
    score: ((i * 7) % 100) / 10,
    tags: ['fire', 'exits', i % 2 ? 'annual' : 'spot-check'],
    notes: NOTES,
  };
}

/** Documents `0..n` under `prefix`, fresh objects on every call. */
export function makeDocs(prefix, n) {
  const docs = new Array(n);
  for (let i = 0; i < n; i++) docs[i] = makeDoc(prefix, i);
  return docs;
}
