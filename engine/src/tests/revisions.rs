//! Optimistic concurrency on local writes: a `put` is based on the version
//! it names (`_rev`), and one based on anything but the stored version is
//! refused with nothing written.

use std::rc::Rc;

use futures::executor::block_on;
use serde_json::{json, Value};

use super::{device::Device, fake_server::FakeServer};
use crate::{
    client::Client,
    client::ClientConfig,
    error::EngineError,
    model::{DocRecord, DocStatus},
    store::{memory::MemoryStore, LocalStore, WriteBatch},
};

/// A raw `put` (no `_rev` filled in), returning the new `_rev`.
fn put(device: &Device, doc: Value) -> Result<String, EngineError> {
    let (outcome, _) = block_on(device.client.put(doc, &device.env))?;
    Ok(outcome.rev.expect("a written document has a _rev"))
}

fn rev_of(device: &Device, id: &str) -> Option<String> {
    let doc = block_on(device.client.get(id)).expect("get")?;
    doc.visible_rev().map(ToString::to_string)
}

#[test]
fn each_write_names_a_new_version_and_a_stale_one_is_refused() {
    let device = Device::new();
    let first = put(&device, json!({"_id": "a", "n": 1})).expect("create");
    assert_eq!(rev_of(&device, "a"), Some(first.clone()));
    let second = put(&device, json!({"_id": "a", "_rev": first, "n": 2})).expect("update");
    assert_ne!(second, first);
    assert_eq!(rev_of(&device, "a"), Some(second.clone()));
    // The first version is gone: a write based on it would lose `n: 2`.
    let stale = put(&device, json!({"_id": "a", "_rev": first, "n": 3})).expect_err("stale");
    assert_eq!(stale.code().as_str(), "conflict");
    assert_eq!(
        stale,
        EngineError::Conflict {
            id: "a".into(),
            rev: Some(first),
            current: Some(second.clone()),
        }
    );
    assert_eq!(device.body("a"), Some(json!({"n": 2})));
    assert_eq!(device.outbox_len(), 1);
    put(&device, json!({"_id": "a", "_rev": second, "n": 3})).expect("current");
    assert_eq!(device.body("a"), Some(json!({"n": 3})));
}

#[test]
fn a_put_without_rev_replaces_a_document_only_under_last_writer_wins() {
    let strict = Device::new();
    put(&strict, json!({"_id": "a", "n": 1})).expect("create");
    let refused = put(&strict, json!({"_id": "a", "n": 2})).expect_err("no _rev");
    assert_eq!(refused.code().as_str(), "conflict");
    assert!(refused.to_string().contains("lastWriteWins"), "{refused}");
    assert_eq!(strict.body("a"), Some(json!({"n": 1})));
    // A deleted document is recreated without naming its tombstone.
    block_on(strict.client.delete("a", None, &strict.env)).expect("delete");
    put(&strict, json!({"_id": "a", "n": 3})).expect("recreate");
    assert_eq!(strict.body("a"), Some(json!({"n": 3})));

    let loose = Device::last_write_wins();
    put(&loose, json!({"_id": "a", "n": 1})).expect("create");
    put(&loose, json!({"_id": "a", "n": 2})).expect("replace");
    assert_eq!(loose.body("a"), Some(json!({"n": 2})));
    // A named `_rev` is checked either way.
    let stale = put(&loose, json!({"_id": "a", "_rev": "1-abc", "n": 3})).expect_err("stale");
    assert_eq!(stale.code().as_str(), "conflict");
}

#[test]
fn a_rev_for_a_document_that_does_not_exist_is_a_conflict() {
    let device = Device::new();
    let err = put(&device, json!({"_id": "ghost", "_rev": "1-abc"})).expect_err("absent");
    assert_eq!(err.code().as_str(), "conflict");
    assert_eq!(device.status("ghost"), None);
    assert_eq!(device.outbox_len(), 0);
}

#[test]
fn a_malformed_rev_is_refused_before_anything_is_read() {
    let device = Device::new();
    put(&device, json!({"_id": "a", "n": 1})).expect("create");
    for bad in [
        json!("abc"),
        json!("0-abc"),
        json!("1-"),
        json!(5),
        json!({"r": 1}),
    ] {
        let err = put(&device, json!({"_id": "a", "_rev": bad, "n": 2})).expect_err("malformed");
        assert_eq!(err.code().as_str(), "invalid_rev", "{bad}");
    }
    // `_rev: null` names no revision.
    let err = put(&device, json!({"_id": "b", "_rev": null})).map(|_| ());
    assert_eq!(err, Ok(()));
    assert_eq!(device.body("a"), Some(json!({"n": 1})));
}

#[test]
fn two_tabs_cannot_overwrite_each_others_edit_unseen() {
    let store = Rc::new(MemoryStore::new());
    let one = Client::new(Rc::clone(&store), ClientConfig::default());
    let two = Client::new(Rc::clone(&store), ClientConfig::default());
    let env = super::fake_server::TestEnv::default();
    let (created, _) =
        block_on(one.put(json!({"_id": "doc", "title": "draft"}), &env)).expect("put");
    let read = created.rev.expect("rev");
    // Both tabs read the same version; the first to save wins.
    block_on(one.put(json!({"_id": "doc", "_rev": read, "title": "one"}), &env)).expect("one");
    let lost = block_on(two.put(json!({"_id": "doc", "_rev": read, "title": "two"}), &env));
    assert_eq!(
        lost.map(|_| ()).map_err(|e| e.code().as_str()),
        Err("conflict")
    );
    let stored = block_on(two.get("doc")).expect("get").expect("stored");
    assert_eq!(stored.local.get("title"), Some(&json!("one")));
}

