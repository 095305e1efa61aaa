//! `POST /send-verification-email` and `GET /verify-email`: Better Auth's email verification,
//! with its stateless links (HS256 JWTs signed with the secret), and the second half of a
//! change of email, whose links land here too.

use std::time::Duration;

use actix_web::{HttpRequest, HttpResponse, get, post, web};
use serde::Deserialize;
use shared::UserId;
use shared::auth::{StatusResponse, VerifyEmailResponse};
use shared::error::Code;
use tokio::time::Instant;

use super::caller::load_session;
use super::headers::AuthHeaders;
use super::mailing::{self, redirect, with_error};
use super::prologue::{Issues, accept_write};
use crate::auth::email_token::{self, Claims, Refused, RequestType};
use crate::auth::error::AuthError;
use crate::auth::{origin, session, store};
use crate::config::EmailVerification;
use crate::mail::messages;
use crate::state::AppState;

/// An anonymous request takes at least this long, found address or not, as in Better Auth.
const ANONYMOUS_FLOOR: Duration = Duration::from_millis(500);

/// Send a verification link to an address. Signed in: your own address, if it is not verified
/// yet. Signed out: always the same answer, and a link only to a known, unverified address.
#[utoipa::path(
    tag = "auth",
    request_body(content = shared::auth::SendVerificationEmailRequest),
    responses(
        (status = 200, description = "`{status: true}` (signed out: whether or not the address is known)", body = StatusResponse),
        (status = 400, description = "`VERIFICATION_EMAIL_NOT_ENABLED`, `EMAIL_MISMATCH`, `EMAIL_ALREADY_VERIFIED`, `VALIDATION_ERROR`", body = shared::auth::AuthErrorBody),
        (status = 403, description = "Origin check failed, or `INVALID_CALLBACK_URL`", body = shared::auth::AuthErrorBody),
        (status = 429, description = "Rate limited (3 per 60 s); see `X-Retry-After`"),
    )
)]
#[post("/send-verification-email")]
pub(super) async fn send_verification_email(
    req: HttpRequest,
    state: web::Data<AppState>,
    payload: web::Payload,
) -> Result<HttpResponse, AuthError> {
    let auth = &state.auth;
    let body = accept_write(&req, auth, payload).await?;
    if auth.flows.verification == EmailVerification::Off {
        return Err(AuthError::VERIFICATION_EMAIL_NOT_ENABLED);
    }
    let fields = body.object()?;
    let mut issues = Issues::default();
    let email = issues.take(fields.email("email"));
    let callback = issues.take(fields.optional_string("callbackURL"));
    issues.finish()?;

    let mut headers = AuthHeaders::default();
    let mut conn = state.pool.acquire().await?;
    if let Some(caller) = load_session(&req, &state, &mut conn, &mut headers, false).await? {
        drop(conn);
        if caller.user.email.to_lowercase() != email {
            return Err(AuthError::EMAIL_MISMATCH);
        }
        if caller.user.email_verified {
            return Err(AuthError::EMAIL_ALREADY_VERIFIED);
        }
        mailing::send_verification(&state, &caller.user, callback).await;
        return Ok(headers.ok().json(StatusResponse { status: true }));
    }
    let started = Instant::now();
    let user = store::user_by_email(&mut conn, &email).await?;
    drop(conn);
    if let Some(user) = user.filter(|u| !u.email_verified) {
        mailing::send_verification(&state, &user, callback).await;
    }
    tokio::time::sleep_until(started + ANONYMOUS_FLOOR).await;
    Ok(headers.ok().json(StatusResponse { status: true }))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct VerifyQuery {
    /// The token from the link.
    token: Option<String>,
    /// Where to go after: relative, or on a trusted origin. Errors come back as `?error=CODE`.
    #[serde(rename = "callbackURL")]
    callback_url: Option<String>,
}

/// Follow a verification link: the address is verified (and, with
/// `AUTO_SIGN_IN_AFTER_VERIFICATION`, the person signed in), or, for a change of email, the
/// next step is taken. With `callbackURL`, a redirect there (errors as `?error=CODE`).
#[utoipa::path(
    tag = "auth",
    params(VerifyQuery),
    responses(
        (status = 200, description = "`{status: true, user: null}`; for the last step of a change of email the user; for its first, `{status: true}`", body = VerifyEmailResponse),
        (status = 302, description = "To `callbackURL`, or to it with `?error=` `INVALID_TOKEN`, `TOKEN_EXPIRED`, `USER_NOT_FOUND`, `INVALID_USER`"),
        (status = 400, description = "`VALIDATION_ERROR`: no token", body = shared::auth::AuthErrorBody),
        (status = 401, description = "`INVALID_TOKEN`, `TOKEN_EXPIRED`, `USER_NOT_FOUND`, `INVALID_USER`", body = shared::auth::AuthErrorBody),
        (status = 403, description = "`INVALID_CALLBACK_URL`", body = shared::auth::AuthErrorBody),
    )
)]
#[get("/verify-email")]
pub(super) async fn verify_email(
    req: HttpRequest,
    state: web::Data<AppState>,
    query: web::Query<VerifyQuery>,
) -> Result<HttpResponse, AuthError> {
    let auth = &state.auth;
    let VerifyQuery {
        token,
        callback_url,
    } = query.into_inner();
    let Some(token) = token else {
        return Err(AuthError::validation(
            "[query.token] Invalid input: expected string, received undefined".to_owned(),
        ));
    };
    let callback = callback_url.filter(|c| !c.is_empty());
    if let Some(callback) = &callback {
        origin::check_callback_url(callback, &auth.trusted_origins)?;
    }
    let mut headers = AuthHeaders::default();
    let outcome = verify(&req, &state, &token, callback.as_deref(), &mut headers).await?;
    match (outcome, callback) {
        (Err(code), Some(callback)) => Ok(redirect(
            &with_error(&callback, code),
            HttpResponse::Found(),
        )),
        (Err(code), None) => Err(AuthError::verify_email(code)),
        (Ok(_), Some(callback)) => Ok(redirect(&callback, headers.apply(HttpResponse::Found()))),
        (Ok(body), None) => Ok(headers.ok().json(body)),
    }
}

