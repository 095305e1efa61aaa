//! The `/api/auth` endpoints. Each follows Better Auth's order of checks: rate limit (scope
//! middleware), Origin check on cookie-bearing writes, body parsing and validation, then the
//! session, then the endpoint's own rules.

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::{StatusCode, header};
use actix_web::middleware::{Next, from_fn};
use actix_web::{Error, HttpRequest, HttpResponse, HttpResponseBuilder, get, post, web};
use futures_util::StreamExt;
use serde::Deserialize;
use shared::auth::{
    ChangePasswordRequest, ChangePasswordResponse, DeleteUserRequest, DeleteUserResponse,
    RevokeSessionRequest, Session, SessionWithUser, SignInRequest, SignInResponse, SignUpRequest,
    SignUpResponse, StatusResponse, SuccessResponse, TokenResponse, UpdateUserRequest, User,
};
use sqlx::PgConnection;
use utoipa_actix_web::scope;
use utoipa_actix_web::service_config::ServiceConfig;

use super::body::{self, BODY_LIMIT, Body, Fields};
use super::error::AuthError;
use super::password::{MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH, js_length};
use super::session::{self, Lookup};
use super::store::{self, SessionRow, UserRow};
use super::{AuthState, cookies, jwt, origin};
use crate::client_ip::bucket_key;
use crate::rate_limit::{Decision, Rule};
use crate::startup::AppState;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(
        scope("/api/auth")
            .wrap(from_fn(rate_limit))
            .service(sign_up)
            .service(sign_in)
            .service(sign_out)
            .service(get_session)
            .service(get_session_post)
            .service(list_sessions)
            .service(revoke_session)
            .service(revoke_sessions)
            .service(revoke_other_sessions)
            .service(update_user)
            .service(change_password)
            .service(delete_user)
            .service(ok)
            .service(jwt_token)
            .service(jwks)
            // Better Auth answers unknown paths and wrong methods with an empty 404.
            .default_service(web::to(|| async { HttpResponse::NotFound().finish() })),
    );
}

// ---------------------------------------------------------------------------------------------
// Rate limiting: before routing and before any body is read, as in Better Auth.

fn rule_for(path: &str) -> Rule {
    // `/delete-user` is ours: it checks a password too, so it gets the same guard (Better Auth
    // leaves it under the general rule).
    const STRICT: [&str; 5] = [
        "/sign-in",
        "/sign-up",
        "/change-password",
        "/change-email",
        "/delete-user",
    ];
    const SLOW: [&str; 4] = [
        "/request-password-reset",
        "/send-verification-email",
        "/email-otp/send-verification-otp",
        "/email-otp/request-password-reset",
    ];
    if STRICT.iter().any(|p| path.starts_with(p)) {
        Rule::new(10, 3)
    } else if SLOW.contains(&path) || path.starts_with("/forget-password") {
        Rule::new(60, 3)
    } else {
        Rule::new(10, 100)
    }
}

/// Every path this scope answers, as rate-limit buckets.
const ENDPOINTS: [&str; 15] = [
    "/sign-up/email",
    "/sign-in/email",
    "/sign-out",
    "/get-session",
    "/list-sessions",
    "/revoke-session",
    "/revoke-sessions",
    "/revoke-other-sessions",
    "/update-user",
    "/change-password",
    "/delete-user",
    "/ok",
    "/token",
    "/jwks",
    "/",
];

/// The bucket a request counts against: its path as the router sees it (fully
/// percent-decoded, so `/%73ign-in/email` is `/sign-in/email`), relative to `/api/auth`,
/// without trailing slashes. Paths we do not serve share one bucket, so made-up paths can
/// neither dodge a strict rule nor grow the limiter's memory.
fn bucket_path(raw: &str) -> &'static str {
    let decoded = percent_encoding::percent_decode_str(raw).decode_utf8_lossy();
    let relative = decoded.strip_prefix("/api/auth").unwrap_or(&decoded);
    let trimmed = match relative.trim_end_matches('/') {
        "" => "/",
        p => p,
    };
    ENDPOINTS
        .iter()
        .find(|e| **e == trimmed)
        .copied()
        .unwrap_or("/*")
}

