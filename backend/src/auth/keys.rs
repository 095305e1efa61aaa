//! The jwt plugin's signing keys, in Better Auth's `jwks` table and Better Auth's at-rest
//! format, so either server can sign with a key the other created.
//!
//! A key is Ed25519. `publicKey` holds the public JWK as JSON; `privateKey` holds a JSON string
//! literal of the private JWK encrypted as Better Auth encrypts it ([`super::sealed`]). The decrypted signing key is cached in memory; a new one is created on
//! first use when the table has none.
//!
//! Verification keys are cached for `AUTH_JWKS_CACHE_SECS`: a key deleted from the table stops
//! verifying within that time. A key past its `expiresAt` (Better Auth's rotation) verifies only
//! tokens issued before that instant, for the grace period it stays published.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, TimeDelta, Utc};
use ed25519_dalek::SigningKey;
use jsonwebtoken::DecodingKey;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sqlx::PgPool;
use tokio::sync::{Mutex, RwLock};

use super::sealed::Sealer;
use super::secret::Secrets;
use super::store;

/// Better Auth keeps a rotated-out key in the JWKS this long after it expires.
const GRACE_PERIOD: TimeDelta = TimeDelta::days(30);
/// An unknown `kid` re-reads the table at most this often (a flood of made-up kids cannot
/// turn into a flood of queries).
const RELOAD_INTERVAL: Duration = Duration::from_secs(10);

/// The private JWK as `jose.exportJWK` writes it for Ed25519: `{crv, d, x, kty}`.
#[derive(Serialize, Deserialize)]
struct PrivateJwk {
    crv: String,
    d: String,
    x: String,
    kty: String,
}

/// The public JWK: `{crv, x, kty}`.
#[derive(Serialize, Deserialize)]
struct PublicJwk {
    crv: String,
    x: String,
    kty: String,
}

/// A key ready to sign with.
pub struct ActiveKey {
    pub kid: String,
    pub key: SigningKey,
    /// Past this instant the key must not sign (Better Auth's rotation mints a new one).
    pub expires_at: Option<DateTime<Utc>>,
}

impl ActiveKey {
    fn live(&self) -> bool {
        self.expires_at.is_none_or(|at| at > Utc::now())
    }
}

/// A verification key from our table.
#[derive(Clone)]
pub struct PublicKey {
    pub key: DecodingKey,
    pub alg: jsonwebtoken::Algorithm,
    pub expires_at: Option<DateTime<Utc>>,
}

impl PublicKey {
    /// Whether a token issued at `iat` (seconds) may be verified by this key: any token while
    /// the key is live; after it expired, only those issued before it did.
    pub fn admits(&self, iat: Option<i64>) -> bool {
        match self.expires_at {
            None => true,
            Some(at) if at > Utc::now() => true,
            Some(at) => iat.is_some_and(|iat| iat <= at.timestamp()),
        }
    }
}

pub struct Keys {
    pool: PgPool,
    /// Encrypts and decrypts `privateKey` as Better Auth does.
    sealer: Sealer,
    /// How long a key is trusted from memory: verification keys are re-read after it, and the
    /// signing key re-checked, so a key rotated or expired through the table is picked up.
    ttl: Duration,
    active: RwLock<Option<(Arc<ActiveKey>, Instant)>>,
    create: Mutex<()>,
    public: RwLock<PublicCache>,
    /// Serialises table reloads; readers of known keys never wait on it.
    reload: Mutex<()>,
}

struct PublicCache {
    keys: HashMap<String, PublicKey>,
    loaded_at: Option<Instant>,
}

struct JwksRow {
    id: String,
    public_key: String,
    private_key: String,
    alg: Option<String>,
    crv: Option<String>,
    expires_at: Option<DateTime<Utc>>,
}

impl Keys {
    pub fn new(pool: PgPool, secrets: &Secrets, ttl: Duration) -> Self {
        Self {
            pool,
            sealer: Sealer::new(secrets),
            ttl,
            active: RwLock::new(None),
            create: Mutex::new(()),
            public: RwLock::new(PublicCache {
                keys: HashMap::new(),
                loaded_at: None,
            }),
            reload: Mutex::new(()),
        }
    }

    /// The newest live EdDSA key, decrypted; created (and stored) when there is none. Cached,
    /// and re-checked against the table every few minutes.
    pub async fn signing_key(&self) -> anyhow::Result<Arc<ActiveKey>> {
        if let Some((key, at)) = self.active.read().await.as_ref()
            && at.elapsed() < self.ttl
            && key.live()
        {
            return Ok(key.clone());
        }
        // One loader at a time, so concurrent first requests do not mint several keys.
        let _guard = self.create.lock().await;
        let cached = self.active.read().await.clone();
        if let Some((key, at)) = &cached
            && at.elapsed() < self.ttl
            && key.live()
        {
            return Ok(key.clone());
        }
        let key = match self.newest_live_key().await? {
            // Still the newest: keep the decrypted copy.
            Some(row) if cached.as_ref().is_some_and(|(k, _)| k.kid == row.id) => {
                cached.map(|(k, _)| k).expect("checked above")
            }
            Some(row) => Arc::new(ActiveKey {
                key: self.decrypt_private(&row.private_key)?,
                kid: row.id,
                expires_at: row.expires_at,
            }),
            None => Arc::new(self.create_key().await?),
        };
        *self.active.write().await = Some((key.clone(), Instant::now()));
        self.remember_public(&key).await;
        Ok(key)
    }

