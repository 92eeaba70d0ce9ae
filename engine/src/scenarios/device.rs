//! What the scenarios drive: a client over the memory store, and the remote
//! database as another client or replicator reaches it.

use std::cell::Cell;

use serde_json::{json, Value};

use crate::{
    client::{Client, ClientConfig, Environment, Transport},
    event::Event,
    http::{HttpRequest, HttpResponse, Method, TransportError},
    model::DocRecord,
    store::memory::MemoryStore,
    sync::SyncReport,
};

/// A client of the remote database, as one browser runs it.
pub struct ScenarioClient {
    /// The engine.
    pub client: Client<MemoryStore>,
    env: CountingEnv,
    /// Every event the client emitted.
    pub events: std::cell::RefCell<Vec<Event>>,
}

/// A deterministic clock and id source: each call moves on by one.
#[derive(Default)]
struct CountingEnv {
    ticks: Cell<u64>,
}

impl Environment for CountingEnv {
    fn now(&self) -> f64 {
        self.ticks.set(self.ticks.get() + 1);
        1_700_000_000_000.0 + self.ticks.get() as f64
    }

    fn new_id(&self) -> String {
        self.ticks.set(self.ticks.get() + 1);
        format!("scenario-{}", self.ticks.get())
    }
}

impl ScenarioClient {
    /// A client with `config`.
    pub fn new(config: ClientConfig) -> Self {
        ScenarioClient {
            client: Client::new(MemoryStore::new(), config),
            env: CountingEnv::default(),
            events: std::cell::RefCell::new(Vec::new()),
        }
    }

    /// Writes `doc` based on what the client holds of it (its `_rev` filled in).
    pub async fn put(&self, mut doc: Value) {
        let id = doc["_id"].as_str().unwrap_or_default().to_owned();
        let stored = self.client.get(&id).await.expect("get");
        if let Some(rev) = stored.as_ref().and_then(DocRecord::visible_rev) {
            doc["_rev"] = json!(rev.to_string());
        }
        self.client.put(doc, &self.env).await.expect("put");
    }

    /// Deletes `id`.
    pub async fn delete(&self, id: &str) {
        self.client
            .delete(id, None, &self.env)
            .await
            .expect("delete");
    }

    /// Resolves `id`'s conflict with `body`.
    pub async fn resolve(&self, id: &str, body: Value) {
        self.client
            .resolve(id, Some(body), &self.env)
            .await
            .expect("resolve");
    }

    /// One sync cycle.
    pub async fn sync(&self, remote: &impl Transport) -> SyncReport {
        self.client
            .sync(remote, &self.env, false, |events| {
                self.events.borrow_mut().extend(events);
            })
            .await
            .expect("the memory store never fails")
            .0
    }

    /// The stored record of `id`.
    pub async fn record(&self, id: &str) -> Option<DocRecord> {
        self.client.get(id).await.expect("get")
    }

    /// The body of `id`, `None` when missing or deleted.
    pub async fn body(&self, id: &str) -> Option<Value> {
        let doc = self.record(id).await?;
        (!doc.deleted).then_some(Value::Object(doc.local))
    }
}

/// The remote database as other clients and replicators reach it, through
/// the same transport.
pub struct Remote<'a, T>(pub &'a T);

impl<T: Transport> Remote<'_, T> {
    async fn call(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, &str)],
        body: Option<Value>,
    ) -> (u16, Value) {
        let request = HttpRequest {
            method,
            path: path.to_owned(),
            query: query
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
            body: body.map(|b| b.to_string()),
        };
        let response: Result<HttpResponse, TransportError> = self.0.send(request).await;
        let response = response.expect("the remote answers");
        let value = serde_json::from_str(&response.body).unwrap_or(Value::Null);
        (response.status, value)
    }

    /// Writes `doc` as another client (`_bulk_docs`); its answer row.
    pub async fn write(&self, doc: Value) -> Value {
        let (status, rows) = self
            .call(
                Method::Post,
                "_bulk_docs",
                &[],
                Some(json!({"docs": [doc]})),
            )
            .await;
        assert_eq!(status, 201, "_bulk_docs: {rows}");
        rows[0].clone()
    }

    /// Grafts `doc` with its own `_rev` and `_revisions` as a replicator
    /// does (`new_edits: false`).
    pub async fn graft(&self, doc: Value) {
        let body = json!({"docs": [doc], "new_edits": false});
        let (status, answer) = self.call(Method::Post, "_bulk_docs", &[], Some(body)).await;
        assert_eq!(status, 201, "graft: {answer}");
    }

    /// `GET /{db}/{id}?conflicts=true`: the winner and its `_conflicts`.
    pub async fn get(&self, id: &str) -> Option<Value> {
        let (status, doc) = self
            .call(Method::Get, id, &[("conflicts", "true")], None)
            .await;
        (status == 200).then_some(doc)
    }

    /// The winner's body, without its `_` members.
    pub async fn body(&self, id: &str) -> Option<Value> {
        let doc = self.get(id).await?;
        let map = doc.as_object()?.iter().filter(|(k, _)| !k.starts_with('_'));
        Some(Value::Object(
            map.map(|(k, v)| (k.clone(), v.clone())).collect(),
        ))
    }
}
