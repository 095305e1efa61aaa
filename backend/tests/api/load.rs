//! Load without loss: 200 clients ask at once, a quarter reading their answer to the end, a
//! quarter leaving as soon as it starts, a quarter retrying with the same `clientId` after an
//! answer, and a quarter giving up on their first try midway and retrying with its `clientId`.
//! Then, counted in the database: every acknowledged question is stored exactly once, with
//! exactly one answer, and every answer ends in a final status.

use std::collections::{BTreeMap, HashSet};
use std::time::Duration;

use futures_util::future::join_all;
use shared::messages::Exchange;
use shared::stream::StreamEvent;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

use crate::helpers::{SseReader, TestApp, TestSession, spawn_app_with_upstream, unique_email};

const CLIENTS: usize = 200;

/// What one client did: the question id it was given, and how many tries it took.
struct Acknowledged {
    question_id: String,
    client_id: Option<String>,
    tries: u32,
}

async fn post(
    app: &TestApp,
    s: &TestSession,
    conversation: &str,
    body: &serde_json::Value,
    stream: bool,
    timeout: Option<Duration>,
) -> Result<reqwest::Response, reqwest::Error> {
    let mut request = app
        .post(&format!("/api/conversations/{conversation}/messages"))
        .bearer_auth(&s.bearer)
        .json(body);
    if stream {
        request = request.header("accept", "text/event-stream");
    }
    if let Some(timeout) = timeout {
        request = request.timeout(timeout);
    }
    request.send().await
}

/// Asks until acknowledged: a 503 or 429 (nothing stored) is retried; so is a try that timed
/// out, when it carries a `clientId` (it may have been stored: the retry must not store it
/// twice).
async fn client(app: &TestApp, s: &TestSession, conversation: &str, i: usize) -> Acknowledged {
    let kind = i % 4;
    let client_id = (kind >= 2).then(|| format!("load-{i}-{}", uuid::Uuid::new_v4().simple()));
    let body = serde_json::json!({
        "content": format!("Question number {i}"),
        "clientId": client_id,
    });
    let mut tries = 0;
    loop {
        tries += 1;
        // Kind 3 gives up on its first try 30 ms in, before its answer can have finished.
        let timeout = (kind == 3 && tries == 1).then(|| Duration::from_millis(30));
        let response = match post(app, s, conversation, &body, kind < 2, timeout).await {
            Ok(response) => response,
            Err(e) if e.is_timeout() => continue,
            Err(e) => panic!("client {i}: {e}"),
        };
        let status = response.status().as_u16();
        if status == 503 || status == 429 {
            tokio::time::sleep(Duration::from_millis(100)).await;
            continue;
        }
        if kind < 2 {
            let mut reader = SseReader::new(response);
            let question_id = match reader.next().await {
                Some(StreamEvent::Start(start)) => {
                    start.user_message_id.expect("a question").to_string()
                }
                other => panic!("client {i}: the stream began with {other:?}"),
            };
            if kind == 0 {
                while reader.next().await.is_some() {}
            }
            // Kind 1 leaves here, its answer under way.
            return Acknowledged {
                question_id,
                client_id,
                tries,
            };
        }
        assert!(status == 200 || status == 201, "client {i}: {status}");
        let exchange: Exchange = response.json().await.unwrap();
        if kind == 2 && tries == 1 {
            // The response was "lost": ask again with the same clientId, get the same exchange.
            let again: Exchange = post(app, s, conversation, &body, false, None)
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            assert_eq!(
                again.user_message.id, exchange.user_message.id,
                "client {i}"
            );
            assert_eq!(again.assistant_message.id, exchange.assistant_message.id);
            tries += 1;
        }
        return Acknowledged {
            question_id: exchange.user_message.id.to_string(),
            client_id,
            tries,
        };
    }
}

#[sqlx::test(migrations = "../migrations")]
async fn two_hundred_clients_at_once_lose_nothing_and_store_nothing_twice(
    pool: PgPoolOptions,
    conn: PgConnectOptions,
) {
    let (app, _llm) = spawn_app_with_upstream(
        pool,
        conn,
        "brief",
        &[
            ("AGENT_MAX_CONCURRENCY", "400"),
            ("MAX_STREAMS_PER_USER", "100"),
            ("MAX_STREAMS_PER_IP", "1000"),
            ("MESSAGE_RATE_LIMIT", "10000"),
        ],
    )
    .await;
    // 20 people with two conversations each; five clients share each conversation.
    let mut people = Vec::new();
    for p in 0..20 {
        let s = app.sign_up(&unique_email(&format!("load{p}"))).await;
        let conversations = [
            app.create_conversation(&s).await,
            app.create_conversation(&s).await,
        ];
        people.push((s, conversations));
    }
    let acknowledged = join_all((0..CLIENTS).map(|i| {
        let (s, conversations) = &people[i % 20];
        client(&app, s, &conversations[(i / 20) % 2], i)
    }))
    .await;

    // Every answer reaches a final status (those whose readers left go on without them).
    let mut streaming = -1;
    for _ in 0..600 {
        streaming = sqlx::query_scalar::<_, i64>(
            "SELECT count(*) FROM message WHERE role = 'assistant' AND status = 'streaming'",
        )
        .fetch_one(&app.pool)
        .await
        .unwrap();
        if streaming == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(streaming, 0, "answers left without a final status");

    let ids: HashSet<&str> = acknowledged
        .iter()
        .map(|a| a.question_id.as_str())
        .collect();
    assert_eq!(ids.len(), CLIENTS, "each client got its own question");
    let questions: Vec<(String, Option<String>)> =
        sqlx::query_as("SELECT id::text, client_id FROM message WHERE role = 'user'")
            .fetch_all(&app.pool)
            .await
            .unwrap();
    assert_eq!(
        questions.len(),
        CLIENTS,
        "nothing stored twice, nothing extra"
    );
    let stored: HashSet<&str> = questions.iter().map(|(id, _)| id.as_str()).collect();
    assert_eq!(stored, ids, "every acknowledged question is stored");
    for a in &acknowledged {
        if let Some(client_id) = &a.client_id {
            let rows = questions
                .iter()
                .filter(|(_, c)| c.as_deref() == Some(client_id.as_str()))
                .count();
            assert_eq!(rows, 1, "{client_id} stored {rows} times");
        }
    }
    let answers: Vec<(String, String)> =
        sqlx::query_as("SELECT parent_id::text, status FROM message WHERE role = 'assistant'")
            .fetch_all(&app.pool)
            .await
            .unwrap();
    assert_eq!(answers.len(), CLIENTS, "one answer per question");
    let answered: HashSet<&str> = answers.iter().map(|(parent, _)| parent.as_str()).collect();
    assert_eq!(answered, ids);
    let mut by_status: BTreeMap<&str, usize> = BTreeMap::new();
    for (_, status) in &answers {
        *by_status.entry(status.as_str()).or_default() += 1;
    }
    let retries: u32 = acknowledged.iter().map(|a| a.tries - 1).sum();
    println!(
        "{CLIENTS} questions acknowledged and stored once each; {retries} retries; answers by status: {by_status:?}"
    );
    assert!(
        by_status
            .keys()
            .all(|s| ["complete", "stopped", "error"].contains(s)),
        "{by_status:?}"
    );
}
