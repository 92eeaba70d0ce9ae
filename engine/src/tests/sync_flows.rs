//! Two-client flows: convergence, conflicts, echoes, tombstones.

use futures::executor::block_on;
use serde_json::{json, Value};

use super::{device::Device, fake_server::FakeServer};
use crate::{
    event::Event, event::Origin, event::Settlement, model::DocStatus, protocol::revision::Revision,
};

#[test]
fn seed_walkthrough_stale_update_becomes_a_conflict_and_resolves() {
    let server = FakeServer::new();
    let (a, b) = (Device::new(), Device::new());
    a.put(json!({"_id": "car", "car": {"make": "Toyota", "color": "red"}}))
        .expect("put");
    a.sync(&server);
    b.sync(&server);
    assert_eq!(
        b.body("car"),
        Some(json!({"car": {"make": "Toyota", "color": "red"}}))
    );
    a.put(json!({"_id": "car", "car": {"make": "Toyota", "color": "blue"}}))
        .expect("put");
    b.put(json!({"_id": "car", "car": {"make": "Toyota", "color": "yellow"}}))
        .expect("put");
    assert_eq!(a.sync(&server).pushed, 1);
    let report = b.sync(&server);
    assert_eq!(report.conflicts, 1);
    assert_eq!(b.status("car"), Some(DocStatus::Conflicted));
    let conflicts = block_on(b.client.conflicts()).expect("conflicts");
    let c = &conflicts[0];
    assert_eq!(
        c.base,
        json!({"car": {"make": "Toyota", "color": "red"}})
            .as_object()
            .cloned()
    );
    assert_eq!(
        c.local,
        json!({"car": {"make": "Toyota", "color": "yellow"}})
            .as_object()
            .cloned()
    );
    assert_eq!(
        c.remote,
        json!({"car": {"make": "Toyota", "color": "blue"}})
            .as_object()
            .cloned()
    );
    assert_eq!(c.remote_rev, server.rev("car"));
    assert!(matches!(
        b.settlements("car").last(),
        Some(Settlement::Conflict { .. })
    ));
    assert!(b
        .events
        .borrow()
        .iter()
        .any(|e| matches!(e, Event::Conflict { .. })));
    // Resolve with a merged body; both converge.
    let merged = json!({"car": {"make": "Toyota", "color": "green"}});
    block_on(b.client.resolve("car", Some(merged.clone()), &b.env)).expect("resolve");
    assert_eq!(b.status("car"), Some(DocStatus::Pending));
    assert_eq!(b.sync(&server).pushed, 1);
    a.sync(&server);
    assert_eq!(server.body("car"), Some(merged.clone()));
    assert_eq!(a.body("car"), Some(merged.clone()));
    assert_eq!(b.status("car"), Some(DocStatus::Synced));
    assert!(block_on(b.client.conflicts())
        .expect("conflicts")
        .is_empty());
}

#[test]
fn own_echoes_are_skipped() {
    let server = FakeServer::new();
    let a = Device::new();
    a.put(json!({"_id": "x", "v": 1})).expect("put");
    let report = a.sync(&server);
    assert_eq!((report.pushed, report.pulled), (1, 0));
    let remote_changes = a
        .events
        .borrow()
        .iter()
        .filter(|e| {
            matches!(
                e,
                Event::Change {
                    origin: Origin::Remote,
                    ..
                }
            )
        })
        .count();
    assert_eq!(remote_changes, 0);
}

#[test]
fn deletes_travel_as_tombstones() {
    let server = FakeServer::new();
    let (a, b) = (Device::new(), Device::new());
    a.put(json!({"_id": "photo", "name": "beach"}))
        .expect("put");
    a.sync(&server);
    b.sync(&server);
    block_on(a.client.delete("photo", None, &a.env)).expect("delete");
    a.sync(&server);
    b.sync(&server);
    let doc = block_on(b.client.get("photo"))
        .expect("get")
        .expect("tombstone kept");
    assert!(doc.deleted);
    assert_eq!(doc.status, DocStatus::Synced);
    assert!(block_on(b.client.all(&Default::default()))
        .expect("all")
        .is_empty());
    assert!(b.events.borrow().iter().any(|e| matches!(
        e,
        Event::Change {
            deleted: true,
            origin: Origin::Remote,
            ..
        }
    )));
    // Deleting what does not exist is a coded error.
    assert_eq!(
        block_on(b.client.delete("photo", None, &b.env))
            .expect_err("gone")
            .code()
            .as_str(),
        "not_found"
    );
}

#[test]
fn a_local_only_document_deleted_before_push_is_forgotten() {
    let server = FakeServer::new();
    let a = Device::new();
    a.put(json!({"_id": "tmp"})).expect("put");
    block_on(a.client.delete("tmp", None, &a.env)).expect("delete");
    assert_eq!(a.outbox_len(), 0);
    assert_eq!(a.sync(&server).pushed, 0);
    assert_eq!(server.rev("tmp"), None);
}

