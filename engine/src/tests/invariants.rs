//! The storage invariants of the design, one scenario each.

use std::cell::RefCell;

use futures::executor::block_on;
use serde_json::json;

use super::{
    device::{read_then_edit, Device},
    fake_server::{FakeServer, Fault},
};
use crate::{
    client::{ClientConfig, Transport},
    error::EngineError,
    event::Settlement,
    http::{HttpRequest, HttpResponse, TransportError},
    model::DocStatus,
    outbox::MessageState,
    store::LocalStore,
};

#[test]
fn invariant_1_write_and_message_land_together_or_not_at_all() {
    let device = Device::new();
    let outcome = device
        .put(json!({"_id": "car", "color": "red"}))
        .expect("put");
    assert_eq!(outcome.status, DocStatus::Pending);
    assert!(outcome.queued);
    let messages = block_on(device.client.store().outbox(None, 10)).expect("outbox");
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0].doc_id, "car");
    assert_eq!(
        messages[0].body,
        Some(
            json!({"color": "red"})
                .as_object()
                .cloned()
                .unwrap_or_default()
        )
    );
    // Refused writes leave no trace at all.
    for bad in [
        json!([1]),
        json!("x"),
        json!({"_id": 5}),
        json!({"_id": ""}),
        json!({"_id": "_x"}),
        json!({"_foo": 1}),
    ] {
        assert!(device.put(bad).is_err());
    }
    assert_eq!(device.outbox_len(), 1);
    assert_eq!(
        block_on(device.client.all(&Default::default()))
            .expect("all")
            .len(),
        1
    );
}

#[test]
fn oversize_documents_are_refused_with_their_own_code() {
    let device = Device::with_config(ClientConfig {
        max_document_bytes: 50,
        ..ClientConfig::default()
    });
    let err = device
        .put(json!({"_id": "big", "text": "x".repeat(100)}))
        .expect_err("too large");
    assert_eq!(err.code().as_str(), "document_too_large");
    assert_eq!(device.outbox_len(), 0);
    assert_eq!(
        device
            .put(json!({"_id": 1}))
            .expect_err("bad id")
            .code()
            .as_str(),
        "invalid_id"
    );
    assert_eq!(
        device
            .put(json!(null))
            .expect_err("bad doc")
            .code()
            .as_str(),
        "invalid_document"
    );
}

#[test]
fn invariant_2_a_pulled_page_and_its_checkpoint_land_together() {
    let server = FakeServer::new();
    let writer = Device::new();
    for i in 0..5 {
        writer
            .put(json!({"_id": format!("d{i}"), "n": i}))
            .expect("put");
    }
    writer.sync(&server);
    let reader = Device::with_config(ClientConfig {
        sync: crate::sync::SyncConfig {
            pull_page: 2,
            ..Default::default()
        },
        ..ClientConfig::default()
    });
    // Cut the pull off after the first page.
    server.fault("_changes", Fault::Pass);
    server.fault("_changes", Fault::Offline);
    let report = reader.sync(&server);
    assert_eq!(report.pulled, 2);
    assert_eq!(report.errors[0].code.as_str(), "network");
    let checkpoint = block_on(
        reader
            .client
            .store()
            .get_meta(crate::store::META_CHECKPOINT),
    )
    .expect("meta");
    assert_eq!(checkpoint, Some(json!(2)));
    let report = reader.sync(&server);
    assert_eq!(report.pulled, 3, "resumes where it stopped");
    let checkpoint = block_on(
        reader
            .client
            .store()
            .get_meta(crate::store::META_CHECKPOINT),
    )
    .expect("meta");
    assert_eq!(checkpoint, Some(json!(5)));
    assert!(
        server
            .requests
            .borrow()
            .iter()
            .filter(|r| r.ends_with("_changes"))
            .count()
            >= 4
    );
    // Nothing new: an empty page and the same checkpoint.
    assert_eq!(reader.sync(&server).pulled, 0);
}

/// A transport that makes a local edit while the first push is in flight.
struct EditDuringPush<'a> {
    server: &'a FakeServer,
    device: &'a Device,
    edited: RefCell<bool>,
}

impl Transport for EditDuringPush<'_> {
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, TransportError> {
        if request.path == "_bulk_docs" && !self.edited.replace(true) {
            let edit = json!({"_id": "car", "color": "green"});
            let edit = read_then_edit(&self.device.client, edit).await;
            self.device
                .client
                .put(edit, &self.device.env)
                .await
                .expect("edit");
        }
        self.server.send(request).await
    }
}

