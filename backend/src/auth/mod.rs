//! `/api/auth`: Better Auth 1.7's wire protocol (email + password, the `jwt` and `bearer`
//! plugins), byte-compatible with the official client and sharing Better Auth's tables, so a
//! Better Auth server and Chatkeep can serve the same users at once. The contract is the real
//! `better-auth` package's behaviour, which `e2e/` runs against; comments cite it where we copy
//! a quirk on purpose.
//!
//! Also here: [`AuthUser`], the one extractor every other `/api` route uses to know its caller.

pub mod admin;
pub mod attempts;
mod body;
pub mod cookies;
pub mod email_token;
mod error;
pub mod external;
mod extractor;
pub mod features;
pub mod jwk;
pub mod jwt;
pub mod keys;
mod link;
mod me;
pub mod origin;
pub mod password;
pub mod providers;
mod routes;
pub mod sealed;
pub mod secret;
pub mod session;
pub mod store;
pub mod verified;

use std::net::IpAddr;

use actix_web::HttpRequest;

pub use error::AuthError;
pub use extractor::{AuthUser, Credential};
pub use me::get_me;
pub use routes::configure;

use crate::client_ip::ClientIpResolver;
use crate::config::Settings;

/// Everything the auth routes and the extractor share. Built once at startup.
pub struct AuthState {
    /// `BETTER_AUTH_SECRET`, or `BETTER_AUTH_SECRETS`' versions.
    pub secrets: secret::Secrets,
    pub cookies: cookies::CookieNames,
    pub hasher: password::PasswordHasher,
    pub keys: keys::Keys,
    pub external: Option<external::ExternalIssuer>,
    pub trusted_origins: origin::TrustedOrigins,
    /// The base URL's origin: JWT `iss`/`aud`, and our own origin for CSRF checks.
    pub origin: String,
    pub client_ip: ClientIpResolver,
    /// Our own JWTs already verified (their signature is not checked twice).
    pub verified: verified::VerifiedTokens,
    /// Verification, password reset and change of email, and the mail they send.
    pub flows: crate::config::AccountFlows,
    /// Guests: the anonymous plugin's wire, and their limits.
    pub guests: crate::config::GuestSettings,
    pub mailer: crate::mail::Mailer,
    /// Identity providers (GitHub, Google, OpenID Connect).
    pub providers: providers::Providers,
    /// `ADMIN_EMAILS`: administrators by their (verified) address.
    pub admin_emails: Vec<String>,
    /// Seals the session token an account link carries through the provider (Better Auth's
    /// `oauth-link-session-token` purpose key).
    pub link_sealer: sealed::Sealer,
}

impl AuthState {
    pub fn new(settings: &Settings, pool: sqlx::PgPool) -> anyhow::Result<Self> {
        let secrets = secret::resolve(settings)?;
        let origin = origin::origin_of(&settings.base_url);
        let external = settings
            .auth
            .external_issuer
            .clone()
            .map(|issuer| external::ExternalIssuer::new(issuer, settings.auth.jwks_cache_ttl))
            .transpose()?;
        Ok(Self {
            cookies: cookies::CookieNames::new(settings.base_url.scheme() == "https"),
            hasher: password::PasswordHasher::new(
                settings.auth.hash_concurrency,
                settings.auth.hash_max_wait,
                settings.auth.password_hash,
            )?,
            keys: keys::Keys::new(pool, &secrets, settings.auth.jwks_cache_ttl),
            external,
            trusted_origins: origin::TrustedOrigins::new(
                &settings.base_url,
                &settings.auth.trusted_origins,
            ),
            origin,
            client_ip: ClientIpResolver::new(settings.trusted_proxies.clone()),
            verified: verified::VerifiedTokens::default(),
            flows: settings.auth.flows.clone(),
            guests: settings.auth.guests.clone(),
            mailer: crate::mail::Mailer::from_settings(settings)?,
            providers: providers::Providers::new(
                &settings.auth.providers,
                &settings.auth.trusted_providers,
                settings.auth.jwks_cache_ttl,
            )?,
            admin_emails: settings.auth.admin_emails.clone(),
            link_sealer: sealed::Sealer::for_purpose(
                &secrets,
                providers::state::LINK_TOKEN_PURPOSE,
            ),
            secrets,
        })
    }

    /// The current secret: signs cookies, bearer tokens and the email links' JWTs.
    pub fn secret(&self) -> &str {
        self.secrets.current()
    }

    /// A user as the wire shows it (with `isAnonymous` when guests are on).
    pub fn user(&self, row: &store::UserRow) -> shared::auth::User {
        row.wire(self.guests.enabled)
    }

    pub fn client_ip(&self, req: &HttpRequest) -> Option<IpAddr> {
        self.client_ip.resolve(req)
    }
}