async fn rate_limit(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, Error> {
    let Some(state) = req.app_data::<web::Data<AppState>>().cloned() else {
        return next
            .call(req)
            .await
            .map(ServiceResponse::map_into_left_body);
    };
    if let (Some(limiter), Some(ip)) = (
        state.auth_rate_limiter.as_ref(),
        state.auth.client_ip(req.request()),
    ) {
        let path = bucket_path(req.path());
        let key = format!("auth|{}|{path}", bucket_key(ip));
        match limiter.hit(&key, rule_for(path)).await {
            Ok(Decision::Limited { retry_after_secs }) => {
                let response = HttpResponse::TooManyRequests()
                    .insert_header(("x-retry-after", retry_after_secs.to_string()))
                    .json(serde_json::json!({
                        "message": "Too many requests. Please try again later."
                    }));
                return Ok(req.into_response(response).map_into_right_body());
            }
            Ok(Decision::Allowed { .. }) => {}
            // The limiter's store (Redis) is down: serve rather than lock everyone out.
            Err(e) => tracing::error!(error = format!("{e:#}"), "auth rate limiter unavailable"),
        }
    }
    next.call(req)
        .await
        .map(ServiceResponse::map_into_left_body)
}

// ---------------------------------------------------------------------------------------------
// Shared steps.

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
async fn accept_write(
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
fn check_login_csrf(req: &HttpRequest, auth: &AuthState) -> Result<(), AuthError> {
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
                origin::check_callback_url(s, &auth.trusted_origins)?
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
struct Issues(Vec<String>);

impl Issues {
    fn take<T>(&mut self, result: Result<T, AuthError>) -> Option<T> {
        match result {
            Ok(v) => Some(v),
            Err(e) => {
                self.0.push(e.to_string());
                None
            }
        }
    }

    fn finish(self) -> Result<(), AuthError> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(AuthError::validation(self.0.join("; ")))
        }
    }
}

/// Response headers an endpoint accumulates: cookies, and the bearer and jwt plugins' headers.
#[derive(Default)]
struct AuthHeaders {
    cookies: Vec<String>,
    auth_token: Option<String>,
    auth_jwt: Option<String>,
}

impl AuthHeaders {
    /// Sets the session cookie (and `dont_remember` for a browser-session cookie) and, as the
    /// bearer plugin does for every such response, `set-auth-token`.
    fn set_session(&mut self, auth: &AuthState, token: &str, remember: bool) {
        let signed = cookies::sign(auth.secret(), token);
        self.cookies
            .push(auth.cookies.session_cookie(&signed, remember));
        if !remember {
            self.cookies
                .push(auth.cookies.dont_remember_cookie(auth.secret()));
        }
        self.auth_token = Some(signed);
    }

    /// `Max-Age=0` for all three cookies; a session cookie set earlier in this response is
    /// dropped, as Better Auth's `expireCookie` does.
    fn clear(&mut self, auth: &AuthState) {
        self.cookies.clear();
        self.auth_token = None;
        self.cookies.extend(auth.cookies.clear_all());
    }

    fn apply(self, mut builder: HttpResponseBuilder) -> HttpResponseBuilder {
        for cookie in self.cookies {
            builder.append_header((header::SET_COOKIE, cookie));
        }
        let mut exposed = Vec::new();
        if let Some(jwt) = self.auth_jwt {
            builder.insert_header(("set-auth-jwt", jwt));
            exposed.push("set-auth-jwt");
        }
        if let Some(token) = self.auth_token {
            builder.insert_header(("set-auth-token", token));
            exposed.push("set-auth-token");
        }
        if !exposed.is_empty() {
            builder.insert_header((header::ACCESS_CONTROL_EXPOSE_HEADERS, exposed.join(", ")));
        }
        builder
    }

    fn ok(self) -> HttpResponseBuilder {
        self.apply(HttpResponse::Ok())
    }
}

/// The caller's live session, loaded as every Better Auth endpoint loads it.
struct Caller {
    session: SessionRow,
    user: UserRow,
    /// The request carried a valid `dont_remember` cookie: no refresh, no Max-Age.
    dont_remember: bool,
}

impl Caller {
    fn remember(&self) -> bool {
        !self.dont_remember
    }
}

/// Loads the caller's session, sliding it forward when a day has passed since the last
/// refresh. `Err` is the whole response: 401, with cookies cleared when the presented session
/// is gone.
async fn require_session(
    req: &HttpRequest,
    state: &AppState,
    conn: &mut PgConnection,
    headers: &mut AuthHeaders,
) -> Result<Caller, HttpResponse> {
    match load_session(req, state, conn, headers, false).await {
        Ok(Some(caller)) => Ok(caller),
        // A dead session's 401 also clears its cookies, as Better Auth's does.
        Ok(None) => Err(std::mem::take(headers)
            .apply(HttpResponse::Unauthorized())
            .json(shared::auth::AuthErrorBody {
                message: "Unauthorized".to_owned(),
                code: Some("UNAUTHORIZED".to_owned()),
            })),
        Err(e) => Err(actix_web::ResponseError::error_response(&e)),
    }
}

/// `Ok(None)` for no session; a presented-but-dead session also queues the clearing cookies.
async fn load_session(
    req: &HttpRequest,
    state: &AppState,
    conn: &mut PgConnection,
    headers: &mut AuthHeaders,
    disable_refresh: bool,
) -> Result<Option<Caller>, AuthError> {
    let auth = &state.auth;
    let Some(presented) = session::presented_token(req, auth) else {
        return Ok(None);
    };
    let (mut session, user) = match session::lookup(conn, &presented.token).await? {
        Lookup::Live(found) => *found,
        Lookup::Dead => {
            headers.clear(auth);
            return Ok(None);
        }
    };
    let dont_remember = auth.cookies.dont_remember_from(req, auth.secret());
    let now = store::now();
    if !dont_remember
        && !disable_refresh
        && session::needs_refresh(&session, now)
        && let Some(updated) =
            store::refresh_session(conn, &session.id, now + session::EXPIRES_IN).await?
    {
        session = updated;
        headers.set_session(auth, &session.token, true);
    }
    tracing::Span::current().record("user.id", tracing::field::display(&user.id));
    Ok(Some(Caller {
        session,
        user,
        dont_remember,
    }))
}

macro_rules! session_or_return {
    ($req:expr, $state:expr, $conn:expr, $headers:expr) => {
        match require_session($req, $state, $conn, $headers).await {
            Ok(caller) => caller,
            Err(response) => return Ok(response),
        }
    };
}

fn validate_new_password(password: &str) -> Result<(), AuthError> {
    let length = js_length(password);
    if length < MIN_PASSWORD_LENGTH {
        return Err(AuthError::PASSWORD_TOO_SHORT);
    }
    if length > MAX_PASSWORD_LENGTH {
        return Err(AuthError::PASSWORD_TOO_LONG);
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Endpoints.

/// Create an account with email and password, and sign in.
#[utoipa::path(
    tag = "auth",
    request_body = SignUpRequest,
    responses(
        (status = 200, description = "Signed up and signed in; sets the session cookie and `set-auth-token`", body = SignUpResponse),
        (status = 400, description = "`VALIDATION_ERROR`, `PASSWORD_TOO_SHORT`, `PASSWORD_TOO_LONG`", body = shared::auth::AuthErrorBody),
        (status = 403, description = "Origin or Fetch-Metadata check failed", body = shared::auth::AuthErrorBody),
        (status = 422, description = "`USER_ALREADY_EXISTS_USE_ANOTHER_EMAIL`", body = shared::auth::AuthErrorBody),
        (status = 429, description = "Rate limited (3 per 10 s); see `X-Retry-After`"),
    )
)]
#[post("/sign-up/email")]
async fn sign_up(
    req: HttpRequest,
    state: web::Data<AppState>,
    payload: web::Payload,
) -> Result<HttpResponse, AuthError> {
    let auth = &state.auth;
    let body = accept_write(&req, auth, payload).await?;
    let fields: Fields = body.object()?;

    let mut issues = Issues::default();
    let name = issues.take(fields.string("name"));
    let email = issues.take(fields.email("email"));
    let password = issues.take(fields.string("password").and_then(|p| {
        if p.is_empty() {
            Err(AuthError::validation(
                "[body.password] Too small: expected string to have >=1 characters".into(),
            ))
        } else {
            Ok(p)
        }
    }));
    let image = issues.take(fields.optional_string("image"));
    issues.take(fields.optional_string("callbackURL"));
    let remember = issues.take(fields.optional_bool("rememberMe"));
    issues.finish()?;
    let (Some(name), Some(email), Some(password), Some(image), Some(remember)) =
        (name, email, password, image, remember)
    else {
        unreachable!("every field either parsed or produced an issue");
    };
    check_login_csrf(&req, auth)?;
    validate_new_password(password)?;

    let remember = remember.unwrap_or(true);
    let mut conn = state.pool.acquire().await?;
    if store::user_by_email(&mut conn, &email).await?.is_some() {
        return Err(AuthError::USER_ALREADY_EXISTS);
    }
    drop(conn);
    let hash = auth.hasher.hash(password).await?;

    let mut tx = state.pool.begin().await?;
    let Some(user) = store::insert_user(&mut tx, name, &email, image, false).await? else {
        // Someone signed up with this email between our check and our insert.
        return Err(AuthError::USER_ALREADY_EXISTS);
    };
    store::insert_credential_account(&mut tx, &user.id, &hash).await?;
    let session = session::create(&mut tx, &user.id, remember, &req, auth).await?;
    tx.commit().await?;
    tracing::Span::current().record("user.id", tracing::field::display(&user.id));
    tracing::info!(user.id = %user.id, "signed up");

    let mut headers = AuthHeaders::default();
    headers.set_session(auth, &session.token, remember);
    Ok(headers.ok().json(SignUpResponse {
        token: Some(session.token),
        user: User::from(&user),
    }))
}

/// Sign in with email and password.
#[utoipa::path(
    tag = "auth",
    request_body = SignInRequest,
    responses(
        (status = 200, description = "Signed in; sets the session cookie and `set-auth-token`", body = SignInResponse),
        (status = 400, description = "`VALIDATION_ERROR`, `INVALID_EMAIL`, `PASSWORD_TOO_LONG`", body = shared::auth::AuthErrorBody),
        (status = 401, description = "`INVALID_EMAIL_OR_PASSWORD` (unknown email and wrong password look the same)", body = shared::auth::AuthErrorBody),
        (status = 403, description = "Origin or Fetch-Metadata check failed", body = shared::auth::AuthErrorBody),
        (status = 429, description = "Rate limited (3 per 10 s); see `X-Retry-After`"),
    )
)]
#[post("/sign-in/email")]
async fn sign_in(
    req: HttpRequest,
    state: web::Data<AppState>,
    payload: web::Payload,
) -> Result<HttpResponse, AuthError> {
    let auth = &state.auth;
    let body = accept_write(&req, auth, payload).await?;
    let fields = body.object()?;

    let mut issues = Issues::default();
    let email = issues.take(fields.string("email"));
    let password = issues.take(fields.string("password"));
    let callback = issues.take(fields.optional_string("callbackURL"));
    let remember = issues.take(fields.optional_bool("rememberMe"));
    issues.finish()?;
    let (Some(email), Some(password), Some(callback), Some(remember)) =
        (email, password, callback, remember)
    else {
        unreachable!("every field either parsed or produced an issue");
    };
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
    let (Some(user), Some(hash)) = (user, hash) else {
        auth.hasher.burn(password).await?;
        return Err(AuthError::INVALID_EMAIL_OR_PASSWORD);
    };
    if !auth.hasher.verify(password, &hash).await? {
        tracing::info!(user.id = %user.id, "sign-in refused: wrong password");
        return Err(AuthError::INVALID_EMAIL_OR_PASSWORD);
    }

    let remember = remember.unwrap_or(true);
    let mut conn = state.pool.acquire().await?;
    let session = session::create(&mut conn, &user.id, remember, &req, auth).await?;
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
        user: User::from(&user),
    }))
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
async fn sign_out(
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

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
struct GetSessionQuery {
    /// Return the session without sliding its expiry.
    #[serde(default)]
    disable_refresh: Option<String>,
    /// Accepted for compatibility; Chatkeep has no cookie cache.
    #[serde(default)]
    #[allow(dead_code)]
    disable_cookie_cache: Option<String>,
}

/// The current session and user, or JSON `null` (still 200) when there is none. Slides the
/// session's expiry once a day, and returns a fresh JWT in `set-auth-jwt`.
#[utoipa::path(
    tag = "auth",
    params(GetSessionQuery),
    responses(
        (status = 200, description = "`{session, user}`, or `null` when signed out", body = Option<SessionWithUser>),
    )
)]
#[get("/get-session")]
async fn get_session(
    req: HttpRequest,
    state: web::Data<AppState>,
    query: web::Query<GetSessionQuery>,
) -> Result<HttpResponse, AuthError> {
    let auth = &state.auth;
    let disable_refresh = query.disable_refresh.as_deref() == Some("true");
    let mut headers = AuthHeaders::default();
    let mut conn = state.pool.acquire().await?;
    let caller = load_session(&req, &state, &mut conn, &mut headers, disable_refresh).await?;
    drop(conn);

    let body = match caller {
        Some(caller) => {
            match auth.keys.signing_key().await {
                Ok(key) => headers.auth_jwt = Some(jwt::sign(&key, &caller.user, &auth.origin)?),
                // Without a usable key the session is still worth returning; say why once.
                Err(e) => tracing::error!(error = format!("{e:#}"), "cannot sign set-auth-jwt"),
            }
            serde_json::to_value(SessionWithUser {
                session: Session::from(&caller.session),
                user: User::from(&caller.user),
            })
            .map_err(anyhow::Error::from)?
        }
        None => {
            if headers.cookies.is_empty()
                && cookies::CookieNames::read(&req, &auth.cookies.session_data).is_some()
            {
                // A stale cookie-cache cookie from a Better Auth server: we keep no cache.
                headers.cookies.push(auth.cookies.clear_all()[1].clone());
            }
            serde_json::Value::Null
        }
    };
    Ok(headers
        .ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::PRAGMA, "no-cache"))
        .json(body))
}

