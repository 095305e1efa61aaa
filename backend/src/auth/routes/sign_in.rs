//! `POST /sign-in/email` and `POST /sign-out`.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, post, web};
use shared::auth::{SignInRequest, SignInResponse, SuccessResponse};

use super::guests;
use super::headers::AuthHeaders;
use super::mailing;
use super::prologue::{Issues, accept_write, check_login_csrf};
use crate::auth::attempts::{self, Account};
use crate::auth::body::{self, Fields};
use crate::auth::error::AuthError;
use crate::auth::password::{MAX_PASSWORD_LENGTH, js_length};
use crate::auth::{session, store};
use crate::config::EmailVerification;
use crate::state::AppState;

/// Sign in with email and password.
#[utoipa::path(
    tag = "auth",
    request_body = SignInRequest,
    responses(
        (status = 200, description = "Signed in; sets the session cookie and `set-auth-token`", body = SignInResponse),
        (status = 400, description = "`VALIDATION_ERROR`, `INVALID_EMAIL`, `PASSWORD_TOO_LONG`", body = shared::auth::AuthErrorBody),
        (status = 401, description = "`INVALID_EMAIL_OR_PASSWORD` (unknown email and wrong password look the same)", body = shared::auth::AuthErrorBody),
        (status = 403, description = "Origin or Fetch-Metadata check failed; `EMAIL_NOT_VERIFIED` (with `EMAIL_VERIFICATION=required`: a fresh link is mailed)", body = shared::auth::AuthErrorBody),
        (status = 429, description = "Rate limited (3 per 10 s per address; 10 failed sign-ins in 5 min from one address to one account); see `X-Retry-After`"),
    )
)]
#[post("/sign-in/email")]
pub(super) async fn sign_in(
    req: HttpRequest,
    state: web::Data<AppState>,
    payload: web::Payload,
) -> Result<HttpResponse, AuthError> {
    let auth = &state.auth;
    let body = accept_write(&req, auth, payload).await?;
    let SignInForm {
        email,
        password,
        callback,
        remember,
    } = SignInForm::parse(&body.object()?)?;
    check_login_csrf(&req, auth)?;
    if !body::is_email(email) {
        return Err(AuthError::INVALID_EMAIL);
    }
    if js_length(password) > MAX_PASSWORD_LENGTH {
        return Err(AuthError::PASSWORD_TOO_LONG);
    }

    // No pooled connection is held while a hash runs (or waits its turn).
    let mut conn = state.pool.acquire().await?;
    let user = store::user_by_email(&mut conn, &email.to_lowercase()).await?;
    let hash = match &user {
        Some(user) => store::credential_password(&mut conn, &user.id).await?,
        None => None,
    };
    drop(conn);
    // Counted against the account whichever route checks its password; an address unknown
    // to us against itself.
    let account = match &user {
        Some(user) => Account::User(&user.id),
        None => Account::Email(email),
    };
    let attempt = attempts::admit(&state, account, auth.client_ip(&req)).await?;
    let (Some(user), Some(hash)) = (user, hash) else {
        auth.hasher.burn(password).await?;
        attempt.failed().await;
        return Err(AuthError::INVALID_EMAIL_OR_PASSWORD);
    };
    if !auth.hasher.verify(password, &hash).await? {
        tracing::info!(user.id = %user.id, "sign-in refused: wrong password");
        attempt.failed().await;
        return Err(AuthError::INVALID_EMAIL_OR_PASSWORD);
    }
    attempt.succeeded().await;
    if auth.flows.verification == EmailVerification::Required && !user.email_verified {
        // As Better Auth: the right password, but no session until the address is verified;
        // a fresh link goes out (with `EMAIL_VERIFICATION_ON_SIGN_IN`).
        if auth.flows.verification_on_sign_in {
            mailing::send_verification(&state, &user, callback.filter(|c| !c.is_empty())).await;
        }
        return Err(AuthError::EMAIL_NOT_VERIFIED);
    }

    let remember = remember.unwrap_or(true);
    let mut conn = state.pool.acquire().await?;
    let guest = guests::presented_guest(&req, &state, &mut conn).await?;
    let session = session::create(&mut conn, &user.id, remember, &req, auth).await?;
    drop(conn);
    if let Some(guest) = guest {
        guests::adopt(&state, guest, &user.id).await;
    }
    tracing::Span::current().record("user.id", tracing::field::display(&user.id));

    let mut headers = AuthHeaders::default();
    headers.set_session(auth, &session.token, remember);
    let mut builder = headers.ok();
    let callback = callback.filter(|c| !c.is_empty());
    if let Some(url) = callback {
        builder.insert_header((header::LOCATION, url));
    }
    Ok(builder.json(SignInResponse {
        redirect: callback.is_some(),
        token: session.token,
        url: callback.map(str::to_owned),
        user: auth.user(&user),
    }))
}

/// The sign-in body, every field checked, every issue reported at once.
struct SignInForm<'a> {
    email: &'a str,
    password: &'a str,
    callback: Option<&'a str>,
    remember: Option<bool>,
}

impl<'a> SignInForm<'a> {
    fn parse(fields: &Fields<'a>) -> Result<Self, AuthError> {
        let mut issues = Issues::default();
        let form = Self {
            email: issues.take(fields.string("email")),
            password: issues.take(fields.string("password")),
            callback: issues.take(fields.optional_string("callbackURL")),
            remember: issues.take(fields.optional_bool("rememberMe")),
        };
        issues.finish()?;
        Ok(form)
    }
}

/// Sign out: deletes the presented session and clears the cookies. Succeeds without one.
#[utoipa::path(
    tag = "auth",
    responses(
        (status = 200, description = "Signed out; cookies cleared", body = SuccessResponse),
        (status = 403, description = "Origin check failed", body = shared::auth::AuthErrorBody),
    )
)]
#[post("/sign-out")]
pub(super) async fn sign_out(
    req: HttpRequest,
    state: web::Data<AppState>,
    payload: web::Payload,
) -> Result<HttpResponse, AuthError> {
    let auth = &state.auth;
    accept_write(&req, auth, payload).await?;
    if let Some(presented) = session::presented_token(&req, auth) {
        let mut conn = state.pool.acquire().await?;
        store::delete_session_by_token(&mut conn, &presented.token).await?;
    }
    let mut headers = AuthHeaders::default();
    headers.clear(auth);
    Ok(headers.ok().json(SuccessResponse { success: true }))
}
