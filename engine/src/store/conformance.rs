//! The conformance suite every [`LocalStore`] must pass: natively for the memory
//! store, in a real browser for IndexedDB. It panics (assert) on the first
//! difference, which both test harnesses report as a failure.

mod attachments;
mod creating;

use std::future::Future;

pub use creating::{counting_plan, creating_plan};

use serde_json::{json, Value};

use super::{DocQuery, LocalStore, WriteBatch, META_CHECKPOINT, META_OUTBOX_SEQ};
use crate::{
    error::StoreError,
    model::{Body, ConflictRecord, DocRecord, DocStatus},
    outbox::{MessageOp, MessageState, OutboxMessage},
    protocol::revision::Revision,
};

fn body(value: Value) -> Body {
    match value {
        Value::Object(map) => map,
        _ => Body::new(),
    }
}

fn doc(id: &str, status: DocStatus, deleted: bool) -> DocRecord {
    DocRecord {
        id: id.into(),
        rev: None,
        base: None,
        local: body(
            json!({"name": id, "text": "héllo 🌊 e\u{301}", "n": [1, 2.5, null, {"deep": true}]}),
        ),
        status,
        deleted,
        updated_at: 1_700_000_000_000.0,
        // Kept through every store: a push sends them back.
        attachments: (!deleted).then(|| stubs("photo.jpg")),
        // The last local write's revision, which every store must keep.
        local_rev: (status != DocStatus::Synced)
            .then(|| Revision::next_of(None, &body(json!({"name": id})), deleted)),
        // A pending document's attachments, one of them added locally.
        local_attachments: (status == DocStatus::Pending && !deleted).then(|| {
            let mut set = stubs("photo.jpg");
            set.insert(
                "note.txt".into(),
                json!({"content_type": "text/plain", "digest": "md5-BBBB", "length": 5}),
            );
            set
        }),
    }
}

fn stubs(name: &str) -> crate::model::Attachments {
    body(
        json!({name: {"content_type": "image/jpeg", "digest": "md5-AAAA", "length": 3, "revpos": 1, "stub": true}}),
    )
}

fn message(seq: u64, doc_id: &str) -> OutboxMessage {
    OutboxMessage {
        seq,
        id: format!("m{seq}"),
        doc_id: doc_id.into(),
        op: MessageOp::Put,
        base_rev: "1-abc".parse().ok(),
        body: Some(body(json!({"v": seq}))),
        created_at: 1.0,
        attempts: 0,
        last_error: None,
        state: MessageState::Queued,
        version: seq,
        sent: None,
        attachments: None,
        // Every other message carries leaves to delete, so that each store
        // is seen to keep them.
        drop_leaves: (seq % 2 == 0)
            .then(|| "3-abc".parse().expect("a revision"))
            .into_iter()
            .collect(),
    }
}

/// Runs every check, each on a fresh store from `make`.
pub async fn run_all<S, F, Fut>(mut make: F)
where
    S: LocalStore,
    F: FnMut() -> Fut,
    Fut: Future<Output = S>,
{
    empty_store(&make().await).await;
    write_and_read_back(&make().await).await;
    failed_plan_writes_nothing(&make().await).await;
    outbox_order_and_grouping(&make().await).await;
    listing_filters(&make().await).await;
    conflicts_and_meta(&make().await).await;
    creating::creating_writes_see_what_exists(&make().await).await;
    creating::repeated_updates_count_every_write(&make().await).await;
    attachments::bytes_by_digest(&make().await).await;
}

async fn empty_store<S: LocalStore>(store: &S) {
    assert_eq!(store.get_doc("a").await, Ok(None));
    assert_eq!(store.list_docs(&DocQuery::default()).await, Ok(vec![]));
    assert_eq!(store.outbox(None, 10).await, Ok(vec![]));
    assert_eq!(store.outbox_len().await, Ok(0));
    assert_eq!(store.conflicts().await, Ok(vec![]));
    assert_eq!(store.get_meta(META_CHECKPOINT).await, Ok(None));
    let snapshot = store
        .transact(&["a".to_string()], |s| {
            Ok::<_, StoreError>((WriteBatch::default(), s))
        })
        .await;
    let snapshot = snapshot.expect("empty transaction");
    assert!(snapshot.docs.is_empty() && snapshot.messages.is_empty());
}