    /// A key we sign with verifies at once here, without waiting for the next table read.
    async fn remember_public(&self, active: &ActiveKey) {
        let x = URL_SAFE_NO_PAD.encode(active.key.verifying_key().as_bytes());
        let Ok(key) = DecodingKey::from_ed_components(&x) else {
            return;
        };
        self.public.write().await.keys.insert(
            active.kid.clone(),
            PublicKey {
                key,
                alg: jsonwebtoken::Algorithm::EdDSA,
                expires_at: active.expires_at,
            },
        );
    }

    async fn newest_live_key(&self) -> anyhow::Result<Option<JwksRow>> {
        let row = sqlx::query_as!(
            JwksRow,
            r#"SELECT id, "publicKey" AS public_key, "privateKey" AS private_key, alg, crv,
                      "expiresAt" AS expires_at
                 FROM jwks
                WHERE coalesce(alg, 'EdDSA') = 'EdDSA'
                  AND ("expiresAt" IS NULL OR "expiresAt" > now())
                ORDER BY "createdAt" DESC
                LIMIT 1"#
        )
        .fetch_optional(&self.pool)
        .await
        .context("reading the jwks table")?;
        Ok(row)
    }

    async fn create_key(&self) -> anyhow::Result<ActiveKey> {
        let key = SigningKey::generate(&mut rand::rngs::OsRng);
        let x = URL_SAFE_NO_PAD.encode(key.verifying_key().as_bytes());
        let public = serde_json::to_string(&PublicJwk {
            crv: "Ed25519".into(),
            x: x.clone(),
            kty: "OKP".into(),
        })?;
        let private = serde_json::to_string(&PrivateJwk {
            crv: "Ed25519".into(),
            d: URL_SAFE_NO_PAD.encode(key.to_bytes()),
            x,
            kty: "OKP".into(),
        })?;
        let kid = store::generate_id();
        sqlx::query!(
            r#"INSERT INTO jwks (id, "publicKey", "privateKey", "createdAt", alg, crv)
               VALUES ($1, $2, $3, $4, 'EdDSA', 'Ed25519')"#,
            kid,
            public,
            self.encrypt_private(&private)?,
            store::now()
        )
        .execute(&self.pool)
        .await
        .context("storing a new signing key")?;
        tracing::info!(kid = %kid, "created a new Ed25519 signing key");
        Ok(ActiveKey {
            kid,
            key,
            expires_at: None,
        })
    }

    /// Better Auth's `symmetricEncrypt`, then JSON-quoted as the column stores it.
    fn encrypt_private(&self, plaintext: &str) -> anyhow::Result<String> {
        let sealed = self
            .sealer
            .seal(plaintext)
            .context("encrypting the private key")?;
        Ok(serde_json::to_string(&sealed)?)
    }

    fn decrypt_private(&self, stored: &str) -> anyhow::Result<SigningKey> {
        let jwk_json = if stored.trim_start().starts_with('{') {
            // `jwks.disablePrivateKeyEncryption: true` stores the JWK in the clear.
            stored.to_owned()
        } else {
            let sealed: String =
                serde_json::from_str(stored).context("privateKey is not a JSON string")?;
            self.sealer
                .open(&sealed)
                .context("cannot read the stored signing key")?
        };
        let jwk: PrivateJwk =
            serde_json::from_str(&jwk_json).context("privateKey is not an Ed25519 JWK")?;
        if jwk.kty != "OKP" || jwk.crv != "Ed25519" {
            bail!(
                "only Ed25519 signing keys are supported (found {} {})",
                jwk.kty,
                jwk.crv
            );
        }
        let seed: [u8; 32] = URL_SAFE_NO_PAD
            .decode(&jwk.d)
            .context("JWK d is not base64url")?
            .try_into()
            .map_err(|_| anyhow::anyhow!("JWK d is not 32 bytes"))?;
        Ok(SigningKey::from_bytes(&seed))
    }

