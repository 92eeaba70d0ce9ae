//! The TypeScript declarations of the payloads, in the order they are
//! declared in the package: what `examples/typings.rs` prints for
//! `scripts/build-pkg`.

use ts_rs::{Config, TS};

use super::*;
use tidesync_engine::{
    error::ErrorCode as LocalCode,
    event::Origin,
    model::DocStatus,
    outbox::MessageOp,
    schedule::SyncState,
    sync::{IssueCode, SyncIssue, SyncReport},
};

/// One declaration, exported, with its doc comment.
fn declaration<T: TS + ?Sized>(cfg: &Config) -> String {
    let docs = T::docs().unwrap_or_default();
    format!("{docs}export {}\n", T::decl(cfg))
}

/// Every payload type's declaration, ready to append to the package's
/// `tidesync.d.ts` (which declares `Json`, `Doc` and `AttachmentStub`).
pub fn declarations() -> String {
    let cfg = Config::default();
    [
        declaration::<LocalCode>(&cfg),
        declaration::<ApiCode>(&cfg),
        declaration::<ErrorCode>(&cfg),
        declaration::<IssueCode>(&cfg),
        declaration::<CallbackCode>(&cfg),
        declaration::<EventCode>(&cfg),
        declaration::<DocStatus>(&cfg),
        declaration::<SyncState>(&cfg),
        declaration::<Origin>(&cfg),
        declaration::<MessageOp>(&cfg),
        declaration::<SyncIssue>(&cfg),
        declaration::<SyncReport>(&cfg),
        declaration::<Conflict>(&cfg),
        declaration::<RejectReason>(&cfg),
        declaration::<SyncOutcome>(&cfg),
        declaration::<WriteResult>(&cfg),
        declaration::<OutboxState>(&cfg),
        declaration::<OutboxEntry>(&cfg),
        declaration::<Transport>(&cfg),
        declaration::<Status>(&cfg),
        declaration::<MergeResult>(&cfg),
        declaration::<StorageInfo>(&cfg),
        declaration::<AttachmentInfo>(&cfg),
        declaration::<ErrorDetails>(&cfg),
        declaration::<ChangeEvent>(&cfg),
        declaration::<ResolvedEvent>(&cfg),
        declaration::<ErrorEvent>(&cfg),
    ]
    .concat()
}
