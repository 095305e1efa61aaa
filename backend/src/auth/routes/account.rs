//! The account: its name and image, its password, and deleting it with everything in it.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, post, web};
use shared::auth::{
    ChangePasswordRequest, ChangePasswordResponse, DeleteUserRequest, DeleteUserResponse,
    StatusResponse, UpdateUserRequest,
};
use shared::error::Code;

use super::caller::session_or_return;
use super::headers::AuthHeaders;
use super::prologue::{Issues, accept_write, validate_new_password};
use crate::auth::attempts::{self, Account};
use crate::auth::body::Fields;
use crate::auth::error::AuthError;
use crate::auth::password::{MAX_PASSWORD_LENGTH, js_length};
use crate::auth::{session, store};
use crate::db::begin_for_user;
use crate::state::AppState;

/// Change the user's name or image. The email cannot change here.
#[utoipa::path(
    tag = "auth",
    request_body = UpdateUserRequest,
    responses(
        (status = 200, description = "Updated; the session cookie is re-sent", body = StatusResponse),
        (status = 400, description = "`EMAIL_CAN_NOT_BE_UPDATED`, `VALIDATION_ERROR`, or `No fields to update`", body = shared::auth::AuthErrorBody),
        (status = 401, description = "`UNAUTHORIZED`", body = shared::auth::AuthErrorBody),
    )
)]
#[post("/update-user")]
pub(super) async fn update_user(
    req: HttpRequest,
    state: web::Data<AppState>,
    payload: web::Payload,
) -> Result<HttpResponse, AuthError> {
    let auth = &state.auth;
    let body = accept_write(&req, auth, payload).await?;
    let fields = match body.raw() {
        Some(serde_json::Value::Object(_)) => body.object()?,
        other => {
            let received = match other {
                None => "undefined",
                Some(serde_json::Value::Array(_)) => "array",
                Some(serde_json::Value::Null) => "null",
                Some(serde_json::Value::String(_)) => "string",
                Some(serde_json::Value::Number(_)) => "number",
                Some(_) => "boolean",
            };
            return Err(AuthError::validation(format!(
                "[body] Invalid input: expected record, received {received}"
            )));
        }
    };
    let mut headers = AuthHeaders::default();
    let mut conn = state.pool.acquire().await?;
    let caller = session_or_return!(&req, &state, &mut conn, &mut headers);

    let email_present = match fields.optional_string("email") {
        Ok(Some(e)) => !e.is_empty(),
        Ok(None) => false,
        Err(_) => true,
    };
    if email_present {
        return Err(AuthError::EMAIL_CAN_NOT_BE_UPDATED);
    }
    let name = fields.optional_string("name")?;
    let image = fields.nullable_string("image")?;
    if name.is_none() && image.is_none() {
        return Err(AuthError::NO_FIELDS_TO_UPDATE);
    }
    store::update_user(&mut conn, &caller.user.id, name, image).await?;
    // Better Auth re-sends the (same) session cookie so a cookie cache would pick up the change.
    headers.set_session(auth, &caller.session.token, caller.remember());
    Ok(headers.ok().json(StatusResponse { status: true }))
}

/// Change the password (the current one is required). With `revokeOtherSessions`, every
/// session ends and a new one is issued.
#[utoipa::path(
    tag = "auth",
    request_body = ChangePasswordRequest,
    responses(
        (status = 200, description = "Changed; `token` is the new session's when sessions were revoked", body = ChangePasswordResponse),
        (status = 400, description = "`INVALID_PASSWORD`, `PASSWORD_TOO_SHORT`, `PASSWORD_TOO_LONG`, `CREDENTIAL_ACCOUNT_NOT_FOUND`, `VALIDATION_ERROR`", body = shared::auth::AuthErrorBody),
        (status = 401, description = "`UNAUTHORIZED`", body = shared::auth::AuthErrorBody),
        (status = 429, description = "Rate limited (3 per 10 s); see `X-Retry-After`"),
    )
)]
#[post("/change-password")]
pub(super) async fn change_password(
    req: HttpRequest,
    state: web::Data<AppState>,
    payload: web::Payload,
) -> Result<HttpResponse, AuthError> {
    let auth = &state.auth;
    let body = accept_write(&req, auth, payload).await?;
    let ChangePasswordForm {
        new_password,
        current_password,
        revoke,
    } = ChangePasswordForm::parse(&body.object()?)?;

    let mut headers = AuthHeaders::default();
    let mut conn = state.pool.acquire().await?;
    let caller = session_or_return!(&req, &state, &mut conn, &mut headers);
    validate_new_password(new_password)?;
    if js_length(current_password) > MAX_PASSWORD_LENGTH {
        return Err(AuthError::PASSWORD_TOO_LONG);
    }
    let Some(stored) = store::credential_password(&mut conn, &caller.user.id).await? else {
        return Err(AuthError::CREDENTIAL_ACCOUNT_NOT_FOUND);
    };
    drop(conn);
    let attempt =
        attempts::admit(&state, Account::User(&caller.user.id), auth.client_ip(&req)).await?;
    // Better Auth hashes the new password before checking the current one.
    let new_hash = auth.hasher.hash(new_password).await?;
    if !auth.hasher.verify(current_password, &stored).await? {
        attempt.failed().await;
        return Err(AuthError::INVALID_PASSWORD);
    }
    attempt.succeeded().await;

    let mut tx = state.pool.begin().await?;
    store::set_credential_password(&mut tx, &caller.user.id, &new_hash).await?;
    let mut new_token = None;
    if revoke.unwrap_or(false) {
        store::delete_all_sessions(&mut tx, &caller.user.id).await?;
        let session = session::create(&mut tx, &caller.user.id, true, &req, auth).await?;
        headers.set_session(auth, &session.token, caller.remember());
        new_token = Some(session.token);
    }
    tx.commit().await?;
    tracing::info!(user.id = %caller.user.id, revoked = new_token.is_some(), "password changed");
    Ok(headers.ok().json(ChangePasswordResponse {
        token: new_token,
        user: state.auth.user(&caller.user),
    }))
}

