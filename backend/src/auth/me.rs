//! `GET /api/me`: the signed-in user, for any credential `AuthUser` accepts. The simplest
//! proof that a cookie, a bearer token or a JWT (ours or an external issuer's) is good.

use actix_web::{HttpResponse, get, web};
use shared::auth::User;

use super::AuthUser;
use super::store;
use crate::error::ApiError;
use crate::state::AppState;

/// The caller's user record.
#[utoipa::path(
    tag = "account",
    responses(
        (status = 200, description = "The signed-in user", body = User),
        (status = 401, description = "No valid session cookie, bearer token or JWT", body = shared::ErrorBody),
    )
)]
#[get("/me")]
pub async fn get_me(user: AuthUser, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let mut conn = state.pool.acquire().await?;
    let row = store::user_by_id(&mut conn, &user.id)
        .await?
        .ok_or(ApiError::Unauthorized)?;
    Ok(HttpResponse::Ok().json(state.auth.user(&row)))
}
