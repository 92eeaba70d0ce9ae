//! Commit notifications: one `watch` channel per database carrying its newest seq.
//!
//! Waiting `_changes` feeds subscribe here and sleep until a commit publishes a
//! new seq, so an idle feed costs nothing and a write reaches every waiting
//! client at once, without polling SQLite.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex, PoisonError},
};

use tokio::sync::watch;

/// Wakes `_changes` feeds when their database commits.
#[derive(Debug, Clone, Default)]
pub struct Notifier {
    channels: Arc<Mutex<HashMap<String, watch::Sender<u64>>>>,
}

impl Notifier {
    /// A notifier with no subscribers yet.
    pub fn new() -> Notifier {
        Notifier::default()
    }

    /// A receiver that changes whenever `db` commits. Subscribe before reading
    /// the database, so a commit between the read and the wait still wakes you.
    /// The receiver's `changed()` fails once the database is deleted.
    pub fn subscribe(&self, db: &str) -> watch::Receiver<u64> {
        let mut channels = self.channels.lock().unwrap_or_else(PoisonError::into_inner);
        channels
            .entry(db.to_owned())
            .or_insert_with(|| watch::channel(0).0)
            .subscribe()
    }

    /// Announces that `db` committed up to `seq`.
    pub fn publish(&self, db: &str, seq: u64) {
        let channels = self.channels.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(sender) = channels.get(db) {
            sender.send_replace(seq);
        }
    }

    /// Ends every subscription to `db`, which was just deleted.
    pub fn close(&self, db: &str) {
        let mut channels = self.channels.lock().unwrap_or_else(PoisonError::into_inner);
        channels.remove(db);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn publish_wakes_subscribers_and_close_ends_them() {
        let notifier = Notifier::new();
        let mut rx = notifier.subscribe("a");
        notifier.publish("a", 3);
        rx.changed().await.expect("woken");
        assert_eq!(*rx.borrow_and_update(), 3);
        notifier.publish("b", 1);
        notifier.close("a");
        assert!(rx.changed().await.is_err());
    }
}
