//! Several clients over one store, as the tabs of one origin share one
//! IndexedDB database: the claim and acknowledgement rules that keep an edit
//! made while a push is in flight (invariant 3) and a replay whose first try
//! landed (invariant 4) from being lost, pushed twice or called a conflict.

use std::{cell::RefCell, rc::Rc};

use futures::executor::block_on;
use serde_json::{json, Value};

use super::{
    device::{based_on_stored, read_then_edit},
    fake_server::{FakeServer, Fault, TestEnv},
};
use crate::{
    client::{Client, ClientConfig, Transport},
    event::{Event, Settlement},
    http::{HttpRequest, HttpResponse, TransportError},
    model::DocStatus,
    outbox::MessageState,
    store::{memory::MemoryStore, LocalStore},
    sync::SyncReport,
};

/// One tab: a client over the shared store.
struct Tab {
    client: Client<Rc<MemoryStore>>,
    env: TestEnv,
    events: RefCell<Vec<Event>>,
}

impl Tab {
    fn over(store: &Rc<MemoryStore>) -> Tab {
        Tab {
            client: Client::new(Rc::clone(store), ClientConfig::default()),
            env: TestEnv::default(),
            events: RefCell::default(),
        }
    }

    fn put(&self, doc: Value) -> u64 {
        let doc = based_on_stored(&self.client, doc);
        let (outcome, _) = block_on(self.client.put(doc, &self.env)).expect("put");
        assert!(outcome.queued);
        outcome.version
    }

    fn sync(&self, transport: &impl Transport) -> SyncReport {
        let run = self.client.sync(transport, &self.env, true, |events| {
            self.events.borrow_mut().extend(events)
        });
        block_on(run).expect("sync").0
    }

    /// The settlements of `id` with the version each settles through.
    fn settlements(&self, id: &str) -> Vec<(Option<u64>, Settlement)> {
        self.events
            .borrow()
            .iter()
            .filter_map(|e| match e {
                Event::Settled {
                    id: i,
                    through,
                    settlement,
                } if i == id => Some((*through, settlement.clone())),
                _ => None,
            })
            .collect()
    }
}

/// A transport that lets another tab act while a push is in the air: it
/// re-queues what is in flight (as a tab that wrongly took over would) and
/// edits a document, then lets the request reach the server.
struct WhilePushing<'a> {
    server: &'a FakeServer,
    other: &'a Tab,
    recover: bool,
    edit: RefCell<Option<Value>>,
}

impl Transport for WhilePushing<'_> {
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, TransportError> {
        if request.path == "_bulk_docs" {
            let edit = self.edit.borrow_mut().take();
            if let Some(edit) = edit {
                if self.recover {
                    self.other
                        .client
                        .recover_in_flight()
                        .await
                        .expect("recover");
                }
                let edit = read_then_edit(&self.other.client, edit).await;
                self.other
                    .client
                    .put(edit, &self.other.env)
                    .await
                    .expect("edit");
            }
        }
        self.server.send(request).await
    }
}

fn accepted(settlement: &Settlement) -> bool {
    matches!(settlement, Settlement::Accepted { .. })
}

#[test]
fn an_edit_coalesced_into_a_message_in_flight_is_rebased_not_dropped() {
    let server = FakeServer::new();
    let store = Rc::new(MemoryStore::new());
    let (one, two) = (Tab::over(&store), Tab::over(&store));
    let first = one.put(json!({"_id": "d", "v": 1}));
    // While tab one's push is in the air, tab two re-queues the message and
    // edits the document: the edit coalesces into that very message.
    let transport = WhilePushing {
        server: &server,
        other: &two,
        recover: true,
        edit: RefCell::new(Some(json!({"_id": "d", "v": 2}))),
    };
    let report = one.sync(&transport);
    assert!(report.errors.is_empty(), "{report:?}");
    assert_eq!(report.conflicts, 0);
    // The acknowledgement of v1 settled only v1; v2 went out in the same call
    // (rebased on v1's revision), so the server holds v2 at generation 2.
    assert_eq!(server.body("d"), Some(json!({"v": 2})));
    assert_eq!(server.rev("d").map(|r| r.generation()), Some(2));
    let settled = one.settlements("d");
    assert_eq!(settled.len(), 2, "{settled:?}");
    assert_eq!(settled[0].0, Some(first));
    assert!(settled.iter().all(|(_, s)| accepted(s)));
    assert!(
        settled[1].0 > Some(first),
        "v2 settles with its own version"
    );
    let doc = block_on(store.get_doc("d")).expect("get").expect("doc");
    assert_eq!(doc.status, DocStatus::Synced);
    assert_eq!(block_on(store.outbox_len()).expect("len"), 0);
}