    /// Every key a verifier should know: `{"keys":[{alg, crv, x, kty, kid}]}` in Better Auth's
    /// field order. Creates the first key if there is none (Better Auth does the same).
    pub async fn jwks_document(&self) -> anyhow::Result<Value> {
        self.signing_key().await?;
        let rows = self.published_rows().await?;
        let keys = rows
            .into_iter()
            .filter_map(|row| {
                let public: Map<String, Value> = serde_json::from_str(&row.public_key).ok()?;
                let mut jwk = Map::new();
                jwk.insert(
                    "alg".into(),
                    Value::String(row.alg.unwrap_or_else(|| "EdDSA".into())),
                );
                if let Some(crv) = row.crv {
                    jwk.insert("crv".into(), Value::String(crv));
                }
                for (k, v) in public {
                    jwk.entry(k).or_insert(v);
                }
                jwk.insert("kid".into(), Value::String(row.id));
                Some(Value::Object(jwk))
            })
            .collect();
        Ok(serde_json::json!({ "keys": Value::Array(keys) }))
    }

    async fn published_rows(&self) -> anyhow::Result<Vec<JwksRow>> {
        let cutoff = Utc::now() - GRACE_PERIOD;
        let rows = sqlx::query_as!(
            JwksRow,
            r#"SELECT id, "publicKey" AS public_key, '' AS "private_key!", alg, crv,
                      "expiresAt" AS expires_at
                 FROM jwks
                WHERE "expiresAt" IS NULL OR "expiresAt" > $1
                ORDER BY "createdAt""#,
            cutoff
        )
        .fetch_all(&self.pool)
        .await
        .context("reading the jwks table")?;
        Ok(rows)
    }

    /// A verification key by `kid`, from memory or (rarely) the table. The table is read with
    /// no lock held, so checks of known keys never wait on it. Known keys are re-read after the
    /// cache lifetime; an unknown kid re-reads the table at most every [`RELOAD_INTERVAL`].
    pub async fn public_key(&self, kid: &str) -> anyhow::Result<Option<PublicKey>> {
        let younger_than = |cache: &PublicCache, age: Duration| {
            cache.loaded_at.is_some_and(|at| at.elapsed() < age)
        };
        let ttl = self.ttl;
        // The answer from memory, when memory can give it.
        let from_memory = |cache: &PublicCache| match cache.keys.get(kid) {
            Some(key) if younger_than(cache, ttl) => Some(Some(key.clone())),
            None if younger_than(cache, RELOAD_INTERVAL.min(ttl)) => Some(None),
            _ => None,
        };
        if let Some(answer) = from_memory(&*self.public.read().await) {
            return Ok(answer);
        }
        let _reloading = self.reload.lock().await;
        if let Some(answer) = from_memory(&*self.public.read().await) {
            return Ok(answer);
        }
        let keys: HashMap<String, PublicKey> = self
            .published_rows()
            .await?
            .into_iter()
            .filter_map(|row| {
                let jwk: jsonwebtoken::jwk::Jwk = serde_json::from_str(&row.public_key).ok()?;
                let alg = super::jwk::algorithm_for(&jwk, row.alg.as_deref())?;
                let key = DecodingKey::from_jwk(&jwk).ok()?;
                let expires_at = row.expires_at;
                Some((
                    row.id,
                    PublicKey {
                        key,
                        alg,
                        expires_at,
                    },
                ))
            })
            .collect();
        let found = keys.get(kid).cloned();
        *self.public.write().await = PublicCache {
            keys,
            loaded_at: Some(Instant::now()),
        };
        Ok(found)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(secret: &str) -> Keys {
        let pool = PgPool::connect_lazy("postgres://unused@127.0.0.1:1/unused").unwrap();
        let secrets = Secrets::single(crate::config::Secret::new(secret.to_owned()));
        Keys::new(pool, &secrets, Duration::from_secs(300))
    }

    #[tokio::test]
    async fn private_keys_round_trip_through_better_auths_format() {
        let k = keys("a-secret-of-reasonable-length-000000");
        let key = SigningKey::generate(&mut rand::rngs::OsRng);
        let jwk = serde_json::to_string(&PrivateJwk {
            crv: "Ed25519".into(),
            d: URL_SAFE_NO_PAD.encode(key.to_bytes()),
            x: URL_SAFE_NO_PAD.encode(key.verifying_key().as_bytes()),
            kty: "OKP".into(),
        })
        .unwrap();
        let stored = k.encrypt_private(&jwk).unwrap();
        assert!(stored.starts_with('"') && stored.ends_with('"'));
        // 24-byte nonce + plaintext + 16-byte tag, hex-encoded, plus the two quotes.
        assert_eq!(stored.len(), 2 * (24 + jwk.len() + 16) + 2);
        assert_eq!(
            k.decrypt_private(&stored).unwrap().to_bytes(),
            key.to_bytes()
        );

        let wrong = keys("another-secret-of-reasonable-length-0");
        let err = format!("{:#}", wrong.decrypt_private(&stored).err().unwrap());
        assert!(err.contains("BETTER_AUTH_SECRET"), "{err}");
    }
}
