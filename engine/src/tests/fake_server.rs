//! A small in-memory CouchDB for engine tests, with injectable faults.

mod branches;

use std::{
    cell::{Cell, RefCell},
    collections::{BTreeMap, VecDeque},
};

use base64::{engine::general_purpose::STANDARD, Engine as _};
use serde_json::{json, Value};

use crate::{
    attachments::digest_of,
    client::{Environment, Transport},
    http::{HttpRequest, HttpResponse, Method, TransportError},
    model::Body,
    protocol::{document::Document, revision::Revision},
};

/// A fault to inject into the next matching request.
#[derive(Debug, Clone, PartialEq)]
pub enum Fault {
    /// The request never reaches the server.
    Offline,
    /// The server commits, then the response is lost.
    DropResponse,
    /// The server answers this status without doing anything.
    Status(u16),
    /// Nothing goes wrong (lets a later fault hit a later request).
    Pass,
}

#[derive(Debug, Clone)]
pub struct Stored {
    pub rev: Revision,
    pub deleted: bool,
    pub body: Body,
    /// Attachment metadata by name, as CouchDB shows it in stubs.
    pub attachments: Body,
    seq: u64,
}

#[derive(Debug, Default)]
pub struct FakeServer {
    pub docs: RefCell<BTreeMap<String, Stored>>,
    seq: Cell<u64>,
    exists: Cell<bool>,
    faults: RefCell<VecDeque<(String, Fault)>>,
    pub max_doc_bytes: Cell<usize>,
    pub writes: Cell<u32>,
    pub requests: RefCell<Vec<String>>,
    /// Every document written, as the writer sent it.
    pub written: RefCell<Vec<Value>>,
    /// Name revisions otherwise than the client would (as CouchDB does,
    /// hashing its own encoding of the body).
    pub own_rev_names: Cell<bool>,
    /// The leaves of each document that lost to the one in `docs`.
    branches: RefCell<BTreeMap<String, Vec<Stored>>>,
}

impl FakeServer {
    pub fn new() -> Self {
        let server = FakeServer::default();
        server.max_doc_bytes.set(usize::MAX);
        server
    }

    /// Injects `fault` into the next request whose path is `path`.
    pub fn fault(&self, path: &str, fault: Fault) {
        self.faults.borrow_mut().push_back((path.to_owned(), fault));
    }

    pub fn body(&self, id: &str) -> Option<Value> {
        self.docs
            .borrow()
            .get(id)
            .filter(|d| !d.deleted)
            .map(|d| Value::Object(d.body.clone()))
    }

    pub fn rev(&self, id: &str) -> Option<Revision> {
        self.docs.borrow().get(id).map(|d| d.rev.clone())
    }

    /// The names of the attachments the current revision of `id` holds.
    pub fn attachment_names(&self, id: &str) -> Vec<String> {
        self.docs
            .borrow()
            .get(id)
            .map(|d| d.attachments.keys().cloned().collect())
            .unwrap_or_default()
    }

    /// The bytes of attachment `name` of the current revision of `id`.
    pub fn attachment_bytes(&self, id: &str, name: &str) -> Option<Vec<u8>> {
        let docs = self.docs.borrow();
        let data = docs.get(id)?.attachments.get(name)?.get("data")?.as_str()?;
        STANDARD.decode(data).ok()
    }

    /// Writes `value` as another client would (`_bulk_docs` with one
    /// document): its `_rev` must be the current one.
    pub fn write_as_other_client(&self, value: Value) -> Value {
        self.exists.set(true);
        self.write(value)
    }

