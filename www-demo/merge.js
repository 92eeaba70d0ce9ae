// The merge the conflict dialog offers: tidesync's own three-way merge
// (`mergeDocuments`, the one the `merge` policy uses: fields changed on one side
// merge, text through diff-match-patch, lists by insertions and removals), plus
// what the dialog needs around it: how each field changed, which fields clash,
// and the visitor's pick of a side for a clashing field.
import { mergeDocuments } from './pkg/index.js';

/** Fields the SDK stamps on every write (`author`); never shown as a clash, stamped again on resolve. */
export const META_FIELDS = new Set(['editor', 'updatedAt']);

const isObject = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);

function canonical(value) {
  if (Array.isArray(value)) return value.map(canonical);
  if (isObject(value)) return Object.fromEntries(Object.keys(value).sort().map((k) => [k, canonical(value[k])]));
  return value;
}

/** Deep equality of JSON values, ignoring key order; `undefined` is a missing field. */
export function same(a, b) {
  if (a === undefined || b === undefined) return a === b;
  return JSON.stringify(canonical(a)) === JSON.stringify(canonical(b));
}

/** How one field changed: 'same', 'mine', 'theirs', 'both' (the same way) or 'both-differently'. */
export function fieldChange(base, mine, theirs) {
  const mineChanged = !same(base, mine);
  const theirsChanged = !same(base, theirs);
  if (mineChanged && theirsChanged) return same(mine, theirs) ? 'both' : 'both-differently';
  if (mineChanged) return 'mine';
  return theirsChanged ? 'theirs' : 'same';
}

/** The top-level field a JSON Pointer lands in: `/extinguishers/2/status` → `extinguishers`. */
const fieldOf = (pointer) => pointer.split('/')[1]?.replace(/~1/g, '/').replace(/~0/g, '~') ?? '';

/**
 * Merges a conflict's sides. Returns the merge (`null` when a side is deleted)
 * and the fields where both sides changed the same place differently; there the
 * merge keeps mine.
 */
export function mergeConflict({ base, local, remote }) {
  const { merged, clashes } = mergeDocuments(base, local, remote);
  const fields = new Set(clashes.map(fieldOf).filter((field) => !META_FIELDS.has(field)));
  return { merged, clashFields: [...fields] };
}

/** The merge with the picks applied: a clashing field picked 'theirs' takes their whole value. */
export function withPicks(merged, remote, picks) {
  const out = { ...merged };
  for (const [field, side] of picks) {
    if (side !== 'theirs') continue;
    if (remote[field] === undefined) delete out[field];
    else out[field] = remote[field];
  }
  return out;
}