#[test]
fn the_version_a_push_landed_stays_writable_until_something_else_changes_it() {
    let server = FakeServer::new();
    server.own_rev_names.set(true);
    let (a, b) = (Device::new(), Device::new());
    let local = put(&a, json!({"_id": "a", "n": 1})).expect("create");
    a.sync(&server);
    assert_eq!(a.status("a"), Some(DocStatus::Synced));
    let server_rev = server.rev("a").expect("pushed").to_string();
    assert_ne!(server_rev, local, "the server named the version otherwise");
    assert_eq!(rev_of(&a, "a"), Some(server_rev.clone()));
    // An app still holding the `_rev` its put returned edits the same version.
    let edited = put(&a, json!({"_id": "a", "_rev": local, "n": 2})).expect("same version");
    a.sync(&server);
    // Another client changes it; once pulled, older names are stale.
    b.sync(&server);
    b.put(json!({"_id": "a", "n": 3})).expect("b edits");
    b.sync(&server);
    a.sync(&server);
    assert_eq!(a.body("a"), Some(json!({"n": 3})));
    for stale in [local, edited, server_rev] {
        let err = put(&a, json!({"_id": "a", "_rev": stale, "n": 4})).expect_err("stale");
        assert_eq!(err.code().as_str(), "conflict");
    }
    let current = rev_of(&a, "a").expect("rev");
    assert_eq!(
        Some(current.clone()),
        server.rev("a").map(|r| r.to_string())
    );
    put(&a, json!({"_id": "a", "_rev": current, "n": 4})).expect("current");
}

#[test]
fn a_bulk_write_with_one_stale_rev_writes_nothing_and_a_group_fails_it_alone() {
    let device = Device::new();
    let rev = put(&device, json!({"_id": "a", "n": 1})).expect("create");
    let docs = vec![
        json!({"_id": "b", "n": 1}),
        json!({"_id": "a", "_rev": "1-0000", "n": 2}),
    ];
    let err = block_on(device.client.put_many(docs.clone(), &device.env)).expect_err("bulk");
    assert_eq!(err.code().as_str(), "conflict");
    assert_eq!(
        device.status("b"),
        None,
        "nothing of the bulk write is kept"
    );
    let results = block_on(device.client.put_each(docs, &device.env)).expect("group");
    let codes: Vec<Option<&str>> = results
        .iter()
        .map(|r| r.as_ref().err().map(|e| e.code().as_str()))
        .collect();
    assert_eq!(codes, [None, Some("conflict")]);
    assert_eq!(device.body("b"), Some(json!({"n": 1})));
    assert_eq!(device.body("a"), Some(json!({"n": 1})));
    let docs = vec![json!({"_id": "a", "_rev": rev, "n": 2})];
    block_on(device.client.put_many(docs, &device.env)).expect("current rev");
    assert_eq!(device.body("a"), Some(json!({"n": 2})));
}

#[test]
fn a_delete_naming_a_rev_deletes_only_that_version() {
    let device = Device::new();
    let first = put(&device, json!({"_id": "a", "n": 1})).expect("create");
    let second = put(&device, json!({"_id": "a", "_rev": first, "n": 2})).expect("update");
    let delete = |rev: &str| block_on(device.client.delete("a", Some(rev), &device.env));
    assert_eq!(
        delete(&first).map(|_| ()).map_err(|e| e.code().as_str()),
        Err("conflict")
    );
    assert_eq!(
        delete("nope").map(|_| ()).map_err(|e| e.code().as_str()),
        Err("invalid_rev")
    );
    assert_eq!(device.body("a"), Some(json!({"n": 2})), "nothing deleted");
    delete(&second).expect("current version");
    assert_eq!(device.body("a"), None);
    assert_eq!(
        delete(&second).map(|_| ()).map_err(|e| e.code().as_str()),
        Err("not_found")
    );
}

#[test]
fn a_record_from_before_local_revisions_stays_writable() {
    let device = Device::new();
    // As an older release stored an unpushed write: no server revision, no local one.
    let legacy = DocRecord {
        id: "old".into(),
        rev: None,
        base: None,
        local: json!({"n": 1}).as_object().cloned().unwrap_or_default(),
        status: DocStatus::Pending,
        deleted: false,
        updated_at: 1.0,
        attachments: None,
        local_rev: None,
        local_attachments: None,
    };
    let store = device.client.store();
    let batch = WriteBatch {
        put_docs: vec![legacy],
        ..WriteBatch::default()
    };
    block_on(store.transact(&["old".to_owned()], |_| Ok::<_, EngineError>((batch, ()))))
        .expect("legacy record");
    assert_eq!(rev_of(&device, "old"), None, "nothing to name");
    let rev = put(&device, json!({"_id": "old", "n": 2})).expect("updated without _rev");
    assert_eq!(rev_of(&device, "old"), Some(rev.clone()));
    // From then on it has a `_rev`, and a write must name it.
    let err = put(&device, json!({"_id": "old", "n": 3})).expect_err("now named");
    assert_eq!(err.code().as_str(), "conflict");
    put(&device, json!({"_id": "old", "_rev": rev, "n": 3})).expect("named");
}