    /// CouchDB's rules for `_attachments` on an update: a stub keeps what the
    /// parent revision holds under that name (412 `missing_stub` when it has
    /// nothing), inline `data` is new bytes, and a name left out is dropped.
    fn attachments_of(doc: &Document, parent: Option<&Stored>) -> Result<Body, &'static str> {
        let mut kept = Body::new();
        for (name, info) in doc.attachments.iter().flatten() {
            let stub = info.get("stub").and_then(Value::as_bool) == Some(true);
            let meta = if stub {
                parent
                    .and_then(|p| p.attachments.get(name))
                    .cloned()
                    .ok_or("missing_stub")?
            } else {
                let data = info
                    .get("data")
                    .and_then(Value::as_str)
                    .ok_or("bad_request")?;
                let content_type = info.get("content_type").cloned().unwrap_or(Value::Null);
                let bytes = STANDARD.decode(data).map_err(|_| "bad_request")?;
                // The bytes stay beside the metadata (left out of stubs).
                json!({
                    "content_type": content_type,
                    "digest": digest_of(&bytes),
                    "length": bytes.len(),
                    "data": data,
                })
            };
            kept.insert(name.clone(), meta);
        }
        Ok(kept)
    }

    fn write(&self, value: Value) -> Value {
        self.written.borrow_mut().push(value.clone());
        let id = value
            .get("_id")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        if value.to_string().len() > self.max_doc_bytes.get() {
            return json!({"id": id, "error": "too_large", "reason": "Document exceeds the size limit"});
        }
        let Ok(doc) = Document::from_json(value) else {
            return json!({"id": id, "error": "bad_request", "reason": "invalid document"});
        };
        if let Some(answer) = self.write_branch(&id, &doc) {
            return answer;
        }
        let mut docs = self.docs.borrow_mut();
        let current = docs.get(&id);
        let parent = match (current, &doc.rev) {
            (None, None) => None,
            (Some(cur), None) if cur.deleted => Some(cur.rev.clone()),
            (Some(cur), Some(rev)) if &cur.rev == rev => Some(cur.rev.clone()),
            _ => {
                return json!({"id": id, "error": "conflict", "reason": "Document update conflict."})
            }
        };
        let attachments = match Self::attachments_of(&doc, current.filter(|c| !c.deleted)) {
            Ok(kept) => kept,
            Err(error) => return json!({"id": id, "error": error, "reason": "attachments"}),
        };
        let hashed = if self.own_rev_names.get() {
            json!({ "named by": "server", "body": doc.body })
        } else {
            Value::Object(doc.body.clone())
        };
        let rev = Revision::next(parent.as_ref(), &hashed, doc.deleted);
        self.seq.set(self.seq.get() + 1);
        self.writes.set(self.writes.get() + 1);
        let body = if doc.deleted { Body::new() } else { doc.body };
        docs.insert(
            id.clone(),
            Stored {
                rev: rev.clone(),
                deleted: doc.deleted,
                body,
                attachments: if doc.deleted {
                    Body::new()
                } else {
                    attachments
                },
                seq: self.seq.get(),
            },
        );
        drop(docs);
        self.elect(&id);
        json!({"ok": true, "id": id, "rev": rev})
    }

    fn json_of(stored: &Stored, id: &str) -> Value {
        let mut map = stored.body.clone();
        map.insert("_id".into(), id.into());
        map.insert("_rev".into(), stored.rev.to_string().into());
        if stored.deleted {
            map.insert("_deleted".into(), true.into());
        }
        if !stored.attachments.is_empty() {
            let stubs: Body = stored
                .attachments
                .iter()
                .map(|(name, meta)| {
                    let mut stub = meta.as_object().cloned().unwrap_or_default();
                    stub.remove("data");
                    stub.insert("stub".into(), true.into());
                    (name.clone(), Value::Object(stub))
                })
                .collect();
            map.insert("_attachments".into(), Value::Object(stubs));
        }
        Value::Object(map)
    }

    fn handle(&self, request: &HttpRequest) -> (u16, Value) {
        let body: Value = request
            .body
            .as_deref()
            .and_then(|b| serde_json::from_str(b).ok())
            .unwrap_or(Value::Null);
        match (request.method, request.path.as_str()) {
            (Method::Get, "") if self.exists.get() => {
                (200, json!({"db_name": "db", "update_seq": self.seq.get()}))
            }
            (Method::Get, "") => (
                404,
                json!({"error": "not_found", "reason": "Database does not exist."}),
            ),
            (Method::Put, "") => {
                let created = !self.exists.replace(true);
                if created {
                    (201, json!({"ok": true}))
                } else {
                    (412, json!({"error": "file_exists"}))
                }
            }
            (Method::Post, "_bulk_docs") if body.get("new_edits") == Some(&Value::Bool(false)) => {
                let docs = body.get("docs").and_then(Value::as_array).cloned();
                for doc in docs.unwrap_or_default() {
                    self.graft(doc);
                }
                (201, json!([]))
            }
            (Method::Post, "_bulk_docs") => {
                let docs = body
                    .get("docs")
                    .and_then(Value::as_array)
                    .cloned()
                    .unwrap_or_default();
                (
                    201,
                    Value::Array(docs.into_iter().map(|d| self.write(d)).collect()),
                )
            }
            (Method::Post, "_bulk_get") => {
                let refs = body
                    .get("docs")
                    .and_then(Value::as_array)
                    .cloned()
                    .unwrap_or_default();
                let docs = self.docs.borrow();
                let results: Vec<Value> = refs
                    .iter()
                    .map(|r| {
                        let id = r.get("id").and_then(Value::as_str).unwrap_or_default();
                        let found = match r.get("rev").and_then(Value::as_str) {
                            Some(rev) => self.leaf(id, rev),
                            None => docs.get(id).cloned(),
                        };
                        let doc = match found.as_ref() {
                            Some(stored) => json!({"ok": Self::json_of(stored, id)}),
                            None => json!({"error": {"id": id, "rev": "undefined", "error": "not_found", "reason": "missing"}}),
                        };
                        json!({"id": id, "docs": [doc]})
                    })
                    .collect();
                (200, json!({"results": results}))
            }
            (Method::Get, "_changes") => {
                let query = |k: &str| {
                    request
                        .query
                        .iter()
                        .find(|(key, _)| key == k)
                        .map(|(_, v)| v.clone())
                };
                let since: u64 = query("since").and_then(|s| s.parse().ok()).unwrap_or(0);
                let limit: usize = query("limit")
                    .and_then(|s| s.parse().ok())
                    .unwrap_or(usize::MAX);
                let with_conflicts = query("conflicts").as_deref() == Some("true");
                let docs = self.docs.borrow();
                let mut rows: Vec<(&String, &Stored)> =
                    docs.iter().filter(|(_, d)| d.seq > since).collect();
                rows.sort_by_key(|(_, d)| d.seq);
                let total = rows.len();
                rows.truncate(limit);
                let last_seq = rows.last().map_or(since, |(_, d)| d.seq);
                let results: Vec<Value> = rows
                    .iter()
                    .map(|(id, d)| {
                        let mut row = json!({"seq": d.seq, "id": id, "changes": [{"rev": d.rev}], "doc": Self::json_of(d, id)});
                        let losing = self.losing_leaves(id);
                        if with_conflicts && !d.deleted && !losing.is_empty() {
                            row["doc"]["_conflicts"] = json!(losing);
                        }
                        if d.deleted {
                            row["deleted"] = true.into();
                        }
                        row
                    })
                    .collect();
                let pending = total - results.len();
                (
                    200,
                    json!({"results": results, "last_seq": last_seq, "pending": pending}),
                )
            }
            (Method::Get, id) if !id.is_empty() && !id.starts_with('_') => {
                let conflicts = request
                    .query
                    .iter()
                    .any(|(k, v)| k == "conflicts" && v == "true");
                self.get_doc(id, conflicts)
            }
            _ => (404, json!({"error": "not_found", "reason": "missing"})),
        }
    }
}

