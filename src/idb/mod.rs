//! The IndexedDB store (work in progress).
