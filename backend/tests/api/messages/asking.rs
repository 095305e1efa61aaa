use shared::stream::StreamEvent;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

use super::{count, text_of};
use crate::helpers::{error_body, read_sse, spawn_app, spawn_app_with, unique_email};

#[sqlx::test(migrations = "../migrations")]
async fn a_question_gets_a_stored_answer_with_citations_from_the_built_in_agent(
    pool: PgPoolOptions,
    conn: PgConnectOptions,
) {
    let app = spawn_app(pool, conn).await;
    let s = app.sign_up(&unique_email("ask")).await;
    let conversation = app.create_conversation(&s).await;

    let response = app
        .ask(
            &s,
            &conversation,
            serde_json::json!({ "content": "How should I water my tomatoes?" }),
        )
        .await;
    assert_eq!(response.status(), 201);
    assert!(response.headers().contains_key("x-ratelimit-remaining"));
    let exchange: serde_json::Value = response.json().await.unwrap();
    let question = &exchange["userMessage"];
    let answer = &exchange["assistantMessage"];
    assert_eq!(question["role"], "user");
    assert_eq!(question["content"], "How should I water my tomatoes?");
    assert_eq!(answer["role"], "assistant");
    assert_eq!(answer["status"], "complete");
    assert_eq!(answer["parentId"], question["id"]);

    // The best passage comes first, quoted verbatim from the corpus, cited as [1].
    let sources = answer["sources"].as_array().unwrap();
    assert_eq!(sources[0]["n"], 1);
    assert_eq!(sources[0]["title"], "Gardening › How do I water tomatoes?");
    assert_eq!(sources[0]["url"], "gardening.md");
    let text = answer["content"].as_str().unwrap();
    assert!(
        text.contains("Water tomatoes deeply twice a week"),
        "{text}"
    );
    assert!(text.contains("[1]"), "{text}");
    assert!(
        !sources
            .iter()
            .any(|s| s["title"].as_str().unwrap().contains("Bicycles")),
        "unrelated documents are not cited: {sources:?}"
    );

    // Stored for good, and the conversation titled by its first question.
    assert_eq!(count(&app.pool, "SELECT count(*) FROM message").await, 2);
    let title: Option<String> = sqlx::query_scalar("SELECT title FROM conversation")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(title.as_deref(), Some("How should I water my tomatoes?"));
}

#[sqlx::test(migrations = "../migrations")]
async fn the_built_in_agent_says_so_when_the_corpus_has_nothing(
    pool: PgPoolOptions,
    conn: PgConnectOptions,
) {
    let app = spawn_app(pool, conn).await;
    let s = app.sign_up(&unique_email("none")).await;
    let conversation = app.create_conversation(&s).await;
    let exchange = app
        .exchange(
            &s,
            &conversation,
            serde_json::json!({ "content": "quantum chromodynamics lattice" }),
        )
        .await;
    let answer = &exchange.assistant_message;
    assert!(answer.sources.is_empty());
    assert!(answer.content.starts_with("I could not find anything"));
}

#[sqlx::test(migrations = "../migrations")]
async fn an_answer_streams_as_numbered_server_sent_events(
    pool: PgPoolOptions,
    conn: PgConnectOptions,
) {
    let app = spawn_app(pool, conn).await;
    let s = app.sign_up(&unique_email("sse")).await;
    let conversation = app.create_conversation(&s).await;

    let response = app
        .ask_stream(
            &s,
            &conversation,
            serde_json::json!({ "content": "How often should I oil my bicycle chain?" }),
        )
        .await;
    assert_eq!(
        response.headers()["cache-control"],
        "no-cache, no-transform"
    );
    assert_eq!(response.headers()["x-accel-buffering"], "no");
    let events = read_sse(response).await;

    let names: Vec<&str> = events.iter().map(StreamEvent::name).collect();
    assert_eq!(names[0], "start");
    assert_eq!(names[1], "title");
    assert_eq!(*names.last().unwrap(), "finish");
    let first_delta = names.iter().position(|n| *n == "delta").unwrap();
    assert!(
        names[2..first_delta].iter().all(|n| *n == "source"),
        "{names:?}"
    );
    let StreamEvent::Start(start) = &events[0] else {
        unreachable!()
    };
    assert_eq!(start.conversation_id.to_string(), conversation);

    // What streamed is what was stored.
    let streamed = text_of(&events);
    assert!(
        streamed.contains("Oil the chain every 300 kilometres"),
        "{streamed}"
    );
    let stored: String = sqlx::query_scalar("SELECT content FROM message WHERE id = $1::uuid")
        .bind(start.message_id.as_uuid())
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(stored, streamed);
    let StreamEvent::Source(source) = &events[2] else {
        unreachable!()
    };
    assert_eq!(
        source.title,
        "Bicycles › How often should I oil my bicycle chain?"
    );
    assert_eq!(source.url.as_deref(), Some("guides/bicycles.md"));
}

