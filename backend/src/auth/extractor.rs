//! [`AuthUser`]: who is calling an `/api` route. Accepts, in order, the signed session cookie,
//! a bearer session token (signed or raw), or a bearer JWT signed by our JWKS or by a trusted
//! external Better Auth server. Every failure is the same 401; the reason is logged at debug
//! level, never the credential.

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::http::Method;
use actix_web::{FromRequest, HttpRequest, web};

use super::session::{self, Lookup};
use super::store::{self, UserRow};
use super::{jwt, origin};
use crate::error::ApiError;
use crate::startup::AppState;

/// The authenticated caller. Take it as a handler argument; its `id` scopes every query.
#[derive(Debug, Clone)]
pub struct AuthUser {
    pub id: String,
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
                Ok(user_id) => {
                    tracing::Span::current().record("user.id", tracing::field::display(&user_id));
                    Ok(AuthUser { id: user_id })
                }
                Err(Rejection::Internal(e)) => Err(ApiError::Internal(e)),
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
    #[error(transparent)]
    Internal(anyhow::Error),
}

impl From<sqlx::Error> for Rejection {
    fn from(e: sqlx::Error) -> Self {
        Self::Internal(anyhow::Error::new(e).context("loading the caller"))
    }
}

async fn authenticate(req: &HttpRequest, state: &AppState) -> Result<String, Rejection> {
    let auth = &state.auth;
    let mut rejection = Rejection::NoCredentials;
    if let Some(token) = auth.cookies.session_token_from(req, auth.secret()) {
        match live_session_user(state, &token).await {
            // A stale cookie must not hide a good bearer credential sent alongside it.
            Err(Rejection::DeadSession) => rejection = Rejection::DeadSession,
            result => return result,
        }
    }
    let Some(value) = session::bearer_value(req) else {
        return Err(rejection);
    };
    if looks_like_jwt(value) {
        return jwt_user(state, value).await;
    }
    let token = session::bearer_session_token(req, auth.secret()).ok_or(Rejection::BadBearer)?;
    live_session_user(state, &token).await
}

/// A compact JWS: three base64url parts, the first a JSON object (`eyJ`).
fn looks_like_jwt(value: &str) -> bool {
    value.starts_with("eyJ") && value.split('.').count() == 3
}

async fn live_session_user(state: &AppState, token: &str) -> Result<String, Rejection> {
    let mut conn = state.pool.acquire().await?;
    match session::lookup(&mut conn, token).await? {
        Lookup::Live(found) => Ok(found.1.id),
        Lookup::Dead => Err(Rejection::DeadSession),
    }
}

async fn jwt_user(state: &AppState, token: &str) -> Result<String, Rejection> {
    let auth = &state.auth;
    let kid = jwt::kid(token).ok_or_else(|| Rejection::Jwt("no kid".into()))?;
    let own_key = auth
        .keys
        .public_key(&kid)
        .await
        .map_err(Rejection::Internal)?;
    let (claims, external) = match (own_key, &auth.external) {
        (Some(key), _) => (
            jwt::verify(token, &key.key, key.alg, &auth.origin, &auth.origin)
                .map_err(|e| Rejection::Jwt(e.to_string()))?,
            false,
        ),
        (None, Some(issuer)) => (
            issuer
                .verify(token)
                .await
                .map_err(|e| Rejection::Jwt(e.to_string()))?,
            true,
        ),
        (None, None) => return Err(Rejection::Jwt(format!("unknown kid {kid:?}"))),
    };
    let mut conn = state.pool.acquire().await?;
    if store::user_by_id(&mut conn, &claims.sub).await?.is_some() {
        return Ok(claims.sub);
    }
    if !external {
        // Signed by us, but the user has been deleted since.
        return Err(Rejection::UnknownUser);
    }
    provision(&mut conn, claims).await
}

/// First sight of an external issuer's user: create them locally from the token's claims so
/// their conversations have an owner. Better Auth puts the whole user in its JWTs.
async fn provision(
    conn: &mut sqlx::PgConnection,
    claims: jwt::VerifiedClaims,
) -> Result<String, Rejection> {
    let Some(email) = claims.email.filter(|e| !e.is_empty()) else {
        return Err(Rejection::Jwt(
            "no email claim to provision the user from".into(),
        ));
    };
    let parse = |s: Option<String>| {
        s.and_then(|s| chrono::DateTime::parse_from_rfc3339(&s).ok())
            .map(|d| d.with_timezone(&chrono::Utc))
            .unwrap_or_else(store::now)
    };
    let user = UserRow {
        id: claims.sub,
        name: claims.name.unwrap_or_default(),
        email: email.to_lowercase(),
        email_verified: claims.email_verified.unwrap_or(false),
        image: claims.image,
        created_at: parse(claims.created_at),
        updated_at: parse(claims.updated_at),
    };
    if store::provision_user(conn, &user).await? {
        tracing::info!(user.id = %user.id, "provisioned a user from the external issuer");
        return Ok(user.id);
    }
    // Lost a race with another request provisioning the same user, or the email belongs to a
    // different local account (which we must not hand over).
    match store::user_by_id(conn, &user.id).await? {
        Some(_) => Ok(user.id),
        None => {
            tracing::warn!(user.id = %user.id, "external user's email belongs to another local account");
            Err(Rejection::UnknownUser)
        }
    }
}
