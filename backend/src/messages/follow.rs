//! Following one answer as Server-Sent Events, from what is stored: a reloaded page, another
//! tab or another device reattaches to an answer being written and sees it to its end. It
//! reads the saved answer (saved every 250 ms while it is written), so it works on any
//! instance, whichever one is writing. Each event's id is the position it leaves the reader
//! at, `{characters}.{sources}`; `Last-Event-ID` resumes from one.

use std::convert::Infallible;
use std::time::Duration;

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, get, web};
use futures_util::StreamExt as _;
use shared::ErrorBody;
use shared::messages::{MessageStatus, Source};
use shared::stream::{DeltaEvent, FinishEvent, StartEvent, StreamEvent};
use shared::{ConversationId, MessageId, UserId};
use sqlx::PgPool;
use tokio::time::Instant;

use super::followers::Following;
use super::store::{self, Progress};
use crate::auth::AuthUser;
use crate::db::{begin_for_user, is_unavailable};
use crate::error::ApiError;
use crate::state::AppState;

/// How often the stored answer is read while it is being written: about its save interval.
const POLL_EVERY: Duration = Duration::from_millis(200);
/// How often the abandoned-answer sweep runs for a followed answer, so a follower of an answer
/// whose server crashed is told so instead of waiting forever.
const SWEEP_EVERY: Duration = Duration::from_secs(15);

/// Where a reader is in an answer: characters of text and sources seen.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Position {
    pub chars: i64,
    pub sources: i32,
}

impl Position {
    /// `Last-Event-ID` as this route writes it; anything else starts from the beginning.
    pub fn parse(id: &str) -> Self {
        let mut parts = id.trim().splitn(2, '.');
        let chars = parts.next().and_then(|c| c.parse::<i64>().ok());
        let sources = parts.next().and_then(|s| s.parse::<i32>().ok());
        match (chars, sources) {
            (Some(chars), Some(sources)) if chars >= 0 && sources >= 0 => Self { chars, sources },
            _ => Self::default(),
        }
    }

    fn id(self) -> String {
        format!("{}.{}", self.chars, self.sources)
    }
}

/// Follow an answer: `start`, then the sources and text after `Last-Event-ID` (all of them
/// without one), then what is added as it is written, until `finish` or `error`. A finished
/// answer replays and ends at once.
#[utoipa::path(
    tag = "messages",
    params(
        ("id" = Uuid, Path, description = "Conversation id"),
        ("mid" = Uuid, Path, description = "The answer's message id"),
        ("Last-Event-ID" = Option<String>, Header, description = "`{characters}.{sources}`: the id of the last event seen"),
    ),
    responses(
        (status = 200, description = "SSE stream (`text/event-stream`): `start`, `source`, `delta`, then `finish` or `error`; each event's id is the position after it"),
        (status = 400, description = "Malformed id", body = shared::ErrorBody),
        (status = 404, description = "No such answer in this conversation", body = shared::ErrorBody),
        (status = 429, description = "`TOO_MANY_FOLLOWERS`: the caller follows `MAX_FOLLOWERS_PER_USER` answers already, or this instance `MAX_FOLLOWERS`", body = shared::ErrorBody),
    )
)]
#[get("/conversations/{id}/messages/{mid}/events")]
pub(super) async fn follow_answer(
    user: AuthUser,
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<(ConversationId, MessageId)>,
) -> Result<HttpResponse, ApiError> {
    let (conversation_id, message_id) = path.into_inner();
    let from = req
        .headers()
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .map(Position::parse)
        .unwrap_or_default();
    let following = state.chat.followers.admit(&user.id)?;
    let mut tx = begin_for_user(&state.pool, &user.id).await?;
    store::expire_abandoned(&mut tx, &user.id, conversation_id).await?;
    let answer = store::get(&mut tx, &user.id, conversation_id, message_id)
        .await?
        .filter(|m| m.role == shared::messages::Role::Assistant)
        .ok_or_else(|| ApiError::NotFound("No such answer in this conversation.".to_owned()))?;
    tx.commit().await?;

    let start = StreamEvent::Start(StartEvent {
        message_id: answer.id,
        user_message_id: answer.parent_id,
        conversation_id,
    });
    let follower = Follower {
        pool: state.pool.clone(),
        user_id: user.id.clone(),
        conversation_id,
        message_id,
        at: from,
        keep_alive: Duration::from_secs(state.settings.chat.keep_alive_secs),
        swept_at: Instant::now(),
        _following: following,
    };
    let first = web::Bytes::from(start.to_sse_unnumbered());
    let body = futures_util::stream::once(async move { Ok::<_, Infallible>(first) }).chain(
        futures_util::stream::unfold(Some(follower), |follower| async move {
            let mut follower = follower?;
            let (bytes, done) = follower.next().await;
            Some((Ok(bytes), (!done).then_some(follower)))
        }),
    );
    Ok(HttpResponse::Ok()
        .content_type("text/event-stream")
        .insert_header((header::CACHE_CONTROL, "no-cache, no-transform"))
        .insert_header(("x-accel-buffering", "no"))
        .streaming(body))
}

