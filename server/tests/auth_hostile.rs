//! Requests that must be refused once the server has admins: each is
//! answered with CouchDB's status and error body, and writes nothing. Here:
//! credentials, membership and database administration.

mod common;

use common::{auth::Cred, hostile::*};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

#[tokio::test]
async fn callers_without_valid_credentials_are_refused() {
    let (server, rev) = fixture().await;
    let anon = Cred::Anonymous;
    refused(
        &server,
        anon,
        Method::GET,
        "/alice-db/a",
        None,
        NO_CREDENTIALS,
    )
    .await;
    refused(
        &server,
        anon,
        Method::PUT,
        "/alice-db/b",
        Some(json!({})),
        NO_CREDENTIALS,
    )
    .await;
    refused(
        &server,
        anon,
        Method::GET,
        "/alice-db/_changes",
        None,
        NO_CREDENTIALS,
    )
    .await;
    refused(
        &server,
        anon,
        Method::DELETE,
        &format!("/alice-db/a?rev={rev}"),
        None,
        NO_CREDENTIALS,
    )
    .await;
    refused(
        &server,
        anon,
        Method::GET,
        "/_all_dbs",
        None,
        (401, "unauthorized", "You are not a server admin."),
    )
    .await;
    refused(
        &server,
        anon,
        Method::PUT,
        "/newdb",
        None,
        (401, "unauthorized", "You are not a server admin."),
    )
    .await;
    let wrong = Cred::Basic("alice", "not-her-password");
    refused(
        &server,
        wrong,
        Method::GET,
        "/alice-db/a",
        None,
        WRONG_PASSWORD,
    )
    .await;
    let nobody = Cred::Basic("nobody", "x");
    refused(&server, nobody, Method::GET, "/", None, WRONG_PASSWORD).await;
    let admin_wrong = Cred::Basic("admin", "guess");
    refused(
        &server,
        admin_wrong,
        Method::DELETE,
        "/alice-db",
        None,
        WRONG_PASSWORD,
    )
    .await;
    // The welcome stays public.
    let (status, welcome) = server.call(anon, Method::GET, "/", None).await;
    assert_eq!(
        (status, welcome["couchdb"].clone()),
        (StatusCode::OK, json!("Welcome"))
    );
}

#[tokio::test]
async fn a_non_member_can_neither_read_nor_write_another_users_database() {
    let (server, rev) = fixture().await;
    let cases: Vec<(Method, String, Option<Value>)> = vec![
        (Method::GET, "/alice-db".into(), None),
        (Method::GET, "/alice-db/a".into(), None),
        (Method::PUT, "/alice-db/b".into(), Some(json!({"v": 2}))),
        (
            Method::PUT,
            format!("/alice-db/a?rev={rev}"),
            Some(json!({"v": 3})),
        ),
        (Method::DELETE, format!("/alice-db/a?rev={rev}"), None),
        (Method::POST, "/alice-db".into(), Some(json!({"v": 4}))),
        (Method::GET, "/alice-db/_changes".into(), None),
        (
            Method::GET,
            "/alice-db/_changes?feed=longpoll&timeout=100".into(),
            None,
        ),
        (
            Method::GET,
            "/alice-db/_changes?feed=continuous&timeout=100".into(),
            None,
        ),
        (
            Method::POST,
            "/alice-db/_changes".into(),
            Some(json!({"doc_ids": ["a"]})),
        ),
        (Method::GET, "/alice-db/_all_docs".into(), None),
        (
            Method::POST,
            "/alice-db/_all_docs".into(),
            Some(json!({"keys": ["a"]})),
        ),
        (
            Method::POST,
            "/alice-db/_bulk_get".into(),
            Some(json!({"docs": [{"id": "a"}]})),
        ),
        (
            Method::POST,
            "/alice-db/_bulk_docs".into(),
            Some(json!({"docs": [{"_id": "c"}]})),
        ),
        (Method::GET, "/alice-db/a/f.txt".into(), None),
        (Method::DELETE, format!("/alice-db/a/f.txt?rev={rev}"), None),
        (Method::GET, "/alice-db/_local/x".into(), None),
        (
            Method::PUT,
            "/alice-db/_local/x".into(),
            Some(json!({"v": 5})),
        ),
        (Method::GET, "/alice-db/_security".into(), None),
        (Method::GET, "/alice-db/_socket".into(), None),
    ];
    for (method, path, body) in cases {
        refused(&server, BOB, method, &path, body, NOT_A_MEMBER).await;
    }
    refused(
        &server,
        BOB,
        Method::PUT,
        "/alice-db/_security",
        Some(json!({"members": {"names": ["bob"]}})),
        NOT_DB_ADMIN,
    )
    .await;
    let not_server_admin = (403, "forbidden", "You are not a server admin.");
    refused(
        &server,
        BOB,
        Method::DELETE,
        "/alice-db",
        None,
        not_server_admin,
    )
    .await;
    refused(
        &server,
        BOB,
        Method::PUT,
        "/bobs-own",
        None,
        not_server_admin,
    )
    .await;
    refused(
        &server,
        BOB,
        Method::GET,
        "/_all_dbs",
        None,
        not_server_admin,
    )
    .await;
    refused(
        &server,
        BOB,
        Method::GET,
        "/_active_tasks",
        None,
        not_server_admin,
    )
    .await;
    // An attachment upload is refused before its bytes are looked at.
    let before = snapshot(&server).await;
    let response = server
        .request(BOB, Method::PUT, &format!("/alice-db/a/g.txt?rev={rev}"))
        .header("content-type", "text/plain")
        .body("intruder")
        .send()
        .await
        .expect("sent");
    let (status, body) = common::auth::status_and_json(response).await;
    assert_eq!(
        (status.as_u16(), body["error"].clone()),
        (403, json!("forbidden"))
    );
    assert_eq!(snapshot(&server).await, before);
}

