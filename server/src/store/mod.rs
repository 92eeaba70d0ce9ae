//! Storage: SQLite through rusqlite, run on blocking threads.
//!
//! All writes go through one connection inside `BEGIN IMMEDIATE` transactions,
//! so a revision check and the write it guards are atomic and concurrent edits
//! of one revision yield exactly one success. Reads use a small pool of extra
//! connections and see consistent snapshots thanks to WAL. After a write
//! commits, the [`Notifier`] learns the database's new seq.

mod all_docs;
mod attachments;
mod changes;
mod compact;
mod databases;
mod documents;
mod local;
mod meta;
mod migrations;
mod open_revs;
mod render;
mod replicated;
mod revs_diff;
mod revs_limit;
mod rows;
mod schema;
mod security;
mod tree;
mod writes;

use std::{
    collections::HashMap,
    path::{Path, PathBuf},
    sync::{Arc, Mutex, PoisonError, RwLock},
};

use rusqlite::{Connection, Transaction, TransactionBehavior};

use crate::{auth::security::Security, error::ApiError, notify::Notifier};

pub use all_docs::AllDocsQuery;
pub use attachments::AttachmentBytes;
pub use changes::{ChangesPage, ChangesQuery};
pub use compact::Compacted;
pub use documents::{BulkGetRef, ReadOptions};
pub use open_revs::OpenRevs;
pub use replicated::Refusal;
pub use writes::EditResult;

/// The name of the SQLite file inside the data directory.
pub const DB_FILE: &str = "tidesync.sqlite3";

/// How many idle read connections are kept open.
const MAX_IDLE_READERS: usize = 4;

/// Why a storage operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A refusal decided from stored state (conflict, not found, ...), answered as is.
    #[error(transparent)]
    Api(#[from] ApiError),
    /// SQLite failed.
    #[error("sqlite: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// A stored value does not parse; the file was changed by something else.
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    /// The blocking task running the operation panicked or was cancelled.
    #[error("storage task failed: {0}")]
    Task(String),
    /// The data directory could not be created.
    #[error("data directory: {0}")]
    Io(#[from] std::io::Error),
}

/// Shorthand for storage results.
pub type StoreResult<T> = Result<T, StoreError>;

/// Handle to the database file; cheap to clone.
#[derive(Clone)]
pub struct Store {
    inner: Arc<Inner>,
}

struct Inner {
    path: PathBuf,
    writer: Mutex<Connection>,
    readers: Mutex<Vec<Connection>>,
    notifier: Notifier,
    /// Every stored `_security` object by database name, read once at open
    /// so that authorising a request costs no SQLite read.
    security: RwLock<HashMap<String, Arc<Security>>>,
}

impl Store {
    /// Opens (creating if needed) the database file inside `data_dir`.
    pub fn open(data_dir: &Path, notifier: Notifier) -> StoreResult<Store> {
        std::fs::create_dir_all(data_dir)?;
        let path = data_dir.join(DB_FILE);
        let mut writer = open_connection(&path)?;
        schema::migrate(&mut writer)?;
        let security = security::load_all(&writer)?;
        tracing::info!(path = %path.display(), "storage opened");
        Ok(Store {
            inner: Arc::new(Inner {
                path,
                writer: Mutex::new(writer),
                readers: Mutex::new(Vec::new()),
                notifier,
                security: RwLock::new(security),
            }),
        })
    }

    /// The notifier that commits publish to.
    pub fn notifier(&self) -> &Notifier {
        &self.inner.notifier
    }

    /// Runs `f` in a read transaction (a consistent snapshot) on a blocking thread.
    pub(crate) async fn read<T, F>(&self, f: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&Transaction<'_>) -> StoreResult<T> + Send + 'static,
    {
        let inner = Arc::clone(&self.inner);
        run_blocking(move || {
            let mut conn = inner.take_reader()?;
            let result = (|| {
                let tx = conn.transaction()?;
                let value = f(&tx)?;
                tx.finish()?;
                Ok(value)
            })();
            inner.return_reader(conn);
            result
        })
        .await
    }

    /// Runs `f` in a `BEGIN IMMEDIATE` transaction on a blocking thread and
    /// commits when it returns `Ok`; any error rolls everything back.
    pub(crate) async fn write<T, F>(&self, f: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&Transaction<'_>) -> StoreResult<T> + Send + 'static,
    {
        let inner = Arc::clone(&self.inner);
        run_blocking(move || {
            let mut conn = inner.writer.lock().unwrap_or_else(PoisonError::into_inner);
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let value = f(&tx)?;
            tx.commit()?;
            Ok(value)
        })
        .await
    }
}

impl Inner {
    fn take_reader(&self) -> StoreResult<Connection> {
        let idle = self
            .readers
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop();
        match idle {
            Some(conn) => Ok(conn),
            None => open_connection(&self.path),
        }
    }

    fn return_reader(&self, conn: Connection) {
        let mut readers = self.readers.lock().unwrap_or_else(PoisonError::into_inner);
        if readers.len() < MAX_IDLE_READERS {
            readers.push(conn);
        }
    }
}

fn open_connection(path: &Path) -> StoreResult<Connection> {
    let conn = Connection::open(path)?;
    schema::configure(&conn)?;
    Ok(conn)
}

async fn run_blocking<T, F>(f: F) -> StoreResult<T>
where
    T: Send + 'static,
    F: FnOnce() -> StoreResult<T> + Send + 'static,
{
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|err| StoreError::Task(err.to_string()))?
}
