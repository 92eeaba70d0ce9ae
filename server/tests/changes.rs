//! Every `_changes` feed mode.

mod common;

use std::time::{Duration, Instant};

use common::{assert_error, read_stream_until, TestServer};
use reqwest::StatusCode;
use serde_json::{json, Value};

async fn seeded() -> TestServer {
    let server = TestServer::start().await;
    server.create_db("db").await;
    let rev = server.put_doc("db", "a", json!({"v": 1})).await;
    server.put_doc("db", "b", json!({"v": 1})).await;
    server
        .put_doc("db", "a", json!({"_rev": rev, "v": 2}))
        .await;
    let c = server.put_doc("db", "c", json!({"v": 1})).await;
    server.delete(&format!("/db/c?rev={c}")).await;
    server
}

fn seqs_and_ids(body: &Value) -> Vec<(u64, String)> {
    body["results"]
        .as_array()
        .expect("results")
        .iter()
        .map(|r| {
            (
                r["seq"].as_u64().expect("seq"),
                r["id"].as_str().expect("id").to_owned(),
            )
        })
        .collect()
}

#[tokio::test]
async fn normal_feed_lists_each_document_once_at_its_latest_seq() {
    let server = seeded().await;
    let (status, body) = server.get("/db/_changes").await;
    assert_eq!(status, StatusCode::OK);
    let pairs = seqs_and_ids(&body);
    assert_eq!(
        pairs,
        [
            (2, "b".to_owned()),
            (3, "a".to_owned()),
            (5, "c".to_owned())
        ]
    );
    assert_eq!(body["last_seq"], 5);
    assert_eq!(body["pending"], 0);
    let rows = body["results"].as_array().expect("results");
    assert_eq!(rows[2]["deleted"], true);
    assert!(rows[0].get("deleted").is_none());
    assert!(rows[1]["changes"][0]["rev"]
        .as_str()
        .expect("rev")
        .starts_with("2-"));

    let (_, body) = server
        .get("/db/_changes?since=2&include_docs=true&style=all_docs")
        .await;
    assert_eq!(
        seqs_and_ids(&body),
        [(3, "a".to_owned()), (5, "c".to_owned())]
    );
    assert_eq!(body["results"][0]["doc"]["v"], 2);
    assert_eq!(body["results"][1]["doc"]["_deleted"], true);

    let (_, body) = server.get("/db/_changes?limit=1").await;
    assert_eq!(seqs_and_ids(&body), [(2, "b".to_owned())]);
    assert_eq!(body["last_seq"], 2);
    assert_eq!(body["pending"], 2);

    let (_, body) = server.get("/db/_changes?descending=true&limit=2").await;
    assert_eq!(
        seqs_and_ids(&body),
        [(5, "c".to_owned()), (3, "a".to_owned())]
    );

    let (_, body) = server.get("/db/_changes?since=now").await;
    assert_eq!(body, json!({"results": [], "last_seq": 5, "pending": 0}));
}

