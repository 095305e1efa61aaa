//! Trusting JWTs from an external Better Auth server (`AUTH_JWKS_URL`): its JWKS is fetched
//! and cached for `AUTH_JWKS_CACHE_SECS`, so a key the issuer drops stops verifying within that
//! time. A token with a `kid` we have not seen triggers a refetch, at most once a minute, so
//! key rotation works and a stream of forged kids cannot hammer the issuer. When the cache has
//! expired and the issuer cannot be reached, tokens are refused (fail closed) until it answers.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use anyhow::Context;
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey};
use tokio::sync::{Mutex, RwLock};

use super::jwt;
use crate::config::ExternalIssuerSettings;

const REFETCH_INTERVAL: Duration = Duration::from_secs(60);
const FETCH_TIMEOUT: Duration = Duration::from_secs(5);

type KeyMap = HashMap<String, (DecodingKey, Algorithm)>;

pub struct ExternalIssuer {
    settings: ExternalIssuerSettings,
    client: reqwest::Client,
    ttl: Duration,
    keys: RwLock<Cached>,
    /// When we last asked the issuer; guards the once-a-minute rule.
    last_fetch: Mutex<Option<Instant>>,
}

struct Cached {
    keys: KeyMap,
    fetched_at: Option<Instant>,
}

impl Cached {
    /// The key for `kid` while the set is younger than `ttl`; `Err(())` when the set is stale.
    fn get(&self, kid: &str, ttl: Duration) -> Result<Option<(DecodingKey, Algorithm)>, ()> {
        match self.fetched_at {
            Some(at) if at.elapsed() < ttl => Ok(self.keys.get(kid).cloned()),
            _ => Err(()),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ExternalError {
    #[error("unknown kid {0:?} (JWKS refetched at most once a minute)")]
    UnknownKid(String),
    #[error("token has no kid")]
    NoKid,
    #[error("invalid token: {0}")]
    Invalid(#[from] jsonwebtoken::errors::Error),
    #[error("cannot fetch the issuer's JWKS: {0:#}")]
    Fetch(anyhow::Error),
    #[error(
        "the issuer's keys have expired from the cache and it could not be reached a moment ago"
    )]
    Stale,
}

impl ExternalIssuer {
    pub fn new(settings: ExternalIssuerSettings, ttl: Duration) -> anyhow::Result<Self> {
        let client = reqwest::Client::builder()
            .timeout(FETCH_TIMEOUT)
            .build()
            .context("building the JWKS HTTP client")?;
        Ok(Self {
            settings,
            client,
            ttl,
            keys: RwLock::new(Cached {
                keys: HashMap::new(),
                fetched_at: None,
            }),
            last_fetch: Mutex::new(None),
        })
    }

    pub fn settings(&self) -> &ExternalIssuerSettings {
        &self.settings
    }

    /// Verifies `token` against the issuer's keys, its issuer and its audience.
    pub async fn verify(&self, token: &str) -> Result<jwt::VerifiedClaims, ExternalError> {
        let kid = jwt::kid(token).ok_or(ExternalError::NoKid)?;
        let (key, alg) = self.key_for(&kid).await?;
        Ok(jwt::verify(
            token,
            &key,
            alg,
            &self.settings.issuer,
            &self.settings.audience,
        )?)
    }

    /// The issuer's key `kid` and the one algorithm it verifies, from the cache or (at most
    /// once a minute) a fresh read of the JWKS.
    pub async fn key_for(&self, kid: &str) -> Result<(DecodingKey, Algorithm), ExternalError> {
        // Bound first: a read guard held through the match would deadlock the refetch's write.
        let cached = self.keys.read().await.get(kid, self.ttl);
        match cached {
            Ok(Some(found)) => Ok(found),
            Ok(None) | Err(()) => self.refetch_for(kid).await,
        }
    }

    async fn refetch_for(&self, kid: &str) -> Result<(DecodingKey, Algorithm), ExternalError> {
        let mut last = self.last_fetch.lock().await;
        // Another request may have refetched while we waited for the lock.
        let cached = self.keys.read().await.get(kid, self.ttl);
        if let Ok(Some(found)) = cached {
            return Ok(found);
        }
        if last.is_some_and(|at| at.elapsed() < REFETCH_INTERVAL.min(self.ttl)) {
            // A fresh set without the kid, or a stale one whose refetch just failed.
            return Err(match cached {
                Ok(_) => ExternalError::UnknownKid(kid.to_owned()),
                Err(()) => ExternalError::Stale,
            });
        }
        *last = Some(Instant::now());
        let fresh = self.fetch().await.map_err(ExternalError::Fetch)?;
        let found = fresh.get(kid).cloned();
        *self.keys.write().await = Cached {
            keys: fresh,
            fetched_at: Some(Instant::now()),
        };
        found.ok_or_else(|| ExternalError::UnknownKid(kid.to_owned()))
    }

    async fn fetch(&self) -> anyhow::Result<KeyMap> {
        let set: JwkSet = self
            .client
            .get(self.settings.jwks_url.clone())
            .send()
            .await?
            .error_for_status()?
            .json()
            .await
            .context("the JWKS is not a JSON Web Key Set")?;
        let usable: Vec<(Option<String>, (DecodingKey, Algorithm))> = set
            .keys
            .iter()
            .filter_map(|jwk| {
                let alg = super::jwk::algorithm_for(jwk, None)?;
                let key = DecodingKey::from_jwk(jwk).ok()?;
                Some((jwk.common.key_id.clone(), (key, alg)))
            })
            .collect();
        // A set of one key also answers for a token without a `kid` (some identity providers
        // publish a single key and leave it out), under the empty kid, as jose would use it.
        let only = match usable.as_slice() {
            [(_, key)] => Some((String::new(), key.clone())),
            _ => None,
        };
        let keys: KeyMap = usable
            .into_iter()
            .filter_map(|(kid, key)| Some((kid?, key)))
            .chain(only)
            .collect();
        tracing::info!(keys = keys.len(), url = %self.settings.jwks_url, "fetched the external JWKS");
        Ok(keys)
    }
}