#[test]
fn invariant_3_an_ack_never_hides_an_edit_made_during_the_push() {
    let server = FakeServer::new();
    let device = Device::new();
    device
        .put(json!({"_id": "car", "color": "red"}))
        .expect("put");
    let transport = EditDuringPush {
        server: &server,
        device: &device,
        edited: RefCell::new(false),
    };
    let run = device.client.sync(&transport, &device.env, false, |_| {});
    let (report, _) = block_on(run).expect("sync");
    // The red write was acknowledged, the green edit queued behind it, then pushed in the same cycle.
    assert_eq!(server.body("car"), Some(json!({"color": "green"})));
    assert_eq!(report.pushed, 2);
    assert_eq!(device.status("car"), Some(DocStatus::Synced));
    assert_eq!(server.rev("car").map(|r| r.generation()), Some(2));
    assert_eq!(report.conflicts, 0);
}

#[test]
fn invariant_3_the_waiting_edit_keeps_the_document_pending() {
    let server = FakeServer::new();
    let device = Device::new();
    device
        .put(json!({"_id": "car", "color": "red"}))
        .expect("put");
    let transport = EditDuringPush {
        server: &server,
        device: &device,
        edited: RefCell::new(false),
    };
    // The second push (of the green edit) fails: the doc must stay pending.
    server.fault("_bulk_docs", Fault::Pass);
    server.fault("_bulk_docs", Fault::Status(503));
    let run = device.client.sync(&transport, &device.env, false, |_| {});
    let (report, _) = block_on(run).expect("sync");
    assert_eq!(report.pushed, 1);
    assert_eq!(report.errors[0].status, Some(503));
    assert_eq!(device.status("car"), Some(DocStatus::Pending));
    server.fault("_bulk_docs", Fault::Offline);
    let run = device.client.sync(&transport, &device.env, false, |_| {});
    let (report, _) = block_on(run).expect("sync");
    assert_eq!(report.errors[0].code.as_str(), "network");
    assert_eq!(device.status("car"), Some(DocStatus::Pending));
    assert_eq!(device.body("car"), Some(json!({"color": "green"})));
    device.sync(&server);
    assert_eq!(device.status("car"), Some(DocStatus::Synced));
    assert_eq!(server.body("car"), Some(json!({"color": "green"})));
}

#[test]
fn invariant_4_a_replay_after_a_lost_response_is_acknowledged_not_duplicated() {
    let server = FakeServer::new();
    let device = Device::new();
    device
        .put(json!({"_id": "car", "color": "red"}))
        .expect("put");
    device
        .put(json!({"_id": "bike", "color": "blue"}))
        .expect("put");
    server.fault("_bulk_docs", Fault::DropResponse);
    let report = device.sync(&server);
    assert_eq!(report.errors[0].code.as_str(), "network");
    assert_eq!(server.writes.get(), 2, "the server committed both");
    assert_eq!(device.outbox_len(), 2, "the client does not know yet");
    let report = device.sync(&server);
    assert_eq!((report.pushed, report.conflicts), (2, 0));
    assert_eq!(server.writes.get(), 2, "nothing written twice");
    assert_eq!(device.outbox_len(), 0);
    assert_eq!(device.status("car"), Some(DocStatus::Synced));
    assert!(block_on(device.client.conflicts())
        .expect("conflicts")
        .is_empty());
    let settled = device.settlements("car");
    assert!(
        matches!(settled.last(), Some(Settlement::Accepted { rev }) if Some(rev) == server.rev("car").as_ref())
    );
}

#[test]
fn invariant_5_a_refused_write_is_parked_and_the_rest_flows() {
    let server = FakeServer::new();
    server.max_doc_bytes.set(100);
    let device = Device::new();
    device.put(json!({"_id": "a", "n": 1})).expect("put");
    device
        .put(json!({"_id": "big", "text": "x".repeat(200)}))
        .expect("put");
    device.put(json!({"_id": "c", "n": 3})).expect("put");
    let report = device.sync(&server);
    assert_eq!(report.pushed, 2);
    assert_eq!(report.errors.len(), 1);
    assert_eq!(report.errors[0].code.as_str(), "rejected");
    assert_eq!(report.errors[0].id.as_deref(), Some("big"));
    let outbox = block_on(device.client.store().outbox(None, 10)).expect("outbox");
    assert_eq!(outbox.len(), 1, "kept, never dropped");
    assert_eq!(outbox[0].state, MessageState::Rejected);
    assert!(matches!(
        device.settlements("big").last(),
        Some(Settlement::Rejected { .. })
    ));
    // A parked message is not retried by every cycle...
    assert_eq!(device.sync(&server).errors.len(), 0);
    // ...until the app asks for a retry (here it fails again and stays parked).
    assert_eq!(block_on(device.client.retry_rejected(None)), Ok(1));
    assert_eq!(device.sync(&server).errors.len(), 1);
    assert_eq!(device.outbox_len(), 1);
    // A new edit replaces it and flows.
    device
        .put(json!({"_id": "big", "text": "short"}))
        .expect("put");
    assert_eq!(device.sync(&server).pushed, 1);
    assert_eq!(device.outbox_len(), 0);
}

