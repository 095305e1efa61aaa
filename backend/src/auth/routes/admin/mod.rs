//! `/admin/*`: Better Auth's admin plugin. Every endpoint needs a session (a 401 with an empty
//! body without one, as the plugin answers), then the permission its action names (a 403
//! `YOU_ARE_NOT_ALLOWED_TO_…`), then its own rules. Administrators manage accounts here; none of
//! these endpoints reads a conversation or a message, and the chat routes keep scoping every
//! administrator to their own rows.

pub(super) mod bans;
pub(super) mod create;
pub(super) mod permission;
pub(super) mod sessions;
pub(super) mod update;
pub(super) mod users;

use actix_web::HttpRequest;
use actix_web::http::StatusCode;
use sqlx::PgConnection;

use super::caller::{Caller, load_session};
use super::headers::AuthHeaders;
use crate::auth::admin;
use crate::auth::body::Fields;
use crate::auth::error::{AuthError, body};
use crate::state::AppState;

/// The caller, when signed in and allowed `action` on `resource`; `refusal` otherwise.
async fn admin_caller(
    req: &HttpRequest,
    state: &AppState,
    conn: &mut PgConnection,
    (resource, action): (&str, &str),
    refusal: AuthError,
) -> Result<Caller, AuthError> {
    let mut headers = AuthHeaders::default();
    let caller = load_session(req, state, conn, &mut headers, false)
        .await?
        .ok_or(AuthError::EmptyUnauthorized)?;
    if !admin::may(&state.auth, &caller.user, resource, action) {
        tracing::info!(user.id = %caller.user.id, resource, action, "administrator action refused");
        return Err(refusal);
    }
    Ok(caller)
}

/// The caller may also take `action` on users (a second permission some bodies need).
fn also_may(
    state: &AppState,
    caller: &Caller,
    action: &str,
    refusal: AuthError,
) -> Result<(), AuthError> {
    if admin::may(&state.auth, &caller.user, "user", action) {
        Ok(())
    } else {
        Err(refusal)
    }
}

/// A role (`"admin"`) or roles (`["user", "admin"]`), comma-joined as Better Auth stores them.
/// `INVALID_ROLE_TYPE` for anything else in the list.
fn roles_of(fields: &Fields<'_>, key: &str) -> Result<Option<String>, AuthError> {
    use serde_json::Value;
    match fields.value(key) {
        None => Ok(None),
        Some(Value::String(role)) => Ok(Some(role.clone())),
        Some(Value::Array(items)) => items
            .iter()
            .map(|item| item.as_str().map(str::to_owned).ok_or(INVALID_ROLE_TYPE))
            .collect::<Result<Vec<_>, _>>()
            .map(|roles| Some(roles.join(","))),
        Some(_) => Err(INVALID_ROLE_TYPE),
    }
}

const fn forbidden(code: &'static str, message: &'static str) -> AuthError {
    body(StatusCode::FORBIDDEN, code, message)
}

const fn bad_request(code: &'static str, message: &'static str) -> AuthError {
    body(StatusCode::BAD_REQUEST, code, message)
}

const NOT_ALLOWED_TO_LIST_USERS: AuthError = forbidden(
    "YOU_ARE_NOT_ALLOWED_TO_LIST_USERS",
    "You are not allowed to list users",
);
const NOT_ALLOWED_TO_GET_USER: AuthError = forbidden(
    "YOU_ARE_NOT_ALLOWED_TO_GET_USER",
    "You are not allowed to get user",
);
const NOT_ALLOWED_TO_CREATE_USERS: AuthError = forbidden(
    "YOU_ARE_NOT_ALLOWED_TO_CREATE_USERS",
    "You are not allowed to create users",
);
const NOT_ALLOWED_TO_UPDATE_USERS: AuthError = forbidden(
    "YOU_ARE_NOT_ALLOWED_TO_UPDATE_USERS",
    "You are not allowed to update users",
);
const NOT_ALLOWED_TO_CHANGE_USERS_ROLE: AuthError = forbidden(
    "YOU_ARE_NOT_ALLOWED_TO_CHANGE_USERS_ROLE",
    "You are not allowed to change users role",
);
const NOT_ALLOWED_TO_BAN_USERS: AuthError = forbidden(
    "YOU_ARE_NOT_ALLOWED_TO_BAN_USERS",
    "You are not allowed to ban users",
);
const NOT_ALLOWED_TO_SET_USERS_EMAIL: AuthError = forbidden(
    "YOU_ARE_NOT_ALLOWED_TO_SET_USERS_EMAIL",
    "You are not allowed to update users email",
);
const NOT_ALLOWED_TO_LIST_USERS_SESSIONS: AuthError = forbidden(
    "YOU_ARE_NOT_ALLOWED_TO_LIST_USERS_SESSIONS",
    "You are not allowed to list users sessions",
);
const NOT_ALLOWED_TO_REVOKE_USERS_SESSIONS: AuthError = forbidden(
    "YOU_ARE_NOT_ALLOWED_TO_REVOKE_USERS_SESSIONS",
    "You are not allowed to revoke users sessions",
);
const NOT_ALLOWED_TO_DELETE_USERS: AuthError = forbidden(
    "YOU_ARE_NOT_ALLOWED_TO_DELETE_USERS",
    "You are not allowed to delete users",
);
const NOT_ALLOWED_TO_SET_USERS_PASSWORD: AuthError = forbidden(
    "YOU_ARE_NOT_ALLOWED_TO_SET_USERS_PASSWORD",
    "You are not allowed to set users password",
);
const USER_NOT_FOUND: AuthError = body(StatusCode::NOT_FOUND, "USER_NOT_FOUND", "User not found");
const YOU_CANNOT_BAN_YOURSELF: AuthError =
    bad_request("YOU_CANNOT_BAN_YOURSELF", "You cannot ban yourself");
const YOU_CANNOT_REMOVE_YOURSELF: AuthError =
    bad_request("YOU_CANNOT_REMOVE_YOURSELF", "You cannot remove yourself");
const NO_DATA_TO_UPDATE: AuthError = bad_request("NO_DATA_TO_UPDATE", "No data to update");
const PASSWORD_CANNOT_BE_UPDATED_VIA_UPDATE_USER: AuthError = bad_request(
    "PASSWORD_CANNOT_BE_UPDATED_VIA_UPDATE_USER",
    "Password cannot be updated through update-user. Use the set-user-password endpoint instead",
);
const USER_ID_CANNOT_BE_UPDATED: AuthError =
    bad_request("USER_ID_CANNOT_BE_UPDATED", "User id cannot be updated");
const INVALID_ROLE_TYPE: AuthError = bad_request("INVALID_ROLE_TYPE", "Invalid role type");
/// create-user and update-user answer a taken address with a 400 (sign-up's is a 422).
const ADDRESS_TAKEN: AuthError = bad_request(
    "USER_ALREADY_EXISTS_USE_ANOTHER_EMAIL",
    "User already exists. Use another email.",
);
