//! The jwt plugin's `GET /token` and `GET /jwks`, and Better Auth's `GET /ok`.

use actix_web::{HttpRequest, HttpResponse, get, web};
use shared::auth::TokenResponse;

use super::caller::session_or_return;
use super::headers::AuthHeaders;
use crate::auth::error::AuthError;
use crate::auth::jwt;
use crate::state::AppState;

/// Better Auth's liveness probe.
#[utoipa::path(
    tag = "auth",
    responses((status = 200, description = "`{\"ok\": true}`"))
)]
#[get("/ok")]
pub(super) async fn ok() -> HttpResponse {
    HttpResponse::Ok().json(serde_json::json!({ "ok": true }))
}

/// A 15-minute EdDSA JWT for the current session (claims: the user, `sub`, `iss`, `aud`).
#[utoipa::path(
    tag = "auth",
    responses(
        (status = 200, description = "The JWT", body = TokenResponse),
        (status = 401, description = "`UNAUTHORIZED`", body = shared::auth::AuthErrorBody),
    )
)]
#[get("/token")]
pub(super) async fn jwt_token(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AuthError> {
    let mut headers = AuthHeaders::default();
    let mut conn = state.pool.acquire().await?;
    let caller = session_or_return!(&req, &state, &mut conn, &mut headers);
    drop(conn);
    let key = state.auth.keys.signing_key().await?;
    let token = jwt::sign(
        &key,
        &caller.user,
        &state.auth.origin,
        state.auth.guests.enabled,
    )?;
    Ok(headers.ok().json(TokenResponse { token }))
}

/// The public keys JWTs are signed with (`kid` = `jwks.id`).
#[utoipa::path(
    tag = "auth",
    responses((status = 200, description = "`{\"keys\": [{alg, crv, x, kty, kid}]}`"))
)]
#[get("/jwks")]
pub(super) async fn jwks(state: web::Data<AppState>) -> Result<HttpResponse, AuthError> {
    Ok(HttpResponse::Ok().json(state.auth.keys.jwks_document().await?))
}
