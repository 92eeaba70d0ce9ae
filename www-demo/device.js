// One simulated device: its own local database (IndexedDB) syncing with the
// shared remote, its pane (status bar, offline switch, inspections with their
// photos, outbox) and the actions on it. The offline switch survives a reload,
// like airplane mode.
import { Tidesync } from './pkg/index.js';
import { h, renderInspections, renderOutbox, renderStatus } from './render.js';
import { blankInspection, bodyOf, newInspectionId } from './model.js';
import { META_FIELDS, mergeConflict, same } from './merge.js';
import { DraftPhotos, MAX_PHOTO_BYTES, PhotoStore, SavedPhotos, photoError } from './photos.js';
import { authorization } from './people.js';

const RESOLVED_BY = {
  merge: 'merged both versions',
  priority: 'kept the version of the higher role',
  serverWins: 'kept the server\u2019s version',
  clientWins: 'kept this device\u2019s version',
  newestWins: 'kept the newest version',
  custom: 'resolved by the app',
};

/** Whether two versions of a document have the same body (the SDK's stamps aside). */
const sameBody = (a, b) => {
  const body = (doc) => Object.fromEntries(Object.entries(bodyOf(doc)).filter(([key]) => !META_FIELDS.has(key)));
  return same(body(a), body(b));
};

export class Device {
  /**
   * @param {HTMLElement} root the pane, cloned from #device-template
   * @param {{ name: string, label: string, person: string, author: object, user: { name: string, password: string } }} config
   * @param {{ editInspection: Function, resolveConflict: Function, confirmDelete: Function }} dialogs
   */
  constructor(root, config, dialogs) {
    this.root = root;
    this.config = config;
    this.dialogs = dialogs;
    this.db = null;
    const $ = (selector) => root.querySelector(selector);
    this.el = {
      toggle: $('.network-toggle'), status: $('.status'), syncNow: $('.sync-now'), banner: $('.conflict-banner'),
      bannerText: $('.conflict-banner .text'), list: $('.inspections'), outbox: $('.outbox'), notices: $('.notices'),
    };
    root.dataset.device = config.name;
    $('.device-name').textContent = config.label;
    $('.device-person').textContent = `${config.person}, ${config.author.role}`;
    this.dirty = false;
    this.rendering = null;
    this.conflictIds = [];
    this.photos = null; // the PhotoStore, once open
    this.editingPhotos = null; // the SavedPhotos the editor shows, while it is open
  }

  get networkKey() { return `tidesync-demo:${this.config.name}:network`; }
  get lastSyncKey() { return `tidesync-demo:${this.config.name}:last-sync`; }
  get networkEnabled() { return localStorage.getItem(this.networkKey) !== 'off'; }

  /** Forgets this device's switch and last sync time (its database is destroyed separately). */
  forget() {
    localStorage.removeItem(this.networkKey);
    localStorage.removeItem(this.lastSyncKey);
  }

  /** The status bar; the last sync time is kept across reloads, the SDK's is per session. */
  showStatus(status) {
    if (status.lastSyncAt) localStorage.setItem(this.lastSyncKey, String(status.lastSyncAt));
    const remembered = Number(localStorage.getItem(this.lastSyncKey)) || null;
    renderStatus(this.el.status, { ...status, lastSyncAt: status.lastSyncAt ?? remembered });
  }

