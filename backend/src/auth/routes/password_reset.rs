//! Password reset as Better Auth does it: `POST /request-password-reset` mails a link with a
//! 24-character token (a `verification` row `reset-password:<token>` holding the user's id,
//! `PASSWORD_RESET_TTL`), `GET /reset-password/{token}` sends the browser to the app's page
//! with `?token=` (or `?error=INVALID_TOKEN`), and `POST /reset-password` sets the new
//! password, uses the token up and (by default) signs every device out. A row written by
//! either server is read by the other.

use actix_web::{HttpRequest, HttpResponse, get, post, web};
use rand::Rng;
use rand::distributions::Alphanumeric;
use serde::Deserialize;
use shared::UserId;
use shared::auth::{StatusMessageResponse, StatusResponse};
use shared::error::Code;
use url::Url;

use super::mailing::{self, redirect};
use super::prologue::{Issues, accept_write};
use crate::auth::error::AuthError;
use crate::auth::password::{MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH, js_length};
use crate::auth::{origin, store};
use crate::mail::messages;
use crate::state::AppState;

/// Better Auth's answer to every reset request, known address or not.
const RESET_REQUESTED: &str =
    "If this email exists in our system, check your email for the reset link";

/// 24 characters from `[A-Za-z0-9]`, from the OS's CSPRNG (Better Auth's `generateId(24)`).
fn reset_token() -> String {
    rand::rngs::OsRng
        .sample_iter(&Alphanumeric)
        .take(24)
        .map(char::from)
        .collect()
}

/// Ask for a reset link. The answer is the same whether or not the address has an account,
/// and comes as soon as the address is looked up: the token and the mail are made after it.
#[utoipa::path(
    tag = "auth",
    request_body = shared::auth::RequestPasswordResetRequest,
    responses(
        (status = 200, description = "The same answer for every address", body = StatusMessageResponse),
        (status = 400, description = "`RESET_PASSWORD_DISABLED`, `VALIDATION_ERROR`", body = shared::auth::AuthErrorBody),
        (status = 403, description = "`INVALID_REDIRECT_URL`, or the Origin check", body = shared::auth::AuthErrorBody),
        (status = 429, description = "Rate limited (3 per 60 s); see `X-Retry-After`"),
    )
)]
#[post("/request-password-reset")]
pub(super) async fn request_password_reset(
    req: HttpRequest,
    state: web::Data<AppState>,
    payload: web::Payload,
) -> Result<HttpResponse, AuthError> {
    let auth = &state.auth;
    let body = accept_write(&req, auth, payload).await?;
    if !auth.flows.password_reset {
        return Err(AuthError::RESET_PASSWORD_DISABLED);
    }
    let fields = body.object()?;
    let mut issues = Issues::default();
    let email = issues.take(fields.email("email"));
    let redirect_to = issues.take(fields.optional_string("redirectTo"));
    issues.finish()?;

    let mut conn = state.pool.acquire().await?;
    let user = store::user_by_email(&mut conn, &email).await?;
    drop(conn);
    if let Some(user) = user {
        let state = state.clone();
        let redirect_to = redirect_to.unwrap_or_default().to_owned();
        // After the answer: a known address must not take longer to answer than an unknown one.
        tokio::spawn(async move {
            if let Err(e) = mail_reset_link(&state, &user.id, &user.email, &redirect_to).await {
                tracing::error!(
                    error = crate::telemetry::chain(e.as_ref()),
                    "a reset link could not be made"
                );
            }
        });
    }
    Ok(HttpResponse::Ok().json(StatusMessageResponse {
        status: true,
        message: RESET_REQUESTED.to_owned(),
    }))
}

