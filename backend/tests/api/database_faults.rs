//! The database goes away while Chatkeep serves, on a PostgreSQL of the test's own
//! (`TempPostgres`), stopped the hard way (`pg_ctl stop -m immediate`) and started again:
//! requests meanwhile fail with 503 `DATABASE_UNAVAILABLE` (never a 500, never a hang),
//! `/readyz` says so, and service comes back by itself; an answer that was streaming ends with
//! its whole text and a final status once the database is back, and no exchange is half written.

use std::collections::BTreeMap;
use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use shared::stream::StreamEvent;
use sqlx::PgPool;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

use crate::fake_llm;
use crate::helpers::{SseReader, TempPostgres, TestApp, spawn_app_behind, unique_email};

/// A migrated database on `postgres` and a Chatkeep serving it, with `overrides`.
async fn app_on(postgres: &TempPostgres, overrides: &[(&str, &str)]) -> TestApp {
    let url = postgres.url("postgres", "");
    let owner = PgPool::connect(&url).await.unwrap();
    chatkeep::db::MIGRATOR.run(&owner).await.unwrap();
    owner.close().await;
    let options = PgConnectOptions::from_str(&url).unwrap();
    spawn_app_behind(
        None,
        PgPoolOptions::new().max_connections(2),
        options,
        overrides,
    )
    .await
}

#[derive(Debug)]
struct Outcome {
    status: u16,
    code: String,
    took: Duration,
}

/// One request; a transport failure or a wait past 30 s (a hang) is status 0.
async fn probe(request: reqwest::RequestBuilder) -> Outcome {
    let started = Instant::now();
    let response = request.timeout(Duration::from_secs(30)).send().await;
    let (status, code) = match response {
        Ok(r) => {
            let status = r.status().as_u16();
            let body: serde_json::Value = r.json().await.unwrap_or_default();
            (status, body["code"].as_str().unwrap_or_default().to_owned())
        }
        Err(e) => (0, e.to_string()),
    };
    Outcome {
        status,
        code,
        took: started.elapsed(),
    }
}

