//! Local writes: validation and the pure plans that turn a put, a delete, a
//! resolution or a discard into one atomic [`WriteBatch`], and the write
//! stamps (`editor`, `updatedAt`) that conflict strategies read.

use serde_json::{json, Value};

pub use crate::merge::stamp::Stamp;
pub use attachments::{plan_put_attachment, plan_remove_attachment};
pub use resolution::{plan_auto_resolution, plan_discard_local, plan_resolution, plan_resolve};

mod attachments;
mod resolution;

use crate::{
    error::EngineError,
    event::{Event, Origin},
    model::{Body, ConflictRecord, DocRecord, DocStatus},
    outbox::{MessageOp, MessageState, OutboxMessage},
    protocol::{ids::validate_doc_id, revision::Revision},
    store::{Snapshot, WriteBatch, META_OUTBOX_SEQ},
};

/// What a local write reports back to the app.
#[derive(Debug, Clone, PartialEq)]
pub struct WriteOutcome {
    /// The document id.
    pub id: String,
    /// The document's `_rev` after the write (see [`DocRecord::visible_rev`]):
    /// what a later `put` names to be based on this version.
    pub rev: Option<String>,
    /// The document's status after the write.
    pub status: DocStatus,
    /// True when the write left a change waiting to be pushed.
    pub queued: bool,
    /// The version of the outbox message holding this write (0 when nothing
    /// was queued): its `synced` promise settles with that version.
    pub version: u64,
}

/// The inputs a local write needs from outside the engine.
#[derive(Debug, Clone, PartialEq)]
pub struct WriteContext {
    /// Milliseconds since the epoch.
    pub now: f64,
    /// A fresh unique id for a new outbox message.
    pub message_id: String,
    /// The largest serialised document accepted, in bytes.
    pub max_document_bytes: usize,
    /// What to stamp into the bodies written.
    pub stamp: Stamp,
}

/// A document the app passed, split into what the engine keeps apart.
#[derive(Debug, Clone, PartialEq)]
pub struct Incoming {
    /// Its id (`_id`, or a fresh one).
    pub id: String,
    /// Its members without `_id` and `_rev`.
    pub body: Body,
    /// The `_rev` it names: the version the write is based on.
    pub rev: Option<Revision>,
}

/// Splits a document the app passed into its id, body and `_rev`, refusing
/// what cannot be synced: non-objects, bad ids, a `_rev` that is not a
/// revision, unknown `_` members, oversize bodies.
pub fn validate_document(
    value: Value,
    fallback_id: impl FnOnce() -> String,
    max_document_bytes: usize,
) -> Result<Incoming, EngineError> {
    let Value::Object(mut map) = value else {
        return Err(EngineError::InvalidDocument(
            "a document must be a plain object".into(),
        ));
    };
    let id = match map.remove("_id") {
        None => fallback_id(),
        Some(Value::String(id)) => id,
        Some(other) => {
            return Err(EngineError::InvalidId(format!(
                "_id must be a string, not {other}"
            )));
        }
    };
    validate_id(&id)?;
    let rev = match map.remove("_rev") {
        None | Some(Value::Null) => None,
        Some(Value::String(text)) => Some(parse_rev(&text, &id)?),
        Some(other) => {
            return Err(EngineError::InvalidRev(format!(
                "_rev of {id} must be a string, not {other}"
            )));
        }
    };
    if let Some(key) = map.keys().find(|k| k.starts_with('_')) {
        return Err(EngineError::InvalidDocument(format!(
            "member {key} is reserved: names starting with _ are not allowed"
        )));
    }
    let size = serde_json::to_vec(&map).map_or(usize::MAX, |bytes| bytes.len());
    if size > max_document_bytes {
        return Err(EngineError::DocumentTooLarge {
            id,
            size,
            limit: max_document_bytes,
        });
    }
    Ok(Incoming { id, body: map, rev })
}

