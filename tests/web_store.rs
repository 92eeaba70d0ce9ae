//! The IndexedDB store in a real browser: the engine's conformance suite, plus
//! what only a persistent store has (close, reopen, destroy, stored format).
#![cfg(target_arch = "wasm32")]

use indexed_db_futures::{database::Database, prelude::*, transaction::TransactionMode};
use serde_json::{json, Value};
use tidesync::{
    engine::{
        client::document_json,
        error::StoreError,
        model::{Body, ConflictRecord, DocRecord, DocStatus},
        outbox::{MessageOp, MessageState, OutboxMessage},
        store::{
            conformance, memory::MemoryStore, DocQuery, LocalStore, WriteBatch, META_CHECKPOINT,
            META_OUTBOX_SEQ,
        },
    },
    idb::IdbStore,
};
use wasm_bindgen::JsValue;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

fn unique_name() -> String {
    format!("test-{}", uuid::Uuid::now_v7())
}

async fn open(name: &str) -> IdbStore {
    IdbStore::open(name).await.expect("open")
}

fn doc(id: &str, status: DocStatus) -> DocRecord {
    let Value::Object(local) = json!({"title": id, "n": [1, 2.5, null]}) else {
        unreachable!()
    };
    DocRecord {
        id: id.into(),
        rev: "1-abc".parse().ok(),
        base: Some(Body::new()),
        local,
        status,
        deleted: false,
        updated_at: 1.5,
        attachments: None,
        // A local write's revision, which the app sees while it is unsynced.
        local_rev: "2-def".parse().ok().filter(|_| status != DocStatus::Synced),
        local_attachments: None,
    }
}

fn message(seq: u64, doc_id: &str) -> OutboxMessage {
    OutboxMessage {
        seq,
        id: format!("m{seq}"),
        doc_id: doc_id.into(),
        op: MessageOp::Delete,
        base_rev: None,
        body: None,
        created_at: 2.0,
        attempts: 1,
        last_error: Some("offline".into()),
        state: MessageState::InFlight,
        version: seq,
        sent: None,
        attachments: None,
        drop_leaves: Vec::new(),
    }
}

/// Writes a document with its message and the outbox sequence.
async fn write_one<S: LocalStore>(store: &S, id: &str, seq: u64) {
    let batch = WriteBatch {
        put_docs: vec![doc(id, DocStatus::Pending)],
        put_messages: vec![message(seq, id)],
        meta: vec![(META_OUTBOX_SEQ.into(), json!(seq + 1))],
        ..WriteBatch::default()
    };
    store
        .transact(&[id.to_string()], |_| Ok::<_, StoreError>((batch, ())))
        .await
        .expect("write");
}

async fn is_empty(store: &IdbStore) -> bool {
    store
        .list_docs(&DocQuery {
            include_deleted: true,
            ..DocQuery::default()
        })
        .await
        == Ok(vec![])
        && store.outbox_len().await == Ok(0)
        && store.conflicts().await == Ok(vec![])
}

#[wasm_bindgen_test]
async fn passes_the_conformance_suite() {
    conformance::run_all(|| {
        let name = unique_name();
        async move { open(&name).await }
    })
    .await;
}

#[wasm_bindgen_test]
async fn data_survives_close_and_reopen() {
    let name = unique_name();
    let store = open(&name).await;
    write_one(&store, "a", 4).await;
    store.close();
    drop(store);

    let store = open(&name).await;
    assert_eq!(
        store.get_doc("a").await,
        Ok(Some(doc("a", DocStatus::Pending)))
    );
    assert_eq!(store.outbox(None, 10).await, Ok(vec![message(4, "a")]));
    let snapshot = store
        .transact(&["a".into()], |s| {
            Ok::<_, StoreError>((WriteBatch::default(), s))
        })
        .await
        .expect("read");
    assert!(snapshot.next_seq > 4, "above every stored seq");
    assert_eq!(snapshot.messages_of("a"), &[message(4, "a")]);
}

