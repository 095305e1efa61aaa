//! `POST /admin/ban-user` and `POST /admin/unban-user`. A ban ends every session of the user
//! at once; a banned user cannot sign in (`BANNED_USER`), and their JWTs are refused on the
//! next request (see `auth::extractor`). A ban with `banExpiresIn` lifts itself.

use actix_web::{HttpRequest, HttpResponse, post, web};
use chrono::TimeDelta;
use serde_json::Value;
use shared::UserId;
use shared::admin::{BanUser, UserEnvelope, UserIdBody};

use super::super::prologue::accept_write;
use super::{NOT_ALLOWED_TO_BAN_USERS, USER_NOT_FOUND, YOU_CANNOT_BAN_YOURSELF, admin_caller};
use crate::auth::error::AuthError;
use crate::auth::store;
use crate::state::AppState;

/// The plugin's reason when none is given.
const DEFAULT_BAN_REASON: &str = "No reason";

/// Bans a user: their sessions end now, sign-in is refused until the ban is lifted (or runs
/// out after `banExpiresIn` seconds).
#[utoipa::path(
    tag = "admin",
    request_body = BanUser,
    responses(
        (status = 200, description = "`{user}`, banned", body = UserEnvelope),
        (status = 400, description = "`YOU_CANNOT_BAN_YOURSELF`, `VALIDATION_ERROR`", body = shared::auth::AuthErrorBody),
        (status = 401, description = "No session (an empty body)"),
        (status = 403, description = "`YOU_ARE_NOT_ALLOWED_TO_BAN_USERS`", body = shared::auth::AuthErrorBody),
        (status = 404, description = "`USER_NOT_FOUND`", body = shared::auth::AuthErrorBody),
    )
)]
#[post("/admin/ban-user")]
pub(in crate::auth::routes) async fn ban_user(
    req: HttpRequest,
    state: web::Data<AppState>,
    payload: web::Payload,
) -> Result<HttpResponse, AuthError> {
    let auth = &state.auth;
    let body = accept_write(&req, auth, payload).await?;
    let fields = body.object()?;
    let user_id = UserId::new(fields.string("userId")?);
    let reason = fields
        .optional_string("banReason")?
        .filter(|r| !r.is_empty())
        .unwrap_or(DEFAULT_BAN_REASON)
        .to_owned();
    let expires_in = match fields.value("banExpiresIn") {
        None | Some(Value::Null) => None,
        Some(Value::Number(n)) => n.as_f64().filter(|s| s.is_finite()),
        Some(_) => {
            return Err(AuthError::validation(
                "[body.banExpiresIn] Invalid input: expected number, received string".to_owned(),
            ));
        }
    };
    // `banExpiresIn: 0` is no expiry, as JavaScript's truthiness makes it; a date past the
    // range PostgreSQL keeps is refused rather than wrapped.
    let expires = match expires_in.filter(|s| *s != 0.0) {
        None => None,
        Some(seconds) => Some(
            TimeDelta::try_milliseconds((seconds * 1000.0) as i64)
                .and_then(|d| store::now().checked_add_signed(d))
                .filter(|at| at.timestamp().abs() < 200_000_000_000)
                .ok_or_else(|| AuthError::validation("[body.banExpiresIn] Too big".to_owned()))?,
        ),
    };

    let mut conn = state.pool.acquire().await?;
    let caller = admin_caller(
        &req,
        &state,
        &mut conn,
        ("user", "ban"),
        NOT_ALLOWED_TO_BAN_USERS,
    )
    .await?;
    store::user_by_id(&mut conn, &user_id)
        .await?
        .ok_or(USER_NOT_FOUND)?;
    if user_id == caller.user.id {
        return Err(YOU_CANNOT_BAN_YOURSELF);
    }
    drop(conn);
    let mut tx = state.pool.begin().await?;
    let user = store::admin::ban(&mut tx, &user_id, &reason, expires)
        .await?
        .ok_or(USER_NOT_FOUND)?;
    store::delete_all_sessions(&mut tx, &user_id).await?;
    tx.commit().await?;
    tracing::info!(
        user.id = %caller.user.id,
        target = %user_id,
        until = ?expires.map(|at| at.to_rfc3339()),
        "administrator banned a user"
    );
    Ok(HttpResponse::Ok().json(UserEnvelope {
        user: auth.user(&user),
    }))
}

/// Lifts a user's ban; they may sign in again.
#[utoipa::path(
    tag = "admin",
    request_body = UserIdBody,
    responses(
        (status = 200, description = "`{user}`, no longer banned", body = UserEnvelope),
        (status = 400, description = "`VALIDATION_ERROR`", body = shared::auth::AuthErrorBody),
        (status = 401, description = "No session (an empty body)"),
        (status = 403, description = "`YOU_ARE_NOT_ALLOWED_TO_BAN_USERS`", body = shared::auth::AuthErrorBody),
        (status = 404, description = "`USER_NOT_FOUND`", body = shared::auth::AuthErrorBody),
    )
)]
#[post("/admin/unban-user")]
pub(in crate::auth::routes) async fn unban_user(
    req: HttpRequest,
    state: web::Data<AppState>,
    payload: web::Payload,
) -> Result<HttpResponse, AuthError> {
    let auth = &state.auth;
    let body = accept_write(&req, auth, payload).await?;
    let user_id = UserId::new(body.object()?.string("userId")?);
    let mut conn = state.pool.acquire().await?;
    let caller = admin_caller(
        &req,
        &state,
        &mut conn,
        ("user", "ban"),
        NOT_ALLOWED_TO_BAN_USERS,
    )
    .await?;
    let user = store::admin::unban(&mut conn, &user_id)
        .await?
        .ok_or(USER_NOT_FOUND)?;
    tracing::info!(user.id = %caller.user.id, target = %user_id, "administrator lifted a ban");
    Ok(HttpResponse::Ok().json(UserEnvelope {
        user: auth.user(&user),
    }))
}
