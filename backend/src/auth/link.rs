//! Users of a trusted external issuer (`AUTH_JWKS_URL`), linked to local users by an `account`
//! row: `providerId` = the issuer (`AUTH_JWT_ISSUER`), `accountId` = the token's `sub`. A token
//! from the issuer is accepted only for the user linked to its `sub`, so it can never become a
//! local user who merely has the same id (user ids are not secret: every JWT carries one).
//!
//! On first sight the user is created from the token's claims, keeping the issuer's id when it
//! is free. An email the issuer has not verified is not taken: such users get a placeholder
//! address under `.invalid`, so nobody can claim someone else's address there and lock its
//! owner out of signing up here. With `AUTH_JWT_SHARED_USERS` (both servers on one user table)
//! a `sub` that is a local user id is that user, as before links existed.

use sha2::{Digest, Sha256};
use shared::UserId;
use sqlx::{Connection, PgConnection};

use super::jwt::VerifiedClaims;
use super::store::{self, UserRow};
use crate::config::ExternalIssuerSettings;

/// The local user for a verified token of `issuer`, linking or creating them on first sight.
/// `None` when the token must not map to anyone (its id or verified email belongs to a local
/// user not linked to this issuer).
pub async fn local_user(
    conn: &mut PgConnection,
    issuer: &ExternalIssuerSettings,
    claims: VerifiedClaims,
) -> sqlx::Result<Option<UserId>> {
    let provider = issuer.issuer.as_str();
    let sub = claims.sub.clone();
    // The id the user has here when the issuer's id is free (or when the users are shared).
    let same_id = UserId::new(sub.clone());
    if let Some(user_id) = store::linked_user(conn, provider, &sub).await? {
        return Ok(Some(user_id));
    }
    if issuer.shared_users && store::user_by_id(conn, &same_id).await?.is_some() {
        return Ok(Some(same_id));
    }
    let mut tx = conn.begin().await?;
    // One first sight at a time per (issuer, sub): concurrent first requests make one user.
    store::lock_account_key(&mut tx, provider, &sub).await?;
    if let Some(user_id) = store::linked_user(&mut tx, provider, &sub).await? {
        return Ok(Some(user_id));
    }
    let user_id = match store::user_by_id(&mut tx, &same_id).await? {
        // Provisioned by a Chatkeep from before links: it has no account of any kind, which no
        // local sign-up lacks. Adopt it.
        Some(_) if store::has_no_accounts(&mut tx, &same_id).await? => same_id,
        Some(_) => {
            tracing::warn!(
                user.id = %sub,
                "an external token names a local user who is not linked to its issuer; refused \
                 (set AUTH_JWT_SHARED_USERS=true if both servers share one user table)"
            );
            return Ok(None);
        }
        None => {
            let user = new_user(provider, claims);
            if !store::insert_user_with_id(&mut tx, &user).await? {
                tracing::warn!(
                    user.id = %user.id,
                    "an external user's verified email belongs to a local account; refused"
                );
                return Ok(None);
            }
            tracing::info!(user.id = %user.id, "provisioned a user from the external issuer");
            user.id
        }
    };
    store::link_external_account(&mut tx, &user_id, provider, &sub).await?;
    tx.commit().await?;
    Ok(Some(user_id))
}

/// The local row for a user first seen in a token: Better Auth puts the whole user in its JWTs.
fn new_user(provider: &str, claims: VerifiedClaims) -> UserRow {
    let parse = |s: Option<String>| {
        s.and_then(|s| chrono::DateTime::parse_from_rfc3339(&s).ok())
            .map(|d| d.with_timezone(&chrono::Utc))
            .unwrap_or_else(store::now)
    };
    let verified = claims.email_verified == Some(true);
    let email = match claims.email.filter(|e| verified && !e.is_empty()) {
        Some(email) => email.to_lowercase(),
        None => placeholder_email(provider, &claims.sub),
    };
    UserRow {
        id: UserId::new(claims.sub),
        name: claims.name.unwrap_or_default(),
        email,
        email_verified: verified,
        image: claims.image,
        created_at: parse(claims.created_at),
        updated_at: parse(claims.updated_at),
        is_anonymous: false,
        // Never the issuer's roles: an administrator there is a user here.
        role: Some(store::DEFAULT_ROLE.to_owned()),
        banned: Some(false),
        ban_reason: None,
        ban_expires: None,
    }
}

/// A unique address that cannot belong to anyone (RFC 2606 reserves `.invalid`).
fn placeholder_email(provider: &str, sub: &str) -> String {
    let digest = Sha256::digest(format!("{provider}\u{0}{sub}"));
    let host = url::Url::parse(provider)
        .ok()
        .and_then(|u| u.host_str().map(str::to_owned))
        .unwrap_or_else(|| "external".to_owned());
    format!("{}@{host}.invalid", &hex::encode(digest)[..24])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(email: &str, verified: Option<bool>) -> VerifiedClaims {
        serde_json::from_value(serde_json::json!({
            "sub": "Ext123", "email": email, "emailVerified": verified, "name": "Ext"
        }))
        .unwrap()
    }

    #[test]
    fn only_a_verified_email_is_taken_from_the_token() {
        let issuer = "https://auth.example.com";
        let user = new_user(issuer, claims("Ann@Example.com", Some(true)));
        assert_eq!(user.email, "ann@example.com");
        assert!(user.email_verified);
        for verified in [Some(false), None] {
            let user = new_user(issuer, claims("ann@example.com", verified));
            assert!(
                user.email.ends_with("@auth.example.com.invalid"),
                "{}",
                user.email
            );
            assert_eq!(user.email, placeholder_email(issuer, "Ext123"));
            assert!(!user.email_verified);
        }
        assert_ne!(
            placeholder_email(issuer, "a"),
            placeholder_email(issuer, "A"),
            "subs that differ in case stay apart"
        );
    }
}
