// Plain-DOM rendering of a device pane: the status bar, the inspection list and
// the outbox. Functions here only build elements; device.js owns the data.
import { compliance, extinguishersOf } from './model.js';

/** `h('button', { class: 'x', onclick }, 'text', child)`: an element with props and children. */
export function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith('on')) el.addEventListener(key.slice(2), value);
    else if (key === 'class') el.className = value;
    else if (key === 'dataset') Object.assign(el.dataset, value);
    else if (key in el && typeof value !== 'string') el[key] = value;
    else el.setAttribute(key, value === true ? '' : value);
  }
  el.append(...children.flat().filter((c) => c !== null && c !== undefined && c !== false));
  return el;
}

export const formatTime = (ms) =>
  new Date(ms).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit' });

const STATE_LABELS = {
  online: 'Online', idle: 'Online', syncing: 'Syncing…', offline: 'Offline', error: 'Sync error', paused: 'Paused',
};

/** The status bar: state, pending changes, open conflicts, last sync. */
export function renderStatus(el, status) {
  el.dataset.state = status.state;
  el.dataset.pending = String(status.pending);
  el.dataset.conflicts = String(status.conflicts);
  const error = status.state === 'error' && status.lastError ? status.lastError.message : null;
  el.replaceChildren(...[
    h('span', { class: 'state' }, h('span', { class: 'dot', 'aria-hidden': 'true' }), STATE_LABELS[status.state] ?? status.state),
    status.pending > 0 ? h('span', { class: 'pending' }, `${status.pending} pending`)
      : status.conflicts === 0 ? h('span', { class: 'pending' }, 'All changes synced') : null,
    status.conflicts > 0 ? h('span', { class: 'conflicts' }, `${status.conflicts} conflict${status.conflicts > 1 ? 's' : ''}`) : null,
    h('span', { class: 'last-sync' }, status.lastSyncAt ? `Last sync ${formatTime(status.lastSyncAt)}` : 'Never synced'),
    TRANSPORT_LABELS[status.transport] ? h('span', { class: 'transport', title: 'How this device hears of the others\' changes' }, TRANSPORT_LABELS[status.transport]) : null,
  ].filter(Boolean));
  el.dataset.transport = status.transport ?? 'none';
  el.title = error ?? '';
}

const TRANSPORT_LABELS = { websocket: 'Live', stream: 'Live (stream)', longpoll: 'Live (long-poll)', poll: 'Polling' };

const STATUS_TEXT = { ok: 'OK', expired: 'Expired', damaged: 'Damaged', missing: 'Missing' };

function extinguisherChip(e) {
  return h('li', { class: `chip ext-${e.status}`, title: [e.location, STATUS_TEXT[e.status] ?? e.status].filter(Boolean).join(' · ') },
    h('span', { class: 'tag' }, e.tag), ' ', STATUS_TEXT[e.status] ?? e.status);
}

function syncBadge(state) {
  const text = { synced: 'Synced', pending: 'Pending', conflicted: 'Conflict' }[state];
  return h('span', { class: `badge sync-${state}`, dataset: { sync: state } }, text);
}

/**
 * Thumbnails of an inspection's photos (`[{ name, url, pending, draft }]`), each
 * a link to the full photo with a remove button; one not yet on the server
 * says so. `label` names the inspection in the alt texts; null when none.
 */
export function photoStrip(photos, label, onRemove) {
  if (photos.length === 0) return null;
  return h('ul', { class: 'photos', 'aria-label': `Photos of ${label}` }, photos.map((photo, i) => {
    const alt = `Photo ${i + 1} of ${label}`;
    const waiting = photo.draft ? 'Not saved yet' : photo.pending ? 'Waiting to upload' : null;
    return h('li', { class: `photo${waiting ? ' is-pending' : ''}`, dataset: { name: photo.name, pending: String(Boolean(photo.pending)) } },
      photo.url
        ? h('a', { class: 'thumb', href: photo.url, target: '_blank', title: 'Open the photo' },
          h('img', { src: photo.url, alt: waiting ? `${alt}, ${waiting.toLowerCase()}` : alt, width: 72, height: 72, decoding: 'async' }))
        : h('span', { class: 'thumb is-missing', role: 'img', 'aria-label': `${alt}, not downloaded yet` }, 'Not downloaded yet'),
      waiting ? h('span', { class: 'photo-pending' }, waiting) : null,
      h('button', {
        type: 'button', class: 'photo-remove', 'aria-label': `Remove photo ${i + 1} of ${label}`, title: 'Remove photo', onclick: () => onRemove(photo.name),
      }, '\u00d7'));
  }));
}

