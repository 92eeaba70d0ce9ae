//! The real binary: acknowledged writes survive SIGKILL, and SIGTERM stops it cleanly.

use std::{
    io::{BufRead, BufReader},
    path::Path,
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use reqwest::{Client, StatusCode};
use serde_json::{json, Value};

struct Running {
    child: Child,
    base: String,
    announced: String,
}

/// Starts the binary on a free port and waits for its port file.
fn start(data_dir: &Path, port_file: &Path) -> Running {
    let _ = std::fs::remove_file(port_file);
    let mut child = Command::new(env!("CARGO_BIN_EXE_tidesync-server"))
        .arg("--port")
        .arg("0")
        .arg("--port-file")
        .arg(port_file)
        .arg("--data-dir")
        .arg(data_dir)
        .arg("--log-level")
        .arg("warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("binary starts");
    let deadline = Instant::now() + Duration::from_secs(20);
    let port = loop {
        if let Some(port) = std::fs::read_to_string(port_file)
            .ok()
            .and_then(|text| text.trim().parse::<u16>().ok())
        {
            break port;
        }
        assert!(Instant::now() < deadline, "no port file written");
        std::thread::sleep(Duration::from_millis(20));
    };
    let mut announced = String::new();
    let stdout = child.stdout.take().expect("stdout");
    BufReader::new(stdout)
        .read_line(&mut announced)
        .expect("startup line");
    Running {
        child,
        base: format!("http://127.0.0.1:{port}"),
        announced,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_writes_survive_sigkill() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let data = dir.path().join("data");
    let port_file = dir.path().join("port");
    let client = Client::new();

    let mut server = start(&data, &port_file);
    assert_eq!(
        server.announced.trim_end(),
        format!("tidesync-server listening on {}", server.base)
    );
    let base = server.base.clone();
    let response = client
        .put(format!("{base}/durable"))
        .send()
        .await
        .expect("create db");
    assert_eq!(response.status(), StatusCode::CREATED);

    let mut acknowledged: Vec<(String, String)> = Vec::new();
    for i in 0..40 {
        let id = format!("doc-{i}");
        let response = client
            .put(format!("{base}/durable/{id}"))
            .json(&json!({"i": i}))
            .send()
            .await
            .expect("put");
        assert_eq!(response.status(), StatusCode::CREATED);
        let body: Value = response.json().await.expect("json");
        acknowledged.push((id, body["rev"].as_str().expect("rev").to_owned()));
    }
    let docs: Vec<Value> = (0..40)
        .map(|i| json!({"_id": format!("bulk-{i}"), "i": i}))
        .collect();
    let response = client
        .post(format!("{base}/durable/_bulk_docs"))
        .json(&json!({"docs": docs}))
        .send()
        .await
        .expect("bulk");
    assert_eq!(response.status(), StatusCode::CREATED);
    let rows: Vec<Value> = response.json().await.expect("json");
    for row in rows {
        acknowledged.push((
            row["id"].as_str().expect("id").to_owned(),
            row["rev"].as_str().expect("rev").to_owned(),
        ));
    }
    let response = client
        .put(format!("{base}/durable/with-file/data.bin"))
        .header("content-type", "application/octet-stream")
        .body(vec![1u8, 2, 3, 4])
        .send()
        .await
        .expect("attachment");
    assert_eq!(response.status(), StatusCode::CREATED);

    // No graceful anything: the process dies right after the acknowledgements.
    server.child.kill().expect("SIGKILL");
    server.child.wait().expect("reaped");

    let mut restarted = start(&data, &port_file);
    let base = restarted.base.clone();
    for (id, rev) in &acknowledged {
        let response = client
            .get(format!("{base}/durable/{id}"))
            .send()
            .await
            .expect("get");
        assert_eq!(response.status(), StatusCode::OK, "{id} survived");
        let doc: Value = response.json().await.expect("json");
        assert_eq!(
            doc["_rev"],
            rev.as_str(),
            "{id} at its acknowledged revision"
        );
    }
    let bytes = client
        .get(format!("{base}/durable/with-file/data.bin"))
        .send()
        .await
        .expect("get")
        .bytes()
        .await
        .expect("bytes");
    assert_eq!(&bytes[..], &[1u8, 2, 3, 4]);
    let info: Value = client
        .get(format!("{base}/durable"))
        .send()
        .await
        .expect("info")
        .json()
        .await
        .expect("json");
    assert_eq!(info["doc_count"], 81);
    assert_eq!(info["update_seq"], 81);

    restarted.child.kill().expect("SIGKILL");
    restarted.child.wait().expect("reaped");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_shuts_down_gracefully() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let port_file = dir.path().join("port");
    let mut server = start(&dir.path().join("data"), &port_file);
    let client = Client::new();
    let base = server.base.clone();
    client
        .put(format!("{base}/db"))
        .send()
        .await
        .expect("create db");
    // A waiting feed must not hold the shutdown up.
    let response = client
        .get(format!("{base}/db/_changes?feed=continuous&heartbeat=500"))
        .send()
        .await
        .expect("feed started");
    let feed = tokio::spawn(response.text());

    let pid = server.child.id().to_string();
    let status = Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .expect("kill runs");
    assert!(status.success());
    let deadline = Instant::now() + Duration::from_secs(8);
    let exit = loop {
        if let Some(exit) = server.child.try_wait().expect("try_wait") {
            break exit;
        }
        assert!(Instant::now() < deadline, "server did not stop on SIGTERM");
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(exit.success(), "clean exit: {exit:?}");
    let text = tokio::time::timeout(Duration::from_secs(5), feed)
        .await
        .expect("feed ended")
        .expect("task")
        .expect("text");
    assert!(text.contains("last_seq"), "{text:?}");
}
