//! Where a transaction's new outbox sequence numbers come from.

use std::cell::Cell;

use tidesync_engine::store::{WriteBatch, META_OUTBOX_SEQ};

/// Outbox sequence numbers drawn from the clock: `Date.now() × 1024`, and
/// above the last one this tab used. Tabs share the database but not a
/// counter, and a stored counter would cost every write a read and a write;
/// clock-based numbers keep the queue in time order across tabs, and the
/// engine keeps each document's versions increasing whatever the clocks say.
/// They stay below 2^53 (exact as IndexedDB keys) for two more centuries.
#[derive(Debug, Default)]
pub(in crate::idb) struct SeqClock {
    last: Cell<u64>,
}

impl SeqClock {
    pub(super) fn next(&self) -> u64 {
        let now = (js_sys::Date::now().max(0.0) as u64).saturating_mul(1024);
        now.max(self.last.get() + 1)
    }

    /// Remembers the numbers a batch uses (its `META_OUTBOX_SEQ`), before its
    /// commit: a number skipped because the commit failed is harmless.
    pub(super) fn used(&self, batch: &WriteBatch) {
        for (key, value) in &batch.meta {
            if let (true, Some(next)) = (key == META_OUTBOX_SEQ, value.as_u64()) {
                self.last.set(self.last.get().max(next.saturating_sub(1)));
            }
        }
    }
}
