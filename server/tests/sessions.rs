//! Who is syncing: live and poll sessions at `GET /_active_tasks`, named by
//! the `client_id` parameter of `_changes`, and the cap on live feeds.

mod common;

use std::time::{Duration, Instant};

use common::{read_stream_until, TestServer};
use reqwest::StatusCode;
use serde_json::Value;

async fn tasks(server: &TestServer) -> Vec<Value> {
    let (status, body) = server.get("/_active_tasks").await;
    assert_eq!(status, StatusCode::OK);
    body.as_array().expect("a list").clone()
}

/// Polls `/_active_tasks` until `check` holds (sessions end when the feed's
/// task notices its client left).
async fn tasks_until(server: &TestServer, check: impl Fn(&[Value]) -> bool) -> Vec<Value> {
    let end = Instant::now() + Duration::from_secs(10);
    loop {
        let listed = tasks(server).await;
        if check(&listed) || Instant::now() > end {
            return listed;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn a_live_feed_is_listed_while_it_lasts_and_a_poll_by_its_client() {
    let server = TestServer::start().await;
    server.create_db("db").await;
    let (_, welcome) = server.get("/").await;
    assert!(
        welcome["features"]
            .as_array()
            .expect("features")
            .contains(&Value::from("sessions")),
        "advertised: {welcome}"
    );
    assert!(tasks(&server).await.is_empty());

    let started = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs();
    let mut feed = server
        .client
        .get(server.url("/db/_changes?feed=continuous&since=now&heartbeat=100&client_id=tab-1"))
        .send()
        .await
        .expect("feed");
    assert_eq!(feed.status(), StatusCode::OK);
    read_stream_until(&mut feed, Duration::from_secs(5), |t| t.contains('\n')).await;
    let listed = tasks(&server).await;
    assert_eq!(listed.len(), 1, "{listed:?}");
    let task = &listed[0];
    assert_eq!(task["type"], "tidesync_sync");
    assert_eq!(task["database"], "db");
    assert_eq!(task["client"], "tab-1");
    assert_eq!(task["transport"], "continuous");
    let on = task["started_on"].as_u64().expect("started_on");
    assert!(on >= started && on <= started + 5, "{task}");
    assert!(task["updated_on"].as_u64() >= Some(on));

    // A polling client is listed too; one without a name is not.
    let polled = server
        .client
        .get(server.url("/db/_changes?client_id=phone-2"))
        .send()
        .await
        .expect("poll");
    assert_eq!(polled.status(), StatusCode::OK);
    server.get("/db/_changes").await;
    let listed = tasks(&server).await;
    let transports: Vec<(&str, &str)> = listed
        .iter()
        .map(|t| {
            (
                t["client"].as_str().unwrap_or("?"),
                t["transport"].as_str().unwrap_or("?"),
            )
        })
        .collect();
    assert_eq!(transports, [("tab-1", "continuous"), ("phone-2", "poll")]);

    drop(feed);
    let listed = tasks_until(&server, |l| l.len() == 1).await;
    assert_eq!(listed.len(), 1, "the live session ended with its feed");
    assert_eq!(listed[0]["transport"], "poll");
}

#[tokio::test]
async fn live_feeds_past_the_cap_are_refused_and_polling_still_works() {
    let server = TestServer::start_with(|config| config.max_live_feeds = 1).await;
    server.create_db("db").await;
    let first = server
        .client
        .get(server.url("/db/_changes?feed=longpoll&since=now&timeout=10000&client_id=first"))
        .send();
    let first = tokio::spawn(first);
    tasks_until(&server, |l| l.len() == 1).await;
    for feed in ["continuous", "eventsource", "longpoll"] {
        let refused = server
            .client
            .get(server.url(&format!(
                "/db/_changes?feed={feed}&since=now&client_id=second"
            )))
            .send()
            .await
            .expect("refusal");
        assert_eq!(refused.status(), StatusCode::SERVICE_UNAVAILABLE, "{feed}");
        assert_eq!(
            refused
                .headers()
                .get("retry-after")
                .and_then(|v| v.to_str().ok()),
            Some("30")
        );
        let body: Value = refused.json().await.expect("json");
        assert_eq!(body["error"], "too_many_live_feeds", "{body}");
    }
    let (status, _) = server.get("/db/_changes").await;
    assert_eq!(status, StatusCode::OK, "a normal feed is not capped");
    let listed = tasks(&server).await;
    assert_eq!(listed.len(), 1, "refused feeds left no session: {listed:?}");

    // The held long-poll ends with a change; then there is room again.
    server.put_doc("db", "a", serde_json::json!({"v": 1})).await;
    let answered = first.await.expect("task").expect("long-poll");
    assert_eq!(answered.status(), StatusCode::OK);
    assert!(answered.text().await.expect("body").contains("\"a\""));
    tasks_until(&server, <[Value]>::is_empty).await;
    let again = server
        .client
        .get(server.url("/db/_changes?feed=continuous&since=now&timeout=100"))
        .send()
        .await
        .expect("again");
    assert_eq!(again.status(), StatusCode::OK);
}
