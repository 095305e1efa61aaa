//! Changing and removing accounts: `POST /admin/update-user`, `POST /admin/set-role` and
//! `POST /admin/remove-user`.

use actix_web::{HttpRequest, HttpResponse, post, web};
use chrono::{DateTime, Utc};
use serde_json::Value;
use shared::UserId;
use shared::admin::{SetRole, UpdateUser, UserEnvelope, UserIdBody};
use shared::auth::SuccessResponse;

use super::super::prologue::{Issues, accept_write};
use super::{
    ADDRESS_TAKEN, NO_DATA_TO_UPDATE, NOT_ALLOWED_TO_BAN_USERS, NOT_ALLOWED_TO_CHANGE_USERS_ROLE,
    NOT_ALLOWED_TO_DELETE_USERS, NOT_ALLOWED_TO_SET_USERS_EMAIL, NOT_ALLOWED_TO_UPDATE_USERS,
    PASSWORD_CANNOT_BE_UPDATED_VIA_UPDATE_USER, USER_ID_CANNOT_BE_UPDATED, USER_NOT_FOUND,
    YOU_CANNOT_BAN_YOURSELF, YOU_CANNOT_REMOVE_YOURSELF, admin_caller, also_may, roles_of,
};
use crate::auth::body::{self, Fields};
use crate::auth::error::AuthError;
use crate::auth::store::{self, admin::UserChanges};
use crate::db::begin_for_user;
use crate::state::AppState;

/// The fields `update-user` knows; anything else is refused by name.
const UPDATABLE: [&str; 8] = [
    "name",
    "image",
    "email",
    "emailVerified",
    "role",
    "banned",
    "banReason",
    "banExpires",
];

/// A date as the client sends one: an ISO string (JSON has no dates), or `null`.
fn nullable_date(data: &Fields<'_>, key: &str) -> Result<Option<Option<DateTime<Utc>>>, AuthError> {
    match data.value(key) {
        None => Ok(None),
        Some(Value::Null) => Ok(Some(None)),
        Some(Value::String(s)) => DateTime::parse_from_rfc3339(s)
            .map(|d| Some(Some(d.with_timezone(&Utc))))
            .map_err(|_| AuthError::validation(format!("[body.data.{key}] Invalid date"))),
        Some(_) => Err(AuthError::validation(format!(
            "[body.data.{key}] Invalid input: expected date"
        ))),
    }
}

/// Changes a user's fields; a ban set here also ends their sessions.
#[utoipa::path(
    tag = "admin",
    request_body = UpdateUser,
    responses(
        (status = 200, description = "The updated user (no `{user}` envelope)", body = shared::auth::User),
        (status = 400, description = "`NO_DATA_TO_UPDATE`, `PASSWORD_CANNOT_BE_UPDATED_VIA_UPDATE_USER`, `USER_ID_CANNOT_BE_UPDATED`, `INVALID_ROLE_TYPE`, `YOU_CANNOT_BAN_YOURSELF`, `INVALID_EMAIL`, `USER_ALREADY_EXISTS_USE_ANOTHER_EMAIL`, `VALIDATION_ERROR`", body = shared::auth::AuthErrorBody),
        (status = 401, description = "No session (an empty body)"),
        (status = 403, description = "`YOU_ARE_NOT_ALLOWED_TO_UPDATE_USERS`; `…_CHANGE_USERS_ROLE`, `…_BAN_USERS`, `…_SET_USERS_EMAIL` for those fields", body = shared::auth::AuthErrorBody),
        (status = 404, description = "`USER_NOT_FOUND`", body = shared::auth::AuthErrorBody),
    )
)]
#[post("/admin/update-user")]
pub(in crate::auth::routes) async fn update_user(
    req: HttpRequest,
    state: web::Data<AppState>,
    payload: web::Payload,
) -> Result<HttpResponse, AuthError> {
    let auth = &state.auth;
    let body = accept_write(&req, auth, payload).await?;
    let fields = body.object()?;
    let mut issues = Issues::default();
    let user_id = issues.take(fields.string("userId"));
    let data = issues.take(fields.object("data").map(Some));
    issues.finish()?;
    let (user_id, data) = (UserId::new(user_id), data.expect("checked above"));

    let mut conn = state.pool.acquire().await?;
    let caller = admin_caller(
        &req,
        &state,
        &mut conn,
        ("user", "update"),
        NOT_ALLOWED_TO_UPDATE_USERS,
    )
    .await?;
    if data.keys().next().is_none() {
        return Err(NO_DATA_TO_UPDATE);
    }
    if data.has("password") {
        return Err(PASSWORD_CANNOT_BE_UPDATED_VIA_UPDATE_USER);
    }
    if data.has("id") {
        return Err(USER_ID_CANNOT_BE_UPDATED);
    }
    if let Some(unknown) = data.keys().find(|k| !UPDATABLE.contains(k)) {
        return Err(AuthError::validation(format!(
            "[body.data.{unknown}] Unknown field: users have no such field here"
        )));
    }
    let mut changes = UserChanges {
        name: data.optional_string("name")?.map(str::to_owned),
        image: data.nullable_string("image")?.map(|i| i.map(str::to_owned)),
        email_verified: data.optional_bool("emailVerified")?,
        banned: data.optional_bool("banned")?,
        ban_reason: data
            .nullable_string("banReason")?
            .map(|r| r.map(str::to_owned)),
        ban_expires: nullable_date(&data, "banExpires")?,
        ..UserChanges::default()
    };
    if data.has("role") {
        also_may(
            &state,
            &caller,
            "set-role",
            NOT_ALLOWED_TO_CHANGE_USERS_ROLE,
        )?;
        changes.role = roles_of(&data, "role")?;
    }
    if ["banned", "banReason", "banExpires"]
        .iter()
        .any(|k| data.has(k))
    {
        also_may(&state, &caller, "ban", NOT_ALLOWED_TO_BAN_USERS)?;
        if changes.banned == Some(true) && user_id == caller.user.id {
            return Err(YOU_CANNOT_BAN_YOURSELF);
        }
    }
    if data.has("email") || data.has("emailVerified") {
        also_may(&state, &caller, "set-email", NOT_ALLOWED_TO_SET_USERS_EMAIL)?;
        if let Some(email) = data.optional_string("email")? {
            let email = email.to_lowercase();
            if !body::is_email(&email) {
                return Err(AuthError::INVALID_EMAIL);
            }
            if store::user_by_email(&mut conn, &email)
                .await?
                .is_some_and(|other| other.id != user_id)
            {
                return Err(ADDRESS_TAKEN);
            }
            changes.email = Some(email);
        }
    }
    let mut tx = state.pool.begin().await?;
    let updated = store::admin::update_user(&mut tx, &user_id, &changes)
        .await?
        .ok_or(USER_NOT_FOUND)?;
    if changes.banned == Some(true) {
        store::delete_all_sessions(&mut tx, &user_id).await?;
    }
    tx.commit().await?;
    tracing::info!(user.id = %caller.user.id, target = %user_id, "administrator updated a user");
    Ok(HttpResponse::Ok().json(auth.user(&updated)))
}