async fn write_and_read_back<S: LocalStore>(store: &S) {
    let a = doc("a", DocStatus::Pending, false);
    let m = message(0, "a");
    let batch = WriteBatch {
        put_docs: vec![a.clone()],
        put_messages: vec![m.clone()],
        meta: vec![(META_OUTBOX_SEQ.into(), json!(1))],
        ..WriteBatch::default()
    };
    let out = store
        .transact(&["a".into()], |_| Ok::<_, StoreError>((batch, 7)))
        .await;
    assert_eq!(out, Ok(7));
    assert_eq!(store.get_doc("a").await, Ok(Some(a.clone())));
    assert_eq!(store.outbox(None, 10).await, Ok(vec![m.clone()]));
    let snapshot = store
        .transact(&["a".into(), "zz".into()], |s| {
            Ok::<_, StoreError>((WriteBatch::default(), s))
        })
        .await
        .expect("read");
    assert_eq!(snapshot.docs.get("a"), Some(&a));
    assert_eq!(snapshot.messages_of("a"), std::slice::from_ref(&m));
    assert!(snapshot.messages_of("zz").is_empty());
    assert!(
        snapshot.next_seq > m.seq,
        "next_seq is above every stored seq"
    );
    // Replace and remove in one batch.
    let batch = WriteBatch {
        delete_docs: vec!["a".into()],
        delete_messages: vec![("a".into(), 0)],
        ..WriteBatch::default()
    };
    store
        .transact(&[], |_| Ok::<_, StoreError>((batch, ())))
        .await
        .expect("delete");
    assert_eq!(store.get_doc("a").await, Ok(None));
    assert_eq!(store.outbox_len().await, Ok(0));
}

async fn failed_plan_writes_nothing<S: LocalStore>(store: &S) {
    let out: Result<(), StoreError> = store
        .transact(&["a".into()], |_| {
            let _unused = WriteBatch {
                put_docs: vec![doc("a", DocStatus::Pending, false)],
                ..WriteBatch::default()
            };
            Err(StoreError::Backend("refused by the plan".into()))
        })
        .await;
    assert!(out.is_err());
    assert_eq!(store.get_doc("a").await, Ok(None));
    assert_eq!(store.outbox_len().await, Ok(0));
}

async fn outbox_order_and_grouping<S: LocalStore>(store: &S) {
    let messages = vec![
        message(3, "b"),
        message(1, "a"),
        message(2, "b"),
        message(10, "c"),
    ];
    // Messages belong to documents with local changes (pending).
    let docs = ["a", "b", "c"]
        .iter()
        .map(|id| doc(id, DocStatus::Pending, false))
        .collect();
    let batch = WriteBatch {
        put_messages: messages,
        put_docs: docs,
        ..WriteBatch::default()
    };
    store
        .transact(&[], |_| Ok::<_, StoreError>((batch, ())))
        .await
        .expect("write");
    let seqs: Vec<u64> = store
        .outbox(None, 10)
        .await
        .expect("outbox")
        .iter()
        .map(|m| m.seq)
        .collect();
    assert_eq!(seqs, vec![1, 2, 3, 10]);
    let first_two: Vec<u64> = store
        .outbox(None, 2)
        .await
        .expect("outbox")
        .iter()
        .map(|m| m.seq)
        .collect();
    assert_eq!(first_two, vec![1, 2]);
    let after: Vec<u64> = store
        .outbox(Some(2), 10)
        .await
        .expect("outbox")
        .iter()
        .map(|m| m.seq)
        .collect();
    assert_eq!(after, vec![3, 10]);
    let after_gap: Vec<u64> = store
        .outbox(Some(4), 1)
        .await
        .expect("outbox")
        .iter()
        .map(|m| m.seq)
        .collect();
    assert_eq!(after_gap, vec![10]);
    let snapshot = store
        .transact(&["b".into()], |s| {
            Ok::<_, StoreError>((WriteBatch::default(), s))
        })
        .await
        .expect("read");
    let b: Vec<u64> = snapshot.messages_of("b").iter().map(|m| m.seq).collect();
    assert_eq!(b, vec![2, 3]);
    assert!(
        snapshot.messages_of("a").is_empty(),
        "only requested ids are read"
    );
    // Replacing a message by seq keeps one copy.
    let mut changed = message(2, "b");
    changed.state = MessageState::Rejected;
    changed.last_error = Some("too large".into());
    let batch = WriteBatch {
        put_messages: vec![changed.clone()],
        ..WriteBatch::default()
    };
    store
        .transact(&[], |_| Ok::<_, StoreError>((batch, ())))
        .await
        .expect("replace");
    assert_eq!(store.outbox_len().await, Ok(4));
    let all = store.outbox(None, 10).await.expect("outbox");
    assert_eq!(all[1], changed);
}

