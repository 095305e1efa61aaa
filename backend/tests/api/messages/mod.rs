//! Asking and answering: JSON and streamed replies, the built-in and upstream agents, every way
//! an answer can end, quotas, and isolation between users (twice: queries and row-level security).

mod asking;
mod branches;
mod endings;
mod following;
mod isolation;
mod quotas;

use std::time::Duration;

use shared::stream::StreamEvent;
use sqlx::PgPool;

/// Waits (bounded) until the stored message has `status`; returns its content. Polling, not
/// timing: the test fails only if the state never arrives.
pub async fn wait_for_status(pool: &PgPool, id: &str, status: &str) -> String {
    wait_for_status_within(pool, id, status, Duration::from_secs(10)).await
}

pub async fn wait_for_status_within(
    pool: &PgPool,
    id: &str,
    status: &str,
    within: Duration,
) -> String {
    let id = uuid::Uuid::parse_str(id).unwrap();
    for _ in 0..within.as_millis() / 50 {
        let row: Option<(String, String)> =
            sqlx::query_as("SELECT status, content FROM message WHERE id = $1")
                .bind(id)
                .fetch_optional(pool)
                .await
                .unwrap();
        if let Some((s, content)) = row
            && s == status
        {
            return content;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("message {id} never reached status {status}");
}

pub fn message_id_of_start(event: &StreamEvent) -> String {
    match event {
        StreamEvent::Start(start) => start.message_id.to_string(),
        other => panic!("the stream did not open with start: {other:?}"),
    }
}

pub fn text_of(events: &[StreamEvent]) -> String {
    events
        .iter()
        .filter_map(|e| match e {
            StreamEvent::Delta(d) => Some(d.text.as_str()),
            _ => None,
        })
        .collect()
}

pub async fn count(pool: &PgPool, sql: &str) -> i64 {
    sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_owned()))
        .fetch_one(pool)
        .await
        .unwrap()
}
