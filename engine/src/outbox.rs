//! The outbox: durable change messages waiting to be pushed.
//!
//! Messages are plain serialisable data, so a session of offline edits can be
//! replayed after a reload. Each document has at most one queued message: a new
//! edit coalesces into it, so stacked offline edits become one push.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::{
    model::{Attachments, Body},
    protocol::revision::Revision,
};

/// What a message asks the server to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
#[cfg_attr(feature = "typescript", ts(rename = "OutboxOp"))]
#[serde(rename_all = "lowercase")]
pub enum MessageOp {
    /// Write the body.
    Put,
    /// Write a tombstone.
    Delete,
}

/// Where a message is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum MessageState {
    /// Waiting to be pushed; later edits coalesce into it.
    Queued,
    /// Sent, awaiting the server's answer; later edits queue behind it.
    InFlight,
    /// Refused by the server for good; parked with its error until the app
    /// retries or discards it.
    Rejected,
}

/// A copy of what an earlier attempt pushed when its answer never came (a
/// lost response, a closed tab). The server may hold it already, so when a
/// later push of the message (edited since) meets a conflict, this copy is
/// what tells "our own earlier write" from another client's (invariant 4).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SentCopy {
    /// The version of the message that was pushed.
    pub version: u64,
    /// The revision that push was based on.
    pub base_rev: Option<Revision>,
    /// Put or delete.
    pub op: MessageOp,
    /// The body that was pushed (`None` for a delete).
    pub body: Option<Body>,
    /// The attachments that were pushed (metadata only), so that a landing
    /// found later is recognised only if they landed too.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attachments: Option<crate::model::Attachments>,
}

/// One change message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutboxMessage {
    /// Position in the queue; increasing. Stays the same when later edits
    /// coalesce into the message, so the queue keeps its order.
    pub seq: u64,
    /// Which edit the message holds: drawn from the same counter as `seq` and
    /// renewed by every edit that coalesces into it. A push acknowledgement
    /// settles the message only when the version it pushed is still the one
    /// stored (invariant 3), and a write's `synced` promise waits for the
    /// settlement of its own version. Records written before versions existed
    /// read as 0.
    #[serde(default)]
    pub version: u64,
    /// A unique id for the message.
    pub id: String,
    /// The document it changes.
    pub doc_id: String,
    /// Put or delete.
    pub op: MessageOp,
    /// The server revision the change is based on (`None` for a creation).
    pub base_rev: Option<Revision>,
    /// The body to write (`None` for a delete).
    pub body: Option<Body>,
    /// Milliseconds since the epoch when the first coalesced edit was made.
    pub created_at: f64,
    /// How many times a push was attempted.
    pub attempts: u32,
    /// The last error a push met.
    pub last_error: Option<String>,
    /// Queued, in flight or rejected.
    pub state: MessageState,
    /// What an earlier, unanswered attempt pushed, if one may have landed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sent: Option<SentCopy>,
    /// The attachment stubs of the revision the push is based on, taken from
    /// the document when the message is claimed for a push, and sent with the
    /// body so that the server keeps those attachments.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attachments: Option<Attachments>,
    /// Losing leaves of the document on the server that this change, the
    /// resolution of a conflict between server branches, deletes: they go
    /// in the same `_bulk_docs` request, so the tree converges with it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub drop_leaves: Vec<Revision>,
}

impl OutboxMessage {
    /// The copy of this message to keep once a push of it went unanswered.
    pub fn sent_copy(&self) -> SentCopy {
        SentCopy {
            version: self.version,
            base_rev: self.base_rev.clone(),
            op: self.op,
            body: self.body.clone(),
            attachments: self.attachments.clone(),
        }
    }

    /// The JSON document `_bulk_docs` expects for this message, its local
    /// attachments as stubs (see [`to_wire_with`](Self::to_wire_with)).
    pub fn to_wire(&self) -> serde_json::Value {
        self.to_wire_with(&HashMap::new())
    }

    /// The JSON document `_bulk_docs` expects for this message, with the
    /// bytes of its local attachments inline (base64) from `bytes`.
    pub fn to_wire_with(&self, bytes: &HashMap<String, Vec<u8>>) -> serde_json::Value {
        let mut map = self.body.clone().unwrap_or_default();
        map.insert("_id".into(), self.doc_id.clone().into());
        if let Some(rev) = &self.base_rev {
            map.insert("_rev".into(), rev.to_string().into());
        }
        match (self.op, &self.attachments) {
            (MessageOp::Delete, _) => {
                map.insert("_deleted".into(), true.into());
            }
            (MessageOp::Put, Some(set)) => {
                map.insert(
                    "_attachments".into(),
                    crate::attachments::to_wire(set, bytes),
                );
            }
            (MessageOp::Put, None) => {}
        }
        serde_json::Value::Object(map)
    }

    /// The size of the message on the wire, for batching by bytes.
    pub fn wire_len(&self) -> usize {
        // The body plus the few special members `to_wire` adds, without
        // building the document.
        let body = self
            .body
            .as_ref()
            .and_then(|b| serde_json::to_vec(b).ok())
            .map_or(2, |v| v.len());
        let attachments = self
            .attachments
            .as_ref()
            .map_or(0, crate::attachments::wire_len);
        body + attachments + self.doc_id.len() + 64
    }
}

/// Re-queues the rejected messages of a document so the next cycle retries them
/// (after the app fixed what the server refused, e.g. its permissions).
/// Returns the writes and how many messages were re-queued.
pub fn plan_retry_rejected(
    snapshot: &crate::store::Snapshot,
    doc_id: &str,
) -> (crate::store::WriteBatch, u32) {
    let mut batch = crate::store::WriteBatch::default();
    for message in snapshot
        .messages_of(doc_id)
        .iter()
        .filter(|m| m.state == MessageState::Rejected)
    {
        batch.put_messages.push(OutboxMessage {
            state: MessageState::Queued,
            attempts: 0,
            last_error: None,
            ..message.clone()
        });
    }
    let count = u32::try_from(batch.put_messages.len()).unwrap_or(u32::MAX);
    (batch, count)
}
