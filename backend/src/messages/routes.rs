//! The message routes: list a conversation's messages, ask (JSON or an event stream), stop an
//! answer, and regenerate one. Each handler owns its transaction; admitting and starting an
//! answer, the answer task and the event stream live in their own files.

use std::time::Duration;

use actix_web::{HttpRequest, HttpResponse, get, post, web};
use serde::Deserialize;
use shared::messages::{Exchange, Message, MessagePage, PostMessage, Role};
use shared::{ConversationId, MessageId, UserId};
use sqlx::PgConnection;
use utoipa_actix_web::service_config::ServiceConfig;

use super::question::Question;
use super::store::{self, InsertError, NewQuestion};
use super::{answer, conversation_not_found, message_not_found, sse};
use crate::account::{guests, storage};
use crate::auth::AuthUser;
use crate::conversations::store as conversations;
use crate::conversations::title::title_from;
use crate::cursor::{self, Cursor};
use crate::db::{begin_for_user, end_read};
use crate::error::ApiError;
use crate::state::AppState;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(list_messages)
        .service(post_message)
        .service(stop_message)
        .service(regenerate_message)
        .service(super::follow::follow_answer);
}

const DEFAULT_PAGE: u32 = 50;
const MAX_PAGE: u32 = 200;
/// How long a stop request waits for the answer's final save before answering.
const STOP_WAIT: Duration = Duration::from_secs(3);

