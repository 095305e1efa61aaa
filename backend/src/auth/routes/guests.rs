//! Better Auth's anonymous plugin: `POST /sign-in/anonymous` makes a guest, and
//! `POST /delete-anonymous-user` removes one. When a guest signs up or signs in, their
//! conversations move to that account ([`adopt`]). All of it answers an empty 404, as an unknown
//! route does, unless `ANONYMOUS_SIGN_IN` is on.

use actix_web::{HttpRequest, HttpResponse, post, web};
use shared::UserId;
use shared::auth::{AnonymousSignInResponse, SuccessResponse};
use sqlx::{Connection, PgConnection};

use super::caller;
use super::headers::AuthHeaders;
use super::prologue::{accept_write, check_login_csrf};
use crate::auth::error::AuthError;
use crate::auth::session::{self, Lookup};
use crate::auth::store;
use crate::state::AppState;

/// Start chatting as a guest: a new anonymous user and their session.
#[utoipa::path(
    tag = "auth",
    responses(
        (status = 200, description = "A guest's session: sets the session cookie and `set-auth-token`", body = AnonymousSignInResponse),
        (status = 400, description = "`ANONYMOUS_USERS_CANNOT_SIGN_IN_AGAIN_ANONYMOUSLY`: the caller is a guest already", body = shared::auth::AuthErrorBody),
        (status = 403, description = "Origin or Fetch-Metadata check failed", body = shared::auth::AuthErrorBody),
        (status = 404, description = "Guests are off (`ANONYMOUS_SIGN_IN`)"),
        (status = 429, description = "Rate limited (3 per 10 s per address); see `X-Retry-After`"),
    )
)]
#[post("/sign-in/anonymous")]
pub(super) async fn sign_in_anonymous(
    req: HttpRequest,
    state: web::Data<AppState>,
    payload: web::Payload,
) -> Result<HttpResponse, AuthError> {
    let auth = &state.auth;
    if !auth.guests.enabled {
        return Ok(HttpResponse::NotFound().finish());
    }
    accept_write(&req, auth, payload).await?;
    check_login_csrf(&req, auth)?;
    let mut conn = state.pool.acquire().await?;
    let mut headers = AuthHeaders::default();
    if let Some(caller) = caller::load_session(&req, &state, &mut conn, &mut headers, true).await?
        && caller.user.is_anonymous
    {
        return Err(AuthError::ANONYMOUS_USERS_CANNOT_SIGN_IN_AGAIN_ANONYMOUSLY);
    }
    let remember = !auth.cookies.dont_remember_from(&req, &auth.secrets);
    let mut tx = conn.begin().await?;
    let user = store::insert_guest(&mut tx).await?;
    let session = session::create(&mut tx, &user.id, remember, &req, auth).await?;
    tx.commit().await?;
    tracing::Span::current().record("user.id", tracing::field::display(&user.id));
    tracing::info!(user.id = %user.id, "a guest started");
    headers.set_session(auth, &session.token, remember);
    Ok(headers.ok().json(AnonymousSignInResponse {
        token: session.token,
        user: auth.user(&user),
    }))
}

/// A guest leaves: their account, sessions and conversations are deleted.
#[utoipa::path(
    tag = "auth",
    responses(
        (status = 200, description = "Deleted; cookies cleared", body = SuccessResponse),
        (status = 401, description = "No session", body = shared::auth::AuthErrorBody),
        (status = 403, description = "`USER_IS_NOT_ANONYMOUS`, or the Origin check failed", body = shared::auth::AuthErrorBody),
        (status = 404, description = "Guests are off (`ANONYMOUS_SIGN_IN`)"),
    )
)]
#[post("/delete-anonymous-user")]
pub(super) async fn delete_anonymous_user(
    req: HttpRequest,
    state: web::Data<AppState>,
    payload: web::Payload,
) -> Result<HttpResponse, AuthError> {
    let auth = &state.auth;
    if !auth.guests.enabled {
        return Ok(HttpResponse::NotFound().finish());
    }
    accept_write(&req, auth, payload).await?;
    let mut conn = state.pool.acquire().await?;
    let mut headers = AuthHeaders::default();
    let caller = match caller::require_session(&req, &state, &mut conn, &mut headers).await {
        Ok(caller) => caller,
        Err(response) => return Ok(response),
    };
    if !caller.user.is_anonymous {
        return Err(AuthError::USER_IS_NOT_ANONYMOUS);
    }
    store::delete_guest(&mut conn, &caller.user.id).await?;
    tracing::info!(user.id = %caller.user.id, "a guest left");
    headers.clear(auth);
    Ok(headers.ok().json(SuccessResponse { success: true }))
}

/// The guest whose live session this request presents, if it presents one (before a sign-in or
/// sign-up replaces it).
pub(super) async fn presented_guest(
    req: &HttpRequest,
    state: &AppState,
    conn: &mut PgConnection,
) -> Result<Option<UserId>, AuthError> {
    if !state.auth.guests.enabled {
        return Ok(None);
    }
    let Some(presented) = session::presented_token(req, &state.auth) else {
        return Ok(None);
    };
    Ok(match session::lookup(conn, &presented.token).await? {
        Lookup::Live(found) if found.1.is_anonymous => Some(found.1.id.clone()),
        _ => None,
    })
}

/// Moves `guest`'s conversations to `account`, which they just signed up for or signed in to,
/// and deletes the guest, in one transaction. As Better Auth's link step, a failure is logged
/// and the sign-in stands (the guest and their chats are then left as they were).
pub(super) async fn adopt(state: &AppState, guest: UserId, account: &UserId) {
    if guest == *account {
        return;
    }
    let moved: sqlx::Result<u64> = async {
        let mut tx = crate::db::begin_for_user(&state.pool, account).await?;
        let moved = store::adopt_guest(&mut tx, &guest).await?;
        tx.commit().await?;
        Ok(moved)
    }
    .await;
    match moved {
        Ok(conversations) => tracing::info!(
            user.id = %account,
            guest = %guest,
            conversations,
            "a guest's conversations moved to the account they signed in to"
        ),
        Err(e) => tracing::error!(
            user.id = %account,
            guest = %guest,
            error = crate::telemetry::chain(&e),
            "moving a guest's conversations failed; the guest is kept"
        ),
    }
}
