//! Identity providers: any OpenID Connect provider (as Better Auth's generic OAuth plugin
//! registers one), Google, and GitHub (as its built-in social providers). What a provider
//! does is here: the authorization URL, and turning a callback's code into an [`Identity`].
//! The flow around it (state, accounts, sessions, redirects) is in `routes/social.rs` and
//! `routes/provider_callback/`.

mod github;
mod oidc;
pub mod state;

use std::time::Duration;

use anyhow::Context;
use chrono::{DateTime, TimeDelta, Utc};
use serde::Deserialize;
use url::Url;

use crate::config::{ProviderKind, ProviderSettings, Secret};

const HTTP_TIMEOUT: Duration = Duration::from_secs(10);

/// The configured providers, in the order their buttons show.
pub struct Providers {
    list: Vec<Provider>,
    trusted: Vec<String>,
}

impl Providers {
    pub fn new(
        settings: &[ProviderSettings],
        trusted: &[String],
        jwks_ttl: Duration,
    ) -> anyhow::Result<Self> {
        let http = reqwest::Client::builder()
            .timeout(HTTP_TIMEOUT)
            // A provider's answer is read, never followed elsewhere.
            .redirect(reqwest::redirect::Policy::none())
            .user_agent("chatkeep")
            .build()
            .context("building the identity providers' HTTP client")?;
        let list = settings
            .iter()
            .map(|s| Provider {
                id: s.id.clone(),
                name: s.name.clone(),
                client_id: s.client_id.clone(),
                client_secret: s.client_secret.clone(),
                scopes: s.scopes.clone(),
                backend: match &s.kind {
                    ProviderKind::Oidc { issuer } => {
                        Backend::Oidc(oidc::Oidc::discovered(issuer.clone(), jwks_ttl))
                    }
                    ProviderKind::Google {
                        issuer: Some(issuer),
                    } => Backend::Oidc(
                        oidc::Oidc::discovered(issuer.clone(), jwks_ttl).google_flavoured(),
                    ),
                    ProviderKind::Google { issuer: None } => {
                        Backend::Oidc(oidc::Oidc::google(jwks_ttl))
                    }
                    ProviderKind::GitHub { oauth, api } => {
                        Backend::GitHub(github::GitHub::new(oauth.clone(), api.clone()))
                    }
                },
                http: http.clone(),
            })
            .collect();
        Ok(Self {
            list,
            trusted: trusted.to_vec(),
        })
    }

    pub fn get(&self, id: &str) -> Option<&Provider> {
        self.list.iter().find(|p| p.id == id)
    }

    pub fn iter(&self) -> impl Iterator<Item = &Provider> {
        self.list.iter()
    }

    /// In `TRUSTED_PROVIDERS`: may link to an account with the same address even when it does
    /// not say it verified the address.
    pub fn is_trusted(&self, id: &str) -> bool {
        self.trusted.iter().any(|t| t == id)
    }
}

pub struct Provider {
    pub id: String,
    pub name: String,
    client_id: String,
    client_secret: Secret<String>,
    scopes: Vec<String>,
    backend: Backend,
    http: reqwest::Client,
}

enum Backend {
    Oidc(oidc::Oidc),
    GitHub(github::GitHub),
}

/// What goes into an authorization request besides the provider's own settings.
pub struct Authorization<'a> {
    pub state: &'a str,
    pub code_verifier: &'a str,
    pub nonce: Option<&'a str>,
    pub redirect_uri: &'a str,
    /// Scopes the caller asks for on top of the configured ones.
    pub extra_scopes: &'a [String],
    pub login_hint: Option<&'a str>,
}

/// A callback's parts the provider needs.
pub struct Callback<'a> {
    pub code: &'a str,
    pub code_verifier: &'a str,
    pub redirect_uri: &'a str,
    /// The `nonce` the ID token must carry.
    pub nonce: Option<&'a str>,
    /// The callback's `iss` parameter (RFC 9207), when the provider sent one.
    pub iss: Option<&'a str>,
}

