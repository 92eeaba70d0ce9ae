//! Automatic resolution at the edges: the winner strategies, a pull that
//! merges into parked edits, a recorded conflict that becomes mergeable, the
//! custom-resolver composition, and the defaults.

use futures::executor::block_on;
use serde_json::{json, Value};

use super::{
    device::Device,
    fake_server::{FakeServer, Fault},
    resolution_flows::{conflict_count, merging, resolved, shared, with_policy},
};
use crate::{client::ClientConfig, event::Event, merge::ConflictPolicy, model::DocStatus};

/// Two devices with `policy`, a shared `{"v": 0}` document and concurrent edits
/// `v: 1` on A (synced first) and `v: 2` on B; returns the server's final `v`.
fn race(policy: Value, a_clock: f64, b_clock: f64) -> (Value, Device) {
    let server = FakeServer::new();
    let (a, b) = (with_policy(policy.clone()), with_policy(policy));
    shared(&server, &a, &b, json!({"_id": "x", "v": 0}));
    a.env.set_clock(a_clock);
    b.env.set_clock(b_clock);
    a.put(json!({"_id": "x", "v": 1})).expect("put");
    b.put(json!({"_id": "x", "v": 2})).expect("put");
    a.sync(&server);
    b.sync(&server);
    a.sync(&server);
    assert_eq!(a.body("x"), b.body("x"), "both converge");
    assert_eq!(conflict_count(&b), 0);
    (server.body("x").expect("stored")["v"].clone(), b)
}

#[test]
fn server_wins_client_wins_and_newest_wins() {
    let (v, b) = race(json!({"strategy": "serverWins"}), 1000.0, 2000.0);
    assert_eq!(v, json!(1));
    assert_eq!(resolved(&b)[0].1, "serverWins");
    let (v, b) = race(json!({"strategy": "clientWins"}), 1000.0, 2000.0);
    assert_eq!(v, json!(2));
    assert_eq!(resolved(&b)[0].2, vec!["/v".to_owned()]);
    // newestWins turns on `updatedAt` stamps by itself.
    let (v, _) = race(json!({"strategy": "newestWins"}), 1000.0, 2000.0);
    assert_eq!(v, json!(2), "B edited later");
    let (v, _) = race(json!({"strategy": "newestWins"}), 5000.0, 2000.0);
    assert_eq!(v, json!(1), "A's clock says A edited later");
}

#[test]
fn a_change_pulled_over_parked_edits_is_merged_and_pushed_in_the_same_call() {
    let server = FakeServer::new();
    let (a, b) = (merging(), merging());
    shared(&server, &a, &b, json!({"_id": "d", "a": 0, "b": 0}));
    a.put(json!({"_id": "d", "a": 1, "b": 0})).expect("put");
    a.sync(&server);
    // B's push is refused and parked: the document stays pending while pulling.
    b.put(json!({"_id": "d", "a": 0, "b": 1})).expect("put");
    server.fault("_bulk_docs", Fault::Status(400));
    let report = b.sync(&server);
    assert_eq!(report.errors.len(), 1);
    assert_eq!(resolved(&b).len(), 1);
    assert_eq!(report.pushed, 1, "one more round pushed the resolution");
    assert_eq!(server.body("d"), Some(json!({"a": 1, "b": 1})));
    assert_eq!(b.status("d"), Some(DocStatus::Synced));
}

#[test]
fn with_a_custom_resolver_conflicts_are_recorded_then_the_policy_applies() {
    let server = FakeServer::new();
    let custom = json!({"strategy": "merge", "custom": true});
    let (a, b) = (with_policy(custom.clone()), with_policy(custom));
    shared(&server, &a, &b, json!({"_id": "d", "a": 0, "b": 0, "c": 0}));
    a.put(json!({"_id": "d", "a": 1, "b": 0, "c": 1}))
        .expect("put");
    b.put(json!({"_id": "d", "a": 0, "b": 1, "c": 2}))
        .expect("put");
    a.sync(&server);
    assert_eq!(
        b.sync(&server).conflicts,
        1,
        "recorded for the custom resolver"
    );
    // The custom resolver declined; the policy cannot decide a clash either.
    assert_eq!(
        block_on(b.client.auto_resolve_recorded("d", &b.env)),
        Ok(None)
    );
    // The app edits its side; now the policy merges.
    b.put(json!({"_id": "d", "a": 0, "b": 1, "c": 1}))
        .expect("put");
    let (outcome, events) = block_on(b.client.auto_resolve_recorded("d", &b.env))
        .expect("resolve")
        .expect("decided");
    assert!(outcome.queued);
    assert!(matches!(&events[0], Event::Resolved { strategy, .. } if strategy == "merge"));
    assert_eq!(conflict_count(&b), 0);
    b.sync(&server);
    assert_eq!(server.body("d"), Some(json!({"a": 1, "b": 1, "c": 1})));
    assert_eq!(
        block_on(b.client.auto_resolve_recorded("d", &b.env)).map_err(|e| e.code().as_str()),
        Err("not_conflicted")
    );
}

#[test]
fn defaults_change_nothing() {
    let config = ClientConfig::default();
    assert_eq!(config.conflicts, ConflictPolicy::default());
    assert_eq!(config.stamp(), crate::local::Stamp::default());
    let server = FakeServer::new();
    let a = Device::new();
    a.put(json!({"_id": "plain", "x": 1})).expect("put");
    a.sync(&server);
    assert_eq!(server.body("plain"), Some(json!({"x": 1})), "no stamps");
}

#[test]
fn a_recorded_conflict_is_resolved_when_the_server_side_moves_to_something_mergeable() {
    let server = FakeServer::new();
    let (a, b) = (merging(), merging());
    shared(&server, &a, &b, json!({"_id": "d", "a": 0, "b": 0}));
    a.put(json!({"_id": "d", "a": 1, "b": 0})).expect("put");
    b.put(json!({"_id": "d", "a": 2, "b": 1})).expect("put");
    a.sync(&server);
    assert_eq!(b.sync(&server).conflicts, 1, "`a` clashes");
    // A comes round to B's value of `a`: the conflict is now a clean merge.
    a.put(json!({"_id": "d", "a": 2, "b": 0})).expect("put");
    a.sync(&server);
    let report = b.sync(&server);
    assert_eq!((report.conflicts, report.pushed), (0, 1));
    assert_eq!(conflict_count(&b), 0);
    assert_eq!(server.body("d"), Some(json!({"a": 2, "b": 1})));
    assert_eq!(b.status("d"), Some(DocStatus::Synced));
}