#[tokio::test]
async fn a_member_cannot_administer_the_database() {
    let (server, _) = fixture().await;
    refused(
        &server,
        ALICE,
        Method::PUT,
        "/alice-db/_security",
        Some(json!({"admins": {"names": ["alice"]}, "members": {"names": ["alice"]}})),
        NOT_DB_ADMIN,
    )
    .await;
    let design = json!({"views": {}});
    for path in ["/alice-db/_design/x", "/alice-db/_design%2Fx"] {
        refused(
            &server,
            ALICE,
            Method::PUT,
            path,
            Some(design.clone()),
            NOT_DB_ADMIN,
        )
        .await;
    }
    refused(
        &server,
        ALICE,
        Method::POST,
        "/alice-db",
        Some(json!({"_id": "_design/x"})),
        NOT_DB_ADMIN,
    )
    .await;
    // In a batch, as CouchDB answers: the design document is refused on its
    // own row and the rest lands.
    let (status, rows) = server
        .call(
            ALICE,
            Method::POST,
            "/alice-db/_bulk_docs",
            Some(json!({"docs": [{"_id": "fine"}, {"_id": "_design/x"}]})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{rows}");
    assert_eq!(rows[0]["id"], "fine", "{rows}");
    assert_eq!(rows[0]["ok"], true, "{rows}");
    assert_eq!(
        rows[1],
        json!({"id": "_design/x", "error": "forbidden", "reason": NOT_DB_ADMIN.2}),
        "{rows}"
    );
    let before = snapshot(&server).await;
    let (status, rows) = server
        .call(
            ALICE,
            Method::POST,
            "/alice-db/_bulk_docs?new_edits=false",
            Some(json!({"docs": [{"_id": "_design/x", "_rev": "1-abc"}], "new_edits": false})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{rows}");
    assert_eq!(
        rows,
        json!([{"id": "_design/x", "error": "forbidden", "reason": NOT_DB_ADMIN.2}])
    );
    assert_eq!(
        snapshot(&server).await,
        before,
        "a replicated design document was written"
    );
    let (status, _) = server
        .as_admin(Method::GET, "/alice-db/_design/x", None)
        .await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "a member wrote a design document"
    );
    refused(
        &server,
        ALICE,
        Method::DELETE,
        "/alice-db",
        None,
        (403, "forbidden", "You are not a server admin."),
    )
    .await;
}
