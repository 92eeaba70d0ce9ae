// The demo's documents: fire-safety inspections of a building, each with the
// list of extinguishers checked and the status found.

export const EXTINGUISHER_STATUSES = [
  { value: 'ok', label: 'OK' },
  { value: 'expired', label: 'Expired' },
  { value: 'damaged', label: 'Damaged' },
  { value: 'missing', label: 'Missing' },
];

/** Field order and labels, for the editor and the conflict dialog. */
export const FIELDS = [
  { key: 'building', label: 'Building' },
  { key: 'area', label: 'Area' },
  { key: 'inspector', label: 'Inspector' },
  { key: 'date', label: 'Date' },
  { key: 'notes', label: 'Notes' },
  { key: 'extinguishers', label: 'Extinguishers' },
];

export const newInspectionId = () =>
  `inspection-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 6)}`;

export const today = () => new Date().toISOString().slice(0, 10);

/** A new, empty inspection by `inspector`. */
export function blankInspection(inspector) {
  return { type: 'inspection', building: '', area: '', inspector, date: today(), notes: '', extinguishers: [] };
}

export const extinguishersOf = (doc) => (Array.isArray(doc?.extinguishers) ? doc.extinguishers : []);

/** `{ total, needAction, compliant }` of an inspection. */
export function compliance(doc) {
  const list = extinguishersOf(doc);
  const needAction = list.filter((e) => e.status !== 'ok').length;
  return { total: list.length, needAction, compliant: list.length > 0 && needAction === 0 };
}

/** The next free tag, FE-1, FE-2, … */
export function nextTag(list) {
  const used = new Set(list.map((e) => e.tag));
  let n = list.length + 1;
  while (used.has(`FE-${n}`)) n++;
  return `FE-${n}`;
}

/** The document body without the `_id`, `_rev` and other underscore members. */
export const bodyOf = (doc) => Object.fromEntries(Object.entries(doc ?? {}).filter(([k]) => !k.startsWith('_')));
