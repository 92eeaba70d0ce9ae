//! Concurrent edits of one revision: exactly one wins, the rest conflict.

mod common;

use common::TestServer;
use reqwest::StatusCode;
use serde_json::{json, Value};

const WRITERS: usize = 50;
const ROUNDS: usize = 5;

async fn race(
    server: &TestServer,
    path: &str,
    body_for: impl Fn(usize) -> Value,
) -> Vec<(usize, StatusCode, Value)> {
    let mut tasks = Vec::with_capacity(WRITERS);
    for writer in 0..WRITERS {
        let client = server.client.clone();
        let url = server.url(path);
        let body = body_for(writer);
        tasks.push(tokio::spawn(async move {
            let response = client.put(url).json(&body).send().await.expect("request");
            let status = response.status();
            (
                writer,
                status,
                response.json::<Value>().await.expect("json"),
            )
        }));
    }
    let mut results = Vec::with_capacity(WRITERS);
    for task in tasks {
        results.push(task.await.expect("task"));
    }
    results
}

fn single_winner(results: &[(usize, StatusCode, Value)]) -> (usize, String) {
    let winners: Vec<_> = results
        .iter()
        .filter(|(_, s, _)| *s == StatusCode::CREATED)
        .collect();
    assert_eq!(winners.len(), 1, "exactly one write succeeds: {results:?}");
    for (_, status, body) in results {
        if *status != StatusCode::CREATED {
            assert_eq!(*status, StatusCode::CONFLICT);
            assert_eq!(
                body,
                &json!({"error": "conflict", "reason": "Document update conflict."})
            );
        }
    }
    let (writer, _, body) = winners[0];
    (*writer, body["rev"].as_str().expect("rev").to_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_updates_of_one_revision() {
    let server = TestServer::start().await;
    server.create_db("db").await;

    // Creation races too: only one writer creates the document.
    let created = race(
        &server,
        "/db/contended",
        |writer| json!({"writer": writer, "round": 0}),
    )
    .await;
    let (mut last_writer, mut rev) = single_winner(&created);

    let mut history = vec![(rev.clone(), last_writer, 0)];
    for round in 1..=ROUNDS {
        let base = rev.clone();
        let results = race(
            &server,
            "/db/contended",
            |writer| json!({"_rev": base, "writer": writer, "round": round}),
        )
        .await;
        let (writer, new_rev) = single_winner(&results);
        assert!(new_rev.starts_with(&format!("{}-", round + 1)), "{new_rev}");
        last_writer = writer;
        rev = new_rev;
        history.push((rev.clone(), writer, round));
    }

    // No lost update: the current document is the last winner's, and every
    // winning revision is still readable with its own body.
    let (_, current) = server.get("/db/contended").await;
    assert_eq!(current["_rev"], rev.as_str());
    assert_eq!(current["writer"], last_writer);
    assert_eq!(current["round"], ROUNDS);
    for (rev, writer, round) in history {
        let (status, doc) = server.get(&format!("/db/contended?rev={rev}")).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(doc["writer"], writer);
        assert_eq!(doc["round"], round);
    }
    let (_, info) = server.get("/db").await;
    assert_eq!(
        info["update_seq"],
        ROUNDS + 1,
        "one seq per successful write"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_bulk_writes_all_land() {
    let server = TestServer::start().await;
    server.create_db("db").await;
    let mut tasks = Vec::new();
    for batch in 0..10 {
        let client = server.client.clone();
        let url = server.url("/db/_bulk_docs");
        tasks.push(tokio::spawn(async move {
            let docs: Vec<Value> = (0..20)
                .map(|i| json!({"_id": format!("b{batch}-{i}")}))
                .collect();
            let response = client
                .post(url)
                .json(&json!({"docs": docs}))
                .send()
                .await
                .expect("request");
            assert_eq!(response.status(), StatusCode::CREATED);
        }));
    }
    for task in tasks {
        task.await.expect("task");
    }
    let (_, info) = server.get("/db").await;
    assert_eq!(info["doc_count"], 200);
    assert_eq!(info["update_seq"], 200);
}
