//! Writes made together: a bulk write (`putMany`) is one transaction, all or
//! nothing; writes grouped by group commit (`put`s started together) share one
//! transaction and fail alone. Both coalesce two writes of one document.

use futures::executor::block_on;
use serde_json::json;

use super::{device::Device, fake_server::FakeServer};

#[test]
fn a_bulk_write_is_one_transaction_with_coalescing() {
    let server = FakeServer::new();
    let device = Device::last_write_wins();
    let docs = vec![
        json!({"_id": "a", "n": 1}),
        json!({"_id": "b"}),
        json!({"_id": "a", "n": 2}),
        json!({"x": 1}),
    ];
    let written = block_on(device.client.put_many(docs, &device.env)).expect("bulk");
    assert_eq!(written.len(), 4);
    assert_eq!(device.outbox_len(), 3, "two writes to a coalesce");
    assert_eq!(device.body("a"), Some(json!({"n": 2})));
    // One bad document: nothing at all is written, and the error names it.
    let bad = vec![json!({"_id": "c"}), json!({"_id": 5})];
    let err = block_on(device.client.put_many(bad, &device.env)).expect_err("invalid");
    assert_eq!(err.code().as_str(), "invalid_id");
    assert!(err.to_string().contains("document 1"), "{err}");
    assert_eq!(device.status("c"), None);
    assert_eq!(device.sync(&server).pushed, 3);
    assert_eq!(server.body("a"), Some(json!({"n": 2})));
}

#[test]
fn writes_grouped_in_one_transaction_fail_alone() {
    let server = FakeServer::new();
    let device = Device::last_write_wins();
    let docs = vec![
        json!({"_id": "a", "n": 1}),
        json!({"_id": 5}),
        json!({"_id": "a", "n": 2}),
        json!("not a document"),
        json!({"_id": "b"}),
    ];
    let results = block_on(device.client.put_each(docs, &device.env)).expect("group");
    let codes: Vec<Option<&str>> = results
        .iter()
        .map(|r| r.as_ref().err().map(|e| e.code().as_str()))
        .collect();
    assert_eq!(
        codes,
        [
            None,
            Some("invalid_id"),
            None,
            Some("invalid_document"),
            None
        ]
    );
    // The valid ones are written, in order: two writes to `a` coalesce.
    let ids: Vec<&str> = results
        .iter()
        .filter_map(|r| r.as_ref().ok())
        .map(|(outcome, _)| outcome.id.as_str())
        .collect();
    assert_eq!(ids, ["a", "a", "b"]);
    assert_eq!(device.body("a"), Some(json!({"n": 2})));
    assert_eq!(device.outbox_len(), 2);
    // A group of only invalid writes writes nothing and fails each.
    let results = block_on(device.client.put_each(vec![json!(1)], &device.env)).expect("group");
    assert!(results[0].is_err());
    assert_eq!(device.sync(&server).pushed, 2);
    assert_eq!(server.body("b"), Some(json!({})));
}
