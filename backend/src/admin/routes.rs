//! `GET /api/admin/users`: the Admin page's table. Anyone but an administrator gets a plain
//! 404, as for a route that does not exist; so does `/admin` in the browser
//! ([`is_admin_request`], which the app's page server asks).

use actix_web::{HttpRequest, HttpResponse, get, web};
use serde::Deserialize;
use shared::admin::{AccountPage, AccountRow};
use utoipa_actix_web::service_config::ServiceConfig;

use super::store;
use crate::auth::session::{self, Lookup};
use crate::auth::{self, AuthUser};
use crate::columns::iso_millis;
use crate::db;
use crate::error::ApiError;
use crate::state::AppState;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(list_accounts);
}

const DEFAULT_PAGE: i64 = 50;
const MAX_PAGE: i64 = 100;
const MAX_QUERY_CHARS: usize = 200;

fn not_found(req: &HttpRequest) -> ApiError {
    ApiError::NotFound(format!("No route matches {} {}", req.method(), req.path()))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct AccountsQuery {
    /// Only accounts whose email address or name holds this (any case; at most 200 characters).
    q: Option<String>,
    /// Page size, 1 to 100 (larger values are clamped); default 50.
    limit: Option<u32>,
    /// Accounts to skip (newest first).
    offset: Option<u32>,
}

/// Accounts, newest first, each with its numbers: sign-up, last activity, sign-in methods,
/// live sessions, conversations, messages, bytes stored and questions asked today. Never a
/// title or a message.
#[utoipa::path(
    tag = "admin",
    params(AccountsQuery),
    responses(
        (status = 200, description = "A page of accounts and the total that match", body = AccountPage),
        (status = 422, description = "`VALIDATION_ERROR`: `q` too long", body = shared::ErrorBody),
        (status = 401, description = "Not signed in", body = shared::ErrorBody),
        (status = 404, description = "Not an administrator: as if the route did not exist", body = shared::ErrorBody),
    )
)]
#[get("/admin/users")]
async fn list_accounts(
    req: HttpRequest,
    caller: AuthUser,
    state: web::Data<AppState>,
    query: web::Query<AccountsQuery>,
) -> Result<HttpResponse, ApiError> {
    let mut conn = state.pool.acquire().await?;
    let me = auth::store::user_by_id(&mut conn, &caller.id)
        .await?
        .ok_or(ApiError::Unauthorized)?;
    if !auth::admin::may(&state.auth, &me, "user", "list") {
        return Err(not_found(&req));
    }
    let q = query.q.as_deref().map(str::trim).filter(|q| !q.is_empty());
    if q.is_some_and(|q| q.chars().count() > MAX_QUERY_CHARS || q.contains('\0')) {
        return Err(ApiError::validation(format!(
            "q holds at most {MAX_QUERY_CHARS} characters, and no NUL"
        )));
    }
    let limit = query
        .limit
        .map_or(DEFAULT_PAGE, |l| i64::from(l).clamp(1, MAX_PAGE));
    let offset = i64::from(query.offset.unwrap_or(0));
    let (users, total) = store::find_users(&mut conn, q, limit, offset).await?;
    let ids: Vec<_> = users.iter().map(|u| u.id.clone()).collect();
    let mut usage = store::usage(&mut conn, &ids).await?;
    let accounts = users
        .into_iter()
        .map(|user| {
            let used = usage.remove(user.id.as_str()).unwrap_or_default();
            let last_active = used.last_message_at.max(used.last_session_at);
            AccountRow {
                name: user.name,
                email: user.email,
                email_verified: user.email_verified,
                role: user
                    .role
                    .unwrap_or_else(|| auth::store::DEFAULT_ROLE.to_owned()),
                banned: user.banned == Some(true),
                ban_reason: user.ban_reason,
                ban_expires: user.ban_expires.map(iso_millis),
                guest: user.is_anonymous,
                created_at: iso_millis(user.created_at),
                last_active_at: last_active.map(iso_millis),
                sign_in_methods: used.sign_in_methods,
                sessions: used.sessions,
                conversations: used.conversations,
                messages: used.messages,
                stored_bytes: used.stored_bytes,
                questions_today: used.questions_today,
                id: user.id,
            }
        })
        .collect();
    Ok(HttpResponse::Ok().json(AccountPage {
        accounts,
        total,
        limit,
        offset,
    }))
}

/// Whether the request carries an administrator's session (the browser's cookie, or a bearer
/// session token): the app's `/admin` page is a 404 for everyone else.
pub async fn is_admin_request(req: &HttpRequest, state: &AppState) -> bool {
    let Some(presented) = session::presented_token(req, &state.auth) else {
        return false;
    };
    let found = db::on_live_connection(&state.pool, async |conn| {
        session::lookup(conn, &presented.token).await
    })
    .await;
    match found {
        Ok(Lookup::Live(found)) => auth::admin::may(&state.auth, &found.1, "user", "list"),
        _ => false,
    }
}
