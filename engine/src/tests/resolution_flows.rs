//! Automatic conflict resolution end to end: devices, the fake server, and the
//! stories the seed tells (bug tracker, gallery, building inspector, census,
//! supervisor and inspector).

use futures::executor::block_on;
use serde_json::{json, Value};

use super::{device::Device, fake_server::FakeServer};
use crate::{
    client::ClientConfig,
    event::{Event, Settlement},
    model::DocStatus,
};

pub(super) fn with_policy(policy: Value) -> Device {
    Device::with_config(ClientConfig {
        conflicts: serde_json::from_value(policy).expect("policy"),
        ..ClientConfig::default()
    })
}

pub(super) fn merging() -> Device {
    with_policy(json!({"strategy": "merge"}))
}

/// Both devices start from `doc`, as the server holds it.
pub(super) fn shared(server: &FakeServer, a: &Device, b: &Device, doc: Value) {
    a.put(doc).expect("put");
    a.sync(server);
    b.sync(server);
}

/// The `resolved` events of a device: (id, strategy, clashes).
pub(super) fn resolved(device: &Device) -> Vec<(String, String, Vec<String>)> {
    device
        .events
        .borrow()
        .iter()
        .filter_map(|e| match e {
            Event::Resolved {
                id,
                strategy,
                clashes,
            } => Some((id.clone(), strategy.clone(), clashes.clone())),
            _ => None,
        })
        .collect()
}

pub(super) fn conflict_count(device: &Device) -> usize {
    block_on(device.client.conflicts())
        .expect("conflicts")
        .len()
}

#[test]
fn bug_tracker_edits_of_different_fields_merge_and_sync() {
    let server = FakeServer::new();
    let (a, b) = (merging(), merging());
    shared(
        &server,
        &a,
        &b,
        json!({"_id": "bug1", "title": "Crash", "status": "open", "assignee": null}),
    );
    a.put(json!({"_id": "bug1", "title": "Crash", "status": "closed", "assignee": null}))
        .expect("put");
    b.put(json!({"_id": "bug1", "title": "Crash", "status": "open", "assignee": "ana"}))
        .expect("put");
    a.sync(&server);
    let report = b.sync(&server);
    assert_eq!(report.conflicts, 0);
    assert_eq!(
        report.pushed, 1,
        "the resolution is pushed in the same cycle"
    );
    let merged = json!({"title": "Crash", "status": "closed", "assignee": "ana"});
    assert_eq!(server.body("bug1"), Some(merged.clone()));
    assert_eq!(resolved(&b), vec![("bug1".into(), "merge".into(), vec![])]);
    assert_eq!(b.status("bug1"), Some(DocStatus::Synced));
    // The write's promise settles once, when the resolution is accepted.
    assert_eq!(
        b.settlements("bug1").last(),
        Some(&Settlement::Accepted {
            rev: server.rev("bug1").expect("rev")
        })
    );
    assert_eq!(
        b.settlements("bug1").len(),
        1,
        "settled once, not at the conflict"
    );
    a.sync(&server);
    assert_eq!(a.body("bug1"), Some(merged));
    assert_eq!(conflict_count(&a) + conflict_count(&b), 0);
}

#[test]
fn bug_tracker_sentences_of_one_description_merge_as_text() {
    let server = FakeServer::new();
    let (a, b) = (merging(), merging());
    let base = "The app crashes on start. It happens on Android.";
    shared(&server, &a, &b, json!({"_id": "bug2", "description": base}));
    a.put(
        json!({"_id": "bug2", "description": "The app crashes on launch. It happens on Android."}),
    )
    .expect("put");
    b.put(json!({"_id": "bug2", "description": "The app crashes on start. It happens on Android 14 only."})).expect("put");
    a.sync(&server);
    b.sync(&server);
    let merged =
        json!({"description": "The app crashes on launch. It happens on Android 14 only."});
    assert_eq!(server.body("bug2"), Some(merged.clone()));
    a.sync(&server);
    assert_eq!(a.body("bug2"), Some(merged));
}

