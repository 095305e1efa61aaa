use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use serde::Deserialize;
use shared::ErrorBody;
use shared::messages::{Exchange, Message, MessagePage, PostMessage};
use shared::stream::{DeltaEvent, FinishEvent, StartEvent, StreamEvent};
use sqlx::PgConnection;
use tokio::sync::mpsc;
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use super::admission::Admitted;
use super::generate::{self, Job};
use super::quota;
use super::store::{self, InsertError, MessageRow, NewQuestion};
use crate::agent::{AgentRequest, Turn};
use crate::auth::AuthUser;
use crate::conversations::store as conversations;
use crate::cursor::{self, Cursor};
use crate::db::begin_for_user;
use crate::error::ApiError;
use crate::startup::AppState;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(list_messages)
        .service(post_message)
        .service(stop_message)
        .service(regenerate_message);
}

const DEFAULT_PAGE: u32 = 50;
const MAX_PAGE: u32 = 200;
const MAX_SELECTED_CHARS: usize = 8_000;
const MAX_CLIENT_ID_CHARS: usize = 100;
/// How long a stop request waits for the answer's final save before answering.
const STOP_WAIT: Duration = Duration::from_secs(3);

fn conversation_not_found() -> ApiError {
    ApiError::NotFound("No such conversation.".to_owned())
}

fn message_not_found() -> ApiError {
    ApiError::NotFound("No such message in this conversation.".to_owned())
}

/// A question as stored: parsed and checked once, here.
struct Question {
    content: String,
    selected_text: Option<String>,
    parent_id: Option<Uuid>,
    client_id: Option<String>,
}

/// Text as PostgreSQL can store it and people can read it: control characters other than line
/// breaks and tabs (NUL above all, which `text` cannot hold) are refused.
fn check_text(field: &str, text: &str) -> Result<(), ApiError> {
    if text
        .chars()
        .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
    {
        return Err(ApiError::validation(format!(
            "{field} must not contain control characters"
        )));
    }
    Ok(())
}

impl Question {
    fn parse(body: PostMessage, max_chars: usize) -> Result<Self, ApiError> {
        let content = body.content.trim().to_owned();
        check_text("content", &content)?;
        if content.is_empty() {
            return Err(ApiError::validation("content must not be empty"));
        }
        let chars = content.chars().count();
        if chars > max_chars {
            return Err(ApiError::TooLarge {
                code: "CONTENT_TOO_LONG",
                message: format!("content is {chars} characters; the limit is {max_chars}"),
            });
        }
        let selected_text = body
            .selected_text
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty());
        if let Some(selected) = &selected_text {
            check_text("selectedText", selected)?;
            let chars = selected.chars().count();
            if chars > MAX_SELECTED_CHARS {
                return Err(ApiError::TooLarge {
                    code: "SELECTED_TEXT_TOO_LONG",
                    message: format!(
                        "selectedText is {chars} characters; the limit is {MAX_SELECTED_CHARS}"
                    ),
                });
            }
        }
        let parent_id = body
            .parent_id
            .map(|p| {
                Uuid::parse_str(&p).map_err(|_| {
                    ApiError::bad_request(
                        "INVALID_ID",
                        format!("parentId {p:?} is not a message id"),
                    )
                })
            })
            .transpose()?;
        let client_id = body.client_id;
        if let Some(id) = &client_id {
            let chars = id.chars().count();
            if chars == 0 || chars > MAX_CLIENT_ID_CHARS || id.chars().any(char::is_control) {
                return Err(ApiError::validation(format!(
                    "clientId must be 1 to {MAX_CLIENT_ID_CHARS} printable characters"
                )));
            }
        }
        Ok(Self {
            content,
            selected_text,
            parent_id,
            client_id,
        })
    }
}

/// A conversation title from its first question: the first line, at most 60 characters,
/// cut at a word.
pub fn title_from(question: &str) -> String {
    const MAX: usize = 60;
    let line: String = question
        .lines()
        .find(|l| !l.trim().is_empty())
        .unwrap_or(question)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    if line.chars().count() <= MAX {
        return line;
    }
    let cut: String = line.chars().take(MAX).collect();
    let at_word = cut
        .rfind(' ')
        .filter(|&i| i > MAX / 2)
        .map_or(cut.as_str(), |i| &cut[..i]);
    format!("{}…", at_word.trim_end_matches([',', '.', ';', ':']))
}

fn wants_event_stream(req: &HttpRequest) -> bool {
    req.headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|accept| accept.contains("text/event-stream"))
}

