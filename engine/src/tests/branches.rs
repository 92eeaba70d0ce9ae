//! Documents whose revision tree branched on the server (other replicators:
//! CouchDB's, PouchDB's): a winner of any generation is applied, every live
//! branch reaches the app as a conflict, and resolving it deletes the losing
//! leaf so the tree converges.

use futures::executor::block_on;
use serde_json::{json, Value};

use super::{
    device::Device,
    fake_server::{FakeServer, Fault},
    resolution_flows::{resolved, with_policy},
};
use crate::{
    model::DocStatus,
    protocol::revision::Revision,
    store::{LocalStore, META_CHECKPOINT},
};

const HIGH: &str = "9-ffffffffffffffffffffffffffffffff";

fn body(value: Value) -> Option<serde_json::Map<String, Value>> {
    value.as_object().cloned()
}

/// `a` on the server at generation 2, held by `device`.
fn synced_at_two(server: &FakeServer, device: &Device) -> Revision {
    server.write_as_other_client(json!({"_id": "a", "v": 1}));
    let rev = server.rev("a").expect("rev");
    let written = server.write_as_other_client(json!({"_id": "a", "_rev": rev, "v": 2}));
    assert_eq!(written["ok"], true, "{written}");
    device.sync(server);
    assert_eq!(device.body("a"), Some(json!({"v": 2})));
    server.rev("a").expect("rev")
}

#[test]
fn a_winner_of_a_lower_generation_is_applied() {
    let server = FakeServer::new();
    let device = Device::new();
    let at_two = synced_at_two(&server, &device);
    // Another replicator brings a branch at generation 1, then the winner
    // is deleted: the branch wins, one generation below what the device holds.
    server.graft_as_replicator(
        "a",
        "1-0123456789abcdef0123456789abcdef",
        json!({"v": "other"}),
        false,
    );
    let deleted =
        server.write_as_other_client(json!({"_id": "a", "_rev": at_two, "_deleted": true}));
    assert_eq!(deleted["ok"], true, "{deleted}");
    assert_eq!(server.rev("a").map(|r| r.generation()), Some(1));
    let report = device.sync(&server);
    assert!(report.errors.is_empty(), "{report:?}");
    assert_eq!(device.body("a"), Some(json!({"v": "other"})));
    assert_eq!(device.status("a"), Some(DocStatus::Synced));
    assert_eq!(report.conflicts, 0, "the server holds one live leaf");
}

#[test]
fn a_branch_reaches_the_app_as_a_conflict_and_its_resolution_converges_the_tree() {
    let server = FakeServer::new();
    let (device, other) = (Device::new(), Device::new());
    let at_two = synced_at_two(&server, &device);
    // A branch at generation 2 with a higher hash wins over the device's.
    let branch = "2-ffffffffffffffffffffffffffffffff";
    server.graft_as_replicator("a", branch, json!({"v": "theirs"}), false);
    assert_eq!(server.live_leaves("a").len(), 2);
    let report = device.sync(&server);
    assert!(report.errors.is_empty(), "{report:?}");
    assert_eq!(report.conflicts, 1);
    assert_eq!(device.status("a"), Some(DocStatus::Conflicted));
    // The device shows the winner, as CouchDB does; the conflict holds both.
    assert_eq!(device.body("a"), Some(json!({"v": "theirs"})));
    let conflicts = block_on(device.client.conflicts()).expect("conflicts");
    let [conflict] = conflicts.as_slice() else {
        panic!("one conflict, got {conflicts:?}")
    };
    assert_eq!(conflict.remote, body(json!({"v": "theirs"})));
    assert_eq!(
        conflict
            .remote_rev
            .as_ref()
            .map(ToString::to_string)
            .as_deref(),
        Some(branch)
    );
    assert_eq!(conflict.local, body(json!({"v": 2})));
    assert_eq!(conflict.losing_revs, vec![at_two.clone()]);
    // Resolving writes on the winner and deletes the losing leaf.
    block_on(
        device
            .client
            .resolve("a", Some(json!({"v": "both"})), &device.env),
    )
    .expect("resolve");
    let report = device.sync(&server);
    assert!(report.errors.is_empty(), "{report:?}");
    assert_eq!(report.conflicts, 0, "{report:?}");
    assert_eq!(server.body("a"), Some(json!({"v": "both"})));
    assert_eq!(server.live_leaves("a").len(), 1, "the tree converged");
    assert_eq!(device.status("a"), Some(DocStatus::Synced));
    // Another client sees one document, with no conflict.
    let report = other.sync(&server);
    assert_eq!(
        (report.conflicts, other.body("a")),
        (0, Some(json!({"v": "both"})))
    );
}

