//! `GET /{db}/_socket`: requests tunnelled up, answers, changes and
//! heartbeats down; frames that cannot be read get a coded error frame and
//! write nothing.

mod common;

use std::time::Duration;

use common::TestServer;
use futures_util::{SinkExt, StreamExt};
use reqwest::StatusCode;
use serde_json::{json, Value};
use tokio::net::TcpStream;
use tokio_tungstenite::{connect_async, tungstenite::Message, MaybeTlsStream, WebSocketStream};

type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

async fn connect(server: &TestServer, query: &str) -> Socket {
    let url = format!(
        "{}/db/_socket?{query}",
        server.base.replace("http://", "ws://")
    );
    let (socket, _) = connect_async(url).await.expect("socket opens");
    socket
}

async fn send(socket: &mut Socket, frame: Value) {
    socket
        .send(Message::text(frame.to_string()))
        .await
        .expect("frame sent");
}

/// The next frame that is not a heartbeat (or, with `heartbeats`, any).
async fn next(socket: &mut Socket, heartbeats: bool) -> Value {
    loop {
        let message = tokio::time::timeout(Duration::from_secs(5), socket.next())
            .await
            .expect("a frame in time")
            .expect("socket open")
            .expect("a frame");
        let Message::Text(text) = message else {
            continue;
        };
        let frame: Value = serde_json::from_str(text.as_str()).expect("JSON frame");
        if heartbeats || frame["type"] != "heartbeat" {
            return frame;
        }
    }
}

async fn doc_count(server: &TestServer) -> u64 {
    let (_, info) = server.get("/db").await;
    info["doc_count"].as_u64().expect("doc_count")
}

#[tokio::test]
async fn a_push_goes_up_and_its_change_comes_down_to_every_socket() {
    let server = TestServer::start().await;
    server.create_db("db").await;
    let (_, welcome) = server.get("/").await;
    assert!(welcome["features"]
        .as_array()
        .expect("features")
        .contains(&Value::from("websocket")));
    let mut writer = connect(&server, "since=now&client_id=writer").await;
    let mut reader = connect(&server, "since=now&heartbeat=100").await;
    let (_, tasks) = server.get("/_active_tasks").await;
    let transports: Vec<&str> = tasks
        .as_array()
        .expect("tasks")
        .iter()
        .filter_map(|t| t["transport"].as_str())
        .collect();
    assert_eq!(transports, ["websocket", "websocket"]);

    send(
        &mut writer,
        json!({"type": "request", "id": 7, "method": "POST", "path": "_bulk_docs",
               "body": {"docs": [{"_id": "a", "v": 1}, {"_id": "b", "v": 2}]}}),
    )
    .await;
    let answer = next(&mut writer, false).await;
    assert_eq!(answer["type"], "response");
    assert_eq!(answer["id"], 7);
    assert_eq!(answer["status"], 201);
    let rows = answer["body"].as_array().expect("rows");
    assert!(rows.iter().all(|r| r["ok"] == true), "{answer}");
    let rev_a = rows[0]["rev"].as_str().expect("rev").to_owned();

    // Every socket hears both changes, the writer's own included.
    for socket in [&mut reader, &mut writer] {
        let mut ids = Vec::new();
        while ids.len() < 2 {
            let frame = next(socket, false).await;
            if frame["type"] == "change" {
                ids.push(frame["row"]["id"].as_str().expect("id").to_owned());
            }
        }
        assert_eq!(ids, ["a", "b"]);
    }
    let beat = next(&mut reader, true).await;
    assert_eq!(beat["type"], "heartbeat", "idle: a heartbeat within 100 ms");

    // The same conflict rules as over HTTP, and reads: a stale write is refused.
    send(
        &mut writer,
        json!({"type": "request", "id": 8, "method": "PUT", "path": "a", "body": {"v": 3}}),
    )
    .await;
    let stale = next(&mut writer, false).await;
    assert_eq!(
        (stale["id"].clone(), stale["status"].clone()),
        (json!(8), json!(409))
    );
    assert_eq!(stale["body"]["error"], "conflict");
    send(
        &mut writer,
        json!({"type": "request", "id": 9, "method": "GET", "path": "a", "query": {"revs": "true"}}),
    )
    .await;
    let read = next(&mut writer, false).await;
    assert_eq!(read["status"], 200);
    assert_eq!(read["body"]["_rev"], rev_a.as_str());
    let (status, doc) = server.get("/db/b").await;
    assert_eq!((status, doc["v"].clone()), (StatusCode::OK, json!(2)));

    // A socket opened from an earlier sequence first hears what it missed.
    let mut late = connect(&server, "since=0").await;
    let first = next(&mut late, false).await;
    assert_eq!(
        (first["type"].clone(), first["row"]["id"].clone()),
        (json!("change"), json!("a"))
    );
}