async fn require_conversation(
    conn: &mut PgConnection,
    user_id: &str,
    id: Uuid,
) -> Result<(), ApiError> {
    conversations::get(conn, user_id, id)
        .await?
        .map(|_| ())
        .ok_or_else(conversation_not_found)
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct ListQuery {
    /// Page size, 1 to 200 (larger values are clamped); default 50.
    limit: Option<u32>,
    /// `nextCursor` from the previous (newer) page.
    before: Option<String>,
}

/// A conversation's messages: the newest page first, each page in chronological order.
#[utoipa::path(
    tag = "messages",
    params(("id" = Uuid, Path, description = "Conversation id"), ListQuery),
    responses(
        (status = 200, description = "A page of messages", body = MessagePage),
        (status = 400, description = "Malformed id, limit or cursor", body = shared::ErrorBody),
        (status = 404, description = "No such conversation", body = shared::ErrorBody),
    )
)]
#[get("/conversations/{id}/messages")]
async fn list_messages(
    user: AuthUser,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, ApiError> {
    let limit = cursor::page_limit(query.limit, DEFAULT_PAGE, MAX_PAGE)?;
    let before = query.before.as_deref().map(Cursor::decode).transpose()?;
    let mut tx = begin_for_user(&state.pool, &user.id).await?;
    require_conversation(&mut tx, &user.id, *id).await?;
    store::expire_abandoned(&mut tx, &user.id, *id).await?;
    let mut rows = store::list(&mut tx, &user.id, *id, before, limit + 1).await?;
    tx.commit().await?;
    let next_cursor = (rows.len() as i64 > limit).then(|| {
        rows.truncate(limit as usize);
        let oldest = rows.last().expect("a full page has a last row");
        Cursor {
            at: oldest.created_at,
            id: oldest.id,
        }
        .encode()
    });
    rows.reverse();
    Ok(HttpResponse::Ok().json(MessagePage {
        items: rows.iter().map(Message::from).collect(),
        next_cursor,
    }))
}

/// Ask a question. The question (and an empty answer) are stored before the agent is called;
/// the answer arrives as JSON `{userMessage, assistantMessage}` when it is complete, or as
/// Server-Sent Events (`start`, `source`, `delta`, `title`, `finish`, `error`) with
/// `Accept: text/event-stream`. A repeated `clientId` returns the stored exchange.
#[utoipa::path(
    tag = "messages",
    params(("id" = Uuid, Path, description = "Conversation id")),
    request_body = PostMessage,
    responses(
        (status = 201, description = "The exchange, answer finished (JSON mode); `X-RateLimit-Remaining` says how many more this minute", body = Exchange),
        (status = 200, description = "SSE stream of the answer (`text/event-stream`), or the stored exchange for a repeated `clientId`", body = Exchange),
        (status = 400, description = "Malformed id or body", body = shared::ErrorBody),
        (status = 404, description = "No such conversation", body = shared::ErrorBody),
        (status = 413, description = "`CONTENT_TOO_LONG`, `SELECTED_TEXT_TOO_LONG`", body = shared::ErrorBody),
        (status = 422, description = "Empty content, bad `clientId`, or `parentId` not in this conversation", body = shared::ErrorBody),
        (status = 429, description = "`RATE_LIMITED` (see `Retry-After`) or `TOO_MANY_STREAMS`", body = shared::ErrorBody),
        (status = 503, description = "`BUSY`: every generation slot is taken; retry", body = shared::ErrorBody),
    )
)]
#[post("/conversations/{id}/messages")]
async fn post_message(
    user: AuthUser,
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<Uuid>,
    body: web::Json<PostMessage>,
) -> Result<HttpResponse, ApiError> {
    let conversation_id = *id;
    let question = Question::parse(body.into_inner(), state.settings.chat.message_max_chars)?;
    let stream = wants_event_stream(&req);

    let mut tx = begin_for_user(&state.pool, &user.id).await?;
    require_conversation(&mut tx, &user.id, conversation_id).await?;
    // A replay must not report an answer a crashed server abandoned as still in progress.
    store::expire_abandoned(&mut tx, &user.id, conversation_id).await?;
    if let Some(client_id) = &question.client_id
        && let Some(stored) =
            store::exchange_by_client_id(&mut tx, &user.id, conversation_id, client_id).await?
    {
        tx.commit().await?;
        return Ok(replay(stored, stream));
    }
    let (remaining, admitted) = admit(&state, &req, &user.id).await?;

    // The conversation's row lock first, then the inserts: one lock order for every writer.
    let new_title = conversations::record_activity(
        &mut tx,
        &user.id,
        conversation_id,
        Some(&title_from(&question.content)),
    )
    .await?;
    let parent_id = match question.parent_id {
        Some(parent) => Some(parent),
        None => store::latest_id(&mut tx, &user.id, conversation_id).await?,
    };
    let new = NewQuestion {
        content: &question.content,
        selected_text: question.selected_text.as_deref(),
        parent_id,
        client_id: question.client_id.as_deref(),
    };
    let stored = match store::insert_question(&mut tx, &user.id, conversation_id, &new).await {
        Ok(row) => row,
        Err(InsertError::ClientIdTaken) => {
            // A concurrent retry won the race: answer with its exchange.
            drop(tx);
            let mut tx = begin_for_user(&state.pool, &user.id).await?;
            let client_id = question.client_id.as_deref().unwrap_or_default();
            let exchange =
                store::exchange_by_client_id(&mut tx, &user.id, conversation_id, client_id)
                    .await?
                    .ok_or_else(|| {
                        ApiError::Internal(anyhow::anyhow!("client id taken but not found"))
                    })?;
            tx.commit().await?;
            return Ok(replay(exchange, stream));
        }
        Err(InsertError::NoSuchParent) => {
            return Err(ApiError::validation(
                "parentId is not a message in this conversation",
            ));
        }
        Err(InsertError::Db(e)) => return Err(e.into()),
    };
    let answer = store::insert_answer(&mut tx, &user.id, conversation_id, stored.id)
        .await
        .map_err(|e| ApiError::Internal(anyhow::Error::new(e)))?;
    let history = load_history(&mut tx, &state, &user.id, stored.id).await?;
    tx.commit().await?;

    let request = AgentRequest {
        history,
        question: question.content,
        selected_text: question.selected_text,
    };
    let rx = start(
        &state, &user.id, &stored, &answer, request, new_title, admitted,
    );
    respond(
        &state, &user.id, rx, stream, remaining, stored.id, answer.id,
    )
    .await
}

