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

    pub fn with_config(config: ClientConfig) -> Self {
        Device {
            client: Client::new(MemoryStore::new(), config),
            env: TestEnv::default(),
            events: RefCell::new(Vec::new()),
        }
    }

    pub fn put(&self, doc: Value) -> Result<crate::local::WriteOutcome, EngineError> {
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
