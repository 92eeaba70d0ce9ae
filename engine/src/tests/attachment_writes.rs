//! Attachments written by this client: put offline, pushed inline with their
//! document, stubs afterwards, removed, refused when bad, and kept through
//! conflicts (both sides' additions survive a resolution).

use futures::executor::block_on;
use serde_json::{json, Value};

use super::{device::Device, fake_server::FakeServer, resolution_flows::with_policy};
use crate::{
    attachments::digest_of,
    client::ClientConfig,
    error::{EngineError, ErrorCode},
    local::WriteOutcome,
    model::DocStatus,
};

fn photo(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 31 % 256) as u8).collect()
}

fn put_att(
    device: &Device,
    id: &str,
    name: &str,
    bytes: &[u8],
) -> Result<WriteOutcome, EngineError> {
    let run = device
        .client
        .put_attachment(id, name, "image/jpeg", bytes, None, &device.env);
    block_on(run).map(|(outcome, _)| outcome)
}

fn pushed_last(server: &FakeServer) -> Value {
    server.written.borrow().last().cloned().unwrap_or_default()
}

#[test]
fn an_offline_photo_is_pushed_inline_then_kept_as_a_stub() {
    let server = FakeServer::new();
    let device = Device::new();
    device
        .put(json!({"_id": "room", "title": "kitchen"}))
        .expect("put");
    let bytes = photo(300_000);
    let outcome = put_att(&device, "room", "photo.jpg", &bytes).expect("attach");
    assert_eq!(outcome.status, DocStatus::Pending);
    assert_eq!(device.outbox_len(), 1, "coalesced with the put");
    let report = device.sync(&server);
    assert_eq!((report.pushed, report.errors.len()), (1, 0), "{report:?}");
    assert_eq!(
        server.attachment_bytes("room", "photo.jpg"),
        Some(bytes.clone())
    );
    assert!(pushed_last(&server)["_attachments"]["photo.jpg"]["data"].is_string());
    assert_eq!(device.status("room"), Some(DocStatus::Synced));
    // Synced: the entry is a stub of the server's bytes, digest unchanged.
    let (doc, entry) = block_on(device.client.attachment("room", "photo.jpg")).expect("entry");
    assert_eq!(entry["stub"], true);
    assert_eq!(entry["digest"], digest_of(&bytes));
    assert_eq!(doc.local_attachments, None);
    // The next edit sends a stub, not the bytes again.
    device
        .put(json!({"_id": "room", "title": "kitchen, tiled"}))
        .expect("edit");
    device.sync(&server);
    let pushed = pushed_last(&server);
    assert_eq!(
        pushed["_attachments"]["photo.jpg"]["stub"], true,
        "{pushed}"
    );
    assert!(pushed["_attachments"]["photo.jpg"].get("data").is_none());
    assert_eq!(server.attachment_bytes("room", "photo.jpg"), Some(bytes));
    // The bytes stay readable locally.
    assert_eq!(
        block_on(device.client.stored_bytes(&entry))
            .expect("read")
            .map(|b| b.len()),
        Some(300_000)
    );
}

#[test]
fn put_attachment_creates_the_document_and_respects_rev() {
    let server = FakeServer::new();
    let device = Device::new();
    let first = put_att(&device, "new", "a.jpg", b"one").expect("creates");
    let rev = first.rev.clone().expect("a local rev");
    // A stale rev is refused and nothing changes.
    let stale = "1-0123456789abcdef0123456789abcdef";
    let refused = block_on(device.client.put_attachment(
        "new",
        "b.jpg",
        "image/jpeg",
        b"two",
        Some(stale),
        &device.env,
    ));
    assert_eq!(
        refused.map(|_| ()).map_err(|e| e.code()),
        Err(ErrorCode::Conflict)
    );
    let second = block_on(device.client.put_attachment(
        "new",
        "b.jpg",
        "image/jpeg",
        b"two",
        Some(&rev),
        &device.env,
    ))
    .expect("current rev");
    assert_ne!(
        second.0.rev, first.rev,
        "an attachment change is a new version"
    );
    device.sync(&server);
    assert_eq!(server.body("new"), Some(json!({})));
    assert_eq!(server.attachment_names("new"), vec!["a.jpg", "b.jpg"]);
}

