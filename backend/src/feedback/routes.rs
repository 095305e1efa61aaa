//! `PUT` and `DELETE /api/messages/{id}/feedback`. Only answers take feedback, and only once
//! they are written.

use actix_web::{HttpResponse, delete, put, web};
use shared::MessageId;
use shared::feedback::{Feedback, SetFeedback};
use shared::messages::Role;
use utoipa_actix_web::service_config::ServiceConfig;

use super::store;
use crate::auth::AuthUser;
use crate::db::begin_for_user;
use crate::error::ApiError;
use crate::state::AppState;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(set_feedback).service(clear_feedback);
}

const MAX_REASON_CHARS: usize = 2000;

fn not_found() -> ApiError {
    ApiError::NotFound("No such message.".to_owned())
}

/// A reason as stored: trimmed, `None` when empty, at most 2,000 characters.
fn parse_reason(raw: Option<&str>) -> Result<Option<String>, ApiError> {
    let Some(reason) = raw.map(str::trim).filter(|r| !r.is_empty()) else {
        return Ok(None);
    };
    let chars = reason.chars().count();
    if chars > MAX_REASON_CHARS {
        return Err(ApiError::validation(format!(
            "reason must be at most {MAX_REASON_CHARS} characters (got {chars})"
        )));
    }
    Ok(Some(reason.to_owned()))
}

/// Rate an answer up or down, with an optional reason; replaces any earlier feedback.
#[utoipa::path(
    tag = "messages",
    params(("id" = Uuid, Path, description = "Message id (an answer)")),
    request_body = SetFeedback,
    responses(
        (status = 200, description = "The feedback as stored", body = Feedback),
        (status = 400, description = "Malformed id or JSON", body = shared::ErrorBody),
        (status = 401, description = "Not signed in", body = shared::ErrorBody),
        (status = 404, description = "No such message (or not the caller's)", body = shared::ErrorBody),
        (status = 415, description = "The body is not JSON", body = shared::ErrorBody),
        (status = 422, description = "Not an answer, an answer still being written, or an invalid rating or reason", body = shared::ErrorBody),
    )
)]
#[put("/messages/{id}/feedback")]
async fn set_feedback(
    user: AuthUser,
    state: web::Data<AppState>,
    id: web::Path<MessageId>,
    body: web::Json<SetFeedback>,
) -> Result<HttpResponse, ApiError> {
    let reason = parse_reason(body.reason.as_deref())?;
    let mut tx = begin_for_user(&state.pool, &user.id).await?;
    let target = store::target(&mut tx, &user.id, *id)
        .await?
        .ok_or_else(not_found)?;
    if target.role != Role::Assistant {
        return Err(ApiError::validation("only answers take feedback"));
    }
    if target.streaming {
        return Err(ApiError::validation(
            "the answer is still being written; rate it when it is done",
        ));
    }
    let row = store::set(
        &mut tx,
        &user.id,
        *id,
        target.conversation_id,
        body.rating,
        reason.as_deref(),
    )
    .await?;
    tx.commit().await?;
    Ok(HttpResponse::Ok().json(Feedback::from(&row)))
}

/// Clear the feedback on an answer (it is fine if there was none).
#[utoipa::path(
    tag = "messages",
    params(("id" = Uuid, Path, description = "Message id")),
    responses(
        (status = 204, description = "Cleared"),
        (status = 400, description = "Malformed id", body = shared::ErrorBody),
        (status = 401, description = "Not signed in", body = shared::ErrorBody),
        (status = 404, description = "No such message (or not the caller's)", body = shared::ErrorBody),
    )
)]
#[delete("/messages/{id}/feedback")]
async fn clear_feedback(
    user: AuthUser,
    state: web::Data<AppState>,
    id: web::Path<MessageId>,
) -> Result<HttpResponse, ApiError> {
    let mut tx = begin_for_user(&state.pool, &user.id).await?;
    store::target(&mut tx, &user.id, *id)
        .await?
        .ok_or_else(not_found)?;
    store::clear(&mut tx, &user.id, *id).await?;
    tx.commit().await?;
    Ok(HttpResponse::NoContent().finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_are_trimmed_and_bounded() {
        assert_eq!(parse_reason(None).unwrap(), None);
        assert_eq!(parse_reason(Some("   ")).unwrap(), None);
        assert_eq!(
            parse_reason(Some("  wrong year ")).unwrap().as_deref(),
            Some("wrong year")
        );
        assert!(parse_reason(Some(&"x".repeat(2001))).is_err());
    }
}