/// Stop an answer being written. Its text so far is kept, with status `stopped`. Stopping a
/// finished answer changes nothing.
#[utoipa::path(
    tag = "messages",
    params(
        ("id" = Uuid, Path, description = "Conversation id"),
        ("mid" = Uuid, Path, description = "The answer's message id"),
    ),
    responses(
        (status = 200, description = "The answer as saved", body = Message),
        (status = 404, description = "No such message in this conversation", body = shared::ErrorBody),
    )
)]
#[post("/conversations/{id}/messages/{mid}/stop")]
async fn stop_message(
    user: AuthUser,
    state: web::Data<AppState>,
    path: web::Path<(Uuid, Uuid)>,
) -> Result<HttpResponse, ApiError> {
    let (conversation_id, message_id) = path.into_inner();
    let mut tx = begin_for_user(&state.pool, &user.id).await?;
    store::request_stop(&mut tx, &user.id, conversation_id, message_id)
        .await?
        .ok_or_else(message_not_found)?;
    tx.commit().await?;

    if state.running.stop(message_id) {
        let deadline = tokio::time::Instant::now() + STOP_WAIT;
        while state.running.is_running(message_id) && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    let mut tx = begin_for_user(&state.pool, &user.id).await?;
    let row = store::get(&mut tx, &user.id, conversation_id, message_id)
        .await?
        .ok_or_else(message_not_found)?;
    tx.commit().await?;
    Ok(HttpResponse::Ok().json(Message::from(&row)))
}

/// Write a new answer to the same question; the old answer is kept as a sibling. `mid` may be
/// the answer to replace or its question. Responds like posting a message.
#[utoipa::path(
    tag = "messages",
    params(
        ("id" = Uuid, Path, description = "Conversation id"),
        ("mid" = Uuid, Path, description = "An answer (or its question)"),
    ),
    responses(
        (status = 201, description = "The question and its new answer (JSON mode)", body = Exchange),
        (status = 200, description = "SSE stream of the new answer"),
        (status = 404, description = "No such message in this conversation", body = shared::ErrorBody),
        (status = 422, description = "The message answers no question", body = shared::ErrorBody),
        (status = 429, description = "`RATE_LIMITED` or `TOO_MANY_STREAMS`", body = shared::ErrorBody),
        (status = 503, description = "`BUSY`", body = shared::ErrorBody),
    )
)]
#[post("/conversations/{id}/messages/{mid}/regenerate")]
async fn regenerate_message(
    user: AuthUser,
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<(Uuid, Uuid)>,
) -> Result<HttpResponse, ApiError> {
    let (conversation_id, message_id) = path.into_inner();
    let stream = wants_event_stream(&req);
    let mut tx = begin_for_user(&state.pool, &user.id).await?;
    require_conversation(&mut tx, &user.id, conversation_id).await?;
    let target = store::get(&mut tx, &user.id, conversation_id, message_id)
        .await?
        .ok_or_else(message_not_found)?;
    let question = if target.role == "user" {
        target
    } else {
        let parent = target
            .parent_id
            .ok_or_else(|| ApiError::validation("this answer has no question to answer again"))?;
        store::get(&mut tx, &user.id, conversation_id, parent)
            .await?
            .filter(|m| m.role == "user")
            .ok_or_else(|| ApiError::validation("this answer has no question to answer again"))?
    };
    let (remaining, admitted) = admit(&state, &req, &user.id).await?;
    conversations::record_activity(&mut tx, &user.id, conversation_id, None).await?;
    let answer = store::insert_answer(&mut tx, &user.id, conversation_id, question.id)
        .await
        .map_err(|e| ApiError::Internal(anyhow::Error::new(e)))?;
    let history = load_history(&mut tx, &state, &user.id, question.id).await?;
    tx.commit().await?;

    let request = AgentRequest {
        history,
        question: question.content.clone(),
        selected_text: question.selected_text.clone(),
    };
    let rx = start(
        &state, &user.id, &question, &answer, request, None, admitted,
    );
    respond(
        &state,
        &user.id,
        rx,
        stream,
        remaining,
        question.id,
        answer.id,
    )
    .await
}

