//! Requests that must be refused once the server has admins: each is
//! answered with CouchDB's status and error body, and writes nothing.

mod common;

use common::{
    auth::{now, rs256_key, token, Cred, AS_ADMIN, HS256_KEY, SECRET},
    TestServer,
};
use jsonwebtoken::Algorithm;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use tidesync_server::auth::cookie;

const ALICE: Cred<'static> = Cred::Basic("alice", "alice-pw");
const BOB: Cred<'static> = Cred::Basic("bob", "bob-pw");

/// A server with alice (member of `alice-db`, which holds document `a`
/// with attachment `f.txt`) and bob (member of nothing).
async fn fixture() -> (TestServer, String) {
    let server = TestServer::start_with(common::auth::secure).await;
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
async fn snapshot(server: &TestServer) -> Value {
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
async fn refused(
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

const NO_CREDENTIALS: (u16, &str, &str) = (
    401,
    "unauthorized",
    "You are not authorized to access this db.",
);
const NOT_A_MEMBER: (u16, &str, &str) =
    (403, "forbidden", "You are not allowed to access this db.");
const NOT_DB_ADMIN: (u16, &str, &str) = (403, "forbidden", "You are not a db or server admin.");
const WRONG_PASSWORD: (u16, &str, &str) = (401, "unauthorized", "Name or password is incorrect.");

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

#[tokio::test]
async fn users_cannot_raise_their_roles_or_touch_other_users() {
    let (server, _) = fixture().await;
    let (_, own) = server
        .call(ALICE, Method::GET, "/_users/org.couchdb.user:alice", None)
        .await;
    let mut raised = own.clone();
    raised["roles"] = json!(["boss"]);
    refused(
        &server,
        ALICE,
        Method::PUT,
        "/_users/org.couchdb.user:alice",
        Some(raised),
        (403, "forbidden", "Only _admin may edit roles"),
    )
    .await;
    let mut system = own.clone();
    system["roles"] = json!(["_admin"]);
    refused(
        &server,
        ALICE,
        Method::PUT,
        "/_users/org.couchdb.user:alice",
        Some(system),
        (403, "forbidden", "No system roles"),
    )
    .await;
    refused(
        &server,
        BOB,
        Method::GET,
        "/_users/org.couchdb.user:alice",
        None,
        (404, "not_found", "missing"),
    )
    .await;
    refused(
        &server,
        Cred::Anonymous,
        Method::GET,
        "/_users/org.couchdb.user:alice",
        None,
        NO_CREDENTIALS,
    )
    .await;
    let mut takeover = own.clone();
    takeover["password"] = json!("bob-owns-you");
    refused(
        &server,
        BOB,
        Method::PUT,
        "/_users/org.couchdb.user:alice",
        Some(takeover.clone()),
        (
            403,
            "forbidden",
            "You may only update your own user document.",
        ),
    )
    .await;
    refused(
        &server,
        Cred::Anonymous,
        Method::PUT,
        "/_users/org.couchdb.user:alice",
        Some(takeover),
        (
            401,
            "unauthorized",
            "You may only update your own user document.",
        ),
    )
    .await;
    let own_rev = own["_rev"].as_str().expect("rev");
    refused(
        &server,
        BOB,
        Method::DELETE,
        &format!("/_users/org.couchdb.user:alice?rev={own_rev}"),
        None,
        (
            403,
            "forbidden",
            "You may only delete your own user document.",
        ),
    )
    .await;
    let only_admins = (
        403,
        "forbidden",
        "Only admins can access this in the users database.",
    );
    refused(
        &server,
        BOB,
        Method::GET,
        "/_users/_all_docs",
        None,
        only_admins,
    )
    .await;
    refused(
        &server,
        BOB,
        Method::GET,
        "/_users/_changes",
        None,
        only_admins,
    )
    .await;
    refused(
        &server,
        BOB,
        Method::POST,
        "/_users/_bulk_docs",
        Some(json!({"docs": [{"_id": "org.couchdb.user:eve", "type": "user", "name": "eve", "roles": ["boss"]}]})),
        only_admins,
    )
    .await;
    refused(
        &server,
        Cred::Anonymous,
        Method::GET,
        "/_users/_all_docs",
        None,
        NO_CREDENTIALS,
    )
    .await;
    refused(
        &server,
        Cred::Anonymous,
        Method::PUT,
        "/_users/org.couchdb.user:eve",
        Some(json!({"type": "user", "name": "eve", "roles": ["boss"], "password": "x"})),
        (403, "forbidden", "Only _admin may set roles"),
    )
    .await;
    refused(
        &server,
        Cred::Anonymous,
        Method::PUT,
        "/_users/org.couchdb.user:eve",
        Some(json!({"type": "user", "name": "mallory", "roles": [], "password": "x"})),
        (
            403,
            "forbidden",
            "Doc ID must be of the form org.couchdb.user:name",
        ),
    )
    .await;
}

#[tokio::test]
async fn forged_and_unaccepted_tokens_are_refused() {
    let (server, _) = fixture().await;
    let claims = |extra: Value| {
        let mut claims = json!({"sub": "alice", "exp": now() + 3600});
        if let (Some(map), Some(extra)) = (claims.as_object_mut(), extra.as_object()) {
            map.extend(extra.clone());
        }
        claims
    };
    let none = {
        use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
        let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
        let payload = URL_SAFE_NO_PAD.encode(claims(json!({})).to_string());
        format!("{header}.{payload}.")
    };
    let other_key = std::fs::read(common::auth::fixture("jwt-test-other.key")).expect("key");
    let cases = [
        (none, "malformed token"),
        (
            token(Algorithm::RS256, &other_key, &claims(json!({}))),
            "bad signature",
        ),
        (
            token(Algorithm::HS256, b"not-the-key", &claims(json!({}))),
            "bad signature",
        ),
        (
            token(
                Algorithm::RS256,
                &rs256_key(),
                &claims(json!({"exp": now() - 3600})),
            ),
            "expired",
        ),
        (
            token(
                Algorithm::RS256,
                &rs256_key(),
                &claims(json!({"nbf": now() + 3600})),
            ),
            "not yet valid",
        ),
        (
            token(Algorithm::HS384, HS256_KEY.as_bytes(), &claims(json!({}))),
            "algorithm not accepted",
        ),
        ("not.a.token".to_owned(), "malformed token"),
    ];
    for (jwt, why) in &cases {
        refused(
            &server,
            Cred::Bearer(jwt),
            Method::GET,
            "/alice-db/a",
            None,
            (401, "unauthorized", why),
        )
        .await;
    }

    // With only an RS256 key, an HS256 token is refused even if signed
    // with the public key's bytes (the classic algorithm confusion).
    let rs_only = TestServer::start_with(|config| {
        common::auth::secure(config);
        config.jwt_hs256_secret = None;
    })
    .await;
    let public = std::fs::read(common::auth::fixture("jwt-test-rs256.pub.pem")).expect("pem");
    for key in [public.as_slice(), HS256_KEY.as_bytes()] {
        let (status, body) = rs_only
            .call(
                Cred::Bearer(&token(Algorithm::HS256, key, &claims(json!({})))),
                Method::GET,
                "/_session",
                None,
            )
            .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
        assert_eq!(body["error"], "unauthorized");
        assert!(body["reason"]
            .as_str()
            .is_some_and(|r| r.contains("algorithm not accepted")));
    }
}

#[tokio::test]
async fn tampered_and_expired_cookies_are_anonymous() {
    let (server, _) = fixture().await;
    let good = server.sign_in("alice", "alice-pw").await;
    let (status, _) = server
        .call(Cred::Cookie(&good), Method::GET, "/alice-db/a", None)
        .await;
    assert_eq!(status, StatusCode::OK);

    // Claim to be the admin with alice's MAC, flip a byte, or forge blindly.
    use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
    let raw = URL_SAFE_NO_PAD.decode(&good).expect("base64url");
    let as_admin = {
        let mut forged = b"admin".to_vec();
        forged.extend_from_slice(&raw[raw.iter().position(|b| *b == b':').expect(":")..]);
        URL_SAFE_NO_PAD.encode(forged)
    };
    let flipped = {
        let mut bytes = raw.clone();
        let last = bytes.len() - 1;
        bytes[last] ^= 1;
        URL_SAFE_NO_PAD.encode(bytes)
    };
    let blind = URL_SAFE_NO_PAD.encode(format!("alice:{:X}:0000", now()));
    // Signed with the right secret and salt, but issued 20 minutes ago.
    let (_, doc) = server
        .as_admin(Method::GET, "/_users/org.couchdb.user:alice", None)
        .await;
    let salt = doc["salt"].as_str().expect("salt");
    let expired = cookie::issue(SECRET, salt, "alice", now() - 1200);
    for value in [as_admin, flipped, blind, expired, "%%%".to_owned()] {
        refused(
            &server,
            Cred::Cookie(&value),
            Method::GET,
            "/alice-db/a",
            None,
            NO_CREDENTIALS,
        )
        .await;
        let (_, session) = server
            .call(Cred::Cookie(&value), Method::GET, "/_session", None)
            .await;
        assert_eq!(
            session["userCtx"],
            json!({"name": null, "roles": []}),
            "{value}"
        );
    }
    refused(
        &server,
        Cred::Cookie("garbage"),
        Method::GET,
        "/_all_dbs",
        None,
        (401, "unauthorized", "You are not a server admin."),
    )
    .await;
}

#[tokio::test]
async fn guessing_passwords_is_stopped_with_429() {
    let (server, _) = fixture().await;
    server.add_user("carol", "carol-pw", &[]).await;
    for _ in 0..5 {
        refused(
            &server,
            Cred::Basic("carol", "guess"),
            Method::GET,
            "/_session",
            None,
            WRONG_PASSWORD,
        )
        .await;
    }
    // Locked now, even with the right password, by Basic or by /_session.
    let response = server
        .request(Cred::Basic("carol", "carol-pw"), Method::GET, "/_session")
        .send()
        .await
        .expect("sent");
    let retry_after: u64 = response
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .expect("Retry-After");
    assert!((1..=60).contains(&retry_after), "{retry_after}");
    let (status, body) = common::auth::status_and_json(response).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(body["error"], "too_many_requests");
    let before = snapshot(&server).await;
    let response = server
        .client
        .post(server.url("/_session"))
        .json(&json!({"name": "carol", "password": "carol-pw"}))
        .send()
        .await
        .expect("sent");
    assert!(response.headers().get("set-cookie").is_none());
    let (status, body) = common::auth::status_and_json(response).await;
    assert_eq!(
        (status.as_u16(), body["error"].clone()),
        (429, json!("too_many_requests"))
    );
    assert_eq!(snapshot(&server).await, before);
    // Other users are not locked out.
    let (status, _) = server.call(ALICE, Method::GET, "/alice-db/a", None).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn database_names_with_path_tricks_are_refused() {
    let (server, _) = fixture().await;
    let illegal = (400, "illegal_database_name", "");
    for path in [
        "/..%2F_users",
        "/a%2F..%2Fb",
        "/_evil",
        "/_users%2F..",
        "/A",
        "/.hidden",
    ] {
        refused(&server, AS_ADMIN, Method::PUT, path, None, illegal).await;
    }
    refused(
        &server,
        BOB,
        Method::PUT,
        "/_evil",
        None,
        (403, "forbidden", "You are not a server admin."),
    )
    .await;
    refused(
        &server,
        AS_ADMIN,
        Method::GET,
        "/..%2Falice-db/a",
        None,
        (404, "not_found", ""),
    )
    .await;
}

#[tokio::test]
async fn sockets_need_membership_and_an_allowed_origin() {
    let (server, _) = fixture().await;
    let ws = |cred: Cred<'_>, origin: Option<&str>| {
        let mut request = server
            .request(cred, Method::GET, "/alice-db/_socket")
            .header("connection", "Upgrade")
            .header("upgrade", "websocket")
            .header("sec-websocket-version", "13")
            .header("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ==");
        if let Some(origin) = origin {
            request = request.header("origin", origin);
        }
        request.send()
    };
    let cases = [
        (ws(BOB, None).await.expect("sent"), NOT_A_MEMBER),
        (
            ws(Cred::Anonymous, None).await.expect("sent"),
            NO_CREDENTIALS,
        ),
        (
            ws(ALICE, Some("https://evil.example")).await.expect("sent"),
            (403, "forbidden", "This origin may not open a socket."),
        ),
    ];
    for (response, (code, error, reason)) in cases {
        let (status, body) = common::auth::status_and_json(response).await;
        assert_eq!(status.as_u16(), code, "{body}");
        assert_eq!(body["error"], error);
        assert_eq!(body["reason"], reason);
    }
    let allowed = ws(ALICE, Some("http://localhost:3000"))
        .await
        .expect("sent");
    assert_eq!(allowed.status(), StatusCode::SWITCHING_PROTOCOLS);

    // Credentials offered as a subprotocol, as a browser's WebSocket can
    // carry them: a member's open the socket (answered with `tidesync`),
    // wrong or undecodable ones are refused like a wrong header.
    let offered = |value: &str| {
        server
            .request(Cred::Anonymous, Method::GET, "/alice-db/_socket")
            .header("connection", "Upgrade")
            .header("upgrade", "websocket")
            .header("sec-websocket-version", "13")
            .header("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ==")
            .header("sec-websocket-protocol", value.to_owned())
            .send()
    };
    let encoded = |name: &str, password: &str| {
        use base64::Engine;
        let basic = base64::engine::general_purpose::STANDARD.encode(format!("{name}:{password}"));
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("Basic {basic}"))
    };
    let member = offered(&format!(
        "tidesync, tidesync.authorization.{}",
        encoded("alice", "alice-pw")
    ))
    .await
    .expect("sent");
    assert_eq!(member.status(), StatusCode::SWITCHING_PROTOCOLS);
    assert_eq!(
        member
            .headers()
            .get("sec-websocket-protocol")
            .and_then(|v| v.to_str().ok()),
        Some("tidesync"),
        "the credentials are never the selected protocol"
    );
    let cases = [
        (
            offered(&format!(
                "tidesync, tidesync.authorization.{}",
                encoded("alice", "wrong")
            ))
            .await
            .expect("sent"),
            WRONG_PASSWORD,
        ),
        (
            offered(&format!(
                "tidesync, tidesync.authorization.{}",
                encoded("bob", "bob-pw")
            ))
            .await
            .expect("sent"),
            NOT_A_MEMBER,
        ),
        (
            offered("tidesync, tidesync.authorization.%%%")
                .await
                .expect("sent"),
            (
                401,
                "unauthorized",
                "The Authorization header is neither Basic nor Bearer credentials.",
            ),
        ),
    ];
    for (response, (code, error, reason)) in cases {
        let (status, body) = common::auth::status_and_json(response).await;
        assert_eq!(status.as_u16(), code, "{body}");
        assert_eq!(body["error"], error);
        assert!(
            body["reason"].as_str().is_some_and(|r| r.contains(reason)),
            "{body}"
        );
    }
}