async fn mail_reset_link(
    state: &AppState,
    user_id: &UserId,
    email: &str,
    redirect_to: &str,
) -> anyhow::Result<()> {
    let auth = &state.auth;
    if !mailing::may_mail(state, "reset-password", user_id.as_str()).await {
        return Ok(());
    }
    let token = reset_token();
    let ttl = auth.flows.reset_ttl;
    let expires = store::now() + chrono::Duration::from_std(ttl)?;
    let mut conn = state.pool.acquire().await?;
    store::delete_expired_verifications(&mut conn).await?;
    store::insert_verification(
        &mut conn,
        &store::reset_identifier(&token),
        user_id.as_str(),
        expires,
    )
    .await?;
    drop(conn);
    let mailer = &auth.mailer;
    let link = mailer.link(
        &format!("/api/auth/reset-password/{token}"),
        &[("callbackURL", redirect_to)],
    );
    let mail = messages::reset_password(
        mailer.product(),
        &mailer.site(),
        &link,
        ttl,
        auth.flows.reset_revokes_sessions,
    );
    mailer.send(email, mail);
    Ok(())
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct LinkQuery {
    /// The app's page that takes the token (from `redirectTo`).
    #[serde(rename = "callbackURL")]
    callback_url: Option<String>,
}

/// The link in the mail: a redirect to `callbackURL?token=<token>`, or `?error=INVALID_TOKEN`
/// when the token is unknown, used or expired. The token is not used up here.
#[utoipa::path(
    tag = "auth",
    params(("token" = String, Path, description = "The reset token"), LinkQuery),
    responses(
        (status = 302, description = "To `callbackURL` (absolute) with `token` or `error=INVALID_TOKEN`"),
        (status = 400, description = "`VALIDATION_ERROR`: no `callbackURL`", body = shared::auth::AuthErrorBody),
        (status = 403, description = "`INVALID_CALLBACK_URL`", body = shared::auth::AuthErrorBody),
    )
)]
#[get("/reset-password/{token}")]
pub(super) async fn reset_password_link(
    state: web::Data<AppState>,
    token: web::Path<String>,
    query: web::Query<LinkQuery>,
) -> Result<HttpResponse, AuthError> {
    let auth = &state.auth;
    let Some(callback) = query.into_inner().callback_url else {
        return Err(AuthError::validation(
            "[query.callbackURL] Invalid input: expected string, received undefined".to_owned(),
        ));
    };
    let base = auth.mailer.link("/api/auth", &[]);
    let base = Url::parse(&base).map_err(|e| AuthError::Internal(e.into()))?;
    if callback.is_empty() {
        // Better Auth sends a link with no `redirectTo` to its error page.
        let mut target = base
            .join("/api/auth/error")
            .map_err(|e| AuthError::Internal(e.into()))?;
        target
            .query_pairs_mut()
            .append_pair("error", Code::InvalidToken.as_str());
        return Ok(redirect(target.as_str(), HttpResponse::Found()));
    }
    origin::check_callback_url(&callback, &auth.trusted_origins)?;
    let mut target = base
        .join(&callback)
        .map_err(|_| AuthError::INVALID_CALLBACK_URL)?;
    let mut conn = state.pool.acquire().await?;
    let live = store::live_verification(&mut conn, &store::reset_identifier(&token))
        .await?
        .is_some();
    drop(conn);
    let (key, value) = if live {
        ("token", token.as_str())
    } else {
        ("error", Code::InvalidToken.as_str())
    };
    // Set, not appended: a `token` or `error` the page already had is replaced.
    let kept: Vec<(String, String)> = target
        .query_pairs()
        .filter(|(k, _)| k != key)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    target
        .query_pairs_mut()
        .clear()
        .extend_pairs(kept)
        .append_pair(key, value);
    Ok(redirect(target.as_str(), HttpResponse::Found()))
}

#[derive(Debug, Deserialize)]
pub(super) struct TokenQuery {
    token: Option<String>,
}

