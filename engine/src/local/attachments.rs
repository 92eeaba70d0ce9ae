//! Local attachment writes: adding (or replacing) and removing one
//! attachment of a document, each a change of the document's local version
//! queued like any write, in one [`WriteBatch`]. The bytes are already in
//! the store under their digest (stored first: bytes no record names are
//! only garbage, a record naming missing bytes would be a loss).

use super::{check_rev, outcome_of, record_local_change, WriteContext, WriteOutcome};
use crate::{
    attachments::{self, AttachmentMeta},
    error::EngineError,
    event::{Event, Origin},
    model::{Attachments, Body, DocRecord, DocStatus},
    outbox::MessageOp,
    protocol::revision::Revision,
    store::{Snapshot, WriteBatch},
};

/// Plans putting `meta` as attachment `name` of `id`. A missing or deleted
/// document is created with an empty body, as PouchDB's `putAttachment`
/// does. With `rev`, the write must be based on the current version;
/// without, it changes whatever version is current (it replaces only this
/// attachment, never the body).
pub fn plan_put_attachment(
    snapshot: &Snapshot,
    id: &str,
    name: &str,
    meta: &AttachmentMeta,
    rev: Option<&Revision>,
    ctx: &WriteContext,
) -> Result<(WriteBatch, WriteOutcome, Vec<Event>), EngineError> {
    let stored = snapshot.docs.get(id);
    if rev.is_some() {
        check_rev(stored, id, rev, true)?;
    }
    let mut doc = match stored {
        Some(doc) if !doc.deleted => doc.clone(),
        _ => {
            let mut body = Body::new();
            ctx.stamp.apply(&mut body, ctx.now);
            DocRecord {
                id: id.to_owned(),
                rev: stored.and_then(|d| d.rev.clone()),
                base: stored.and_then(|d| d.base.clone()),
                local: body,
                status: stored.map_or(DocStatus::Pending, |d| d.status),
                deleted: false,
                updated_at: ctx.now,
                attachments: stored.and_then(|d| d.attachments.clone()),
                local_rev: None,
                local_attachments: Some(Attachments::new()),
            }
        }
    };
    let mut set = doc.current_attachments().cloned().unwrap_or_default();
    let same_bytes = set
        .get(name)
        .is_some_and(|entry| attachments::digest(entry) == Some(meta.digest.as_str()));
    if !same_bytes {
        set.insert(name.to_owned(), meta.local_entry());
    }
    Ok(write_set(snapshot, doc_with(&mut doc, set), ctx))
}

/// Plans removing attachment `name` of `id`: `not_found` when the current
/// version has no such attachment.
pub fn plan_remove_attachment(
    snapshot: &Snapshot,
    id: &str,
    name: &str,
    rev: Option<&Revision>,
    ctx: &WriteContext,
) -> Result<(WriteBatch, WriteOutcome, Vec<Event>), EngineError> {
    let stored = snapshot.docs.get(id).filter(|doc| !doc.deleted);
    let Some(mut doc) = stored.cloned() else {
        return Err(EngineError::NotFound(id.to_owned()));
    };
    if rev.is_some() {
        check_rev(Some(&doc), id, rev, true)?;
    }
    let mut set = doc.current_attachments().cloned().unwrap_or_default();
    if set.remove(name).is_none() {
        return Err(EngineError::NotFound(format!("{id}/{name}")));
    }
    Ok(write_set(snapshot, doc_with(&mut doc, set), ctx))
}

/// Makes `set` the local version's attachments (or none of its own when it
/// is the server's set again).
fn doc_with(doc: &mut DocRecord, set: Attachments) -> &mut DocRecord {
    let server = doc.attachments.as_ref();
    let is_server_set = attachments::same_digests(Some(&set), server)
        && set.values().all(|entry| !attachments::is_local(entry));
    doc.local_attachments = (!is_server_set).then_some(set);
    doc
}

fn write_set(
    snapshot: &Snapshot,
    doc: &mut DocRecord,
    ctx: &WriteContext,
) -> (WriteBatch, WriteOutcome, Vec<Event>) {
    let mut batch = WriteBatch::default();
    doc.updated_at = ctx.now;
    let version = record_local_change(snapshot, &mut batch, doc, MessageOp::Put, ctx);
    let outcome = outcome_of(doc, version);
    batch.put_docs.push(doc.clone());
    let events = vec![Event::change(&doc.id, Origin::Local, &batch)];
    (batch, outcome, events)
}