/// Sets a user's role, or roles (stored comma-joined).
#[utoipa::path(
    tag = "admin",
    request_body = SetRole,
    responses(
        (status = 200, description = "`{user}`", body = UserEnvelope),
        (status = 400, description = "`INVALID_ROLE_TYPE`, `VALIDATION_ERROR`", body = shared::auth::AuthErrorBody),
        (status = 401, description = "No session (an empty body)"),
        (status = 403, description = "`YOU_ARE_NOT_ALLOWED_TO_CHANGE_USERS_ROLE`", body = shared::auth::AuthErrorBody),
        (status = 404, description = "`USER_NOT_FOUND`", body = shared::auth::AuthErrorBody),
    )
)]
#[post("/admin/set-role")]
pub(in crate::auth::routes) async fn set_role(
    req: HttpRequest,
    state: web::Data<AppState>,
    payload: web::Payload,
) -> Result<HttpResponse, AuthError> {
    let auth = &state.auth;
    let body = accept_write(&req, auth, payload).await?;
    let fields = body.object()?;
    let user_id = UserId::new(fields.string("userId")?);
    let role = roles_of(&fields, "role")?.ok_or_else(|| {
        AuthError::validation(
            "[body.role] Invalid input: expected string, received undefined".to_owned(),
        )
    })?;

    let mut conn = state.pool.acquire().await?;
    let caller = admin_caller(
        &req,
        &state,
        &mut conn,
        ("user", "set-role"),
        NOT_ALLOWED_TO_CHANGE_USERS_ROLE,
    )
    .await?;
    let user = store::admin::set_role(&mut conn, &user_id, &role)
        .await?
        .ok_or(USER_NOT_FOUND)?;
    tracing::info!(user.id = %caller.user.id, target = %user_id, role, "administrator set a role");
    Ok(HttpResponse::Ok().json(UserEnvelope {
        user: auth.user(&user),
    }))
}

/// Deletes a user and everything theirs (sessions, sign-in accounts, conversations, messages,
/// feedback), as `DELETE /api/me` does for oneself.
#[utoipa::path(
    tag = "admin",
    request_body = UserIdBody,
    responses(
        (status = 200, description = "`{success: true}`", body = SuccessResponse),
        (status = 400, description = "`YOU_CANNOT_REMOVE_YOURSELF`, `VALIDATION_ERROR`", body = shared::auth::AuthErrorBody),
        (status = 401, description = "No session (an empty body)"),
        (status = 403, description = "`YOU_ARE_NOT_ALLOWED_TO_DELETE_USERS`", body = shared::auth::AuthErrorBody),
        (status = 404, description = "`USER_NOT_FOUND`", body = shared::auth::AuthErrorBody),
    )
)]
#[post("/admin/remove-user")]
pub(in crate::auth::routes) async fn remove_user(
    req: HttpRequest,
    state: web::Data<AppState>,
    payload: web::Payload,
) -> Result<HttpResponse, AuthError> {
    let body = accept_write(&req, &state.auth, payload).await?;
    let user_id = UserId::new(body.object()?.string("userId")?);
    let mut conn = state.pool.acquire().await?;
    let caller = admin_caller(
        &req,
        &state,
        &mut conn,
        ("user", "delete"),
        NOT_ALLOWED_TO_DELETE_USERS,
    )
    .await?;
    if user_id == caller.user.id {
        return Err(YOU_CANNOT_REMOVE_YOURSELF);
    }
    store::user_by_id(&mut conn, &user_id)
        .await?
        .ok_or(USER_NOT_FOUND)?;
    drop(conn);
    // Scoped to the user being removed, as their own deletion is: row-level security lets the
    // deletes see their rows and nobody else's, and nothing is read back but counts.
    let mut tx = begin_for_user(&state.pool, &user_id).await?;
    let receipt = crate::account::deletion::erase(&mut tx, &user_id).await?;
    tx.commit().await?;
    tracing::info!(
        user.id = %caller.user.id,
        target = %user_id,
        conversations = receipt.conversations,
        "administrator removed a user"
    );
    Ok(HttpResponse::Ok().json(SuccessResponse { success: true }))
}
