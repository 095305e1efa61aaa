//! `POST /admin/has-permission`: whether the caller may take the actions asked about. The app
//! asks it to decide whether to show the Admin page (which the server guards either way).

use actix_web::{HttpRequest, HttpResponse, post, web};
use serde_json::Value;
use shared::admin::{HasPermission, PermissionAnswer};

use super::super::caller::load_session;
use super::super::headers::AuthHeaders;
use super::super::prologue::accept_write;
use crate::auth::admin;
use crate::auth::error::AuthError;
use crate::state::AppState;

/// `{resource: [action, …]}`, or a validation error as zod words it.
fn permissions_of(value: &Value) -> Result<Vec<(String, Vec<String>)>, AuthError> {
    let invalid = || AuthError::validation("[body] Invalid input".to_owned());
    let Value::Object(map) = value else {
        return Err(invalid());
    };
    map.iter()
        .map(|(resource, actions)| {
            let Value::Array(actions) = actions else {
                return Err(invalid());
            };
            actions
                .iter()
                .map(|a| a.as_str().map(str::to_owned).ok_or_else(invalid))
                .collect::<Result<Vec<_>, _>>()
                .map(|actions| (resource.clone(), actions))
        })
        .collect()
}

/// Whether the caller's roles allow every action asked about. With a session, a `userId` or
/// `role` in the body is ignored: one can ask only about oneself.
#[utoipa::path(
    tag = "admin",
    request_body = HasPermission,
    responses(
        (status = 200, description = "`{error: null, success}`", body = PermissionAnswer),
        (status = 400, description = "No `permissions` (a message only), or `VALIDATION_ERROR`", body = shared::auth::AuthErrorBody),
        (status = 401, description = "No session (an empty body)"),
    )
)]
#[post("/admin/has-permission")]
pub(in crate::auth::routes) async fn has_permission(
    req: HttpRequest,
    state: web::Data<AppState>,
    payload: web::Payload,
) -> Result<HttpResponse, AuthError> {
    let body = accept_write(&req, &state.auth, payload).await?;
    let fields = body.object()?;
    let request = match (fields.value("permissions"), fields.value("permission")) {
        (Some(value), None) => permissions_of(value)?,
        (None, Some(value)) => {
            permissions_of(value)?;
            return Err(no_permissions());
        }
        _ => return Err(AuthError::validation("[body] Invalid input".to_owned())),
    };
    let mut conn = state.pool.acquire().await?;
    let mut headers = AuthHeaders::default();
    let caller = load_session(&req, &state, &mut conn, &mut headers, false)
        .await?
        .ok_or(AuthError::EmptyUnauthorized)?;
    Ok(HttpResponse::Ok().json(PermissionAnswer {
        error: None,
        success: admin::allows(&state.auth, &caller.user, &request),
    }))
}

/// The plugin's answer to a body with only the older `permission` key: 400, a message, no code.
fn no_permissions() -> AuthError {
    AuthError::Body {
        status: actix_web::http::StatusCode::BAD_REQUEST,
        code: None,
        message: "invalid permission check. no permission(s) were passed.".into(),
    }
}