/// The per-user rate, then the caps and a slot (see [`super::admission`]): refused fast, never
/// queued. Returns the messages left this minute and the admitted answer.
async fn admit(
    state: &AppState,
    req: &HttpRequest,
    user_id: &str,
) -> Result<(u32, Admitted), ApiError> {
    let chat = &state.settings.chat;
    let remaining =
        quota::take_message(&state.message_limiter, user_id, chat.messages_per_minute).await?;
    let admitted = state
        .admission
        .try_admit(user_id, state.auth.client_ip(req))?;
    Ok((remaining, admitted))
}

async fn load_history(
    conn: &mut PgConnection,
    state: &AppState,
    user_id: &str,
    question_id: Uuid,
) -> Result<Vec<Turn>, ApiError> {
    let turns = store::history(
        conn,
        user_id,
        question_id,
        state.settings.agent.history_messages,
    )
    .await?
    .into_iter()
    .map(|(role, content)| Turn {
        role: if role == "user" {
            shared::messages::Role::User
        } else {
            shared::messages::Role::Assistant
        },
        content,
    })
    .collect();
    Ok(turns)
}

fn start(
    state: &AppState,
    user_id: &str,
    question: &MessageRow,
    answer: &MessageRow,
    request: AgentRequest,
    new_title: Option<String>,
    admitted: Admitted,
) -> mpsc::Receiver<StreamEvent> {
    generate::spawn(Job {
        pool: state.pool.clone(),
        agent: Arc::clone(&state.agent),
        running: Arc::clone(&state.running),
        user_id: user_id.to_owned(),
        conversation_id: question.conversation_id,
        question_id: question.id,
        answer_id: answer.id,
        request,
        new_title,
        max_duration: Duration::from_secs(state.settings.agent.max_duration_secs),
        admitted,
    })
}

async fn respond(
    state: &AppState,
    user_id: &str,
    mut rx: mpsc::Receiver<StreamEvent>,
    stream: bool,
    remaining: u32,
    question_id: Uuid,
    answer_id: Uuid,
) -> Result<HttpResponse, ApiError> {
    if stream {
        let keep_alive = Duration::from_secs(state.settings.chat.keep_alive_secs);
        return Ok(sse(rx, Some(remaining), keep_alive));
    }
    // JSON: wait for the answer to be saved (the channel closes then). If this request is
    // dropped meanwhile, so is `rx`, and the answer is saved as stopped.
    while rx.recv().await.is_some() {}
    let mut tx = begin_for_user(&state.pool, user_id).await?;
    let conversation_id = store_conversation_of(&mut tx, user_id, question_id).await?;
    let question = store::get(&mut tx, user_id, conversation_id, question_id).await?;
    let answer = store::get(&mut tx, user_id, conversation_id, answer_id).await?;
    tx.commit().await?;
    let (Some(question), Some(answer)) = (question, answer) else {
        return Err(conversation_not_found());
    };
    Ok(HttpResponse::Created()
        .insert_header(("x-ratelimit-remaining", remaining.to_string()))
        .json(Exchange {
            user_message: Message::from(&question),
            assistant_message: Message::from(&answer),
        }))
}

