//! Refused requests by where they go: database names with path tricks, and
//! sockets without membership or from a foreign origin.

mod common;

use common::{
    auth::{Cred, AS_ADMIN},
    hostile::*,
};
use reqwest::{Method, StatusCode};

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