#[wasm_bindgen_test]
async fn calls_after_close_fail_with_closed() {
    let store = open(&unique_name()).await;
    write_one(&store, "a", 0).await;
    store.close();
    let closed = Some(StoreError::Closed);
    assert_eq!(store.get_doc("a").await.err(), closed);
    assert_eq!(store.list_docs(&DocQuery::default()).await.err(), closed);
    assert_eq!(store.outbox(None, 10).await.err(), closed);
    assert_eq!(store.outbox(None, 0).await.err(), closed);
    assert_eq!(store.outbox_len().await.err(), closed);
    assert_eq!(store.conflicts().await.err(), closed);
    assert_eq!(store.get_meta(META_CHECKPOINT).await.err(), closed);
    let mut planned = false;
    let out = store
        .transact(&["a".into()], |_| {
            planned = true;
            Ok::<_, StoreError>((WriteBatch::default(), ()))
        })
        .await;
    assert_eq!(out.err(), closed);
    assert!(!planned, "no plan runs on a closed store");
    store.close(); // closing twice is harmless
}

#[wasm_bindgen_test]
async fn destroy_removes_the_data() {
    let name = unique_name();
    let store = open(&name).await;
    write_one(&store, "a", 0).await;
    store.close();
    IdbStore::destroy(&name).await.expect("destroy");
    assert!(is_empty(&open(&name).await).await);
    // Destroying what does not exist succeeds.
    IdbStore::destroy(&unique_name())
        .await
        .expect("destroy missing");
}

#[wasm_bindgen_test]
async fn destroy_closes_open_stores_instead_of_waiting_on_them() {
    let name = unique_name();
    let store = open(&name).await;
    write_one(&store, "a", 0).await;
    IdbStore::destroy(&name).await.expect("destroy");
    assert_eq!(store.get_doc("a").await, Err(StoreError::Closed));
    assert!(is_empty(&open(&name).await).await);
}

#[wasm_bindgen_test]
async fn destroy_blocked_by_a_foreign_connection_fails_then_completes() {
    let name = unique_name();
    let store = open(&name).await;
    write_one(&store, "a", 0).await;
    store.close();
    // A connection without tidesync's `versionchange` handler.
    let foreign = Database::open(format!("tidesync:{name}"))
        .await
        .expect("foreign");
    match IdbStore::destroy(&name).await {
        Err(StoreError::Blocked(message)) => assert!(message.contains("blocked"), "{message}"),
        other => panic!("expected a blocked deletion, got {other:?}"),
    }
    foreign.close();
    // The deletion stayed queued: it runs before this open.
    assert!(is_empty(&open(&name).await).await);
}

#[derive(Debug, PartialEq)]
enum PlanError {
    Refused,
    Store(StoreError),
}

impl From<StoreError> for PlanError {
    fn from(error: StoreError) -> Self {
        PlanError::Store(error)
    }
}

#[wasm_bindgen_test]
async fn a_failed_plan_writes_nothing_and_returns_its_error() {
    let store = open(&unique_name()).await;
    write_one(&store, "a", 0).await;
    let out: Result<(), PlanError> = store
        .transact(&["a".into(), "b".into()], |snapshot| {
            assert!(snapshot.next_seq > 0);
            let _unused = WriteBatch {
                put_docs: vec![doc("b", DocStatus::Synced)],
                delete_docs: vec!["a".into()],
                delete_messages: vec![("a".into(), 0)],
                meta: vec![(META_OUTBOX_SEQ.into(), json!(9))],
                ..WriteBatch::default()
            };
            Err(PlanError::Refused)
        })
        .await;
    assert_eq!(out, Err(PlanError::Refused));
    assert_eq!(
        store.get_doc("a").await,
        Ok(Some(doc("a", DocStatus::Pending)))
    );
    assert_eq!(store.get_doc("b").await, Ok(None));
    assert_eq!(store.outbox_len().await, Ok(1));
    // The store is still usable after the abort.
    write_one(&store, "b", 1).await;
    assert_eq!(store.outbox_len().await, Ok(2));
}

