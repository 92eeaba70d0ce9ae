//! Revision trees: replicated histories grafted with `new_edits=false`,
//! every leaf kept, CouchDB's winner, edits of any leaf, and files written
//! before revision trees existed. Expected answers are Apache CouchDB 3.5's.

mod common;

use common::{assert_error, trees::seed_conflicts, TestServer};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

fn leaves(row: &Value) -> Vec<&str> {
    row["changes"]
        .as_array()
        .expect("changes")
        .iter()
        .map(|c| c["rev"].as_str().expect("rev"))
        .collect()
}

#[tokio::test]
async fn grafts_keep_every_branch_and_pick_couchdbs_winner() {
    let server = TestServer::start().await;
    seed_conflicts(&server).await;
    // Live beats deleted (3-ddd loses), then the higher generation.
    let (_, doc) = server
        .get("/db/d?conflicts=true&deleted_conflicts=true&revs=true&revs_info=true")
        .await;
    assert_eq!(
        doc,
        json!({"_id": "d", "_rev": "2-bbb", "v": "b",
               "_revisions": {"start": 2, "ids": ["bbb", "aaa"]},
               "_revs_info": [{"rev": "2-bbb", "status": "available"},
                              {"rev": "1-aaa", "status": "missing"}],
               "_conflicts": ["1-zzz"], "_deleted_conflicts": ["3-ddd"]})
    );
    // Every graft moved the document in `_changes`: one row, all leaves.
    let (_, changes) = server.get("/db/_changes?style=all_docs").await;
    assert_eq!(changes["last_seq"], 4);
    let row = &changes["results"][0];
    assert_eq!(row["seq"], 4);
    assert_eq!(leaves(row), ["2-bbb", "1-zzz", "3-ddd"]);
    let (_, main) = server.get("/db/_changes").await;
    assert_eq!(leaves(&main["results"][0]), ["2-bbb"]);
    // The ancestor known by id only has no body to read.
    assert_error(server.get("/db/d?rev=1-aaa").await, 404, "not_found");
    let (_, branch) = server.get("/db/d?rev=2-ccc").await;
    assert_eq!(branch["v"], "c");
    // Replaying the same batch changes nothing.
    seed_again(&server).await;
    let (_, info) = server.get("/db").await;
    assert_eq!(info["update_seq"], 4);
}