/// Delete the account and everything in it: sessions, accounts, conversations and messages.
/// Needs the password, or a session younger than a day.
#[utoipa::path(
    tag = "auth",
    request_body = DeleteUserRequest,
    responses(
        (status = 200, description = "Deleted; cookies cleared", body = DeleteUserResponse),
        (status = 400, description = "`INVALID_PASSWORD`, `SESSION_EXPIRED`, `CREDENTIAL_ACCOUNT_NOT_FOUND`, `VALIDATION_ERROR`", body = shared::auth::AuthErrorBody),
        (status = 401, description = "`UNAUTHORIZED`", body = shared::auth::AuthErrorBody),
        (status = 404, description = "`INVALID_TOKEN`: Chatkeep issues no deletion tokens", body = shared::auth::AuthErrorBody),
    )
)]
#[post("/delete-user")]
pub(super) async fn delete_user(
    req: HttpRequest,
    state: web::Data<AppState>,
    payload: web::Payload,
) -> Result<HttpResponse, AuthError> {
    let auth = &state.auth;
    let body = accept_write(&req, auth, payload).await?;
    let DeleteUserForm {
        password,
        deletion_token,
    } = DeleteUserForm::parse(&body.object()?)?;

    let mut headers = AuthHeaders::default();
    let mut conn = state.pool.acquire().await?;
    let caller = session_or_return!(&req, &state, &mut conn, &mut headers);
    match (password.filter(|p| !p.is_empty()), deletion_token) {
        (Some(password), _) => {
            if js_length(password) > MAX_PASSWORD_LENGTH {
                return Err(AuthError::PASSWORD_TOO_LONG);
            }
            let Some(stored) = store::credential_password(&mut conn, &caller.user.id).await? else {
                return Err(AuthError::CREDENTIAL_ACCOUNT_NOT_FOUND);
            };
            // Hand the connection back while the hash runs.
            drop(conn);
            let account = Account::User(&caller.user.id);
            let ip = auth.client_ip(&req);
            if !attempts::verify::<AuthError>(&state, account, ip, password, &stored).await? {
                return Err(AuthError::INVALID_PASSWORD);
            }
            conn = state.pool.acquire().await?;
        }
        (None, Some(_)) => {
            return Err(AuthError::Body {
                status: StatusCode::NOT_FOUND,
                code: Some(Code::InvalidToken.as_str()),
                message: "Invalid token".into(),
            });
        }
        (None, None) => {
            if !session::is_fresh(&caller.session, store::now()) {
                return Err(AuthError::SESSION_EXPIRED);
            }
        }
    }
    drop(conn);
    let mut tx = begin_for_user(&state.pool, &caller.user.id).await?;
    crate::account::deletion::erase(&mut tx, &caller.user.id).await?;
    tx.commit().await?;
    tracing::info!(user.id = %caller.user.id, "account deleted");
    headers.clear(auth);
    Ok(headers.ok().json(DeleteUserResponse {
        success: true,
        message: "User deleted".to_owned(),
    }))
}

/// The change-password body, every field checked, every issue reported at once.
struct ChangePasswordForm<'a> {
    new_password: &'a str,
    current_password: &'a str,
    revoke: Option<bool>,
}

impl<'a> ChangePasswordForm<'a> {
    fn parse(fields: &Fields<'a>) -> Result<Self, AuthError> {
        let mut issues = Issues::default();
        let form = Self {
            new_password: issues.take(fields.string("newPassword")),
            current_password: issues.take(fields.string("currentPassword")),
            revoke: issues.take(fields.optional_bool("revokeOtherSessions")),
        };
        issues.finish()?;
        Ok(form)
    }
}

/// The delete-user body: a password, or a deletion token (which Chatkeep never issues).
struct DeleteUserForm<'a> {
    password: Option<&'a str>,
    deletion_token: Option<&'a str>,
}

impl<'a> DeleteUserForm<'a> {
    fn parse(fields: &Fields<'a>) -> Result<Self, AuthError> {
        let mut issues = Issues::default();
        let form = Self {
            password: issues.take(fields.optional_string("password")),
            deletion_token: issues.take(fields.optional_string("token")),
        };
        issues.take(fields.optional_string("callbackURL"));
        issues.finish()?;
        Ok(form)
    }
}