#[wasm_bindgen_test]
async fn records_keep_indexed_fields_beside_their_json() {
    let name = unique_name();
    let store = open(&name).await;
    write_one(&store, "a", 3).await;
    store.close();

    let db = Database::open(format!("tidesync:{name}"))
        .await
        .expect("raw open");
    assert_eq!(db.version(), 4.0);
    let stores: Vec<String> = db.object_store_names().collect();
    assert_eq!(
        stores,
        vec!["attachments", "docs", "meta"],
        "one store of documents, one of attachment bytes"
    );
    let tx = db
        .transaction(["docs", "meta"])
        .with_mode(TransactionMode::Readonly)
        .build()
        .expect("tx");
    let field =
        |record: &JsValue, name: &str| js_sys::Reflect::get(record, &name.into()).expect("field");
    let docs = tx.object_store("docs").expect("docs");
    // Only conflicted records are in the status index: a pending one is
    // found through its queue position and carries no status field.
    let by_status = docs.index("status").expect("status index");
    let pending = by_status
        .count()
        .with_query("pending")
        .primitive()
        .expect("count")
        .await
        .expect("count");
    assert_eq!(pending, 0, "a pending record costs no status entry");
    let record: Option<JsValue> = docs.get("a").primitive().expect("get").await.expect("get");
    let record = record.expect("record");
    assert_eq!(field(&record, "id").as_string().as_deref(), Some("a"));
    assert!(field(&record, "status").is_undefined());
    // The message lives in its document's record, keyed in the queue index.
    let json = field(&record, "json").as_string().expect("json string");
    let stored: Value = serde_json::from_str(&json).expect("json");
    assert_eq!(stored["id"], json!("a"));
    assert_eq!(stored["messages"][0]["seq"], json!(3));
    let queue = docs.index("queue").expect("queue index");
    let record: Option<JsValue> = queue.get(3.0).primitive().expect("get").await.expect("get");
    let record = record.expect("queued record");
    assert_eq!(field(&record, "id").as_string().as_deref(), Some("a"));
    // The outbox counter is the clock's: nothing to store.
    let meta = tx.object_store("meta").expect("meta");
    let record: Option<JsValue> = meta
        .get(META_OUTBOX_SEQ)
        .primitive()
        .expect("get")
        .await
        .expect("get");
    assert!(record.is_none());
    drop(tx);
    db.close();
}

/// The raw `json` member of document `id`'s record.
async fn raw_json(name: &str, id: &str) -> Value {
    let db = Database::open(format!("tidesync:{name}"))
        .await
        .expect("raw open");
    let tx = db
        .transaction("docs")
        .with_mode(TransactionMode::Readonly)
        .build()
        .expect("tx");
    let record: Option<JsValue> = tx
        .object_store("docs")
        .expect("docs")
        .get(id)
        .primitive()
        .expect("get")
        .await
        .expect("get");
    let record = record.expect("a record");
    let json = js_sys::Reflect::get(&record, &"json".into())
        .expect("field")
        .as_string()
        .expect("json string");
    drop(tx);
    db.close();
    serde_json::from_str(&json).expect("json")
}

#[wasm_bindgen_test]
async fn a_body_equal_to_the_local_body_is_stored_once() {
    let name = unique_name();
    let store = open(&name).await;
    // A synced document: its base is its local body.
    let mut synced = doc("s", DocStatus::Synced);
    synced.base = Some(synced.local.clone());
    // A pending one: one message carries the local body (and its in-flight
    // copy too), an older one a body of its own.
    let mut pending = doc("p", DocStatus::Pending);
    pending.base = Some(Body::new());
    let mut current = message(9, "p");
    current.op = MessageOp::Put;
    current.body = Some(pending.local.clone());
    current.sent = Some(current.sent_copy());
    let mut older = message(4, "p");
    older.op = MessageOp::Put;
    let Value::Object(other) = json!({"title": "older"}) else {
        unreachable!()
    };
    older.body = Some(other);
    let batch = WriteBatch {
        put_docs: vec![synced.clone(), pending.clone()],
        put_messages: vec![current.clone(), older.clone()],
        ..WriteBatch::default()
    };
    store
        .transact(&["s".into(), "p".into()], |_| {
            Ok::<_, StoreError>((batch, ()))
        })
        .await
        .expect("write");
    store.close();

    let raw = raw_json(&name, "s").await;
    assert_eq!(raw["base"], Value::Null, "{raw}");
    assert_eq!(raw["base_is_local"], json!(true));
    let raw = raw_json(&name, "p").await;
    assert_eq!(raw["base"], json!({}), "a base of its own stays: {raw}");
    assert!(raw.get("base_is_local").is_none());
    assert_eq!(raw["local_bodies"], json!([9]));
    assert_eq!(raw["local_sent"], json!([9]));
    let messages = raw["messages"].as_array().expect("messages");
    assert_eq!(messages[0]["body"], json!({"title": "older"}));
    assert_eq!(messages[1]["body"], Value::Null);
    assert_eq!(messages[1]["sent"]["body"], Value::Null);

    // Read back, every body is in place.
    let store = open(&name).await;
    assert_eq!(store.get_doc("s").await, Ok(Some(synced.clone())));
    assert_eq!(store.get_doc("p").await, Ok(Some(pending)));
    assert_eq!(store.outbox(None, 10).await, Ok(vec![older, current]));
    let listed = store.list_docs(&DocQuery::default()).await.expect("list");
    assert_eq!(listed.iter().find(|d| d.id == "s"), Some(&synced));
    // A later write through a transaction keeps them too.
    let read = store
        .transact(&["p".into()], |snapshot| {
            Ok::<_, StoreError>((WriteBatch::default(), snapshot))
        })
        .await
        .expect("read");
    assert_eq!(
        read.messages["p"][1].body,
        read.docs["p"].local.clone().into()
    );
    store.close();
}

