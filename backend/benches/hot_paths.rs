//! The CPU work on the hot paths besides authentication (see benches/auth.rs): keyset cursors,
//! one SSE frame of a streamed answer, and a page of 50 messages written as the API's JSON and
//! as the Markdown export.
//!
//! `cargo bench -p chatkeep --bench hot_paths` (release profile). Numbers go in bench/README.md.

use std::hint::black_box;

use chatkeep::account::export::markdown;
use chatkeep::account::export::store::ConversationRow;
use chatkeep::cursor::Cursor;
use chatkeep::messages::store::MessageRow;
use chrono::{Duration, Utc};
use criterion::{Criterion, criterion_group, criterion_main};
use shared::messages::{Message, MessagePage, MessageStatus, Role};
use shared::stream::{DeltaEvent, StreamEvent};
use shared::{ConversationId, MessageId};
use uuid::Uuid;

/// A conversation of 50 messages, questions and answers alternating on one branch; each answer
/// has Markdown, a code block and two sources, like `chatkeep seed`'s.
fn conversation() -> (ConversationRow, Vec<MessageRow>) {
    let start = Utc::now() - Duration::hours(1);
    let conversation = ConversationRow {
        id: Uuid::now_v7(),
        title: Some("How do I install Chatkeep behind nginx?".into()),
        pinned: false,
        archived_at: None,
        created_at: start,
        updated_at: start,
        last_message_at: start,
        active_message_id: None,
        import_source: None,
        import_key: None,
    };
    let mut parent = None;
    let messages = (0..50)
        .map(|i| {
            let id = MessageId::new(Uuid::now_v7());
            let question = i % 2 == 0;
            let at = start + Duration::seconds(i);
            let row = MessageRow {
                id,
                conversation_id: ConversationId::new(conversation.id),
                parent_id: parent,
                role: if question { Role::User } else { Role::Assistant },
                content: if question {
                    format!("How do I set the cookie header for retry number {i}?")
                } else {
                    "Set `BETTER_AUTH_URL` to the public origin [1]. Then:\n\n- restart the \
                     server\n- check `/readyz`\n\n```sh\ncurl -sf http://127.0.0.1:8080/readyz\n\
                     ```\n\nThe proxy must pass `X-Forwarded-For` [2]."
                        .repeat(3)
                },
                selected_text: None,
                sources: if question {
                    serde_json::json!([])
                } else {
                    serde_json::json!([
                        {"n": 1, "title": "Configuration", "url": "https://example.com/config", "snippet": "BETTER_AUTH_URL is the public origin."},
                        {"n": 2, "title": "Deploying", "url": null, "snippet": "Behind a proxy, set CHATKEEP_TRUSTED_PROXIES."}
                    ])
                },
                status: MessageStatus::Complete,
                finish_reason: (!question).then(|| "stop".into()),
                error: None,
                usage: None,
                client_id: question.then(|| format!("client-{i}")),
                created_at: at,
                updated_at: at,
                feedback: None,
            };
            parent = Some(id);
            row
        })
        .collect();
    (conversation, messages)
}

fn benches(c: &mut Criterion) {
    let cursor = Cursor {
        at: Utc::now(),
        id: Uuid::now_v7(),
    };
    let encoded = cursor.encode();
    c.bench_function("cursor_encode", |b| b.iter(|| black_box(&cursor).encode()));
    c.bench_function("cursor_decode", |b| {
        b.iter(|| Cursor::decode(black_box(&encoded)).expect("valid"))
    });

    let delta = StreamEvent::Delta(DeltaEvent {
        text: "Set `BETTER_AUTH_URL` to the public origin \"https://chat.example.com\" ".into(),
    });
    c.bench_function("sse_delta_frame", |b| {
        b.iter(|| black_box(&delta).to_sse(black_box(42u64)))
    });

    let (conversation, rows) = conversation();
    c.bench_function("message_page_50_json", |b| {
        b.iter(|| {
            let page = MessagePage {
                items: black_box(&rows).iter().map(Message::from).collect(),
                next_cursor: Some(encoded.clone()),
                active_message_id: None,
                active_path: Vec::new(),
            };
            serde_json::to_vec(&page).expect("serialises")
        })
    });
    let now = Utc::now();
    c.bench_function("message_page_50_markdown", |b| {
        b.iter(|| markdown::transcript(black_box(&conversation), black_box(&rows), now))
    });
}

criterion_group!(hot_paths, benches);
criterion_main!(hot_paths);