#[tokio::test]
async fn doc_ids_filter() {
    let server = seeded().await;
    let (status, body) = server
        .post(
            "/db/_changes?filter=_doc_ids",
            json!({"doc_ids": ["a", "c", "zz"]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        seqs_and_ids(&body),
        [(3, "a".to_owned()), (5, "c".to_owned())]
    );
    let (_, body) = server
        .get("/db/_changes?filter=_doc_ids&doc_ids=%5B%22b%22%5D")
        .await;
    assert_eq!(seqs_and_ids(&body), [(2, "b".to_owned())]);
    assert_error(
        server
            .post("/db/_changes?filter=_doc_ids", json!({"doc_ids": "a"}))
            .await,
        400,
        "bad_request",
    );
    assert_error(
        server.get("/db/_changes?filter=app/by_type").await,
        400,
        "bad_request",
    );
}

#[tokio::test]
async fn bad_parameters_are_refused() {
    let server = seeded().await;
    assert_error(
        server.get("/db/_changes?feed=sometimes").await,
        400,
        "bad_request",
    );
    assert_error(
        server.get("/db/_changes?since=yesterday").await,
        400,
        "bad_request",
    );
    assert_error(
        server.get("/db/_changes?limit=ten").await,
        400,
        "query_parse_error",
    );
    assert_error(
        server.get("/db/_changes?heartbeat=soon").await,
        400,
        "query_parse_error",
    );
    assert_error(
        server.get("/db/_changes?include_docs=yes").await,
        400,
        "query_parse_error",
    );
    let form = server
        .raw(reqwest::Method::POST, "/db/_changes", "text/plain", "{}")
        .await;
    assert_error(form, 415, "bad_content_type");
}

#[tokio::test]
async fn longpoll_answers_at_once_when_changes_exist() {
    let server = seeded().await;
    let started = Instant::now();
    let (status, body) = server
        .get("/db/_changes?feed=longpoll&since=3&timeout=5000")
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(seqs_and_ids(&body), [(5, "c".to_owned())]);
    assert!(started.elapsed() < Duration::from_secs(2));
}

#[tokio::test]
async fn longpoll_is_woken_by_a_later_write() {
    let server = seeded().await;
    // since=5 is the current seq: even a request that arrives after the write
    // answers at once, so the test never waits for the timeout.
    let url = server.url("/db/_changes?feed=longpoll&since=5&timeout=20000&include_docs=true");
    let waiting = tokio::spawn({
        let client = server.client.clone();
        async move {
            let response = client.get(url).send().await.expect("request");
            let status = response.status();
            (status, response.json::<Value>().await.expect("json"))
        }
    });
    // Give the request time to start waiting, then write.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!waiting.is_finished(), "longpoll answered before any write");
    let started = Instant::now();
    server.put_doc("db", "late", json!({"v": "late"})).await;
    let (status, body) = tokio::time::timeout(Duration::from_secs(5), waiting)
        .await
        .expect("woken well before the timeout")
        .expect("task");
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_eq!(status, StatusCode::OK);
    assert_eq!(seqs_and_ids(&body), [(6, "late".to_owned())]);
    assert_eq!(body["results"][0]["doc"]["v"], "late");
    assert_eq!(body["last_seq"], 6);
}

#[tokio::test]
async fn longpoll_times_out_with_empty_results() {
    let server = seeded().await;
    let started = Instant::now();
    let (status, body) = server
        .get("/db/_changes?feed=longpoll&since=5&timeout=400")
        .await;
    let elapsed = started.elapsed();
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, json!({"results": [], "last_seq": 5, "pending": 0}));
    assert!(elapsed >= Duration::from_millis(350), "{elapsed:?}");
    assert!(elapsed < Duration::from_secs(5), "{elapsed:?}");
}

#[tokio::test]
async fn longpoll_heartbeats_keep_the_json_valid() {
    let server = seeded().await;
    let response = server
        .client
        .get(server.url("/db/_changes?feed=longpoll&since=now&heartbeat=100&timeout=450"))
        .send()
        .await
        .expect("request");
    let text = response.text().await.expect("text");
    assert!(text.starts_with('\n'), "heartbeats first: {text:?}");
    let body: Value = serde_json::from_str(&text).expect("still JSON");
    assert_eq!(body["results"], json!([]));
}

#[tokio::test]
async fn continuous_feed_carries_changes_heartbeats_and_a_last_line() {
    let server = seeded().await;
    let mut response = server
        .client
        .get(server.url("/db/_changes?feed=continuous&since=3&heartbeat=100&timeout=1500"))
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), StatusCode::OK);
    let first = read_stream_until(&mut response, Duration::from_secs(5), |t| {
        t.contains("\"c\"")
    })
    .await;
    let row: Value = serde_json::from_str(first.lines().next().expect("a row")).expect("json row");
    assert_eq!(row["seq"], 5);
    assert_eq!(row["deleted"], true);

    server.put_doc("db", "live", json!({"v": 1})).await;
    let more = read_stream_until(&mut response, Duration::from_secs(5), |t| {
        t.contains("\"live\"")
    })
    .await;
    let live_line = more
        .lines()
        .find(|l| l.contains("\"live\""))
        .expect("live row");
    let live: Value = serde_json::from_str(live_line).expect("json row");
    assert_eq!(live["seq"], 6);

    let rest = read_stream_until(&mut response, Duration::from_secs(10), |t| {
        t.contains("last_seq")
    })
    .await;
    let all = format!("{first}{more}{rest}");
    assert!(all.contains("\n\n"), "heartbeat newlines in {all:?}");
    let last_line = all
        .lines()
        .rev()
        .find(|l| !l.is_empty())
        .expect("last line");
    assert_eq!(
        serde_json::from_str::<Value>(last_line).expect("json"),
        json!({"last_seq": 6, "pending": 0})
    );
    assert!(
        response.chunk().await.expect("end").is_none(),
        "stream ends after last_seq"
    );
}

