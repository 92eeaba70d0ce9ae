//! Group commit: the `put`s an app starts together (several calls before it
//! awaits any) are written in one IndexedDB transaction.
//!
//! The first `put` of a group schedules its flush as a task of its own; every
//! `put` made before that task runs (the rest of the app's synchronous code)
//! joins. The flush hands all of them to the engine's `put_each` in call
//! order, inside one future, so no other future runs while the transaction
//! is open. Each promise still resolves only once the shared commit is
//! durable; an invalid document fails alone, a failed transaction fails all.

use std::{cell::RefCell, rc::Rc};

use futures::channel::oneshot;
use serde_json::Value;
use tidesync_engine::client::Written;

use super::{env::BrowserEnv, inner::Inner};
use crate::error::SdkError;

type Outcome = Result<Written, SdkError>;

/// The writes waiting for the next flush, in call order.
#[derive(Default)]
pub(super) struct PutGroup {
    waiting: RefCell<Vec<(Value, oneshot::Sender<Outcome>)>>,
}

impl Inner {
    /// Queues a write for the next group; resolves with its outcome.
    pub fn put_grouped(
        self: &Rc<Self>,
        value: Value,
    ) -> impl std::future::Future<Output = Outcome> {
        let (done, outcome) = oneshot::channel();
        let first = {
            let mut waiting = self.puts.waiting.borrow_mut();
            waiting.push((value, done));
            waiting.len() == 1
        };
        if first {
            let inner = Rc::clone(self);
            wasm_bindgen_futures::spawn_local(async move { inner.flush_puts().await });
        }
        async move { outcome.await.unwrap_or(Err(SdkError::Closed)) }
    }

    /// Writes the waiting group in one transaction and settles each write.
    async fn flush_puts(&self) {
        let group = std::mem::take(&mut *self.puts.waiting.borrow_mut());
        let (values, senders): (Vec<Value>, Vec<_>) = group.into_iter().unzip();
        match self.client.put_each(values, &BrowserEnv).await {
            Ok(results) => {
                for (result, sender) in results.into_iter().zip(senders) {
                    let _ = sender.send(result.map_err(SdkError::from));
                }
            }
            Err(error) => {
                for sender in senders {
                    let _ = sender.send(Err(SdkError::from(error.clone())));
                }
            }
        }
    }
}
