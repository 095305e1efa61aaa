//! The user's ways in: `GET /list-accounts` (the password and each provider) and
//! `POST /unlink-account`, which never removes the last one.

use actix_web::{HttpRequest, HttpResponse, get, post, web};
use shared::auth::{LinkedAccount, StatusResponse, UnlinkAccountRequest};
use sqlx::Connection;

use super::caller::session_or_return;
use super::headers::AuthHeaders;
use super::prologue::accept_write;
use crate::auth::error::AuthError;
use crate::auth::{session, store};
use crate::state::AppState;

/// The signed-in user's accounts: `credential` (the password) and each linked provider.
#[utoipa::path(
    tag = "auth",
    responses(
        (status = 200, description = "Oldest first; never a token or a password hash", body = [LinkedAccount]),
        (status = 401, description = "`UNAUTHORIZED`", body = shared::auth::AuthErrorBody),
    )
)]
#[get("/list-accounts")]
pub(super) async fn list_accounts(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AuthError> {
    let mut conn = state.pool.acquire().await?;
    let mut headers = AuthHeaders::default();
    let caller = session_or_return!(&req, &state, &mut conn, &mut headers);
    let accounts: Vec<LinkedAccount> = store::accounts_of(&mut conn, &caller.user.id)
        .await?
        .into_iter()
        .map(|a| LinkedAccount {
            account_id: a.account_id,
            provider_id: a.provider_id,
            user_id: a.user_id.as_str().to_owned(),
            created_at: crate::columns::iso_millis(a.created_at),
            updated_at: crate::columns::iso_millis(a.updated_at),
            id: a.id,
            // Better Auth's `parseStoredScopes`: stored comma-joined.
            scopes: a
                .scope
                .unwrap_or_default()
                .split([',', ' '])
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect(),
        })
        .collect();
    Ok(headers.ok().json(accounts))
}

/// Unlink one of the user's accounts (its row id, from `list-accounts`). Needs a session
/// signed in within the last day; the last account cannot go.
#[utoipa::path(
    tag = "auth",
    request_body = UnlinkAccountRequest,
    responses(
        (status = 200, description = "Unlinked", body = StatusResponse),
        (status = 400, description = "`FAILED_TO_UNLINK_LAST_ACCOUNT`, `ACCOUNT_NOT_FOUND`, `VALIDATION_ERROR`", body = shared::auth::AuthErrorBody),
        (status = 401, description = "`UNAUTHORIZED`", body = shared::auth::AuthErrorBody),
        (status = 403, description = "`SESSION_NOT_FRESH`, or the Origin check failed", body = shared::auth::AuthErrorBody),
    )
)]
#[post("/unlink-account")]
pub(super) async fn unlink_account(
    req: HttpRequest,
    state: web::Data<AppState>,
    payload: web::Payload,
) -> Result<HttpResponse, AuthError> {
    let body = accept_write(&req, &state.auth, payload).await?;
    let mut conn = state.pool.acquire().await?;
    let mut headers = AuthHeaders::default();
    let caller = session_or_return!(&req, &state, &mut conn, &mut headers);
    if !session::is_fresh(&caller.session, store::now()) {
        return Err(AuthError::SESSION_NOT_FRESH);
    }
    let account_id = body.object()?.string("accountId")?;
    let mut tx = conn.begin().await?;
    store::lock_user(&mut tx, &caller.user.id).await?;
    let accounts = store::accounts_of(&mut tx, &caller.user.id).await?;
    if accounts.len() <= 1 {
        return Err(AuthError::FAILED_TO_UNLINK_LAST_ACCOUNT);
    }
    if !accounts.iter().any(|a| a.id == account_id)
        || !store::delete_account(&mut tx, &caller.user.id, account_id).await?
    {
        return Err(AuthError::ACCOUNT_NOT_FOUND);
    }
    tx.commit().await?;
    tracing::info!(user.id = %caller.user.id, "an account was unlinked");
    Ok(headers.ok().json(StatusResponse { status: true }))
}