#[test]
fn bug_tracker_same_field_different_values_stays_manual() {
    let server = FakeServer::new();
    let (a, b) = (merging(), merging());
    shared(&server, &a, &b, json!({"_id": "bug3", "priority": "low"}));
    a.put(json!({"_id": "bug3", "priority": "high"}))
        .expect("put");
    b.put(json!({"_id": "bug3", "priority": "medium"}))
        .expect("put");
    a.sync(&server);
    let report = b.sync(&server);
    assert_eq!(report.conflicts, 1);
    assert!(resolved(&b).is_empty());
    assert_eq!(b.status("bug3"), Some(DocStatus::Conflicted));
    let conflict = &block_on(b.client.conflicts()).expect("conflicts")[0];
    assert_eq!(
        conflict.remote,
        json!({"priority": "high"}).as_object().cloned()
    );
    assert_eq!(
        conflict.local,
        json!({"priority": "medium"}).as_object().cloned()
    );
    assert!(matches!(
        b.settlements("bug3").last(),
        Some(Settlement::Conflict { .. })
    ));
}

#[test]
fn gallery_rename_against_delete_is_a_conflict_with_both_versions() {
    let server = FakeServer::new();
    let (a, b) = (merging(), merging());
    shared(&server, &a, &b, json!({"_id": "photo", "name": "IMG_001"}));
    a.put(json!({"_id": "photo", "name": "Beach"}))
        .expect("put");
    block_on(b.client.delete("photo", None, &b.env)).expect("delete");
    a.sync(&server);
    assert_eq!(b.sync(&server).conflicts, 1);
    let conflict = &block_on(b.client.conflicts()).expect("conflicts")[0];
    assert_eq!(conflict.local, None, "deleted here");
    assert_eq!(
        conflict.remote,
        json!({"name": "Beach"}).as_object().cloned()
    );
    assert_eq!(
        conflict.base,
        json!({"name": "IMG_001"}).as_object().cloned()
    );
}

#[test]
fn building_inspectors_extinguisher_lists_are_united() {
    let server = FakeServer::new();
    let (a, b) = (merging(), merging());
    let first = json!({"id": 1, "type": "CO2", "floor": 1});
    shared(
        &server,
        &a,
        &b,
        json!({"_id": "report", "extinguishers": [first.clone()]}),
    );
    let by_a = json!({"id": 2, "type": "foam", "floor": 2});
    let by_b = json!({"id": 3, "type": "powder", "floor": 3});
    a.put(json!({"_id": "report", "extinguishers": [first.clone(), by_a.clone()]}))
        .expect("put");
    b.put(json!({"_id": "report", "extinguishers": [first.clone(), by_b.clone()]}))
        .expect("put");
    a.sync(&server);
    b.sync(&server);
    a.sync(&server);
    let expected = json!({"extinguishers": [first, by_a, by_b]});
    assert_eq!(server.body("report"), Some(expected.clone()));
    assert_eq!(a.body("report"), Some(expected.clone()));
    assert_eq!(b.body("report"), Some(expected));
}

#[test]
fn census_stacked_offline_edits_merge_with_a_server_change() {
    let server = FakeServer::new();
    let (office, field) = (merging(), merging());
    shared(
        &server,
        &office,
        &field,
        json!({"_id": "household", "members": 3, "address": "1 Main St", "notes": ""}),
    );
    // The field worker edits offline, several times.
    field
        .put(json!({"_id": "household", "members": 4, "address": "1 Main St", "notes": ""}))
        .expect("put");
    field
        .put(json!({"_id": "household", "members": 4, "address": "1 Main St", "notes": "new baby"}))
        .expect("put");
    field.put(json!({"_id": "household", "members": 4, "address": "1 Main St", "notes": "new baby", "pets": 1})).expect("put");
    assert_eq!(field.outbox_len(), 1, "stacked edits coalesce");
    // Meanwhile the office corrects the address.
    office
        .put(json!({"_id": "household", "members": 3, "address": "1 Main Street", "notes": ""}))
        .expect("put");
    office.sync(&server);
    field.sync(&server);
    let merged = json!({"members": 4, "address": "1 Main Street", "notes": "new baby", "pets": 1});
    assert_eq!(server.body("household"), Some(merged.clone()));
    office.sync(&server);
    assert_eq!(office.body("household"), Some(merged));
    assert_eq!(field.outbox_len(), 0);
}