async fn listing_filters<S: LocalStore>(store: &S) {
    let docs = vec![
        doc("c", DocStatus::Synced, false),
        doc("a", DocStatus::Pending, false),
        doc("b", DocStatus::Conflicted, false),
        doc("d", DocStatus::Synced, true),
    ];
    let batch = WriteBatch {
        put_docs: docs,
        ..WriteBatch::default()
    };
    store
        .transact(&[], |_| Ok::<_, StoreError>((batch, ())))
        .await
        .expect("write");
    let ids = |docs: Vec<DocRecord>| docs.into_iter().map(|d| d.id).collect::<Vec<_>>();
    let all = store.list_docs(&DocQuery::default()).await.expect("list");
    assert_eq!(ids(all), vec!["a", "b", "c"]);
    let with_deleted = DocQuery {
        include_deleted: true,
        ..DocQuery::default()
    };
    assert_eq!(
        ids(store.list_docs(&with_deleted).await.expect("list")),
        vec!["a", "b", "c", "d"]
    );
    let synced = DocQuery {
        status: Some(DocStatus::Synced),
        ..DocQuery::default()
    };
    assert_eq!(
        ids(store.list_docs(&synced).await.expect("list")),
        vec!["c"]
    );
    let synced_all = DocQuery {
        status: Some(DocStatus::Synced),
        include_deleted: true,
        ..DocQuery::default()
    };
    assert_eq!(
        ids(store.list_docs(&synced_all).await.expect("list")),
        vec!["c", "d"]
    );
    let pending = DocQuery {
        status: Some(DocStatus::Pending),
        ..DocQuery::default()
    };
    assert_eq!(
        ids(store.list_docs(&pending).await.expect("list")),
        vec!["a"]
    );
    // Ranges, prefixes and pages, as `_all_docs` reads them.
    let cases = [
        (json!({"start": "b"}), vec!["b", "c"]),
        (json!({"end": "b"}), vec!["a", "b"]),
        (json!({"start": "b", "end": "b"}), vec!["b"]),
        (json!({"start": "bb", "deleted": true}), vec!["c", "d"]),
        (json!({"limit": 2}), vec!["a", "b"]),
        (json!({"skip": 1, "limit": 1}), vec!["b"]),
        (json!({"skip": 5}), vec![]),
        (json!({"limit": 0}), vec![]),
        (json!({"descending": true}), vec!["c", "b", "a"]),
        (json!({"descending": true, "start": "b"}), vec!["b", "a"]),
        (
            json!({"descending": true, "end": "b", "deleted": true}),
            vec!["d", "c", "b"],
        ),
        (
            json!({"descending": true, "skip": 1, "limit": 1}),
            vec!["b"],
        ),
        (json!({"prefix": "c", "deleted": true}), vec!["c"]),
        (json!({"prefix": "x"}), vec![]),
        (json!({"start": "c", "end": "a"}), vec![]),
    ];
    for (case, expected) in cases {
        let text = |k: &str| case.get(k).and_then(Value::as_str).map(str::to_owned);
        let number = |k: &str| case.get(k).and_then(Value::as_u64).map(|n| n as usize);
        let query = DocQuery {
            include_deleted: case.get("deleted").is_some(),
            start_key: text("start"),
            end_key: text("end"),
            prefix: text("prefix"),
            skip: number("skip").unwrap_or(0),
            limit: number("limit"),
            descending: case.get("descending").is_some(),
            ..DocQuery::default()
        };
        let found = ids(store.list_docs(&query).await.expect("list"));
        assert_eq!(found, expected, "{case}");
    }
}

async fn conflicts_and_meta<S: LocalStore>(store: &S) {
    let conflict = |id: &str| ConflictRecord {
        id: id.into(),
        base: Some(body(json!({"color": "red"}))),
        local: Some(body(json!({"color": "yellow"}))),
        remote: None,
        remote_rev: "2-abc".parse().ok(),
        detected_at: 5.0,
        remote_attachments: Some(stubs("plan.pdf")),
        local_attachments: Some(stubs("photo.jpg")),
        losing_revs: vec!["2-def".parse().expect("a revision")],
    };
    let batch = WriteBatch {
        put_conflicts: vec![conflict("y"), conflict("x")],
        put_docs: vec![
            doc("x", DocStatus::Conflicted, false),
            doc("y", DocStatus::Conflicted, false),
        ],
        meta: vec![
            (META_CHECKPOINT.into(), json!("12-g1AAA")),
            ("other".into(), json!({"a": 1})),
        ],
        ..WriteBatch::default()
    };
    store
        .transact(&[], |_| Ok::<_, StoreError>((batch, ())))
        .await
        .expect("write");
    let ids: Vec<String> = store
        .conflicts()
        .await
        .expect("conflicts")
        .into_iter()
        .map(|c| c.id)
        .collect();
    assert_eq!(ids, vec!["x", "y"]);
    assert_eq!(
        store.get_meta(META_CHECKPOINT).await,
        Ok(Some(json!("12-g1AAA")))
    );
    assert_eq!(store.get_meta("other").await, Ok(Some(json!({"a": 1}))));
    let snapshot = store
        .transact(&["x".into()], |s| {
            Ok::<_, StoreError>((WriteBatch::default(), s))
        })
        .await
        .expect("read");
    assert_eq!(snapshot.conflicts.get("x"), Some(&conflict("x")));
    let batch = WriteBatch {
        delete_conflicts: vec!["x".into()],
        meta: vec![(META_CHECKPOINT.into(), json!(42))],
        ..WriteBatch::default()
    };
    store
        .transact(&[], |_| Ok::<_, StoreError>((batch, ())))
        .await
        .expect("delete");
    assert_eq!(store.conflicts().await.expect("conflicts").len(), 1);
    assert_eq!(store.get_meta(META_CHECKPOINT).await, Ok(Some(json!(42))));
}
