//! Admission control and per-user quotas: refused fast with a clear status, nothing stored.

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

use super::{count, message_id_of_start, wait_for_status};
use crate::fake_llm;
use crate::helpers::{SseReader, error_body, spawn_app_with, unique_email};

#[sqlx::test(migrations = "../migrations")]
async fn when_every_slot_is_busy_a_new_answer_is_503_and_a_stopped_answer_frees_its_slot(
    pool: PgPoolOptions,
    conn: PgConnectOptions,
) {
    let llm = fake_llm::start().await;
    let app = spawn_app_with(
        pool,
        conn,
        &[
            ("AGENT_URL", llm.url.as_str()),
            ("AGENT_MODEL", "slow"),
            ("AGENT_MAX_CONCURRENCY", "1"),
        ],
    )
    .await;
    let alice = app.sign_up(&unique_email("busy-a")).await;
    let bob = app.sign_up(&unique_email("busy-b")).await;
    let alices = app.create_conversation(&alice).await;
    let bobs = app.create_conversation(&bob).await;

    let mut running = SseReader::new(
        app.ask_stream(
            &alice,
            &alices,
            serde_json::json!({ "content": "long one" }),
        )
        .await,
    );
    let id = message_id_of_start(&running.next().await.unwrap());

    let refused = app
        .ask(&bob, &bobs, serde_json::json!({ "content": "me too" }))
        .await;
    assert_eq!(refused.headers()["retry-after"], "1");
    let (status, code, _) = error_body(refused).await;
    assert_eq!((status, code.as_str()), (503, "BUSY"));
    assert_eq!(
        count(
            &app.pool,
            "SELECT count(*) FROM message WHERE role = 'user'"
        )
        .await,
        1,
        "nothing of Bob's stored"
    );

    // Leaving does not end the answer (it is written on for whoever follows it); stopping it
    // does, and the slot is free again once it is saved.
    drop(running);
    let stop = app.stop(&alice, &alices, &id).await;
    assert_eq!(stop.status(), 200);
    wait_for_status(&app.pool, &id, "stopped").await;
    let mut status = 0;
    for _ in 0..100 {
        let response = app
            .ask_stream(&bob, &bobs, serde_json::json!({ "content": "now?" }))
            .await;
        status = response.status().as_u16();
        if status == 200 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(status, 200);
}

#[sqlx::test(migrations = "../migrations")]
async fn the_per_user_message_rate_is_enforced_with_retry_after(
    pool: PgPoolOptions,
    conn: PgConnectOptions,
) {
    let app = spawn_app_with(pool, conn, &[("MESSAGE_RATE_LIMIT", "2")]).await;
    let s = app.sign_up(&unique_email("rate")).await;
    let other = app.sign_up(&unique_email("rate-other")).await;
    let conversation = app.create_conversation(&s).await;
    let others = app.create_conversation(&other).await;

    let first = app
        .ask(
            &s,
            &conversation,
            serde_json::json!({ "content": "roses one" }),
        )
        .await;
    assert_eq!(first.headers()["x-ratelimit-remaining"], "1");
    let second = app
        .ask(
            &s,
            &conversation,
            serde_json::json!({ "content": "roses two" }),
        )
        .await;
    assert_eq!(second.headers()["x-ratelimit-remaining"], "0");
    let third = app
        .ask(
            &s,
            &conversation,
            serde_json::json!({ "content": "roses three" }),
        )
        .await;
    let retry: u64 = third.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry));
    assert_eq!(third.headers()["x-ratelimit-remaining"], "0");
    let (status, code, _) = error_body(third).await;
    assert_eq!((status, code.as_str()), (429, "RATE_LIMITED"));
    assert_eq!(
        count(
            &app.pool,
            "SELECT count(*) FROM message WHERE role = 'user'"
        )
        .await,
        2
    );

    // Another user has their own allowance.
    assert_eq!(
        app.ask(&other, &others, serde_json::json!({ "content": "roses" }))
            .await
            .status(),
        201
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn a_user_can_have_only_so_many_answers_generating(
    pool: PgPoolOptions,
    conn: PgConnectOptions,
) {
    let llm = fake_llm::start().await;
    let app = spawn_app_with(
        pool,
        conn,
        &[
            ("AGENT_URL", llm.url.as_str()),
            ("AGENT_MODEL", "slow"),
            ("MAX_STREAMS_PER_USER", "1"),
        ],
    )
    .await;
    let s = app.sign_up(&unique_email("streams")).await;
    let conversation = app.create_conversation(&s).await;
    let mut running = SseReader::new(
        app.ask_stream(&s, &conversation, serde_json::json!({ "content": "one" }))
            .await,
    );
    running.next().await.unwrap();
    let (status, code, _) = error_body(
        app.ask(&s, &conversation, serde_json::json!({ "content": "two" }))
            .await,
    )
    .await;
    assert_eq!((status, code.as_str()), (429, "TOO_MANY_STREAMS"));
}

#[sqlx::test(migrations = "../migrations")]
async fn one_address_cannot_take_every_slot_and_newcomers_keep_a_share(
    pool: PgPoolOptions,
    conn: PgConnectOptions,
) {
    let llm = fake_llm::start().await;
    // 8 slots, 2 of them kept for sources holding none; 3 answers per user and per address.
    let app = spawn_app_with(
        pool,
        conn,
        &[
            ("AGENT_URL", llm.url.as_str()),
            ("AGENT_MODEL", "slow"),
            ("AGENT_MAX_CONCURRENCY", "8"),
            ("MAX_STREAMS_PER_IP", "3"),
            ("CHATKEEP_TRUSTED_PROXIES", "127.0.0.1"),
        ],
    )
    .await;
    let stream_from = |session: &crate::helpers::TestSession, conversation: &str, ip: &str| {
        app.post(&format!("/api/conversations/{conversation}/messages"))
            .bearer_auth(&session.bearer)
            .header("accept", "text/event-stream")
            .header("x-forwarded-for", ip)
            .json(&serde_json::json!({ "content": "a long one" }))
            .send()
    };
    let mut held = Vec::new();
    let mut refusals = Vec::new();
    // Fresh accounts behind two addresses try for three answers each.
    for (n, ip) in ["203.0.113.7", "203.0.113.7", "203.0.113.8", "203.0.113.8"]
        .into_iter()
        .enumerate()
    {
        let s = app.sign_up(&unique_email(&format!("greedy{n}"))).await;
        let conversation = app.create_conversation(&s).await;
        for _ in 0..3 {
            let response = stream_from(&s, &conversation, ip).await.unwrap();
            if response.status() == 200 {
                let mut reader = SseReader::new(response);
                reader.next().await.unwrap();
                held.push(reader);
            } else {
                refusals.push(error_body(response).await);
            }
        }
    }
    assert_eq!(held.len(), 6, "three per address");
    assert!(
        refusals
            .iter()
            .all(|(status, code, _)| (*status, code.as_str()) == (429, "TOO_MANY_STREAMS")),
        "{refusals:?}"
    );

    // A third busy address gets one of the two slots left, but not the last.
    let third = app.sign_up(&unique_email("third")).await;
    let thirds = app.create_conversation(&third).await;
    let first = stream_from(&third, &thirds, "203.0.113.9").await.unwrap();
    assert_eq!(first.status(), 200);
    held.push(SseReader::new(first));
    let again = stream_from(&third, &thirds, "203.0.113.9").await.unwrap();
    let (status, code, _) = error_body(again).await;
    assert_eq!((status, code.as_str()), (503, "BUSY"));

    // The last slot is there for someone who has none.
    let alice = app.sign_up(&unique_email("newcomer")).await;
    let alices = app.create_conversation(&alice).await;
    let response = stream_from(&alice, &alices, "198.51.100.1").await.unwrap();
    assert_eq!(response.status(), 200, "a newcomer is served");
    drop(held);
}
