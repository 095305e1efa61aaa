//! JWTs whose signature this process has already checked. An Ed25519 verification costs about
//! 30 µs of CPU, more than everything else a history read asks of the server, and a client
//! sends the same token for its 15 minutes; so a token seen before (the same bytes: the key is
//! a SHA-256 of the whole token) skips the signature and keeps every other check: it must not
//! have expired, and its key must still be known and still admit it (see `keys::PublicKey`).

use std::collections::HashMap;
use std::sync::Mutex;

use chrono::Utc;
use sha2::{Digest, Sha256};

/// Tokens held at once; past this the map starts afresh (a burst of distinct tokens costs
/// verifications, never memory). About 100 bytes each.
const CAPACITY: usize = 50_000;

/// What a verified token said that later requests need.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    pub sub: String,
    pub iat: Option<i64>,
    pub kid: String,
    exp: i64,
}

#[derive(Default)]
pub struct VerifiedTokens {
    tokens: Mutex<HashMap<[u8; 32], Verified>>,
}

impl VerifiedTokens {
    /// The claims of `token` if it verified before and has not expired since (with the same
    /// leeway as a verification).
    pub fn get(&self, token: &str, leeway_secs: i64) -> Option<Verified> {
        let key = digest(token);
        let mut tokens = self.tokens.lock().unwrap_or_else(|e| e.into_inner());
        let found = tokens.get(&key)?;
        if found.exp + leeway_secs < Utc::now().timestamp() {
            tokens.remove(&key);
            return None;
        }
        Some(found.clone())
    }

    /// Remembers a token that has just verified.
    pub fn insert(&self, token: &str, kid: &str, sub: &str, iat: Option<i64>, exp: i64) {
        let mut tokens = self.tokens.lock().unwrap_or_else(|e| e.into_inner());
        if tokens.len() >= CAPACITY {
            tokens.clear();
        }
        tokens.insert(
            digest(token),
            Verified {
                sub: sub.to_owned(),
                iat,
                kid: kid.to_owned(),
                exp,
            },
        );
    }
}

fn digest(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_is_found_by_its_exact_bytes_until_it_expires() {
        let tokens = VerifiedTokens::default();
        let now = Utc::now().timestamp();
        tokens.insert("a.b.c", "kid", "user-1", Some(now), now + 900);
        tokens.insert("old.b.c", "kid", "user-2", Some(now - 1000), now - 100);
        let found = tokens.get("a.b.c", 5).expect("remembered");
        assert_eq!((found.sub.as_str(), found.kid.as_str()), ("user-1", "kid"));
        assert_eq!(tokens.get("a.b.d", 5), None, "one character differs");
        assert_eq!(tokens.get("old.b.c", 5), None, "expired");
        assert_eq!(tokens.get("old.b.c", 200), None, "and forgotten");
    }

    #[test]
    fn a_full_map_starts_afresh() {
        let tokens = VerifiedTokens::default();
        let exp = Utc::now().timestamp() + 900;
        for i in 0..=CAPACITY {
            tokens.insert(&format!("t{i}"), "kid", "u", None, exp);
        }
        assert!(tokens.get("t0", 5).is_none());
        assert!(tokens.get(&format!("t{CAPACITY}"), 5).is_some());
    }
}
