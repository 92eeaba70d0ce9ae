//! Attachments another client (or the server) gave a document survive this
//! client's edits: CouchDB drops every attachment an update leaves out, so
//! each push carries the stubs of the revision it is based on.

use futures::executor::block_on;
use serde_json::{json, Value};

use super::{device::Device, fake_server::FakeServer, resolution_flows::with_policy};
use crate::model::DocStatus;

/// The server holds `id` with a photo, written by another client.
fn with_photo(server: &FakeServer, id: &str) {
    let written = server.write_as_other_client(json!({
        "_id": id, "title": "kitchen",
        "_attachments": {"photo.jpg": {"content_type": "image/jpeg", "data": "AAEC"}}
    }));
    assert_eq!(written["ok"], true, "{written}");
}

/// Another client's update of `id` to `body`, keeping the server's attachments
/// and adding `added` when given.
fn update_on_server(server: &FakeServer, id: &str, body: Value, added: Option<&str>) {
    let mut doc = body;
    doc["_id"] = id.into();
    doc["_rev"] = server.rev(id).expect("on the server").to_string().into();
    let mut atts = serde_json::Map::new();
    for name in server.attachment_names(id) {
        atts.insert(name, json!({"stub": true}));
    }
    if let Some(name) = added {
        atts.insert(
            name.to_owned(),
            json!({"content_type": "text/plain", "data": "aGk="}),
        );
    }
    doc["_attachments"] = Value::Object(atts);
    let written = server.write_as_other_client(doc);
    assert_eq!(written["ok"], true, "{written}");
}

#[test]
fn a_pulled_attachment_survives_a_local_edit() {
    let server = FakeServer::new();
    with_photo(&server, "room");
    let device = Device::new();
    device.sync(&server);
    device
        .put(json!({"_id": "room", "title": "kitchen, tiled"}))
        .expect("edit");
    let report = device.sync(&server);
    assert_eq!(report.pushed, 1);
    assert_eq!(
        server.body("room"),
        Some(json!({"title": "kitchen, tiled"}))
    );
    assert_eq!(server.attachment_names("room"), vec!["photo.jpg"]);
    let pushed = server.written.borrow().last().cloned().unwrap_or_default();
    assert_eq!(
        pushed["_attachments"]["photo.jpg"]["stub"], true,
        "{pushed}"
    );
    // A second edit pushes the stubs again, now based on this client's own revision.
    device
        .put(json!({"_id": "room", "title": "kitchen, painted"}))
        .expect("edit");
    device.sync(&server);
    assert_eq!(server.attachment_names("room"), vec!["photo.jpg"]);
    assert_eq!(device.status("room"), Some(DocStatus::Synced));
}

#[test]
fn a_document_without_attachments_is_pushed_without_any() {
    let server = FakeServer::new();
    let device = Device::new();
    device.put(json!({"_id": "plain", "n": 1})).expect("put");
    device.sync(&server);
    device.put(json!({"_id": "plain", "n": 2})).expect("edit");
    device.sync(&server);
    assert!(server.attachment_names("plain").is_empty());
    let written = server.written.borrow();
    assert_eq!(written.len(), 2);
    assert!(
        written.iter().all(|doc| doc.get("_attachments").is_none()),
        "{written:?}"
    );
}

#[test]
fn an_attachment_added_on_the_server_during_an_offline_edit_survives_the_resolution() {
    let server = FakeServer::new();
    with_photo(&server, "room");
    let device = with_policy(json!({"strategy": "merge"}));
    device.sync(&server);
    device
        .put(json!({"_id": "room", "title": "kitchen", "floor": "oak"}))
        .expect("offline edit");
    update_on_server(
        &server,
        "room",
        json!({"title": "kitchen"}),
        Some("notes.txt"),
    );
    // The push conflicts, the merge resolves it as an edit of the server's
    // revision, and the resolution carries that revision's attachments.
    for _ in 0..3 {
        device.sync(&server);
    }
    assert_eq!(
        server.body("room"),
        Some(json!({"title": "kitchen", "floor": "oak"}))
    );
    assert_eq!(
        server.attachment_names("room"),
        vec!["notes.txt", "photo.jpg"]
    );
    assert_eq!(device.status("room"), Some(DocStatus::Synced));
}

#[test]
fn a_manual_resolution_keeps_the_servers_attachments() {
    let server = FakeServer::new();
    with_photo(&server, "room");
    let device = Device::new();
    device.sync(&server);
    device
        .put(json!({"_id": "room", "title": "mine"}))
        .expect("offline edit");
    update_on_server(
        &server,
        "room",
        json!({"title": "theirs"}),
        Some("notes.txt"),
    );
    device.sync(&server);
    assert_eq!(device.status("room"), Some(DocStatus::Conflicted));
    block_on(
        device
            .client
            .resolve("room", Some(json!({"title": "both"})), &device.env),
    )
    .expect("resolve");
    device.sync(&server);
    assert_eq!(server.body("room"), Some(json!({"title": "both"})));
    assert_eq!(
        server.attachment_names("room"),
        vec!["notes.txt", "photo.jpg"]
    );
}

#[test]
fn discarding_a_conflicted_edit_then_editing_again_keeps_the_attachments() {
    let server = FakeServer::new();
    with_photo(&server, "room");
    let device = Device::new();
    device.sync(&server);
    device
        .put(json!({"_id": "room", "title": "mine"}))
        .expect("offline edit");
    update_on_server(
        &server,
        "room",
        json!({"title": "theirs"}),
        Some("notes.txt"),
    );
    device.sync(&server);
    block_on(device.client.discard_local("room", &device.env)).expect("discard");
    device
        .put(json!({"_id": "room", "title": "theirs, checked"}))
        .expect("edit");
    device.sync(&server);
    assert_eq!(
        server.body("room"),
        Some(json!({"title": "theirs, checked"}))
    );
    assert_eq!(
        server.attachment_names("room"),
        vec!["notes.txt", "photo.jpg"]
    );
}

#[test]
fn an_attachment_removed_on_the_server_is_not_sent_back_as_a_stub() {
    let server = FakeServer::new();
    with_photo(&server, "room");
    let device = Device::new();
    device.sync(&server);
    // Another client removes the photo; this client pulls that, then edits.
    let rev = server.rev("room").expect("rev").to_string();
    let written =
        server.write_as_other_client(json!({"_id": "room", "_rev": rev, "title": "kitchen"}));
    assert_eq!(written["ok"], true);
    device.sync(&server);
    device
        .put(json!({"_id": "room", "title": "kitchen, bare"}))
        .expect("edit");
    let report = device.sync(&server);
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    assert_eq!(server.body("room"), Some(json!({"title": "kitchen, bare"})));
    assert!(server.attachment_names("room").is_empty());
}
