//! The session endpoints: `get-session` (which slides the session and hands out a JWT), and
//! listing and revoking the user's sessions.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use serde::Deserialize;
use shared::auth::{RevokeSessionRequest, Session, SessionWithUser, StatusResponse};

use super::caller::{load_session, session_or_return};
use super::headers::AuthHeaders;
use super::prologue::accept_write;
use crate::auth::error::AuthError;
use crate::auth::{cookies, jwt, session, store};
use crate::state::AppState;

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
struct GetSessionQuery {
    /// Return the session without sliding its expiry.
    #[serde(default)]
    disable_refresh: Option<String>,
    /// Accepted for compatibility; Chatkeep has no cookie cache.
    #[serde(default)]
    #[allow(dead_code)]
    disable_cookie_cache: Option<String>,
}

/// The current session and user, or JSON `null` (still 200) when there is none. Slides the
/// session's expiry once a day, and returns a fresh JWT in `set-auth-jwt`.
#[utoipa::path(
    tag = "auth",
    params(GetSessionQuery),
    responses(
        (status = 200, description = "`{session, user}`, or `null` when signed out", body = Option<SessionWithUser>),
    )
)]
#[get("/get-session")]
pub(super) async fn get_session(
    req: HttpRequest,
    state: web::Data<AppState>,
    query: web::Query<GetSessionQuery>,
) -> Result<HttpResponse, AuthError> {
    let auth = &state.auth;
    let disable_refresh = query.disable_refresh.as_deref() == Some("true");
    let mut headers = AuthHeaders::default();
    let mut conn = state.pool.acquire().await?;
    let caller = load_session(&req, &state, &mut conn, &mut headers, disable_refresh).await?;
    drop(conn);

    let body = match caller {
        Some(caller) => {
            match auth.keys.signing_key().await {
                Ok(key) => {
                    headers.auth_jwt = Some(jwt::sign(
                        &key,
                        &caller.user,
                        &auth.origin,
                        auth.guests.enabled,
                    )?)
                }
                // Without a usable key the session is still worth returning; say why once.
                Err(e) => tracing::error!(
                    error = crate::telemetry::chain(e.as_ref()),
                    "cannot sign set-auth-jwt"
                ),
            }
            serde_json::to_value(SessionWithUser {
                session: Session::from(&caller.session),
                user: state.auth.user(&caller.user),
            })
            .map_err(anyhow::Error::from)?
        }
        None => {
            if headers.cookies.is_empty()
                && cookies::CookieNames::read(&req, &auth.cookies.session_data).is_some()
            {
                // A stale cookie-cache cookie from a Better Auth server: we keep no cache.
                headers.cookies.push(auth.cookies.clear_all()[1].clone());
            }
            serde_json::Value::Null
        }
    };
    Ok(headers
        .ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::PRAGMA, "no-cache"))
        .json(body))
}

/// Better Auth refuses `POST /get-session` unless `deferSessionRefresh` is on (it is not).
#[utoipa::path(
    tag = "auth",
    responses((status = 405, description = "`METHOD_NOT_ALLOWED_DEFER_SESSION_REQUIRED`", body = shared::auth::AuthErrorBody))
)]
#[post("/get-session")]
pub(super) async fn get_session_post() -> HttpResponse {
    let mut res = actix_web::ResponseError::error_response(
        &AuthError::METHOD_NOT_ALLOWED_DEFER_SESSION_REQUIRED,
    );
    let headers = res.headers_mut();
    headers.insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("no-store"),
    );
    headers.insert(header::PRAGMA, header::HeaderValue::from_static("no-cache"));
    res
}