/// Reads the `_rev` an app named for `id`.
pub fn parse_rev(text: &str, id: &str) -> Result<Revision, EngineError> {
    text.parse::<Revision>().map_err(|_| {
        EngineError::InvalidRev(format!("{text:?} of {id} is not a revision (N-hash)"))
    })
}

/// Optimistic concurrency: refuses a `put` of `id` that is not based on the
/// version stored (`doc`). A named `_rev` must be the current one (see
/// [`DocRecord::accepts_rev`]), and names nothing for a document that does
/// not exist. Naming none creates a document, recreates a deleted one, and
/// replaces a live one only when the client writes last-writer-wins (or when
/// it has no `_rev` to name: a record of an older release, never pushed).
pub fn check_rev(
    doc: Option<&DocRecord>,
    id: &str,
    rev: Option<&Revision>,
    last_write_wins: bool,
) -> Result<(), EngineError> {
    let accepted = match (doc, rev) {
        (Some(doc), Some(rev)) => doc.accepts_rev(rev),
        (None, Some(_)) => false,
        // A record written before local revisions, never pushed, shows no
        // `_rev` to name: it is updated as one that names none.
        (Some(doc), None) => doc.deleted || last_write_wins || doc.visible_rev().is_none(),
        (None, None) => true,
    };
    if accepted {
        return Ok(());
    }
    Err(EngineError::Conflict {
        id: id.to_owned(),
        rev: rev.map(ToString::to_string),
        current: doc
            .and_then(DocRecord::visible_rev)
            .map(ToString::to_string),
    })
}

/// Checks an id the app passed to `get`, `delete` or `resolve`.
pub fn validate_id(id: &str) -> Result<(), EngineError> {
    if id.starts_with("_design/") || id.starts_with("_local/") {
        return Err(EngineError::InvalidId(format!(
            "{id}: ids starting with _ are reserved"
        )));
    }
    validate_doc_id(id).map_err(|e| EngineError::InvalidId(format!("{id:?}: {e}")))
}

/// Queues `op` for the document: coalesces into its queued (or parked) message
/// when there is one, or appends a new message behind an in-flight one. Either
/// way the message gets a fresh version from the outbox counter, which is
/// returned.
fn queue_change(
    snapshot: &Snapshot,
    batch: &mut WriteBatch,
    doc: &DocRecord,
    op: MessageOp,
    ctx: &WriteContext,
) -> u64 {
    let body = (op == MessageOp::Put).then(|| doc.local.clone());
    // Above every version the document's messages had, whichever tab (and
    // clock) made them, so a later edit always settles after an earlier one.
    let newest = snapshot.messages_of(&doc.id).iter().map(|m| m.version + 1);
    let version = newest.fold(snapshot.next_seq, u64::max);
    batch
        .meta
        .push((META_OUTBOX_SEQ.into(), json!(version + 1)));
    let existing = snapshot
        .messages_of(&doc.id)
        .iter()
        .rev()
        .find(|m| m.state != MessageState::InFlight);
    let message = match existing {
        Some(m) => OutboxMessage {
            op,
            body,
            version,
            state: MessageState::Queued,
            attempts: 0,
            last_error: None,
            attachments: doc.local_attachments.clone(),
            ..m.clone()
        },
        None => OutboxMessage {
            seq: version,
            version,
            id: ctx.message_id.clone(),
            doc_id: doc.id.clone(),
            op,
            base_rev: doc.rev.clone(),
            body,
            created_at: ctx.now,
            attempts: 0,
            last_error: None,
            state: MessageState::Queued,
            sent: None,
            // The attachments added here travel with the message, so that a
            // push counts their bytes when it fills a request (the claim
            // takes the document's set again).
            attachments: doc.local_attachments.clone(),
            drop_leaves: Vec::new(),
        },
    };
    batch.put_messages.push(message);
    version
}

