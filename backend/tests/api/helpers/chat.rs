//! Conversations and questions as a test user, and answer streams read frame by frame.

use shared::messages::Exchange;
use shared::stream::{SseParser, StreamEvent};

use super::{TestApp, TestSession, unique_email};

impl TestApp {
    /// A new conversation of `session`'s user; returns its id.
    pub async fn create_conversation(&self, session: &TestSession) -> String {
        let response = self
            .post("/api/conversations")
            .bearer_auth(&session.bearer)
            .send()
            .await
            .expect("request is sent");
        assert_eq!(response.status(), 201);
        response
            .json::<shared::conversations::Conversation>()
            .await
            .unwrap()
            .id
            .to_string()
    }

    /// `POST .../messages` as JSON.
    pub async fn ask(
        &self,
        session: &TestSession,
        conversation: &str,
        body: serde_json::Value,
    ) -> reqwest::Response {
        self.post(&format!("/api/conversations/{conversation}/messages"))
            .bearer_auth(&session.bearer)
            .json(&body)
            .send()
            .await
            .expect("request is sent")
    }

    /// `POST .../messages` as JSON, expecting success; the stored exchange.
    pub async fn exchange(
        &self,
        session: &TestSession,
        conversation: &str,
        body: serde_json::Value,
    ) -> Exchange {
        let response = self.ask(session, conversation, body).await;
        assert!(
            response.status().is_success(),
            "asking failed: {}",
            response.status()
        );
        response.json().await.unwrap()
    }

    /// `POST .../messages/{answer}/stop`.
    pub async fn stop(
        &self,
        session: &TestSession,
        conversation: &str,
        answer: &str,
    ) -> reqwest::Response {
        self.post(&format!(
            "/api/conversations/{conversation}/messages/{answer}/stop"
        ))
        .bearer_auth(&session.bearer)
        .send()
        .await
        .expect("request is sent")
    }

    /// `POST .../messages` asking for Server-Sent Events.
    pub async fn ask_stream(
        &self,
        session: &TestSession,
        conversation: &str,
        body: serde_json::Value,
    ) -> reqwest::Response {
        self.post(&format!("/api/conversations/{conversation}/messages"))
            .bearer_auth(&session.bearer)
            .header("accept", "text/event-stream")
            .json(&body)
            .send()
            .await
            .expect("request is sent")
    }
}

/// Reads an answer stream to its end, checking the frames are numbered 1, 2, 3, ...
pub async fn read_sse(response: reqwest::Response) -> Vec<StreamEvent> {
    let mut reader = SseReader::new(response);
    let mut events = Vec::new();
    while let Some(event) = reader.next().await {
        events.push(event);
    }
    events
}

/// An answer stream read frame by frame (to stop or leave half-way).
pub struct SseReader {
    response: reqwest::Response,
    parser: SseParser,
    queue: std::collections::VecDeque<StreamEvent>,
    /// `None` for a follower, whose event ids are positions (`{chars}.{sources}`), not counts.
    last_id: Option<u64>,
}

impl SseReader {
    /// An answer's own stream, whose frames are numbered 1, 2, 3…
    pub fn new(response: reqwest::Response) -> Self {
        Self::reading(response, Some(0))
    }

    /// A follower's stream (`GET …/messages/{mid}/events`).
    pub fn following(response: reqwest::Response) -> Self {
        Self::reading(response, None)
    }

    fn reading(response: reqwest::Response, last_id: Option<u64>) -> Self {
        assert_eq!(response.status(), 200);
        assert_eq!(response.headers()["content-type"], "text/event-stream");
        Self {
            response,
            parser: SseParser::new(),
            queue: Default::default(),
            last_id,
        }
    }

    pub async fn next(&mut self) -> Option<StreamEvent> {
        loop {
            if let Some(event) = self.queue.pop_front() {
                return Some(event);
            }
            let chunk = self.response.chunk().await.expect("the stream reads")?;
            for frame in self.parser.push(&chunk) {
                if let Some(last) = &mut self.last_id {
                    let id: u64 = frame.id.as_deref().unwrap().parse().unwrap();
                    assert_eq!(id, *last + 1, "frames are numbered in order");
                    *last = id;
                }
                self.queue
                    .push_back(StreamEvent::from_frame(&frame).unwrap().unwrap());
            }
        }
    }
}

/// A user's chat rows, as the owner sees them: the state no foreign call may change.
pub async fn chat_snapshot(app: &TestApp, user_id: &str) -> String {
    sqlx::query_scalar::<_, String>(
        "SELECT coalesce(json_agg(t ORDER BY t.id)::text, '') FROM (
             SELECT id::text, title, pinned, archived_at::text, last_message_at::text, updated_at::text,
                    NULL AS content, NULL AS status
               FROM conversation WHERE user_id = $1
             UNION ALL
             SELECT id::text, NULL, NULL, NULL, NULL, updated_at::text, content, status
               FROM message WHERE user_id = $1) t",
    )
    .bind(user_id)
    .fetch_one(&app.pool)
    .await
    .unwrap()
}

pub async fn alice_with_history(app: &TestApp) -> (TestSession, String, String, String) {
    let alice = app.sign_up(&unique_email("alice")).await;
    let conversation = app.create_conversation(&alice).await;
    let exchange = app
        .exchange(
            &alice,
            &conversation,
            serde_json::json!({ "content": "How do I water tomatoes?" }),
        )
        .await;
    (
        alice,
        conversation,
        exchange.user_message.id.to_string(),
        exchange.assistant_message.id.to_string(),
    )
}