/// What following the link did: the body to answer with, or the refusal's code.
async fn verify(
    req: &HttpRequest,
    state: &AppState,
    token: &str,
    callback: Option<&str>,
    headers: &mut AuthHeaders,
) -> Result<Result<VerifyEmailResponse, &'static str>, AuthError> {
    let auth = &state.auth;
    let claims = match email_token::verify(auth.secret(), token) {
        Ok(claims) => claims,
        Err(Refused::Expired) => return Ok(Err(Code::TokenExpired.as_str())),
        Err(Refused::Invalid) => return Ok(Err(Code::InvalidToken.as_str())),
    };
    let mut conn = state.pool.acquire().await?;
    let Some(update_to) = claims.update_to.clone() else {
        // Verifying the address the account has.
        let Some(user) = store::user_by_email(&mut conn, &claims.email.to_lowercase()).await?
        else {
            return Ok(Err("USER_NOT_FOUND"));
        };
        if claims
            .user_id
            .as_deref()
            .is_some_and(|id| id != user.id.as_str())
        {
            return Ok(Err(Code::InvalidToken.as_str()));
        }
        if user.email_verified {
            return Ok(Ok(VerifyEmailResponse::verified()));
        }
        store::set_email_verified(&mut conn, &user.id, true).await?;
        tracing::info!(user.id = %user.id, "email verified");
        if auth.flows.auto_sign_in_after_verification {
            let current = load_session(req, state, &mut conn, headers, false).await?;
            match current {
                Some(caller) if caller.user.id == user.id => {
                    headers.set_session(auth, &caller.session.token, caller.remember());
                }
                other => {
                    let session = session::create(&mut conn, &user.id, true, req, auth).await?;
                    headers.set_session(auth, &session.token, true);
                    // A guest who signed up where verification is required gets a session
                    // only now: their conversations come along now.
                    if let Some(guest) =
                        other.filter(|c| auth.guests.enabled && c.user.is_anonymous)
                    {
                        super::guests::adopt(state, guest.user.id, &user.id).await;
                    }
                }
            }
        }
        return Ok(Ok(VerifyEmailResponse::verified()));
    };

    // A change of email: the token names the account, and its address as it was.
    let Some(user_id) = claims.user_id.clone().map(UserId::new) else {
        return Ok(Err(Code::InvalidToken.as_str()));
    };
    let Some(user) = store::user_by_id(&mut conn, &user_id).await? else {
        return Ok(Err("USER_NOT_FOUND"));
    };
    if user.email != claims.email {
        // Already changed (a second click), or changed since.
        return Ok(Err(Code::InvalidToken.as_str()));
    }
    let current = load_session(req, state, &mut conn, headers, false).await?;
    if current.as_ref().is_some_and(|c| c.user.id != user.id) {
        return Ok(Err(Code::InvalidUser.as_str()));
    }
    match claims.request_type {
        Some(RequestType::ChangeConfirmation) => {
            drop(conn);
            // The current address confirmed: now the new one is asked.
            let ttl = auth.flows.verification_ttl;
            let next = Claims::change(
                &claims.email,
                &update_to,
                RequestType::ChangeVerification,
                user.id.as_str(),
                ttl,
            );
            if mailing::may_mail(state, "change-email", user.id.as_str()).await {
                let token = email_token::sign(auth.secret(), &next)?;
                let link = mailing::verify_link(auth, &token, callback);
                let mailer = &auth.mailer;
                let mail = messages::verify_new_email(mailer.product(), &mailer.site(), &link, ttl);
                mailer.send(&update_to, mail);
            }
            Ok(Ok(VerifyEmailResponse::status_only()))
        }
        kind => {
            // The new address answered (or a token of Better Auth's older, one-step kind).
            if !store::set_email(&mut conn, &user.id, &update_to).await? {
                return Ok(Err(Code::InvalidToken.as_str()));
            }
            let one_step = kind.is_none();
            if one_step {
                store::set_email_verified(&mut conn, &user.id, false).await?;
            }
            let updated = store::user_by_id(&mut conn, &user.id)
                .await?
                .ok_or(AuthError::UNAUTHORIZED)?;
            drop(conn);
            tracing::info!(user.id = %user.id, "email changed");
            if let Some(caller) = current {
                headers.set_session(auth, &caller.session.token, caller.remember());
            }
            if one_step {
                mailing::send_verification(state, &updated, callback).await;
            }
            Ok(Ok(VerifyEmailResponse::changed(auth.user(&updated))))
        }
    }
}
