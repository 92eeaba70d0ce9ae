//! A replay in several batches, each claimed while the one before it is on
//! the wire: nothing lost, nothing pushed twice, and a failure puts both
//! batches back in the queue, the unsent one as it was.

use std::cell::Cell;

use futures::executor::block_on;
use serde_json::json;

use super::{
    device::{read_then_edit, Device},
    fake_server::{FakeServer, Fault},
};
use crate::{
    client::{ClientConfig, Transport},
    http::{HttpRequest, HttpResponse, TransportError},
    outbox::MessageState,
    store::LocalStore,
    sync::SyncConfig,
};

/// A device pushing batches of two, holding seven offline writes `d0`..`d6`
/// (`n` = 0..6).
fn seven_offline_writes() -> Device {
    let device = Device::with_config(ClientConfig {
        sync: SyncConfig {
            batch_docs: 2,
            ..SyncConfig::default()
        },
        ..ClientConfig::default()
    });
    for i in 0..7 {
        device
            .put(json!({"_id": format!("d{i}"), "n": i}))
            .expect("put");
    }
    device
}

/// A transport that edits documents while the first push is on the wire:
/// `d1` is in that push, `d3` in the batch claimed beside it, `d6` still
/// queued.
struct EditDuringFirstPush<'a> {
    server: &'a FakeServer,
    device: &'a Device,
    done: Cell<bool>,
}

impl Transport for EditDuringFirstPush<'_> {
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, TransportError> {
        let first_push = request.path == "_bulk_docs" && !self.done.replace(true);
        // The claim of the next batch runs beside this request: let it land
        // first, as it would while a real request is on the wire.
        let response = self.server.send(request).await;
        if first_push {
            for id in ["d1", "d3", "d6"] {
                let edit = json!({"_id": id, "n": "edited"});
                let edit = read_then_edit(&self.device.client, edit).await;
                self.device
                    .client
                    .put(edit, &self.device.env)
                    .await
                    .expect("edit");
            }
        }
        response
    }
}

#[test]
fn batches_claimed_while_the_one_before_is_pushed_lose_no_edit() {
    let server = FakeServer::new();
    let device = seven_offline_writes();
    let transport = EditDuringFirstPush {
        server: &server,
        device: &device,
        done: Cell::new(false),
    };
    let report = device.sync(&transport);
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    device.sync(&server);
    for i in 0..7 {
        let id = format!("d{i}");
        let expected = if ["d1", "d3", "d6"].contains(&id.as_str()) {
            json!("edited")
        } else {
            json!(i)
        };
        let on_server = server.body(&id).expect("on the server");
        assert_eq!(on_server["n"], expected, "{id}");
        assert_eq!(device.body(&id).map(|b| b["n"].clone()), Some(expected));
    }
    assert_eq!(device.outbox_len(), 0);
    // Each write reached the server once: seven creations, two later edits
    // (d1's and d3's came after their push; d6's coalesced before its own).
    assert_eq!(server.writes.get(), 9);
}

#[test]
fn a_failed_push_returns_its_batch_and_the_one_claimed_beside_it() {
    let server = FakeServer::new();
    let device = seven_offline_writes();
    // The first push lands, the second never reaches the server.
    server.fault("_bulk_docs", Fault::Pass);
    server.fault("_bulk_docs", Fault::Offline);
    let report = device.sync(&server);
    assert_eq!(report.pushed, 2);
    assert_eq!(report.errors.len(), 1, "{:?}", report.errors);
    let messages = block_on(device.client.store().outbox(None, 100)).expect("outbox");
    assert_eq!(messages.len(), 5);
    for message in &messages {
        assert_eq!(message.state, MessageState::Queued, "{}", message.doc_id);
        let pushed = ["d2", "d3"].contains(&message.doc_id.as_str());
        // The batch that was sent keeps a copy of what it carried; the one
        // claimed beside it was never sent and is as it was.
        assert_eq!(message.sent.is_some(), pushed, "{}", message.doc_id);
        assert_eq!(message.attempts, u32::from(pushed), "{}", message.doc_id);
    }
    let report = device.sync(&server);
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    assert_eq!(device.outbox_len(), 0);
    for i in 0..7 {
        assert_eq!(
            server.body(&format!("d{i}")).map(|b| b["n"].clone()),
            Some(json!(i))
        );
    }
}