#[test]
fn removing_an_attachment_pushes_the_document_without_it() {
    let server = FakeServer::new();
    let device = Device::new();
    put_att(&device, "room", "a.jpg", b"aaa").expect("a");
    put_att(&device, "room", "b.jpg", b"bbb").expect("b");
    device.sync(&server);
    let removed = block_on(
        device
            .client
            .remove_attachment("room", "a.jpg", None, &device.env),
    );
    assert!(removed.is_ok(), "{removed:?}");
    let missing = block_on(
        device
            .client
            .remove_attachment("room", "a.jpg", None, &device.env),
    );
    assert_eq!(
        missing.map(|_| ()).map_err(|e| e.code()),
        Err(ErrorCode::NotFound)
    );
    device.sync(&server);
    assert_eq!(server.attachment_names("room"), vec!["b.jpg"]);
    let gone = block_on(device.client.attachment("room", "a.jpg"));
    assert_eq!(
        gone.map(|_| ()).map_err(|e| e.code()),
        Err(ErrorCode::NotFound)
    );
}

#[test]
fn bad_attachments_are_refused_with_nothing_written() {
    let device = Device::with_config(ClientConfig {
        max_attachment_bytes: 1000,
        ..ClientConfig::default()
    });
    let cases: [(&str, &str, &str, usize, ErrorCode); 5] = [
        (
            "room",
            "big.jpg",
            "image/jpeg",
            1001,
            ErrorCode::AttachmentTooLarge,
        ),
        (
            "room",
            "_hidden",
            "image/jpeg",
            3,
            ErrorCode::InvalidAttachment,
        ),
        ("room", "", "image/jpeg", 3, ErrorCode::InvalidAttachment),
        ("room", "x.jpg", "jpeg", 3, ErrorCode::InvalidAttachment),
        ("_design/x", "x.jpg", "image/jpeg", 3, ErrorCode::InvalidId),
    ];
    for (id, name, content_type, len, code) in cases {
        let bytes = photo(len);
        let run = device
            .client
            .put_attachment(id, name, content_type, &bytes, None, &device.env);
        let result = block_on(run).map(|_| ()).map_err(|e| e.code());
        assert_eq!(result, Err(code), "{name:?}");
    }
    assert_eq!(device.outbox_len(), 0);
    assert_eq!(device.body("room"), None);
    // Exactly the limit is accepted.
    assert!(put_att(&device, "room", "max.jpg", &photo(1000)).is_ok());
}

#[test]
fn a_push_whose_bytes_are_missing_is_parked_not_lost() {
    // Bytes the store lost (evicted storage) go as a stub: the server
    // refuses that document alone and the change is parked with its error.
    let server = FakeServer::new();
    let device = Device::new();
    put_att(&device, "ok", "a.jpg", b"fine").expect("ok");
    put_att(&device, "lost", "b.jpg", b"gone").expect("lost");
    let entry = json!({"digest": "md5-nothing", "content_type": "image/jpeg", "length": 1});
    let rewired = crate::store::WriteBatch {
        put_docs: vec![{
            let mut doc = block_on(device.client.get("lost"))
                .expect("get")
                .expect("doc");
            let mut set = serde_json::Map::new();
            set.insert("b.jpg".into(), entry);
            doc.local_attachments = Some(set);
            doc
        }],
        ..Default::default()
    };
    let store = device.client.store();
    block_on(crate::store::LocalStore::transact(store, &[], |_| {
        Ok::<_, crate::error::StoreError>((rewired, ()))
    }))
    .expect("rewire");
    let report = device.sync(&server);
    assert_eq!(report.pushed, 1, "{report:?}");
    assert_eq!(server.attachment_names("ok"), vec!["a.jpg"]);
    assert_eq!(server.rev("lost"), None);
    assert_eq!(device.status("lost"), Some(DocStatus::Pending));
    assert_eq!(device.outbox_len(), 1, "parked, not dropped");
}

