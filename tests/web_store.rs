//! The IndexedDB store in a real browser: the engine's conformance suite, plus
//! what only a persistent store has (close, reopen, destroy, stored format).
#![cfg(target_arch = "wasm32")]

use indexed_db_futures::{database::Database, prelude::*, transaction::TransactionMode};
use serde_json::{json, Value};
use tidesync::{
    engine::{
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
            status: None,
            include_deleted: true,
        })
        .await
        == Ok(vec![])
        && store.outbox_len().await == Ok(0)
        && store.conflicts().await == Ok(vec![])
        && store.get_meta(META_OUTBOX_SEQ).await == Ok(None)
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
    assert_eq!(store.get_meta(META_OUTBOX_SEQ).await, Ok(Some(json!(5))));
    let snapshot = store
        .transact(&["a".into()], |s| {
            Ok::<_, StoreError>((WriteBatch::default(), s))
        })
        .await
        .expect("read");
    assert_eq!(snapshot.next_seq, 5);
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
            assert_eq!(snapshot.next_seq, 1);
            let _unused = WriteBatch {
                put_docs: vec![doc("b", DocStatus::Synced)],
                delete_docs: vec!["a".into()],
                delete_messages: vec![0],
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
    assert_eq!(store.get_meta(META_OUTBOX_SEQ).await, Ok(Some(json!(1))));
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
    assert_eq!(db.version(), 1.0);
    let tx = db
        .transaction(["docs", "outbox", "meta"])
        .with_mode(TransactionMode::Readonly)
        .build()
        .expect("tx");
    let field =
        |record: &JsValue, name: &str| js_sys::Reflect::get(record, &name.into()).expect("field");
    let docs = tx.object_store("docs").expect("docs");
    let by_status = docs.index("status").expect("status index");
    let pending: Vec<JsValue> = by_status
        .get_all()
        .with_query("pending")
        .primitive()
        .expect("getAll")
        .await
        .expect("records")
        .collect::<Result<_, _>>()
        .expect("records");
    assert_eq!(pending.len(), 1);
    assert_eq!(field(&pending[0], "id").as_string().as_deref(), Some("a"));
    assert_eq!(
        field(&pending[0], "status").as_string().as_deref(),
        Some("pending")
    );
    let json = field(&pending[0], "json").as_string().expect("json string");
    assert_eq!(
        serde_json::from_str::<DocRecord>(&json).ok(),
        Some(doc("a", DocStatus::Pending))
    );

    let outbox = tx.object_store("outbox").expect("outbox");
    let by_doc = outbox.index("docId").expect("docId index");
    let record: Option<JsValue> = by_doc
        .get("a")
        .primitive()
        .expect("get")
        .await
        .expect("get");
    let record = record.expect("message record");
    assert_eq!(field(&record, "seq").as_f64(), Some(3.0));
    assert_eq!(field(&record, "docId").as_string().as_deref(), Some("a"));

    let meta = tx.object_store("meta").expect("meta");
    let record: Option<JsValue> = meta
        .get(META_OUTBOX_SEQ)
        .primitive()
        .expect("get")
        .await
        .expect("get");
    let json = field(&record.expect("meta record"), "json");
    assert_eq!(json.as_string().as_deref(), Some("4"));
    drop(tx);
    db.close();
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
    };
    let batch = WriteBatch {
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
        include_deleted: false,
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
    let read = |s| Ok::<_, StoreError>((WriteBatch::default(), s));
    assert_eq!(
        idb.transact(&ids, read).await,
        memory.transact(&ids, read).await
    );
}