#[wasm_bindgen_test]
async fn the_app_view_of_documents_is_document_json() {
    let store = open(&unique_name()).await;
    let mut docs = Vec::new();
    for (id, status) in [
        ("plain", DocStatus::Synced),
        ("z-last", DocStatus::Pending),
        ("\u{FF21}", DocStatus::Synced),
        ("\u{10000}", DocStatus::Conflicted),
        ("quote\"back\\slash", DocStatus::Synced),
    ] {
        docs.push(doc(id, status));
    }
    let mut unsynced = doc("new", DocStatus::Pending);
    unsynced.rev = None;
    unsynced.local = Body::new();
    docs.push(unsynced);
    let mut gone = doc("gone", DocStatus::Synced);
    gone.deleted = true;
    gone.local = Body::new();
    docs.push(gone);
    let mut nested = doc("nested", DocStatus::Synced);
    nested.local.insert(
        "deep".into(),
        json!({"a": [1, {"b": "\u{e9}\n"}], "_x": null}),
    );
    // A member named like the prototype accessor stays a plain member.
    nested
        .local
        .insert("__proto__".into(), json!({"polluted": true}));
    docs.push(nested);
    let ids: Vec<String> = docs.iter().map(|d| d.id.clone()).collect();
    let batch = WriteBatch {
        put_docs: docs,
        ..WriteBatch::default()
    };
    store
        .transact(&ids, |_| Ok::<_, StoreError>((batch, ())))
        .await
        .expect("write");

    for include_deleted in [false, true] {
        for status in [None, Some(DocStatus::Synced), Some(DocStatus::Pending)] {
            let query = DocQuery {
                status,
                include_deleted,
                ..DocQuery::default()
            };
            assert_visible_matches_listed(&store, &query).await;
        }
        // Pages, read by `readPage` a chunk at a time, select what the
        // engine's own paging selects (within ids below U+D800, where
        // IndexedDB's order and Rust's agree).
        let key = |k: &str| Some(k.to_owned());
        let pages = [
            DocQuery {
                limit: Some(3),
                ..DocQuery::default()
            },
            DocQuery {
                skip: 2,
                limit: Some(2),
                ..DocQuery::default()
            },
            DocQuery {
                start_key: key("n"),
                end_key: key("z"),
                ..DocQuery::default()
            },
            DocQuery {
                prefix: key("n"),
                ..DocQuery::default()
            },
            DocQuery {
                prefix: key("ne"),
                skip: 1,
                ..DocQuery::default()
            },
            DocQuery {
                descending: true,
                start_key: key("z"),
                ..DocQuery::default()
            },
            DocQuery {
                descending: true,
                start_key: key("z"),
                end_key: key("g"),
                skip: 1,
                limit: Some(2),
                ..DocQuery::default()
            },
            DocQuery {
                status: Some(DocStatus::Synced),
                limit: Some(2),
                ..DocQuery::default()
            },
            DocQuery {
                limit: Some(0),
                ..DocQuery::default()
            },
        ];
        for page in pages {
            let query = DocQuery {
                include_deleted,
                ..page
            };
            let seen = assert_visible_matches_listed(&store, &query).await;
            assert!(
                query.limit != Some(0) || seen.is_empty(),
                "limit 0 reads nothing"
            );
        }
    }
    for id in &ids {
        let expected = store
            .get_doc(id)
            .await
            .expect("get")
            .filter(|d| !d.deleted)
            .map(|d| document_json(&d));
        let seen = store.visible_doc(id).await.expect("visible").map(|doc| {
            let text = js_sys::JSON::stringify(&doc)
                .ok()
                .and_then(|t| t.as_string())
                .expect("text");
            serde_json::from_str::<Value>(&text).expect("JSON")
        });
        assert_eq!(seen, expected, "{id}");
    }
    assert!(matches!(store.visible_doc("missing").await, Ok(None)));
    store.close();
}

