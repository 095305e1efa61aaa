//! The email links' tokens, as Better Auth makes them: stateless HS256 JWTs signed with the
//! secret's UTF-8 bytes, header exactly `{"alg":"HS256"}`, claims in its order (`email`,
//! `updateTo`, `requestType`, `userId`, `iat`, `exp`). So a link made by either server works on
//! the other (same database, same secret).

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

/// What a link asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum RequestType {
    /// Sent to the current address: confirm the change, then the new address is asked.
    #[serde(rename = "change-email-confirmation")]
    ChangeConfirmation,
    /// Sent to the new address: follow it and the account's email becomes it.
    #[serde(rename = "change-email-verification")]
    ChangeVerification,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Claims {
    pub email: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub update_to: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_type: Option<RequestType>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    pub iat: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exp: Option<i64>,
}

/// Why a token was refused, as Better Auth's codes say it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    /// `TOKEN_EXPIRED`
    Expired,
    /// `INVALID_TOKEN`: anything else (another secret, tampered, not HS256, not ours).
    Invalid,
}

impl Claims {
    /// Claims for `email` of `user_id`, valid for `ttl` from now.
    pub fn new(email: &str, user_id: &str, ttl: std::time::Duration) -> Self {
        let now = chrono::Utc::now().timestamp();
        Self {
            email: email.to_lowercase(),
            update_to: None,
            request_type: None,
            user_id: Some(user_id.to_owned()),
            iat: now,
            exp: Some(now + i64::try_from(ttl.as_secs()).unwrap_or(i64::MAX / 2)),
        }
    }

    /// A change of email: `email` is the current address, `update_to` the new one.
    pub fn change(
        email: &str,
        update_to: &str,
        kind: RequestType,
        user_id: &str,
        ttl: std::time::Duration,
    ) -> Self {
        Self {
            update_to: Some(update_to.to_lowercase()),
            request_type: Some(kind),
            ..Self::new(email, user_id, ttl)
        }
    }
}

pub fn sign(secret: &str, claims: &Claims) -> anyhow::Result<String> {
    // Better Auth's header has no `typ`.
    let mut header = Header::new(Algorithm::HS256);
    header.typ = None;
    Ok(jsonwebtoken::encode(
        &header,
        claims,
        &EncodingKey::from_secret(secret.as_bytes()),
    )?)
}

/// Verifies as Better Auth (jose) does: HS256 only, no leeway, `exp` checked when present.
pub fn verify(secret: &str, token: &str) -> Result<Claims, Refused> {
    let mut validation = Validation::new(Algorithm::HS256);
    validation.leeway = 0;
    validation.validate_exp = true;
    validation.required_spec_claims.clear();
    validation.validate_aud = false;
    let decoded = jsonwebtoken::decode::<Claims>(
        token,
        &DecodingKey::from_secret(secret.as_bytes()),
        &validation,
    )
    .map_err(|e| match e.kind() {
        jsonwebtoken::errors::ErrorKind::ExpiredSignature => Refused::Expired,
        _ => Refused::Invalid,
    })?;
    // jose refuses `exp <= now`; jsonwebtoken lets `exp == now` pass.
    if decoded
        .claims
        .exp
        .is_some_and(|exp| exp <= chrono::Utc::now().timestamp())
    {
        return Err(Refused::Expired);
    }
    Ok(decoded.claims)
}

#[cfg(test)]
mod tests {
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;

    use super::*;

    const SECRET: &str = "test-secret-0123456789abcdefghijklmnopqrstuvwxyz";

    #[test]
    fn a_token_is_shaped_and_signed_as_better_auths() {
        // Made by Better Auth 1.7.25 with SECRET (see shared/reference and the research notes):
        // its header and claim order, and a signature we reproduce.
        let claims = Claims {
            email: "ann@example.com".to_owned(),
            update_to: None,
            request_type: None,
            user_id: Some("c8usSYwL8TPhluWkMFikbHJlEc3OjYAf".to_owned()),
            iat: 1_796_639_085,
            exp: Some(1_796_642_685),
        };
        let token = sign(SECRET, &claims).unwrap();
        let mut parts = token.split('.');
        let header = URL_SAFE_NO_PAD.decode(parts.next().unwrap()).unwrap();
        let payload = URL_SAFE_NO_PAD.decode(parts.next().unwrap()).unwrap();
        assert_eq!(header, br#"{"alg":"HS256"}"#);
        assert_eq!(
            String::from_utf8(payload).unwrap(),
            r#"{"email":"ann@example.com","userId":"c8usSYwL8TPhluWkMFikbHJlEc3OjYAf","iat":1796639085,"exp":1796642685}"#
        );
        assert_eq!(
            token,
            "eyJhbGciOiJIUzI1NiJ9.eyJlbWFpbCI6ImFubkBleGFtcGxlLmNvbSIsInVzZXJJZCI6ImM4dXNTWXdMOFRQaGx1V2tNRmlrYkhKbEVjM09qWUFmIiwiaWF0IjoxNzk2NjM5MDg1LCJleHAiOjE3OTY2NDI2ODV9._J2M-J_t22zQya7u_6av-hSkdFnQ5WKFkEst56iQWfk"
        );
    }

    #[test]
    fn tokens_are_refused_as_better_auth_refuses_them() {
        let fresh = Claims::new("ann@example.com", "u1", std::time::Duration::from_secs(60));
        let token = sign(SECRET, &fresh).unwrap();
        assert_eq!(verify(SECRET, &token).unwrap(), fresh);
        assert_eq!(verify("another-secret", &token), Err(Refused::Invalid));
        let tampered = token.replacen("eyJ", "eyK", 2);
        assert_eq!(verify(SECRET, &tampered), Err(Refused::Invalid));
        let mut old = fresh.clone();
        old.exp = Some(old.iat - 1);
        assert_eq!(
            verify(SECRET, &sign(SECRET, &old).unwrap()),
            Err(Refused::Expired)
        );
        // Not HS256: refused, whatever it says.
        let hs512 = jsonwebtoken::encode(
            &Header::new(Algorithm::HS512),
            &fresh,
            &EncodingKey::from_secret(SECRET.as_bytes()),
        )
        .unwrap();
        assert_eq!(verify(SECRET, &hs512), Err(Refused::Invalid));
        let change = Claims::change(
            "ann@example.com",
            "New@Example.com",
            RequestType::ChangeConfirmation,
            "u1",
            std::time::Duration::from_secs(60),
        );
        let back = verify(SECRET, &sign(SECRET, &change).unwrap()).unwrap();
        assert_eq!(back.update_to.as_deref(), Some("new@example.com"));
        assert_eq!(back.request_type, Some(RequestType::ChangeConfirmation));
    }
}
