//! Refused requests about who the caller is: users raising their roles or
//! touching other users, forged tokens, tampered and expired cookies, and
//! guessing passwords.

mod common;

use common::{
    auth::{now, rs256_key, token, Cred, HS256_KEY, SECRET},
    hostile::*,
    TestServer,
};
use jsonwebtoken::Algorithm;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use tidesync_server::auth::cookie;

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
