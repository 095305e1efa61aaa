//! Answers that outlive their client, and following one from what is stored
//! (`GET .../messages/{mid}/events`): from another connection while the first still reads,
//! after the first has gone, from a `Last-Event-ID`, and once it has ended.

use std::time::Duration;

use shared::stream::{SseParser, StreamEvent};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

use super::endings::app_with_upstream;
use super::{message_id_of_start, text_of, wait_for_status_within};
use crate::helpers::{SseReader, TestApp, TestSession, unique_email};

/// The slow fake answer: 200 ticks, 50 ms apart.
const SLOW_ANSWER: &str = "tick ";
const WHOLE: Duration = Duration::from_secs(30);

/// A followed answer read frame by frame, keeping each frame's id.
struct Follow {
    response: reqwest::Response,
    parser: SseParser,
    queue: std::collections::VecDeque<(Option<String>, StreamEvent)>,
}

impl Follow {
    async fn open(
        app: &TestApp,
        s: &TestSession,
        conversation: &str,
        answer: &str,
        last_event_id: Option<&str>,
    ) -> Self {
        let mut request = app
            .client
            .get(app.url(&format!(
                "/api/conversations/{conversation}/messages/{answer}/events"
            )))
            .bearer_auth(&s.bearer);
        if let Some(id) = last_event_id {
            request = request.header("last-event-id", id);
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(response.headers()["content-type"], "text/event-stream");
        Self {
            response,
            parser: SseParser::new(),
            queue: Default::default(),
        }
    }

    async fn next(&mut self) -> Option<(Option<String>, StreamEvent)> {
        loop {
            if let Some(item) = self.queue.pop_front() {
                return Some(item);
            }
            let chunk = self.response.chunk().await.expect("the stream reads")?;
            for frame in self.parser.push(&chunk) {
                if let Some(event) = StreamEvent::from_frame(&frame) {
                    self.queue.push_back((frame.id.clone(), event.unwrap()));
                }
            }
        }
    }

    /// Everything to the end: the events, and the id of the last one that had an id.
    async fn rest(mut self) -> (Vec<StreamEvent>, Option<String>) {
        let (mut events, mut last_id) = (Vec::new(), None);
        while let Some((id, event)) = self.next().await {
            last_id = id.or(last_id);
            events.push(event);
        }
        (events, last_id)
    }
}

async fn start_slow(app: &TestApp, s: &TestSession, conversation: &str) -> (SseReader, String) {
    let mut live = SseReader::new(
        app.ask_stream(
            s,
            conversation,
            serde_json::json!({ "content": "Count slowly" }),
        )
        .await,
    );
    let id = message_id_of_start(&live.next().await.unwrap());
    while !matches!(live.next().await, Some(StreamEvent::Delta(_))) {}
    (live, id)
}

fn finish_reason(events: &[StreamEvent]) -> String {
    match events.last() {
        Some(StreamEvent::Finish(f)) => f.finish_reason.clone(),
        other => panic!("the stream did not end with finish: {other:?}"),
    }
}

#[sqlx::test(migrations = "../migrations")]
async fn an_answer_whose_client_leaves_is_written_to_its_end(
    pool: PgPoolOptions,
    conn: PgConnectOptions,
) {
    let (app, _llm, s, conversation) = app_with_upstream(pool, conn, "slow", &[]).await;
    let (live, id) = start_slow(&app, &s, &conversation).await;
    drop(live);

    let content = wait_for_status_within(&app.pool, &id, "complete", WHOLE).await;
    assert_eq!(content, SLOW_ANSWER.repeat(200));
}

#[sqlx::test(migrations = "../migrations")]
async fn a_second_reader_follows_a_live_answer_to_the_same_end(
    pool: PgPoolOptions,
    conn: PgConnectOptions,
) {
    let (app, _llm, s, conversation) = app_with_upstream(pool, conn, "slow", &[]).await;
    let (mut live, id) = start_slow(&app, &s, &conversation).await;
    let follow = Follow::open(&app, &s, &conversation, &id, None).await;

    let (followed, followed_last) = tokio::join!(follow.rest(), async {
        let mut events = Vec::new();
        while let Some(e) = live.next().await {
            events.push(e);
        }
        events
    });
    let (events, last_id) = followed;
    assert!(
        matches!(events.first(), Some(StreamEvent::Start(start)) if start.message_id.to_string() == id)
    );
    assert_eq!(finish_reason(&events), "stop");
    assert_eq!(finish_reason(&followed_last), "stop");
    // Several deltas: the follower saw the answer grow, not only its end.
    let deltas = events
        .iter()
        .filter(|e| matches!(e, StreamEvent::Delta(_)))
        .count();
    assert!(deltas > 1, "{deltas} deltas");
    let whole = SLOW_ANSWER.repeat(200);
    assert_eq!(text_of(&events), whole);
    assert_eq!(
        last_id.as_deref(),
        Some("1000.0"),
        "the last id is the end position"
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn last_event_id_resumes_where_the_reader_left_off(
    pool: PgPoolOptions,
    conn: PgConnectOptions,
) {
    let (app, _llm, s, conversation) = app_with_upstream(pool, conn, "slow", &[]).await;
    let (live, id) = start_slow(&app, &s, &conversation).await;
    drop(live);

    // Read a little, then leave as a lost network would.
    let mut first = Follow::open(&app, &s, &conversation, &id, None).await;
    let (mut seen, mut position) = (String::new(), None);
    while seen.len() < 10 {
        if let Some((frame_id, StreamEvent::Delta(d))) = first.next().await {
            seen.push_str(&d.text);
            position = frame_id;
        }
    }
    drop(first);
    let position = position.expect("deltas carry their position");
    assert_eq!(position, format!("{}.0", seen.chars().count()));

    let (events, _) = Follow::open(&app, &s, &conversation, &id, Some(&position))
        .await
        .rest()
        .await;
    assert_eq!(finish_reason(&events), "stop");
    assert_eq!(
        format!("{seen}{}", text_of(&events)),
        SLOW_ANSWER.repeat(200)
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn a_finished_answer_replays_at_once_with_its_sources(
    pool: PgPoolOptions,
    conn: PgConnectOptions,
) {
    let app = crate::helpers::spawn_app(pool, conn).await;
    let s = app.sign_up(&unique_email("replay")).await;
    let conversation = app.create_conversation(&s).await;
    let exchange = app
        .exchange(
            &s,
            &conversation,
            serde_json::json!({ "content": "How should I water my tomatoes?" }),
        )
        .await;
    let answer = &exchange.assistant_message;
    assert!(!answer.sources.is_empty());

    let (events, last_id) = Follow::open(&app, &s, &conversation, &answer.id.to_string(), None)
        .await
        .rest()
        .await;
    let sources: Vec<_> = events
        .iter()
        .filter_map(|e| match e {
            StreamEvent::Source(source) => Some(source.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(sources, answer.sources);
    assert_eq!(text_of(&events), answer.content);
    assert_eq!(finish_reason(&events), "stop");
    assert_eq!(
        last_id,
        Some(format!(
            "{}.{}",
            answer.content.chars().count(),
            answer.sources.len()
        ))
    );

    // From its end: no text again, only the ending. A garbled id replays it all.
    let (events, _) = Follow::open(
        &app,
        &s,
        &conversation,
        &answer.id.to_string(),
        last_id.as_deref(),
    )
    .await
    .rest()
    .await;
    assert_eq!(events.len(), 2, "{events:?}");
    assert_eq!(finish_reason(&events), "stop");
    let (events, _) = Follow::open(&app, &s, &conversation, &answer.id.to_string(), Some("x.y"))
        .await
        .rest()
        .await;
    assert_eq!(text_of(&events), answer.content);
}

#[sqlx::test(migrations = "../migrations")]
async fn a_followed_answer_stopped_elsewhere_ends_stopped(
    pool: PgPoolOptions,
    conn: PgConnectOptions,
) {
    let (app, _llm, s, conversation) = app_with_upstream(pool, conn, "slow", &[]).await;
    let (live, id) = start_slow(&app, &s, &conversation).await;
    drop(live);
    let follow = Follow::open(&app, &s, &conversation, &id, None).await;
    let stopped = app.stop(&s, &conversation, &id).await;
    assert_eq!(stopped.status(), 200);
    let stopped: serde_json::Value = stopped.json().await.unwrap();
    let (events, _) = follow.rest().await;
    assert_eq!(finish_reason(&events), "stopped");
    assert_eq!(text_of(&events), stopped["content"].as_str().unwrap());
}

#[sqlx::test(migrations = "../migrations")]
async fn only_answers_of_the_callers_conversation_can_be_followed(
    pool: PgPoolOptions,
    conn: PgConnectOptions,
) {
    let app = crate::helpers::spawn_app(pool, conn).await;
    let alice = app.sign_up(&unique_email("alice")).await;
    let bob = app.sign_up(&unique_email("bob")).await;
    let conversation = app.create_conversation(&alice).await;
    let exchange = app
        .exchange(
            &alice,
            &conversation,
            serde_json::json!({ "content": "Hello" }),
        )
        .await;
    let events = |s: &TestSession, message: &str| {
        let url = app.url(&format!(
            "/api/conversations/{conversation}/messages/{message}/events"
        ));
        app.client.get(url).bearer_auth(s.bearer.clone()).send()
    };
    let (answer, question) = (
        exchange.assistant_message.id.to_string(),
        exchange.user_message.id.to_string(),
    );
    let (answer, question) = (answer.as_str(), question.as_str());
    assert_eq!(events(&bob, answer).await.unwrap().status(), 404);
    assert_eq!(events(&alice, question).await.unwrap().status(), 404);
    let garbled = events(&alice, "not-an-id").await.unwrap();
    assert_eq!(garbled.status(), 400);
    let body: serde_json::Value = garbled.json().await.unwrap();
    assert!(body["code"].is_string() && body["message"].is_string());
}

#[sqlx::test(migrations = "../migrations")]
async fn a_position_past_the_end_ends_at_once_instead_of_polling_for_ever(
    pool: PgPoolOptions,
    conn: PgConnectOptions,
) {
    let app = crate::helpers::spawn_app(pool, conn).await;
    let s = app.sign_up(&unique_email("past-end")).await;
    let conversation = app.create_conversation(&s).await;
    let answer = app
        .exchange(&s, &conversation, serde_json::json!({ "content": "Hello" }))
        .await
        .assistant_message;
    let end = format!(
        "{}.{}",
        answer.content.chars().count(),
        answer.sources.len()
    );
    // Before the fix, the first overflowed PostgreSQL's int4 and the stream retried every
    // 200 ms for ever; here each must end on its own, with the answer's end.
    for made_up in [
        "2147483647.0",
        "9223372036854775807.2147483647",
        "4294967296.5",
    ] {
        let follow = Follow::open(
            &app,
            &s,
            &conversation,
            &answer.id.to_string(),
            Some(made_up),
        )
        .await;
        let (events, last_id) = tokio::time::timeout(WHOLE, follow.rest())
            .await
            .unwrap_or_else(|_| panic!("following from {made_up} never ended"));
        assert_eq!(text_of(&events), "", "no text past the end: {events:?}");
        assert_eq!(finish_reason(&events), "stop");
        assert_eq!(last_id.as_deref(), Some(end.as_str()), "clamped to the end");
    }
}

#[sqlx::test(migrations = "../migrations")]
async fn a_follow_that_fails_for_another_reason_than_the_database_being_away_ends_with_an_error(
    pool: PgPoolOptions,
    conn: PgConnectOptions,
) {
    let (app, _llm, s, conversation) = app_with_upstream(pool, conn, "slow", &[]).await;
    let (live, id) = start_slow(&app, &s, &conversation).await;
    drop(live);
    let mut follow = Follow::open(&app, &s, &conversation, &id, None).await;
    while !matches!(follow.next().await, Some((_, StreamEvent::Delta(_)))) {}
    // The server's roles lose the right to read messages: every poll would fail the same way.
    sqlx::query("REVOKE SELECT ON message FROM chatkeep_app, chatkeep_search")
        .execute(&app.pool)
        .await
        .unwrap();
    let (events, _) = tokio::time::timeout(WHOLE, follow.rest())
        .await
        .expect("the follow ends instead of retrying for ever");
    sqlx::query("GRANT SELECT ON message TO chatkeep_app, chatkeep_search")
        .execute(&app.pool)
        .await
        .unwrap();
    match events.last() {
        Some(StreamEvent::Error(e)) => assert_eq!(e.code, "INTERNAL_ERROR"),
        other => panic!("the stream did not end with an error event: {other:?}"),
    }
}

#[sqlx::test(migrations = "../migrations")]
async fn followers_are_capped_per_user_and_per_instance(
    pool: PgPoolOptions,
    conn: PgConnectOptions,
) {
    let (app, _llm, alice, conversation) = app_with_upstream(
        pool,
        conn,
        "slow",
        &[("MAX_FOLLOWERS_PER_USER", "2"), ("MAX_FOLLOWERS", "3")],
    )
    .await;
    let (live, id) = start_slow(&app, &alice, &conversation).await;
    drop(live);
    let url = app.url(&format!(
        "/api/conversations/{conversation}/messages/{id}/events"
    ));
    let follow = |s: &TestSession| app.client.get(&url).bearer_auth(s.bearer.clone()).send();
    let first = Follow::open(&app, &alice, &conversation, &id, None).await;
    let _second = Follow::open(&app, &alice, &conversation, &id, None).await;
    let third = follow(&alice).await.unwrap();
    assert_eq!(third.status(), 429);
    let body: serde_json::Value = third.json().await.unwrap();
    assert_eq!(body["code"], "TOO_MANY_FOLLOWERS");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("MAX_FOLLOWERS_PER_USER"),
        "{body}"
    );

    // Bob may not read Alice's answer, but he takes the instance's last follower slot with one
    // of his own; then the instance is full for him too.
    let bob = app.sign_up(&unique_email("bob")).await;
    let bobs = app.create_conversation(&bob).await;
    let (bob_live, bob_answer) = start_slow(&app, &bob, &bobs).await;
    drop(bob_live);
    let _bob_follows = Follow::open(&app, &bob, &bobs, &bob_answer, None).await;
    let full = app
        .client
        .get(app.url(&format!(
            "/api/conversations/{bobs}/messages/{bob_answer}/events"
        )))
        .bearer_auth(&bob.bearer)
        .send()
        .await
        .unwrap();
    assert_eq!(full.status(), 429);
    let body: serde_json::Value = full.json().await.unwrap();
    assert!(
        body["message"].as_str().unwrap().contains("MAX_FOLLOWERS"),
        "{body}"
    );

    // A follower that leaves frees its place (once the server notices, at its next write).
    drop(first);
    let mut again = None;
    for _ in 0..200 {
        let response = follow(&alice).await.unwrap();
        if response.status() == 200 {
            again = Some(response);
            break;
        }
        assert_eq!(response.status(), 429);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(again.is_some(), "the place a follower left is never freed");
}
