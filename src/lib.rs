//! tidesync: offline-first JSON document sync for the web.
//!
//! The pure engine (`tidesync-engine`) holds every decision; this crate holds the
//! thin browser edges that perform them: the IndexedDB store, the fetch
//! transport, and the `#[wasm_bindgen]` JavaScript API. On the host it only
//! re-exports the engine, so `cargo test` covers the engine natively.

pub use tidesync_engine as engine;

pub mod payloads;

#[cfg(target_arch = "wasm32")]
mod api;
#[cfg(target_arch = "wasm32")]
mod convert;
#[cfg(target_arch = "wasm32")]
pub mod error;
#[cfg(target_arch = "wasm32")]
pub mod fetcher;
#[cfg(target_arch = "wasm32")]
pub mod idb;
#[cfg(target_arch = "wasm32")]
pub mod transport;

#[cfg(target_arch = "wasm32")]
pub use api::{merge_documents, Tidesync};
