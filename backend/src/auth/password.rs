//! Better Auth's password hashes, so a Better Auth database's users sign in unchanged.
//!
//! scrypt with N = 2^14, r = 16, p = 1 and a 64-byte key over the NFKC-normalised password;
//! the salt is 16 random bytes written as 32 lower-case hex chars, and the *hex string's*
//! bytes are what scrypt salts with. Stored as `<salt hex>:<key hex>`.
//!
//! bcrypt hashes (`$2a$`, `$2b$`, `$2y$`: what apps that give Better Auth their own `hash` and
//! `verify` store, and what they imported from next-auth or Clerk) verify too, over the
//! password's raw UTF-8 as bcryptjs and bcrypt-ts read it (no NFKC; bcrypt reads the first 72
//! bytes only, in every library). New hashes are scrypt unless `PASSWORD_HASH=bcrypt`; a bcrypt
//! hash is never rewritten as scrypt on sign-in, since the app sharing the database may read
//! bcrypt only.
//!
//! Each hash costs ~32 MiB and a few hundred milliseconds of CPU, so hashing runs on blocking
//! threads behind a semaphore: a burst of sign-ins queues here instead of starving the
//! executor or exhausting memory.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use subtle::ConstantTimeEq;
use tokio::sync::Semaphore;
use unicode_normalization::UnicodeNormalization;

use crate::config::PasswordHash;

pub const MIN_PASSWORD_LENGTH: usize = 8;
pub const MAX_PASSWORD_LENGTH: usize = 128;

const LOG_N: u8 = 14;
const R: u32 = 16;
const P: u32 = 1;
const KEY_LEN: usize = 64;
/// What vercel/chatbot's and bcrypt-ts's defaults use, and most imported hashes carry.
const BCRYPT_COST: u32 = 10;

/// Password length as JavaScript counts it (UTF-16 code units), which is what Better Auth's
/// 8..128 limits measure.
pub fn js_length(password: &str) -> usize {
    password.encode_utf16().count()
}

/// Every hashing permit stayed taken for the whole wait: the server is saturated, and the caller
/// hears so (503) instead of queueing without end.
#[derive(Debug, thiserror::Error)]
#[error("every password hashing slot stayed busy for {0:?}")]
pub struct HasherBusy(pub Duration);

#[derive(Clone)]
pub struct PasswordHasher {
    /// What new passwords are hashed with (`PASSWORD_HASH`).
    scheme: PasswordHash,
    permits: Arc<Semaphore>,
    /// The longest a request waits for a permit (`PASSWORD_HASH_MAX_WAIT_MS`).
    max_wait: Duration,
    /// Verified against for unknown emails, so a miss costs what a hit costs.
    dummy_hash: Arc<str>,
}

impl PasswordHasher {
    /// `concurrency` hashes may run at once; more wait their turn, at most `max_wait`.
    pub fn new(
        concurrency: usize,
        max_wait: Duration,
        scheme: PasswordHash,
    ) -> anyhow::Result<Self> {
        let dummy_hash = hash_with(scheme, "chatkeep-dummy-password-for-timing")?;
        Ok(Self {
            scheme,
            permits: Arc::new(Semaphore::new(concurrency.max(1))),
            max_wait,
            dummy_hash: dummy_hash.into(),
        })
    }

    pub async fn hash(&self, password: &str) -> anyhow::Result<String> {
        let (password, scheme) = (password.to_owned(), self.scheme);
        self.run(move || hash_with(scheme, &password)).await
    }

    /// `Ok(false)` for a wrong password or a stored value we cannot parse.
    pub async fn verify(&self, password: &str, stored: &str) -> anyhow::Result<bool> {
        let (password, stored) = (password.to_owned(), stored.to_owned());
        self.run(move || verify_blocking(&password, &stored)).await
    }

    /// Spends one verification's worth of time, for the paths where there is no hash to check
    /// (unknown email, no password account), so response time does not reveal which it was.
    pub async fn burn(&self, password: &str) -> anyhow::Result<()> {
        let dummy = self.dummy_hash.clone();
        let password = password.to_owned();
        self.run(move || verify_blocking(&password, &dummy).map(|_| ()))
            .await
    }

    async fn run<T: Send + 'static>(
        &self,
        job: impl FnOnce() -> anyhow::Result<T> + Send + 'static,
    ) -> anyhow::Result<T> {
        let _permit = tokio::time::timeout(self.max_wait, self.permits.acquire())
            .await
            .map_err(|_| HasherBusy(self.max_wait))?
            .context("password hasher closed")?;
        tokio::task::spawn_blocking(job)
            .await
            .context("password hashing task panicked")?
    }
}

fn params() -> scrypt::Params {
    scrypt::Params::new(LOG_N, R, P, KEY_LEN).expect("Better Auth's scrypt parameters are valid")
}

fn derive(password: &str, salt_hex: &str) -> anyhow::Result<[u8; KEY_LEN]> {
    let normalized: String = password.nfkc().collect();
    let mut key = [0u8; KEY_LEN];
    scrypt::scrypt(
        normalized.as_bytes(),
        salt_hex.as_bytes(),
        &params(),
        &mut key,
    )
    .map_err(|e| anyhow::anyhow!("scrypt failed: {e}"))?;
    Ok(key)
}

