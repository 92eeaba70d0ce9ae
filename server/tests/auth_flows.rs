//! What authenticated clients can do: members read and write, cookie
//! sessions and their renewal, JWT roles, restarts, per-user databases;
//! and that a server without admins is as open as it always was.

mod common;

use std::net::IpAddr;

use common::{
    auth::{now, rs256_key, secure, session_cookie, set_cookie_line, token, Cred, SECRET},
    TestServer,
};
use jsonwebtoken::Algorithm;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use tidesync_server::{auth::cookie, Config, Server, ServerError};

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

#[tokio::test]
async fn jwt_roles_grant_membership_by_role() {
    let server = TestServer::start_secured().await;
    server.as_admin(Method::PUT, "/team", None).await;
    server
        .as_admin(
            Method::PUT,
            "/team/_security",
            Some(json!({"members": {"roles": ["staff"]}})),
        )
        .await;
    let staff = token(
        Algorithm::RS256,
        &rs256_key(),
        &json!({"sub": "dave", "exp": now() + 600, "_couchdb.roles": ["staff"]}),
    );
    let (status, body) = server
        .call(
            Cred::Bearer(&staff),
            Method::PUT,
            "/team/d",
            Some(json!({"by": "dave"})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let (_, session) = server
        .call(Cred::Bearer(&staff), Method::GET, "/_session", None)
        .await;
    assert_eq!(
        session["userCtx"],
        json!({"name": "dave", "roles": ["staff"]})
    );
    assert_eq!(session["info"]["authenticated"], "jwt");
    let hs = token(
        Algorithm::HS256,
        common::auth::HS256_KEY.as_bytes(),
        &json!({"sub": "erin", "exp": now() + 600, "_couchdb.roles": ["staff"]}),
    );
    let (status, _) = server
        .call(Cred::Bearer(&hs), Method::GET, "/team/d", None)
        .await;
    assert_eq!(status, StatusCode::OK);
    let outsider = token(
        Algorithm::RS256,
        &rs256_key(),
        &json!({"sub": "frank", "exp": now() + 600, "_couchdb.roles": ["guest"]}),
    );
    let (status, body) = server
        .call(Cred::Bearer(&outsider), Method::GET, "/team/d", None)
        .await;
    assert_eq!(
        (status, body["error"].clone()),
        (StatusCode::FORBIDDEN, json!("forbidden"))
    );
}

#[tokio::test]
async fn users_sessions_and_security_survive_a_restart() {
    let data = tempfile::tempdir().expect("dir");
    let without_secret = |config: &mut Config| {
        secure(config);
        config.secret = None; // generated once and kept in the data directory
    };
    let server = TestServer::start_at(data.path(), without_secret).await;
    server.add_user("alice", "alice-pw", &[]).await;
    server.add_db_for("notes", "alice").await;
    server
        .call(ALICE, Method::PUT, "/notes/a", Some(json!({})))
        .await;
    let value = server.sign_in("alice", "alice-pw").await;
    server.shutdown().await;

    let server = TestServer::start_at(data.path(), without_secret).await;
    let (status, _) = server
        .call(Cred::Cookie(&value), Method::GET, "/notes/a", None)
        .await;
    assert_eq!(status, StatusCode::OK, "the session outlived the restart");
    let (status, _) = server.call(ALICE, Method::GET, "/notes/a", None).await;
    assert_eq!(status, StatusCode::OK);
    server.add_user("bob", "bob-pw", &[]).await;
    let (status, _) = server
        .call(Cred::Basic("bob", "bob-pw"), Method::GET, "/notes/a", None)
        .await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "_security outlived the restart"
    );
}

#[tokio::test]
async fn sign_up_creates_a_per_user_database_and_never_returns_the_password() {
    let server = TestServer::start_with(|config| {
        secure(config);
        config.per_user_dbs = true;
    })
    .await;
    let (status, body) = server
        .call(
            Cred::Anonymous,
            Method::PUT,
            "/_users/org.couchdb.user:Ann",
            Some(json!({"type": "user", "name": "Ann", "roles": [], "password": "ann-pw"})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let ann = Cred::Basic("Ann", "ann-pw");
    let (status, own) = server
        .call(ann, Method::GET, "/_users/org.couchdb.user:Ann", None)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(own.get("password").is_none(), "{own}");
    assert_eq!(own["password_scheme"], "pbkdf2");
    assert_eq!(own["pbkdf2_prf"], "sha256");
    let (_, listed) = server
        .as_admin(Method::GET, "/_users/_all_docs?include_docs=true", None)
        .await;
    assert!(!listed.to_string().contains("ann-pw"), "{listed}");
    let (_, changes) = server
        .as_admin(Method::GET, "/_users/_changes?include_docs=true", None)
        .await;
    assert!(!changes.to_string().contains("ann-pw"));

    let db = "/userdb-416e6e";
    let (_, security) = server
        .as_admin(Method::GET, &format!("{db}/_security"), None)
        .await;
    assert_eq!(security["members"]["names"], json!(["Ann"]));
    assert_eq!(security["admins"]["names"], json!(["Ann"]));
    let (status, _) = server
        .call(ann, Method::PUT, &format!("{db}/x"), Some(json!({})))
        .await;
    assert_eq!(status, StatusCode::CREATED);
    server.add_user("bob", "bob-pw", &[]).await;
    let (status, _) = server
        .call(
            Cred::Basic("bob", "bob-pw"),
            Method::GET,
            &format!("{db}/x"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // Updating one's own document (without roles changes) is allowed.
    let mut update = own.clone();
    update["email"] = json!("ann@example.invalid");
    let (status, body) = server
        .call(
            ann,
            Method::PUT,
            "/_users/org.couchdb.user:Ann",
            Some(update),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let (status, _) = server.call(ann, Method::GET, "/_session", None).await;
    assert_eq!(status, StatusCode::OK, "the password hash was kept");
}

#[tokio::test]
async fn without_admins_the_server_stays_open_on_loopback_only() {
    let server = TestServer::start().await;
    let (_, session) = server.get("/_session").await;
    assert_eq!(
        session["userCtx"],
        json!({"name": null, "roles": ["_admin"]})
    );
    assert!(session["info"].get("authenticated").is_none());
    server.create_db("db").await;
    server.put_doc("db", "a", json!({})).await;
    let (status, _) = server.get("/_all_dbs").await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = server.put("/db/_design/x", json!({})).await;
    assert_eq!(status, StatusCode::CREATED);
    // Credentials are not needed, and not checked.
    let (status, _) = server
        .call(Cred::Basic("who", "ever"), Method::GET, "/db/a", None)
        .await;
    assert_eq!(status, StatusCode::OK);

    let dir = tempfile::tempdir().expect("dir");
    let mut config = Config::ephemeral(dir.path().join("data"));
    config.bind = IpAddr::from([0, 0, 0, 0]);
    match Server::bind(&config).await {
        Err(ServerError::Unprotected(addr)) => assert_eq!(addr, config.bind),
        Err(other) => panic!("unexpected error {other}"),
        Ok(_) => panic!("an open server bound a non-loopback address"),
    }
    config.open = true;
    assert!(Server::bind(&config).await.is_ok(), "--open allows it");
}

#[tokio::test]
async fn a_socket_carries_its_openers_identity() {
    use futures_util::{SinkExt, StreamExt};
    use tokio_tungstenite::tungstenite::{client::IntoClientRequest, Message};
    let server = TestServer::start_secured().await;
    server.add_user("alice", "alice-pw", &[]).await;
    server.add_db_for("notes", "alice").await;
    let value = server.sign_in("alice", "alice-pw").await;
    let url = format!(
        "{}/notes/_socket?since=now",
        server.base.replace("http", "ws")
    );
    let mut request = url.into_client_request().expect("request");
    request.headers_mut().insert(
        "cookie",
        format!("AuthSession={value}").parse().expect("header"),
    );
    let (mut socket, _) = tokio_tungstenite::connect_async(request)
        .await
        .expect("socket");
    let ask = |id: u64, method: &str, path: &str, body: Value| {
        let frame =
            json!({"type": "request", "id": id, "method": method, "path": path, "body": body});
        Message::Text(frame.to_string().into())
    };
    socket
        .send(ask(1, "PUT", "a", json!({"v": 1})))
        .await
        .expect("send");
    socket
        .send(ask(2, "PUT", "_design/x", json!({})))
        .await
        .expect("send");
    let mut answers = std::collections::HashMap::new();
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
    while answers.len() < 2 {
        let frame = tokio::time::timeout_at(deadline, socket.next())
            .await
            .expect("in time")
            .expect("open")
            .expect("frame");
        let Message::Text(text) = frame else { continue };
        let frame: Value = serde_json::from_str(&text).expect("json");
        if frame["type"] == "response" {
            answers.insert(frame["id"].as_u64().expect("id"), frame);
        }
    }
    assert_eq!(answers[&1]["status"], 201, "{}", answers[&1]);
    assert_eq!(answers[&2]["status"], 403, "{}", answers[&2]);
    assert_eq!(answers[&2]["body"]["error"], "forbidden");
}