/// Better Auth refuses `POST /get-session` unless `deferSessionRefresh` is on (it is not).
#[utoipa::path(
    tag = "auth",
    responses((status = 405, description = "`METHOD_NOT_ALLOWED_DEFER_SESSION_REQUIRED`", body = shared::auth::AuthErrorBody))
)]
#[post("/get-session")]
async fn get_session_post() -> HttpResponse {
    let mut res = actix_web::ResponseError::error_response(
        &AuthError::METHOD_NOT_ALLOWED_DEFER_SESSION_REQUIRED,
    );
    let headers = res.headers_mut();
    headers.insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("no-store"),
    );
    headers.insert(header::PRAGMA, header::HeaderValue::from_static("no-cache"));
    res
}

/// The user's unexpired sessions (tokens included). Needs a session younger than a day.
#[utoipa::path(
    tag = "auth",
    responses(
        (status = 200, description = "Active sessions", body = Vec<Session>),
        (status = 401, description = "`UNAUTHORIZED`", body = shared::auth::AuthErrorBody),
        (status = 403, description = "`SESSION_NOT_FRESH`", body = shared::auth::AuthErrorBody),
    )
)]
#[get("/list-sessions")]
async fn list_sessions(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AuthError> {
    let mut headers = AuthHeaders::default();
    let mut conn = state.pool.acquire().await?;
    let caller = session_or_return!(&req, &state, &mut conn, &mut headers);
    if !session::is_fresh(&caller.session, store::now()) {
        return Err(AuthError::SESSION_NOT_FRESH);
    }
    let sessions: Vec<Session> = store::active_sessions(&mut conn, &caller.user.id)
        .await?
        .iter()
        .map(Session::from)
        .collect();
    Ok(headers.ok().json(sessions))
}

/// Revoke one of the user's sessions by its raw token. Unknown or foreign tokens are ignored.
#[utoipa::path(
    tag = "auth",
    request_body = RevokeSessionRequest,
    responses(
        (status = 200, description = "Done (also when the token was not the user's)", body = StatusResponse),
        (status = 400, description = "`VALIDATION_ERROR`", body = shared::auth::AuthErrorBody),
        (status = 401, description = "`UNAUTHORIZED`", body = shared::auth::AuthErrorBody),
    )
)]
#[post("/revoke-session")]
async fn revoke_session(
    req: HttpRequest,
    state: web::Data<AppState>,
    payload: web::Payload,
) -> Result<HttpResponse, AuthError> {
    let auth = &state.auth;
    let body = accept_write(&req, auth, payload).await?;
    let target = body.object()?.string("token")?.to_owned();

    let mut headers = AuthHeaders::default();
    let mut conn = state.pool.acquire().await?;
    let caller = session_or_return!(&req, &state, &mut conn, &mut headers);
    store::delete_user_session(&mut conn, &caller.user.id, &target).await?;
    if target == caller.session.token {
        headers.clear(auth);
    }
    Ok(headers.ok().json(StatusResponse { status: true }))
}

