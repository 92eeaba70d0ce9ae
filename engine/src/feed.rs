//! The live changes feed: while an app is open and online, the client keeps a
//! `_changes` feed open so another client's change reaches it in well under a
//! second, where a timer would make it wait for the next poll.
//!
//! The feed only says *that* something changed (rows without bodies); the
//! client then runs its ordinary cycle, whose pull fetches exactly what
//! changed since its checkpoint. The checkpoint, the conflict rules and the
//! outbox stay where they are, and a change another client wrote is applied
//! the same way whichever way the client heard of it.
//!
//! Which feed: a streamed `continuous` feed where the server keeps one open
//! (CouchDB, pouchdb-server, the reference server), `longpoll` where that
//! fails or stalls, and interval polling last. [`FeedLadder`] decides, the
//! edge opens what it says and reports back; [`FeedReader`] turns the bytes
//! into [`FeedEvent`]s.

mod ladder;
mod offer;
mod reader;

pub use ladder::{FeedConfig, FeedLadder, FeedOutcome, FeedTransport};
pub use offer::{best_offered, offers};
pub use reader::{FeedEvent, FeedReader};