/// Writes `ids` as synced documents in one transaction.
async fn write_docs(store: &IdbStore, ids: &[String]) {
    let batch = WriteBatch {
        put_docs: ids.iter().map(|id| doc(id, DocStatus::Synced)).collect(),
        ..WriteBatch::default()
    };
    store
        .transact(ids, |_| Ok::<_, StoreError>((batch, ())))
        .await
        .expect("write");
}

/// The ids a transaction over `ids` finds stored.
async fn found(store: &IdbStore, ids: &[String]) -> Vec<String> {
    let snapshot = store
        .transact(ids, |snapshot| {
            Ok::<_, StoreError>((WriteBatch::default(), snapshot))
        })
        .await
        .expect("read");
    for (id, doc) in &snapshot.docs {
        assert_eq!(doc, &self::doc(id, DocStatus::Synced));
    }
    snapshot.docs.into_keys().collect()
}

#[wasm_bindgen_test]
async fn a_transaction_over_many_ids_finds_exactly_the_stored_ones() {
    let store = open(&unique_name()).await;
    // Ids IndexedDB orders differently from Rust (astral characters against
    // ones in U+E000..=U+FFFF) at both ends of the range.
    let stored: Vec<String> = ["b", "d\u{FFFD}", "d\u{1F600}", "m", "\u{FF21}", "\u{10000}"]
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
    write_docs(&store, &stored).await;
    let mut asked: Vec<String> = (0..30).map(|i| format!("c{i:02}")).collect();
    asked.extend(stored.iter().cloned());
    asked.push("a".into());
    asked.push("\u{10FFFF}".into());
    let mut expected = stored.clone();
    expected.sort();
    assert_eq!(found(&store, &asked).await, expected);

    // A range holding many more stored ids than asked: each is read instead.
    let many: Vec<String> = (0..200).map(|i| format!("k{i:03}")).collect();
    write_docs(&store, &many).await;
    let mut asked: Vec<String> = (0..20).map(|i| format!("k{:03}x", i * 10)).collect();
    asked.push("k000".into());
    asked.push("k199".into());
    assert_eq!(
        found(&store, &asked).await,
        vec!["k000".to_owned(), "k199".to_owned()]
    );
    store.close();
}

/// Member `key` of `id`'s stored body (`saw` for `creating_plan`: the ids
/// its snapshot held; `n` for `counting_plan`: its count).
async fn member(store: &IdbStore, id: &str, key: &str) -> Option<Value> {
    let doc = store.get_doc(id).await.expect("read");
    doc.and_then(|d| d.local.get(key).cloned())
}

async fn saw(store: &IdbStore, id: &str) -> Option<Value> {
    member(store, id, "saw").await
}

#[wasm_bindgen_test]
async fn a_creating_write_finds_what_another_tab_stored() {
    let name = unique_name();
    let (a, b) = (open(&name).await, open(&name).await);
    let owned = |ids: &[&str]| ids.iter().map(|id| id.to_string()).collect::<Vec<_>>();
    // `b` has never seen "x": it tries to create it, finds it, and plans again.
    write_one(&a, "x", 4).await;
    let ids = ["y", "x"];
    let out = b
        .transact_creating(&owned(&ids), conformance::creating_plan(&ids, None))
        .await;
    assert_eq!(out, Ok(vec!["x".to_owned()]));
    assert_eq!(saw(&a, "x").await, Some(json!(["x"])));
    assert_eq!(saw(&a, "y").await, Some(json!(["x"])));
    assert_eq!(a.outbox_len().await, Ok(3), "x's first message is kept");

    // A plan refusing what it finds leaves no trace of the document it first
    // created.
    write_one(&a, "z", 9).await;
    let ids = ["w", "z"];
    let out = b
        .transact_creating(&owned(&ids), conformance::creating_plan(&ids, Some("z")))
        .await;
    assert!(out.is_err());
    assert_eq!(b.get_doc("w").await, Ok(None));
    assert_eq!(b.get_doc("z").await, Ok(Some(doc("z", DocStatus::Pending))));

    // Two tabs creating one document at once: the second sees the first's.
    let ids = ["c"];
    let c = owned(&ids);
    let (first, second) = futures::join!(
        a.transact_creating(&c, conformance::creating_plan(&ids, None)),
        b.transact_creating(&c, conformance::creating_plan(&ids, None)),
    );
    let mut outs = vec![first.expect("a"), second.expect("b")];
    outs.sort();
    assert_eq!(outs, vec![vec![], vec!["c".to_owned()]]);
    assert_eq!(saw(&a, "c").await, Some(json!(["c"])));
    let c_messages = a.outbox(None, 100).await.expect("outbox");
    assert_eq!(c_messages.iter().filter(|m| m.doc_id == "c").count(), 2);
    a.close();
    b.close();
}