#[test]
fn an_edit_queued_behind_a_push_in_flight_waits_for_its_own_push() {
    let server = FakeServer::new();
    let store = Rc::new(MemoryStore::new());
    let (leader, follower) = (Tab::over(&store), Tab::over(&store));
    let first = leader.put(json!({"_id": "d", "v": 1}));
    let transport = WhilePushing {
        server: &server,
        other: &follower,
        recover: false,
        edit: RefCell::new(Some(json!({"_id": "d", "v": 2}))),
    };
    // The edit lands behind the in-flight message (it cannot change what
    // is in the air) and goes out after it, in the same cycle, rebased on the
    // first push's revision.
    let report = leader.sync(&transport);
    assert_eq!((report.pushed, report.conflicts), (2, 0));
    let settled = leader.settlements("d");
    let throughs: Vec<Option<u64>> = settled.iter().map(|(t, _)| *t).collect();
    assert_eq!(throughs.len(), 2);
    assert_eq!(throughs[0], Some(first), "the first push settles only v1");
    assert!(throughs[1] > Some(first));
    assert!(settled.iter().all(|(_, s)| accepted(s)));
    let doc = block_on(store.get_doc("d")).expect("get").expect("doc");
    assert_eq!(doc.status, DocStatus::Synced);
    assert_eq!(server.body("d"), Some(json!({"v": 2})));
    assert_eq!(server.rev("d").map(|r| r.generation()), Some(2));
    assert_eq!(server.writes.get(), 2, "each version pushed once");
}

#[test]
fn an_acknowledgement_applied_twice_settles_once() {
    let server = FakeServer::new();
    let store = Rc::new(MemoryStore::new());
    let tab = Tab::over(&store);
    tab.put(json!({"_id": "d", "v": 1}));
    tab.sync(&server);
    let claimed = block_on(store.outbox(None, 10)).expect("outbox");
    assert!(claimed.is_empty());
    // The same answer again (a late duplicate): nothing is left to settle.
    let rev = server.rev("d").expect("rev");
    let stale = crate::outbox::OutboxMessage {
        seq: 0,
        version: 0,
        id: "m".into(),
        doc_id: "d".into(),
        op: crate::outbox::MessageOp::Put,
        base_rev: None,
        body: json!({"v": 1}).as_object().cloned(),
        created_at: 0.0,
        attempts: 1,
        last_error: None,
        state: MessageState::InFlight,
        sent: None,
        attachments: None,
        drop_leaves: Vec::new(),
    };
    let plan = crate::sync::plan::Plan::Settle(vec![(
        stale,
        crate::sync::plan::PushResult::Ack(rev.clone()),
    )]);
    let applied = block_on(store.transact(&plan.ids(), |snapshot| {
        Ok::<_, crate::error::StoreError>(plan.apply(snapshot, 0.0))
    }))
    .expect("apply");
    assert_eq!(applied.pushed, 0);
    assert!(applied.events.is_empty());
    let doc = block_on(store.get_doc("d")).expect("get").expect("doc");
    assert_eq!((doc.status, doc.rev), (DocStatus::Synced, Some(rev)));
}

#[test]
fn a_push_whose_tab_died_is_recognised_after_a_new_edit() {
    let server = FakeServer::new();
    let store = Rc::new(MemoryStore::new());
    let dead = Tab::over(&store);
    let first = dead.put(json!({"_id": "d", "v": 1}));
    // The server commits, the answer never comes back: the tab died.
    server.fault("_bulk_docs", Fault::DropResponse);
    let report = dead.sync(&server);
    assert_eq!(report.errors[0].code.as_str(), "network");
    // A tab takes over, re-queues what was in flight, and the user edits the
    // document before the replay.
    let heir = Tab::over(&store);
    assert_eq!(
        block_on(heir.client.recover_in_flight()).expect("recover"),
        0
    );
    let second = heir.put(json!({"_id": "d", "v": 2}));
    let report = heir.sync(&server);
    assert!(report.errors.is_empty(), "{report:?}");
    assert_eq!(report.conflicts, 0, "our own earlier write is no conflict");
    assert_eq!(server.body("d"), Some(json!({"v": 2})));
    assert_eq!(server.rev("d").map(|r| r.generation()), Some(2));
    let settled = heir.settlements("d");
    let throughs: Vec<Option<u64>> = settled.iter().map(|(t, _)| *t).collect();
    assert_eq!(throughs, vec![Some(first), Some(second)]);
    assert!(settled.iter().all(|(_, s)| accepted(s)));
    assert!(block_on(store.conflicts()).expect("conflicts").is_empty());
}

