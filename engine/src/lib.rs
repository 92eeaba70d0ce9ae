//! The pure core of tidesync.
//!
//! Everything here runs on the host as well as in WebAssembly and performs no
//! I/O: the CouchDB wire types that the client and the reference server share (so
//! they cannot drift apart), the local document model, the outbox, the store
//! trait with its conformance suite, and the sync session as a state machine.
//! Browser code and server code live in other crates and only adapt these types
//! to their world.

pub mod attachments;
pub mod client;
pub mod error;
pub mod event;
pub mod feed;
pub mod http;
pub mod local;
pub mod merge;
pub mod model;
pub mod outbox;
pub mod protocol;
pub mod scenarios;
pub mod schedule;
pub mod store;
pub mod sync;

#[cfg(test)]
mod tests;

pub use protocol::{
    ids::{validate_db_name, validate_doc_id, IdError},
    revision::{Revision, RevisionError},
};