async fn count(store: &IdbStore, id: &str) -> Option<Value> {
    member(store, id, "n").await
}

#[wasm_bindgen_test]
async fn an_update_planned_before_its_read_never_loses_another_tabs_write() {
    let name = unique_name();
    let (a, b) = (open(&name).await, open(&name).await);
    let ids = ["c".to_owned()];
    // `a` creates, then updates what it wrote (planned before its read).
    for expected in 1..=2 {
        let n = a
            .transact_creating(&ids, conformance::counting_plan("c"))
            .await;
        assert_eq!(n, Ok(expected));
    }
    // `b` updates behind `a`'s back.
    let n = b
        .transact_creating(&ids, conformance::counting_plan("c"))
        .await;
    assert_eq!(n, Ok(3));
    // `a`'s next update was planned against n = 2: it finds n = 3 stored,
    // writes nothing, and counts again from what is stored.
    let n = a
        .transact_creating(&ids, conformance::counting_plan("c"))
        .await;
    assert_eq!(n, Ok(4));
    assert_eq!(count(&b, "c").await, Some(json!(4)));
    // Both at once: one after the other, whichever goes first.
    let (first, second) = futures::join!(
        a.transact_creating(&ids, conformance::counting_plan("c")),
        b.transact_creating(&ids, conformance::counting_plan("c")),
    );
    let mut counts = vec![first.expect("a"), second.expect("b")];
    counts.sort_unstable();
    assert_eq!(counts, vec![5, 6]);
    assert_eq!(count(&a, "c").await, Some(json!(6)));
    assert_eq!(a.outbox_len().await, Ok(6));
    // The same through `transact_updating` (a put naming a `_rev`): `a`'s
    // copy of what it wrote last is stale after `b`'s write, and found so.
    for (store, expected) in [(&a, 7), (&a, 8), (&b, 9), (&a, 10)] {
        let n = store
            .transact_updating(&ids, conformance::counting_plan("c"))
            .await;
        assert_eq!(n, Ok(expected));
    }
    assert_eq!(count(&b, "c").await, Some(json!(10)));
    a.close();
    b.close();
}

#[wasm_bindgen_test]
async fn an_undecodable_record_is_corrupt() {
    let name = unique_name();
    open(&name).await.close();
    let db = Database::open(format!("tidesync:{name}"))
        .await
        .expect("raw open");
    let tx = db
        .transaction("docs")
        .with_mode(TransactionMode::Readwrite)
        .build()
        .expect("tx");
    let docs = tx.object_store("docs").expect("docs");
    let bad = js_sys::Object::new();
    js_sys::Reflect::set(&bad, &"id".into(), &"x".into()).expect("set");
    js_sys::Reflect::set(&bad, &"status".into(), &"synced".into()).expect("set");
    docs.put(JsValue::from(bad))
        .primitive()
        .expect("put")
        .await
        .expect("put");
    drop(docs);
    tx.commit().await.expect("commit");
    db.close();

    let store = open(&name).await;
    assert!(matches!(
        store.get_doc("x").await,
        Err(StoreError::Corrupt(_))
    ));
    assert!(matches!(
        store.list_docs(&DocQuery::default()).await,
        Err(StoreError::Corrupt(_))
    ));
}

