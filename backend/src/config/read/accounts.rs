//! Reading the account settings: sign-in and passwords, the mail flows, identity providers and
//! an external JWT issuer.

use std::time::Duration;

use url::Url;

use super::{Env, url};
use crate::config::{
    AccountFlows, AuthSettings, ConfigError, EmailVerification, ExternalIssuerSettings,
    GuestSettings, MailSettings, PasswordHash, ProviderKind, ProviderSettings, Secret,
};

pub fn auth<F: Fn(&str) -> Option<String>>(env: &Env<F>) -> Result<AuthSettings, ConfigError> {
    let cores = std::thread::available_parallelism().map_or(2, std::num::NonZero::get);
    Ok(AuthSettings {
        secret: env
            .get("BETTER_AUTH_SECRET")
            .or_else(|| env.get("AUTH_SECRET"))
            .map(Secret::new),
        secrets: env
            .get("BETTER_AUTH_SECRETS")
            .map(|raw| versioned_secrets(&raw))
            .transpose()?,
        password_hash: match env
            .get("PASSWORD_HASH")
            .map(|v| v.to_ascii_lowercase())
            .as_deref()
        {
            None | Some("scrypt") => PasswordHash::Scrypt,
            Some("bcrypt") => PasswordHash::Bcrypt,
            Some(other) => {
                return Err(ConfigError::new(
                    "PASSWORD_HASH",
                    format!("{other:?} is not scrypt or bcrypt"),
                    "use scrypt (Better Auth's default) or bcrypt",
                ));
            }
        },
        trusted_origins: env
            .list("BETTER_AUTH_TRUSTED_ORIGINS")
            .into_iter()
            .map(|s| s.trim_end_matches('/').to_owned())
            .collect(),
        rate_limit: env.switch("AUTH_RATE_LIMIT", true)?,
        external_issuer: external_issuer(env)?,
        jwks_cache_ttl: env.seconds("AUTH_JWKS_CACHE_SECS", 300, 86_400)?,
        hash_concurrency: env.number("PASSWORD_HASH_CONCURRENCY", cores, 1, 256)?,
        hash_max_wait: Duration::from_millis(env.number(
            "PASSWORD_HASH_MAX_WAIT_MS",
            5_000u64,
            1,
            60_000,
        )?),
        flows: account_flows(env)?,
        guests: GuestSettings {
            enabled: env.switch("ANONYMOUS_SIGN_IN", false)?,
            messages_per_day: env.number("GUEST_MESSAGES_PER_DAY", 20u32, 1, 100_000)?,
            max_conversations: env.number("GUEST_MAX_CONVERSATIONS", 10u32, 1, 10_000)?,
            retention_days: env.number("GUEST_RETENTION_DAYS", 30u32, 1, 3650)?,
        },
        providers: providers(env)?,
        trusted_providers: env.list("TRUSTED_PROVIDERS"),
        admin_emails: env
            .list("ADMIN_EMAILS")
            .into_iter()
            .map(|e| e.to_lowercase())
            .collect(),
    })
}