impl Transport for FakeServer {
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, TransportError> {
        self.requests
            .borrow_mut()
            .push(format!("{} {}", request.method.as_str(), request.path));
        let fault = {
            let mut faults = self.faults.borrow_mut();
            let index = faults.iter().position(|(path, _)| *path == request.path);
            index.and_then(|i| faults.remove(i)).map(|(_, f)| f)
        };
        match fault {
            Some(Fault::Offline) => Err(TransportError::Network("offline".into())),
            Some(Fault::Status(status)) => Ok(HttpResponse {
                status,
                body: json!({"error": "fault", "reason": "injected"}).to_string(),
                retry_after_ms: None,
            }),
            Some(Fault::DropResponse) => {
                self.handle(&request);
                Err(TransportError::Network("connection reset".into()))
            }
            None | Some(Fault::Pass) => {
                let (status, body) = self.handle(&request);
                Ok(HttpResponse {
                    status,
                    body: body.to_string(),
                    retry_after_ms: None,
                })
            }
        }
    }
}

/// A deterministic clock and id source.
#[derive(Debug, Default)]
pub struct TestEnv {
    now: Cell<f64>,
    ids: Cell<u64>,
}

impl TestEnv {
    /// Sets the clock: the next reading is `ms + 1` (a device whose clock is
    /// ahead or behind).
    pub fn set_clock(&self, ms: f64) {
        self.now.set(ms);
    }
}

impl Environment for TestEnv {
    fn now(&self) -> f64 {
        self.now.set(self.now.get() + 1.0);
        self.now.get()
    }

    fn new_id(&self) -> String {
        self.ids.set(self.ids.get() + 1);
        format!("id-{:04}", self.ids.get())
    }
}