async fn seed_again(server: &TestServer) {
    let (status, _) = server
        .post(
            "/db/_bulk_docs",
            json!({"new_edits": false, "docs": [
                {"_id": "d", "_rev": "2-bbb", "v": "b",
                 "_revisions": {"start": 2, "ids": ["bbb", "aaa"]}},
                {"_id": "d", "_rev": "1-aaa", "v": "a"}
            ]}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
}

#[tokio::test]
async fn any_leaf_may_be_edited_and_deleting_the_winner_promotes_another() {
    let server = TestServer::start().await;
    seed_conflicts(&server).await;
    // A stub ancestor is no leaf; a losing live or deleted leaf is.
    assert_error(
        server
            .put("/db/d", json!({"_rev": "1-aaa", "v": "x"}))
            .await,
        409,
        "conflict",
    );
    let (status, edited) = server
        .put("/db/d", json!({"_rev": "1-zzz", "v": "edit"}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{edited}");
    let zzz2 = edited["rev"].as_str().expect("rev").to_owned();
    assert!(zzz2.starts_with("2-"));
    let (_, doc) = server.get("/db/d?conflicts=true").await;
    assert_eq!(doc["_rev"], "2-bbb");
    assert_eq!(doc["_conflicts"], json!([zzz2]));
    // Deleting the winner makes the other live leaf win.
    let (status, _) = server.delete("/db/d?rev=2-bbb").await;
    assert_eq!(status, StatusCode::OK);
    let (_, doc) = server.get("/db/d?conflicts=true").await;
    assert_eq!(doc["_rev"], zzz2);
    assert_eq!(doc["v"], "edit");
    assert!(doc.get("_conflicts").is_none(), "{doc}");
    // A stale (non-leaf) revision still conflicts.
    assert_error(
        server
            .put("/db/d", json!({"_rev": "1-zzz", "v": "again"}))
            .await,
        409,
        "conflict",
    );
    // Deleting the last live leaf leaves a deleted document.
    server.delete(&format!("/db/d?rev={zzz2}")).await;
    assert_error(server.get("/db/d").await, 404, "not_found");
    let (_, info) = server.get("/db").await;
    assert_eq!(
        (info["doc_count"].clone(), info["doc_del_count"].clone()),
        (json!(0), json!(1))
    );
}

#[tokio::test]
async fn put_with_new_edits_false_grafts_the_given_history() {
    let server = TestServer::start().await;
    server.create_db("db").await;
    let rev1 = server.put_doc("db", "p", json!({"v": 1})).await;
    let hash1 = rev1.split_once('-').expect("rev").1.to_owned();
    let (status, body) = server
        .put(
            "/db/p?new_edits=false",
            json!({"_rev": "3-ccc", "v": 3,
                   "_revisions": {"start": 3, "ids": ["ccc", "bbb", hash1]}}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(body, json!({"ok": true, "id": "p", "rev": "3-ccc"}));
    let (_, doc) = server.get("/db/p?revs=true&conflicts=true").await;
    assert_eq!(
        doc["_revisions"],
        json!({"start": 3, "ids": ["ccc", "bbb", hash1]})
    );
    assert!(
        doc.get("_conflicts").is_none(),
        "joined, not branched: {doc}"
    );
    // The old leaf is an ancestor now; an edit must name the new one.
    assert_error(
        server.put("/db/p", json!({"_rev": rev1, "v": 2})).await,
        409,
        "conflict",
    );
    // `_revisions` names the revision when it disagrees with `_rev`.
    let (_, body) = server
        .put(
            "/db/q?new_edits=false",
            json!({"_rev": "2-abc", "_revisions": {"start": 3, "ids": ["abc", "def"]}}),
        )
        .await;
    assert_eq!(body["rev"], "3-abc");
    assert_error(
        server
            .post(
                "/db/_bulk_docs",
                json!({"new_edits": false, "docs": [
                    {"_id": "r", "_rev": "2-abc", "_revisions": {"start": 2, "ids": "x"}}
                ]}),
            )
            .await,
        400,
        "doc_validation",
    );
    let (_, info) = server.get("/db").await;
    assert_eq!(info["doc_count"], 2, "the refused batch wrote nothing");
}

#[tokio::test]
async fn replicated_tombstones_and_attachment_stubs() {
    let server = TestServer::start().await;
    server.create_db("db").await;
    let (status, _) = server
        .post(
            "/db/_bulk_docs",
            json!({"new_edits": false, "docs": [
                {"_id": "a", "_rev": "1-aaa", "_revisions": {"start": 1, "ids": ["aaa"]},
                 "_attachments": {"f.txt": {"content_type": "text/plain", "data": "aGk="}}}
            ]}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    // The stub is found in the stored ancestor.
    let (status, _) = server
        .post(
            "/db/_bulk_docs",
            json!({"new_edits": false, "docs": [
                {"_id": "a", "_rev": "2-bbb", "n": 2,
                 "_revisions": {"start": 2, "ids": ["bbb", "aaa"]},
                 "_attachments": {"f.txt": {"stub": true, "revpos": 1}}}
            ]}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let response = server
        .client
        .get(server.url("/db/a/f.txt"))
        .send()
        .await
        .expect("sent");
    assert_eq!(response.text().await.expect("body"), "hi");
    // A tombstone on a branch: the live leaf keeps winning.
    server
        .post(
            "/db/_bulk_docs",
            json!({"new_edits": false, "docs": [
                {"_id": "a", "_rev": "3-ccc", "_deleted": true,
                 "_revisions": {"start": 3, "ids": ["ccc", "xxx", "aaa"]}}
            ]}),
        )
        .await;
    let (_, doc) = server.get("/db/a?deleted_conflicts=true").await;
    assert_eq!(doc["_rev"], "2-bbb");
    assert_eq!(doc["_deleted_conflicts"], json!(["3-ccc"]));
}

#[tokio::test]
async fn replicated_put_takes_attachments_as_multipart_related_parts() {
    let server = TestServer::start().await;
    server.create_db("db").await;
    // As CouchDB's replicator writes a document with an attachment.
    let body = "--b0\r\nContent-Type: application/json\r\n\r\n\
{\"_id\":\"m\",\"_rev\":\"2-bbb\",\"_revisions\":{\"start\":2,\"ids\":[\"bbb\",\"aaa\"]},\
\"_attachments\":{\"f.txt\":{\"content_type\":\"text/plain\",\"revpos\":2,\"follows\":true,\"length\":5}}}\r\n\
--b0\r\nContent-Disposition: attachment; filename=\"f.txt\"\r\nContent-Type: text/plain\r\n\r\nhello\r\n--b0--";
    let (status, answer) = server
        .raw(
            Method::PUT,
            "/db/m?new_edits=false",
            "multipart/related; boundary=\"b0\"",
            body,
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
    assert_eq!(answer["rev"], "2-bbb");
    let response = server
        .client
        .get(server.url("/db/m/f.txt"))
        .send()
        .await
        .expect("sent");
    assert_eq!(response.text().await.expect("body"), "hello");
    let missing_part = "--b0\r\nContent-Type: application/json\r\n\r\n\
{\"_attachments\":{\"g.txt\":{\"follows\":true}}}\r\n--b0--";
    assert_error(
        server
            .raw(
                Method::PUT,
                "/db/n",
                "multipart/related; boundary=b0",
                missing_part,
            )
            .await,
        400,
        "bad_request",
    );
}
