//! A push whose answer was lost, followed by edits: whatever order the
//! answers come back in, the server ends with the last edit and the client
//! holds exactly the body of the revision it records.

use std::cell::Cell;

use futures::executor::block_on;
use serde_json::{json, Value};

use super::{
    device::{read_then_edit, Device},
    fake_server::{FakeServer, Fault},
};
use crate::{
    client::Transport,
    http::{HttpRequest, HttpResponse, TransportError},
    model::DocStatus,
};

/// A transport that makes one more edit of `d` while the first push is on
/// the wire, so the edit lands in a message of its own behind it.
struct EditDuringPush<'a> {
    server: &'a FakeServer,
    device: &'a Device,
    edit: Value,
    done: Cell<bool>,
}

impl Transport for EditDuringPush<'_> {
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, TransportError> {
        let first_push = request.path == "_bulk_docs" && !self.done.replace(true);
        let response = self.server.send(request).await;
        if first_push {
            let edit = read_then_edit(&self.device.client, self.edit.clone()).await;
            self.device
                .client
                .put(edit, &self.device.env)
                .await
                .expect("edit");
        }
        response
    }
}

/// Asserts the device holds `d` synced at the server's revision, with the
/// server's body, and that body is `expected`.
fn assert_converged(device: &Device, server: &FakeServer, expected: Value) {
    assert_eq!(
        server.body("d"),
        Some(expected.clone()),
        "the server's body"
    );
    let doc = block_on(device.client.get("d")).expect("get").expect("doc");
    assert_eq!(doc.status, DocStatus::Synced);
    assert_eq!(
        doc.rev,
        server.rev("d"),
        "the client records the server's revision"
    );
    assert_eq!(device.body("d"), Some(expected), "and holds its body");
    assert_eq!(device.outbox_len(), 0);
}

#[test]
fn an_edit_behind_a_replay_of_a_lost_push_is_the_one_the_server_keeps() {
    let server = FakeServer::new();
    let device = Device::new();
    device.put(json!({"_id": "d", "v": 0})).expect("put");
    device.sync(&server);
    // The server takes v1; its answer is lost.
    device.put(json!({"_id": "d", "v": 1})).expect("put");
    server.fault("_bulk_docs", Fault::DropResponse);
    assert_eq!(device.sync(&server).errors[0].code.as_str(), "network");
    // v2 coalesces into the unanswered message; while its push is on the wire
    // (a conflict with our own v1), v3 is queued behind it.
    device.put(json!({"_id": "d", "v": 2})).expect("put");
    let transport = EditDuringPush {
        server: &server,
        device: &device,
        edit: json!({"_id": "d", "v": 3}),
        done: Cell::new(false),
    };
    let report = device.sync(&transport);
    assert!(report.errors.is_empty(), "{report:?}");
    assert_eq!(report.conflicts, 0, "our own v1 is no conflict");
    device.sync(&server);
    assert_converged(&device, &server, json!({"v": 3}));
}

#[test]
fn an_edit_behind_a_push_that_fails_again_goes_out_once_after_it() {
    let server = FakeServer::new();
    let device = Device::new();
    device.put(json!({"_id": "d", "v": 0})).expect("put");
    device.sync(&server);
    device.put(json!({"_id": "d", "v": 1})).expect("put");
    // v1's push never arrives; v2 is queued behind it meanwhile.
    server.fault("_bulk_docs", Fault::Offline);
    let transport = EditDuringPush {
        server: &server,
        device: &device,
        edit: json!({"_id": "d", "v": 2}),
        done: Cell::new(false),
    };
    assert_eq!(device.sync(&transport).errors[0].code.as_str(), "network");
    assert_eq!(device.outbox_len(), 1, "v2 supersedes v1 in one message");
    let report = device.sync(&server);
    assert!(report.errors.is_empty(), "{report:?}");
    assert_eq!(
        server.writes.get(),
        2,
        "v0, then v2 once; v1 never went out"
    );
    assert_converged(&device, &server, json!({"v": 2}));
}

#[test]
fn an_edit_behind_a_push_the_server_turns_away_goes_out_once() {
    let server = FakeServer::new();
    let device = Device::new();
    device.put(json!({"_id": "d", "v": 0})).expect("put");
    device.sync(&server);
    // The server answers v1's push with a 503 without taking it; v2 is
    // queued behind it meanwhile.
    device.put(json!({"_id": "d", "v": 1})).expect("put");
    server.fault("_bulk_docs", Fault::Status(503));
    let transport = EditDuringPush {
        server: &server,
        device: &device,
        edit: json!({"_id": "d", "v": 2}),
        done: Cell::new(false),
    };
    assert!(!device.sync(&transport).errors.is_empty());
    let report = device.sync(&server);
    assert!(report.errors.is_empty(), "{report:?}");
    assert_converged(&device, &server, json!({"v": 2}));
}
