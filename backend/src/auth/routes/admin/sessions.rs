//! Another user's sessions: `POST /admin/list-user-sessions`, `POST /admin/revoke-user-session`
//! and `POST /admin/revoke-user-sessions`.

use actix_web::{HttpRequest, HttpResponse, post, web};
use shared::UserId;
use shared::admin::{RevokeUserSession, UserIdBody, UserSessions};
use shared::auth::{Session, SuccessResponse};

use super::super::prologue::accept_write;
use super::{
    NOT_ALLOWED_TO_LIST_USERS_SESSIONS, NOT_ALLOWED_TO_REVOKE_USERS_SESSIONS, admin_caller,
};
use crate::auth::error::AuthError;
use crate::auth::store;
use crate::state::AppState;

/// Every session of a user, expired ones too (an unknown user has none).
#[utoipa::path(
    tag = "admin",
    request_body = UserIdBody,
    responses(
        (status = 200, description = "`{sessions}`", body = UserSessions),
        (status = 400, description = "`VALIDATION_ERROR`", body = shared::auth::AuthErrorBody),
        (status = 401, description = "No session (an empty body)"),
        (status = 403, description = "`YOU_ARE_NOT_ALLOWED_TO_LIST_USERS_SESSIONS`", body = shared::auth::AuthErrorBody),
    )
)]
#[post("/admin/list-user-sessions")]
pub(in crate::auth::routes) async fn list_user_sessions(
    req: HttpRequest,
    state: web::Data<AppState>,
    payload: web::Payload,
) -> Result<HttpResponse, AuthError> {
    let body = accept_write(&req, &state.auth, payload).await?;
    let user_id = UserId::new(body.object()?.string("userId")?);
    let mut conn = state.pool.acquire().await?;
    admin_caller(
        &req,
        &state,
        &mut conn,
        ("session", "list"),
        NOT_ALLOWED_TO_LIST_USERS_SESSIONS,
    )
    .await?;
    let sessions = store::admin::sessions_of(&mut conn, &user_id).await?;
    Ok(HttpResponse::Ok().json(UserSessions {
        sessions: sessions.iter().map(Session::from).collect(),
    }))
}

/// Ends one session by its token (anyone's; an unknown token is already gone).
#[utoipa::path(
    tag = "admin",
    request_body = RevokeUserSession,
    responses(
        (status = 200, description = "`{success: true}`", body = SuccessResponse),
        (status = 400, description = "`VALIDATION_ERROR`", body = shared::auth::AuthErrorBody),
        (status = 401, description = "No session (an empty body)"),
        (status = 403, description = "`YOU_ARE_NOT_ALLOWED_TO_REVOKE_USERS_SESSIONS`", body = shared::auth::AuthErrorBody),
    )
)]
#[post("/admin/revoke-user-session")]
pub(in crate::auth::routes) async fn revoke_user_session(
    req: HttpRequest,
    state: web::Data<AppState>,
    payload: web::Payload,
) -> Result<HttpResponse, AuthError> {
    let body = accept_write(&req, &state.auth, payload).await?;
    let token = body.object()?.string("sessionToken")?.to_owned();
    let mut conn = state.pool.acquire().await?;
    let caller = admin_caller(
        &req,
        &state,
        &mut conn,
        ("session", "revoke"),
        NOT_ALLOWED_TO_REVOKE_USERS_SESSIONS,
    )
    .await?;
    store::delete_session_by_token(&mut conn, &token).await?;
    tracing::info!(user.id = %caller.user.id, "administrator revoked a session");
    Ok(HttpResponse::Ok().json(SuccessResponse { success: true }))
}

/// Ends every session of a user: signed out everywhere.
#[utoipa::path(
    tag = "admin",
    request_body = UserIdBody,
    responses(
        (status = 200, description = "`{success: true}`", body = SuccessResponse),
        (status = 400, description = "`VALIDATION_ERROR`", body = shared::auth::AuthErrorBody),
        (status = 401, description = "No session (an empty body)"),
        (status = 403, description = "`YOU_ARE_NOT_ALLOWED_TO_REVOKE_USERS_SESSIONS`", body = shared::auth::AuthErrorBody),
    )
)]
#[post("/admin/revoke-user-sessions")]
pub(in crate::auth::routes) async fn revoke_user_sessions(
    req: HttpRequest,
    state: web::Data<AppState>,
    payload: web::Payload,
) -> Result<HttpResponse, AuthError> {
    let body = accept_write(&req, &state.auth, payload).await?;
    let user_id = UserId::new(body.object()?.string("userId")?);
    let mut conn = state.pool.acquire().await?;
    let caller = admin_caller(
        &req,
        &state,
        &mut conn,
        ("session", "revoke"),
        NOT_ALLOWED_TO_REVOKE_USERS_SESSIONS,
    )
    .await?;
    store::delete_all_sessions(&mut conn, &user_id).await?;
    tracing::info!(user.id = %caller.user.id, target = %user_id, "administrator signed a user out everywhere");
    Ok(HttpResponse::Ok().json(SuccessResponse { success: true }))
}
