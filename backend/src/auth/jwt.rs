//! The jwt plugin's tokens: EdDSA, `kid` = the `jwks` row id, claims = the whole user plus
//! `iat`, `sub`, `exp` (15 minutes), `iss` = `aud` = the base URL's origin. And their
//! verification, for our own keys and for a trusted external Better Auth server's.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::Utc;
use ed25519_dalek::Signer;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::{Deserialize, Serialize};

use super::keys::ActiveKey;
use super::store::UserRow;

/// `jwt.expirationTime`: 15 minutes.
pub const EXPIRES_IN_SECS: i64 = 15 * 60;
/// Clock skew tolerated on `exp` (jose, Better Auth's library, tolerates none by default).
pub const LEEWAY_SECS: u64 = 5;

/// The payload Better Auth signs, in its order.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Claims {
    pub iat: i64,
    pub name: String,
    pub email: String,
    pub email_verified: bool,
    pub image: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    /// With the anonymous plugin on, as the user object carries it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub is_anonymous: Option<bool>,
    /// The admin plugin's fields, as the user object carries them.
    pub role: Option<String>,
    pub banned: Option<bool>,
    pub ban_reason: Option<String>,
    pub ban_expires: Option<String>,
    pub id: String,
    pub sub: String,
    pub exp: i64,
    pub iss: String,
    pub aud: String,
}

/// What we need from a verified token (any issuer): the subject and, for provisioning, the
/// user fields Better Auth puts in it.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VerifiedClaims {
    pub sub: String,
    #[serde(default)]
    pub iat: Option<i64>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub email_verified: Option<bool>,
    #[serde(default)]
    pub image: Option<String>,
    #[serde(default)]
    pub created_at: Option<String>,
    #[serde(default)]
    pub updated_at: Option<String>,
    /// Always present in a token that verified (`exp` is required).
    #[serde(default)]
    pub exp: i64,
}

/// Signs a 15-minute token for `user`. The header is Better Auth's: `{"alg":"EdDSA","kid"}`.
/// The claims are the user as the wire shows it (`guests_on`: with `isAnonymous`).
pub fn sign(
    key: &ActiveKey,
    user: &UserRow,
    origin: &str,
    guests_on: bool,
) -> anyhow::Result<String> {
    let iat = Utc::now().timestamp();
    let claims = Claims {
        iat,
        name: user.name.clone(),
        email: user.email.clone(),
        email_verified: user.email_verified,
        image: user.image.clone(),
        created_at: crate::columns::iso_millis(user.created_at),
        updated_at: crate::columns::iso_millis(user.updated_at),
        is_anonymous: guests_on.then_some(user.is_anonymous),
        role: user.role.clone(),
        banned: user.banned,
        ban_reason: user.ban_reason.clone(),
        ban_expires: user.ban_expires.map(crate::columns::iso_millis),
        id: user.id.to_string(),
        sub: user.id.to_string(),
        exp: iat + EXPIRES_IN_SECS,
        iss: origin.to_owned(),
        aud: origin.to_owned(),
    };
    sign_claims(key, &claims)
}

/// A compact JWS over any claims, with Better Auth's header `{"alg":"EdDSA","kid"}`.
pub fn sign_claims(key: &ActiveKey, claims: &impl Serialize) -> anyhow::Result<String> {
    let header = serde_json::json!({ "alg": "EdDSA", "kid": key.kid });
    let signing_input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(&header)?),
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(claims)?)
    );
    let signature = key.key.sign(signing_input.as_bytes());
    Ok(format!(
        "{signing_input}.{}",
        URL_SAFE_NO_PAD.encode(signature.to_bytes())
    ))
}

/// The `kid` of a token's header, if it parses.
pub fn kid(token: &str) -> Option<String> {
    jsonwebtoken::decode_header(token).ok()?.kid
}

