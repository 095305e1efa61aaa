//! Where an identity provider sends the person back: `GET /callback/{id}` (and `POST`, which
//! Better Auth turns into the `GET`, for providers that post their answer). It checks the state
//! (the `verification` row and the signed cookie), exchanges the code, and then signs in, signs
//! up, or links, exactly as Better Auth's callback does; every refusal is a redirect to the
//! error URL with Better Auth's `?error=<code>`.

mod accounts;
mod oauth_state;

use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use serde::Deserialize;
use shared::error::Code;

use self::accounts::{link_account, sign_in_or_up};
use self::oauth_state::{StateCheck, read_state};
use super::guests;
use super::headers::AuthHeaders;
use super::mailing;
use super::social::base_url;
use crate::auth::error::AuthError;
use crate::auth::providers::Callback;
use crate::auth::session;
use crate::config::EmailVerification;
use crate::state::AppState;

/// The parameters a provider's answer carries (RFC 6749 §4.1.2, RFC 9207's `iss`).
#[derive(Debug, Default, Deserialize)]
pub(super) struct CallbackParams {
    code: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
    state: Option<String>,
    iss: Option<String>,
}

/// The provider's answer: signs in (or up) and redirects to `callbackURL`, or links the account
/// (`linkSocial`) and redirects without a new session; a refusal redirects to the error URL
/// with `?error=`.
#[utoipa::path(
    tag = "auth",
    params(
        ("id" = String, Path, description = "The provider's id"),
        ("code" = Option<String>, Query, description = "The authorization code"),
        ("state" = Option<String>, Query, description = "The state `sign-in/social` sent"),
        ("error" = Option<String>, Query, description = "The provider's refusal"),
        ("iss" = Option<String>, Query, description = "The issuer (RFC 9207)"),
    ),
    responses((status = 302, description = "To `callbackURL` (or `newUserCallbackURL` for a new user) with the session cookie; or to the error URL with `?error=state_mismatch`, `invalid_code`, `unable_to_get_user_info`, `account_not_linked`, `email_not_found`, `email_does_not_match`, `account_already_linked_to_different_user`, `unable_to_link_account`, `issuer_mismatch`, `nonce_binding_missing`, `BANNED_USER` (with its message as `error_description`), or the provider's own error"))
)]
#[get("/callback/{id}")]
pub(super) async fn callback(
    req: HttpRequest,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, AuthError> {
    let params = web::Query::<CallbackParams>::from_query(req.query_string())
        .map(web::Query::into_inner)
        .unwrap_or_default();
    finish(&req, &state, &id, params).await
}

/// A provider that posts its answer (`response_mode=form_post`): redirected to the `GET`.
#[utoipa::path(
    tag = "auth",
    params(("id" = String, Path, description = "The provider's id")),
    responses((status = 302, description = "To `GET /callback/{id}` with the same parameters"))
)]
#[post("/callback/{id}")]
pub(super) async fn callback_post(
    req: HttpRequest,
    state: web::Data<AppState>,
    id: web::Path<String>,
    form: String,
) -> HttpResponse {
    const KEYS: [&str; 7] = [
        "code",
        "error",
        "error_description",
        "state",
        "iss",
        "user",
        "device_id",
    ];
    let in_query: Vec<(String, String)> =
        url::form_urlencoded::parse(req.query_string().as_bytes())
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
    // The body's parameters, then the query's, which win where both name one.
    let query: Vec<(String, String)> = url::form_urlencoded::parse(form.as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .filter(|(k, _)| !in_query.iter().any(|(q, _)| q == k))
        .chain(in_query.iter().cloned())
        .filter(|(k, _)| KEYS.contains(&k.as_str()))
        .collect();
    let mut serializer = url::form_urlencoded::Serializer::new(String::new());
    serializer.extend_pairs(query);
    to_callback(&state, &id, &serializer.finish())
}

/// The generic OAuth plugin's callback path before Better Auth 1.7: the same callback.
#[utoipa::path(
    tag = "auth",
    params(("id" = String, Path, description = "The provider's id")),
    responses((status = 302, description = "To `GET /callback/{id}` with the same query"))
)]
#[get("/oauth2/callback/{id}")]
pub(super) async fn oauth2_callback(
    req: HttpRequest,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> HttpResponse {
    to_callback(&state, &id, req.query_string())
}

/// A redirect to `GET /callback/{id}?{query}`.
fn to_callback(state: &AppState, id: &str, query: &str) -> HttpResponse {
    let id = percent_encoding::utf8_percent_encode(id, percent_encoding::NON_ALPHANUMERIC);
    HttpResponse::build(StatusCode::FOUND)
        .insert_header((
            header::LOCATION,
            format!("{}/api/auth/callback/{id}?{query}", base_url(state)),
        ))
        .finish()
}

/// `url` with `?error=<code>` (and a description) added to its query, before any `#fragment`,
/// as Better Auth's `appendQueryParams` writes it.
fn with_error(url: &str, code: &str, description: Option<&str>) -> String {
    let mut params = url::form_urlencoded::Serializer::new(String::new());
    params.append_pair("error", code);
    if let Some(description) = description {
        params.append_pair("error_description", description);
    }
    let (address, fragment) = url
        .split_once('#')
        .map_or((url, None), |(a, f)| (a, Some(f)));
    let separator = if address.contains('?') { '&' } else { '?' };
    let mut out = format!("{address}{separator}{}", params.finish());
    if let Some(fragment) = fragment {
        out.push('#');
        out.push_str(fragment);
    }
    out
}

/// A refusal: a redirect to the error URL.
struct Refusal {
    error_url: String,
    code: String,
    description: Option<String>,
    /// The state was not this browser's: its own state cookie stays for the sign-in it has
    /// under way (Better Auth clears it only once the state matched).
    keep_state_cookie: bool,
}

impl Refusal {
    fn to(error_url: &str, code: &str) -> Self {
        Self {
            error_url: error_url.to_owned(),
            code: code.to_owned(),
            description: None,
            keep_state_cookie: false,
        }
    }
}

async fn finish(
    req: &HttpRequest,
    state: &AppState,
    id: &str,
    params: CallbackParams,
) -> Result<HttpResponse, AuthError> {
    let auth = &state.auth;
    let default_error_url = format!("{}/api/auth/error", base_url(state));
    let outcome = run(req, state, id, params, &default_error_url).await?;
    let mut headers = AuthHeaders::default();
    if !matches!(&outcome, Err(refusal) if refusal.keep_state_cookie) {
        headers.cookies.push(auth.cookies.clear_state());
    }
    let location = match outcome {
        Ok(Done { location, session }) => {
            if let Some(token) = session {
                headers.set_session(auth, &token, true);
            }
            location
        }
        Err(refusal) => {
            // Debug-quoted: the provider's `error` parameter is anyone's text.
            tracing::info!(provider = %id, error = ?refusal.code, "a provider sign-in was refused");
            with_error(
                &refusal.error_url,
                &refusal.code,
                refusal.description.as_deref(),
            )
        }
    };
    Ok(headers
        .apply(HttpResponse::build(StatusCode::FOUND))
        .insert_header((header::LOCATION, location))
        .finish())
}

struct Done {
    location: String,
    /// A new session's token (none after a link).
    session: Option<String>,
}

async fn run(
    req: &HttpRequest,
    state: &AppState,
    id: &str,
    params: CallbackParams,
    default_error_url: &str,
) -> Result<Result<Done, Refusal>, AuthError> {
    let auth = &state.auth;
    let refuse = |error_url: &str, code: &str| Ok(Err(Refusal::to(error_url, code)));
    let Some(oauth_state) = params.state.as_deref().filter(|s| !s.is_empty()) else {
        return refuse(default_error_url, "state_not_found");
    };
    let data = match read_state(req, state, oauth_state).await? {
        StateCheck::Valid(data) => *data,
        StateCheck::Refused { error_url, used } => {
            let error_url = error_url.as_deref().unwrap_or(default_error_url);
            return Ok(Err(Refusal {
                keep_state_cookie: !used,
                ..Refusal::to(error_url, "state_mismatch")
            }));
        }
    };
    let error_url = data.error_url.as_deref().unwrap_or(default_error_url);
    if let Some(error) = params.error.as_deref() {
        return Ok(Err(Refusal {
            description: params.error_description,
            ..Refusal::to(error_url, error)
        }));
    }
    let Some(code) = params.code.as_deref().filter(|c| !c.is_empty()) else {
        return refuse(error_url, "no_code");
    };
    let Some(provider) = auth.providers.get(id) else {
        return refuse(error_url, "oauth_provider_not_found");
    };
    if provider.requires_nonce() && data.id_token_nonce.is_none() {
        return refuse(error_url, "nonce_binding_missing");
    }
    let redirect_uri = super::social::callback_uri(state, provider);
    let identity = match provider
        .identify(&Callback {
            code,
            code_verifier: &data.code_verifier,
            redirect_uri: &redirect_uri,
            nonce: data.id_token_nonce.as_deref(),
            iss: params.iss.as_deref(),
        })
        .await
    {
        Ok(identity) => identity,
        Err(e) => return refuse(error_url, e.code()),
    };

    if let Some(link) = &data.link {
        return Ok(
            match link_account(state, provider, &identity, link).await? {
                Ok(()) => Ok(Done {
                    location: data.callback_url.clone(),
                    session: None,
                }),
                Err(code) => Err(Refusal::to(error_url, code)),
            },
        );
    }
    let Some(email) = identity.email.as_deref().filter(|e| !e.is_empty()) else {
        tracing::warn!(provider = %provider.id, "the provider gave no email address; ask for its email scope");
        return refuse(error_url, "email_not_found");
    };
    let (user, registered) = match sign_in_or_up(state, provider, &identity, email).await? {
        Ok(found) => found,
        Err(code) => return refuse(error_url, code),
    };
    if !user.email_verified {
        let required = auth.flows.verification == EmailVerification::Required;
        let mail = match auth.flows.verification {
            EmailVerification::Off => false,
            EmailVerification::Optional => registered,
            EmailVerification::Required => registered || auth.flows.verification_on_sign_in,
        };
        if mail {
            mailing::send_verification(state, &user, Some(&data.callback_url)).await;
        }
        // As a password sign-in: no session until the address is verified.
        if required {
            return refuse(error_url, "email_not_verified");
        }
    }
    let mut conn = state.pool.acquire().await?;
    let guest = guests::presented_guest(req, state, &mut conn).await?;
    let session = match session::create(&mut conn, &user.id, true, req, auth).await {
        Ok(session) => session,
        // As the admin plugin's hook refuses it: back to the app, with the reason.
        Err(e) if e.code() == Some(Code::BannedUser.as_str()) => {
            return Ok(Err(Refusal {
                description: Some(e.to_string()),
                ..Refusal::to(error_url, Code::BannedUser.as_str())
            }));
        }
        Err(e) => return Err(e),
    };
    drop(conn);
    if let Some(guest) = guest {
        guests::adopt(state, guest, &user.id).await;
    }
    tracing::Span::current().record("user.id", tracing::field::display(&user.id));
    tracing::info!(user.id = %user.id, provider = %provider.id, registered, "signed in with a provider");
    let location = match (registered, &data.new_user_url) {
        (true, Some(new_user)) => new_user.clone(),
        _ => data.callback_url.clone(),
    };
    Ok(Ok(Done {
        location,
        session: Some(session.token),
    }))
}

#[cfg(test)]
mod tests {
    use super::with_error;

    #[test]
    fn the_error_goes_into_the_query_before_any_fragment() {
        assert_eq!(
            with_error("/sign-in", "state_mismatch", None),
            "/sign-in?error=state_mismatch"
        );
        assert_eq!(
            with_error("/settings?tab=1#methods", "access_denied", Some("said no")),
            "/settings?tab=1&error=access_denied&error_description=said+no#methods"
        );
    }
}
