//! Every way an answer ends, with an upstream we control: complete, stopped by the user, and
//! failed (HTTP 500, a hang, malformed data, no `[DONE]`, an error mid-way).
//! In each case the question and the partial answer are stored with the right status.

use shared::messages::{MessageStatus, Usage};
use shared::stream::StreamEvent;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

use super::{count, message_id_of_start, text_of, wait_for_status};
use crate::fake_llm::FakeLlm;
use crate::helpers::{
    SseReader, TestApp, TestSession, read_sse, spawn_app_with, spawn_app_with_upstream,
    unique_email,
};

pub(super) async fn app_with_upstream(
    pool: PgPoolOptions,
    conn: PgConnectOptions,
    model: &str,
    extra: &[(&str, &str)],
) -> (TestApp, FakeLlm, TestSession, String) {
    let (app, llm) = spawn_app_with_upstream(pool, conn, model, extra).await;
    let s = app.sign_up(&unique_email(model)).await;
    let conversation = app.create_conversation(&s).await;
    (app, llm, s, conversation)
}

#[sqlx::test(migrations = "../migrations")]
async fn an_upstream_answer_is_relayed_and_stored_complete(
    pool: PgPoolOptions,
    conn: PgConnectOptions,
) {
    let (app, llm, s, conversation) = app_with_upstream(pool, conn, "instant", &[]).await;
    let events = read_sse(
        app.ask_stream(
            &s,
            &conversation,
            serde_json::json!({ "content": "Say hello" }),
        )
        .await,
    )
    .await;
    assert_eq!(text_of(&events), "Hello world");
    let StreamEvent::Finish(finish) = events.last().unwrap() else {
        panic!("{events:?}")
    };
    assert_eq!(finish.finish_reason, "stop");
    assert_eq!(
        finish.usage,
        Some(Usage {
            prompt_tokens: Some(11),
            completion_tokens: Some(2),
            total_tokens: Some(13)
        })
    );
    let id = message_id_of_start(&events[0]);
    assert_eq!(
        wait_for_status(&app.pool, &id, "complete").await,
        "Hello world"
    );
    assert_eq!(llm.requests.lock().unwrap().len(), 1);
}

#[sqlx::test(migrations = "../migrations")]
async fn the_upstream_gets_the_history_the_selection_and_the_key(
    pool: PgPoolOptions,
    conn: PgConnectOptions,
) {
    let (app, llm, s, conversation) = app_with_upstream(pool, conn, "instant", &[]).await;
    app.ask(
        &s,
        &conversation,
        serde_json::json!({ "content": "First question" }),
    )
    .await;
    app.ask(&s, &conversation, serde_json::json!({ "content": "Second question", "selectedText": "a highlighted passage" })).await;

    let requests = llm.requests.lock().unwrap().clone();
    let last = requests.last().unwrap();
    assert_eq!(last.authorization.as_deref(), Some("Bearer test-key"));
    assert_eq!(last.body["model"], "instant");
    assert_eq!(last.body["stream"], true);
    let messages = last.body["messages"].as_array().unwrap();
    let roles: Vec<&str> = messages
        .iter()
        .map(|m| m["role"].as_str().unwrap())
        .collect();
    assert_eq!(roles, ["system", "user", "assistant", "user"]);
    assert!(
        messages[0]["content"]
            .as_str()
            .unwrap()
            .contains("a highlighted passage")
    );
    assert_eq!(messages[1]["content"], "First question");
    assert_eq!(messages[2]["content"], "Hello world");
    assert_eq!(messages[3]["content"], "Second question");
}

#[sqlx::test(migrations = "../migrations")]
async fn a_stream_split_mid_line_reads_whole(pool: PgPoolOptions, conn: PgConnectOptions) {
    let (app, _llm, s, conversation) = app_with_upstream(pool, conn, "split", &[]).await;
    let exchange = app
        .exchange(&s, &conversation, serde_json::json!({ "content": "q" }))
        .await;
    assert_eq!(exchange.assistant_message.content, "Split reads");
    assert_eq!(exchange.assistant_message.status, MessageStatus::Complete);
}