/// Plans a put of `body` under `id`, stamped as `ctx` says.
pub fn plan_put(
    snapshot: &Snapshot,
    id: &str,
    mut body: Body,
    ctx: &WriteContext,
) -> (WriteBatch, WriteOutcome, Vec<Event>) {
    ctx.stamp.apply(&mut body, ctx.now);
    let mut batch = WriteBatch::default();
    let mut doc = snapshot.docs.get(id).cloned().unwrap_or_else(|| DocRecord {
        id: id.to_owned(),
        rev: None,
        base: None,
        local: Body::new(),
        status: DocStatus::Pending,
        deleted: false,
        updated_at: ctx.now,
        attachments: None,
        local_rev: None,
        local_attachments: None,
    });
    doc.local = body;
    doc.deleted = false;
    doc.updated_at = ctx.now;
    let version = record_local_change(snapshot, &mut batch, &mut doc, MessageOp::Put, ctx);
    let outcome = outcome_of(&doc, version);
    batch.put_docs.push(doc);
    let events = vec![Event::change(id, Origin::Local, &batch)];
    (batch, outcome, events)
}

/// Plans a delete of `id`; a document never pushed is simply forgotten.
pub fn plan_delete(
    snapshot: &Snapshot,
    id: &str,
    ctx: &WriteContext,
) -> Result<(WriteBatch, WriteOutcome, Vec<Event>), EngineError> {
    let mut doc = match snapshot.docs.get(id) {
        Some(doc) if !doc.deleted => doc.clone(),
        _ => return Err(EngineError::NotFound(id.to_owned())),
    };
    let mut batch = WriteBatch::default();
    let events = vec![Event::Change {
        id: id.to_owned(),
        origin: Origin::Local,
        deleted: true,
        doc: None,
    }];
    let messages = snapshot.messages_of(id);
    let never_sent = doc.rev.is_none()
        && doc.status == DocStatus::Pending
        && messages.iter().all(|m| m.state != MessageState::InFlight);
    if never_sent {
        batch.delete_docs.push(id.to_owned());
        batch
            .delete_messages
            .extend(messages.iter().map(|m| (m.doc_id.clone(), m.seq)));
        let outcome = WriteOutcome {
            id: id.to_owned(),
            rev: None,
            status: DocStatus::Synced,
            queued: false,
            version: 0,
        };
        return Ok((batch, outcome, events));
    }
    doc.local = Body::new();
    doc.deleted = true;
    doc.local_attachments = None;
    doc.updated_at = ctx.now;
    let version = record_local_change(snapshot, &mut batch, &mut doc, MessageOp::Delete, ctx);
    let outcome = outcome_of(&doc, version);
    batch.put_docs.push(doc);
    Ok((batch, outcome, events))
}

/// A conflicted document keeps its conflict and records the new local side;
/// any other document becomes pending with a queued message. Returns the
/// version queued, or `None` when nothing was.
fn record_local_change(
    snapshot: &Snapshot,
    batch: &mut WriteBatch,
    doc: &mut DocRecord,
    op: MessageOp,
    ctx: &WriteContext,
) -> Option<u64> {
    doc.stamp_local_rev();
    if doc.status == DocStatus::Conflicted {
        if let Some(conflict) = snapshot.conflicts.get(&doc.id) {
            let local = (!doc.deleted).then(|| doc.local.clone());
            batch.put_conflicts.push(ConflictRecord {
                local,
                local_attachments: doc.current_attachments().cloned(),
                ..conflict.clone()
            });
            return None;
        }
    }
    doc.status = DocStatus::Pending;
    Some(queue_change(snapshot, batch, doc, op, ctx))
}

fn outcome_of(doc: &DocRecord, version: Option<u64>) -> WriteOutcome {
    WriteOutcome {
        id: doc.id.clone(),
        rev: doc.visible_rev().map(ToString::to_string),
        status: doc.status,
        queued: version.is_some(),
        version: version.unwrap_or(0),
    }
}
