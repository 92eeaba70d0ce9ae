// The conflict dialog: base, mine and theirs side by side, field by field, with
// what changed on one side and what clashed highlighted, and four ways out:
// keep mine, keep theirs, merge (tidesync's three-way merge; a clashing field
// takes the side picked), or edit the JSON by hand. Resolves to { action, body }
// or null.
import { h } from './render.js';
import { FIELDS, bodyOf } from './model.js';
import { META_FIELDS, fieldChange, mergeConflict, same, withPicks } from './merge.js';

const STATUS_TEXT = { ok: 'OK', expired: 'Expired', damaged: 'Damaged', missing: 'Missing' };

function fieldsOf(conflict) {
  const present = new Set([conflict.base, conflict.local, conflict.remote].flatMap((side) => Object.keys(side ?? {})));
  const known = FIELDS.filter((f) => present.has(f.key));
  const others = [...present].filter((k) => !k.startsWith('_') && !META_FIELDS.has(k) && k !== 'type' && !FIELDS.some((f) => f.key === k))
    .sort().map((key) => ({ key, label: key }));
  return [...known, ...others];
}

/** One extinguisher list, items marked against the base. */
function extinguisherList(list, baseList, marked) {
  const byTag = new Map((Array.isArray(baseList) ? baseList : []).map((e) => [e.tag, e]));
  return h('ul', { class: 'diff-list' }, list.map((e) => {
    const was = byTag.get(e.tag);
    const mark = !marked ? '' : !was ? 'is-added' : same(was, e) ? '' : 'is-changed';
    return h('li', { class: mark },
      h('span', { class: 'tag' }, e.tag),
      e.location ? h('span', { class: 'where' }, e.location) : null,
      h('span', { class: `chip ext-${e.status}` }, STATUS_TEXT[e.status] ?? e.status));
  }));
}

function valueView(key, value, base, marked) {
  if (value === undefined) return h('span', { class: 'absent' }, '\u2014');
  if (key === 'extinguishers' && Array.isArray(value)) {
    return value.length ? extinguisherList(value, base, marked) : h('span', { class: 'absent' }, 'none');
  }
  if (typeof value === 'string') return value ? h('span', { class: 'text' }, value) : h('span', { class: 'absent' }, 'empty');
  return h('code', {}, JSON.stringify(value));
}

/** A column heading: the side, and where it comes from (with its editor when stamped). */
function sideLabel(name, from, doc) {
  const editor = doc?.editor;
  const by = editor && typeof editor === 'object' && editor.id ? ` \u00b7 ${editor.id}${editor.role ? ` (${editor.role})` : ''}` : '';
  return h('span', {}, name, h('small', {}, `${from}${by}`));
}

const NOTES = {
  mine: 'changed on my side',
  theirs: 'changed on their side',
  both: 'same change on both sides',
  clash: 'changed on both sides',
  merged: 'both changed, merges cleanly',
};

/** The field-by-field comparison; clashing fields carry a mine/theirs pick for the merge. */
function diffView(conflict, deviceLabel, { merged, clashFields }, picks) {
  const { base, local, remote } = conflict;
  const head = h('div', { class: 'diff-head' },
    sideLabel('Base', 'last synced', null),
    sideLabel('Mine', deviceLabel, local),
    sideLabel('Theirs', 'server', remote));
  const changed = [];
  const unchanged = [];
  for (const { key, label } of fieldsOf(conflict)) {
    const [b, m, t] = [base?.[key], local?.[key], remote?.[key]];
    let change = local && remote ? fieldChange(b, m, t) : 'deleted';
    if (change === 'both-differently') change = clashFields.includes(key) ? 'clash' : 'merged';
    const cellClass = (side) => {
      if (change === 'clash') return 'is-clash';
      return change === 'merged' || change === 'both' || change === side ? 'is-changed' : '';
    };
    const sideCell = (side, doc, value) => h('div', { class: `cell ${side} ${doc ? cellClass(side) : 'is-deleted'}`, 'aria-label': `${label}, ${side}` },
      doc ? valueView(key, value, b, true) : h('span', { class: 'absent' }, 'deleted'));
    const pick = change === 'clash' ? h('div', { class: 'pick' },
      h('span', {}, `In a merge, ${label.toLowerCase()}:`),
      ['mine', 'theirs'].map((side) => h('label', {},
        h('input', { type: 'radio', name: `pick-${key}`, value: side, checked: side === 'mine', onchange: () => picks.set(key, side) }),
        side))) : null;
    const preview = change === 'merged' && merged ? h('div', { class: 'merge-preview' },
      h('span', { class: 'label' }, 'Merged'), valueView(key, merged[key], b, false)) : null;
    (change === 'same' ? unchanged : changed).push(h('section', { class: `diff-field is-${change}`, dataset: { field: key, change } },
      h('h4', {}, label, NOTES[change] ? h('span', { class: 'change-note' }, NOTES[change]) : null),
      h('div', { class: 'diff-values' },
        h('div', { class: 'cell base', 'aria-label': `${label}, base` }, valueView(key, b, b, false)),
        sideCell('mine', local, m),
        sideCell('theirs', remote, t)),
      preview, pick));
  }
  const rest = unchanged.length
    ? h('details', { class: 'diff-unchanged' },
      h('summary', {}, `Unchanged: ${unchanged.map((row) => row.querySelector('h4').textContent).join(', ')}`), unchanged)
    : null;
  return h('div', { class: 'diff' }, head, changed, rest);
}