#[sqlx::test(migrations = "../migrations")]
async fn messages_page_back_in_time(pool: PgPoolOptions, conn: PgConnectOptions) {
    let app = spawn_app(pool, conn).await;
    let s = app.sign_up(&unique_email("pages")).await;
    let conversation = app.create_conversation(&s).await;
    for i in 0..6 {
        let r = app
            .ask(
                &s,
                &conversation,
                serde_json::json!({ "content": format!("question {i} about roses") }),
            )
            .await;
        assert_eq!(r.status(), 201);
    }
    let mut pages = Vec::new();
    let mut before: Option<String> = None;
    loop {
        let url = match &before {
            Some(b) => format!("/api/conversations/{conversation}/messages?limit=5&before={b}"),
            None => format!("/api/conversations/{conversation}/messages?limit=5"),
        };
        let page: serde_json::Value = app
            .client
            .get(app.url(&url))
            .bearer_auth(&s.bearer)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let items: Vec<(String, String)> = page["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| {
                (
                    m["role"].as_str().unwrap().to_owned(),
                    m["content"].as_str().unwrap().to_owned(),
                )
            })
            .collect();
        pages.push(items);
        match page["nextCursor"].as_str() {
            Some(next) => before = Some(next.to_owned()),
            None => break,
        }
    }
    assert_eq!(pages.iter().map(Vec::len).collect::<Vec<_>>(), [5, 5, 2]);
    // The first page is the newest, each page reads oldest to newest.
    assert_eq!(pages[0].last().unwrap().0, "assistant");
    assert_eq!(pages[2][0].1, "question 0 about roses");
    let all: Vec<(String, String)> = pages.into_iter().rev().flatten().collect();
    let questions: Vec<&str> = all
        .iter()
        .filter(|(r, _)| r == "user")
        .map(|(_, c)| c.as_str())
        .collect();
    assert_eq!(
        questions,
        (0..6)
            .map(|i| format!("question {i} about roses"))
            .collect::<Vec<_>>()
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn a_retried_client_id_returns_the_stored_exchange(
    pool: PgPoolOptions,
    conn: PgConnectOptions,
) {
    let app = spawn_app(pool, conn).await;
    let s = app.sign_up(&unique_email("idem")).await;
    let conversation = app.create_conversation(&s).await;
    let body =
        serde_json::json!({ "content": "When should I prune roses?", "clientId": "tab-1:msg-7" });

    // Two at once (a double click), then a retry after the fact.
    let (a, b) = tokio::join!(
        app.ask(&s, &conversation, body.clone()),
        app.ask(&s, &conversation, body.clone())
    );
    let (a, b): (serde_json::Value, serde_json::Value) =
        (a.json().await.unwrap(), b.json().await.unwrap());
    let retry = app.ask(&s, &conversation, body.clone()).await;
    assert_eq!(retry.status(), 200, "a replay is not a new resource");
    let retry: serde_json::Value = retry.json().await.unwrap();

    assert_eq!(a["userMessage"]["id"], b["userMessage"]["id"]);
    assert_eq!(a["userMessage"]["id"], retry["userMessage"]["id"]);
    assert_eq!(retry["assistantMessage"]["status"], "complete");
    assert_eq!(
        count(
            &app.pool,
            "SELECT count(*) FROM message WHERE role = 'user'"
        )
        .await,
        1
    );
    assert_eq!(
        count(
            &app.pool,
            "SELECT count(*) FROM message WHERE role = 'assistant'"
        )
        .await,
        1
    );

    // Replayed as a stream too.
    let events = read_sse(app.ask_stream(&s, &conversation, body).await).await;
    assert_eq!(events.first().unwrap().name(), "start");
    assert_eq!(events.last().unwrap().name(), "finish");
    assert_eq!(
        text_of(&events),
        retry["assistantMessage"]["content"].as_str().unwrap()
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn fifty_concurrent_questions_store_exactly_fifty_exchanges(
    pool: PgPoolOptions,
    conn: PgConnectOptions,
) {
    // Enough slots and allowance for fifty at once from one user at one address (the defaults
    // would refuse some, on purpose: a quarter of the slots is kept for sources holding none).
    let app = spawn_app_with(
        pool,
        conn,
        &[
            ("MESSAGE_RATE_LIMIT", "1000"),
            ("MAX_STREAMS_PER_USER", "100"),
            ("MAX_STREAMS_PER_IP", "100"),
            ("AGENT_MAX_CONCURRENCY", "80"),
        ],
    )
    .await;
    let s = app.sign_up(&unique_email("fifty")).await;
    let conversation = app.create_conversation(&s).await;
    let asks = (0..50).map(|i| {
        app.ask(&s, &conversation, serde_json::json!({ "content": format!("tomato question {i}"), "clientId": format!("c{i}") }))
    });
    let statuses: Vec<u16> = futures_util::future::join_all(asks)
        .await
        .iter()
        .map(|r| r.status().as_u16())
        .collect();
    assert!(statuses.iter().all(|s| *s == 201), "{statuses:?}");
    assert_eq!(
        count(
            &app.pool,
            "SELECT count(*) FROM message WHERE role = 'user'"
        )
        .await,
        50
    );
    assert_eq!(
        count(
            &app.pool,
            "SELECT count(*) FROM message WHERE role = 'assistant' AND status = 'complete'"
        )
        .await,
        50
    );
    assert_eq!(
        count(
            &app.pool,
            "SELECT count(DISTINCT content) FROM message WHERE role = 'user'"
        )
        .await,
        50
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn regenerating_keeps_the_old_answer_as_a_sibling(
    pool: PgPoolOptions,
    conn: PgConnectOptions,
) {
    let app = spawn_app(pool, conn).await;
    let s = app.sign_up(&unique_email("regen")).await;
    let conversation = app.create_conversation(&s).await;
    let first = app
        .exchange(
            &s,
            &conversation,
            serde_json::json!({ "content": "How do I water tomatoes?" }),
        )
        .await;
    let old_answer = first.assistant_message.id.to_string();
    let old_answer = old_answer.as_str();

    let response = app
        .post(&format!(
            "/api/conversations/{conversation}/messages/{old_answer}/regenerate"
        ))
        .bearer_auth(&s.bearer)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    let second: shared::messages::Exchange = response.json().await.unwrap();
    let new_answer = &second.assistant_message;
    assert_ne!(new_answer.id.to_string(), old_answer);
    assert_eq!(
        new_answer.parent_id.as_ref(),
        Some(&first.user_message.id),
        "a sibling of the old answer"
    );
    assert_eq!(second.user_message.id, first.user_message.id);
    assert_eq!(
        count(
            &app.pool,
            "SELECT count(*) FROM message WHERE role = 'assistant'"
        )
        .await,
        2
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn bad_questions_are_refused_and_store_nothing(pool: PgPoolOptions, conn: PgConnectOptions) {
    let app = spawn_app_with(pool, conn, &[("MESSAGE_MAX_CHARS", "100")]).await;
    let s = app.sign_up(&unique_email("badq")).await;
    let conversation = app.create_conversation(&s).await;
    let other = app.create_conversation(&s).await;
    let elsewhere = app
        .exchange(&s, &other, serde_json::json!({ "content": "roses?" }))
        .await;
    let foreign_parent = elsewhere.user_message.id.to_string();
    let foreign_parent = foreign_parent.as_str();
    let before = count(&app.pool, "SELECT count(*) FROM message").await;

    let cases = [
        (
            serde_json::json!({ "content": "   " }),
            422,
            "VALIDATION_ERROR",
        ),
        (
            serde_json::json!({ "content": "nul \u{0} byte" }),
            422,
            "VALIDATION_ERROR",
        ),
        (
            serde_json::json!({ "content": "ok", "selectedText": "bell \u{7}" }),
            422,
            "VALIDATION_ERROR",
        ),
        (
            serde_json::json!({ "content": "x".repeat(101) }),
            413,
            "CONTENT_TOO_LONG",
        ),
        (
            serde_json::json!({ "content": "ok", "selectedText": "y".repeat(8001) }),
            413,
            "SELECTED_TEXT_TOO_LONG",
        ),
        (
            serde_json::json!({ "content": "ok", "clientId": "" }),
            422,
            "VALIDATION_ERROR",
        ),
        (
            serde_json::json!({ "content": "ok", "clientId": "z".repeat(101) }),
            422,
            "VALIDATION_ERROR",
        ),
        (
            serde_json::json!({ "content": "ok", "parentId": "not-a-uuid" }),
            400,
            "INVALID_ID",
        ),
        (
            serde_json::json!({ "content": "ok", "parentId": foreign_parent }),
            422,
            "VALIDATION_ERROR",
        ),
        (
            serde_json::json!({ "content": "ok", "role": "assistant" }),
            422,
            "VALIDATION_ERROR",
        ),
        (serde_json::json!({ "text": "ok" }), 422, "VALIDATION_ERROR"),
    ];
    for (body, status, code) in cases {
        let (got_status, got_code, message) =
            error_body(app.ask(&s, &conversation, body.clone()).await).await;
        assert_eq!(
            (got_status, got_code.as_str()),
            (status, code),
            "{body}: {message}"
        );
    }
    let (status, code, _) = error_body(
        app.ask(&s, "not-a-uuid", serde_json::json!({ "content": "ok" }))
            .await,
    )
    .await;
    assert_eq!((status, code.as_str()), (400, "INVALID_PATH"));
    let (status, _, _) = error_body(
        app.ask(
            &s,
            &uuid::Uuid::now_v7().to_string(),
            serde_json::json!({ "content": "ok" }),
        )
        .await,
    )
    .await;
    assert_eq!(status, 404);
    assert_eq!(
        count(&app.pool, "SELECT count(*) FROM message").await,
        before,
        "nothing stored"
    );
}
