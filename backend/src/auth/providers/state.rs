//! A provider sign-in's state, kept as Better Auth keeps it so either server can finish what
//! the other started: a `verification` row `auth-state:<state>` (ten minutes) holding the JSON
//! below, and the `state` value in a signed cookie (five minutes) that binds the callback to
//! the browser that started it.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::Rng;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// How long a started sign-in may take (Better Auth's ten minutes).
pub const STATE_TTL_SECS: i64 = 600;
/// The state cookie's life (Better Auth's five minutes).
pub const COOKIE_MAX_AGE_SECS: i64 = 300;

/// The JSON Better Auth stores; absent fields are left out (its schema refuses `null`).
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StateData {
    #[serde(rename = "callbackURL")]
    pub callback_url: String,
    pub code_verifier: String,
    #[serde(rename = "errorURL", default, skip_serializing_if = "Option::is_none")]
    pub error_url: Option<String>,
    #[serde(
        rename = "newUserURL",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub new_user_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link: Option<LinkData>,
    /// Milliseconds since the epoch.
    pub expires_at: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_sign_up: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id_token_nonce: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oauth_state: Option<String>,
}

/// `linkSocial`: whose account the provider's is to be linked to, and (sealed) the session
/// that asked, which must still be live when the callback arrives.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LinkData {
    pub email: String,
    pub user_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encrypted_session_token: Option<String>,
}

/// The purpose a link's session token is sealed for (Better Auth's).
pub const LINK_TOKEN_PURPOSE: &str = "oauth-link-session-token";

pub fn identifier(state: &str) -> String {
    format!("auth-state:{state}")
}

/// Better Auth's `generateRandomString`: `len` characters from `alphabet`.
fn random(len: usize, alphabet: &[u8]) -> String {
    let mut rng = rand::rngs::OsRng;
    (0..len)
        .map(|_| char::from(alphabet[rng.gen_range(0..alphabet.len())]))
        .collect()
}

const ALPHANUMERIC: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
const VERIFIER: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_";

/// The `state` parameter: 32 characters.
pub fn new_state() -> String {
    random(32, ALPHANUMERIC)
}

/// The OpenID Connect `nonce`: 32 characters.
pub fn new_nonce() -> String {
    random(32, ALPHANUMERIC)
}

/// The PKCE code verifier: 128 characters (RFC 7636's longest).
pub fn new_code_verifier() -> String {
    random(128, VERIFIER)
}

/// PKCE S256: `base64url(SHA-256(verifier))`.
pub fn code_challenge(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pkce_s256_matches_rfc_7636_appendix_b() {
        assert_eq!(
            code_challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
    }

    #[test]
    fn state_json_is_what_better_auth_parses() {
        let data = StateData {
            callback_url: "/".into(),
            code_verifier: new_code_verifier(),
            error_url: None,
            new_user_url: Some("/welcome".into()),
            link: None,
            expires_at: 1,
            request_sign_up: None,
            id_token_nonce: Some(new_nonce()),
            oauth_state: Some(new_state()),
        };
        let json = serde_json::to_value(&data).unwrap();
        let keys: Vec<&str> = json
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(
            keys,
            [
                "callbackURL",
                "codeVerifier",
                "newUserURL",
                "expiresAt",
                "idTokenNonce",
                "oauthState"
            ]
        );
        assert_eq!(data.code_verifier.len(), 128);
    }
}
