//! OpenID Connect: endpoints from the issuer's discovery document (or Google's, built in), the
//! ID token verified against the provider's JWKS, userinfo when the token lacks the address.

use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail};
use jsonwebtoken::{Algorithm, Validation};
use serde::Deserialize;
use tokio::sync::OnceCell;
use url::Url;

use super::{Callback, CallbackError, Identity, Provider, truthy};
use crate::auth::external::ExternalIssuer;
use crate::config::ExternalIssuerSettings;

/// Clock skew tolerated on an ID token's `exp` and `iat`.
const LEEWAY_SECS: u64 = 30;
const GOOGLE_ISSUER: &str = "https://accounts.google.com";

pub struct Oidc {
    source: Source,
    google: bool,
    jwks_ttl: Duration,
    /// Discovered once, on first use; a failed discovery is tried again by the next sign-in.
    endpoints: OnceCell<Arc<Endpoints>>,
}

enum Source {
    Discover(Url),
    Google,
}

pub struct Endpoints {
    issuer: String,
    /// Google writes `iss` with and without the scheme.
    accepted_issuers: Vec<String>,
    pub authorization: Url,
    token: Url,
    userinfo: Option<Url>,
    jwks: Url,
    algorithms: Vec<Algorithm>,
    /// The JWKS, fetched and cached as an external issuer's is; built with the client id.
    keys: OnceCell<ExternalIssuer>,
}

#[derive(Deserialize)]
struct Discovery {
    issuer: String,
    authorization_endpoint: String,
    token_endpoint: String,
    userinfo_endpoint: Option<String>,
    jwks_uri: String,
    #[serde(default)]
    id_token_signing_alg_values_supported: Vec<String>,
}

#[derive(Deserialize)]
struct IdClaims {
    sub: String,
    /// The party the token was issued to, when the audience holds several.
    azp: Option<String>,
    email: Option<String>,
    email_verified: Option<serde_json::Value>,
    name: Option<String>,
    picture: Option<String>,
    nonce: Option<String>,
}

#[derive(Deserialize)]
struct UserInfo {
    sub: Option<String>,
    email: Option<String>,
    email_verified: Option<serde_json::Value>,
    name: Option<String>,
    picture: Option<String>,
}

fn trimmed(url: &Url) -> String {
    url.as_str().trim_end_matches('/').to_owned()
}

impl Oidc {
    pub fn discovered(issuer: Url, jwks_ttl: Duration) -> Self {
        Self {
            source: Source::Discover(issuer),
            google: false,
            jwks_ttl,
            endpoints: OnceCell::new(),
        }
    }

    pub fn google(jwks_ttl: Duration) -> Self {
        Self {
            source: Source::Google,
            google: true,
            jwks_ttl,
            endpoints: OnceCell::new(),
        }
    }

    /// Google's parameters on a discovered provider (`GOOGLE_ISSUER`).
    pub fn google_flavoured(mut self) -> Self {
        self.google = true;
        self
    }

    pub fn is_google(&self) -> bool {
        self.google
    }

    pub async fn endpoints(&self, http: &reqwest::Client) -> anyhow::Result<&Arc<Endpoints>> {
        self.endpoints
            .get_or_try_init(|| async {
                let endpoints = match &self.source {
                    Source::Google => google_endpoints(),
                    Source::Discover(issuer) => discover(http, issuer).await?,
                };
                Ok(Arc::new(endpoints))
            })
            .await
    }

    pub async fn identify(
        &self,
        provider: &Provider,
        callback: &Callback<'_>,
    ) -> Result<Identity, CallbackError> {
        let endpoints = self.endpoints(&provider.http).await.map_err(|e| {
            provider.failed(
                "the provider's discovery failed",
                &format!("{e:#}"),
                CallbackError::InvalidCode,
            )
        })?;
        if let Some(iss) = callback.iss
            && !endpoints.accepted_issuers.iter().any(|a| a == iss)
        {
            tracing::warn!(provider = %provider.id, "the callback's iss is not the provider's");
            return Err(CallbackError::IssuerMismatch);
        }
        let tokens = provider.exchange(&endpoints.token, callback).await?;
        let claims = match &tokens.id_token {
            Some(token) => Some(
                self.verify(provider, endpoints, token, callback.nonce)
                    .await
                    .map_err(|e| {
                        provider.failed(
                            "the ID token did not verify",
                            &format!("{e:#}"),
                            CallbackError::UnableToGetUserInfo,
                        )
                    })?,
            ),
            None => None,
        };
        let from_token = claims.as_ref().filter(|c| c.email.is_some());
        let identity = if let Some(claims) = from_token {
            Identity {
                account_id: claims.sub.clone(),
                email: claims.email.clone(),
                email_verified: truthy(claims.email_verified.as_ref()),
                name: claims.name.clone().unwrap_or_default(),
                image: claims.picture.clone(),
                tokens: Default::default(),
            }
        } else {
            let info = self
                .userinfo(provider, endpoints, tokens.access_token.as_deref())
                .await
                .map_err(|e| {
                    provider.failed(
                        "userinfo failed",
                        &format!("{e:#}"),
                        CallbackError::UnableToGetUserInfo,
                    )
                })?;
            // The token's subject wins; userinfo must be about the same person.
            let subject = match (&claims, info.sub) {
                (Some(claims), Some(sub)) if sub == claims.sub => sub,
                (Some(_), _) => {
                    tracing::warn!(provider = %provider.id, "userinfo's sub is not the ID token's");
                    return Err(CallbackError::UnableToGetUserInfo);
                }
                (None, Some(sub)) => sub,
                (None, None) => return Err(CallbackError::UnableToGetUserInfo),
            };
            Identity {
                account_id: subject,
                email: info.email,
                email_verified: truthy(info.email_verified.as_ref()),
                name: info.name.unwrap_or_default(),
                image: info.picture,
                tokens: Default::default(),
            }
        };
        if identity.account_id.is_empty() {
            return Err(CallbackError::UnableToGetUserInfo);
        }
        Ok(Identity { tokens, ..identity })
    }