#[test]
fn invariant_5_a_whole_batch_refused_is_split_to_find_the_culprit() {
    let server = FakeServer::new();
    let device = Device::new();
    for id in ["a", "b", "c"] {
        device.put(json!({"_id": id})).expect("put");
    }
    server.fault("_bulk_docs", Fault::Status(413));
    server.fault("_bulk_docs", Fault::Status(413));
    let report = device.sync(&server);
    // Batch refused → one at a time: "a" refused for good, "b" and "c" land.
    assert_eq!(report.pushed, 2, "{report:?}");
    assert_eq!(
        report
            .errors
            .iter()
            .filter(|e| e.code == crate::sync::IssueCode::Rejected)
            .count(),
        1
    );
    assert_eq!(server.body("c"), Some(json!({})));
}

#[test]
fn invariant_6_stacked_offline_edits_are_one_push() {
    let server = FakeServer::new();
    let device = Device::new();
    device
        .put(json!({"_id": "census", "people": 1}))
        .expect("put");
    device
        .put(json!({"_id": "census", "people": 2}))
        .expect("put");
    device
        .put(json!({"_id": "census", "people": 3, "note": "done"}))
        .expect("put");
    assert_eq!(device.outbox_len(), 1);
    let report = device.sync(&server);
    assert_eq!(report.pushed, 1);
    assert_eq!(server.writes.get(), 1);
    assert_eq!(
        server.body("census"),
        Some(json!({"people": 3, "note": "done"}))
    );
    assert_eq!(server.rev("census").map(|r| r.generation()), Some(1));
}

#[test]
fn a_push_cut_off_mid_flight_is_replayed_by_the_next_cycle() {
    let server = FakeServer::new();
    let device = Device::new();
    device.put(json!({"_id": "a", "n": 1})).expect("put");
    // Claim the message as a cycle would, then "close the tab" before any answer.
    let messages = block_on(device.client.store().outbox(None, 10)).expect("outbox");
    let plan = crate::sync::plan::Plan::Claim(messages);
    let ids = plan.ids();
    block_on(
        device
            .client
            .store()
            .transact(&ids, |s| Ok::<_, EngineError>(plan.apply(s, 1.0))),
    )
    .expect("claim");
    let stuck = block_on(device.client.store().outbox(None, 10)).expect("outbox");
    assert_eq!(stuck[0].state, MessageState::InFlight);
    // Reopening recovers it, so a new edit coalesces instead of queueing behind it.
    assert_eq!(block_on(device.client.recover_in_flight()), Ok(1));
    device.put(json!({"_id": "a", "n": 1})).expect("put");
    assert_eq!(device.outbox_len(), 1);
    let report = device.sync(&server);
    assert_eq!(report.pushed, 1);
    assert_eq!(device.outbox_len(), 0);
    assert_eq!(server.body("a"), Some(json!({"n": 1})));
}

#[test]
fn a_database_refused_to_this_user_keeps_every_change_queued() {
    let server = FakeServer::new();
    let device = Device::new();
    for id in ["a", "b", "c"] {
        device.put(json!({"_id": id})).expect("put");
    }
    // A 403 for the whole `_bulk_docs`: the user is no member (any more).
    server.fault("_bulk_docs", Fault::Status(403));
    let report = device.sync(&server);
    assert_eq!(report.pushed, 0, "{report:?}");
    assert_eq!(report.errors.len(), 1, "{report:?}");
    assert_eq!(report.errors[0].code.as_str(), "forbidden");
    assert_eq!(report.errors[0].status, Some(403));
    for id in ["a", "b", "c"] {
        assert_eq!(
            device.status(id),
            Some(DocStatus::Pending),
            "{id} was parked"
        );
    }
    assert_eq!(device.outbox_len(), 3);
    // Access granted again: the queue drains as it was.
    let report = device.sync(&server);
    assert_eq!(report.pushed, 3, "{report:?}");
    for id in ["a", "b", "c"] {
        assert_eq!(server.body(id), Some(json!({})));
    }
}
