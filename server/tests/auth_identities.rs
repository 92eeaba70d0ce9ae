//! Authentication and access that must work, beyond the first sign-in:
//! JWT roles, restarts, per-user databases, the open server, and sockets.

mod common;

use std::net::IpAddr;

use common::{
    auth::{now, rs256_key, secure, token, Cred},
    TestServer,
};
use jsonwebtoken::Algorithm;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use tidesync_server::{Config, Server, ServerError};

const ALICE: Cred<'static> = Cred::Basic("alice", "alice-pw");

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
