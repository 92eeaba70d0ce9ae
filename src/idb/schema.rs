//! The database schema: object store and index names, and the migrations that
//! build it one version at a time.
//!
//! The database version is the number of migrations. Opening runs, inside
//! `onupgradeneeded`, every migration the stored database has not seen yet, in
//! order, so a browser holding v1 data reaches vN through v2, v3… A schema
//! change is a new function appended to [`MIGRATIONS`]; existing entries never
//! change, since browsers in the field have already run them.

use std::{cell::OnceCell, rc::Rc};

use indexed_db_futures::{
    database::Database, error::Error, internals::SystemRepr, prelude::*, KeyPath,
};
use tidesync_engine::error::StoreError;

use super::error::open_error;

#[wasm_bindgen::prelude::wasm_bindgen(module = "/src/idb/idb.js")]
extern "C" {
    #[wasm_bindgen(js_name = toV2, catch)]
    fn to_v2(
        db: &web_sys::IdbDatabase,
        upgrade: &web_sys::IdbTransaction,
    ) -> Result<(), wasm_bindgen::JsValue>;
    #[wasm_bindgen(js_name = migrationError)]
    fn migration_error() -> Option<String>;
}

/// Documents, keyed by `id`; since v2 each holds its outbox messages and
/// conflict.
pub(super) const DOCS: &str = "docs";
/// v1's outbox, keyed by `seq` (a number); moved into `docs` by v2.
const OUTBOX: &str = "outbox";
/// v1's conflicts, keyed by document `id`; moved into `docs` by v2.
const CONFLICTS: &str = "conflicts";
/// Metadata, keyed by `key`.
pub(super) const META: &str = "meta";
/// Attachment bytes (Blobs), keyed by their digest (out of line), since v4.
const ATTACHMENTS: &str = "attachments";
/// The object stores of schema v2: the scope of
/// [`transact`](super::IdbStore) transactions.
pub(super) const ALL_STORES: [&str; 2] = [DOCS, META];
/// The index of `docs` on the sequence numbers of each document's outbox
/// messages (multi-entry): the outbox in queue order.
pub(super) const QUEUE_INDEX: &str = "queue";
/// The index of `docs` on the status string, for listings by status.
pub(super) const STATUS_INDEX: &str = "status";
/// v1's index of `outbox` on the document id.
const DOC_ID_INDEX: &str = "docId";

/// One schema step. It runs in the `versionchange` transaction, which is passed
/// along for steps that must reach stores created by earlier versions (adding an
/// index, rewriting records): `upgrade.object_store(name)`.
type Migration = fn(&Database, &web_sys::IdbTransaction) -> Result<(), Error>;

/// The migrations; entry `i` upgrades a database from version `i` to `i + 1`.
const MIGRATIONS: &[Migration] = &[v1, v2, v3, v4];

/// The current schema version.
pub(super) const VERSION: u32 = MIGRATIONS.len() as u32;

/// Opens (creating or upgrading) the database `name` at [`VERSION`].
///
/// An open that waits on connections of an older version (another tab) stays
/// pending until they close; tidesync's own connections close themselves on
/// `versionchange`, so only foreign ones can hold it up.
pub(super) async fn open(name: &str) -> Result<Database, StoreError> {
    // The builder hands the upgrade callback the database but not the request,
    // and only the request knows the `versionchange` transaction; the callback
    // reads it from here (events are always dispatched after `build`).
    let request_slot: Rc<OnceCell<web_sys::IdbOpenDbRequest>> = Rc::default();
    let slot = Rc::clone(&request_slot);
    let request = Database::open(name)
        .with_version(VERSION)
        .with_on_upgrade_needed(move |event, db| {
            let upgrade = slot
                .get()
                .and_then(|request| request.transaction())
                .ok_or_else(|| js_sys::Error::new("the upgrade transaction is unavailable"))?;
            upgrade_from(event.old_version(), &db, &upgrade)
        })
        .build()
        .map_err(open_error)?;
    let _ = request_slot.set(request.as_sys().clone());
    request.await.map_err(|error| match migration_error() {
        // The migration aborted the upgrade: the database kept its old
        // version and data.
        Some(reason) => StoreError::Migration(reason),
        None => open_error(error),
    })
}

/// Runs the migrations after `old_version`, in order.
fn upgrade_from(
    old_version: f64,
    db: &Database,
    upgrade: &web_sys::IdbTransaction,
) -> Result<(), Error> {
    // Versions are small integers; an `f64` is what the event carries.
    let done = old_version as usize;
    MIGRATIONS
        .iter()
        .skip(done)
        .try_for_each(|migration| migration(db, upgrade))
}

/// v1: the four object stores and their two indexes.
fn v1(db: &Database, _upgrade: &web_sys::IdbTransaction) -> Result<(), Error> {
    let docs = db
        .create_object_store(DOCS)
        .with_key_path(KeyPath::One("id"))
        .build()?;
    docs.create_index(STATUS_INDEX, KeyPath::One("status"))
        .build()?;
    let outbox = db
        .create_object_store(OUTBOX)
        .with_key_path(KeyPath::One("seq"))
        .build()?;
    outbox
        .create_index(DOC_ID_INDEX, KeyPath::One("docId"))
        .build()?;
    db.create_object_store(CONFLICTS)
        .with_key_path(KeyPath::One("id"))
        .build()?;
    db.create_object_store(META)
        .with_key_path(KeyPath::One("key"))
        .build()?;
    Ok(())
}

/// v2: each document's outbox messages and conflict move into its record, the
/// outbox becomes the `queue` index over `docs` (see `idb.js`), so a local
/// write is one read and one write of one record.
fn v2(db: &Database, upgrade: &web_sys::IdbTransaction) -> Result<(), Error> {
    let raw: &web_sys::IdbDatabase = db.as_sys();
    to_v2(raw, upgrade)
        .map_err(|e| Error::from(wasm_bindgen::JsCast::unchecked_into::<js_sys::Error>(e)))
}

/// v3: a record may store a body once where it held it twice (a base or a
/// pending message equal to the local body; see `record::StoredDoc`). No
/// record is rewritten: v2 records read as they are and take the new form at
/// their next write. The version goes up so that a tab still running an
/// older tidesync, which would read a shared base as missing, closes its
/// connection instead of reading the new records.
fn v3(_db: &Database, _upgrade: &web_sys::IdbTransaction) -> Result<(), Error> {
    Ok(())
}

/// v4: the `attachments` object store, attachment bytes as Blobs keyed by
/// digest. Records are unchanged (a record names its attachments' digests
/// in its own members), so nothing is rewritten.
fn v4(db: &Database, _upgrade: &web_sys::IdbTransaction) -> Result<(), Error> {
    db.create_object_store(ATTACHMENTS).build()?;
    Ok(())
}
