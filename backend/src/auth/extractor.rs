//! [`AuthUser`]: who is calling an `/api` route. Accepts a bearer session token (signed or raw)
//! or a bearer JWT signed by our JWKS or by a trusted external Better Auth server, and the
//! signed session cookie; when both are sent, a bearer credential that verifies wins, as on
//! `/api/auth`. Every failure is the same 401; the reason is logged at debug level, never the
//! credential.

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::http::Method;
use actix_web::{FromRequest, HttpRequest, web};

use chrono::{DateTime, Utc};
use shared::UserId;

use super::session::{self, Lookup};
use super::store;
use super::{jwt, link, origin};
use crate::db;
use crate::error::ApiError;
use crate::state::AppState;

/// The authenticated caller. Take it as a handler argument; its `id` scopes every query.
#[derive(Debug, Clone)]
pub struct AuthUser {
    pub id: UserId,
    /// What proved it: routes that need a recent sign-in (deleting the account) look here.
    pub via: Credential,
}

/// The credential that authenticated a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Credential {
    /// A session (cookie or bearer token) signed in at `signed_in_at`.
    Session { signed_in_at: DateTime<Utc> },
    /// A JWT: it proves a live session somewhere, not when it signed in.
    Jwt,
}

impl Credential {
    /// A session signed in within Better Auth's `freshAge` (a day).
    pub fn is_fresh(self) -> bool {
        match self {
            Self::Session { signed_in_at } => session::is_fresh_since(signed_in_at, Utc::now()),
            Self::Jwt => false,
        }
    }
}

impl FromRequest for AuthUser {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            let state = req
                .app_data::<web::Data<AppState>>()
                .cloned()
                .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("AppState is not registered")))?;
            // Cookie-bearing writes must come from a trusted origin (CSRF), as on /api/auth.
            if !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS) {
                origin::check(&req, &state.auth.trusted_origins, &state.auth.origin, false)
                    .map_err(|e| ApiError::Forbidden {
                        code: e.code().unwrap_or("INVALID_ORIGIN"),
                        message: e.to_string(),
                    })?;
            }
            match authenticate(&req, &state).await {
                Ok((user_id, via)) => {
                    tracing::Span::current().record("user.id", tracing::field::display(&user_id));
                    Ok(AuthUser { id: user_id, via })
                }
                Err(Rejection::Internal(e)) => Err(e),
                Err(reason) => {
                    tracing::debug!(reason = %reason, "unauthenticated request");
                    Err(ApiError::Unauthorized)
                }
            }
        })
    }
}

#[derive(Debug, thiserror::Error)]
enum Rejection {
    #[error("no credentials")]
    NoCredentials,
    #[error("session not found or expired")]
    DeadSession,
    #[error("bearer token has a bad signature")]
    BadBearer,
    #[error("JWT rejected: {0}")]
    Jwt(String),
    #[error("the JWT's user does not exist")]
    UnknownUser,
    #[error("the user is banned")]
    Banned,
    #[error(transparent)]
    Internal(ApiError),
}

impl From<sqlx::Error> for Rejection {
    /// The database away is a 503 here as on every route; anything else a 500.
    fn from(e: sqlx::Error) -> Self {
        Self::Internal(ApiError::from(e))
    }
}

/// The bearer credential decides when it verifies, as Better Auth's bearer plugin makes it
/// stand in for the cookie: a session token (signed or raw) then names the session, live or
/// not, and a JWT its user. A bearer value that does not verify is ignored for the cookie.
async fn authenticate(
    req: &HttpRequest,
    state: &AppState,
) -> Result<(UserId, Credential), Rejection> {
    let auth = &state.auth;
    let mut rejection = Rejection::NoCredentials;
    if let Some(value) = session::bearer_value(req) {
        if looks_like_jwt(value) {
            match jwt_user(state, value).await {
                Err(Rejection::Internal(e)) => return Err(Rejection::Internal(e)),
                Err(refused) => rejection = refused,
                Ok(user_id) => return Ok((user_id, Credential::Jwt)),
            }
        } else if let Some(token) = session::bearer_session_token(req, &auth.secrets) {
            return live_session_user(state, &token).await;
        } else {
            rejection = Rejection::BadBearer;
        }
    }
    match auth.cookies.session_token_from(req, &auth.secrets) {
        Some(token) => live_session_user(state, &token).await,
        None => Err(rejection),
    }
}

/// A compact JWS: three base64url parts, the first a JSON object (`eyJ`).
fn looks_like_jwt(value: &str) -> bool {
    value.starts_with("eyJ") && value.split('.').count() == 3
}

async fn live_session_user(
    state: &AppState,
    token: &str,
) -> Result<(UserId, Credential), Rejection> {
    let found =
        db::on_live_connection(&state.pool, async |conn| session::lookup(conn, token).await)
            .await?;
    match found {
        Lookup::Live(found) => {
            let (session, user) = *found;
            let signed_in_at = session.created_at;
            Ok((user.id, Credential::Session { signed_in_at }))
        }
        Lookup::Dead => Err(Rejection::DeadSession),
    }
}

async fn jwt_user(state: &AppState, token: &str) -> Result<UserId, Rejection> {
    let auth = &state.auth;
    let kid = jwt::kid(token).ok_or_else(|| Rejection::Jwt("no kid".into()))?;
    let own_key = auth
        .keys
        .public_key(&kid)
        .await
        .map_err(|e| Rejection::Internal(ApiError::Internal(e)))?;
    match (own_key, &auth.external) {
        (Some(key), _) => {
            let (sub, iat) = match auth.verified.get(token, jwt::LEEWAY_SECS as i64) {
                Some(seen) if seen.kid == kid => (seen.sub, seen.iat),
                _ => {
                    let claims = jwt::verify(token, &key.key, key.alg, &auth.origin, &auth.origin)
                        .map_err(|e| Rejection::Jwt(e.to_string()))?;
                    auth.verified
                        .insert(token, &kid, &claims.sub, claims.iat, claims.exp);
                    (claims.sub, claims.iat)
                }
            };
            if !key.admits(iat) {
                return Err(Rejection::Jwt(
                    "issued after its key expired (rotated out)".into(),
                ));
            }
            let user_id = UserId::new(sub);
            let user = db::on_live_connection(&state.pool, async |conn| {
                store::user_by_id(conn, &user_id).await
            })
            .await?;
            match user {
                // A ban bites on the next request, though the token lives 15 minutes.
                Some(user) if user.is_banned(Utc::now()) => Err(Rejection::Banned),
                Some(_) => Ok(user_id),
                // Signed by us, but the user has been deleted since.
                None => Err(Rejection::UnknownUser),
            }
        }
        (None, Some(issuer)) => {
            let claims = issuer
                .verify(token)
                .await
                .map_err(|e| Rejection::Jwt(e.to_string()))?;
            let mut conn = state.pool.acquire().await?;
            let user_id = link::local_user(&mut conn, issuer.settings(), claims)
                .await?
                .ok_or(Rejection::UnknownUser)?;
            // Banned here, whatever the issuer thinks of them.
            match store::ban_of(&mut conn, &user_id).await? {
                Some((true, until)) if until.is_none_or(|at| at > Utc::now()) => {
                    Err(Rejection::Banned)
                }
                _ => Ok(user_id),
            }
        }
        (None, None) => Err(Rejection::Jwt(format!("unknown kid {kid:?}"))),
    }
}
