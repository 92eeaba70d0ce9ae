//! A simulated browser for scenario tests: a client over a memory store, with
//! its clock, its ids and the events it emitted.

use std::cell::RefCell;

use futures::executor::block_on;
use serde_json::Value;

use super::fake_server::TestEnv;
use crate::{
    client::{Client, ClientConfig, Transport},
    error::EngineError,
    event::{Event, Settlement},
    model::DocStatus,
    store::memory::MemoryStore,
    sync::SyncReport,
};

/// One simulated browser: a client over a memory store.
pub struct Device {
    pub client: Client<MemoryStore>,
    pub env: TestEnv,
    pub events: RefCell<Vec<Event>>,
}

impl Device {
    pub fn new() -> Self {
        Self::with_config(ClientConfig::default())
    }

    /// A device whose `put` without `_rev` replaces what is stored (the
    /// `lastWriteWins` option), for writes an app makes without reading.
    pub fn last_write_wins() -> Self {
        Self::with_config(ClientConfig {
            last_write_wins: true,
            ..ClientConfig::default()
        })
    }

    pub fn with_config(config: ClientConfig) -> Self {
        Device {
            client: Client::new(MemoryStore::new(), config),
            env: TestEnv::default(),
            events: RefCell::new(Vec::new()),
        }
    }

    /// Writes `doc` as an app edits what it read: based on the stored
    /// version (its `_rev` filled in when `doc` names none).
    pub fn put(&self, doc: Value) -> Result<crate::local::WriteOutcome, EngineError> {
        let doc = based_on_stored(&self.client, doc);
        block_on(self.client.put(doc, &self.env)).map(|(outcome, _)| outcome)
    }

    pub fn sync(&self, server: &impl Transport) -> SyncReport {
        let run = self.client.sync(server, &self.env, false, |events| {
            self.events.borrow_mut().extend(events)
        });
        block_on(run)
            .expect("sync never fails on the memory store")
            .0
    }

    pub fn body(&self, id: &str) -> Option<Value> {
        let doc = block_on(self.client.get(id)).expect("get")?;
        (!doc.deleted).then_some(Value::Object(doc.local))
    }

    pub fn status(&self, id: &str) -> Option<DocStatus> {
        block_on(self.client.get(id))
            .expect("get")
            .map(|d| d.status)
    }

    pub fn outbox_len(&self) -> u64 {
        block_on(self.client.pending_count()).expect("count")
    }

    pub fn settlements(&self, id: &str) -> Vec<Settlement> {
        self.events
            .borrow()
            .iter()
            .filter_map(|e| match e {
                Event::Settled {
                    id: i, settlement, ..
                } if i == id => Some(settlement.clone()),
                _ => None,
            })
            .collect()
    }
}

/// `doc` with the `_rev` of the version `client` holds of it, unless it names
/// one (or has no id, or the document is not stored): what an app that read
/// the document before editing it passes to `put`.
pub fn based_on_stored(client: &Client<impl crate::store::LocalStore>, doc: Value) -> Value {
    block_on(read_then_edit(client, doc))
}

/// [`based_on_stored`] inside a future (a transport's, say).
pub async fn read_then_edit(
    client: &Client<impl crate::store::LocalStore>,
    mut doc: Value,
) -> Value {
    let Some(map) = doc.as_object_mut() else {
        return doc;
    };
    let id = map.get("_id").and_then(Value::as_str).map(str::to_owned);
    if let (Some(id), false) = (id, map.contains_key("_rev")) {
        let stored = client.get(&id).await.ok().flatten();
        if let Some(rev) = stored.as_ref().and_then(|d| d.visible_rev()) {
            map.insert("_rev".into(), rev.to_string().into());
        }
    }
    doc
}
