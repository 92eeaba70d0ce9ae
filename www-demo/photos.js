// Photos of an inspection: tidesync attachments of its document, shown as
// thumbnails from object URLs. A device keeps one URL per photo while its bytes
// stay the same, makes new ones when a `change` event names the inspection, and
// revokes the URLs it replaced once the pane shows the new ones. The editor
// works on the photos of a saved inspection (written the moment they are added
// or removed, offline too) or on those of a new one (held until it is saved).

/** The largest photo accepted; the demo opens its databases with this `maxAttachmentBytes`. */
export const MAX_PHOTO_BYTES = 10 * 1024 * 1024;

const EXTENSIONS = {
  'image/jpeg': 'jpg', 'image/png': 'png', 'image/webp': 'webp', 'image/gif': 'gif', 'image/heic': 'heic', 'image/avif': 'avif',
};

/** A name no other photo has: `photo-<timestamp>-<random>.jpg`, the extension from the file's type. */
export function photoName(file) {
  const ext = EXTENSIONS[file.type] ?? /\.([a-z0-9]{1,5})$/i.exec(file.name ?? '')?.[1].toLowerCase() ?? 'jpg';
  return `photo-${Date.now()}-${Math.random().toString(36).slice(2, 6)}.${ext}`;
}

/** Photos among a document's attachments: images, and what this demo named as photos. */
const isPhoto = (info) => info.contentType.startsWith('image/') || info.name.startsWith('photo-');

/** Refuses what cannot be a photo before anything is written. */
function checkPhoto(file) {
  if (file.type && !file.type.startsWith('image/')) throw new Error(`\u201c${file.name}\u201d is not an image.`);
  if (file.size > MAX_PHOTO_BYTES) {
    throw new Error(`\u201c${file.name}\u201d is ${(file.size / 1048576).toFixed(1)} MB; photos can be up to ${MAX_PHOTO_BYTES / 1048576} MB.`);
  }
}

const putOptions = (file) => (file.type ? { contentType: file.type } : {});

/** What to tell the visitor when a photo could not be added or removed. */
export function photoError(error) {
  if (error?.code === 'attachment_too_large') return `This photo is too large: photos can be up to ${MAX_PHOTO_BYTES / 1048576} MB.`;
  if (error?.code === 'quota_exceeded') return 'This device is out of storage space: the photo was not saved.';
  return error?.code ? `The photo could not be saved (${error.code}): ${error.message}` : String(error?.message ?? error);
}

/**
 * One device's photos, by inspection: metadata read afresh each time (what
 * waits to upload changes with every push), object URLs reused while a
 * photo's bytes are the same.
 */
export class PhotoStore {
  constructor(db) {
    this.db = db;
    this.urls = new Map(); // inspection id → Map(photo name → { digest, url })
    this.stale = new Set(); // inspections a `change` event named: their URLs are made anew
    this.retired = []; // URLs replaced, revoked by the next sweep()
    this.reads = new Map(); // inspection id → its read in progress (reads of one run one at a time)
  }

  /** Notes a `change` event for inspection `id`: its thumbnails are read anew. */
  changed(id) { this.stale.add(id); }

  /**
   * The photos of inspection `id`, oldest first: `[{ name, url, pending,
   * stored }]`; `url` is null when the bytes are not on this device and cannot
   * be downloaded now (offline).
   */
  of(id) {
    const read = (this.reads.get(id) ?? Promise.resolve()).then(() => this.read(id));
    this.reads.set(id, read.catch(() => {}));
    return read;
  }

  async read(id) {
    let infos = [];
    try {
      infos = (await this.db.attachments(id)).filter(isPhoto).sort((a, b) => a.name.localeCompare(b.name));
    } catch (error) {
      if (error?.code !== 'not_found') throw error;
    }
    const fresh = this.stale.delete(id);
    const before = this.urls.get(id) ?? new Map();
    const after = new Map();
    const photos = [];
    for (const info of infos) {
      const kept = before.get(info.name);
      const reuse = !fresh && kept?.url && kept.digest === info.digest;
      const entry = reuse ? kept : { digest: info.digest, url: await this.db.attachmentUrl(id, info.name).catch(() => null) };
      after.set(info.name, entry);
      photos.push({ name: info.name, url: entry.url, pending: info.pending, stored: info.stored });
    }
    for (const [name, entry] of before) if (after.get(name) !== entry && entry.url) this.retired.push(entry.url);
    if (after.size) this.urls.set(id, after);
    else this.urls.delete(id);
    return photos;
  }

  /** Once the pane shows the current thumbnails: revokes the URLs replaced, and those of inspections not in `ids`. */
  sweep(ids) {
    for (const [id, names] of this.urls) {
      if (ids.has(id)) continue;
      for (const { url } of names.values()) if (url) this.retired.push(url);
      this.urls.delete(id);
    }
    for (const url of this.retired.splice(0)) URL.revokeObjectURL(url);
  }
}

/**
 * The editor's photos of a saved inspection: each added or removed at once
 * (`putAttachment`, `removeAttachment`), so they survive a cancelled edit. The
 * device calls `show` with the current list whenever it re-renders.
 */
export class SavedPhotos {
  constructor(db, id, refresh) {
    this.db = db;
    this.id = id;
    this.refresh = refresh;
    this.show = null;
    this.note = 'A photo is kept on this device as soon as you add it, and uploads when the device is online.';
  }

  /** `show(list)` from now on (null: no longer); resolves once it has been called. */
  watch(show) {
    this.show = show;
    return show ? this.refresh() : undefined;
  }

  async add(file) {
    checkPhoto(file);
    await this.db.putAttachment(this.id, photoName(file), file, putOptions(file));
    await this.refresh();
  }

  async remove(name) {
    try {
      await this.db.removeAttachment(this.id, name);
    } catch (error) {
      if (error?.code !== 'not_found') throw error; // already gone: removed twice, or on the other device
    }
    await this.refresh();
  }
}

/** The editor's photos of a new inspection: held in memory, written by `saveTo` once the inspection is. */
export class DraftPhotos {
  constructor() {
    this.items = [];
    this.show = null;
    this.note = 'Photos are kept when you save the inspection.';
  }

  list() { return this.items.map(({ name, url }) => ({ name, url, pending: true, draft: true })); }

  watch(show) {
    this.show = show;
    show?.(this.list());
  }

  add(file) {
    checkPhoto(file);
    this.items.push({ name: photoName(file), file, url: URL.createObjectURL(file) });
    this.show?.(this.list());
  }

  remove(name) {
    const gone = this.items.filter((item) => item.name === name);
    this.items = this.items.filter((item) => item.name !== name);
    this.show?.(this.list());
    for (const { url } of gone) URL.revokeObjectURL(url);
  }

  /** Writes the photos as attachments of `id`; resolves to the errors of those that could not be. */
  async saveTo(db, id) {
    const errors = [];
    for (const { name, file } of this.items) {
      try {
        await db.putAttachment(id, name, file, putOptions(file));
      } catch (error) {
        errors.push(error);
      }
    }
    return errors;
  }

  /** Revokes the thumbnails' URLs (once the editor is closed). */
  discard() {
    for (const { url } of this.items) URL.revokeObjectURL(url);
    this.items = [];
  }
}