#[tokio::test]
async fn continuous_feed_stops_at_its_limit() {
    let server = seeded().await;
    let response = server
        .client
        .get(server.url("/db/_changes?feed=continuous&limit=2&timeout=10000"))
        .send()
        .await
        .expect("request");
    let text = tokio::time::timeout(Duration::from_secs(5), response.text())
        .await
        .expect("ends at the limit")
        .expect("text");
    let lines: Vec<Value> = text
        .lines()
        .filter(|l| !l.is_empty())
        .map(|l| serde_json::from_str(l).expect("json"))
        .collect();
    assert_eq!(lines.len(), 3);
    assert_eq!(lines[2], json!({"last_seq": 3, "pending": 1}));
}

#[tokio::test]
async fn eventsource_feed_carries_changes_and_heartbeats() {
    let server = seeded().await;
    let mut response = server
        .client
        .get(server.url("/db/_changes?feed=eventsource&since=now&heartbeat=100&timeout=3000"))
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["content-type"], "text/event-stream");
    let beats = read_stream_until(&mut response, Duration::from_secs(5), |t| {
        t.matches("event: heartbeat\ndata: \n\n").count() >= 2
    })
    .await;
    assert!(
        beats.starts_with("event: heartbeat\ndata: \n\n"),
        "{beats:?}"
    );

    server.put_doc("db", "sse", json!({"v": 1})).await;
    let text = read_stream_until(&mut response, Duration::from_secs(5), |t| {
        t.contains("id: 6\n\n")
    })
    .await;
    let event = text
        .split("\n\n")
        .find(|e| e.starts_with("data: "))
        .expect("a data event");
    let mut lines = event.lines();
    let data = lines
        .next()
        .and_then(|l| l.strip_prefix("data: "))
        .expect("data line");
    let row: Value = serde_json::from_str(data).expect("json");
    assert_eq!(row["id"], "sse");
    assert_eq!(row["seq"], 6);
    assert_eq!(lines.next(), Some("id: 6"));
}

#[tokio::test]
async fn feeds_end_when_the_database_is_deleted() {
    let server = seeded().await;
    let response = server
        .client
        .get(server.url("/db/_changes?feed=continuous&since=now&timeout=30000"))
        .send()
        .await
        .expect("request");
    tokio::time::sleep(Duration::from_millis(200)).await;
    server.delete("/db").await;
    let text = tokio::time::timeout(Duration::from_secs(5), response.text())
        .await
        .expect("feed ends")
        .expect("text");
    assert!(text.contains("last_seq"), "{text:?}");
}

#[tokio::test]
async fn waiting_feeds_do_not_block_shutdown() {
    let server = seeded().await;
    let response = server
        .client
        .get(server.url("/db/_changes?feed=continuous&since=now&heartbeat=1000"))
        .send()
        .await
        .expect("feed started");
    let feed = tokio::spawn(response.text());
    let started = Instant::now();
    server.shutdown().await;
    assert!(started.elapsed() < Duration::from_secs(5));
    let text = tokio::time::timeout(Duration::from_secs(5), feed)
        .await
        .expect("feed ends")
        .expect("task")
        .expect("text");
    assert!(text.contains("last_seq"), "{text:?}");
}