/// The identity providers: GitHub and Google when their client id is set, then each entry of
/// `OIDC_PROVIDERS` with its `OIDC_<ID>_*` settings.
fn providers<F: Fn(&str) -> Option<String>>(
    env: &Env<F>,
) -> Result<Vec<ProviderSettings>, ConfigError> {
    let mut providers = Vec::new();
    let github_oauth = env.http_url("GITHUB_OAUTH_URL", "use GitHub's https://github.com")?;
    let github_api = env.http_url("GITHUB_API_URL", "use GitHub's https://api.github.com")?;
    if let Some((client_id, client_secret)) =
        client_pair(env, "GITHUB_CLIENT_ID", "GITHUB_CLIENT_SECRET")?
    {
        providers.push(ProviderSettings {
            id: "github".to_owned(),
            name: "GitHub".to_owned(),
            kind: ProviderKind::GitHub {
                oauth: github_oauth
                    .unwrap_or_else(|| Url::parse("https://github.com").expect("a URL")),
                api: github_api
                    .unwrap_or_else(|| Url::parse("https://api.github.com").expect("a URL")),
            },
            client_id,
            client_secret,
            scopes: vec!["read:user".to_owned(), "user:email".to_owned()],
        });
    }
    let google_issuer = env.http_url("GOOGLE_ISSUER", "unset it to use Google's own endpoints")?;
    if let Some((client_id, client_secret)) =
        client_pair(env, "GOOGLE_CLIENT_ID", "GOOGLE_CLIENT_SECRET")?
    {
        providers.push(ProviderSettings {
            id: "google".to_owned(),
            name: "Google".to_owned(),
            kind: ProviderKind::Google {
                issuer: google_issuer,
            },
            client_id,
            client_secret,
            scopes: ["email", "profile", "openid"].map(str::to_owned).to_vec(),
        });
    }
    for id in env.list("OIDC_PROVIDERS") {
        let valid = !id.is_empty()
            && id
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
        // `credential` is the password's account row; `github` and `google` are the built-ins'
        // ids even when they are not configured (a Better Auth peer may use them).
        let reserved = ["credential", "github", "google"].contains(&id.as_str());
        if !valid || reserved || providers.iter().any(|p: &ProviderSettings| p.id == id) {
            return Err(ConfigError::new(
                "OIDC_PROVIDERS",
                format!("{id:?} is not a new provider id"),
                "use ids of lowercase letters, digits, - and _, each once, and not credential, \
                 github or google",
            ));
        }
        let key = |suffix: &str| {
            format!(
                "OIDC_{}_{suffix}",
                id.to_ascii_uppercase().replace('-', "_")
            )
        };
        let required = |suffix: &str| {
            env.get(&key(suffix)).ok_or_else(|| {
                ConfigError::new(
                    "OIDC_PROVIDERS",
                    format!("provider {id:?} has no {}", key(suffix)),
                    "set it, or remove the provider from OIDC_PROVIDERS",
                )
            })
        };
        let raw_issuer = required("ISSUER")?;
        let issuer = Url::parse(&raw_issuer)
            .ok()
            .filter(|u| matches!(u.scheme(), "http" | "https"))
            .ok_or_else(|| {
                ConfigError::new(
                    "OIDC_PROVIDERS",
                    format!("{} = {raw_issuer:?} is not an http(s) URL", key("ISSUER")),
                    "set the issuer's URL, as its discovery document names it",
                )
            })?;
        let scopes = env
            .get(&key("SCOPES"))
            .unwrap_or_else(|| "openid email profile".to_owned());
        providers.push(ProviderSettings {
            name: env.get(&key("NAME")).unwrap_or_else(|| id.clone()),
            kind: ProviderKind::Oidc { issuer },
            client_id: required("CLIENT_ID")?,
            client_secret: Secret::new(required("CLIENT_SECRET")?),
            scopes: scopes
                .split([' ', ','])
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect(),
            id,
        });
    }
    Ok(providers)
}

/// A provider's client id and secret: both set, or neither.
fn client_pair<F: Fn(&str) -> Option<String>>(
    env: &Env<F>,
    id_key: &'static str,
    secret_key: &'static str,
) -> Result<Option<(String, Secret<String>)>, ConfigError> {
    match (env.get(id_key), env.get(secret_key)) {
        (Some(id), Some(secret)) => Ok(Some((id, Secret::new(secret)))),
        (None, None) => Ok(None),
        (Some(_), None) => Err(ConfigError::new(
            secret_key,
            format!("{id_key} is set but {secret_key} is not"),
            "set both, or neither",
        )),
        (None, Some(_)) => Err(ConfigError::new(
            id_key,
            format!("{secret_key} is set but {id_key} is not"),
            "set both, or neither",
        )),
    }
}

/// `BETTER_AUTH_SECRETS` as Better Auth reads it: `version:secret` entries split on commas, each
/// split at its first colon (a secret may hold colons, never commas), the first entry current.
/// Stricter than Better Auth in one way: a version is digits only (it reads `2abc` as 2).
fn versioned_secrets(raw: &str) -> Result<Vec<(u32, Secret<String>)>, ConfigError> {
    let bad = |problem: String| {
        ConfigError::new(
            "BETTER_AUTH_SECRETS",
            problem,
            "write version:secret entries separated by commas, newest first, e.g. 2:<new>,1:<old>",
        )
    };
    let mut secrets: Vec<(u32, Secret<String>)> = Vec::new();
    for (position, entry) in raw.split(',').enumerate() {
        let Some((version, secret)) = entry.trim().split_once(':') else {
            return Err(bad(format!("entry {} has no version", position + 1)));
        };
        let version = version.trim();
        let version = version
            .parse::<u32>()
            .ok()
            .filter(|_| version.bytes().all(|b| b.is_ascii_digit()))
            .ok_or_else(|| {
                bad(format!(
                    "entry {}'s version is not a whole number",
                    position + 1
                ))
            })?;
        let secret = secret.trim();
        if secret.is_empty() {
            return Err(bad(format!("version {version} has an empty secret")));
        }
        if secrets.iter().any(|(v, _)| *v == version) {
            return Err(bad(format!("version {version} is given twice")));
        }
        secrets.push((version, Secret::new(secret.to_owned())));
    }
    Ok(secrets)
}

