//! Starting a sign-in with an identity provider: `POST /sign-in/social` (Better Auth 1.7's one
//! door for its built-in providers and the generic OAuth plugin's), `POST /sign-in/oauth2` (the
//! generic plugin's door before 1.7, for older clients), `POST /link-social`, and our own
//! `GET /providers`. The provider sends the person back to `provider_callback/`.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use chrono::{TimeDelta, Utc};
use shared::auth::{IdentityProvider, RedirectResponse, SocialSignInRequest};

use super::caller::session_or_return;
use super::headers::AuthHeaders;
use super::prologue::{Issues, accept_write};
use crate::auth::body::Fields;
use crate::auth::cookies;
use crate::auth::error::AuthError;
use crate::auth::providers::state::{
    self, COOKIE_MAX_AGE_SECS, LinkData, STATE_TTL_SECS, StateData,
};
use crate::auth::providers::{Authorization, Provider};
use crate::auth::store;
use crate::state::AppState;

/// Start signing in with an identity provider: answers its authorization URL.
#[utoipa::path(
    tag = "auth",
    request_body = SocialSignInRequest,
    responses(
        (status = 200, description = "The provider's authorization URL (also in `Location` unless `disableRedirect`); sets the short-lived `state` cookie", body = RedirectResponse),
        (status = 400, description = "`VALIDATION_ERROR`", body = shared::auth::AuthErrorBody),
        (status = 403, description = "`INVALID_CALLBACK_URL` (a redirect target on an untrusted origin), or the Origin check failed", body = shared::auth::AuthErrorBody),
        (status = 404, description = "`PROVIDER_NOT_FOUND`: not configured, or its discovery document cannot be read right now", body = shared::auth::AuthErrorBody),
        (status = 429, description = "Rate limited (3 per 10 s per address); see `X-Retry-After`"),
    )
)]
#[post("/sign-in/social")]
pub(super) async fn sign_in_social(
    req: HttpRequest,
    state: web::Data<AppState>,
    payload: web::Payload,
) -> Result<HttpResponse, AuthError> {
    let body = accept_write(&req, &state.auth, payload).await?;
    let form = StartForm::parse(&body.object()?, "provider")?;
    start(&state, form, None).await
}

/// The generic OAuth plugin's sign-in before Better Auth 1.7 (`providerId` for `provider`);
/// 1.7's client sends `signIn.social` for every provider.
#[utoipa::path(
    tag = "auth",
    request_body = SocialSignInRequest,
    responses(
        (status = 200, description = "As `/sign-in/social`", body = RedirectResponse),
        (status = 400, description = "`VALIDATION_ERROR`", body = shared::auth::AuthErrorBody),
        (status = 403, description = "`INVALID_CALLBACK_URL`, or the Origin check failed", body = shared::auth::AuthErrorBody),
        (status = 404, description = "`PROVIDER_NOT_FOUND`", body = shared::auth::AuthErrorBody),
        (status = 429, description = "Rate limited (3 per 10 s per address); see `X-Retry-After`"),
    )
)]
#[post("/sign-in/oauth2")]
pub(super) async fn sign_in_oauth2(
    req: HttpRequest,
    state: web::Data<AppState>,
    payload: web::Payload,
) -> Result<HttpResponse, AuthError> {
    let body = accept_write(&req, &state.auth, payload).await?;
    let form = StartForm::parse(&body.object()?, "providerId")?;
    start(&state, form, None).await
}

/// Link a provider's account to the signed-in user: answers the provider's authorization URL;
/// the callback links the account and goes to `callbackURL` without a new session.
#[utoipa::path(
    tag = "auth",
    request_body = SocialSignInRequest,
    responses(
        (status = 200, description = "The provider's authorization URL", body = RedirectResponse),
        (status = 400, description = "`VALIDATION_ERROR`", body = shared::auth::AuthErrorBody),
        (status = 401, description = "`UNAUTHORIZED`", body = shared::auth::AuthErrorBody),
        (status = 403, description = "`INVALID_CALLBACK_URL`, or the Origin check failed", body = shared::auth::AuthErrorBody),
        (status = 404, description = "`PROVIDER_NOT_FOUND`", body = shared::auth::AuthErrorBody),
        (status = 429, description = "Rate limited (3 per 10 s per address); see `X-Retry-After`"),
    )
)]
#[post("/link-social")]
pub(super) async fn link_social(
    req: HttpRequest,
    state: web::Data<AppState>,
    payload: web::Payload,
) -> Result<HttpResponse, AuthError> {
    let auth = &state.auth;
    let body = accept_write(&req, auth, payload).await?;
    let mut conn = state.pool.acquire().await?;
    let mut headers = AuthHeaders::default();
    let caller = session_or_return!(&req, &state, &mut conn, &mut headers);
    drop(conn);
    let form = StartForm::parse(&body.object()?, "provider")?;
    let link = LinkData {
        email: caller.user.email.clone(),
        user_id: caller.user.id.as_str().to_owned(),
        encrypted_session_token: Some(auth.link_sealer.seal(&caller.session.token)?),
    };
    start(&state, form, Some(link)).await
}

