// The inspection editor: a modal form for a new or an existing inspection, its
// extinguishers and its photos. Resolves to the edited body, or null when
// cancelled. Photos are not part of the body: the `photos` the device passes
// (photos.js) add and remove them, and call back with the list to show.
import { h, photoStrip } from './render.js';
import { EXTINGUISHER_STATUSES, extinguishersOf, nextTag } from './model.js';
import { photoError } from './photos.js';

const TEXT_FIELDS = ['building', 'area', 'inspector', 'date', 'notes'];

function extinguisherRow(extinguisher) {
  const row = h('div', { class: 'ext-row' },
    h('input', { name: 'tag', value: extinguisher.tag ?? '', 'aria-label': 'Tag', placeholder: 'Tag', required: true }),
    h('input', { name: 'location', value: extinguisher.location ?? '', 'aria-label': 'Location', placeholder: 'Location' }),
    h('select', { name: 'status', 'aria-label': 'Status' },
      EXTINGUISHER_STATUSES.map(({ value, label }) => h('option', { value, selected: value === extinguisher.status }, label))),
    h('button', { type: 'button', class: 'btn-icon', 'aria-label': `Remove ${extinguisher.tag ?? 'extinguisher'}`, title: 'Remove', onclick: () => row.remove() }, '\u00d7'));
  row.extinguisher = extinguisher; // keeps members this form does not show
  return row;
}

function readRows(rows) {
  return [...rows.querySelectorAll('.ext-row')].map((row) => ({
    ...row.extinguisher,
    tag: row.querySelector('[name=tag]').value.trim(),
    location: row.querySelector('[name=location]').value.trim(),
    status: row.querySelector('[name=status]').value,
  }));
}

/** The photos part: thumbnails (each removable), a note on when they are kept, and "Add photo" (camera or file). */
function photoSection(dialog, photos) {
  const slot = dialog.querySelector('.photo-slot');
  const input = dialog.querySelector('.photo-input');
  const error = dialog.querySelector('.photo-error');
  dialog.querySelector('.photo-note').textContent = photos.note;
  error.textContent = '';
  const attempt = async (work) => {
    error.textContent = '';
    try {
      await work();
    } catch (e) {
      error.textContent = photoError(e);
    }
  };
  input.value = '';
  input.onchange = () => {
    const [file] = input.files;
    input.value = ''; // the same photo can be picked again
    if (file) attempt(() => photos.add(file));
  };
  const remove = (name) => attempt(async () => {
    await photos.remove(name);
    input.focus(); // the button pressed is gone
  });
  photos.watch((list) => {
    slot.replaceChildren(photoStrip(list, 'this inspection', remove) ?? h('p', { class: 'photos-empty' }, 'No photos yet.'));
  });
}

/** Opens `dialog` (#editor-dialog) on `doc` and its `photos`; resolves to the body to save, or null. */
export function editInspection(dialog, { title, subtitle, doc, photos }) {
  const form = dialog.querySelector('form');
  const rows = dialog.querySelector('.ext-rows');
  dialog.querySelector('.dialog-title').textContent = title;
  dialog.querySelector('.dialog-sub').textContent = subtitle;
  for (const name of TEXT_FIELDS) form.elements[name].value = doc[name] ?? '';
  rows.replaceChildren(...extinguishersOf(doc).map(extinguisherRow));
  dialog.querySelector('.add-extinguisher').onclick = () => {
    const row = extinguisherRow({ tag: nextTag(readRows(rows)), location: '', status: 'ok' });
    rows.append(row);
    row.querySelector('[name=location]').focus();
  };
  photoSection(dialog, photos);
  dialog.returnValue = '';
  dialog.showModal();
  return new Promise((resolve) => {
    dialog.addEventListener('close', () => {
      photos.watch(null);
      dialog.querySelector('.photo-input').onchange = null;
      dialog.querySelector('.photo-slot').replaceChildren();
      if (dialog.returnValue !== 'save') return resolve(null);
      const body = Object.fromEntries(TEXT_FIELDS.map((name) => [name, form.elements[name].value.trim()]));
      resolve({ ...doc, ...body, extinguishers: readRows(rows) });
    }, { once: true });
  });
}

/** Asks before a delete; resolves to true to delete. */
export function confirmDelete(dialog, name) {
  dialog.querySelector('.dialog-sub').textContent = `\u201c${name}\u201d will be deleted on this device, then on the server and every other device when it syncs.`;
  dialog.returnValue = '';
  dialog.showModal();
  return new Promise((resolve) => {
    dialog.addEventListener('close', () => resolve(dialog.returnValue === 'delete'), { once: true });
  });
}
