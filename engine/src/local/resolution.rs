//! Plans that end a conflict or drop local changes: the app's resolution, an
//! automatic one, and a discard, each as one atomic [`WriteBatch`].

use super::{outcome_of, record_local_change, WriteContext, WriteOutcome};
use crate::{
    attachments,
    error::EngineError,
    event::{Event, Origin},
    merge::Resolution,
    model::{Attachments, Body, ConflictRecord, DocRecord, DocStatus},
    outbox::MessageOp,
    protocol::revision::Revision,
    store::{Snapshot, WriteBatch},
};

/// Plans the resolution of a conflict with `body` (`None` resolves to a
/// deletion): a new change based on the remote revision.
pub fn plan_resolve(
    snapshot: &Snapshot,
    id: &str,
    body: Option<Body>,
    ctx: &WriteContext,
) -> Result<(WriteBatch, WriteOutcome, Vec<Event>), EngineError> {
    let (Some(doc), Some(conflict)) = (snapshot.docs.get(id), snapshot.conflicts.get(id)) else {
        return Err(EngineError::NotConflicted(id.to_owned()));
    };
    let (batch, outcome) = plan_resolution(snapshot, doc, conflict, body, ctx);
    let events = vec![Event::change(id, Origin::Local, &batch)];
    Ok((batch, outcome, events))
}

/// Plans writing `body` (stamped) as the resolution of `conflict`, recorded or
/// only just found: the document moves to the remote revision with the server's
/// body as its base, and a new queued change based on that revision replaces
/// any message it had, so the resolution syncs like any write.
pub fn plan_resolution(
    snapshot: &Snapshot,
    doc: &DocRecord,
    conflict: &ConflictRecord,
    body: Option<Body>,
    ctx: &WriteContext,
) -> (WriteBatch, WriteOutcome) {
    let mut batch = WriteBatch::default();
    let deleted = body.is_none();
    let mut local = body.unwrap_or_default();
    if !deleted {
        ctx.stamp.apply(&mut local, ctx.now);
    }
    let local_attachments = (!deleted)
        .then(|| resolved_attachments(doc, conflict))
        .flatten();
    let mut doc = DocRecord {
        rev: conflict.remote_rev.clone(),
        base: conflict.remote.clone(),
        attachments: conflict.remote_attachments.clone(),
        local_attachments,
        local,
        status: DocStatus::Pending,
        deleted,
        updated_at: ctx.now,
        ..doc.clone()
    };
    end_local_changes(&mut batch, snapshot, &doc.id);
    let resolved_snapshot = Snapshot {
        next_seq: snapshot.next_seq,
        ..Snapshot::default()
    };
    let op = if deleted {
        MessageOp::Delete
    } else {
        MessageOp::Put
    };
    let version = record_local_change(&resolved_snapshot, &mut batch, &mut doc, op, ctx);
    // A conflict between server branches ends with the losing leaf deleted,
    // in the same push as the resolution.
    for message in &mut batch.put_messages {
        if message.doc_id == doc.id {
            message.drop_leaves.clone_from(&conflict.losing_revs);
        }
    }
    let outcome = outcome_of(&doc, version);
    batch.put_docs.push(doc);
    (batch, outcome)
}

/// Plans an automatic resolution of `conflict`. A resolution that is the
/// server's version unchanged needs no write: the document simply takes it
/// (`queued` is false in the outcome). Any other is written as by
/// [`plan_resolution`]. The events say it was resolved and that the document
/// changed (as a remote change: the app did not make it).
pub fn plan_auto_resolution(
    snapshot: &Snapshot,
    doc: &DocRecord,
    conflict: &ConflictRecord,
    resolution: &Resolution,
    ctx: &WriteContext,
) -> (WriteBatch, WriteOutcome, Vec<Event>) {
    // Keeping the server's winner still needs a push when the conflict is
    // between server branches: the losing leaf must be deleted.
    let server_side = resolution.body == conflict.remote
        && conflict.losing_revs.is_empty()
        && (resolution.body.is_none() || resolved_attachments(doc, conflict).is_none());
    let (batch, outcome) = if server_side {
        let mut batch = WriteBatch::default();
        end_local_changes(&mut batch, snapshot, &doc.id);
        let server = ServerSide {
            rev: conflict.remote_rev.clone(),
            body: conflict.remote.clone(),
            attachments: conflict.remote_attachments.clone(),
        };
        let (outcome, _) = take_server_side(&mut batch, &doc.id, server, ctx.now);
        (batch, outcome)
    } else {
        plan_resolution(snapshot, doc, conflict, resolution.body.clone(), ctx)
    };
    let events = vec![
        Event::Resolved {
            id: doc.id.clone(),
            strategy: resolution.strategy.clone(),
            clashes: resolution.clashes.clone(),
        },
        Event::change(&doc.id, Origin::Remote, &batch),
    ];
    (batch, outcome, events)
}

