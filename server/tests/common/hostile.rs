//! Shared by the hostile-request tests: a server with two users and a
//! database of one of them, a snapshot of everything a request could change,
//! and the assertion that a request is refused and changed nothing.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use super::{auth::Cred, TestServer};

pub const ALICE: Cred<'static> = Cred::Basic("alice", "alice-pw");
pub const BOB: Cred<'static> = Cred::Basic("bob", "bob-pw");

/// A server with alice (member of `alice-db`, which holds document `a`
/// with attachment `f.txt`) and bob (member of nothing).
pub async fn fixture() -> (TestServer, String) {
    let server = TestServer::start_with(super::auth::secure).await;
    server.add_user("alice", "alice-pw", &[]).await;
    server.add_user("bob", "bob-pw", &[]).await;
    server.add_db_for("alice-db", "alice").await;
    let (status, body) = server
        .call(
            ALICE,
            Method::PUT,
            "/alice-db/a",
            Some(json!({"v": 1, "_attachments": {"f.txt": {"content_type": "text/plain", "data": "aGk="}}})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let rev = body["rev"].as_str().expect("rev").to_owned();
    (server, rev)
}

/// Everything a refused request could have changed, read as the admin.
pub async fn snapshot(server: &TestServer) -> Value {
    let mut state = json!({});
    for (key, path) in [
        ("dbs", "/_all_dbs"),
        ("docs", "/alice-db/_all_docs?include_docs=true"),
        ("changes", "/alice-db/_changes"),
        ("security", "/alice-db/_security"),
        ("local", "/alice-db/_local/x"),
        ("users", "/_users/_all_docs?include_docs=true"),
    ] {
        state[key] = server.as_admin(Method::GET, path, None).await.1;
    }
    state
}

/// Sends a request and asserts its refusal and that nothing changed.
pub async fn refused(
    server: &TestServer,
    cred: Cred<'_>,
    method: Method,
    path: &str,
    body: Option<Value>,
    expected: (u16, &str, &str),
) {
    let before = snapshot(server).await;
    let (status, answer) = server.call(cred, method.clone(), path, body).await;
    let (code, error, reason) = expected;
    assert_eq!(status.as_u16(), code, "{method} {path}: {answer}");
    assert_eq!(answer["error"], error, "{method} {path}: {answer}");
    assert!(
        answer["reason"]
            .as_str()
            .is_some_and(|r| r.contains(reason)),
        "{method} {path}: reason of {answer} should say {reason:?}"
    );
    assert_eq!(
        snapshot(server).await,
        before,
        "{method} {path} wrote something"
    );
}

pub const NO_CREDENTIALS: (u16, &str, &str) = (
    401,
    "unauthorized",
    "You are not authorized to access this db.",
);
pub const NOT_A_MEMBER: (u16, &str, &str) =
    (403, "forbidden", "You are not allowed to access this db.");
pub const NOT_DB_ADMIN: (u16, &str, &str) = (403, "forbidden", "You are not a db or server admin.");
pub const WRONG_PASSWORD: (u16, &str, &str) =
    (401, "unauthorized", "Name or password is incorrect.");