    async fn verify(
        &self,
        provider: &Provider,
        endpoints: &Endpoints,
        token: &str,
        nonce: Option<&str>,
    ) -> anyhow::Result<IdClaims> {
        let keys = endpoints
            .keys
            .get_or_try_init(|| async {
                ExternalIssuer::new(
                    ExternalIssuerSettings {
                        jwks_url: endpoints.jwks.clone(),
                        issuer: endpoints.issuer.clone(),
                        audience: provider.client_id.clone(),
                        shared_users: false,
                    },
                    self.jwks_ttl,
                )
            })
            .await?;
        // No `kid`: the provider's only key, if it has only one.
        let kid = crate::auth::jwt::kid(token).unwrap_or_default();
        let (key, alg) = keys.key_for(&kid).await?;
        if !endpoints.algorithms.is_empty() && !endpoints.algorithms.contains(&alg) {
            bail!("the ID token's key uses {alg:?}, which discovery does not list");
        }
        let mut validation = Validation::new(alg);
        validation.leeway = LEEWAY_SECS;
        validation.set_issuer(&endpoints.accepted_issuers);
        validation.set_audience(&[&provider.client_id]);
        validation.validate_nbf = true;
        validation.set_required_spec_claims(&["exp", "iat", "iss", "aud", "sub"]);
        let claims = jsonwebtoken::decode::<IdClaims>(token, &key, &validation)?.claims;
        if let Some(expected) = nonce
            && claims.nonce.as_deref() != Some(expected)
        {
            bail!("the ID token's nonce is not this sign-in's");
        }
        if claims
            .azp
            .as_deref()
            .is_some_and(|azp| azp != provider.client_id)
        {
            bail!("the ID token was issued to another client (azp)");
        }
        Ok(claims)
    }

    async fn userinfo(
        &self,
        provider: &Provider,
        endpoints: &Endpoints,
        access_token: Option<&str>,
    ) -> anyhow::Result<UserInfo> {
        let (Some(url), Some(token)) = (&endpoints.userinfo, access_token) else {
            bail!("the ID token has no address and there is no userinfo endpoint");
        };
        Ok(provider
            .http
            .get(url.clone())
            .bearer_auth(token)
            .header(reqwest::header::ACCEPT, "application/json")
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?)
    }
}

/// Reads `{issuer}/.well-known/openid-configuration`; its `issuer` must be the one configured.
async fn discover(http: &reqwest::Client, issuer: &Url) -> anyhow::Result<Endpoints> {
    let url = format!("{}/.well-known/openid-configuration", trimmed(issuer));
    let doc: Discovery = http
        .get(&url)
        .send()
        .await
        .with_context(|| format!("fetching {url}"))?
        .error_for_status()?
        .json()
        .await
        .with_context(|| format!("{url} is not a discovery document"))?;
    if doc.issuer.trim_end_matches('/') != trimmed(issuer) {
        bail!(
            "{url} names the issuer {:?}, not the configured {:?}",
            doc.issuer,
            issuer.as_str()
        );
    }
    let parse = |name: &str, raw: &str| {
        Url::parse(raw).with_context(|| format!("{url}: {name} {raw:?} is not a URL"))
    };
    let endpoints = Endpoints {
        accepted_issuers: vec![doc.issuer.clone()],
        authorization: parse("authorization_endpoint", &doc.authorization_endpoint)?,
        token: parse("token_endpoint", &doc.token_endpoint)?,
        userinfo: doc
            .userinfo_endpoint
            .as_deref()
            .map(|raw| parse("userinfo_endpoint", raw))
            .transpose()?,
        jwks: parse("jwks_uri", &doc.jwks_uri)?,
        algorithms: doc
            .id_token_signing_alg_values_supported
            .iter()
            .filter_map(|a| a.parse().ok())
            .collect(),
        keys: OnceCell::new(),
        issuer: doc.issuer,
    };
    tracing::info!(issuer = %endpoints.issuer, "discovered an OpenID provider");
    Ok(endpoints)
}

/// Google's endpoints, as its discovery document lists them.
fn google_endpoints() -> Endpoints {
    let url = |s: &str| Url::parse(s).expect("a URL");
    Endpoints {
        issuer: GOOGLE_ISSUER.to_owned(),
        accepted_issuers: vec![GOOGLE_ISSUER.to_owned(), "accounts.google.com".to_owned()],
        authorization: url("https://accounts.google.com/o/oauth2/v2/auth"),
        token: url("https://oauth2.googleapis.com/token"),
        userinfo: Some(url("https://openidconnect.googleapis.com/v1/userinfo")),
        jwks: url("https://www.googleapis.com/oauth2/v3/certs"),
        algorithms: vec![Algorithm::RS256],
        keys: OnceCell::new(),
    }
}