/// Revoke every session of the user, this one included.
#[utoipa::path(
    tag = "auth",
    responses(
        (status = 200, description = "All sessions revoked; cookies cleared", body = StatusResponse),
        (status = 401, description = "`UNAUTHORIZED`", body = shared::auth::AuthErrorBody),
    )
)]
#[post("/revoke-sessions")]
async fn revoke_sessions(
    req: HttpRequest,
    state: web::Data<AppState>,
    payload: web::Payload,
) -> Result<HttpResponse, AuthError> {
    let auth = &state.auth;
    accept_write(&req, auth, payload).await?;
    let mut headers = AuthHeaders::default();
    let mut conn = state.pool.acquire().await?;
    let caller = session_or_return!(&req, &state, &mut conn, &mut headers);
    store::delete_all_sessions(&mut conn, &caller.user.id).await?;
    headers.clear(auth);
    Ok(headers.ok().json(StatusResponse { status: true }))
}

/// Revoke every other unexpired session of the user; this one stays.
#[utoipa::path(
    tag = "auth",
    responses(
        (status = 200, description = "Other sessions revoked", body = StatusResponse),
        (status = 401, description = "`UNAUTHORIZED`", body = shared::auth::AuthErrorBody),
    )
)]
#[post("/revoke-other-sessions")]
async fn revoke_other_sessions(
    req: HttpRequest,
    state: web::Data<AppState>,
    payload: web::Payload,
) -> Result<HttpResponse, AuthError> {
    let auth = &state.auth;
    accept_write(&req, auth, payload).await?;
    let mut headers = AuthHeaders::default();
    let mut conn = state.pool.acquire().await?;
    let caller = session_or_return!(&req, &state, &mut conn, &mut headers);
    store::delete_other_sessions(&mut conn, &caller.user.id, &caller.session.token).await?;
    Ok(headers.ok().json(StatusResponse { status: true }))
}