#[tokio::test]
async fn requests_fail_cleanly_while_the_database_is_down_and_service_returns_by_itself() {
    let postgres = TempPostgres::start();
    let app = app_on(&postgres, &[]).await;
    let s = app.sign_up(&unique_email("fault")).await;
    app.create_conversation(&s).await;

    // Four clients keep asking for the conversation list; one for readiness.
    let down = Arc::new(AtomicBool::new(false));
    let done = Arc::new(AtomicBool::new(false));
    let mut clients = Vec::new();
    for i in 0..5 {
        let (client, url, bearer) = (app.client.clone(), app.address.clone(), s.bearer.clone());
        let (down, done) = (down.clone(), done.clone());
        clients.push(tokio::spawn(async move {
            let mut seen = Vec::new();
            while !done.load(Ordering::Relaxed) {
                let request = if i == 4 {
                    client.get(format!("{url}/readyz"))
                } else {
                    client
                        .get(format!("{url}/api/conversations"))
                        .bearer_auth(&bearer)
                };
                let during = down.load(Ordering::Relaxed);
                seen.push((during, probe(request).await));
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            (i == 4, seen)
        }));
    }

    tokio::time::sleep(Duration::from_secs(1)).await;
    postgres.stop();
    down.store(true, Ordering::Relaxed);
    tokio::time::sleep(Duration::from_secs(8)).await;
    postgres.start_again();
    down.store(false, Ordering::Relaxed);

    // Service comes back without anyone touching Chatkeep.
    let back = Instant::now();
    let mut recovered = false;
    while back.elapsed() < Duration::from_secs(60) {
        let list = probe(
            app.client
                .get(app.url("/api/conversations"))
                .bearer_auth(&s.bearer),
        )
        .await;
        let ready = probe(app.client.get(app.url("/readyz"))).await;
        if list.status == 200 && ready.status == 200 {
            recovered = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        recovered,
        "service did not come back after the database did"
    );
    let recovery = back.elapsed();
    // And stays back.
    tokio::time::sleep(Duration::from_secs(1)).await;
    done.store(true, Ordering::Relaxed);

    let mut tally: BTreeMap<(&str, bool, u16, String), usize> = BTreeMap::new();
    let mut slowest_failure = Duration::ZERO;
    for client in clients {
        let (readiness, seen) = client.await.unwrap();
        let route = if readiness {
            "/readyz"
        } else {
            "/api/conversations"
        };
        for (during, outcome) in seen {
            assert!(
                outcome.status == 200
                    || (outcome.status == 503 && outcome.code == "DATABASE_UNAVAILABLE"),
                "{route}: {outcome:?} (a failure is a 503 DATABASE_UNAVAILABLE, nothing else)"
            );
            if outcome.status != 200 {
                slowest_failure = slowest_failure.max(outcome.took);
            }
            *tally
                .entry((route, during, outcome.status, outcome.code))
                .or_default() += 1;
        }
    }
    println!("database stopped for 8 s; recovered {recovery:?} after it restarted");
    println!("slowest failed request: {slowest_failure:?}");
    for ((route, during, status, code), n) in &tally {
        let when = if *during { "while down" } else { "while up" };
        println!("{route} {when}: {n} x {status} {code}");
    }
    let failed_while_down = tally
        .iter()
        .filter(|((route, during, status, _), _)| {
            *route == "/api/conversations" && *during && *status == 503
        })
        .map(|(_, n)| n)
        .sum::<usize>();
    let readyz_down = tally
        .iter()
        .filter(|((route, during, status, _), _)| *route == "/readyz" && *during && *status == 503)
        .map(|(_, n)| n)
        .sum::<usize>();
    assert!(
        failed_while_down > 0,
        "requests while down were answered 503"
    );
    assert!(readyz_down > 0, "/readyz said the database was down");
}

#[tokio::test]
async fn an_answer_streaming_when_the_database_dies_is_stored_whole_once_it_is_back() {
    let postgres = TempPostgres::start();
    let llm = fake_llm::start().await;
    let app = app_on(
        &postgres,
        &[
            ("AGENT_URL", llm.url.as_str()),
            ("AGENT_MODEL", "slow"),
            ("AGENT_API_KEY", "test-key"),
        ],
    )
    .await;
    let s = app.sign_up(&unique_email("fault-stream")).await;
    let conversation = app.create_conversation(&s).await;
    let mut reader = SseReader::new(
        app.ask_stream(
            &s,
            &conversation,
            serde_json::json!({ "content": "A long one, please" }),
        )
        .await,
    );

    // A few words in, the database dies; the answer goes on reaching the reader meanwhile, and
    // the database comes back only after the upstream has finished: the final save must wait.
    let mut text = String::new();
    let mut stopped = false;
    let mut last = None;
    // Fail, not hang, if the answer stalls: the upstream's whole answer takes 10 s.
    let read_until = Instant::now() + Duration::from_secs(120);
    while let Some(event) = tokio::time::timeout_at(read_until.into(), reader.next())
        .await
        .expect("the answer kept coming while the database was away")
    {
        match &event {
            StreamEvent::Delta(d) => {
                text.push_str(&d.text);
                if !stopped && text.len() >= 5 * "tick ".len() {
                    postgres.stop();
                    stopped = true;
                }
                if text.len() == 200 * "tick ".len() {
                    postgres.start_again();
                }
            }
            StreamEvent::Finish(_) | StreamEvent::Error(_) => {
                last = Some(event);
                break;
            }
            _ => {}
        }
    }
    assert!(stopped);
    match last {
        Some(StreamEvent::Finish(finish)) => assert_eq!(finish.finish_reason, "stop"),
        other => panic!("the stream ended with {other:?}, not a finish"),
    }
    assert_eq!(text, "tick ".repeat(200));

    // Stored whole, exactly one question and one answer.
    let owner = PgPool::connect(&postgres.url("postgres", ""))
        .await
        .unwrap();
    let rows: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT role, status, content FROM message WHERE conversation_id = $1::uuid ORDER BY created_at, role DESC",
    )
    .bind(&conversation)
    .fetch_all(&owner)
    .await
    .unwrap();
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert_eq!(
        (rows[0].0.as_str(), rows[0].2.as_str()),
        ("user", "A long one, please")
    );
    assert_eq!(
        (rows[1].0.as_str(), rows[1].1.as_str()),
        ("assistant", "complete")
    );
    assert_eq!(rows[1].2, "tick ".repeat(200));
}