/// The server's `room` with `theirs.png`, added by another client while
/// this device, holding the revision before it, added `mine.jpg`.
fn both_sides_added(policy: Value) -> (FakeServer, Device) {
    let server = FakeServer::new();
    let device = with_policy(policy);
    device
        .put(json!({"_id": "room", "title": "kitchen"}))
        .expect("put");
    device.sync(&server);
    let mut doc = json!({"_id": "room", "title": "kitchen", "_rev": server.rev("room").map(|r| r.to_string())});
    doc["_attachments"] = json!({"theirs.png": {"content_type": "image/png", "data": "dGhlaXJz"}});
    assert_eq!(server.write_as_other_client(doc)["ok"], true);
    put_att(&device, "room", "mine.jpg", b"mine").expect("mine");
    (server, device)
}

#[test]
fn a_conflict_shows_both_sides_attachments_and_a_resolution_keeps_both() {
    let (server, device) = both_sides_added(json!({"strategy": "manual"}));
    // The attachment-only change conflicts with the server's new revision.
    let report = device.sync(&server);
    assert_eq!(report.conflicts, 1, "{report:?}");
    let conflicts = block_on(device.client.conflicts()).expect("conflicts");
    let conflict = &conflicts[0];
    let names = |set: &Option<crate::model::Attachments>| -> Vec<String> {
        set.iter().flat_map(|s| s.keys().cloned()).collect()
    };
    assert_eq!(names(&conflict.local_attachments), vec!["mine.jpg"]);
    assert_eq!(names(&conflict.remote_attachments), vec!["theirs.png"]);
    block_on(
        device
            .client
            .resolve("room", Some(json!({"title": "kitchen"})), &device.env),
    )
    .expect("resolve");
    let report = device.sync(&server);
    assert!(report.errors.is_empty(), "{report:?}");
    assert_eq!(
        server.attachment_names("room"),
        vec!["mine.jpg", "theirs.png"]
    );
    assert_eq!(
        server.attachment_bytes("room", "mine.jpg"),
        Some(b"mine".to_vec())
    );
    assert_eq!(device.status("room"), Some(DocStatus::Synced));
}

#[test]
fn an_automatic_resolution_keeps_both_sides_attachments() {
    // The bodies agree, so a server-wins rule would take the server's
    // version as it is: the local photo must still be pushed.
    let (server, device) = both_sides_added(json!({"strategy": "serverWins"}));
    device.sync(&server);
    device.sync(&server);
    assert_eq!(
        server.attachment_names("room"),
        vec!["mine.jpg", "theirs.png"]
    );
    assert_eq!(device.status("room"), Some(DocStatus::Synced));
    assert_eq!(device.outbox_len(), 0);
}

#[test]
fn a_push_request_holds_at_most_batch_bytes_of_attachments() {
    let server = FakeServer::new();
    let mut config = ClientConfig::default();
    config.sync.batch_bytes = 1_000_000;
    let device = Device::with_config(config);
    for i in 0..4 {
        put_att(&device, &format!("room-{i}"), "photo.jpg", &photo(600_000)).expect("attach");
    }
    // A plain document rides with the first photo; the others go one each.
    device.put(json!({"_id": "small", "n": 1})).expect("put");
    let report = device.sync(&server);
    assert_eq!((report.pushed, report.errors.len()), (5, 0), "{report:?}");
    let pushes = server
        .requests
        .borrow()
        .iter()
        .filter(|r| r.contains("_bulk_docs"))
        .count();
    assert_eq!(pushes, 4, "{:?}", server.requests.borrow());
    for i in 0..4 {
        assert_eq!(
            server
                .attachment_bytes(&format!("room-{i}"), "photo.jpg")
                .map(|b| b.len()),
            Some(600_000)
        );
    }
}