/// Change the user's name or image. The email cannot change here.
#[utoipa::path(
    tag = "auth",
    request_body = UpdateUserRequest,
    responses(
        (status = 200, description = "Updated; the session cookie is re-sent", body = StatusResponse),
        (status = 400, description = "`EMAIL_CAN_NOT_BE_UPDATED`, `VALIDATION_ERROR`, or `No fields to update`", body = shared::auth::AuthErrorBody),
        (status = 401, description = "`UNAUTHORIZED`", body = shared::auth::AuthErrorBody),
    )
)]
#[post("/update-user")]
async fn update_user(
    req: HttpRequest,
    state: web::Data<AppState>,
    payload: web::Payload,
) -> Result<HttpResponse, AuthError> {
    let auth = &state.auth;
    let body = accept_write(&req, auth, payload).await?;
    let fields = match body.raw() {
        Some(serde_json::Value::Object(_)) => body.object()?,
        other => {
            let received = match other {
                None => "undefined",
                Some(serde_json::Value::Array(_)) => "array",
                Some(serde_json::Value::Null) => "null",
                Some(serde_json::Value::String(_)) => "string",
                Some(serde_json::Value::Number(_)) => "number",
                Some(_) => "boolean",
            };
            return Err(AuthError::validation(format!(
                "[body] Invalid input: expected record, received {received}"
            )));
        }
    };
    let mut headers = AuthHeaders::default();
    let mut conn = state.pool.acquire().await?;
    let caller = session_or_return!(&req, &state, &mut conn, &mut headers);

    let email_present = match fields.optional_string("email") {
        Ok(Some(e)) => !e.is_empty(),
        Ok(None) => false,
        Err(_) => true,
    };
    if email_present {
        return Err(AuthError::EMAIL_CAN_NOT_BE_UPDATED);
    }
    let name = fields.optional_string("name")?;
    let image = fields.nullable_string("image")?;
    if name.is_none() && image.is_none() {
        return Err(AuthError::NO_FIELDS_TO_UPDATE);
    }
    store::update_user(&mut conn, &caller.user.id, name, image).await?;
    // Better Auth re-sends the (same) session cookie so a cookie cache would pick up the change.
    headers.set_session(auth, &caller.session.token, caller.remember());
    Ok(headers.ok().json(StatusResponse { status: true }))
}