fn account_flows<F: Fn(&str) -> Option<String>>(env: &Env<F>) -> Result<AccountFlows, ConfigError> {
    let verification = match env
        .get("EMAIL_VERIFICATION")
        .map(|v| v.to_ascii_lowercase())
        .as_deref()
    {
        None | Some("optional") => EmailVerification::Optional,
        Some("required") => EmailVerification::Required,
        Some("off") => EmailVerification::Off,
        Some(other) => {
            return Err(ConfigError::new(
                "EMAIL_VERIFICATION",
                format!("{other:?} is not off, optional or required"),
                "use off, optional or required",
            ));
        }
    };
    Ok(AccountFlows {
        verification,
        verification_on_sign_in: env.switch("EMAIL_VERIFICATION_ON_SIGN_IN", true)?,
        auto_sign_in_after_verification: env.switch("AUTO_SIGN_IN_AFTER_VERIFICATION", true)?,
        verification_ttl: env.seconds("EMAIL_VERIFICATION_TTL", 3600, 7 * 86_400)?,
        password_reset: env.switch("PASSWORD_RESET", true)?,
        reset_ttl: env.seconds("PASSWORD_RESET_TTL", 3600, 86_400)?,
        reset_revokes_sessions: env.switch("PASSWORD_RESET_REVOKES_SESSIONS", true)?,
        change_email: env.switch("CHANGE_EMAIL", true)?,
        change_email_confirm_old: env.switch("CHANGE_EMAIL_CONFIRM_OLD", true)?,
    })
}

pub fn mail<F: Fn(&str) -> Option<String>>(
    env: &Env<F>,
    base_url: &Url,
) -> Result<MailSettings, ConfigError> {
    let smtp_url = env
        .get("SMTP_URL")
        .map(|raw| {
            url(
                "SMTP_URL",
                &raw,
                &["smtp", "smtps"],
                "use smtp://[user:password@]host:port[?tls=required] or smtps://...",
            )?;
            Ok(Secret::new(raw))
        })
        .transpose()?;
    // An address's domain must be a name: an IP address (local runs) becomes localhost.
    let host = match base_url.host() {
        Some(url::Host::Domain(name)) => name.to_owned(),
        _ => "localhost".to_owned(),
    };
    let from = env
        .get("MAIL_FROM")
        .unwrap_or_else(|| format!("Chatkeep <no-reply@{host}>"));
    if from.parse::<lettre::message::Mailbox>().is_err() {
        return Err(ConfigError::new(
            "MAIL_FROM",
            format!("{from:?} is not a mailbox"),
            "use an address, or Name <address>",
        ));
    }
    Ok(MailSettings { smtp_url, from })
}

fn external_issuer<F: Fn(&str) -> Option<String>>(
    env: &Env<F>,
) -> Result<Option<ExternalIssuerSettings>, ConfigError> {
    let fix = "use the issuer's JWKS URL, e.g. https://auth.example.com/api/auth/jwks";
    let Some(jwks_url) = env.http_url("AUTH_JWKS_URL", fix)? else {
        return Ok(None);
    };
    // Better Auth signs with iss = aud = its base URL's origin.
    let issuer = env
        .get("AUTH_JWT_ISSUER")
        .unwrap_or_else(|| jwks_url.origin().ascii_serialization());
    let audience = env
        .get("AUTH_JWT_AUDIENCE")
        .unwrap_or_else(|| issuer.clone());
    Ok(Some(ExternalIssuerSettings {
        shared_users: env.switch("AUTH_JWT_SHARED_USERS", false)?,
        jwks_url,
        issuer,
        audience,
    }))
}