/// A new hash of `password` in `scheme`'s format.
pub fn hash_with(scheme: PasswordHash, password: &str) -> anyhow::Result<String> {
    match scheme {
        PasswordHash::Scrypt => hash_blocking(password),
        PasswordHash::Bcrypt => {
            bcrypt::hash(password, BCRYPT_COST).map_err(|e| anyhow::anyhow!("bcrypt failed: {e}"))
        }
    }
}

/// A new scrypt hash in Better Auth's format.
pub fn hash_blocking(password: &str) -> anyhow::Result<String> {
    let salt: [u8; 16] = rand::random();
    let salt_hex = hex::encode(salt);
    let key = derive(password, &salt_hex)?;
    Ok(format!("{salt_hex}:{}", hex::encode(key)))
}

/// Whether `stored` is a bcrypt hash (`$2$`, `$2a$`, `$2b$`, `$2x$`, `$2y$`).
fn is_bcrypt(stored: &str) -> bool {
    ["$2$", "$2a$", "$2b$", "$2x$", "$2y$"]
        .iter()
        .any(|prefix| stored.starts_with(prefix))
}

pub fn verify_blocking(password: &str, stored: &str) -> anyhow::Result<bool> {
    if is_bcrypt(stored) {
        // A malformed bcrypt value is a wrong password, not an error (Better Auth answers 500).
        return Ok(bcrypt::verify(password, stored).unwrap_or(false));
    }
    let Some((salt_hex, key_hex)) = stored.split_once(':') else {
        return Ok(false);
    };
    let Ok(expected) = hex::decode(key_hex) else {
        return Ok(false);
    };
    let actual = derive(password, salt_hex)?;
    Ok(actual.ct_eq(expected.as_slice()).into())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A hash Better Auth 1.7.25 wrote for "correct horse battery" (reference transcript,
    /// `account.password` of the probe user after it changed its password back).
    const BETTER_AUTH_HASH: &str = "71a2362f512a574e13789b0308c65333:a2ce3ea9b98498123cebff0e4b32ed7458a262a0072f191100c7dc0f62599829c1e19fc2a8005b7687b16f2bc4eb0f36d3db61e3f59bb5bef2ad1536eb1c805e";

    #[test]
    fn verifies_a_hash_better_auth_wrote() {
        assert!(verify_blocking("correct horse battery", BETTER_AUTH_HASH).unwrap());
        assert!(!verify_blocking("correct horse battery 2", BETTER_AUTH_HASH).unwrap());
    }

    #[test]
    fn hashes_in_better_auths_format_and_round_trips() {
        let hash = hash_blocking("pässwörd ﬁne").unwrap();
        let (salt, key) = hash.split_once(':').unwrap();
        assert_eq!((salt.len(), key.len()), (32, 128));
        assert!(
            hash.chars()
                .all(|c| c == ':' || c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
        );
        assert!(verify_blocking("pässwörd ﬁne", &hash).unwrap());
        // NFKC: the ligature "ﬁ" and "fi" are the same password.
        assert!(verify_blocking("pässwörd fine", &hash).unwrap());
    }

    /// bcrypt hashes of "correct horse battery" as the apps that share Better Auth databases
    /// write them: bcryptjs 3 (`$2b$`), bcrypt-ts 5 (`$2a$`, vercel/chatbot's while it ran on
    /// Better Auth), and the bcryptjs hash under PHP's prefix (`$2y$`, the same algorithm).
    const BCRYPTJS_2B: &str = "$2b$10$bTbr.YZRNdpo0e2YcGg4VuvuTjXQ1v5k0yrG7wb7tAvrp84aTNzg.";
    const BCRYPT_TS_2A: &str = "$2a$10$a4lep4tOu2g74wS8z1ZQpOwQN3RJeG5R4Ufj822k4lLFsJ.7hNGHW";
    const PHP_2Y: &str = "$2y$10$bTbr.YZRNdpo0e2YcGg4VuvuTjXQ1v5k0yrG7wb7tAvrp84aTNzg.";

    #[test]
    fn verifies_bcrypt_hashes_of_every_prefix() {
        for stored in [BCRYPTJS_2B, BCRYPT_TS_2A, PHP_2Y] {
            assert!(
                verify_blocking("correct horse battery", stored).unwrap(),
                "{stored}"
            );
            assert!(
                !verify_blocking("correct horse batterY", stored).unwrap(),
                "{stored}"
            );
        }
        assert!(
            !verify_blocking("x", "$2b$10$short").unwrap(),
            "malformed: not a match"
        );
    }

    #[test]
    fn bcrypt_is_written_when_asked_for_and_reads_the_raw_password() {
        let hash = hash_with(PasswordHash::Bcrypt, "pässwörd ﬁne").unwrap();
        assert!(hash.starts_with("$2b$10$") && hash.len() == 60, "{hash}");
        assert!(verify_blocking("pässwörd ﬁne", &hash).unwrap());
        // No NFKC on this path, as in bcryptjs: the ligature is another password here.
        assert!(!verify_blocking("pässwörd fine", &hash).unwrap());
        assert!(hash_with(PasswordHash::Scrypt, "x").unwrap().contains(':'));
    }

    #[test]
    fn unparseable_stored_values_do_not_verify() {
        assert!(!verify_blocking("x", "").unwrap());
        assert!(!verify_blocking("x", "nocolon").unwrap());
        assert!(!verify_blocking("x", "abcd:zz").unwrap());
    }

    #[test]
    fn length_counts_utf16_units_like_javascript() {
        assert_eq!(js_length("abc"), 3);
        assert_eq!(js_length("😀"), 2);
    }
}