/// Change the password (the current one is required). With `revokeOtherSessions`, every
/// session ends and a new one is issued.
#[utoipa::path(
    tag = "auth",
    request_body = ChangePasswordRequest,
    responses(
        (status = 200, description = "Changed; `token` is the new session's when sessions were revoked", body = ChangePasswordResponse),
        (status = 400, description = "`INVALID_PASSWORD`, `PASSWORD_TOO_SHORT`, `PASSWORD_TOO_LONG`, `CREDENTIAL_ACCOUNT_NOT_FOUND`, `VALIDATION_ERROR`", body = shared::auth::AuthErrorBody),
        (status = 401, description = "`UNAUTHORIZED`", body = shared::auth::AuthErrorBody),
        (status = 429, description = "Rate limited (3 per 10 s); see `X-Retry-After`"),
    )
)]
#[post("/change-password")]
async fn change_password(
    req: HttpRequest,
    state: web::Data<AppState>,
    payload: web::Payload,
) -> Result<HttpResponse, AuthError> {
    let auth = &state.auth;
    let body = accept_write(&req, auth, payload).await?;
    let fields = body.object()?;
    let mut issues = Issues::default();
    let new_password = issues.take(fields.string("newPassword"));
    let current_password = issues.take(fields.string("currentPassword"));
    let revoke = issues.take(fields.optional_bool("revokeOtherSessions"));
    issues.finish()?;
    let (Some(new_password), Some(current_password), Some(revoke)) =
        (new_password, current_password, revoke)
    else {
        unreachable!("every field either parsed or produced an issue");
    };

    let mut headers = AuthHeaders::default();
    let mut conn = state.pool.acquire().await?;
    let caller = session_or_return!(&req, &state, &mut conn, &mut headers);
    validate_new_password(new_password)?;
    if js_length(current_password) > MAX_PASSWORD_LENGTH {
        return Err(AuthError::PASSWORD_TOO_LONG);
    }
    let Some(stored) = store::credential_password(&mut conn, &caller.user.id).await? else {
        return Err(AuthError::CREDENTIAL_ACCOUNT_NOT_FOUND);
    };
    drop(conn);
    // Better Auth hashes the new password before checking the current one.
    let new_hash = auth.hasher.hash(new_password).await?;
    if !auth.hasher.verify(current_password, &stored).await? {
        return Err(AuthError::INVALID_PASSWORD);
    }

    let mut tx = state.pool.begin().await?;
    store::set_credential_password(&mut tx, &caller.user.id, &new_hash).await?;
    let mut new_token = None;
    if revoke.unwrap_or(false) {
        store::delete_all_sessions(&mut tx, &caller.user.id).await?;
        let session = session::create(&mut tx, &caller.user.id, true, &req, auth).await?;
        headers.set_session(auth, &session.token, caller.remember());
        new_token = Some(session.token);
    }
    tx.commit().await?;
    tracing::info!(user.id = %caller.user.id, revoked = new_token.is_some(), "password changed");
    Ok(headers.ok().json(ChangePasswordResponse {
        token: new_token,
        user: User::from(&caller.user),
    }))
}

