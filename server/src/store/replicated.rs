//! Replicated writes (`_bulk_docs` with `new_edits: false`): documents arrive
//! with the revision they already have elsewhere, and its history in
//! `_revisions`, and are grafted into the revision tree as they are.
//!
//! The history joins the tree at the newest revision the tree already holds;
//! above it, the ancestors this server never saw are recorded by id alone and
//! the new revision becomes a leaf. A history that joins nowhere starts a new
//! branch. Either way concurrent branches are all kept, and the winner is
//! chosen by CouchDB's rule ([`tree::winner_first`]).

use std::collections::BTreeMap;

use rusqlite::Connection;
use tidesync_engine::protocol::wire::AttachmentInfo;

use tidesync_engine::Revision;

use super::{
    attachments::store_blob,
    revs_limit,
    rows::{self, RevisionRow},
    tree, Store, StoreResult,
};
use crate::{
    edit::{is_local, AttachmentEdit, Change, Edit, Upload},
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
    let path = match (edit.revisions, edit.base) {
        (Some(path), _) if !path.is_empty() => path,
        (_, Some(rev)) => vec![rev],
        _ => return Ok(Err(needs_rev())),
    };
    let Change::Document(change) = edit.change else {
        return Ok(Err(needs_rev()));
    };
    let fresh = tree::new_in_path(&path, |rev| rows::has_revision(conn, db_id, &edit.id, rev))?;
    if fresh == 0 {
        // Already in the tree: replication is idempotent.
        return Ok(Ok(()));
    }
    let rev = path[0].clone();
    let metas = match attachment_metas(
        conn,
        db_id,
        &edit.id,
        &path[fresh..],
        &rev,
        change.attachments,
    )? {
        Ok(resolved) => resolved,
        Err(refusal) => return Ok(Err(refusal)),
    };
    let (metas, uploads) = metas;
    for upload in &uploads {
        store_blob(conn, db_id, &upload.digest, &upload.data)?;
    }
    // Ancestors this server never had are recorded by id, oldest first, so
    // each one's parent is in place before it.
    for index in (1..fresh).rev() {
        rows::insert_stub(conn, db_id, &edit.id, &path[index], path.get(index + 1))?;
    }
    let row = RevisionRow {
        rev,
        parent: path.get(1).cloned(),
        deleted: change.deleted,
        body: change.body,
        attachments: metas,
    };
    rows::insert_revision(conn, db_id, &edit.id, &row)?;
    revs_limit::prune(conn, db_id, &edit.id)?;
    *seq += 1;
    tree::settle(conn, db_id, &edit.id, *seq)?;
    Ok(Ok(()))
}

fn needs_rev() -> ApiError {
    ApiError::BadRequest("When `new_edits: false`, the document needs `_rev` specified".to_owned())
}

type Metas = (BTreeMap<String, AttachmentInfo>, Vec<Upload>);

/// Attachment metadata of a grafted revision: new bytes as given, and stubs
/// taken from the nearest ancestor this server has the body of (`known`, the
/// part of the history already in the tree), or else from the winner.
fn attachment_metas(
    conn: &Connection,
    db_id: i64,
    doc_id: &str,
    known: &[Revision],
    rev: &Revision,
    attachments: BTreeMap<String, AttachmentEdit>,
) -> StoreResult<Result<Metas, ApiError>> {
    let mut metas = BTreeMap::new();
    let mut uploads = Vec::new();
    let mut sources: Option<Vec<RevisionRow>> = None;
    for (name, att) in attachments {
        match att {
            AttachmentEdit::Keep => {
                if sources.is_none() {
                    let mut rows_found = Vec::new();
                    for ancestor in known {
                        if let Some(row) = rows::revision(conn, db_id, doc_id, ancestor)? {
                            rows_found.push(row);
                        }
                    }
                    if let Some(current) = rows::current(conn, db_id, doc_id)? {
                        if let Some(row) = rows::revision(conn, db_id, doc_id, &current.rev)? {
                            rows_found.push(row);
                        }
                    }
                    sources = Some(rows_found);
                }
                let kept = sources
                    .iter()
                    .flatten()
                    .find_map(|row| row.attachments.get(&name));
                match kept {
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
    Ok(Ok((metas, uploads)))
}
