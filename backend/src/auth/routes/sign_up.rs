//! `POST /sign-up/email`: a new account with email and password, signed in at once.

use actix_web::{HttpRequest, HttpResponse, post, web};
use shared::auth::{SignUpRequest, SignUpResponse};

use super::guests;
use super::headers::AuthHeaders;
use super::mailing;
use super::prologue::{Issues, accept_write, check_login_csrf, validate_new_password};
use crate::auth::body::Fields;
use crate::auth::error::AuthError;
use crate::auth::{session, store};
use crate::config::EmailVerification;
use crate::state::AppState;

/// Create an account with email and password, and sign in.
#[utoipa::path(
    tag = "auth",
    request_body = SignUpRequest,
    responses(
        (status = 200, description = "Signed up and signed in; sets the session cookie and `set-auth-token`. With `EMAIL_VERIFICATION=required`: `token: null` and no cookie until the address is verified (a taken address gets the same answer)", body = SignUpResponse),
        (status = 400, description = "`VALIDATION_ERROR`, `PASSWORD_TOO_SHORT`, `PASSWORD_TOO_LONG`", body = shared::auth::AuthErrorBody),
        (status = 403, description = "Origin or Fetch-Metadata check failed", body = shared::auth::AuthErrorBody),
        (status = 422, description = "`USER_ALREADY_EXISTS_USE_ANOTHER_EMAIL`", body = shared::auth::AuthErrorBody),
        (status = 429, description = "Rate limited (3 per 10 s); see `X-Retry-After`"),
    )
)]
#[post("/sign-up/email")]
pub(super) async fn sign_up(
    req: HttpRequest,
    state: web::Data<AppState>,
    payload: web::Payload,
) -> Result<HttpResponse, AuthError> {
    let auth = &state.auth;
    let body = accept_write(&req, auth, payload).await?;
    let form = SignUpForm::parse(&body.object()?)?;
    check_login_csrf(&req, auth)?;
    validate_new_password(form.password)?;

    let SignUpForm {
        name,
        email,
        password,
        image,
        callback,
        remember,
    } = form;
    let remember = remember.unwrap_or(true);
    // With verification required, no session until the address is verified, and (as Better
    // Auth does then) a taken address gets the same answer as a new one, with a made-up user.
    let required = auth.flows.verification == EmailVerification::Required;
    let mut conn = state.pool.acquire().await?;
    let taken = store::user_by_email(&mut conn, &email).await?.is_some();
    let guest = guests::presented_guest(&req, &state, &mut conn).await?;
    drop(conn);
    if taken && !required {
        return Err(AuthError::USER_ALREADY_EXISTS);
    }
    let hash = auth.hasher.hash(password).await?;
    if taken {
        return Ok(HttpResponse::Ok().json(SignUpResponse {
            token: None,
            user: auth.user(&store::UserRow::unsaved(name, &email, image)),
        }));
    }

    let mut tx = state.pool.begin().await?;
    let Some(user) = store::insert_user(&mut tx, name, &email, image, false).await? else {
        // Someone signed up with this email between our check and our insert.
        return Err(AuthError::USER_ALREADY_EXISTS);
    };
    store::insert_credential_account(&mut tx, &user.id, &hash).await?;
    let session = if required {
        None
    } else {
        Some(session::create(&mut tx, &user.id, remember, &req, auth).await?)
    };
    tx.commit().await?;
    tracing::Span::current().record("user.id", tracing::field::display(&user.id));
    tracing::info!(user.id = %user.id, "signed up");
    // A guest who signs up keeps their conversations (when a session starts, as Better Auth's
    // link step; with verification required it happens when the link signs them in).
    if let (Some(guest), Some(_)) = (guest, &session) {
        guests::adopt(&state, guest, &user.id).await;
    }
    if auth.flows.verification != EmailVerification::Off {
        mailing::send_verification(&state, &user, callback).await;
    }

    let mut headers = AuthHeaders::default();
    if let Some(session) = &session {
        headers.set_session(auth, &session.token, remember);
    }
    Ok(headers.ok().json(SignUpResponse {
        token: session.map(|s| s.token),
        user: auth.user(&user),
    }))
}

/// The sign-up body, every field checked, every issue reported at once.
struct SignUpForm<'a> {
    name: &'a str,
    email: String,
    password: &'a str,
    image: Option<&'a str>,
    /// Where the verification link leads, when one is sent.
    callback: Option<&'a str>,
    remember: Option<bool>,
}

impl<'a> SignUpForm<'a> {
    fn parse(fields: &Fields<'a>) -> Result<Self, AuthError> {
        let mut issues = Issues::default();
        let form = Self {
            name: issues.take(fields.string("name")),
            email: issues.take(fields.email("email")),
            password: issues.take(fields.string("password").and_then(|p| {
                if p.is_empty() {
                    Err(AuthError::validation(
                        "[body.password] Too small: expected string to have >=1 characters".into(),
                    ))
                } else {
                    Ok(p)
                }
            })),
            image: issues.take(fields.optional_string("image")),
            callback: issues.take(fields.optional_string("callbackURL")),
            remember: issues.take(fields.optional_bool("rememberMe")),
        };
        issues.finish()?;
        Ok(form)
    }
}