/// Plans dropping local changes: a conflicted document takes the server's side,
/// a pending one returns to its last synced body (or is forgotten if it never
/// reached the server). Parked messages go with them. A conflict between
/// server branches has no local change to drop: keeping the server's winner
/// is its resolution (the losing leaf is deleted), so `ctx` writes it.
pub fn plan_discard_local(
    snapshot: &Snapshot,
    id: &str,
    ctx: &WriteContext,
) -> Result<(WriteBatch, WriteOutcome, Vec<Event>), EngineError> {
    let Some(doc) = snapshot.docs.get(id) else {
        return Err(EngineError::NotFound(id.to_owned()));
    };
    if let Some(conflict) = snapshot
        .conflicts
        .get(id)
        .filter(|c| !c.losing_revs.is_empty())
    {
        return plan_resolve(snapshot, id, conflict.remote.clone(), ctx);
    }
    let now = ctx.now;
    let mut batch = WriteBatch::default();
    batch.delete_messages.extend(
        snapshot
            .messages_of(id)
            .iter()
            .map(|m| (m.doc_id.clone(), m.seq)),
    );
    let server = match snapshot.conflicts.get(id) {
        Some(conflict) => {
            batch.delete_conflicts.push(id.to_owned());
            ServerSide {
                rev: conflict.remote_rev.clone(),
                body: conflict.remote.clone(),
                attachments: conflict.remote_attachments.clone(),
            }
        }
        None => ServerSide {
            rev: doc.rev.clone(),
            body: doc.base.clone(),
            attachments: doc.attachments.clone(),
        },
    };
    let (outcome, _) = take_server_side(&mut batch, id, server, now);
    let events = vec![Event::change(id, Origin::Local, &batch)];
    Ok((batch, outcome, events))
}

/// A server revision of a document, as a conflict or a synced record knows it.
struct ServerSide {
    /// The revision (`None`: the server never had the document).
    rev: Option<Revision>,
    /// Its body (`None`: a tombstone).
    body: Option<Body>,
    /// Its attachment stubs.
    attachments: Option<Attachments>,
}

/// Makes the document the server's side, synced; a document the server never
/// had is forgotten. Returns the outcome and whether the document is now
/// deleted.
fn take_server_side(
    batch: &mut WriteBatch,
    id: &str,
    server: ServerSide,
    now: f64,
) -> (WriteOutcome, bool) {
    let ServerSide {
        rev,
        body: base,
        attachments,
    } = server;
    let outcome = WriteOutcome {
        id: id.to_owned(),
        rev: rev.as_ref().map(ToString::to_string),
        status: DocStatus::Synced,
        queued: false,
        version: 0,
    };
    if rev.is_none() {
        batch.delete_docs.push(id.to_owned());
        return (outcome, true);
    }
    let deleted = base.is_none();
    batch.put_docs.push(DocRecord {
        id: id.to_owned(),
        rev,
        local: base.clone().unwrap_or_default(),
        base,
        status: DocStatus::Synced,
        deleted,
        updated_at: now,
        attachments,
        local_rev: None,
        local_attachments: None,
    });
    (outcome, deleted)
}

/// The attachments a resolution of `conflict` keeps: the three-way merge of
/// the server's at the base, the local side's and the remote side's, so an
/// attachment added on either side survives (a local deletion of the whole
/// document keeps the remote side's). `None` when that is the remote set.
fn resolved_attachments(doc: &DocRecord, conflict: &ConflictRecord) -> Option<Attachments> {
    let remote = conflict.remote_attachments.as_ref();
    let local = if doc.deleted {
        remote
    } else {
        doc.current_attachments()
    };
    let merged = attachments::merge(doc.attachments.as_ref(), local, remote);
    let unchanged = attachments::same_digests(Some(&merged), remote);
    (!unchanged).then_some(merged)
}

/// Drops the document's conflict and every message it has: what a
/// resolution, or a return to the server's side, puts an end to.
fn end_local_changes(batch: &mut WriteBatch, snapshot: &Snapshot, id: &str) {
    batch.delete_conflicts.push(id.to_owned());
    batch.delete_messages.extend(
        snapshot
            .messages_of(id)
            .iter()
            .map(|m| (m.doc_id.clone(), m.seq)),
    );
}
