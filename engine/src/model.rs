//! The local model of a document: what the client knows of it and how it stands
//! against the server.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::protocol::revision::Revision;

/// A JSON object body: the user's members, without `_id`, `_rev` and friends.
pub type Body = Map<String, Value>;

/// How a local document stands against the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
#[serde(rename_all = "lowercase")]
pub enum DocStatus {
    /// The local body is the server's body at `rev`.
    Synced,
    /// Local edits wait in the outbox (or were parked as rejected).
    Pending,
    /// The server moved on while local edits existed; the app must decide.
    Conflicted,
}

impl DocStatus {
    /// The name used in JavaScript and in IndexedDB indexes.
    pub fn as_str(self) -> &'static str {
        match self {
            DocStatus::Synced => "synced",
            DocStatus::Pending => "pending",
            DocStatus::Conflicted => "conflicted",
        }
    }
}

/// One document as stored locally.
///
/// `base` is the server body at `rev`; keeping it is what makes a three-way merge
/// of `base`, `local` and the remote body possible when a conflict arrives.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DocRecord {
    /// The document id.
    pub id: String,
    /// The last server revision seen; `None` until the first push lands.
    pub rev: Option<Revision>,
    /// The server body at `rev` (`None` when unknown or a server tombstone).
    pub base: Option<Body>,
    /// The current local body (empty for a local tombstone).
    pub local: Body,
    /// Where the document stands.
    pub status: DocStatus,
    /// A tombstone: deleted locally or on the server.
    pub deleted: bool,
    /// Milliseconds since the epoch of the last local or remote change.
    pub updated_at: f64,
    /// The `_attachments` stubs of the server revision `rev` (`None`: it has
    /// none). A push sends them back with the local body, so editing a
    /// document never deletes attachments on the server.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attachments: Option<Attachments>,
    /// The revision of the last local write (`None` when the document was
    /// last written by a pull). It names the local version the app sees
    /// while the write waits to be pushed, so that a `put` naming an older
    /// `_rev` is refused (optimistic concurrency); it stays accepted after
    /// the push lands, as long as no other change came since, because the
    /// server may name the same version differently.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub local_rev: Option<Revision>,
    /// The attachments of the local version when local writes changed them
    /// (`None`: the same as the server's, [`attachments`](Self::attachments)).
    /// Entries added locally carry no `stub` (see [`crate::attachments`]):
    /// their bytes are in the local store until a push carries them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub local_attachments: Option<Attachments>,
}

impl DocRecord {
    /// The `_rev` the app sees: the last local write's revision while a
    /// local change is unsynced (pending or conflicted), else the server's.
    pub fn visible_rev(&self) -> Option<&Revision> {
        match (self.status, &self.local_rev) {
            (DocStatus::Synced, _) | (_, None) => self.rev.as_ref(),
            (_, Some(local)) => Some(local),
        }
    }

    /// True when a write naming `rev` was based on the current version: the
    /// `_rev` the app sees, or the last local write's while nothing came
    /// after it (its push may have landed under another name).
    pub fn accepts_rev(&self, rev: &Revision) -> bool {
        self.visible_rev() == Some(rev) || self.local_rev.as_ref() == Some(rev)
    }

    /// Names the document's new local version: to call on every local
    /// write, once its body, deletion and base revision are set.
    pub fn stamp_local_rev(&mut self) {
        let local = match &self.local_attachments {
            // An attachment change is a new version even when the body is
            // not: the digests are hashed with it.
            Some(set) if !self.deleted => {
                let mut hashed = self.local.clone();
                let digests: Body = set
                    .iter()
                    .map(|(name, entry)| {
                        (
                            name.clone(),
                            entry.get("digest").cloned().unwrap_or_default(),
                        )
                    })
                    .collect();
                hashed.insert("_attachments".into(), Value::Object(digests));
                Revision::next_of(self.rev.as_ref(), &hashed, false)
            }
            _ => Revision::next_of(self.rev.as_ref(), &self.local, self.deleted),
        };
        self.local_rev = Some(local);
    }

    /// The attachments of the version the app sees: the local set when local
    /// writes changed it, else the server revision's.
    pub fn current_attachments(&self) -> Option<&Attachments> {
        if self.deleted {
            return None;
        }
        self.local_attachments
            .as_ref()
            .or(self.attachments.as_ref())
    }

    /// The document as the app sees it: the body plus `_id`, `_rev` (see
    /// [`visible_rev`](Self::visible_rev)) and `_deleted`.
    pub fn app_json(&self) -> Value {
        let mut map: Body = self.local.clone();
        map.insert("_id".into(), self.id.clone().into());
        if let Some(rev) = self.visible_rev() {
            map.insert("_rev".into(), rev.to_string().into());
        }
        if self.deleted {
            map.insert("_deleted".into(), true.into());
        }
        Value::Object(map)
    }
}

/// A document's `_attachments` as the server describes them (stubs: metadata
/// without the bytes), by attachment name.
pub type Attachments = Map<String, Value>;

/// Both sides of a conflict, handed to the app to decide.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConflictRecord {
    /// The document id.
    pub id: String,
    /// The common ancestor: the server body both sides started from.
    pub base: Option<Body>,
    /// The local body (`None` when deleted locally).
    pub local: Option<Body>,
    /// The server's body (`None` when deleted on the server).
    pub remote: Option<Body>,
    /// The server's revision, which a resolution is based on.
    pub remote_rev: Option<Revision>,
    /// Milliseconds since the epoch when the conflict was found.
    pub detected_at: f64,
    /// The `_attachments` stubs of the server's revision, which a resolution
    /// keeps (a resolution is an edit of that revision).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remote_attachments: Option<Attachments>,
    /// The attachments of the local side (metadata only; entries without
    /// `stub` exist only locally), so the app can see which differ.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub local_attachments: Option<Attachments>,
    /// Set when the conflict is between two branches on the server (made by
    /// other replicators) rather than with an edit made here: the losing
    /// leaf whose body is `local`, which a resolution deletes on the server
    /// so that the document's revision tree converges to one leaf. Empty for
    /// a conflict with this client's own edit.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub losing_revs: Vec<Revision>,
}