#[test]
fn a_pulled_change_over_unpushed_edits_is_a_conflict() {
    let server = FakeServer::new();
    let (a, b) = (Device::new(), Device::new());
    a.put(json!({"_id": "g", "name": "one"})).expect("put");
    a.sync(&server);
    b.sync(&server);
    a.put(json!({"_id": "g", "name": "renamed"})).expect("put");
    a.sync(&server);
    block_on(b.client.delete("g", None, &b.env)).expect("delete");
    // Pull only, as if the push were blocked: simulate by pulling through a fresh cycle after
    // making the push fail.
    server.fault("_bulk_docs", super::fake_server::Fault::Status(503));
    let report = b.sync(&server);
    assert_eq!(report.errors[0].code.as_str(), "server");
    assert_eq!(report.conflicts, 0, "the failed cycle stops before pulling");
    let report = b.sync(&server);
    assert_eq!(report.conflicts, 1);
    assert!(
        matches!(b.settlements("g").last(), Some(Settlement::Conflict { .. })),
        "the waiting delete settles"
    );
    let conflict = &block_on(b.client.conflicts()).expect("conflicts")[0];
    assert_eq!(conflict.local, None, "deleted locally");
    assert_eq!(
        conflict.remote,
        json!({"name": "renamed"}).as_object().cloned()
    );
    // Discarding the local side takes the server's.
    block_on(b.client.discard_local("g", &b.env)).expect("discard");
    assert_eq!(b.body("g"), Some(json!({"name": "renamed"})));
    assert_eq!(b.status("g"), Some(DocStatus::Synced));
}

#[test]
fn the_same_change_twice_is_harmless() {
    let server = FakeServer::new();
    let (a, b) = (Device::new(), Device::new());
    a.put(json!({"_id": "x", "v": 1})).expect("put");
    a.sync(&server);
    b.sync(&server);
    // Forget the checkpoint: the whole feed is applied again.
    let reset = vec![(
        crate::store::META_CHECKPOINT.to_string(),
        serde_json::Value::Null,
    )];
    let batch = crate::store::WriteBatch {
        meta: reset,
        ..Default::default()
    };
    block_on(crate::store::LocalStore::transact(
        b.client.store(),
        &[],
        |_| Ok::<_, crate::error::EngineError>((batch, ())),
    ))
    .expect("reset");
    let report = b.sync(&server);
    assert_eq!(report.pulled, 0);
    assert_eq!(b.body("x"), Some(json!({"v": 1})));
}

#[test]
fn concurrent_identical_edits_do_not_conflict() {
    let server = FakeServer::new();
    let (a, b) = (Device::new(), Device::new());
    a.put(json!({"_id": "x", "v": 1})).expect("put");
    a.sync(&server);
    b.sync(&server);
    a.put(json!({"_id": "x", "v": 2})).expect("put");
    b.put(json!({"_id": "x", "v": 2})).expect("put");
    a.sync(&server);
    // b's push conflicts, but the server holds exactly b's body at the next generation.
    let report = b.sync(&server);
    assert_eq!(report.conflicts, 0);
    assert_eq!(b.status("x"), Some(DocStatus::Synced));
}

#[test]
fn an_unreachable_remote_is_checked_again_and_created_once_reachable() {
    use super::fake_server::Fault;
    let server = FakeServer::new();
    let a = Device::new();
    a.put(json!({"_id": "x"})).expect("put");
    server.fault("", Fault::Offline);
    let run = a.client.sync(&server, &a.env, false, |_| {});
    let (report, remote_ready) = block_on(run).expect("sync");
    assert_eq!(report.errors[0].code.as_str(), "network");
    assert!(!remote_ready, "the database was never seen");
    let run = a.client.sync(&server, &a.env, remote_ready, |_| {});
    let (report, remote_ready) = block_on(run).expect("sync");
    assert!(remote_ready);
    assert_eq!(report.pushed, 1);
}

/// The change events of `events` as (origin, deleted, doc).
fn changes(events: &[Event]) -> Vec<(Origin, bool, Option<Value>)> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::Change {
                origin,
                deleted,
                doc,
                ..
            } => Some((*origin, *deleted, doc.clone())),
            _ => None,
        })
        .collect()
}

#[test]
fn change_events_carry_the_document_as_get_reads_it() {
    let server = FakeServer::new();
    let (a, b) = (Device::new(), Device::new());
    let (_, local) = block_on(
        a.client
            .put(json!({"_id": "photo", "name": "beach"}), &a.env),
    )
    .expect("put");
    // A local write's document carries the revision of that write.
    let local_rev = Revision::next(None, &json!({"name": "beach"}), false).to_string();
    assert_eq!(
        changes(&local),
        vec![(
            Origin::Local,
            false,
            Some(json!({"_id": "photo", "_rev": local_rev, "name": "beach"}))
        )]
    );
    a.sync(&server);
    b.sync(&server);
    let rev = server.rev("photo").expect("pushed").to_string();
    let pulled = changes(&b.events.borrow());
    assert_eq!(
        pulled,
        vec![(
            Origin::Remote,
            false,
            Some(json!({"_id": "photo", "_rev": rev, "name": "beach"}))
        )]
    );
    let (_, deleted) = block_on(b.client.delete("photo", None, &b.env)).expect("delete");
    assert_eq!(changes(&deleted), vec![(Origin::Local, true, None)]);
    b.sync(&server);
    a.sync(&server);
    let last = changes(&a.events.borrow()).pop();
    assert_eq!(last, Some((Origin::Remote, true, None)));
}
