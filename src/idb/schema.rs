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

/// Documents, keyed by `id`.
pub(super) const DOCS: &str = "docs";
/// The outbox, keyed by `seq` (a number).
pub(super) const OUTBOX: &str = "outbox";
/// Conflicts, keyed by document `id`.
pub(super) const CONFLICTS: &str = "conflicts";
/// Metadata, keyed by `key`.
pub(super) const META: &str = "meta";
/// Every object store: the scope of [`transact`](super::IdbStore) transactions.
pub(super) const ALL_STORES: [&str; 4] = [DOCS, OUTBOX, CONFLICTS, META];
/// The index of `docs` on the status string, for listings by status.
pub(super) const STATUS_INDEX: &str = "status";
/// The index of `outbox` on the document id, for reading one document's queue.
pub(super) const DOC_ID_INDEX: &str = "docId";

/// One schema step. It runs in the `versionchange` transaction, which is passed
/// along for steps that must reach stores created by earlier versions (adding an
/// index, rewriting records): `upgrade.object_store(name)`.
type Migration = fn(&Database, &web_sys::IdbTransaction) -> Result<(), Error>;

/// The migrations; entry `i` upgrades a database from version `i` to `i + 1`.
const MIGRATIONS: &[Migration] = &[v1];

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
    request.await.map_err(open_error)
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
