//! What authenticated clients can do: members read and write, a new
//! database is for admins until its `_security` names members, cookie
//! sessions sign in, renew and sign out.

mod common;

use common::{
    auth::{now, session_cookie, set_cookie_line, Cred, SECRET},
    TestServer,
};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use tidesync_server::auth::cookie;

const ALICE: Cred<'static> = Cred::Basic("alice", "alice-pw");

#[tokio::test]
async fn members_read_and_write_everything_a_sync_needs() {
    let server = TestServer::start_secured().await;
    server.add_user("alice", "alice-pw", &[]).await;
    server.add_db_for("notes", "alice").await;
    let call = |method, path: &'static str, body| server.call(ALICE, method, path, body);
    let (status, put) = call(Method::PUT, "/notes/a", Some(json!({"v": 1}))).await;
    assert_eq!(status, StatusCode::CREATED, "{put}");
    let (status, doc) = call(Method::GET, "/notes/a", None).await;
    assert_eq!((status, doc["v"].clone()), (StatusCode::OK, json!(1)));
    let (status, rows) = call(
        Method::POST,
        "/notes/_bulk_docs",
        Some(json!({"docs": [{"_id": "b"}, {"_id": "c"}]})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{rows}");
    let (status, got) = call(
        Method::POST,
        "/notes/_bulk_get",
        Some(json!({"docs": [{"id": "b"}]})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{got}");
    let (_, all) = call(Method::GET, "/notes/_all_docs", None).await;
    assert_eq!(all["total_rows"], 3);
    let (_, changes) = call(Method::GET, "/notes/_changes", None).await;
    assert_eq!(changes["results"].as_array().map(Vec::len), Some(3));
    let (status, _) = call(
        Method::PUT,
        "/notes/_local/checkpoint",
        Some(json!({"seq": 3})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, security) = call(Method::GET, "/notes/_security", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(security["members"]["names"], json!(["alice"]));
    let (status, info) = call(Method::GET, "/notes", None).await;
    assert_eq!(
        (status, info["doc_count"].clone()),
        (StatusCode::OK, json!(3))
    );
    let rev = put["rev"].as_str().expect("rev");
    let response = server
        .request(ALICE, Method::PUT, &format!("/notes/a/f.txt?rev={rev}"))
        .header("content-type", "text/plain")
        .body("hello")
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status(), StatusCode::CREATED);
    let bytes = server
        .request(ALICE, Method::GET, "/notes/a/f.txt")
        .send()
        .await
        .expect("sent")
        .text()
        .await
        .expect("text");
    assert_eq!(bytes, "hello");
    // A db admin (by name) writes design documents and _security.
    server
        .as_admin(
            Method::PUT,
            "/notes/_security",
            Some(json!({"admins": {"names": ["alice"]}, "members": {"names": ["alice"]}})),
        )
        .await;
    let (status, body) = call(
        Method::PUT,
        "/notes/_design/app",
        Some(json!({"views": {}})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    // A database with `{}` security is public, as in CouchDB.
    server.as_admin(Method::PUT, "/open", None).await;
    server
        .as_admin(Method::PUT, "/open/_security", Some(json!({})))
        .await;
    let (status, _) = server
        .call(Cred::Anonymous, Method::PUT, "/open/x", Some(json!({})))
        .await;
    assert_eq!(status, StatusCode::CREATED);
}

#[tokio::test]
async fn a_new_database_is_for_admins_until_its_security_names_members() {
    let server = TestServer::start_secured().await;
    server.add_user("alice", "alice-pw", &[]).await;
    let (status, _) = server.as_admin(Method::PUT, "/fresh", None).await;
    assert_eq!(status, StatusCode::CREATED);
    let (_, security) = server.as_admin(Method::GET, "/fresh/_security", None).await;
    assert_eq!(
        security,
        json!({"admins": {"names": [], "roles": ["_admin"]}, "members": {"names": [], "roles": ["_admin"]}})
    );
    let (status, _) = server.call(ALICE, Method::GET, "/fresh", None).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (_, dbs) = server.as_admin(Method::GET, "/_all_dbs", None).await;
    assert_eq!(dbs, json!(["_users", "fresh"]));
}

#[tokio::test]
async fn cookie_sessions_sign_in_renew_and_sign_out() {
    let server = TestServer::start_secured().await;
    server.add_user("alice", "alice-pw", &["staff"]).await;
    let response = server
        .client
        .post(server.url("/_session"))
        .json(&json!({"name": "alice", "password": "alice-pw"}))
        .send()
        .await
        .expect("sent");
    let line = set_cookie_line(&response).expect("Set-Cookie");
    for attribute in ["Path=/", "Max-Age=600", "HttpOnly", "SameSite=Lax"] {
        assert!(line.contains(attribute), "{line}");
    }
    let value = session_cookie(&response).expect("cookie");
    let body: Value = response.json().await.expect("json");
    assert_eq!(
        body,
        json!({"ok": true, "name": "alice", "roles": ["staff"]})
    );

    let fresh = server
        .request(Cred::Cookie(&value), Method::GET, "/_session")
        .send()
        .await
        .expect("sent");
    assert!(
        set_cookie_line(&fresh).is_none(),
        "a fresh cookie is not renewed"
    );
    let session: Value = fresh.json().await.expect("json");
    assert_eq!(
        session["userCtx"],
        json!({"name": "alice", "roles": ["staff"]})
    );
    assert_eq!(session["info"]["authenticated"], "cookie");
    assert_eq!(
        session["info"]["authentication_handlers"],
        json!(["jwt", "cookie", "default"])
    );

    // A cookie past a tenth of its life is renewed on use.
    let (_, doc) = server
        .as_admin(Method::GET, "/_users/org.couchdb.user:alice", None)
        .await;
    let salt = doc["salt"].as_str().expect("salt");
    let aging = cookie::issue(SECRET, salt, "alice", now() - 120);
    let renewed = server
        .request(Cred::Cookie(&aging), Method::GET, "/_session")
        .send()
        .await
        .expect("sent");
    let new_value = session_cookie(&renewed).expect("renewed");
    assert_ne!(new_value, aging);
    let parsed = cookie::SessionCookie::parse(&new_value).expect("parses");
    assert!(parsed.issued + 5 >= now());

    // A form sign-in works too, and signing out clears the cookie.
    let form = server
        .client
        .post(server.url("/_session"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("name=alice&password=alice-pw")
        .send()
        .await
        .expect("sent");
    assert_eq!(form.status(), StatusCode::OK);
    let out = server
        .request(Cred::Cookie(&value), Method::DELETE, "/_session")
        .send()
        .await
        .expect("sent");
    assert!(set_cookie_line(&out)
        .is_some_and(|l| l.contains("AuthSession=;") && l.contains("Max-Age=0")));

    // A new password ends the sessions and the cached Basic credentials of the old one.
    let (status, _) = server.call(ALICE, Method::GET, "/_session", None).await;
    assert_eq!(status, StatusCode::OK);
    let mut updated = doc.clone();
    updated["password"] = json!("new-pw");
    let (status, body) = server
        .call(
            ALICE,
            Method::PUT,
            "/_users/org.couchdb.user:alice",
            Some(updated),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let (_, session) = server
        .call(Cred::Cookie(&value), Method::GET, "/_session", None)
        .await;
    assert_eq!(session["userCtx"]["name"], Value::Null);
    let (status, _) = server.call(ALICE, Method::GET, "/_session", None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _) = server
        .call(
            Cred::Basic("alice", "new-pw"),
            Method::GET,
            "/_session",
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
}