async fn require_conversation(
    conn: &mut PgConnection,
    user_id: &UserId,
    id: ConversationId,
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
    id: web::Path<ConversationId>,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, ApiError> {
    let limit = cursor::page_limit(query.limit, DEFAULT_PAGE, MAX_PAGE)?;
    let before = query.before.as_deref().map(Cursor::decode).transpose()?;
    let mut tx = begin_for_user(&state.pool, &user.id).await?;
    let conversation = conversations::get(&mut tx, &user.id, *id)
        .await?
        .ok_or_else(conversation_not_found)?;
    let mut rows = store::list(&mut tx, &user.id, *id, before, limit + 1).await?;
    // An answer whose server died mid-answer is marked interrupted when it is read. Only a page
    // that shows one pays for the update.
    let expired = rows.iter().any(store::is_abandoned);
    if expired {
        store::expire_abandoned(&mut tx, &user.id, *id).await?;
        rows = store::list(&mut tx, &user.id, *id, before, limit + 1).await?;
    }
    let more = rows.len() as i64 > limit;
    rows.truncate(limit as usize);
    // The first page opens on the branch last viewed; when that branch ends before the page,
    // its newest messages come along.
    let mut active_path = Vec::new();
    if before.is_none()
        && more
        && let Some(active) = conversation.active_message_id
        && !rows.iter().any(|m| m.id.as_uuid() == active)
    {
        active_path = store::branch_to(&mut tx, &user.id, MessageId::new(active), limit).await?;
        active_path.reverse();
    }
    if expired {
        tx.commit().await?;
    } else {
        end_read(tx);
    }
    let next_cursor = more.then(|| {
        let oldest = rows.last().expect("a full page has a last row");
        Cursor {
            at: oldest.created_at,
            id: oldest.id.as_uuid(),
        }
        .encode()
    });
    rows.reverse();
    Ok(HttpResponse::Ok().json(MessagePage {
        items: rows.iter().map(Message::from).collect(),
        next_cursor,
        active_message_id: conversation.active_message_id.map(MessageId::new),
        active_path: active_path.iter().map(Message::from).collect(),
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
        (status = 403, description = "`GUEST_LIMIT`: a guest has asked `GUEST_MESSAGES_PER_DAY` questions in the last 24 hours", body = shared::ErrorBody),
        (status = 413, description = "`CONTENT_TOO_LONG`, `SELECTED_TEXT_TOO_LONG`, or `STORAGE_FULL`: the account holds `USER_MAX_STORED_BYTES` of messages", body = shared::ErrorBody),
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
    id: web::Path<ConversationId>,
    body: web::Json<PostMessage>,
) -> Result<HttpResponse, ApiError> {
    let conversation_id = *id;
    let question = Question::parse(body.into_inner(), state.settings.chat.message_max_chars)?;
    let stream = sse::wants_event_stream(&req);

    let mut tx = begin_for_user(&state.pool, &user.id).await?;
    require_conversation(&mut tx, &user.id, conversation_id).await?;
    // A replay must not report an answer a crashed server abandoned as still in progress.
    store::expire_abandoned(&mut tx, &user.id, conversation_id).await?;
    if let Some(client_id) = &question.client_id
        && let Some(stored) =
            store::exchange_by_client_id(&mut tx, &user.id, conversation_id, client_id).await?
    {
        tx.commit().await?;
        return Ok(sse::replay(stored, stream));
    }
    let adding = question.content.len() + question.selected_text.as_ref().map_or(0, String::len);
    let room = state.settings.history.user_max_stored_bytes;
    storage::ensure_room(&mut tx, &user.id, room, adding).await?;
    guests::ensure_question(&mut tx, &user.id, &state.settings.auth.guests).await?;
    let admitted = answer::admit(&state, &mut tx, &req, &user.id).await?;

    // The conversation's row lock first, then the inserts: one lock order for every writer.
    let new_title = conversations::record_activity(
        &mut tx,
        &user.id,
        conversation_id,
        Some(&title_from(&question.content)),
    )
    .await?;
    let parent_id = match (question.parent_id, question.edit_of) {
        (Some(parent), _) => Some(parent),
        (None, Some(edited)) => {
            store::get(&mut tx, &user.id, conversation_id, edited)
                .await?
                .filter(|m| m.role == Role::User)
                .ok_or_else(|| {
                    ApiError::validation("editOf is not a question in this conversation")
                })?
                .parent_id
        }
        (None, None) => store::latest_id(&mut tx, &user.id, conversation_id).await?,
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
            return Ok(sse::replay(exchange, stream));
        }
        Err(InsertError::NoSuchParent) => {
            return Err(ApiError::validation(
                "parentId is not a message in this conversation",
            ));
        }
        Err(other) => return Err(other.into()),
    };
    answer::start(&state, tx, &user.id, &stored, new_title, admitted, stream).await
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
    path: web::Path<(ConversationId, MessageId)>,
) -> Result<HttpResponse, ApiError> {
    let (conversation_id, message_id) = path.into_inner();
    let mut tx = begin_for_user(&state.pool, &user.id).await?;
    store::request_stop(&mut tx, &user.id, conversation_id, message_id)
        .await?
        .ok_or_else(message_not_found)?;
    tx.commit().await?;

    // The answer may be written here or on another instance.
    if state.chat.running.stop(message_id) {
        let deadline = tokio::time::Instant::now() + STOP_WAIT;
        while state.chat.running.is_running(message_id) && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    } else {
        state.chat.stops.publish(message_id).await;
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
        (status = 413, description = "`STORAGE_FULL`: the account holds `USER_MAX_STORED_BYTES` of messages", body = shared::ErrorBody),
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
    path: web::Path<(ConversationId, MessageId)>,
) -> Result<HttpResponse, ApiError> {
    let (conversation_id, message_id) = path.into_inner();
    let stream = sse::wants_event_stream(&req);
    let mut tx = begin_for_user(&state.pool, &user.id).await?;
    require_conversation(&mut tx, &user.id, conversation_id).await?;
    let target = store::get(&mut tx, &user.id, conversation_id, message_id)
        .await?
        .ok_or_else(message_not_found)?;
    let question = if target.role == Role::User {
        target
    } else {
        let parent = target
            .parent_id
            .ok_or_else(|| ApiError::validation("this answer has no question to answer again"))?;
        store::get(&mut tx, &user.id, conversation_id, parent)
            .await?
            .filter(|m| m.role == Role::User)
            .ok_or_else(|| ApiError::validation("this answer has no question to answer again"))?
    };
    let room = state.settings.history.user_max_stored_bytes;
    storage::ensure_room(&mut tx, &user.id, room, 0).await?;
    let admitted = answer::admit(&state, &mut tx, &req, &user.id).await?;
    conversations::record_activity(&mut tx, &user.id, conversation_id, None).await?;
    answer::start(&state, tx, &user.id, &question, None, admitted, stream).await
}
