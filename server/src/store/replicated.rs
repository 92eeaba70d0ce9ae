//! Replicated writes (`_bulk_docs` with `new_edits: false`): documents arrive
//! with the revision they already have elsewhere and are stored as is.
//!
//! The history here is a single line per document, so a replicated revision
//! that loses against the current one is kept (readable with `?rev=`) but does
//! not become a conflict branch; the winner is chosen as CouchDB chooses:
//! live before deleted, then the higher generation, then the higher hash.

use std::collections::BTreeMap;

use rusqlite::Connection;
use tidesync_engine::protocol::wire::AttachmentInfo;

use super::{
    attachments::store_blob,
    rows::{self, Current, RevisionRow},
    Store, StoreResult,
};
use crate::{
    edit::{is_local, AttachmentEdit, Change, Edit},
    error::ApiError,
};

/// A replicated document that could not be stored, and why.
pub type Refusal = (String, ApiError);

impl Store {
    /// Stores each edit's own revision (`edit.base`). Revisions already stored
    /// are skipped; the answer lists only refusals, as CouchDB does.
    pub async fn apply_replicated(&self, db: &str, edits: Vec<Edit>) -> StoreResult<Vec<Refusal>> {
        let name = db.to_owned();
        let (refusals, new_seq) = self
            .write(move |tx| {
                let db_id = rows::db_id(tx, &name)?;
                let start = rows::update_seq(tx, db_id)?;
                let mut seq = start;
                let mut refusals = Vec::new();
                for edit in edits {
                    let id = edit.id.clone();
                    let outcome = if is_local(&edit.id) {
                        let mut edit = edit;
                        edit.base = None;
                        super::local::apply(tx, db_id, edit)?.map(|_| ())
                    } else {
                        store_one(tx, db_id, &mut seq, edit)?
                    };
                    if let Err(refusal) = outcome {
                        refusals.push((id, refusal));
                    }
                }
                if seq != start {
                    rows::set_update_seq(tx, db_id, seq)?;
                }
                Ok((refusals, (seq != start).then_some(seq)))
            })
            .await?;
        tracing::debug!(
            db,
            refused = refusals.len(),
            ?new_seq,
            "replicated revisions stored"
        );
        if let Some(seq) = new_seq {
            self.notifier().publish(db, seq);
        }
        Ok(refusals)
    }
}

fn store_one(
    conn: &Connection,
    db_id: i64,
    seq: &mut u64,
    edit: Edit,
) -> StoreResult<Result<(), ApiError>> {
    let (Some(rev), Change::Document(change)) = (edit.base, edit.change) else {
        return Ok(Err(ApiError::BadRequest(
            "When `new_edits: false`, the document needs `_rev` specified".to_owned(),
        )));
    };
    if rows::has_revision(conn, db_id, &edit.id, &rev)? {
        return Ok(Ok(()));
    }
    let current = rows::current(conn, db_id, &edit.id)?;
    let current_row = match &current {
        Some(cur) => rows::revision(conn, db_id, &edit.id, &cur.rev)?,
        None => None,
    };
    let mut metas: BTreeMap<String, AttachmentInfo> = BTreeMap::new();
    let mut uploads = Vec::new();
    for (name, att) in change.attachments {
        match att {
            AttachmentEdit::Keep => {
                match current_row.as_ref().and_then(|r| r.attachments.get(&name)) {
                    Some(kept) => {
                        metas.insert(name, kept.clone());
                    }
                    None => {
                        return Ok(Err(ApiError::MissingStub(format!(
                            "Invalid attachment stub for {name}"
                        ))))
                    }
                }
            }
            AttachmentEdit::New(upload) => {
                metas.insert(
                    name,
                    AttachmentInfo {
                        content_type: upload.content_type.clone(),
                        revpos: Some(rev.generation()),
                        digest: Some(upload.digest.clone()),
                        length: Some(upload.data.len() as u64),
                        stub: false,
                        data: None,
                    },
                );
                uploads.push(upload);
            }
        }
    }
    for upload in &uploads {
        store_blob(conn, db_id, &upload.digest, &upload.data)?;
    }
    let row = RevisionRow {
        rev: rev.clone(),
        parent: None,
        deleted: change.deleted,
        body: change.body,
        attachments: metas,
    };
    rows::insert_revision(conn, db_id, &edit.id, &row)?;
    let incoming = Current {
        rev,
        deleted: row.deleted,
    };
    let winner = match current {
        Some(cur) if wins(&cur, &incoming) => cur,
        _ => incoming,
    };
    *seq += 1;
    rows::set_current(conn, db_id, &edit.id, &winner, *seq)?;
    Ok(Ok(()))
}

/// CouchDB's winning-revision order: live beats deleted, then the higher
/// generation, then the higher hash.
fn wins(a: &Current, b: &Current) -> bool {
    let key = |c: &Current| (!c.deleted, c.rev.generation(), c.rev.hash().to_owned());
    key(a) > key(b)
}

#[cfg(test)]
mod tests {
    use super::*;
    use tidesync_engine::Revision;

    fn state(rev: &str, deleted: bool) -> Current {
        Current {
            rev: rev.parse::<Revision>().expect("rev"),
            deleted,
        }
    }

    #[test]
    fn winner_order() {
        assert!(wins(&state("1-a", false), &state("5-z", true)));
        assert!(wins(&state("3-a", false), &state("2-z", false)));
        assert!(wins(&state("3-b", false), &state("3-a", false)));
        assert!(!wins(&state("3-a", false), &state("3-b", false)));
    }
}
