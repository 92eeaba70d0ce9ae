//! Attachment bytes, stored once per database and digest and shared by every
//! revision that references them (a stub round trip copies no bytes).

use rusqlite::{params, Connection, OptionalExtension};
use tidesync_engine::Revision;

use super::{rows, writes::missing_attachment, Store, StoreError, StoreResult};
use crate::error::ApiError;

/// One attachment read back for `GET /{db}/{doc}/{name}`.
#[derive(Debug, Clone)]
pub struct AttachmentBytes {
    /// The MIME type it was written with.
    pub content_type: String,
    /// `md5-<base64>`, which also makes a strong ETag.
    pub digest: String,
    /// The bytes.
    pub data: Vec<u8>,
}

/// Stores bytes under their digest; storing them again is free.
pub(crate) fn store_blob(
    conn: &Connection,
    db_id: i64,
    digest: &str,
    data: &[u8],
) -> StoreResult<()> {
    conn.prepare_cached("INSERT OR IGNORE INTO blobs (db_id, digest, data) VALUES (?1, ?2, ?3)")?
        .execute(params![db_id, digest, data])?;
    Ok(())
}

/// The bytes stored under a digest.
pub(crate) fn load_blob(conn: &Connection, db_id: i64, digest: &str) -> StoreResult<Vec<u8>> {
    conn.prepare_cached("SELECT data FROM blobs WHERE db_id = ?1 AND digest = ?2")?
        .query_row(params![db_id, digest], |row| row.get(0))
        .optional()?
        .ok_or_else(|| StoreError::Corrupt(format!("attachment bytes {digest} are missing")))
}

impl Store {
    /// An attachment of the current revision of a document, or of `rev`.
    pub async fn get_attachment(
        &self,
        db: &str,
        doc_id: &str,
        name: &str,
        rev: Option<Revision>,
    ) -> StoreResult<AttachmentBytes> {
        let (db, doc_id, name) = (db.to_owned(), doc_id.to_owned(), name.to_owned());
        self.read(move |tx| {
            let db_id = rows::db_id(tx, &db)?;
            let rev = rows::requested_or_current(tx, db_id, &doc_id, rev)?;
            let row = rows::revision(tx, db_id, &doc_id, &rev)?.ok_or_else(ApiError::missing)?;
            let meta = row.attachments.get(&name).ok_or_else(missing_attachment)?;
            let digest = meta.digest.clone().unwrap_or_default();
            Ok(AttachmentBytes {
                content_type: meta.content_type.clone(),
                data: load_blob(tx, db_id, &digest)?,
                digest,
            })
        })
        .await
    }
}