/// Runs the same writes on both stores and compares every read.
#[wasm_bindgen_test]
async fn reads_match_the_memory_store() {
    let idb = open(&unique_name()).await;
    let memory = MemoryStore::new();
    // Ids whose UTF-16 order differs from their code point order, and seqs
    // beyond 2^32.
    let ids = ["\u{FF61}", "\u{1F600}", "b", "a"];
    for (n, id) in ids.iter().enumerate() {
        let seq = (1 << 33) + n as u64;
        write_one(&idb, id, seq).await;
        write_one(&memory, id, seq).await;
    }
    let conflict = |id: &&str| ConflictRecord {
        id: id.to_string(),
        base: None,
        local: Some(Body::new()),
        remote: None,
        remote_rev: "2-abc".parse().ok(),
        detected_at: 3.0,
        remote_attachments: None,
        local_attachments: None,
        losing_revs: Vec::new(),
    };
    // A document holds a conflict while it is conflicted.
    let batch = WriteBatch {
        put_docs: ids
            .iter()
            .map(|id| doc(id, DocStatus::Conflicted))
            .collect(),
        put_conflicts: ids.iter().map(conflict).collect(),
        ..WriteBatch::default()
    };
    let write = |batch| Ok::<_, StoreError>((batch, ()));
    idb.transact(&[], |_| write(batch.clone()))
        .await
        .expect("idb");
    memory
        .transact(&[], |_| write(batch))
        .await
        .expect("memory");
    let all = DocQuery::default();
    assert_eq!(idb.list_docs(&all).await, memory.list_docs(&all).await);
    let pending = DocQuery {
        status: Some(DocStatus::Pending),
        ..DocQuery::default()
    };
    assert_eq!(
        idb.list_docs(&pending).await,
        memory.list_docs(&pending).await
    );
    assert_eq!(idb.conflicts().await, memory.conflicts().await);
    for (after, limit) in [
        (None, 0),
        (None, 2),
        (Some(1 << 33), 10),
        (Some(u64::MAX >> 12), 1),
    ] {
        assert_eq!(
            idb.outbox(after, limit).await,
            memory.outbox(after, limit).await
        );
    }
    let ids: Vec<String> = ids.iter().map(|id| id.to_string()).collect();
    // The same snapshot, but for where each store draws sequence numbers.
    let read = |mut s: tidesync::engine::store::Snapshot| {
        s.next_seq = 0;
        Ok::<_, StoreError>((WriteBatch::default(), s))
    };
    assert_eq!(
        idb.transact(&ids, read).await,
        memory.transact(&ids, read).await
    );
}

/// Writes a database as tidesync's first release laid it out (schema v1: the
/// outbox and the conflicts in stores of their own), record by record.
async fn write_v1(name: &str, docs: Value, messages: Value, conflicts: Value, meta: Value) {
    let build = js_sys::Function::new_with_args(
        "name, docs, messages, conflicts, meta",
        "return new Promise((resolve, reject) => {
           const req = indexedDB.open(name, 1);
           req.onupgradeneeded = () => {
             const db = req.result;
             db.createObjectStore('docs', { keyPath: 'id' }).createIndex('status', 'status');
             db.createObjectStore('outbox', { keyPath: 'seq' }).createIndex('docId', 'docId');
             db.createObjectStore('conflicts', { keyPath: 'id' });
             db.createObjectStore('meta', { keyPath: 'key' });
           };
           req.onerror = () => reject(req.error);
           req.onsuccess = () => {
             const db = req.result;
             const tx = db.transaction(['docs', 'outbox', 'conflicts', 'meta'], 'readwrite');
             for (const r of JSON.parse(docs)) tx.objectStore('docs').put(r);
             for (const r of JSON.parse(messages)) tx.objectStore('outbox').put(r);
             for (const r of JSON.parse(conflicts)) tx.objectStore('conflicts').put(r);
             for (const r of JSON.parse(meta)) tx.objectStore('meta').put(r);
             tx.oncomplete = () => { db.close(); resolve(); };
             tx.onerror = () => reject(tx.error);
           };
         });",
    );
    let args = js_sys::Array::of5(
        &format!("tidesync:{name}").into(),
        &docs.to_string().into(),
        &messages.to_string().into(),
        &conflicts.to_string().into(),
        &meta.to_string().into(),
    );
    let promise = build.apply(&JsValue::NULL, &args).expect("fixture");
    wasm_bindgen_futures::JsFuture::from(js_sys::Promise::from(promise))
        .await
        .expect("the v1 fixture");
}

fn v1_doc(doc: &DocRecord) -> Value {
    json!({"id": doc.id, "status": doc.status.as_str(), "json": serde_json::to_string(doc).expect("json")})
}

fn v1_message(message: &OutboxMessage) -> Value {
    json!({"seq": message.seq, "docId": message.doc_id, "json": serde_json::to_string(message).expect("json")})
}