function inspectionCard(doc, state, photos, actions) {
  const { total, needAction, compliant } = compliance(doc);
  const editor = doc.editor && typeof doc.editor === 'object' ? String(doc.editor.id ?? '') : '';
  const editedBy = editor && editor.toLowerCase() !== String(doc.inspector ?? '').toLowerCase() ? `edited by ${editor}` : null;
  const meta = [doc.area, doc.inspector, doc.date, editedBy].filter(Boolean).join(' · ');
  const summary = total === 0 ? 'No extinguishers recorded'
    : `${total} extinguisher${total > 1 ? 's' : ''}${needAction ? ` · ${needAction} need${needAction > 1 ? '' : 's'} action` : ''}`;
  const conflicted = state === 'conflicted';
  return h('li', { class: `inspection${conflicted ? ' is-conflicted' : ''}`, dataset: { id: doc._id } },
    h('div', { class: 'inspection-head' },
      h('h3', { class: 'building' }, doc.building || 'Untitled building'),
      syncBadge(state)),
    meta ? h('p', { class: 'meta' }, meta) : null,
    h('p', { class: 'summary' },
      total ? h('span', { class: `compliance ${compliant ? 'is-ok' : 'is-bad'}` }, compliant ? 'Compliant' : 'Action needed') : null,
      h('span', {}, summary)),
    total ? h('ul', { class: 'chips' }, extinguishersOf(doc).map(extinguisherChip)) : null,
    doc.notes ? h('p', { class: 'notes' }, doc.notes) : null,
    photoStrip(photos, doc.building || 'Untitled building', (name) => actions.removePhoto(doc._id, name)),
    h('div', { class: 'card-actions' },
      conflicted ? h('button', { class: 'btn btn-danger btn-small', dataset: { action: 'resolve' }, onclick: () => actions.resolve(doc._id) }, 'Resolve conflict…') : null,
      h('button', { class: 'btn btn-small', dataset: { action: 'edit' }, onclick: () => actions.edit(doc._id) }, 'Edit'),
      h('button', { class: 'btn btn-small btn-quiet', dataset: { action: 'delete' }, onclick: () => actions.remove(doc._id) }, 'Delete')),
  );
}

/** The inspections, newest first, with their sync state and photos (`photosOf`: id → photos). */
export function renderInspections(list, docs, { pendingIds, conflictIds, photosOf }, actions) {
  const state = (id) => (conflictIds.has(id) ? 'conflicted' : pendingIds.has(id) ? 'pending' : 'synced');
  const sorted = [...docs].sort((a, b) => String(b.date ?? '').localeCompare(String(a.date ?? '')) || String(b._id).localeCompare(String(a._id)));
  if (sorted.length === 0) {
    list.replaceChildren(h('li', { class: 'empty' }, 'No inspections yet. Create one here, or sync to get the other device\u2019s.'));
    return;
  }
  // A card that would look the same is kept, not replaced: sync events
  // re-render the list, and a tap on a card whose button is replaced between
  // press and release is lost.
  const shown = new Map([...list.children].map((li) => [li.dataset.id, li]));
  const cards = sorted.map((doc) => {
    const card = inspectionCard(doc, state(doc._id), photosOf.get(doc._id) ?? [], actions);
    const old = shown.get(doc._id);
    return old?.isEqualNode(card) ? old : card;
  });
  if (cards.length === list.children.length && cards.every((card, i) => card === list.children[i])) return;
  list.replaceChildren(...cards);
}

const OUTBOX_STATE = { queued: 'Queued', inFlight: 'Sending', rejected: 'Rejected' };

/** The outbox: one row per change waiting for the server. */
export function renderOutbox(details, entries) {
  details.querySelector('.count').textContent = String(entries.length);
  const body = details.querySelector('.outbox-body');
  if (entries.length === 0) {
    body.replaceChildren(h('p', { class: 'empty' }, 'Empty: every change is on the server.'));
    return;
  }
  body.replaceChildren(h('table', {},
    h('thead', {}, h('tr', {}, h('th', {}, '#'), h('th', {}, 'Change'), h('th', {}, 'Document'), h('th', {}, 'State'), h('th', { class: 'num' }, 'Tries'))),
    h('tbody', {}, entries.map((e) => h('tr', { dataset: { docId: e.docId, state: e.state }, title: e.lastError ?? '' },
      h('td', { class: 'num' }, String(e.seq)),
      h('td', {}, e.op === 'delete' ? 'delete' : e.baseRev ? 'update' : 'create'),
      h('td', { class: 'doc' }, e.body?.building || e.docId),
      h('td', {}, h('span', { class: `outbox-state is-${e.state}` }, OUTBOX_STATE[e.state] ?? e.state)),
      h('td', { class: 'num' }, String(e.attempts)))))));
}