/** Opens `dialog` (#conflict-dialog) on `conflict`; resolves to the choice, or null for later. */
export function resolveConflict(dialog, { conflict, deviceLabel }) {
  const body = dialog.querySelector('.dialog-body');
  const actions = dialog.querySelector('.sheet-form');
  const subtitle = dialog.querySelector('.dialog-sub');
  const editor = dialog.querySelector('.json-editor');
  const textarea = editor.querySelector('textarea');
  const error = editor.querySelector('.json-error');
  const picks = new Map();
  const oneSideDeleted = !conflict.local || !conflict.remote;
  const title = conflict.local?.building ?? conflict.remote?.building ?? conflict.id;
  dialog.querySelector('.dialog-title').textContent = `Conflict: ${title}`;
  const explanation = oneSideDeleted
    ? 'One side deleted this inspection while the other changed it. Keep the deletion or the changes.'
    : `${deviceLabel} changed this inspection while another change reached the server first. Changes are highlighted; fields changed on both sides are in red.`;
  const merge = mergeConflict(conflict);
  const merged = () => bodyOf(withPicks(merge.merged, conflict.remote, picks));

  const table = dialog.querySelector('.diff-slot');
  table.replaceChildren(diffView(conflict, deviceLabel, merge, picks));
  dialog.dataset.clashes = String(merge.clashFields.length);
  const mergeButton = actions.querySelector('[value=merge]');
  mergeButton.disabled = oneSideDeleted;
  mergeButton.title = oneSideDeleted ? 'Nothing to merge with a deleted side' : 'Changes from both sides; a field changed on both takes the side picked';
  const setEditing = (on) => {
    dialog.classList.toggle('is-editing', on);
    subtitle.textContent = on ? `The document below replaces both versions. It starts as ${oneSideDeleted ? 'the side that still exists' : 'the merge'}.` : explanation;
    editor.hidden = !on;
    table.hidden = on;
  };
  setEditing(false);
  error.textContent = '';
  body.scrollTop = 0;
  dialog.returnValue = '';
  dialog.showModal();

  return new Promise((resolve) => {
    const finish = (result) => {
      actions.removeEventListener('click', onClick);
      dialog.removeEventListener('close', onClose);
      if (dialog.open) dialog.close();
      resolve(result);
    };
    const onClose = () => finish(null);
    const onClick = (event) => {
      const action = event.target.closest('button')?.value;
      if (!action) return;
      event.preventDefault();
      if (action === 'later') finish(null);
      else if (action === 'mine') finish({ action, body: conflict.local ? bodyOf(conflict.local) : null });
      else if (action === 'theirs') finish({ action, body: conflict.remote ? bodyOf(conflict.remote) : null });
      else if (action === 'merge') finish({ action, body: merged() });
      else if (action === 'edit') {
        textarea.value = JSON.stringify(oneSideDeleted ? bodyOf(conflict.local ?? conflict.remote) : merged(), null, 2);
        setEditing(true);
        textarea.setSelectionRange(0, 0);
        textarea.focus();
        textarea.scrollTop = 0;
      } else if (action === 'back') setEditing(false);
      else if (action === 'save-edit') {
        try {
          const parsed = JSON.parse(textarea.value);
          if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('the document must be a JSON object');
          finish({ action: 'edit', body: bodyOf(parsed) });
        } catch (e) {
          error.textContent = `Not saved: ${e.message}`;
        }
      }
    };
    actions.addEventListener('click', onClick);
    dialog.addEventListener('close', onClose);
  });
}
