//! Two clients and a server: convergence, conflicts, a lost answer, paged
//! pulls and the client's own pushes coming back.

use std::cell::Cell;

use serde_json::json;

use super::{Remote, ScenarioClient};
use crate::{
    client::{ClientConfig, Transport},
    http::{HttpRequest, HttpResponse, TransportError},
    model::DocStatus,
    sync::SyncConfig,
};

fn client() -> ScenarioClient {
    ScenarioClient::new(ClientConfig::default())
}

/// Creates, updates and deletes travel both ways.
pub(super) async fn two_clients_converge(remote: &impl Transport) {
    let (a, b) = (client(), client());
    a.put(json!({"_id": "car", "make": "Toyota", "color": "red"}))
        .await;
    assert_eq!(a.sync(remote).await.pushed, 1);
    assert_eq!(b.sync(remote).await.pulled, 1);
    assert_eq!(
        b.body("car").await,
        Some(json!({"make": "Toyota", "color": "red"}))
    );
    b.put(json!({"_id": "car", "make": "Toyota", "color": "blue"}))
        .await;
    b.sync(remote).await;
    a.sync(remote).await;
    assert_eq!(
        a.body("car").await,
        Some(json!({"make": "Toyota", "color": "blue"}))
    );
    a.delete("car").await;
    a.sync(remote).await;
    b.sync(remote).await;
    assert_eq!(b.body("car").await, None);
    assert!(
        b.record("car").await.is_some_and(|d| d.deleted),
        "a tombstone"
    );
    assert_eq!(
        Remote(remote).get("car").await,
        None,
        "deleted on the server"
    );
}

/// Two edits of one version: the second to sync is a conflict with both
/// sides, and its resolution reaches the server and the other client.
pub(super) async fn a_stale_update_conflicts_and_its_resolution_converges(remote: &impl Transport) {
    let (a, b) = (client(), client());
    a.put(json!({"_id": "bug", "status": "open"})).await;
    a.sync(remote).await;
    b.sync(remote).await;
    a.put(json!({"_id": "bug", "status": "closed"})).await;
    b.put(json!({"_id": "bug", "status": "wontfix"})).await;
    a.sync(remote).await;
    let report = b.sync(remote).await;
    assert_eq!(report.conflicts, 1, "{report:?}");
    let conflicts = b.client.conflicts().await.expect("conflicts");
    let conflict = conflicts.first().expect("one conflict");
    assert_eq!(
        conflict.local,
        json!({"status": "wontfix"}).as_object().cloned()
    );
    assert_eq!(
        conflict.remote,
        json!({"status": "closed"}).as_object().cloned()
    );
    assert_eq!(
        conflict.base,
        json!({"status": "open"}).as_object().cloned()
    );
    b.resolve("bug", json!({"status": "closed", "note": "duplicate"}))
        .await;
    let report = b.sync(remote).await;
    assert_eq!((report.pushed, report.conflicts), (1, 0), "{report:?}");
    a.sync(remote).await;
    let merged = json!({"status": "closed", "note": "duplicate"});
    assert_eq!(a.body("bug").await, Some(merged.clone()));
    assert_eq!(Remote(remote).body("bug").await, Some(merged));
}

/// The server commits a push and its answer is lost: the next cycle finds
/// its own write there instead of writing it again or calling it a conflict.
pub(super) async fn a_lost_answer_is_recognised_without_a_second_revision(remote: &impl Transport) {
    let a = client();
    a.put(json!({"_id": "order", "qty": 2})).await;
    let lossy = LoseFirstPush {
        inner: remote,
        lost: Cell::new(false),
    };
    let report = a.sync(&lossy).await;
    assert!(lossy.lost.get(), "the push went out");
    assert_eq!(report.errors.len(), 1, "{report:?}");
    let report = a.sync(remote).await;
    assert_eq!(report.conflicts, 0, "{report:?}");
    let doc = a.record("order").await.expect("stored");
    assert_eq!(doc.status, DocStatus::Synced);
    let on_server = Remote(remote).get("order").await.expect("on the server");
    assert!(
        on_server["_rev"]
            .as_str()
            .is_some_and(|r| r.starts_with("1-")),
        "one revision: {on_server}"
    );
    assert_eq!(
        doc.rev.map(|r| r.to_string()),
        on_server["_rev"].as_str().map(str::to_owned)
    );
}

/// A pull in pages of 10 brings 25 documents once each, and the next cycle
/// finds nothing more.
pub(super) async fn a_paged_pull_brings_everything_once(remote: &impl Transport) {
    let writer = client();
    for n in 0..25 {
        writer
            .put(json!({"_id": format!("item-{n:02}"), "n": n}))
            .await;
    }
    assert_eq!(writer.sync(remote).await.pushed, 25);
    let reader = ScenarioClient::new(ClientConfig {
        sync: SyncConfig {
            pull_page: 10,
            ..SyncConfig::default()
        },
        ..ClientConfig::default()
    });
    let report = reader.sync(remote).await;
    assert_eq!(report.pulled, 25, "{report:?}");
    assert_eq!(reader.sync(remote).await.pulled, 0);
    let all = reader.client.all(&Default::default()).await.expect("all");
    assert_eq!(all.len(), 25);
    assert_eq!(reader.body("item-07").await, Some(json!({"n": 7})));
}

/// A cycle's own pushes come back through `_changes` and are not applied
/// again (no change events, nothing pulled).
pub(super) async fn own_pushes_are_not_pulled_back(remote: &impl Transport) {
    let a = client();
    for n in 0..5 {
        a.put(json!({"_id": format!("note-{n}"), "n": n})).await;
    }
    let report = a.sync(remote).await;
    assert_eq!((report.pushed, report.pulled), (5, 0), "{report:?}");
    let again = a.sync(remote).await;
    assert_eq!((again.pushed, again.pulled), (0, 0), "{again:?}");
}

/// A transport that delivers the first `_bulk_docs`, then loses its answer.
struct LoseFirstPush<'a, T> {
    inner: &'a T,
    lost: Cell<bool>,
}

impl<T: Transport> Transport for LoseFirstPush<'_, T> {
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, TransportError> {
        let push = request.path == "_bulk_docs";
        let response = self.inner.send(request).await?;
        if push && !self.lost.replace(true) {
            return Err(TransportError::Network("connection reset".into()));
        }
        Ok(response)
    }
}