/// Delete the account and everything in it: sessions, accounts, conversations and messages.
/// Needs the password, or a session younger than a day.
#[utoipa::path(
    tag = "auth",
    request_body = DeleteUserRequest,
    responses(
        (status = 200, description = "Deleted; cookies cleared", body = DeleteUserResponse),
        (status = 400, description = "`INVALID_PASSWORD`, `SESSION_EXPIRED`, `CREDENTIAL_ACCOUNT_NOT_FOUND`, `VALIDATION_ERROR`", body = shared::auth::AuthErrorBody),
        (status = 401, description = "`UNAUTHORIZED`", body = shared::auth::AuthErrorBody),
        (status = 404, description = "`INVALID_TOKEN`: Chatkeep issues no deletion tokens", body = shared::auth::AuthErrorBody),
    )
)]
#[post("/delete-user")]
async fn delete_user(
    req: HttpRequest,
    state: web::Data<AppState>,
    payload: web::Payload,
) -> Result<HttpResponse, AuthError> {
    let auth = &state.auth;
    let body = accept_write(&req, auth, payload).await?;
    let fields = body.object()?;
    let mut issues = Issues::default();
    let password = issues.take(fields.optional_string("password"));
    let deletion_token = issues.take(fields.optional_string("token"));
    issues.take(fields.optional_string("callbackURL"));
    issues.finish()?;
    let (Some(password), Some(deletion_token)) = (password, deletion_token) else {
        unreachable!("every field either parsed or produced an issue");
    };

    let mut headers = AuthHeaders::default();
    let mut conn = state.pool.acquire().await?;
    let caller = session_or_return!(&req, &state, &mut conn, &mut headers);
    match (password.filter(|p| !p.is_empty()), deletion_token) {
        (Some(password), _) => {
            if js_length(password) > MAX_PASSWORD_LENGTH {
                return Err(AuthError::PASSWORD_TOO_LONG);
            }
            let Some(stored) = store::credential_password(&mut conn, &caller.user.id).await? else {
                return Err(AuthError::CREDENTIAL_ACCOUNT_NOT_FOUND);
            };
            // Hand the connection back while the hash runs.
            drop(conn);
            if !auth.hasher.verify(password, &stored).await? {
                return Err(AuthError::INVALID_PASSWORD);
            }
            conn = state.pool.acquire().await?;
        }
        (None, Some(_)) => {
            return Err(AuthError::Body {
                status: StatusCode::NOT_FOUND,
                code: Some("INVALID_TOKEN"),
                message: "Invalid token".into(),
            });
        }
        (None, None) => {
            if !session::is_fresh(&caller.session, store::now()) {
                return Err(AuthError::SESSION_EXPIRED);
            }
        }
    }
    store::delete_user(&mut conn, &caller.user.id).await?;
    tracing::info!(user.id = %caller.user.id, "account deleted");
    headers.clear(auth);
    Ok(headers.ok().json(DeleteUserResponse {
        success: true,
        message: "User deleted".to_owned(),
    }))
}

