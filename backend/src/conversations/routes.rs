//! The conversation routes: list (keyset pages, filters), create, read, rename, pin, archive
//! and delete. Each handler owns its transaction; the store does the queries.

use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, web};
use serde::Deserialize;
use shared::conversations::{
    BulkDelete, BulkDeleted, Conversation, ConversationPage, CreateConversation, UpdateConversation,
};
use shared::{ConversationId, MessageId};
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use super::store::{self, Changes, ListFilter, Selection};
use super::title::parse_title;
use crate::account::guests;
use crate::auth::AuthUser;
use crate::cursor::{self, Cursor};
use crate::db::{begin_for_user, end_read};
use crate::error::{ApiError, body_up_to, json_body_or_default};
use crate::state::AppState;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(list_conversations)
        .service(create_conversation)
        .service(get_conversation)
        .service(update_conversation)
        .service(delete_conversation)
        .service(delete_conversations);
}

const DEFAULT_PAGE: u32 = 20;
const MAX_PAGE: u32 = 100;

fn not_found() -> ApiError {
    ApiError::NotFound("No such conversation.".to_owned())
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct ListQuery {
    /// Page size, 1 to 100 (larger values are clamped); default 20.
    limit: Option<u32>,
    /// `nextCursor` from the previous page.
    cursor: Option<String>,
    /// `true`: only archived conversations; default: only unarchived ones.
    archived: Option<bool>,
    /// `true`: only pinned; `false`: only unpinned; default: both.
    pinned: Option<bool>,
    /// Only conversations whose title contains this text (any case; at most 200 characters).
    q: Option<String>,
}

/// The most ids one bulk delete takes, and a body that holds them.
const MAX_BULK_IDS: usize = 10_000;
const MAX_BULK_BODY: usize = 1 << 20;

/// The caller's conversations, newest activity first, keyset-paged.
#[utoipa::path(
    tag = "conversations",
    params(ListQuery),
    responses(
        (status = 200, description = "A page of conversations", body = ConversationPage),
        (status = 400, description = "Malformed `limit`, `cursor` or `q`", body = shared::ErrorBody),
        (status = 401, description = "Not signed in", body = shared::ErrorBody),
    )
)]
#[get("/conversations")]
async fn list_conversations(
    user: AuthUser,
    state: web::Data<AppState>,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, ApiError> {
    let limit = cursor::page_limit(query.limit, DEFAULT_PAGE, MAX_PAGE)?;
    let title_contains = query.q.as_deref().map(str::trim).filter(|q| !q.is_empty());
    if title_contains.is_some_and(|q| q.chars().count() > 200) {
        return Err(ApiError::bad_request(
            "INVALID_QUERY",
            "q must be at most 200 characters",
        ));
    }
    let filter = ListFilter {
        archived: query.archived.unwrap_or(false),
        pinned: query.pinned,
        title_contains,
        after: query.cursor.as_deref().map(Cursor::decode).transpose()?,
        // One extra row tells whether there is a next page.
        limit: limit + 1,
    };
    let mut tx = begin_for_user(&state.pool, &user.id).await?;
    let mut rows = store::list(&mut tx, &user.id, &filter).await?;
    end_read(tx);
    let next_cursor = (rows.len() as i64 > limit).then(|| {
        rows.truncate(limit as usize);
        let last = rows.last().expect("a full page has a last row");
        Cursor {
            at: last.last_message_at,
            id: last.id,
        }
        .encode()
    });
    Ok(HttpResponse::Ok().json(ConversationPage {
        items: rows.iter().map(Conversation::from).collect(),
        next_cursor,
    }))
}

/// Start a conversation. The body may be empty; an untitled conversation is titled by its
/// first exchange.
#[utoipa::path(
    tag = "conversations",
    request_body(content = CreateConversation, description = "Optional"),
    responses(
        (status = 201, description = "Created", body = Conversation),
        (status = 422, description = "Invalid title", body = shared::ErrorBody),
        (status = 401, description = "Not signed in", body = shared::ErrorBody),
        (status = 403, description = "`GUEST_LIMIT`: a guest keeps `GUEST_MAX_CONVERSATIONS` conversations at most", body = shared::ErrorBody),
    )
)]
#[post("/conversations")]
async fn create_conversation(
    user: AuthUser,
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let body: CreateConversation = json_body_or_default(&req, &body)?;
    let title = body.title.as_deref().map(parse_title).transpose()?;
    let mut tx = begin_for_user(&state.pool, &user.id).await?;
    guests::ensure_conversation(&mut tx, &user.id, &state.settings.auth.guests).await?;
    let row = store::create(&mut tx, &user.id, title.as_deref()).await?;
    tx.commit().await?;
    Ok(HttpResponse::Created().json(Conversation::from(&row)))
}

/// One of the caller's conversations.
#[utoipa::path(
    tag = "conversations",
    params(("id" = Uuid, Path, description = "Conversation id")),
    responses(
        (status = 200, description = "The conversation", body = Conversation),
        (status = 400, description = "Malformed id", body = shared::ErrorBody),
        (status = 404, description = "No such conversation (or not the caller's)", body = shared::ErrorBody),
    )
)]
#[get("/conversations/{id}")]
async fn get_conversation(
    user: AuthUser,
    state: web::Data<AppState>,
    id: web::Path<ConversationId>,
) -> Result<HttpResponse, ApiError> {
    let mut tx = begin_for_user(&state.pool, &user.id).await?;
    let row = store::get(&mut tx, &user.id, *id)
        .await?
        .ok_or_else(not_found)?;
    end_read(tx);
    Ok(HttpResponse::Ok().json(Conversation::from(&row)))
}