/// Choose a new password with the token from a reset link. The token works once; every
/// session of the account ends unless `PASSWORD_RESET_REVOKES_SESSIONS=off`.
#[utoipa::path(
    tag = "auth",
    request_body = shared::auth::ResetPasswordRequest,
    responses(
        (status = 200, description = "The password is changed", body = StatusResponse),
        (status = 400, description = "`INVALID_TOKEN` (unknown, used or expired), `PASSWORD_TOO_SHORT`, `PASSWORD_TOO_LONG`, `USER_NOT_FOUND`, `VALIDATION_ERROR`", body = shared::auth::AuthErrorBody),
        (status = 403, description = "Origin check failed", body = shared::auth::AuthErrorBody),
    )
)]
#[post("/reset-password")]
pub(super) async fn reset_password(
    req: HttpRequest,
    state: web::Data<AppState>,
    query: web::Query<TokenQuery>,
    payload: web::Payload,
) -> Result<HttpResponse, AuthError> {
    let auth = &state.auth;
    let body = accept_write(&req, auth, payload).await?;
    let fields = body.object()?;
    let mut issues = Issues::default();
    let new_password = issues.take(fields.string("newPassword"));
    let token = issues.take(fields.optional_string("token"));
    issues.finish()?;
    let token = token
        .map(str::to_owned)
        .or_else(|| query.into_inner().token)
        .filter(|t| !t.is_empty())
        .ok_or(AuthError::INVALID_RESET_TOKEN)?;
    // Better Auth checks the length before the token.
    let length = js_length(new_password);
    if length < MIN_PASSWORD_LENGTH {
        return Err(AuthError::PASSWORD_TOO_SHORT);
    }
    if length > MAX_PASSWORD_LENGTH {
        return Err(AuthError::PASSWORD_TOO_LONG);
    }
    let identifier = store::reset_identifier(&token);
    let mut conn = state.pool.acquire().await?;
    let Some(user_id) = store::live_verification(&mut conn, &identifier).await? else {
        return Err(AuthError::INVALID_RESET_TOKEN);
    };
    let user_id = UserId::new(user_id);
    if store::user_by_id(&mut conn, &user_id).await?.is_none() {
        return Err(AuthError::RESET_USER_NOT_FOUND);
    }
    drop(conn);
    let hash = auth.hasher.hash(new_password).await?;

    let mut tx = state.pool.begin().await?;
    // Used once: of two requests racing with one token, one finds the row gone.
    if store::consume_verification(&mut tx, &identifier)
        .await?
        .is_none()
    {
        return Err(AuthError::INVALID_RESET_TOKEN);
    }
    let revoked = auth.flows.reset_revokes_sessions;
    if revoked {
        store::delete_all_sessions(&mut tx, &user_id).await?;
    }
    // An account without a password (signed up elsewhere) gets one, as in Better Auth.
    if store::credential_password(&mut tx, &user_id)
        .await?
        .is_some()
    {
        store::set_credential_password(&mut tx, &user_id, &hash).await?;
    } else {
        store::insert_credential_account(&mut tx, &user_id, &hash).await?;
    }
    tx.commit().await?;
    tracing::info!(user.id = %user_id, sessions_revoked = revoked, "password reset");
    Ok(HttpResponse::Ok().json(StatusResponse { status: true }))
}

/// Better Auth's error page (where a reset link without `redirectTo` lands): the code, and a
/// way back.
#[utoipa::path(
    tag = "auth",
    params(("error" = Option<String>, Query, description = "The error's code")),
    responses((status = 200, description = "An HTML page naming the error", content_type = "text/html", body = String)),
)]
#[get("/error")]
pub(super) async fn error_page(query: web::Query<ErrorQuery>) -> HttpResponse {
    let code: String = query
        .error
        .as_deref()
        .unwrap_or("UNKNOWN")
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
        .take(64)
        .collect();
    let explanation = match code.as_str() {
        c if c == Code::InvalidToken.as_str() => {
            "This link is not valid: it was used already, or it has expired."
        }
        _ => "Something went wrong with this link.",
    };
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .body(format!(
            "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Chatkeep</title>\
             <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"></head>\
             <body style=\"font-family: system-ui, sans-serif; max-width: 32em; margin: 4em auto; \
             padding: 0 1em; line-height: 1.5;\"><h1>This link did not work</h1><p>{explanation}</p>\
             <p><code>{code}</code></p><p><a href=\"/forgot-password\">Ask for a new reset link</a> \
             · <a href=\"/sign-in\">Sign in</a></p></body></html>"
        ))
}

#[derive(Debug, Deserialize)]
pub(super) struct ErrorQuery {
    error: Option<String>,
}