/// Better Auth's liveness probe.
#[utoipa::path(
    tag = "auth",
    responses((status = 200, description = "`{\"ok\": true}`"))
)]
#[get("/ok")]
async fn ok() -> HttpResponse {
    HttpResponse::Ok().json(serde_json::json!({ "ok": true }))
}

/// A 15-minute EdDSA JWT for the current session (claims: the user, `sub`, `iss`, `aud`).
#[utoipa::path(
    tag = "auth",
    responses(
        (status = 200, description = "The JWT", body = TokenResponse),
        (status = 401, description = "`UNAUTHORIZED`", body = shared::auth::AuthErrorBody),
    )
)]
#[get("/token")]
async fn jwt_token(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AuthError> {
    let mut headers = AuthHeaders::default();
    let mut conn = state.pool.acquire().await?;
    let caller = session_or_return!(&req, &state, &mut conn, &mut headers);
    drop(conn);
    let key = state.auth.keys.signing_key().await?;
    let token = jwt::sign(&key, &caller.user, &state.auth.origin)?;
    Ok(headers.ok().json(TokenResponse { token }))
}

/// The public keys JWTs are signed with (`kid` = `jwks.id`).
#[utoipa::path(
    tag = "auth",
    responses((status = 200, description = "`{\"keys\": [{alg, crv, x, kty, kid}]}`"))
)]
#[get("/jwks")]
async fn jwks(state: web::Data<AppState>) -> Result<HttpResponse, AuthError> {
    Ok(HttpResponse::Ok().json(state.auth.keys.jwks_document().await?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rate_limit_rules_match_better_auths() {
        assert_eq!(rule_for("/sign-in/email"), Rule::new(10, 3));
        assert_eq!(rule_for("/sign-up/email"), Rule::new(10, 3));
        assert_eq!(rule_for("/change-password"), Rule::new(10, 3));
        assert_eq!(rule_for("/delete-user"), Rule::new(10, 3));
        assert_eq!(rule_for("/forget-password/x"), Rule::new(60, 3));
        assert_eq!(rule_for("/get-session"), Rule::new(10, 100));
    }

    #[test]
    fn encoded_and_unknown_paths_cannot_dodge_or_flood_the_buckets() {
        assert_eq!(bucket_path("/api/auth/%73ign-in/email"), "/sign-in/email");
        assert_eq!(
            bucket_path("/api/%61uth/sign-in%2Femail/"),
            "/sign-in/email"
        );
        assert_eq!(bucket_path("/api/auth/sign-in/email//"), "/sign-in/email");
        assert_eq!(bucket_path("/api/auth/made-up-1"), "/*");
        assert_eq!(bucket_path("/api/auth/made-up-2"), "/*");
    }
}