/// Who the provider says signed in.
#[derive(Debug)]
pub struct Identity {
    /// The provider's subject: the `account` row's `accountId`.
    pub account_id: String,
    pub email: Option<String>,
    pub email_verified: bool,
    pub name: String,
    pub image: Option<String>,
    pub tokens: Tokens,
}

/// The token endpoint's answer, as Better Auth stores it on the `account` row.
#[derive(Debug, Default)]
pub struct Tokens {
    pub access_token: Option<String>,
    pub refresh_token: Option<String>,
    pub id_token: Option<String>,
    pub access_token_expires_at: Option<DateTime<Utc>>,
    pub refresh_token_expires_at: Option<DateTime<Utc>>,
    pub scopes: Vec<String>,
}

/// Why a provider could not be used to start a sign-in.
#[derive(Debug, thiserror::Error)]
#[error("{0:#}")]
pub struct Unavailable(anyhow::Error);

/// Why a callback failed: Better Auth's `?error=` codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallbackError {
    IssuerMismatch,
    InvalidCode,
    UnableToGetUserInfo,
}

impl CallbackError {
    pub fn code(self) -> &'static str {
        match self {
            Self::IssuerMismatch => "issuer_mismatch",
            Self::InvalidCode => "invalid_code",
            Self::UnableToGetUserInfo => "unable_to_get_user_info",
        }
    }
}

impl Provider {
    /// Whether a sign-in sends a `nonce` the ID token must carry back (OpenID Connect).
    pub fn sends_nonce(&self) -> bool {
        matches!(self.backend, Backend::Oidc(_))
    }

    /// Whether a callback whose state holds no `nonce` is refused: a generic OpenID provider,
    /// as Better Auth's generic plugin binds it. Its Google provider sends none, so a Google
    /// sign-in a Better Auth server started (a state without one) still finishes here.
    pub fn requires_nonce(&self) -> bool {
        matches!(&self.backend, Backend::Oidc(oidc) if !oidc.is_google())
    }

    /// Where to send the person: the provider's authorization endpoint with the code flow's
    /// parameters (PKCE S256 always, `nonce` for OpenID Connect).
    pub async fn authorization_url(&self, request: &Authorization<'_>) -> Result<Url, Unavailable> {
        let (endpoint, google) = match &self.backend {
            Backend::Oidc(oidc) => {
                let found = oidc.endpoints(&self.http).await.map_err(Unavailable)?;
                (found.authorization.clone(), oidc.is_google())
            }
            Backend::GitHub(github) => (github.authorization_url(), false),
        };
        let mut scopes = self.scopes.clone();
        for scope in request.extra_scopes {
            if !scopes.contains(scope) {
                scopes.push(scope.clone());
            }
        }
        let mut url = endpoint;
        {
            let mut query = url.query_pairs_mut();
            query
                .append_pair("response_type", "code")
                .append_pair("client_id", &self.client_id)
                .append_pair("state", request.state)
                .append_pair("scope", &scopes.join(" "))
                .append_pair("redirect_uri", request.redirect_uri)
                .append_pair("code_challenge_method", "S256")
                .append_pair(
                    "code_challenge",
                    &state::code_challenge(request.code_verifier),
                );
            if let Some(nonce) = request.nonce {
                query.append_pair("nonce", nonce);
            }
            if let Some(hint) = request.login_hint {
                query.append_pair("login_hint", hint);
            }
            if google {
                query.append_pair("include_granted_scopes", "true");
            }
        }
        Ok(url)
    }

    /// Exchanges the callback's code and finds out who signed in: the ID token verified (its
    /// signature by the provider's JWKS, `iss`, `aud`, `exp` and `nonce`), userinfo when the
    /// token lacks the address; GitHub's profile and addresses.
    pub async fn identify(&self, callback: &Callback<'_>) -> Result<Identity, CallbackError> {
        match &self.backend {
            Backend::Oidc(oidc) => oidc.identify(self, callback).await,
            Backend::GitHub(github) => github.identify(self, callback).await,
        }
    }

