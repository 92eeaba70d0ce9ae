//! Attachment bytes: kept under their digest, read back exactly, several at
//! once, and stored once however often they are saved.

use crate::{attachments::digest_of, store::LocalStore};

/// Saves bytes of every value (and a large run) and reads them back by
/// digest; a digest the store never saw is simply absent.
pub async fn bytes_by_digest<S: LocalStore>(store: &S) {
    let every_byte: Vec<u8> = (0..=255u8).collect();
    let large: Vec<u8> = (0..1_500_000u32).map(|i| (i * 7 % 251) as u8).collect();
    let empty: Vec<u8> = Vec::new();
    for (bytes, content_type) in [
        (&every_byte, "application/octet-stream"),
        (&large, "image/jpeg"),
        (&empty, "text/plain"),
    ] {
        store
            .save_attachment(&digest_of(bytes), content_type, bytes)
            .await
            .expect("save");
    }
    // Saving the same bytes again is harmless.
    store
        .save_attachment(
            &digest_of(&every_byte),
            "application/octet-stream",
            &every_byte,
        )
        .await
        .expect("save again");
    let wanted = vec![
        digest_of(&every_byte),
        digest_of(&large),
        digest_of(&empty),
        digest_of(b"never saved"),
    ];
    let found = store.load_attachments(&wanted).await.expect("load");
    assert_eq!(found.len(), 3, "{:?}", found.keys());
    assert_eq!(found.get(&wanted[0]), Some(&every_byte));
    assert_eq!(found.get(&wanted[1]).map(Vec::len), Some(large.len()));
    assert!(found.get(&wanted[1]) == Some(&large), "large bytes differ");
    assert_eq!(found.get(&wanted[2]), Some(&empty));
    assert_eq!(
        store.load_attachments(&[]).await.expect("load none").len(),
        0
    );
}
