//! The conformance checks of `transact_creating`: plans that may run twice
//! (first as if their documents were absent, or against the records the tab
//! wrote last) must come to the outcome of an ordinary `transact`.

use serde_json::{json, Value};

use super::{body, doc, message};
use crate::{
    error::StoreError,
    model::{DocRecord, DocStatus},
    store::{LocalStore, Snapshot, WriteBatch, META_OUTBOX_SEQ},
};

/// The first sequence number above the snapshot's `next_seq` and above its
/// messages too: tabs drawing numbers from the same clock may give two the same.
fn first_free_seq(snapshot: &Snapshot) -> u64 {
    snapshot
        .messages
        .values()
        .flatten()
        .map(|m| m.seq + 1)
        .fold(snapshot.next_seq, u64::max)
}

/// A plan for `transact_creating`: writes each of `ids` with a message, its
/// body naming the ids the snapshot held, and returns those ids; it refuses
/// when the snapshot holds `refuse`. Public for the browser tests that run it
/// from two connections, as two tabs would.
pub fn creating_plan<'a>(
    ids: &'a [&'a str],
    refuse: Option<&'a str>,
) -> impl FnMut(Snapshot) -> Result<(WriteBatch, Vec<String>), StoreError> + 'a {
    move |snapshot| {
        let seen: Vec<String> = snapshot.docs.keys().cloned().collect();
        if refuse.is_some_and(|id| snapshot.docs.contains_key(id)) {
            return Err(StoreError::Backend("refused by the plan".into()));
        }
        let first = first_free_seq(&snapshot);
        let mut batch = WriteBatch::default();
        for (n, id) in ids.iter().enumerate() {
            let mut d = doc(id, DocStatus::Pending, false);
            d.local = body(json!({ "saw": seen }));
            batch.put_docs.push(d);
            batch.put_messages.push(message(first + n as u64, id));
        }
        let next = first + ids.len() as u64;
        batch.meta.push((META_OUTBOX_SEQ.into(), json!(next)));
        Ok((batch, seen))
    }
}

pub(super) async fn creating_writes_see_what_exists<S: LocalStore>(store: &S) {
    let owned = |ids: &[&str]| ids.iter().map(|id| id.to_string()).collect::<Vec<_>>();
    let stored_saw = |d: Option<DocRecord>| d.and_then(|d| d.local.get("saw").cloned());
    // New documents: written, and the plan saw none.
    let out = store
        .transact_creating(&owned(&["n1", "n2"]), creating_plan(&["n1", "n2"], None))
        .await;
    assert_eq!(out, Ok(vec![]));
    assert_eq!(
        stored_saw(store.get_doc("n1").await.expect("n1")),
        Some(json!([]))
    );
    assert_eq!(store.outbox_len().await, Ok(2));
    // One existing among new ones: the outcome is the plan's over what exists,
    // for every document of the batch.
    let ids = ["n1", "n3"];
    let out = store
        .transact_creating(&owned(&ids), creating_plan(&ids, None))
        .await;
    assert_eq!(out, Ok(vec!["n1".to_string()]));
    for id in ids {
        let d = store.get_doc(id).await.expect("read");
        assert_eq!(stored_saw(d), Some(json!(["n1"])), "{id}");
    }
    // An existing document, alone.
    let out = store
        .transact_creating(&owned(&["n2"]), creating_plan(&["n2"], None))
        .await;
    assert_eq!(out, Ok(vec!["n2".to_string()]));
    // A plan that refuses once it sees what exists writes nothing, not even
    // the new document it would have created.
    let ids = ["n4", "n1"];
    let out = store
        .transact_creating(&owned(&ids), creating_plan(&ids, Some("n1")))
        .await;
    assert!(out.is_err());
    assert_eq!(store.get_doc("n4").await, Ok(None));
    assert_eq!(
        stored_saw(store.get_doc("n1").await.expect("n1")),
        Some(json!(["n1"]))
    );
    // A plan writing beyond its ids and metadata is written whole.
    let out = store
        .transact_creating(&owned(&["n5"]), |snapshot| {
            let (mut batch, seen) = creating_plan(&["n5", "n6"], None)(snapshot)?;
            batch.meta.push(("other".into(), json!(5)));
            Ok::<_, StoreError>((batch, seen))
        })
        .await;
    assert_eq!(out, Ok(vec![]));
    assert!(store.get_doc("n6").await.expect("n6").is_some());
    assert_eq!(store.get_meta("other").await, Ok(Some(json!(5))));
    assert_eq!(store.outbox_len().await, Ok(2 + 2 + 1 + 2));
}

/// A plan for `transact_creating` that counts: writes `id` with `n` one above
/// what the snapshot holds (0 when absent), with a message, and returns the
/// new `n`. Public for the browser tests that count from two connections.
pub fn counting_plan(
    id: &str,
) -> impl FnMut(Snapshot) -> Result<(WriteBatch, u64), StoreError> + '_ {
    move |snapshot| {
        let n = snapshot
            .docs
            .get(id)
            .and_then(|d| d.local.get("n"))
            .and_then(Value::as_u64)
            .unwrap_or(0)
            + 1;
        let seq = first_free_seq(&snapshot);
        let mut d = doc(id, DocStatus::Pending, false);
        d.local = body(json!({ "n": n }));
        let batch = WriteBatch {
            put_docs: vec![d],
            put_messages: vec![message(seq, id)],
            meta: vec![(META_OUTBOX_SEQ.into(), json!(seq + 1))],
            ..WriteBatch::default()
        };
        Ok((batch, n))
    }
}

pub(super) async fn repeated_updates_count_every_write<S: LocalStore>(store: &S) {
    let ids = ["c".to_string()];
    for expected in 1..=5 {
        let n = store.transact_creating(&ids, counting_plan("c")).await;
        assert_eq!(n, Ok(expected));
    }
    let stored = store.get_doc("c").await.expect("read").expect("stored");
    assert_eq!(stored.local.get("n"), Some(&json!(5)));
    assert_eq!(store.outbox_len().await, Ok(5));
}
