//! Attachments through the SDK in each browser engine the tests run in
//! (Chromium, Firefox, WebKitGTK): bytes kept as the engine can keep them
//! (a Blob, or a buffer where IndexedDB refuses Blobs), pushed, downloaded
//! on first read by another client, removed, and swept.
#![cfg(target_arch = "wasm32")]

// Shared with web_sdk.rs, of which this file uses a part.
#[allow(dead_code)]
mod support;

use js_sys::{Array, Uint8Array};
use support::{call, eval, expect_code, get, open, open_tuned, remote_db, try_call, unique};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

/// `len` bytes of a pattern no two neighbours share, as a JPEG Blob.
fn photo(len: usize, seed: u8) -> JsValue {
    eval(&format!(
        "(() => {{ const b = new Uint8Array({len}); for (let i = 0; i < b.length; i++) b[i] = (i * 31 + {seed}) % 256; return new Blob([b], {{ type: 'image/jpeg' }}); }})()"
    ))
}

fn expected(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| ((i * 31 + usize::from(seed)) % 256) as u8)
        .collect()
}

/// The bytes of a Blob.
async fn bytes_of(blob: &JsValue) -> Vec<u8> {
    let read = try_call(blob, "arrayBuffer", &[]).await;
    let buffer = read.unwrap_or_else(|e| panic!("not a Blob: {e:?}"));
    Uint8Array::new(&buffer).to_vec()
}

fn ids(list: &JsValue) -> Vec<(String, bool, bool)> {
    list.clone()
        .dyn_into::<Array>()
        .map(|a| {
            a.iter()
                .map(|x| {
                    (
                        get(&x, "name").as_string().unwrap_or_default(),
                        get(&x, "stored").as_bool().unwrap_or_default(),
                        get(&x, "pending").as_bool().unwrap_or_default(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

fn no_errors(report: &JsValue) {
    let errors = get(report, "errors")
        .dyn_into::<Array>()
        .map(|e| e.length());
    assert_eq!(errors, Ok(0), "{:?}", js_sys::JSON::stringify(report));
}

#[wasm_bindgen_test]
async fn a_photo_reaches_another_client_byte_for_byte_and_its_removal_too() {
    let remote = remote_db("photos").await;
    let a = open(&unique("a"), &remote).await;
    let put = call(
        &a,
        "putAttachment",
        &["room".into(), "photo.jpg".into(), photo(300_000, 7)],
    )
    .await;
    assert_eq!(get(&put, "status").as_string().as_deref(), Some("pending"));
    let local = call(&a, "getAttachment", &["room".into(), "photo.jpg".into()]).await;
    assert_eq!(
        get(&local, "type").as_string().as_deref(),
        Some("image/jpeg")
    );
    assert!(
        bytes_of(&local).await == expected(300_000, 7),
        "read back locally"
    );
    no_errors(&call(&a, "sync", &[]).await);

    let b = open(&unique("b"), &remote).await;
    no_errors(&call(&b, "sync", &[]).await);
    let listed = call(&b, "attachments", &["room".into()]).await;
    assert_eq!(ids(&listed), vec![("photo.jpg".to_owned(), false, false)]);
    let pulled = call(&b, "getAttachment", &["room".into(), "photo.jpg".into()]).await;
    assert!(
        bytes_of(&pulled).await == expected(300_000, 7),
        "downloaded"
    );
    let listed = call(&b, "attachments", &["room".into()]).await;
    assert_eq!(ids(&listed), vec![("photo.jpg".to_owned(), true, false)]);

    call(&b, "removeAttachment", &["room".into(), "photo.jpg".into()]).await;
    no_errors(&call(&b, "sync", &[]).await);
    no_errors(&call(&a, "sync", &[]).await);
    assert_eq!(
        ids(&call(&a, "attachments", &["room".into()]).await),
        vec![]
    );
    expect_code(
        try_call(&a, "getAttachment", &["room".into(), "photo.jpg".into()]).await,
        "not_found",
    );
    // The bytes nothing names any more are swept.
    let swept = call(&a, "compact", &[support::json(r#"{"olderThanMs": 0}"#)]).await;
    assert_eq!(swept.as_f64(), Some(1.0));
    call(&a, "destroy", &[]).await;
    call(&b, "destroy", &[]).await;
}

#[wasm_bindgen_test]
async fn attachments_over_the_limit_or_misnamed_are_refused_with_nothing_written() {
    let remote = remote_db("photo-limits").await;
    let db = open_tuned(&unique("limits"), &remote, r#""maxAttachmentBytes": 1000"#).await;
    let refused = try_call(
        &db,
        "putAttachment",
        &["room".into(), "big.jpg".into(), photo(1001, 1)],
    )
    .await;
    let error = expect_code(refused, "attachment_too_large");
    let details = get(&error, "details");
    assert_eq!(get(&details, "limit").as_f64(), Some(1000.0));
    let bad_name = try_call(
        &db,
        "putAttachment",
        &["room".into(), "_x".into(), photo(10, 1)],
    )
    .await;
    expect_code(bad_name, "invalid_attachment");
    let not_data = try_call(
        &db,
        "putAttachment",
        &["room".into(), "a".into(), "text".into()],
    )
    .await;
    expect_code(not_data, "invalid_attachment");
    assert!(call(&db, "get", &["room".into()]).await.is_null());
    assert_eq!(call(&db, "pendingCount", &[]).await.as_f64(), Some(0.0));
    // A typed array at the limit is taken, its type from the options.
    let exact = eval("new Uint8Array(1000).fill(9)");
    let options = support::json(r#"{"contentType": "application/octet-stream"}"#);
    call(
        &db,
        "putAttachment",
        &["room".into(), "max.bin".into(), exact, options],
    )
    .await;
    let blob = call(&db, "getAttachment", &["room".into(), "max.bin".into()]).await;
    assert_eq!(
        get(&blob, "type").as_string().as_deref(),
        Some("application/octet-stream")
    );
    assert!(bytes_of(&blob).await == vec![9u8; 1000]);
    let url = call(&db, "attachmentUrl", &["room".into(), "max.bin".into()]).await;
    assert!(url.as_string().is_some_and(|u| u.starts_with("blob:")));
    call(&db, "destroy", &[]).await;
}
