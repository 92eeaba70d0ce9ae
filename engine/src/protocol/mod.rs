//! The subset of the Apache CouchDB 3.x HTTP API that tidesync speaks.
//!
//! These types are the one home of the wire format: the reference server
//! serialises them and the SDK deserialises them, so a change here is a change to
//! both sides at once.

pub mod document;
pub mod ids;
pub mod revision;
pub mod wire;
