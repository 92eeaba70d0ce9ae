//! Branches made by another replicator (`new_edits: false`): a conflict for
//! the app, resolved by deleting the losing leaf; a winner of a lower
//! generation applied.

use serde_json::json;

use super::{Remote, ScenarioClient};
use crate::{
    client::{ClientConfig, Transport},
    model::DocStatus,
};

const HIGH: &str = "ffffffffffffffffffffffffffffffff";
const LOW: &str = "00000000000000000000000000000001";

fn hash_of(rev: &str) -> &str {
    rev.split_once('-').map_or(rev, |(_, hash)| hash)
}

/// `id` at generation 2 on the server, held by a fresh client; its two revisions.
async fn at_generation_two(remote: &impl Transport, id: &str) -> (ScenarioClient, String, String) {
    let a = ScenarioClient::new(ClientConfig::default());
    a.put(json!({"_id": id, "v": 1})).await;
    a.sync(remote).await;
    let first = Remote(remote).get(id).await.expect("stored")["_rev"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    a.put(json!({"_id": id, "v": 2})).await;
    a.sync(remote).await;
    let second = Remote(remote).get(id).await.expect("stored")["_rev"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(second.starts_with("2-"), "{second}");
    (a, first, second)
}

/// A branch beside the client's revision wins; the client shows it as a
/// conflict naming its own revision as the losing leaf, and the resolution
/// leaves the server with one live leaf.
pub(super) async fn a_branch_is_a_conflict_and_its_resolution_deletes_it(remote: &impl Transport) {
    let (a, first, mine) = at_generation_two(remote, "job").await;
    let branch = format!("2-{HIGH}");
    Remote(remote)
        .graft(json!({"_id": "job", "_rev": branch, "_revisions": {"start": 2, "ids": [HIGH, hash_of(&first)]}, "v": "theirs"}))
        .await;
    let doc = Remote(remote).get("job").await.expect("stored");
    assert_eq!(doc["_rev"], json!(branch), "the higher hash wins: {doc}");
    assert_eq!(doc["_conflicts"], json!([mine]), "{doc}");
    let report = a.sync(remote).await;
    assert_eq!(report.conflicts, 1, "{report:?}");
    assert_eq!(
        a.record("job").await.map(|d| d.status),
        Some(DocStatus::Conflicted)
    );
    let conflicts = a.client.conflicts().await.expect("conflicts");
    let conflict = conflicts.first().expect("a conflict");
    assert_eq!(conflict.remote, json!({"v": "theirs"}).as_object().cloned());
    assert_eq!(conflict.local, json!({"v": 2}).as_object().cloned());
    let losing: Vec<String> = conflict
        .losing_revs
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(losing, vec![mine]);
    a.resolve("job", json!({"v": "both"})).await;
    let report = a.sync(remote).await;
    assert!(report.errors.is_empty(), "{report:?}");
    let doc = Remote(remote).get("job").await.expect("stored");
    assert_eq!(doc.get("_conflicts"), None, "one live leaf: {doc}");
    assert_eq!(Remote(remote).body("job").await, Some(json!({"v": "both"})));
    assert_eq!(
        a.record("job").await.map(|d| d.status),
        Some(DocStatus::Synced)
    );
}

/// The winning leaf is deleted and a root branch of generation 1 wins: the
/// client applies it although its generation is lower than the one it holds.
pub(super) async fn a_winner_of_a_lower_generation_is_applied(remote: &impl Transport) {
    let (a, _, mine) = at_generation_two(remote, "note").await;
    let root = format!("1-{LOW}");
    Remote(remote)
        .graft(json!({"_id": "note", "_rev": root, "_revisions": {"start": 1, "ids": [LOW]}, "v": "elsewhere"}))
        .await;
    let deleted = Remote(remote)
        .write(json!({"_id": "note", "_rev": mine, "_deleted": true}))
        .await;
    assert_eq!(deleted["ok"], true, "{deleted}");
    let doc = Remote(remote)
        .get("note")
        .await
        .expect("a live leaf is left");
    assert_eq!(doc["_rev"], json!(root), "{doc}");
    let report = a.sync(remote).await;
    assert!(report.errors.is_empty(), "{report:?}");
    assert_eq!(report.conflicts, 0, "{report:?}");
    assert_eq!(a.body("note").await, Some(json!({"v": "elsewhere"})));
    let rev = a
        .record("note")
        .await
        .and_then(|d| d.rev)
        .map(|r| r.to_string());
    assert_eq!(rev, Some(root));
}