    /// The authorization code grant, the client authenticated in the body
    /// (`client_secret_post`, as Better Auth sends it).
    async fn exchange(
        &self,
        endpoint: &Url,
        callback: &Callback<'_>,
    ) -> Result<Tokens, CallbackError> {
        let form = [
            ("grant_type", "authorization_code"),
            ("code", callback.code),
            ("code_verifier", callback.code_verifier),
            ("redirect_uri", callback.redirect_uri),
            ("client_id", &self.client_id),
            ("client_secret", self.client_secret.expose()),
        ];
        let response = self
            .http
            .post(endpoint.clone())
            .header(reqwest::header::ACCEPT, "application/json")
            .header(
                reqwest::header::CONTENT_TYPE,
                "application/x-www-form-urlencoded",
            )
            .body(
                url::form_urlencoded::Serializer::new(String::new())
                    .extend_pairs(form)
                    .finish(),
            )
            .send()
            .await
            .map_err(|e| self.failed("the token request failed", &e, CallbackError::InvalidCode))?;
        let status = response.status();
        let body: TokenResponse = response.json().await.map_err(|e| {
            self.failed(
                "the token answer is not JSON",
                &e,
                CallbackError::InvalidCode,
            )
        })?;
        if !status.is_success() || body.error.is_some() {
            tracing::warn!(
                provider = %self.id,
                status = status.as_u16(),
                error = body.error.as_deref().unwrap_or(""),
                "the provider refused the authorization code"
            );
            return Err(CallbackError::InvalidCode);
        }
        let Some(access_token) = body.access_token else {
            tracing::warn!(provider = %self.id, "the token answer has no access_token");
            return Err(CallbackError::InvalidCode);
        };
        let now = crate::auth::store::now();
        let after = |secs: Option<serde_json::Value>| {
            let secs = match secs? {
                // Whole seconds; some providers send a float.
                serde_json::Value::Number(n) => {
                    n.as_i64().or_else(|| n.as_f64().map(|f| f as i64))?
                }
                serde_json::Value::String(s) => s.parse().ok()?,
                _ => return None,
            };
            now.checked_add_signed(TimeDelta::try_seconds(secs)?)
        };
        Ok(Tokens {
            access_token: Some(access_token),
            refresh_token: body.refresh_token,
            id_token: body.id_token,
            access_token_expires_at: after(body.expires_in),
            refresh_token_expires_at: after(body.refresh_token_expires_in),
            scopes: match body.scope {
                Some(serde_json::Value::String(s)) => s
                    .split([' ', ','])
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned)
                    .collect(),
                Some(serde_json::Value::Array(items)) => items
                    .iter()
                    .filter_map(|i| i.as_str().map(str::to_owned))
                    .collect(),
                _ => Vec::new(),
            },
        })
    }

    /// Logs why a provider step failed (never a token) and answers `error`.
    fn failed(&self, what: &str, e: &dyn std::fmt::Display, error: CallbackError) -> CallbackError {
        tracing::warn!(provider = %self.id, error = %e, "{what}");
        error
    }
}

#[derive(Deserialize)]
struct TokenResponse {
    access_token: Option<String>,
    refresh_token: Option<String>,
    id_token: Option<String>,
    expires_in: Option<serde_json::Value>,
    refresh_token_expires_in: Option<serde_json::Value>,
    /// Space-separated, or (some providers) comma-separated or an array.
    scope: Option<serde_json::Value>,
    error: Option<String>,
}

/// `email_verified` as providers send it: a boolean, or (some) the text "true".
fn truthy(value: Option<&serde_json::Value>) -> bool {
    match value {
        Some(serde_json::Value::Bool(b)) => *b,
        Some(serde_json::Value::String(s)) => s == "true",
        _ => false,
    }
}