  /**
   * Opens the device's database; `options` add to the demo's (e.g. a conflict
   * policy). Photos other devices add are downloaded right after the pull
   * that brings them (`eager`), so they show here offline too. Each device
   * signs in as its person with a header: the two share one page, so one
   * cookie session could not tell them apart.
   */
  async open(remote, options = {}) {
    this.db = await Tidesync.open({
      name: this.config.name, remote, headers: { Authorization: authorization(this.config.user) },
      author: this.config.author, attachments: 'eager', maxAttachmentBytes: MAX_PHOTO_BYTES, ...options,
    });
    this.photos = new PhotoStore(this.db);
    if (!this.networkEnabled) this.db.setNetworkEnabled(false);
    this.showNetwork();
    this.db.on('status', (status) => { this.showStatus(status); this.refresh(); });
    // A change of an inspection, its photos included (here, in another tab, or pulled), shows its thumbnails anew.
    this.db.on('change', ({ id }) => { this.photos.changed(id); this.refresh(); });
    for (const event of ['conflict', 'error']) this.db.on(event, () => this.refresh());
    this.db.on('resolved', (event) => { this.notifyResolved(event); this.refresh(); });
    this.el.toggle.addEventListener('change', () => this.setNetwork(this.el.toggle.checked));
    this.el.syncNow.addEventListener('click', () => this.syncNow());
    this.root.querySelector('.new-inspection').addEventListener('click', () => this.create());
    this.root.querySelector('.review').addEventListener('click', () => this.review(this.conflictIds[0]));
    await this.refresh();
  }

  /** The in-app offline switch: `setNetworkEnabled` on top of the browser's own connectivity. */
  setNetwork(enabled) {
    localStorage.setItem(this.networkKey, enabled ? 'on' : 'off');
    this.db.setNetworkEnabled(enabled);
    this.showNetwork();
    this.refresh();
  }

  showNetwork() {
    const on = this.networkEnabled;
    this.el.toggle.checked = on;
    this.root.classList.toggle('is-offline', !on);
    this.el.syncNow.disabled = !on;
    this.el.syncNow.title = on ? 'Push and pull now' : 'The network switch of this device is off';
  }

  async syncNow() {
    this.el.syncNow.disabled = true;
    try {
      await this.db.sync();
    } finally {
      this.showNetwork();
      await this.refresh();
    }
  }

  async create() {
    // The photos of a new inspection wait in memory, and are written once it is.
    const photos = new DraftPhotos();
    try {
      const body = await this.dialogs.editInspection({
        title: 'New inspection', subtitle: `On ${this.config.label}`, doc: blankInspection(this.config.person), photos,
      });
      if (body) {
        const id = newInspectionId();
        await this.db.put({ _id: id, ...body });
        for (const error of await photos.saveTo(this.db, id)) this.notify(photoError(error));
      }
    } finally {
      photos.discard();
    }
    await this.refresh();
  }

  async edit(id) {
    let doc = await this.db.get(id);
    let draft = bodyOf(doc);
    // Photos are written as they are added or removed, whether the edit is saved or not.
    this.editingPhotos = new SavedPhotos(this.db, id, () => this.refresh());
    try {
      while (doc) {
        const body = await this.dialogs.editInspection({
          title: 'Edit inspection', subtitle: `On ${this.config.label}`, doc: draft, photos: this.editingPhotos,
        });
        if (!body) break;
        const mine = { ...bodyOf(doc), ...body };
        try {
          await this.putOver(doc, mine);
          break;
        } catch (error) {
          if (error?.code !== 'conflict') throw error;
          // It changed while the dialog was open (a pull, another tab): the
          // edit is not lost, it reopens merged into the version there is now
          // (where both changed one field, the edit's value stays).
          this.notify(`${body.building || id} changed while you were editing it: your edit is merged into the new version; check it and save again.`);
          const latest = await this.db.get(id);
          if (!latest) {
            await this.db.put({ ...mine, _id: id }); // deleted meanwhile: the edit brings it back
            break;
          }
          const { merged } = mergeConflict({ base: bodyOf(doc), local: mine, remote: bodyOf(latest) });
          draft = merged ?? mine;
          doc = latest;
        }
      }
    } finally {
      this.editingPhotos = null;
    }
    await this.refresh();
  }