#[test]
fn a_tab_that_died_mid_push_is_replayed_once_by_the_next_leader() {
    let server = FakeServer::new();
    let store = Rc::new(MemoryStore::new());
    let dead = Tab::over(&store);
    for i in 0..5 {
        dead.put(json!({"_id": format!("d{i}"), "n": i}));
    }
    // Claimed and pushed, then the tab is gone before the answer is settled.
    let claimed = crate::sync::plan::Plan::Claim(block_on(store.outbox(None, 10)).expect("outbox"));
    block_on(store.transact(&claimed.ids(), |snapshot| {
        Ok::<_, crate::error::StoreError>(claimed.apply(snapshot, 0.0))
    }))
    .expect("claim");
    let in_flight = block_on(store.outbox(None, 10)).expect("outbox");
    assert!(in_flight.iter().all(|m| m.state == MessageState::InFlight));
    let heir = Tab::over(&store);
    assert_eq!(
        block_on(heir.client.recover_in_flight()).expect("recover"),
        5
    );
    let report = heir.sync(&server);
    assert_eq!((report.pushed, report.conflicts), (5, 0));
    assert_eq!(server.writes.get(), 5);
}

/// Writes a pending document with a message numbered `seq` straight into
/// the store, as a tab whose clock lags would number it.
struct WritesBehindTheCursor<'a> {
    server: &'a FakeServer,
    store: &'a Rc<MemoryStore>,
    seq: std::cell::Cell<Option<u64>>,
}

impl Transport for WritesBehindTheCursor<'_> {
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, TransportError> {
        if let (Some(seq), "_bulk_docs") = (self.seq.get(), request.path.as_str()) {
            self.seq.set(None);
            let body = json!({"late": true})
                .as_object()
                .cloned()
                .unwrap_or_default();
            let batch = crate::store::WriteBatch {
                put_docs: vec![crate::model::DocRecord {
                    id: "late".into(),
                    rev: None,
                    base: None,
                    local: body.clone(),
                    status: DocStatus::Pending,
                    deleted: false,
                    updated_at: 1.0,
                    attachments: None,
                    local_rev: None,
                    local_attachments: None,
                }],
                put_messages: vec![crate::outbox::OutboxMessage {
                    seq,
                    version: seq,
                    id: "late-message".into(),
                    doc_id: "late".into(),
                    op: crate::outbox::MessageOp::Put,
                    base_rev: None,
                    body: Some(body),
                    created_at: 1.0,
                    attempts: 0,
                    last_error: None,
                    state: MessageState::Queued,
                    sent: None,
                    attachments: None,
                    drop_leaves: Vec::new(),
                }],
                ..Default::default()
            };
            self.store
                .transact(&[], |_| Ok::<_, crate::error::StoreError>((batch, ())))
                .await
                .expect("late write");
        }
        self.server.send(request).await
    }
}

#[test]
fn a_message_numbered_behind_the_cursor_is_pushed_in_the_same_cycle() {
    let server = FakeServer::new();
    let store = Rc::new(MemoryStore::new());
    let leader = Tab::over(&store);
    block_on(store.transact(&[], |_| {
        let meta = vec![(crate::store::META_OUTBOX_SEQ.into(), json!(10))];
        let batch = crate::store::WriteBatch {
            meta,
            ..Default::default()
        };
        Ok::<_, crate::error::StoreError>((batch, ()))
    }))
    .expect("counter");
    leader.put(json!({"_id": "first"}));
    let transport = WritesBehindTheCursor {
        server: &server,
        store: &store,
        seq: std::cell::Cell::new(Some(3)),
    };
    let report = leader.sync(&transport);
    assert_eq!(report.pushed, 2, "{report:?}");
    assert_eq!(server.body("late"), Some(json!({"late": true})));
    assert_eq!(block_on(store.outbox_len()).expect("len"), 0);
}