#[test]
fn a_policy_resolves_a_branch_and_keeping_the_winner_still_deletes_the_loser() {
    let server = FakeServer::new();
    let device = with_policy(json!({"strategy": "serverWins"}));
    synced_at_two(&server, &device);
    server.graft_as_replicator("a", HIGH, json!({"v": "theirs"}), false);
    let report = device.sync(&server);
    assert!(report.errors.is_empty(), "{report:?}");
    assert_eq!(report.conflicts, 0);
    let clashes = vec!["/v".to_owned()];
    assert_eq!(
        resolved(&device),
        vec![("a".into(), "serverWins".into(), clashes)]
    );
    assert_eq!(device.body("a"), Some(json!({"v": "theirs"})));
    // The resolution went out in the same cycle: one live leaf, the winner's body.
    assert_eq!(server.live_leaves("a").len(), 1);
    assert_eq!(server.body("a"), Some(json!({"v": "theirs"})));
    assert_eq!(device.outbox_len(), 0);
}

#[test]
fn branches_are_shown_one_at_a_time_so_none_is_deleted_unseen() {
    let server = FakeServer::new();
    let device = Device::new();
    synced_at_two(&server, &device);
    server.graft_as_replicator(
        "a",
        "2-eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee",
        json!({"v": "b1"}),
        false,
    );
    server.graft_as_replicator("a", HIGH, json!({"v": "b2"}), false);
    assert_eq!(server.live_leaves("a").len(), 3);
    let mut seen = Vec::new();
    for _ in 0..3 {
        device.sync(&server);
        let conflicts = block_on(device.client.conflicts()).expect("conflicts");
        let Some(conflict) = conflicts.first() else {
            break;
        };
        seen.push(conflict.local.clone());
        // Keep the winner each time (the app's "discard").
        block_on(device.client.discard_local("a", &device.env)).expect("discard");
    }
    device.sync(&server);
    assert_eq!(seen.len(), 2, "each losing branch shown once");
    assert!(seen.contains(&body(json!({"v": "b1"}))));
    assert!(seen.contains(&body(json!({"v": 2}))));
    assert_eq!(server.live_leaves("a").len(), 1);
    assert_eq!(server.body("a"), Some(json!({"v": "b2"})));
}

#[test]
fn a_branch_that_cannot_be_fetched_leaves_the_checkpoint_before_its_page() {
    let server = FakeServer::new();
    let device = Device::new();
    synced_at_two(&server, &device);
    let before = block_on(device.client.store().get_meta(META_CHECKPOINT)).expect("meta");
    server.graft_as_replicator("a", HIGH, json!({"v": "theirs"}), false);
    server.fault("_bulk_get", Fault::Offline);
    let report = device.sync(&server);
    assert_eq!(report.errors.len(), 1, "{report:?}");
    let after = block_on(device.client.store().get_meta(META_CHECKPOINT)).expect("meta");
    assert_eq!(after, before, "the page was not applied");
    assert_eq!(device.body("a"), Some(json!({"v": 2})));
    // Next time it is fetched and shown.
    let report = device.sync(&server);
    assert_eq!(
        (report.errors.len(), report.conflicts),
        (0, 1),
        "{report:?}"
    );
}

#[test]
fn a_branch_beside_the_devices_own_push_is_not_skipped_as_an_echo() {
    let server = FakeServer::new();
    let device = Device::new();
    synced_at_two(&server, &device);
    // A losing branch arrives, then the device edits and pushes on the winner.
    server.graft_as_replicator(
        "a",
        "1-0123456789abcdef0123456789abcdef",
        json!({"v": "old"}),
        false,
    );
    device.put(json!({"_id": "a", "v": 3})).expect("put");
    let report = device.sync(&server);
    assert_eq!(report.pushed, 1, "{report:?}");
    assert_eq!(
        report.conflicts, 1,
        "the pull shows the branch beside the push: {report:?}"
    );
    let conflicts = block_on(device.client.conflicts()).expect("conflicts");
    assert_eq!(conflicts[0].local, body(json!({"v": "old"})));
    assert_eq!(conflicts[0].remote, body(json!({"v": 3})));
}

#[test]
fn the_fake_server_passes_the_sync_scenarios() {
    block_on(crate::scenarios::run_all(|| async { FakeServer::new() }));
}