fn staff(role: &str) -> Device {
    Device::with_config(ClientConfig {
        author: Some(json!({"id": role, "role": role})),
        conflicts: serde_json::from_value(json!({
            "strategy": "manual",
            "byType": {"field": "type", "strategies": {
                "inspection": {"priority": {"field": "editor.role", "order": ["supervisor", "inspector"]}}
            }}
        }))
        .expect("policy"),
        ..ClientConfig::default()
    })
}

#[test]
fn a_supervisor_beats_an_inspector_whoever_syncs_first() {
    let server = FakeServer::new();
    let (supervisor, inspector) = (staff("supervisor"), staff("inspector"));
    shared(
        &server,
        &supervisor,
        &inspector,
        json!({"_id": "i1", "type": "inspection", "verdict": "pending"}),
    );
    let stamped = server.body("i1").expect("stored");
    assert_eq!(
        stamped["editor"],
        json!({"id": "supervisor", "role": "supervisor"})
    );
    assert!(stamped["updatedAt"].is_u64());
    // The inspector's edit reaches the server first; the supervisor's replaces it.
    inspector
        .put(json!({"_id": "i1", "type": "inspection", "verdict": "pass"}))
        .expect("put");
    supervisor
        .put(json!({"_id": "i1", "type": "inspection", "verdict": "fail"}))
        .expect("put");
    inspector.sync(&server);
    supervisor.sync(&server);
    assert_eq!(
        resolved(&supervisor),
        vec![("i1".into(), "priority".into(), vec!["/verdict".into()])]
    );
    assert_eq!(server.body("i1").expect("stored")["verdict"], json!("fail"));
    inspector.sync(&server);
    assert_eq!(inspector.body("i1").expect("doc")["verdict"], json!("fail"));
    assert_eq!(inspector.status("i1"), Some(DocStatus::Synced));
    // The supervisor's edit reaches the server first: the inspector's push
    // conflicts and simply takes the server's version, with no new write.
    supervisor
        .put(json!({"_id": "i1", "type": "inspection", "verdict": "fail, recheck"}))
        .expect("put");
    inspector
        .put(json!({"_id": "i1", "type": "inspection", "verdict": "pass"}))
        .expect("put");
    supervisor.sync(&server);
    let writes = server.writes.get();
    let report = inspector.sync(&server);
    assert_eq!((report.conflicts, report.pushed), (0, 0));
    assert_eq!(server.writes.get(), writes);
    assert_eq!(
        inspector.body("i1").expect("doc")["verdict"],
        json!("fail, recheck")
    );
    assert_eq!(inspector.status("i1"), Some(DocStatus::Synced));
    assert_eq!(inspector.outbox_len(), 0);
    assert_eq!(
        inspector.settlements("i1").last(),
        Some(&Settlement::Accepted {
            rev: server.rev("i1").expect("rev")
        })
    );
    // Other types stay manual.
    supervisor
        .put(json!({"_id": "memo", "text": "a"}))
        .expect("put");
    supervisor.sync(&server);
    inspector.sync(&server);
    supervisor
        .put(json!({"_id": "memo", "text": "b"}))
        .expect("put");
    inspector
        .put(json!({"_id": "memo", "text": "c"}))
        .expect("put");
    supervisor.sync(&server);
    assert_eq!(inspector.sync(&server).conflicts, 1);
}