/// Rename (`title`, `null` to clear), pin or archive a conversation, or remember the branch in
/// view (`activeMessageId`).
#[utoipa::path(
    tag = "conversations",
    params(("id" = Uuid, Path, description = "Conversation id")),
    request_body = UpdateConversation,
    responses(
        (status = 200, description = "Updated", body = Conversation),
        (status = 404, description = "No such conversation", body = shared::ErrorBody),
        (status = 400, description = "`activeMessageId` is not an id", body = shared::ErrorBody),
        (status = 422, description = "Invalid title, unknown field, or `activeMessageId` not a message of this conversation", body = shared::ErrorBody),
    )
)]
#[patch("/conversations/{id}")]
async fn update_conversation(
    user: AuthUser,
    state: web::Data<AppState>,
    id: web::Path<ConversationId>,
    body: web::Json<UpdateConversation>,
) -> Result<HttpResponse, ApiError> {
    let title = match &body.title {
        Some(Some(raw)) => Some(Some(parse_title(raw)?)),
        Some(None) => Some(None),
        None => None,
    };
    let active = body
        .active_message_id
        .as_deref()
        .map(|raw| {
            Uuid::parse_str(raw).map(MessageId::new).map_err(|_| {
                ApiError::bad_request(
                    "INVALID_ID",
                    format!("activeMessageId {raw:?} is not a message id"),
                )
            })
        })
        .transpose()?;
    let changes = Changes {
        title: title.as_ref().map(Option::as_deref),
        pinned: body.pinned,
        archived: body.archived,
    };
    let mut tx = begin_for_user(&state.pool, &user.id).await?;
    if let Some(message) = active {
        match store::set_active(&mut tx, &user.id, *id, message).await {
            Ok(true) => {}
            Ok(false) => return Err(not_found()),
            Err(sqlx::Error::Database(e)) if e.is_foreign_key_violation() => {
                return Err(ApiError::validation(
                    "activeMessageId is not a message of this conversation",
                ));
            }
            Err(e) => return Err(e.into()),
        }
    }
    let row = if changes.is_empty() {
        store::get(&mut tx, &user.id, *id).await?
    } else {
        store::update(&mut tx, &user.id, *id, &changes).await?
    }
    .ok_or_else(not_found)?;
    tx.commit().await?;
    Ok(HttpResponse::Ok().json(Conversation::from(&row)))
}

/// Delete a conversation and all its messages.
#[utoipa::path(
    tag = "conversations",
    params(("id" = Uuid, Path, description = "Conversation id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, description = "No such conversation", body = shared::ErrorBody),
    )
)]
#[delete("/conversations/{id}")]
async fn delete_conversation(
    user: AuthUser,
    state: web::Data<AppState>,
    id: web::Path<ConversationId>,
) -> Result<HttpResponse, ApiError> {
    let mut tx = begin_for_user(&state.pool, &user.id).await?;
    if !store::delete(&mut tx, &user.id, *id).await? {
        return Err(not_found());
    }
    tx.commit().await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Delete many conversations at once: `{ids: [...]}` or `{all: true}` (archived ones too only
/// with `includeArchived: true`). Ids that are not the caller's count as not found.
#[utoipa::path(
    tag = "conversations",
    request_body = BulkDelete,
    responses(
        (status = 200, description = "What was deleted", body = BulkDeleted),
        (status = 400, description = "Malformed JSON", body = shared::ErrorBody),
        (status = 401, description = "Not signed in", body = shared::ErrorBody),
        (status = 413, description = "A body over 1 MiB", body = shared::ErrorBody),
        (status = 415, description = "The body is not JSON", body = shared::ErrorBody),
        (status = 422, description = "Neither `ids` nor `all: true`, both, a malformed id, or more than 10,000 ids", body = shared::ErrorBody),
    )
)]
#[delete("/conversations")]
async fn delete_conversations(
    user: AuthUser,
    state: web::Data<AppState>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let body: BulkDelete = json_body_or_default(&req, &body_up_to(payload, MAX_BULK_BODY).await?)?;
    let ids = match (&body.ids, body.all) {
        (Some(ids), None | Some(false)) => Some(parse_ids(ids)?),
        (None, Some(true)) => None,
        (Some(_), Some(true)) => {
            return Err(ApiError::validation(
                "give either ids or all: true, not both",
            ));
        }
        (None, _) => return Err(ApiError::validation("give ids, or all: true")),
    };
    let selection = match &ids {
        Some(ids) => Selection::Ids(ids),
        None => Selection::All {
            include_archived: body.include_archived.unwrap_or(false),
        },
    };
    let mut tx = begin_for_user(&state.pool, &user.id).await?;
    let removed = store::delete_many(&mut tx, &user.id, selection).await?;
    tx.commit().await?;
    let asked = ids
        .as_ref()
        .map_or(removed.conversations, |ids| ids.len() as u64);
    tracing::info!(
        conversations = removed.conversations,
        messages = removed.messages,
        "conversations deleted in bulk"
    );
    Ok(HttpResponse::Ok().json(BulkDeleted {
        deleted: removed.conversations,
        not_found: asked - removed.conversations,
        messages: removed.messages,
    }))
}

/// Distinct, well-formed conversation ids, at most [`MAX_BULK_IDS`].
fn parse_ids(raw: &[String]) -> Result<Vec<Uuid>, ApiError> {
    if raw.len() > MAX_BULK_IDS {
        return Err(ApiError::validation(format!(
            "at most {MAX_BULK_IDS} ids at once (got {})",
            raw.len()
        )));
    }
    let mut ids = raw
        .iter()
        .map(|id| {
            Uuid::parse_str(id)
                .map_err(|_| ApiError::validation(format!("{id:?} is not a conversation id")))
        })
        .collect::<Result<Vec<_>, _>>()?;
    ids.sort_unstable();
    ids.dedup();
    Ok(ids)
}
