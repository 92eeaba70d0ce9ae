//! A `_changes` row the client cannot read (no revision, or a document that
//! is not one) is never skipped: the pull stops before it, says so, and
//! resumes there.

use futures::executor::block_on;
use serde_json::{json, Value};

use super::{device::Device, fake_server::FakeServer};
use crate::{
    client::{ClientConfig, Transport},
    http::{HttpRequest, HttpResponse, TransportError},
    store::{LocalStore, META_CHECKPOINT},
    sync::{IssueCode, SyncConfig},
};

/// The server as seen through a proxy that spoils `id`'s `_rev` in every
/// `_changes` answer.
struct Spoiling<'a> {
    server: &'a FakeServer,
    id: &'static str,
}

impl Transport for Spoiling<'_> {
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, TransportError> {
        let changes = request.path == "_changes";
        let mut response = self.server.send(request).await?;
        if changes {
            let mut page: Value = serde_json::from_str(&response.body).unwrap_or_default();
            for row in page["results"].as_array_mut().into_iter().flatten() {
                if row["id"] == self.id {
                    row["doc"]["_rev"] = json!("not a revision");
                }
            }
            response.body = page.to_string();
        }
        Ok(response)
    }
}

fn on_server(server: &FakeServer, ids: &[&str]) {
    for id in ids {
        let written = server.write_as_other_client(json!({"_id": id, "n": 1}));
        assert_eq!(written["ok"], true, "{written}");
    }
}

fn checkpoint(device: &Device) -> Option<Value> {
    block_on(device.client.store().get_meta(META_CHECKPOINT)).expect("meta")
}

fn stops_before_the_unreadable_row(pull_page: usize) {
    let server = FakeServer::new();
    on_server(&server, &["a", "b", "c"]);
    let device = Device::with_config(ClientConfig {
        sync: SyncConfig {
            pull_page,
            ..SyncConfig::default()
        },
        ..ClientConfig::default()
    });
    let report = device.sync(&Spoiling {
        server: &server,
        id: "b",
    });
    assert_eq!(report.pulled, 1, "{report:?}");
    let issue = report.errors.first().expect("reported");
    assert_eq!(issue.code, IssueCode::Protocol);
    assert_eq!(issue.id.as_deref(), Some("b"));
    assert!(device.body("a").is_some());
    assert_eq!((device.body("b"), device.body("c")), (None, None));
    // The checkpoint is a's row: b is read again next time.
    let stopped_at = checkpoint(&device).expect("a checkpoint after a");
    assert_eq!(stopped_at, json!(1), "a's seq");
    // Once the row reads, the pull goes on from there.
    let report = device.sync(&server);
    assert!(report.errors.is_empty(), "{report:?}");
    assert_eq!(report.pulled, 2);
    assert_eq!(device.body("c"), Some(json!({"n": 1})));
}

#[test]
fn an_unreadable_row_stops_the_pull_before_it_and_is_reported() {
    stops_before_the_unreadable_row(1000);
}

#[test]
fn an_unreadable_row_also_stops_a_paged_pull_whose_next_page_is_on_its_way() {
    // Pages of 2: [a, b] is applied while [c] is fetched; c must wait too.
    stops_before_the_unreadable_row(2);
}

#[test]
fn an_unreadable_first_row_leaves_the_checkpoint_where_it_was() {
    let server = FakeServer::new();
    on_server(&server, &["b", "c"]);
    let device = Device::new();
    let report = device.sync(&Spoiling {
        server: &server,
        id: "b",
    });
    assert_eq!(report.pulled, 0);
    assert_eq!(report.errors.len(), 1, "{report:?}");
    assert_eq!(checkpoint(&device), None);
    assert_eq!(device.body("c"), None);
}
