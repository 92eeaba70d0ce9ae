//! Interactive writes (`new_edits=true`): revision checks and the write they
//! guard, inside one `BEGIN IMMEDIATE` transaction per request.

use std::collections::BTreeMap;

use rusqlite::Connection;
use serde_json::Map;
use tidesync_engine::{
    protocol::{document::revision_body, wire::AttachmentInfo},
    Revision,
};

use super::{
    attachments::store_blob,
    local, revs_limit,
    rows::{self, Current, RevisionRow},
    tree::{self, Leaf},
    Store, StoreResult,
};
use crate::{
    edit::{is_local, AttachmentEdit, Change, DocChange, Edit, Upload},
    error::ApiError,
};

/// The outcome of one edit: its new revision, or why it was refused.
pub type EditResult = Result<Revision, ApiError>;

impl Store {
    /// Applies `edits` to database `db` in one transaction, each checked
    /// against the revision it is based on. A refused edit leaves no trace and
    /// does not stop the others; a storage failure rolls back all of them.
    pub async fn apply_edits(&self, db: &str, edits: Vec<Edit>) -> StoreResult<Vec<EditResult>> {
        let name = db.to_owned();
        let (results, new_seq) = self
            .write(move |tx| {
                let db_id = rows::db_id(tx, &name)?;
                let start = rows::update_seq(tx, db_id)?;
                let mut seq = start;
                let mut results = Vec::with_capacity(edits.len());
                for edit in edits {
                    let result = if is_local(&edit.id) {
                        local::apply(tx, db_id, edit)?
                    } else {
                        apply_one(tx, db_id, &mut seq, edit)?
                    };
                    results.push(result);
                }
                if seq != start {
                    rows::set_update_seq(tx, db_id, seq)?;
                }
                Ok((results, (seq != start).then_some(seq)))
            })
            .await?;
        let refused = results.iter().filter(|r| r.is_err()).count();
        tracing::debug!(
            db,
            written = results.len() - refused,
            refused,
            ?new_seq,
            "edits applied"
        );
        if let Some(seq) = new_seq {
            self.notifier().publish(db, seq);
        }
        Ok(results)
    }
}

/// Applies one edit. The outer error aborts the transaction; the inner one
/// refuses only this edit, after checking everything before writing anything.
fn apply_one(conn: &Connection, db_id: i64, seq: &mut u64, edit: Edit) -> StoreResult<EditResult> {
    let current = rows::current(conn, db_id, &edit.id)?;
    if let Change::DeleteAttachment { name } = &edit.change {
        if let Err(refusal) = check_attachment_exists(conn, db_id, &edit, current.as_ref(), name)? {
            return Ok(Err(refusal));
        }
    }
    let leaves = tree::leaves(conn, db_id, &edit.id)?;
    let parent = match base_revision(&leaves, edit.base.as_ref()) {
        Ok(parent) => parent,
        Err(refusal) => return Ok(Err(refusal)),
    };
    let parent_row = match &parent {
        Some(rev) => rows::revision(conn, db_id, &edit.id, rev)?,
        None => None,
    };
    let generation = parent.as_ref().map_or(1, |p| p.generation() + 1);
    let (change, uploads) = match resolve(edit.change, parent_row.as_ref(), generation) {
        Ok(resolved) => resolved,
        Err(refusal) => return Ok(Err(refusal)),
    };
    let rev = Revision::next(
        parent.as_ref(),
        &revision_body(&change.body, &change.attachments),
        change.deleted,
    );
    for upload in &uploads {
        store_blob(conn, db_id, &upload.digest, &upload.data)?;
    }
    let row = RevisionRow {
        rev: rev.clone(),
        parent,
        deleted: change.deleted,
        body: change.body,
        attachments: change.attachments,
    };
    rows::insert_revision(conn, db_id, &edit.id, &row)?;
    revs_limit::prune(conn, db_id, &edit.id)?;
    *seq += 1;
    tree::settle(conn, db_id, &edit.id, *seq)?;
    Ok(Ok(rev))
}

/// CouchDB's rule for interactive edits, given the document's leaves (winner
/// first): a new document needs no revision; an existing one needs one of its
/// leaves (not only the winner: editing a conflict branch is how it is
/// resolved); a deleted document may be written without one, extending the
/// winning tombstone.
pub(crate) fn base_revision(
    leaves: &[Leaf],
    base: Option<&Revision>,
) -> Result<Option<Revision>, ApiError> {
    match (leaves.first(), base) {
        (None, None) => Ok(None),
        (Some(winner), None) if winner.deleted => Ok(Some(winner.rev.clone())),
        (Some(_), Some(base)) if leaves.iter().any(|leaf| &leaf.rev == base) => {
            Ok(Some(base.clone()))
        }
        _ => Err(ApiError::Conflict),
    }
}

/// A resolved change: everything the new revision holds except its id.
struct Resolved {
    deleted: bool,
    body: Map<String, serde_json::Value>,
    attachments: BTreeMap<String, AttachmentInfo>,
}