  /**
   * Puts `body` based on the version `doc` the editor showed, naming its
   * `_rev`. When the newer version there is now differs only in its photos
   * (added or removed in the editor, or on another device), the edit goes
   * over that one: photos are not part of the body, and a put keeps them.
   */
  async putOver(doc, body) {
    try {
      return await this.db.put({ ...body, _id: doc._id, _rev: doc._rev });
    } catch (error) {
      if (error?.code !== 'conflict') throw error;
      const latest = await this.db.get(doc._id);
      if (!latest || !sameBody(latest, doc)) throw error;
      return this.db.put({ ...body, _id: doc._id, _rev: latest._rev });
    }
  }

  /** The remove button of a thumbnail on a card. */
  async removePhoto(id, name) {
    try {
      await this.db.removeAttachment(id, name);
    } catch (error) {
      if (error?.code !== 'not_found') this.notify(photoError(error)); // not_found: already gone
    }
    await this.refresh();
  }

  /** A line under the status bar for a few seconds. */
  notify(text, dataset = {}) {
    const notice = h('p', { class: 'notice', role: 'status', dataset }, text);
    this.el.notices.append(notice);
    setTimeout(() => notice.remove(), 8000);
  }

  async remove(id) {
    const doc = await this.db.get(id);
    if (!doc || !(await this.dialogs.confirmDelete(doc.building || id))) return;
    await this.db.delete(id);
    await this.refresh();
  }

  async review(id) {
    const conflict = (await this.db.conflicts()).find((c) => c.id === id);
    if (!conflict) return;
    const choice = await this.dialogs.resolveConflict({ conflict, deviceLabel: this.config.label });
    if (!choice) return;
    if (choice.action === 'theirs') await this.db.discardLocal(id);
    else await this.db.resolve(id, choice.body);
    await this.refresh();
  }

  /** A conflict the policy decided without asking: said for a few seconds under the status bar. */
  async notifyResolved({ id, strategy }) {
    const doc = await this.db.get(id);
    const how = RESOLVED_BY[strategy] ?? `resolved (${strategy})`;
    const notice = h('p', { class: 'notice', role: 'status', dataset: { strategy } },
      h('strong', {}, 'Conflict resolved automatically: '), `${doc?.building ?? id}, ${how}.`);
    this.el.notices.append(notice);
    setTimeout(() => notice.remove(), 8000);
  }

  /** Re-renders the pane; calls made while one runs coalesce into one more. */
  refresh() {
    this.dirty = true;
    this.rendering ??= (async () => {
      try {
        while (this.dirty) {
          this.dirty = false;
          await this.render();
        }
      } finally {
        this.rendering = null;
      }
    })();
    return this.rendering;
  }

  async render() {
    if (!this.db) return;
    const [docs, outbox, conflicts, status] = await Promise.all([
      this.db.all(), this.db.outbox(), this.db.conflicts(), this.db.status(),
    ]);
    this.conflictIds = conflicts.map((c) => c.id);
    const photosOf = new Map(await Promise.all(docs.map(async (doc) => [doc._id, await this.photos.of(doc._id)])));
    const sets = { pendingIds: new Set(outbox.map((e) => e.docId)), conflictIds: new Set(this.conflictIds), photosOf };
    renderInspections(this.el.list, docs, sets, {
      edit: (id) => this.edit(id), remove: (id) => this.remove(id), resolve: (id) => this.review(id),
      removePhoto: (id, name) => this.removePhoto(id, name),
    });
    const editing = this.editingPhotos;
    if (editing?.show) {
      const photos = await this.photos.of(editing.id);
      editing.show?.(photos); // unless the editor closed meanwhile
    }
    this.photos.sweep(new Set(docs.map((doc) => doc._id)));
    renderOutbox(this.el.outbox, outbox);
    this.showStatus(status);
    this.el.banner.hidden = conflicts.length === 0;
    this.el.bannerText.textContent = conflicts.length === 1
      ? 'This device and another changed the same inspection.'
      : `${conflicts.length} inspections were changed here and on another device.`;
  }
}
