//! tidesync: offline-first JSON document sync for the web.
//!
//! The SDK proper lives in the browser edges compiled for `wasm32`; on the host
//! this crate only re-exports the pure engine so that `cargo test` covers it.

pub use tidesync_engine as engine;