/// Turns a change into the complete new revision, taking kept attachments
/// (stubs) and, for attachment requests, the body from the parent revision.
fn resolve(
    change: Change,
    parent: Option<&RevisionRow>,
    generation: u64,
) -> Result<(Resolved, Vec<Upload>), ApiError> {
    let live_parent = parent.filter(|p| !p.deleted);
    match change {
        Change::Document(DocChange {
            deleted,
            body,
            attachments,
        }) => {
            let mut metas = BTreeMap::new();
            let mut uploads = Vec::new();
            for (name, att) in attachments {
                match att {
                    AttachmentEdit::Keep => {
                        let kept =
                            parent
                                .and_then(|p| p.attachments.get(&name))
                                .ok_or_else(|| {
                                    ApiError::MissingStub(format!(
                                        "Invalid attachment stub for {name}"
                                    ))
                                })?;
                        metas.insert(name, kept.clone());
                    }
                    AttachmentEdit::New(upload) => {
                        metas.insert(name, meta_for(&upload, generation));
                        uploads.push(upload);
                    }
                }
            }
            let resolved = Resolved {
                deleted,
                body,
                attachments: metas,
            };
            Ok((resolved, uploads))
        }
        Change::PutAttachment { name, upload } => {
            let (body, mut metas) = live_parent
                .map(|p| (p.body.clone(), p.attachments.clone()))
                .unwrap_or_default();
            metas.insert(name, meta_for(&upload, generation));
            let resolved = Resolved {
                deleted: false,
                body,
                attachments: metas,
            };
            Ok((resolved, vec![upload]))
        }
        Change::DeleteAttachment { name } => {
            let parent = live_parent.ok_or_else(ApiError::missing)?;
            let mut metas = parent.attachments.clone();
            if metas.remove(&name).is_none() {
                return Err(missing_attachment());
            }
            let resolved = Resolved {
                deleted: false,
                body: parent.body.clone(),
                attachments: metas,
            };
            Ok((resolved, Vec::new()))
        }
    }
}

/// Deleting an attachment first answers 404 for a missing document or
/// attachment, as CouchDB does, before any revision check.
fn check_attachment_exists(
    conn: &Connection,
    db_id: i64,
    edit: &Edit,
    current: Option<&Current>,
    name: &str,
) -> StoreResult<Result<(), ApiError>> {
    let Some(current) = current else {
        return Ok(Err(ApiError::missing()));
    };
    if current.deleted {
        return Ok(Err(ApiError::deleted()));
    }
    if edit.base.as_ref().is_some_and(|base| base != &current.rev) {
        // A stale revision: the revision check reports the conflict.
        return Ok(Ok(()));
    }
    let has = rows::revision(conn, db_id, &edit.id, &current.rev)?
        .is_some_and(|row| row.attachments.contains_key(name));
    Ok(if has {
        Ok(())
    } else {
        Err(missing_attachment())
    })
}

fn meta_for(upload: &Upload, generation: u64) -> AttachmentInfo {
    AttachmentInfo {
        content_type: upload.content_type.clone(),
        revpos: Some(generation),
        digest: Some(upload.digest.clone()),
        length: Some(upload.data.len() as u64),
        stub: false,
        data: None,
    }
}

/// CouchDB's 404 reason for an attachment name a revision does not have.
pub(crate) fn missing_attachment() -> ApiError {
    ApiError::NotFound("Document is missing attachment".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rev(text: &str) -> Revision {
        text.parse().expect("rev")
    }

    #[test]
    fn revision_rules() {
        let live = [Leaf {
            rev: rev("2-b"),
            deleted: false,
        }];
        let tomb = [Leaf {
            rev: rev("3-c"),
            deleted: true,
        }];
        let conflicted = [
            Leaf {
                rev: rev("2-b"),
                deleted: false,
            },
            Leaf {
                rev: rev("2-a"),
                deleted: false,
            },
        ];
        assert_eq!(base_revision(&[], None), Ok(None));
        assert_eq!(
            base_revision(&[], Some(&rev("1-a"))),
            Err(ApiError::Conflict)
        );
        assert_eq!(base_revision(&live, None), Err(ApiError::Conflict));
        assert_eq!(
            base_revision(&live, Some(&rev("1-a"))),
            Err(ApiError::Conflict)
        );
        assert_eq!(
            base_revision(&live, Some(&rev("2-b"))),
            Ok(Some(rev("2-b")))
        );
        assert_eq!(base_revision(&tomb, None), Ok(Some(rev("3-c"))));
        assert_eq!(
            base_revision(&tomb, Some(&rev("3-c"))),
            Ok(Some(rev("3-c")))
        );
        // Any leaf may be edited, the losing one too.
        assert_eq!(
            base_revision(&conflicted, Some(&rev("2-a"))),
            Ok(Some(rev("2-a")))
        );
    }
}