struct Follower {
    pool: PgPool,
    user_id: UserId,
    conversation_id: ConversationId,
    message_id: MessageId,
    at: Position,
    keep_alive: Duration,
    swept_at: Instant,
    /// Counts this stream among the followers until it is dropped.
    _following: Following,
}

impl Follower {
    /// The next bytes to send, and whether the stream ends after them. Waits until the answer
    /// grows or ends (a keep-alive comment when it stays quiet).
    async fn next(&mut self) -> (web::Bytes, bool) {
        let quiet_until = Instant::now() + self.keep_alive;
        loop {
            match self.read().await {
                Ok(Some(progress)) => {
                    let (frames, done) = self.frames(progress);
                    if !frames.is_empty() || done {
                        return (web::Bytes::from(frames), done);
                    }
                }
                Ok(None) => {
                    let gone = StreamEvent::Error(ErrorBody {
                        code: "NOT_FOUND".to_owned(),
                        message: "This answer no longer exists.".to_owned(),
                    });
                    return (web::Bytes::from(gone.to_sse(self.at.id())), true);
                }
                // The database away for a moment: say nothing and try again at the next poll.
                Err(e) if is_unavailable(&e) => tracing::warn!(
                    error = crate::telemetry::chain(&e),
                    "reading a followed answer failed; retrying"
                ),
                // Anything else will fail the same way at every poll: end the stream.
                Err(e) => {
                    tracing::error!(
                        error = crate::telemetry::chain(&e),
                        "reading a followed answer failed; the stream ends"
                    );
                    let failed = StreamEvent::Error(ErrorBody {
                        code: "INTERNAL_ERROR".to_owned(),
                        message: "This answer cannot be followed right now; reload to try again."
                            .to_owned(),
                    });
                    return (web::Bytes::from(failed.to_sse(self.at.id())), true);
                }
            }
            if Instant::now() >= quiet_until {
                return (web::Bytes::from_static(b": keep-alive\n\n"), false);
            }
            tokio::time::sleep(POLL_EVERY).await;
        }
    }

    async fn read(&mut self) -> sqlx::Result<Option<Progress>> {
        let mut tx = begin_for_user(&self.pool, &self.user_id).await?;
        if self.swept_at.elapsed() >= SWEEP_EVERY {
            self.swept_at = Instant::now();
            store::expire_abandoned(&mut tx, &self.user_id, self.conversation_id).await?;
        }
        let progress = store::progress(
            &mut tx,
            &self.user_id,
            self.conversation_id,
            self.message_id,
            self.at.chars,
            self.at.sources,
        )
        .await?;
        tx.commit().await?;
        Ok(progress)
    }

    /// The events for what is new in `p`, moving the position past them.
    fn frames(&mut self, p: Progress) -> (String, bool) {
        let mut out = String::new();
        // A position past the end (a made-up `Last-Event-ID`) is the end.
        self.at.chars = self.at.chars.min(p.chars);
        self.at.sources = self.at.sources.min(p.source_count);
        if let Some(sources) = p.sources {
            let sources: Vec<Source> = serde_json::from_value(sources).unwrap_or_default();
            for source in sources.into_iter().skip(self.at.sources.max(0) as usize) {
                self.at.sources += 1;
                out.push_str(&StreamEvent::Source(source).to_sse(self.at.id()));
            }
        }
        if p.chars > self.at.chars && !p.tail.is_empty() {
            self.at.chars = p.chars;
            out.push_str(&StreamEvent::Delta(DeltaEvent { text: p.tail }).to_sse(self.at.id()));
        }
        let end = match p.status {
            MessageStatus::Streaming => return (out, false),
            MessageStatus::Error => StreamEvent::Error(ErrorBody {
                code: "AGENT_ERROR".to_owned(),
                message: p.error.unwrap_or_default(),
            }),
            MessageStatus::Complete | MessageStatus::Stopped => StreamEvent::Finish(FinishEvent {
                finish_reason: p.finish_reason.unwrap_or_else(|| "stop".to_owned()),
                usage: p.usage.and_then(|u| serde_json::from_value(u).ok()),
            }),
        };
        out.push_str(&end.to_sse(self.at.id()));
        (out, true)
    }
}

#[cfg(test)]
mod tests {
    use super::Position;

    #[test]
    fn last_event_id_is_read_back_or_means_the_beginning() {
        let at = Position {
            chars: 1200,
            sources: 3,
        };
        assert_eq!(Position::parse(&at.id()), at);
        for garbled in ["", "12", "x.y", "-1.0", "1.-2", "1.2.3"] {
            assert_eq!(Position::parse(garbled), Position::default(), "{garbled:?}");
        }
    }
}