async fn store_conversation_of(
    conn: &mut PgConnection,
    user_id: &str,
    message_id: Uuid,
) -> Result<Uuid, ApiError> {
    sqlx::query_scalar!(
        "SELECT conversation_id FROM message WHERE id = $1 AND user_id = $2",
        message_id,
        user_id
    )
    .fetch_optional(conn)
    .await?
    .ok_or_else(conversation_not_found)
}

/// The answer as Server-Sent Events: numbered frames, a keep-alive comment whenever the stream
/// has been quiet for `keep_alive` (15 s by default), and no buffering on the way (proxies are
/// told so too).
fn sse(
    rx: mpsc::Receiver<StreamEvent>,
    remaining: Option<u32>,
    keep_alive: Duration,
) -> HttpResponse {
    let mut keep_alive = tokio::time::interval(keep_alive);
    keep_alive.reset();
    let body = futures_util::stream::unfold(
        (rx, keep_alive, 0u64),
        |(mut rx, mut keep_alive, seq)| async move {
            tokio::select! {
                event = rx.recv() => {
                    let event = event?;
                    let seq = seq + 1;
                    keep_alive.reset();
                    Some((Ok::<_, Infallible>(web::Bytes::from(event.to_sse(seq))), (rx, keep_alive, seq)))
                }
                _ = keep_alive.tick() => {
                    Some((Ok(web::Bytes::from_static(b": keep-alive\n\n")), (rx, keep_alive, seq)))
                }
            }
        },
    );
    let mut response = HttpResponse::Ok();
    response
        .content_type("text/event-stream")
        .insert_header((header::CACHE_CONTROL, "no-cache, no-transform"))
        .insert_header(("x-accel-buffering", "no"));
    if let Some(remaining) = remaining {
        response.insert_header(("x-ratelimit-remaining", remaining.to_string()));
    }
    response.streaming(body)
}

/// A repeated `clientId`: the stored exchange, as JSON or as a short event stream.
fn replay((question, answer): (MessageRow, Option<MessageRow>), stream: bool) -> HttpResponse {
    let Some(answer) = answer else {
        return actix_web::ResponseError::error_response(&ApiError::Internal(anyhow::anyhow!(
            "a stored question has no answer"
        )));
    };
    if !stream {
        return HttpResponse::Ok().json(Exchange {
            user_message: Message::from(&question),
            assistant_message: Message::from(&answer),
        });
    }
    let message = Message::from(&answer);
    let mut events = vec![StreamEvent::Start(StartEvent {
        message_id: message.id.clone(),
        user_message_id: question.id.to_string(),
        conversation_id: question.conversation_id.to_string(),
    })];
    events.extend(message.sources.iter().cloned().map(StreamEvent::Source));
    if !message.content.is_empty() {
        events.push(StreamEvent::Delta(DeltaEvent {
            text: message.content.clone(),
        }));
    }
    events.push(match answer.status.as_str() {
        "streaming" => StreamEvent::Error(ErrorBody {
            code: "IN_PROGRESS".to_owned(),
            message: "This answer is still being written; list the messages to see it finish."
                .to_owned(),
        }),
        "error" => StreamEvent::Error(ErrorBody {
            code: "AGENT_ERROR".to_owned(),
            message: message.error.clone().unwrap_or_default(),
        }),
        _ => StreamEvent::Finish(FinishEvent {
            finish_reason: message
                .finish_reason
                .clone()
                .unwrap_or_else(|| "stop".to_owned()),
            usage: message.usage.clone(),
        }),
    });
    let (tx, rx) = mpsc::channel(events.len().max(1));
    for event in events {
        let _ = tx.try_send(event);
    }
    drop(tx);
    // Every event is already queued: the stream ends before a keep-alive could matter.
    sse(rx, None, Duration::from_secs(15))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn titles_come_from_the_first_line_cut_at_a_word() {
        assert_eq!(
            title_from("  How do I   reset it?\nmore"),
            "How do I reset it?"
        );
        let long = "Explain the difference between keyset pagination and offset pagination in detail please";
        let title = title_from(long);
        assert!(
            title.ends_with('…') && title.chars().count() <= 61,
            "{title}"
        );
        assert!(long.starts_with(title.trim_end_matches('…')));
    }
}