#[wasm_bindgen_test]
async fn a_database_of_the_first_layout_opens_with_everything_intact() {
    let name = unique_name();
    // A pending document whose body holds an integer beyond 2^53: the
    // migration must not pass it through a JavaScript number.
    let mut pending = doc("p", DocStatus::Pending);
    pending
        .local
        .insert("big".into(), json!(12_345_678_901_234_567_890_u64));
    let mut queued = message(7, "p");
    queued.op = MessageOp::Put;
    queued.body = Some(pending.local.clone());
    queued.state = MessageState::Queued;
    let in_flight = message(5, "p");
    let parked = OutboxMessage {
        state: MessageState::Rejected,
        last_error: Some("forbidden: no".into()),
        ..message(2, "r")
    };
    let conflicted = doc("c", DocStatus::Conflicted);
    let conflict = ConflictRecord {
        id: "c".into(),
        base: Some(Body::new()),
        local: Some(conflicted.local.clone()),
        remote: None,
        remote_rev: "2-def".parse().ok(),
        detected_at: 9.0,
        remote_attachments: None,
        local_attachments: None,
        losing_revs: "2-abc".parse().into_iter().collect(),
    };
    let synced = doc("s", DocStatus::Synced);
    let docs = [
        &pending,
        &doc("r", DocStatus::Pending),
        &conflicted,
        &synced,
    ];
    write_v1(
        &name,
        Value::Array(docs.iter().map(|d| v1_doc(d)).collect()),
        Value::Array(
            [&queued, &in_flight, &parked]
                .iter()
                .map(|m| v1_message(m))
                .collect(),
        ),
        json!([{"id": "c", "json": serde_json::to_string(&conflict).expect("json")}]),
        json!([
            {"key": META_CHECKPOINT, "json": "\"41-g1AAAA\""},
            {"key": META_OUTBOX_SEQ, "json": "8"}
        ]),
    )
    .await;

    let store = open(&name).await;
    for doc in docs {
        assert_eq!(store.get_doc(&doc.id).await, Ok(Some(doc.clone())));
    }
    assert_eq!(
        store.outbox(None, 10).await,
        Ok(vec![parked.clone(), in_flight.clone(), queued.clone()]),
        "every message, in queue order"
    );
    assert_eq!(store.outbox_len().await, Ok(3));
    assert_eq!(store.outbox(Some(2), 1).await, Ok(vec![in_flight.clone()]));
    assert_eq!(store.conflicts().await, Ok(vec![conflict.clone()]));
    assert_eq!(
        store.get_meta(META_CHECKPOINT).await,
        Ok(Some(json!("41-g1AAAA")))
    );
    let snapshot = store
        .transact(&["p".into(), "c".into()], |s| {
            Ok::<_, StoreError>((WriteBatch::default(), s))
        })
        .await
        .expect("read");
    assert_eq!(snapshot.messages_of("p"), &[in_flight, queued.clone()]);
    assert_eq!(snapshot.conflicts.get("c"), Some(&conflict));
    assert!(
        snapshot.next_seq > 7,
        "new messages queue behind the old ones"
    );
    // The exact integer survived.
    let body = queued.body.expect("body");
    assert_eq!(
        body.get("big"),
        Some(&json!(12_345_678_901_234_567_890_u64))
    );
}

#[wasm_bindgen_test]
async fn a_failed_migration_keeps_the_old_data_and_says_so() {
    let name = unique_name();
    let orphan = message(3, "missing");
    write_v1(
        &name,
        json!([v1_doc(&doc("a", DocStatus::Synced))]),
        json!([v1_message(&orphan)]),
        json!([]),
        json!([]),
    )
    .await;
    match IdbStore::open(&name).await {
        Err(StoreError::Migration(reason)) => {
            assert!(reason.contains("missing"), "{reason}");
        }
        other => panic!("expected a failed migration, got {other:?}"),
    }
    // The database is still the first layout, with its data.
    let db = Database::open(format!("tidesync:{name}"))
        .await
        .expect("raw open");
    assert_eq!(db.version(), 1.0);
    let tx = db
        .transaction(["outbox", "docs"])
        .with_mode(TransactionMode::Readonly)
        .build()
        .expect("tx");
    let outbox = tx.object_store("outbox").expect("outbox");
    let count = outbox
        .count()
        .primitive()
        .expect("count")
        .await
        .expect("count");
    assert_eq!(count, 1);
    drop(tx);
    db.close();
}

/// Asserts that what `visible_docs` hands the app for `query` is what the
/// engine's `list_docs` selects, as the app sees it; returns it.
async fn assert_visible_matches_listed(store: &IdbStore, query: &DocQuery) -> Vec<Value> {
    let listed = store.list_docs(query).await.expect("list");
    let expected: Vec<Value> = listed.iter().map(document_json).collect();
    let docs = store.visible_docs(query).await.expect("visible");
    let text = js_sys::JSON::stringify(&docs)
        .ok()
        .and_then(|t| t.as_string())
        .expect("text");
    let seen: Vec<Value> = serde_json::from_str(&text).expect("a JSON array");
    assert_eq!(seen, expected, "{query:?}");
    seen
}