/// The identity providers this server offers, for the app's buttons. Chatkeep's own endpoint
/// (Better Auth has none).
#[utoipa::path(
    tag = "auth",
    responses((status = 200, description = "Configured providers, in the order their buttons show", body = [IdentityProvider]))
)]
#[get("/providers")]
pub(super) async fn providers(state: web::Data<AppState>) -> HttpResponse {
    let list: Vec<IdentityProvider> = state
        .auth
        .providers
        .iter()
        .map(|p| IdentityProvider {
            id: p.id.clone(),
            name: p.name.clone(),
        })
        .collect();
    HttpResponse::Ok().json(list)
}

/// The start of a provider sign-in, every field checked, every issue reported at once.
struct StartForm<'a> {
    provider: &'a str,
    callback_url: Option<&'a str>,
    new_user_url: Option<&'a str>,
    error_url: Option<&'a str>,
    disable_redirect: bool,
    scopes: Vec<String>,
    request_sign_up: Option<bool>,
    login_hint: Option<&'a str>,
    id_token: bool,
}

impl<'a> StartForm<'a> {
    fn parse(fields: &Fields<'a>, provider_key: &str) -> Result<Self, AuthError> {
        let mut issues = Issues::default();
        let non_empty = |v: Option<&'a str>| v.filter(|s| !s.is_empty());
        let form = Self {
            provider: issues.take(fields.string(provider_key)),
            callback_url: non_empty(issues.take(fields.optional_string("callbackURL"))),
            new_user_url: non_empty(issues.take(fields.optional_string("newUserCallbackURL"))),
            error_url: non_empty(issues.take(fields.optional_string("errorCallbackURL"))),
            disable_redirect: issues
                .take(fields.optional_bool("disableRedirect"))
                .unwrap_or(false),
            scopes: issues
                .take(fields.optional_strings("scopes"))
                .unwrap_or_default(),
            request_sign_up: issues.take(fields.optional_bool("requestSignUp")),
            login_hint: issues.take(fields.optional_string("loginHint")),
            id_token: fields.has("idToken"),
        };
        issues.finish()?;
        Ok(form)
    }
}

/// Records the state (a `verification` row and the signed cookie) and answers the provider's
/// authorization URL.
async fn start(
    state: &AppState,
    form: StartForm<'_>,
    link: Option<LinkData>,
) -> Result<HttpResponse, AuthError> {
    let auth = &state.auth;
    let Some(provider) = auth.providers.get(form.provider) else {
        return Err(AuthError::PROVIDER_NOT_FOUND);
    };
    if form.id_token {
        // Signing in with an ID token the app got itself (Better Auth's `idToken` body) is not
        // built: every sign-in here goes through the provider's redirect.
        return Err(AuthError::ID_TOKEN_NOT_SUPPORTED);
    }
    let oauth_state = state::new_state();
    let code_verifier = state::new_code_verifier();
    let nonce = provider.sends_nonce().then(state::new_nonce);
    let redirect_uri = callback_uri(state, provider);
    let url = provider
        .authorization_url(&Authorization {
            state: &oauth_state,
            code_verifier: &code_verifier,
            nonce: nonce.as_deref(),
            redirect_uri: &redirect_uri,
            extra_scopes: &form.scopes,
            login_hint: form.login_hint,
        })
        .await
        .map_err(|e| {
            tracing::error!(provider = %provider.id, error = %e, "the provider cannot be used");
            AuthError::PROVIDER_NOT_FOUND
        })?;
    let now = store::now();
    let data = StateData {
        callback_url: form
            .callback_url
            .map_or_else(|| base_url(state), str::to_owned),
        code_verifier,
        error_url: form.error_url.map(str::to_owned),
        new_user_url: form.new_user_url.map(str::to_owned),
        link,
        expires_at: (Utc::now() + TimeDelta::seconds(STATE_TTL_SECS)).timestamp_millis(),
        request_sign_up: form.request_sign_up,
        id_token_nonce: nonce,
        oauth_state: Some(oauth_state.clone()),
    };
    let value = serde_json::to_string(&data).map_err(anyhow::Error::from)?;
    let mut conn = state.pool.acquire().await?;
    store::insert_verification(
        &mut conn,
        &state::identifier(&oauth_state),
        &value,
        now + TimeDelta::seconds(STATE_TTL_SECS),
    )
    .await?;
    drop(conn);

    let mut headers = AuthHeaders::default();
    headers.cookies.push(auth.cookies.state_cookie(
        &cookies::sign(auth.secret(), &oauth_state),
        COOKIE_MAX_AGE_SECS,
    ));
    let mut builder = headers.ok();
    if !form.disable_redirect {
        builder.insert_header((header::LOCATION, url.as_str()));
    }
    Ok(builder.json(RedirectResponse {
        url: url.into(),
        redirect: !form.disable_redirect,
    }))
}

/// The base URL without its trailing slash: Better Auth's default `callbackURL`.
pub(super) fn base_url(state: &AppState) -> String {
    state
        .settings
        .base_url
        .as_str()
        .trim_end_matches('/')
        .to_owned()
}

/// Where the provider sends the person back: `{base}/api/auth/callback/{id}`.
pub(super) fn callback_uri(state: &AppState, provider: &Provider) -> String {
    format!("{}/api/auth/callback/{}", base_url(state), provider.id)
}