#[sqlx::test(migrations = "../migrations")]
async fn upstream_citations_become_numbered_sources(pool: PgPoolOptions, conn: PgConnectOptions) {
    let (app, _llm, s, conversation) = app_with_upstream(pool, conn, "citations", &[]).await;
    let exchange = app
        .exchange(&s, &conversation, serde_json::json!({ "content": "q" }))
        .await;
    let sources = &exchange.assistant_message.sources;
    assert_eq!(sources.len(), 2);
    assert_eq!(
        (sources[0].n, sources[0].url.as_deref()),
        (1, Some("https://example.com/a"))
    );
    assert_eq!(
        (sources[1].n, sources[1].url.as_deref()),
        (2, Some("https://example.com/b"))
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn stop_keeps_the_partial_answer(pool: PgPoolOptions, conn: PgConnectOptions) {
    let (app, _llm, s, conversation) = app_with_upstream(pool, conn, "slow", &[]).await;
    let mut stream = SseReader::new(
        app.ask_stream(
            &s,
            &conversation,
            serde_json::json!({ "content": "Count slowly" }),
        )
        .await,
    );
    let id = message_id_of_start(&stream.next().await.unwrap());
    // Wait for some text.
    while !matches!(stream.next().await, Some(StreamEvent::Delta(_))) {}

    let response = app.stop(&s, &conversation, &id).await;
    assert_eq!(response.status(), 200);
    let stopped: serde_json::Value = response.json().await.unwrap();
    assert_eq!(stopped["status"], "stopped");
    assert_eq!(stopped["finishReason"], "stopped");
    let partial = stopped["content"].as_str().unwrap().to_owned();
    assert!(partial.starts_with("tick "), "{partial:?}");
    assert!(partial.len() < "tick ".len() * 200, "cut short");

    // The stream ends with finish: stopped.
    let mut last = None;
    while let Some(event) = stream.next().await {
        last = Some(event);
    }
    let Some(StreamEvent::Finish(finish)) = last else {
        panic!("{last:?}")
    };
    assert_eq!(finish.finish_reason, "stopped");
    assert_eq!(
        count(
            &app.pool,
            "SELECT count(*) FROM message WHERE role = 'user'"
        )
        .await,
        1
    );

    // Stopping again changes nothing.
    let again: serde_json::Value = app.stop(&s, &conversation, &id).await.json().await.unwrap();
    assert_eq!(
        again["content"].as_str().unwrap(),
        wait_for_status(&app.pool, &id, "stopped").await
    );
}

/// Starts an answer against a failing upstream and returns (final SSE event, stored status,
/// stored content, stored error).
async fn failed_answer(
    model: &str,
    pool: PgPoolOptions,
    conn: PgConnectOptions,
) -> (StreamEvent, String, String, String) {
    let (app, _llm, s, conversation) =
        app_with_upstream(pool, conn, model, &[("AGENT_IDLE_TIMEOUT", "1")]).await;
    let events = read_sse(
        app.ask_stream(
            &s,
            &conversation,
            serde_json::json!({ "content": "Will this work?" }),
        )
        .await,
    )
    .await;
    let id = message_id_of_start(&events[0]);
    let (status, content, error): (String, String, Option<String>) =
        sqlx::query_as("SELECT status, content, error FROM message WHERE id = $1::uuid")
            .bind(&id)
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(
        count(
            &app.pool,
            "SELECT count(*) FROM message WHERE role = 'user'"
        )
        .await,
        1,
        "the question is kept"
    );
    (
        events.last().unwrap().clone(),
        status,
        content,
        error.unwrap_or_default(),
    )
}

fn error_code(event: &StreamEvent) -> &str {
    match event {
        StreamEvent::Error(e) => &e.code,
        other => panic!("expected an error event, got {other:?}"),
    }
}

#[sqlx::test(migrations = "../migrations")]
async fn an_upstream_500_is_stored_as_error(pool: PgPoolOptions, conn: PgConnectOptions) {
    let (last, status, content, error) = failed_answer("error-500", pool, conn).await;
    assert_eq!(error_code(&last), "AGENT_ERROR");
    assert_eq!((status.as_str(), content.as_str()), ("error", ""));
    // The upstream's own words stay in the log: people get a plain, stable message.
    assert_eq!(
        error,
        "The assistant ran into a problem and could not answer. Try again."
    );
    let StreamEvent::Error(sent) = &last else {
        unreachable!("checked by error_code")
    };
    assert_eq!(sent.message, error, "the stream says what is stored");
}

#[sqlx::test(migrations = "../migrations")]
async fn an_upstream_that_hangs_times_out_and_keeps_the_partial(
    pool: PgPoolOptions,
    conn: PgConnectOptions,
) {
    let (last, status, content, error) = failed_answer("hang", pool, conn).await;
    assert_eq!(error_code(&last), "AGENT_TIMEOUT");
    assert_eq!(
        (status.as_str(), content.as_str()),
        ("error", "Partial answer")
    );
    assert_eq!(error, "The assistant stopped responding. Try again.");
}

#[sqlx::test(migrations = "../migrations")]
async fn a_malformed_stream_is_stored_as_error(pool: PgPoolOptions, conn: PgConnectOptions) {
    let (last, status, content, error) = failed_answer("malformed", pool, conn).await;
    assert_eq!(error_code(&last), "AGENT_MALFORMED_STREAM");
    assert_eq!((status.as_str(), content.as_str()), ("error", "Before "));
    assert_eq!(error, "The assistant's answer was cut off. Try again.");
}

#[sqlx::test(migrations = "../migrations")]
async fn a_stream_without_done_is_stored_as_error(pool: PgPoolOptions, conn: PgConnectOptions) {
    let (last, status, content, error) = failed_answer("no-done", pool, conn).await;
    assert_eq!(error_code(&last), "AGENT_MALFORMED_STREAM");
    assert_eq!((status.as_str(), content.as_str()), ("error", "Cut off"));
    assert_eq!(error, "The assistant's answer was cut off. Try again.");
}

#[sqlx::test(migrations = "../migrations")]
async fn an_error_mid_stream_is_stored_as_error(pool: PgPoolOptions, conn: PgConnectOptions) {
    let (last, status, content, error) = failed_answer("midstream-error", pool, conn).await;
    assert_eq!(error_code(&last), "AGENT_ERROR");
    assert_eq!((status.as_str(), content.as_str()), ("error", "Half "));
    assert!(!error.contains("model overloaded"), "{error}");
    assert_eq!(
        error,
        "The assistant ran into a problem and could not answer. Try again."
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn an_unreachable_upstream_is_an_error_not_a_hang(
    pool: PgPoolOptions,
    conn: PgConnectOptions,
) {
    let app = spawn_app_with(
        pool,
        conn,
        &[
            ("AGENT_URL", "http://127.0.0.1:1"),
            ("AGENT_IDLE_TIMEOUT", "2"),
        ],
    )
    .await;
    let s = app.sign_up(&unique_email("unreach")).await;
    let conversation = app.create_conversation(&s).await;
    let exchange = app
        .exchange(
            &s,
            &conversation,
            serde_json::json!({ "content": "hello?" }),
        )
        .await;
    assert_eq!(exchange.assistant_message.status, MessageStatus::Error);
    assert_eq!(
        exchange.assistant_message.error.as_deref(),
        Some("The assistant cannot be reached right now. Try again in a moment.")
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn a_quiet_stream_carries_keep_alive_comments_until_it_times_out(
    pool: PgPoolOptions,
    conn: PgConnectOptions,
) {
    let (app, _llm, s, conversation) = app_with_upstream(
        pool,
        conn,
        "hang",
        &[("AGENT_IDLE_TIMEOUT", "3"), ("SSE_KEEP_ALIVE", "1")],
    )
    .await;
    let raw = app
        .ask_stream(
            &s,
            &conversation,
            serde_json::json!({ "content": "anyone there?" }),
        )
        .await
        .text()
        .await
        .unwrap();
    let after_text = raw.split("answer").nth(1).unwrap_or_default();
    assert!(
        after_text.matches(": keep-alive\n\n").count() >= 2,
        "keep-alives while the upstream is silent: {raw}"
    );
    assert!(
        after_text.contains("event: error"),
        "and then the timeout ends it: {raw}"
    );
}