#[tokio::test]
async fn frames_it_cannot_read_get_coded_errors_and_write_nothing() {
    let server = TestServer::start_with(|config| config.max_request_bytes = 4096).await;
    server.create_db("db").await;
    let mut socket = connect(&server, "since=now").await;
    let cases: Vec<(Message, &str)> = vec![
        (Message::text("{not json"), "bad_frame"),
        (Message::binary(vec![1u8, 2, 3]), "bad_frame"),
        (
            Message::text(json!({"type": "push", "docs": []}).to_string()),
            "unknown_message",
        ),
        (
            Message::text(json!({"type": "request", "id": "x"}).to_string()),
            "bad_request",
        ),
        (
            Message::text(
                json!({"type": "request", "id": 1, "method": "POST", "path": "../other/_bulk_docs",
                                 "body": {"docs": [{"_id": "x"}]}})
                .to_string(),
            ),
            "bad_request",
        ),
        (
            Message::text(
                json!({"type": "request", "id": 2, "method": "PATCH", "path": "x", "body": {}})
                    .to_string(),
            ),
            "bad_request",
        ),
        (
            Message::text(
                json!({"type": "request", "id": 3, "method": "GET", "path": "_changes",
                                 "query": {"feed": "continuous"}})
                .to_string(),
            ),
            "bad_request",
        ),
        (
            Message::text(
                json!({"type": "request", "id": 4, "method": "POST", "path": "_bulk_docs",
                                 "body": {"docs": [{"_id": "big", "text": "x".repeat(5000)}]}})
                .to_string(),
            ),
            "too_large",
        ),
    ];
    for (message, code) in cases {
        let shown = format!("{message:?}");
        socket.send(message).await.expect("sent");
        let frame = next(&mut socket, false).await;
        assert_eq!(frame["type"], "error", "{shown}");
        assert_eq!(frame["error"], code, "{shown}: {frame}");
        assert!(frame["reason"].as_str().is_some_and(|r| !r.is_empty()));
    }
    assert_eq!(doc_count(&server).await, 0, "nothing was written");
    // The socket still works after them.
    send(
        &mut socket,
        json!({"type": "request", "id": 5, "method": "PUT", "path": "ok", "body": {"v": 1}}),
    )
    .await;
    assert_eq!(next(&mut socket, false).await["status"], 201);
    assert_eq!(doc_count(&server).await, 1);
}

#[tokio::test]
async fn a_socket_is_a_live_feed_under_the_cap_and_needs_the_database() {
    let server = TestServer::start_with(|config| config.max_live_feeds = 1).await;
    server.create_db("db").await;
    let missing = format!("{}/nope/_socket", server.base.replace("http://", "ws://"));
    assert!(
        connect_async(missing).await.is_err(),
        "no socket on a missing database"
    );
    let _first = connect(&server, "since=now").await;
    let url = format!("{}/db/_socket", server.base.replace("http://", "ws://"));
    match connect_async(url).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
            assert_eq!(response.status(), 503);
        }
        other => panic!("expected a 503 refusal, got {:?}", other.map(|_| ())),
    }
}

#[tokio::test]
async fn a_server_without_sockets_neither_offers_nor_opens_one() {
    let server = TestServer::start_with(|config| config.websocket = false).await;
    server.create_db("db").await;
    let (_, welcome) = server.get("/").await;
    let listed = welcome["features"].as_array().expect("features");
    assert!(!listed.contains(&Value::from("websocket")), "{welcome}");
    assert!(listed.contains(&Value::from("changes-continuous")));
    let url = format!("{}/db/_socket", server.base.replace("http://", "ws://"));
    match connect_async(url).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
            assert_eq!(response.status(), 404);
        }
        other => panic!("expected 404, got {:?}", other.map(|_| ())),
    }
}
