//! Making accounts and passwords for people: `POST /admin/create-user` and
//! `POST /admin/set-user-password`.

use actix_web::{HttpRequest, HttpResponse, post, web};
use shared::UserId;
use shared::admin::{CreateUser, SetUserPassword, UserEnvelope};
use shared::auth::StatusResponse;

use super::super::prologue::{Issues, accept_write, validate_new_password};
use super::{
    ADDRESS_TAKEN, NOT_ALLOWED_TO_BAN_USERS, NOT_ALLOWED_TO_CHANGE_USERS_ROLE,
    NOT_ALLOWED_TO_CREATE_USERS, NOT_ALLOWED_TO_SET_USERS_PASSWORD, USER_NOT_FOUND, admin_caller,
    also_may, roles_of,
};
use crate::auth::body;
use crate::auth::error::AuthError;
use crate::auth::password::{MAX_PASSWORD_LENGTH, js_length};
use crate::auth::store;
use crate::state::AppState;

/// A user made by an administrator, with a password or without one (then they come in
/// through a provider or a reset link).
#[utoipa::path(
    tag = "admin",
    request_body = CreateUser,
    responses(
        (status = 200, description = "`{user}`", body = UserEnvelope),
        (status = 400, description = "`INVALID_EMAIL`, `PASSWORD_TOO_LONG`, `INVALID_ROLE_TYPE`, `USER_ALREADY_EXISTS_USE_ANOTHER_EMAIL`, `VALIDATION_ERROR`", body = shared::auth::AuthErrorBody),
        (status = 401, description = "No session (an empty body)"),
        (status = 403, description = "`YOU_ARE_NOT_ALLOWED_TO_CREATE_USERS`; `…_CHANGE_USERS_ROLE` for a role; `…_BAN_USERS` for ban fields", body = shared::auth::AuthErrorBody),
    )
)]
#[post("/admin/create-user")]
pub(in crate::auth::routes) async fn create_user(
    req: HttpRequest,
    state: web::Data<AppState>,
    payload: web::Payload,
) -> Result<HttpResponse, AuthError> {
    let auth = &state.auth;
    let body = accept_write(&req, auth, payload).await?;
    let fields = body.object()?;
    let mut issues = Issues::default();
    let email = issues.take(fields.string("email"));
    let name = issues.take(fields.string("name"));
    let password = issues.take(fields.optional_string("password"));
    let data = match fields.value("data") {
        None => None,
        Some(_) => issues.take(fields.object("data").map(Some)),
    };
    issues.finish()?;
    let data_role = match &data {
        Some(data) => roles_of(data, "role")?,
        None => None,
    };
    let role = roles_of(&fields, "role")?.or(data_role);
    let (email_verified, image) = match &data {
        Some(data) => (
            data.optional_bool("emailVerified")?.unwrap_or(false),
            data.nullable_string("image")?.flatten(),
        ),
        None => (false, None),
    };

    let mut conn = state.pool.acquire().await?;
    let caller = admin_caller(
        &req,
        &state,
        &mut conn,
        ("user", "create"),
        NOT_ALLOWED_TO_CREATE_USERS,
    )
    .await?;
    if role.is_some() {
        also_may(
            &state,
            &caller,
            "set-role",
            NOT_ALLOWED_TO_CHANGE_USERS_ROLE,
        )?;
    }
    if data.as_ref().is_some_and(|d| {
        ["banned", "banReason", "banExpires"]
            .iter()
            .any(|k| d.has(k))
    }) {
        also_may(&state, &caller, "ban", NOT_ALLOWED_TO_BAN_USERS)?;
    }
    let email = email.to_lowercase();
    if !body::is_email(&email) {
        return Err(AuthError::INVALID_EMAIL);
    }
    if let Some(password) = password
        && js_length(password) > MAX_PASSWORD_LENGTH
    {
        return Err(AuthError::PASSWORD_TOO_LONG);
    }
    if store::user_by_email(&mut conn, &email).await?.is_some() {
        return Err(ADDRESS_TAKEN);
    }
    drop(conn);
    // The hash runs with no connection held.
    let hash = match password.filter(|p| !p.is_empty()) {
        Some(password) => Some(auth.hasher.hash(password).await?),
        None => None,
    };
    let mut tx = state.pool.begin().await?;
    let user = store::insert_user_with_role(
        &mut tx,
        name,
        &email,
        image,
        email_verified,
        role.as_deref(),
    )
    .await?
    .ok_or(ADDRESS_TAKEN)?;
    if let Some(hash) = hash {
        store::insert_credential_account(&mut tx, &user.id, &hash).await?;
    }
    tx.commit().await?;
    tracing::info!(user.id = %caller.user.id, target = %user.id, "administrator created a user");
    Ok(HttpResponse::Ok().json(UserEnvelope {
        user: auth.user(&user),
    }))
}

/// Sets a user's password (adds one to a user who had none). Their sessions stay.
#[utoipa::path(
    tag = "admin",
    request_body = SetUserPassword,
    responses(
        (status = 200, description = "`{status: true}`", body = StatusResponse),
        (status = 400, description = "`PASSWORD_TOO_SHORT`, `PASSWORD_TOO_LONG`, `VALIDATION_ERROR`", body = shared::auth::AuthErrorBody),
        (status = 401, description = "No session (an empty body)"),
        (status = 403, description = "`YOU_ARE_NOT_ALLOWED_TO_SET_USERS_PASSWORD`", body = shared::auth::AuthErrorBody),
        (status = 404, description = "`USER_NOT_FOUND`", body = shared::auth::AuthErrorBody),
    )
)]
#[post("/admin/set-user-password")]
pub(in crate::auth::routes) async fn set_user_password(
    req: HttpRequest,
    state: web::Data<AppState>,
    payload: web::Payload,
) -> Result<HttpResponse, AuthError> {
    let auth = &state.auth;
    let body = accept_write(&req, auth, payload).await?;
    let fields = body.object()?;
    let mut issues = Issues::default();
    let new_password = issues.take(fields.string("newPassword"));
    let user_id = issues.take(fields.string("userId"));
    issues.finish()?;
    let user_id = UserId::new(user_id);

    let mut conn = state.pool.acquire().await?;
    let caller = admin_caller(
        &req,
        &state,
        &mut conn,
        ("user", "set-password"),
        NOT_ALLOWED_TO_SET_USERS_PASSWORD,
    )
    .await?;
    validate_new_password(new_password)?;
    store::user_by_id(&mut conn, &user_id)
        .await?
        .ok_or(USER_NOT_FOUND)?;
    drop(conn);
    let hash = auth.hasher.hash(new_password).await?;
    let mut tx = state.pool.begin().await?;
    if store::credential_password(&mut tx, &user_id)
        .await?
        .is_some()
    {
        store::set_credential_password(&mut tx, &user_id, &hash).await?;
    } else {
        store::insert_credential_account(&mut tx, &user_id, &hash).await?;
    }
    tx.commit().await?;
    tracing::info!(user.id = %caller.user.id, target = %user_id, "administrator set a password");
    Ok(HttpResponse::Ok().json(StatusResponse { status: true }))
}
