//! `DELETE /api/me`: the account and everything keyed to it, in one transaction, with a receipt
//! of what went. The proof is Better Auth's delete-user's: the password, or a session signed in
//! within the last day.

use actix_web::{HttpRequest, HttpResponse, delete, web};
use shared::UserId;
use shared::account::{DeleteAccount, DeletionReceipt};
use shared::error::Code;
use sqlx::PgConnection;

use crate::auth::attempts::{self, Account};
use crate::auth::password::{MAX_PASSWORD_LENGTH, js_length};
use crate::auth::store as auth_store;
use crate::auth::{AuthUser, Credential};
use crate::db::begin_for_user;
use crate::error::{ApiError, json_body_or_default};
use crate::state::AppState;

fn invalid_password() -> ApiError {
    ApiError::bad_request(Code::InvalidPassword.as_str(), "Invalid password")
}

/// Delete the account: sessions, sign-in accounts, conversations, messages and feedback. Send
/// the password, or call within a day of signing in (a session, not a JWT).
#[utoipa::path(
    tag = "account",
    request_body(content = DeleteAccount, description = "Optional: `{password}`"),
    responses(
        (status = 200, description = "Deleted; what was removed, table by table", body = DeletionReceipt),
        (status = 400, description = "`INVALID_PASSWORD`; `SESSION_EXPIRED` (no password, and not signed in within a day); `INVALID_JSON`", body = shared::ErrorBody),
        (status = 401, description = "Not signed in", body = shared::ErrorBody),
        (status = 415, description = "A body that is not JSON", body = shared::ErrorBody),
        (status = 422, description = "An unknown field", body = shared::ErrorBody),
        (status = 429, description = "`RATE_LIMITED`: 3 attempts per 10 s per address, as delete-user; or 10 wrong passwords in 5 min from this address (see `Retry-After`)", body = shared::ErrorBody),
    )
)]
#[delete("/me")]
pub async fn delete_me(
    user: AuthUser,
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let ip = state.auth.client_ip(&req);
    attempts::strict(&state, ip, "/api/me").await?;
    let body: DeleteAccount = json_body_or_default(&req, &body)?;
    prove_identity(&state, &user, ip, body.password.as_deref()).await?;
    let mut tx = begin_for_user(&state.pool, &user.id).await?;
    let receipt = erase(&mut tx, &user.id).await?;
    tx.commit().await?;
    tracing::info!(
        user.id = %user.id,
        conversations = receipt.conversations,
        messages = receipt.messages,
        "account deleted"
    );
    Ok(HttpResponse::Ok().json(receipt))
}

/// The password when one is given; otherwise a recent sign-in, or (for a user who signs in
/// elsewhere and has no password here) their issuer's token.
async fn prove_identity(
    state: &AppState,
    user: &AuthUser,
    ip: Option<std::net::IpAddr>,
    password: Option<&str>,
) -> Result<(), ApiError> {
    let mut conn = state.pool.acquire().await?;
    let stored = auth_store::credential_password(&mut conn, &user.id).await?;
    drop(conn);
    match (password.filter(|p| !p.is_empty()), stored) {
        (Some(password), Some(stored)) => {
            if js_length(password) > MAX_PASSWORD_LENGTH {
                return Err(invalid_password());
            }
            let account = Account::User(&user.id);
            if !attempts::verify::<ApiError>(state, account, ip, password, &stored).await? {
                return Err(invalid_password());
            }
            Ok(())
        }
        (Some(_), None) => Err(ApiError::bad_request(
            "CREDENTIAL_ACCOUNT_NOT_FOUND",
            "This account has no password; call from a session signed in within the last day",
        )),
        (None, stored) => {
            let issuer_only = stored.is_none() && user.via == Credential::Jwt;
            if user.via.is_fresh() || issuer_only {
                Ok(())
            } else {
                Err(ApiError::bad_request(
                    Code::SessionExpired.as_str(),
                    "Deleting the account needs your password, or a session signed in within the last day",
                ))
            }
        }
    }
}

/// Deletes every row keyed to the user, children first so each count is what that table lost.
/// Runs in the caller's row-level-security transaction for `user_id`.
pub async fn erase(conn: &mut PgConnection, user_id: &UserId) -> sqlx::Result<DeletionReceipt> {
    let id = user_id.as_str();
    let feedback = sqlx::query!("DELETE FROM message_feedback WHERE user_id = $1", id)
        .execute(&mut *conn)
        .await?
        .rows_affected();
    let messages = sqlx::query!("DELETE FROM message WHERE user_id = $1", id)
        .execute(&mut *conn)
        .await?
        .rows_affected();
    let conversations = sqlx::query!("DELETE FROM conversation WHERE user_id = $1", id)
        .execute(&mut *conn)
        .await?
        .rows_affected();
    let sessions = sqlx::query!(r#"DELETE FROM session WHERE "userId" = $1"#, id)
        .execute(&mut *conn)
        .await?
        .rows_affected();
    let accounts = sqlx::query!(r#"DELETE FROM account WHERE "userId" = $1"#, id)
        .execute(&mut *conn)
        .await?
        .rows_affected();
    // Better Auth keys verification rows by an identifier (the email, or a token) and keeps the
    // user's id or email as the value.
    let verifications = sqlx::query!(
        r#"DELETE FROM verification v USING "user" u
            WHERE u.id = $1 AND (v.identifier = u.email OR v.value IN (u.id, u.email))"#,
        id
    )
    .execute(&mut *conn)
    .await?
    .rows_affected();
    let users = sqlx::query!(r#"DELETE FROM "user" WHERE id = $1"#, id)
        .execute(&mut *conn)
        .await?
        .rows_affected();
    Ok(DeletionReceipt {
        users,
        sessions,
        accounts,
        verifications,
        conversations,
        messages,
        feedback,
    })
}
