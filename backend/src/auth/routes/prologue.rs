//! The first steps every auth write shares, in Better Auth's order (the Origin check, the body,
//! redirect targets), and the field-by-field validation that reports every issue at once.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, web};
use futures_util::StreamExt;

use crate::auth::body::{BODY_LIMIT, Body};
use crate::auth::error::AuthError;
use crate::auth::password::{MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH, js_length};
use crate::auth::{AuthState, origin};

async fn read_body(req: &HttpRequest, mut payload: web::Payload) -> Result<Body, AuthError> {
    let mut bytes = web::BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|_| AuthError::INVALID_JSON)?;
        if bytes.len() + chunk.len() > BODY_LIMIT {
            return Err(AuthError::PAYLOAD_TOO_LARGE);
        }
        bytes.extend_from_slice(&chunk);
    }
    Body::parse(req, &bytes)
}

/// The first steps of every Better Auth write, in its order: the Origin check (when a cookie
/// is sent), reading the body, and the redirect-target check.
pub(super) async fn accept_write(
    req: &HttpRequest,
    auth: &AuthState,
    payload: web::Payload,
) -> Result<Body, AuthError> {
    origin::check(req, &auth.trusted_origins, &auth.origin, false)?;
    let body = read_body(req, payload).await?;
    check_callback_urls(&body, auth)?;
    Ok(body)
}

/// Sign-in and sign-up's extra Fetch-Metadata rule (Better Auth's `formCsrfMiddleware`).
pub(super) fn check_login_csrf(req: &HttpRequest, auth: &AuthState) -> Result<(), AuthError> {
    origin::check(req, &auth.trusted_origins, &auth.origin, true)
}

/// Redirect targets in a body must be relative or on a trusted origin.
fn check_callback_urls(body: &Body, auth: &AuthState) -> Result<(), AuthError> {
    let Some(serde_json::Value::Object(map)) = body.raw() else {
        return Ok(());
    };
    for key in [
        "callbackURL",
        "redirectTo",
        "errorCallbackURL",
        "newUserCallbackURL",
    ] {
        match map.get(key) {
            None | Some(serde_json::Value::Null) => {}
            Some(serde_json::Value::String(s)) if s.is_empty() => {}
            Some(serde_json::Value::String(s)) => {
                origin::check_callback_url(s, &auth.trusted_origins).map_err(|e| match key {
                    "redirectTo" => AuthError::INVALID_REDIRECT_URL,
                    _ => e,
                })?
            }
            Some(_) => {
                return Err(AuthError::Body {
                    status: StatusCode::BAD_REQUEST,
                    code: None,
                    message: format!("Invalid {key}: expected a string").into(),
                });
            }
        }
    }
    Ok(())
}

/// Collects every validation issue, then fails with all of them joined by `; ` (zod's way).
#[derive(Default)]
pub(super) struct Issues(Vec<String>);

impl Issues {
    /// The parsed value, or (noting the issue) a placeholder that [`Issues::finish`] makes sure
    /// is never used.
    pub(super) fn take<T: Default>(&mut self, result: Result<T, AuthError>) -> T {
        result.unwrap_or_else(|e| {
            self.0.push(e.to_string());
            T::default()
        })
    }

    pub(super) fn finish(self) -> Result<(), AuthError> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(AuthError::validation(self.0.join("; ")))
        }
    }
}

pub(super) fn validate_new_password(password: &str) -> Result<(), AuthError> {
    let length = js_length(password);
    if length < MIN_PASSWORD_LENGTH {
        return Err(AuthError::PASSWORD_TOO_SHORT);
    }
    if length > MAX_PASSWORD_LENGTH {
        return Err(AuthError::PASSWORD_TOO_LONG);
    }
    Ok(())
}