/// Verifies signature, algorithm (the key's, never the token's say-so), `exp`, `nbf` (when
/// present), `iss` and `aud`; `sub` must be present.
pub fn verify(
    token: &str,
    key: &DecodingKey,
    alg: Algorithm,
    issuer: &str,
    audience: &str,
) -> Result<VerifiedClaims, jsonwebtoken::errors::Error> {
    let mut validation = Validation::new(alg);
    validation.leeway = LEEWAY_SECS;
    validation.validate_nbf = true;
    validation.set_issuer(&[issuer]);
    validation.set_audience(&[audience]);
    validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
    jsonwebtoken::decode::<VerifiedClaims>(token, key, &validation).map(|data| data.claims)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ed25519_dalek::SigningKey;

    fn user() -> UserRow {
        let t = chrono::DateTime::parse_from_rfc3339("2026-11-27T03:13:53.185Z")
            .unwrap()
            .with_timezone(&Utc);
        UserRow {
            id: shared::UserId::new("WOZidNc4zymSeE3YgkQL590WYfi9F6Zy"),
            name: "Probe User".into(),
            email: "probe@example.com".into(),
            email_verified: false,
            image: None,
            created_at: t,
            updated_at: t,
            is_anonymous: false,
            role: Some(crate::auth::store::DEFAULT_ROLE.to_owned()),
            banned: Some(false),
            ban_reason: None,
            ban_expires: None,
        }
    }

    fn key() -> (ActiveKey, DecodingKey) {
        let key = SigningKey::generate(&mut rand::rngs::OsRng);
        let x = URL_SAFE_NO_PAD.encode(key.verifying_key().as_bytes());
        (
            ActiveKey {
                kid: "k1".into(),
                key,
                expires_at: None,
            },
            DecodingKey::from_ed_components(&x).unwrap(),
        )
    }

    #[test]
    fn tokens_have_better_auths_header_and_claims() {
        let (active, _) = key();
        let token = sign(&active, &user(), "http://127.0.0.1:3100", false).unwrap();
        let mut parts = token.split('.');
        let header = URL_SAFE_NO_PAD.decode(parts.next().unwrap()).unwrap();
        assert_eq!(header, br#"{"alg":"EdDSA","kid":"k1"}"#);
        let payload: serde_json::Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts.next().unwrap()).unwrap())
                .unwrap();
        let keys: Vec<&str> = payload
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(
            keys,
            [
                "iat",
                "name",
                "email",
                "emailVerified",
                "image",
                "createdAt",
                "updatedAt",
                "role",
                "banned",
                "banReason",
                "banExpires",
                "id",
                "sub",
                "exp",
                "iss",
                "aud"
            ]
        );
        assert_eq!(
            payload["exp"].as_i64().unwrap() - payload["iat"].as_i64().unwrap(),
            900
        );
        assert_eq!(payload["createdAt"], "2026-11-27T03:13:53.185Z");
        assert_eq!(
            URL_SAFE_NO_PAD.decode(parts.next().unwrap()).unwrap().len(),
            64
        );
    }

    #[test]
    fn verification_checks_signature_issuer_and_audience() {
        let (active, decoding) = key();
        let origin = "http://127.0.0.1:3100";
        let token = sign(&active, &user(), origin, false).unwrap();
        let claims = verify(&token, &decoding, Algorithm::EdDSA, origin, origin).unwrap();
        assert_eq!(claims.sub, "WOZidNc4zymSeE3YgkQL590WYfi9F6Zy");

        assert!(verify(&token, &decoding, Algorithm::EdDSA, "http://other", origin).is_err());
        assert!(verify(&token, &decoding, Algorithm::EdDSA, origin, "http://other").is_err());
        let (_, other_key) = key();
        assert!(verify(&token, &other_key, Algorithm::EdDSA, origin, origin).is_err());
        let mut tampered = token.clone();
        tampered.insert(token.find('.').unwrap() + 5, 'A');
        assert!(verify(&tampered, &decoding, Algorithm::EdDSA, origin, origin).is_err());
    }
}