/// The user's unexpired sessions (tokens included). Needs a session younger than a day.
#[utoipa::path(
    tag = "auth",
    responses(
        (status = 200, description = "Active sessions", body = Vec<Session>),
        (status = 401, description = "`UNAUTHORIZED`", body = shared::auth::AuthErrorBody),
        (status = 403, description = "`SESSION_NOT_FRESH`", body = shared::auth::AuthErrorBody),
    )
)]
#[get("/list-sessions")]
pub(super) async fn list_sessions(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AuthError> {
    let mut headers = AuthHeaders::default();
    let mut conn = state.pool.acquire().await?;
    let caller = session_or_return!(&req, &state, &mut conn, &mut headers);
    if !session::is_fresh(&caller.session, store::now()) {
        return Err(AuthError::SESSION_NOT_FRESH);
    }
    let sessions: Vec<Session> = store::active_sessions(&mut conn, &caller.user.id)
        .await?
        .iter()
        .map(Session::from)
        .collect();
    Ok(headers.ok().json(sessions))
}

/// Revoke one of the user's sessions by its raw token. Unknown or foreign tokens are ignored.
#[utoipa::path(
    tag = "auth",
    request_body = RevokeSessionRequest,
    responses(
        (status = 200, description = "Done (also when the token was not the user's)", body = StatusResponse),
        (status = 400, description = "`VALIDATION_ERROR`", body = shared::auth::AuthErrorBody),
        (status = 401, description = "`UNAUTHORIZED`", body = shared::auth::AuthErrorBody),
    )
)]
#[post("/revoke-session")]
pub(super) async fn revoke_session(
    req: HttpRequest,
    state: web::Data<AppState>,
    payload: web::Payload,
) -> Result<HttpResponse, AuthError> {
    let auth = &state.auth;
    let body = accept_write(&req, auth, payload).await?;
    let target = body.object()?.string("token")?.to_owned();

    let mut headers = AuthHeaders::default();
    let mut conn = state.pool.acquire().await?;
    let caller = session_or_return!(&req, &state, &mut conn, &mut headers);
    store::delete_user_session(&mut conn, &caller.user.id, &target).await?;
    if target == caller.session.token {
        headers.clear(auth);
    }
    Ok(headers.ok().json(StatusResponse { status: true }))
}

/// Revoke every session of the user, this one included.
#[utoipa::path(
    tag = "auth",
    responses(
        (status = 200, description = "All sessions revoked; cookies cleared", body = StatusResponse),
        (status = 401, description = "`UNAUTHORIZED`", body = shared::auth::AuthErrorBody),
    )
)]
#[post("/revoke-sessions")]
pub(super) async fn revoke_sessions(
    req: HttpRequest,
    state: web::Data<AppState>,
    payload: web::Payload,
) -> Result<HttpResponse, AuthError> {
    let auth = &state.auth;
    accept_write(&req, auth, payload).await?;
    let mut headers = AuthHeaders::default();
    let mut conn = state.pool.acquire().await?;
    let caller = session_or_return!(&req, &state, &mut conn, &mut headers);
    store::delete_all_sessions(&mut conn, &caller.user.id).await?;
    headers.clear(auth);
    Ok(headers.ok().json(StatusResponse { status: true }))
}

/// Revoke every other unexpired session of the user; this one stays.
#[utoipa::path(
    tag = "auth",
    responses(
        (status = 200, description = "Other sessions revoked", body = StatusResponse),
        (status = 401, description = "`UNAUTHORIZED`", body = shared::auth::AuthErrorBody),
    )
)]
#[post("/revoke-other-sessions")]
pub(super) async fn revoke_other_sessions(
    req: HttpRequest,
    state: web::Data<AppState>,
    payload: web::Payload,
) -> Result<HttpResponse, AuthError> {
    let auth = &state.auth;
    accept_write(&req, auth, payload).await?;
    let mut headers = AuthHeaders::default();
    let mut conn = state.pool.acquire().await?;
    let caller = session_or_return!(&req, &state, &mut conn, &mut headers);
    store::delete_other_sessions(&mut conn, &caller.user.id, &caller.session.token).await?;
    Ok(headers.ok().json(StatusResponse { status: true }))
}
