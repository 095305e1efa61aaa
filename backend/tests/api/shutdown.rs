//! SIGTERM while answers stream, against the real `chatkeep` binary: new requests get
//! `503 SHUTTING_DOWN`, the answers go on for the grace period (`CHATKEEP_SHUTDOWN_TIMEOUT`),
//! are then stopped and stored as `stopped` with all the text their readers got, and the process
//! exits 0.

use std::process::Command;
use std::time::Duration;

use shared::stream::StreamEvent;
use sqlx::PgPool;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

use crate::fake_llm;
use crate::helpers::processes::Instance;
use crate::helpers::{SseReader, sign_up_at, url_for_database};

#[sqlx::test(migrations = "../migrations")]
async fn sigterm_turns_new_requests_away_lets_answers_run_out_their_grace_and_exits_0(
    pool: PgPoolOptions,
    conn: PgConnectOptions,
) {
    let owner: PgPool = pool.connect_with(conn.clone()).await.unwrap();
    let llm = fake_llm::start().await;
    let server = Instance::start(
        &url_for_database(conn.get_database().unwrap()),
        &[
            ("AUTH_RATE_LIMIT", "off"),
            ("AGENT_URL", &llm.url),
            ("AGENT_MODEL", "slow"),
            ("CHATKEEP_SHUTDOWN_TIMEOUT", "2"),
        ],
    );
    let address = server.address.clone();

    // As the server does: reqwest and sqlx share rustls with the ring provider.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let client = reqwest::Client::new();
    let bearer = sign_up_at(&client, &address, "sigterm").await;
    let mut readers = Vec::new();
    for i in 0..2 {
        let created: serde_json::Value = client
            .post(format!("{address}/api/conversations"))
            .header("origin", &address)
            .bearer_auth(&bearer)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let response = client
            .post(format!(
                "{address}/api/conversations/{}/messages",
                created["id"].as_str().unwrap()
            ))
            .header("origin", &address)
            .header("accept", "text/event-stream")
            .bearer_auth(&bearer)
            .json(&serde_json::json!({ "content": format!("Long answer number {i}") }))
            .send()
            .await
            .unwrap();
        let mut reader = SseReader::new(response);
        // Wait until each is well under way.
        let mut text = String::new();
        while text.len() < 3 * "tick ".len() {
            if let Some(StreamEvent::Delta(d)) = reader.next().await {
                text.push_str(&d.text);
            }
        }
        readers.push((reader, text));
    }

    // SIGTERM.
    let pid = server.pid().to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    tokio::time::sleep(Duration::from_millis(300)).await;

    // A new request is turned away with a reason, while the answers go on.
    let refused = client
        .get(format!("{address}/api/conversations"))
        .bearer_auth(&bearer)
        .send()
        .await
        .expect("the port is still open during the grace period");
    assert_eq!(refused.status(), 503);
    assert_eq!(refused.headers()["retry-after"], "1");
    let body: serde_json::Value = refused.json().await.unwrap();
    assert_eq!(body["code"], "SHUTTING_DOWN");

    for (reader, text) in &mut readers {
        let before = text.len();
        let mut last = None;
        while let Some(event) = tokio::time::timeout(Duration::from_secs(30), reader.next())
            .await
            .expect("the answer ends within its grace and the save")
        {
            match event {
                StreamEvent::Delta(d) => text.push_str(&d.text),
                other @ (StreamEvent::Finish(_) | StreamEvent::Error(_)) => last = Some(other),
                _ => {}
            }
        }
        assert!(
            text.len() > before,
            "the answer went on during the grace period"
        );
        assert!(
            text.len() < 200 * "tick ".len(),
            "and was stopped before its end"
        );
        match last {
            Some(StreamEvent::Finish(finish)) => assert_eq!(finish.finish_reason, "stopped"),
            other => panic!("the answer ended with {other:?}"),
        }
    }

    // The process ends by itself, with 0.
    let (status, log) = server.exit().await;
    assert_eq!(status.code(), Some(0), "exit status");
    assert!(log.contains("SIGTERM"), "the log says why it stopped");

    // Stored: each question once, each answer stopped with exactly the text its reader got.
    let mut stored: Vec<(String, String, String)> =
        sqlx::query_as("SELECT role, status, content FROM message ORDER BY created_at, role DESC")
            .fetch_all(&owner)
            .await
            .unwrap();
    assert_eq!(stored.len(), 4, "{stored:?}");
    let answers: Vec<(String, String, String)> = stored
        .drain(..)
        .filter(|(role, ..)| role == "assistant")
        .collect();
    let mut got: Vec<String> = readers.into_iter().map(|(_, text)| text).collect();
    let mut saved: Vec<String> = answers
        .iter()
        .map(|(_, _, content)| content.clone())
        .collect();
    got.sort();
    saved.sort();
    assert_eq!(saved, got);
    assert!(
        answers.iter().all(|(_, status, _)| status == "stopped"),
        "{answers:?}"
    );
}
