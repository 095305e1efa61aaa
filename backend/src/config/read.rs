//! Reading the settings: one function per section, and one parser per kind of value (number,
//! switch, URL, list), each failing with the key and the fix.

use std::fmt;
use std::net::{SocketAddr, ToSocketAddrs};
use std::path::PathBuf;
use std::time::Duration;

use ipnet::IpNet;
use url::Url;

use super::{
    AccountFlows, AgentSettings, AuthSettings, ChatSettings, ConfigError, DEFAULT_BIND,
    DEFAULT_DATABASE_URL, DatabaseSettings, EmailVerification, Environment, GuestSettings,
    HistorySettings, ImportCaps, LogFormat, MailSettings, PasswordHash, ProviderKind,
    ProviderSettings, Secret, TransferFloor, redact_url,
};
use crate::auth::external::ExternalIssuerSettings;

/// The environment as settings see it: values trimmed, empty ones unset.
pub struct Env<F>(F);

impl<F: Fn(&str) -> Option<String>> Env<F> {
    pub fn new(lookup: F) -> Self {
        Self(lookup)
    }

    pub fn get(&self, key: &str) -> Option<String> {
        (self.0)(key)
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
    }

    pub fn path(&self, key: &str, default: &str) -> PathBuf {
        PathBuf::from(self.get(key).unwrap_or_else(|| default.to_owned()))
    }

    /// A number in `min..=max`, or `default` when unset.
    pub fn number<T>(&self, key: &'static str, default: T, min: T, max: T) -> Result<T, ConfigError>
    where
        T: std::str::FromStr + PartialOrd + fmt::Display + Copy,
    {
        let Some(raw) = self.get(key) else {
            return Ok(default);
        };
        match raw.parse::<T>() {
            Ok(n) if n >= min && n <= max => Ok(n),
            _ => Err(ConfigError::new(
                key,
                format!("{raw:?} is not a number from {min} to {max}"),
                format!("set a number in range, or unset it for the default {default}"),
            )),
        }
    }

    pub fn seconds(
        &self,
        key: &'static str,
        default: u64,
        max: u64,
    ) -> Result<Duration, ConfigError> {
        self.number(key, default, 1, max).map(Duration::from_secs)
    }

    /// `on`/`off` (or true/false, 1/0, yes/no), or `default` when unset.
    pub fn switch(&self, key: &'static str, default: bool) -> Result<bool, ConfigError> {
        match self.get(key).map(|v| v.to_ascii_lowercase()).as_deref() {
            None => Ok(default),
            Some("on" | "true" | "1" | "yes") => Ok(true),
            Some("off" | "false" | "0" | "no") => Ok(false),
            Some(other) => Err(ConfigError::new(
                key,
                format!("{other:?} is not on or off"),
                "use on or off",
            )),
        }
    }

    /// A comma-separated list, entries trimmed, empty ones dropped.
    pub fn list(&self, key: &str) -> Vec<String> {
        self.get(key)
            .map(|raw| {
                raw.split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default()
    }

    /// An http(s) URL, when set.
    pub fn http_url(&self, key: &'static str, fix: &str) -> Result<Option<Url>, ConfigError> {
        self.get(key)
            .map(|raw| url(key, &raw, &["http", "https"], fix))
            .transpose()
    }
}

/// The one URL parser: `raw` must parse and have one of `schemes`. Passwords are never printed.
fn url(key: &'static str, raw: &str, schemes: &[&str], fix: &str) -> Result<Url, ConfigError> {
    let shown = redact_url(raw);
    let parsed = Url::parse(raw)
        .map_err(|e| ConfigError::new(key, format!("{shown} is not a URL ({e})"), fix))?;
    if !schemes.contains(&parsed.scheme()) {
        return Err(ConfigError::new(
            key,
            format!(
                "{shown}: scheme {:?} is not {}",
                parsed.scheme(),
                schemes.join(" or ")
            ),
            fix,
        ));
    }
    Ok(parsed)
}

/// Where the server runs and is reached.
pub struct Server {
    pub environment: Environment,
    pub bind: String,
    pub base_url: Url,
}

pub fn server<F: Fn(&str) -> Option<String>>(env: &Env<F>) -> Result<Server, ConfigError> {
    let environment = match env.get("CHATKEEP_ENV").as_deref() {
        None | Some("development") | Some("dev") => Environment::Development,
        Some("production") | Some("prod") => Environment::Production,
        Some(other) => {
            return Err(ConfigError::new(
                "CHATKEEP_ENV",
                format!("{other:?} is not an environment"),
                "use development or production",
            ));
        }
    };
    let bind = env
        .get("CHATKEEP_BIND")
        .unwrap_or_else(|| DEFAULT_BIND.to_owned());
    let bind_addr = parse_bind(&bind)?;
    let fix = "use the public origin, e.g. https://chat.example.com";
    let base_url = match env.http_url("BETTER_AUTH_URL", fix)? {
        Some(url) => url,
        None => {
            // Without a public URL, the origin users reach us at is the listen address.
            let host = if bind_addr.ip().is_unspecified() {
                "127.0.0.1".to_owned()
            } else {
                bind.rsplit_once(':')
                    .map(|(h, _)| h.to_owned())
                    .unwrap_or_default()
            };
            url(
                "BETTER_AUTH_URL",
                &format!("http://{host}:{}", bind_addr.port()),
                &["http"],
                fix,
            )?
        }
    };
    if base_url.host_str().is_none() {
        return Err(ConfigError::new(
            "BETTER_AUTH_URL",
            format!("{base_url} is not an http(s) origin"),
            fix,
        ));
    }
    Ok(Server {
        environment,
        bind,
        base_url,
    })
}

pub(super) fn parse_bind(bind: &str) -> Result<SocketAddr, ConfigError> {
    let fix = "use host:port, e.g. 127.0.0.1:8080 or 0.0.0.0:8080";
    let invalid = |why: &str| ConfigError::new("CHATKEEP_BIND", format!("{bind:?} {why}"), fix);
    let (_, port) = bind
        .rsplit_once(':')
        .ok_or_else(|| invalid("has no port"))?;
    port.parse::<u16>()
        .map_err(|_| invalid("has an invalid port"))?;
    bind.to_socket_addrs()
        .map_err(|_| invalid("does not resolve"))?
        .next()
        .ok_or_else(|| invalid("does not resolve"))
}

pub fn database<F: Fn(&str) -> Option<String>>(
    env: &Env<F>,
) -> Result<DatabaseSettings, ConfigError> {
    let postgres = |key: &'static str, raw: String| {
        let fix = "use postgres://USER[:PASSWORD]@HOST:PORT/DATABASE";
        let parsed = url(key, &raw, &["postgres", "postgresql"], fix)?;
        if parsed.path().trim_start_matches('/').is_empty() {
            return Err(ConfigError::new(
                key,
                format!("{} names no database", redact_url(&raw)),
                fix,
            ));
        }
        Ok(Secret::new(raw))
    };
    let url = env
        .get("DATABASE_URL")
        .unwrap_or_else(|| DEFAULT_DATABASE_URL.to_owned());
    Ok(DatabaseSettings {
        url: postgres("DATABASE_URL", url)?,
        migration_url: env
            .get("DATABASE_MIGRATION_URL")
            .map(|raw| postgres("DATABASE_MIGRATION_URL", raw))
            .transpose()?,
        max_connections: env.number("DATABASE_MAX_CONNECTIONS", 20u32, 1, 1000)?,
    })
}

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

pub fn trusted_proxies<F: Fn(&str) -> Option<String>>(
    env: &Env<F>,
) -> Result<Vec<IpNet>, ConfigError> {
    env.list("CHATKEEP_TRUSTED_PROXIES")
        .iter()
        .map(|s| {
            s.parse::<IpNet>()
                .or_else(|_| s.parse::<std::net::IpAddr>().map(IpNet::from))
                .map_err(|_| {
                    ConfigError::new(
                        "CHATKEEP_TRUSTED_PROXIES",
                        format!("{s:?} is not an IP address or CIDR range"),
                        "list proxies like 10.0.0.0/8,127.0.0.1",
                    )
                })
        })
        .collect()
}

/// `METRICS_TOKEN`: at least 16 characters, as it guards what the server is doing.
pub fn metrics_token<F: Fn(&str) -> Option<String>>(
    env: &Env<F>,
) -> Result<Option<Secret<String>>, ConfigError> {
    match env.get("METRICS_TOKEN") {
        None => Ok(None),
        Some(token) if token.chars().count() >= 16 => Ok(Some(Secret::new(token))),
        Some(_) => Err(ConfigError::new(
            "METRICS_TOKEN",
            "is shorter than 16 characters",
            "use a long random token, e.g. `openssl rand -hex 24`, or unset it to turn /metrics off",
        )),
    }
}

pub fn redis_url<F: Fn(&str) -> Option<String>>(
    env: &Env<F>,
) -> Result<Option<Secret<String>>, ConfigError> {
    env.get("REDIS_URL")
        .map(|raw| {
            url(
                "REDIS_URL",
                &raw,
                &["redis", "rediss"],
                "use redis://HOST:PORT[/DB], or unset it for in-process limits",
            )?;
            Ok(Secret::new(raw))
        })
        .transpose()
}

pub fn agent<F: Fn(&str) -> Option<String>>(env: &Env<F>) -> Result<AgentSettings, ConfigError> {
    Ok(AgentSettings {
        url: env.http_url(
            "AGENT_URL",
            "use the server's base URL, e.g. https://api.openai.com (or unset it for the \
             built-in agent)",
        )?,
        api_key: env.get("AGENT_API_KEY").map(Secret::new),
        model: env
            .get("AGENT_MODEL")
            .unwrap_or_else(|| "gpt-4o-mini".to_owned()),
        idle_timeout_secs: env.number("AGENT_IDLE_TIMEOUT", 60, 1, 3600)?,
        max_duration_secs: env.number("AGENT_MAX_DURATION", 600, 1, 86_400)?,
        max_concurrency: env.number("AGENT_MAX_CONCURRENCY", 32, 1, 10_000)?,
        history_messages: env.number("AGENT_HISTORY_MESSAGES", 20, 0, 500)?,
        docs_dir: env.path("DOCS_DIR", "docs"),
    })
}

pub fn chat<F: Fn(&str) -> Option<String>>(
    env: &Env<F>,
    agent: &AgentSettings,
) -> Result<ChatSettings, ConfigError> {
    let max_streams_per_user = env.number("MAX_STREAMS_PER_USER", 3, 1, 1000)?;
    let per_ip_default = max_streams_per_user.max(agent.max_concurrency / 4);
    Ok(ChatSettings {
        message_max_chars: env.number("MESSAGE_MAX_CHARS", 32_000, 100, 1_000_000)?,
        messages_per_minute: env.number("MESSAGE_RATE_LIMIT", 60, 1, 100_000)?,
        max_streams_per_user,
        max_streams_per_ip: env.number("MAX_STREAMS_PER_IP", per_ip_default, 1, 10_000)?,
        keep_alive_secs: env.number("SSE_KEEP_ALIVE", 15, 1, 300)?,
        max_followers_per_user: env.number("MAX_FOLLOWERS_PER_USER", 8, 1, 10_000)?,
        max_followers: env.number("MAX_FOLLOWERS", 256, 1, 1_000_000)?,
    })
}

pub fn history<F: Fn(&str) -> Option<String>>(
    env: &Env<F>,
) -> Result<HistorySettings, ConfigError> {
    let search_language = env
        .get("SEARCH_LANGUAGE")
        .unwrap_or_else(|| "english".to_owned())
        .to_ascii_lowercase();
    // A name PostgreSQL's catalog could hold; the server checks it exists at startup.
    if !search_language
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '_')
    {
        return Err(ConfigError::new(
            "SEARCH_LANGUAGE",
            format!("{search_language:?} is not a text search configuration name"),
            "use a name from `SELECT cfgname FROM pg_ts_config`, e.g. english, german, simple",
        ));
    }
    Ok(HistorySettings {
        search_language,
        import_max_bytes: env.number("IMPORT_MAX_BYTES", 100_000_000, 1_000, 10_000_000_000)?,
        import_caps: import_caps(env)?,
        transfer: TransferFloor {
            window: env.seconds("TRANSFER_STALL_TIMEOUT", 30, 3600)?,
            min_rate: env.number("TRANSFER_MIN_RATE", 8192, 0, 1 << 30)?,
        },
        user_max_stored_bytes: env
            .get("USER_MAX_STORED_BYTES")
            .map(|_| env.number("USER_MAX_STORED_BYTES", 0i64, 1, i64::MAX))
            .transpose()?,
    })
}

fn import_caps<F: Fn(&str) -> Option<String>>(env: &Env<F>) -> Result<ImportCaps, ConfigError> {
    let d = ImportCaps::default();
    Ok(ImportCaps {
        messages: env.number("IMPORT_MAX_MESSAGES", d.messages, 1, 10_000_000)?,
        nodes: env.number("IMPORT_MAX_NODES", d.nodes, 100, 1_000_000_000)?,
        message_bytes: env.number("IMPORT_MAX_MESSAGE_BYTES", d.message_bytes, 1_000, 1 << 32)?,
        conversation_bytes: env.number(
            "IMPORT_MAX_CONVERSATION_BYTES",
            d.conversation_bytes,
            1_000,
            1 << 36,
        )?,
        // serde_json stops at 128 levels on its own; ours must come first to name the cap.
        depth: env.number("IMPORT_MAX_DEPTH", d.depth, 8, 100)?,
    })
}

pub fn log_format<F: Fn(&str) -> Option<String>>(env: &Env<F>) -> Result<LogFormat, ConfigError> {
    match env.get("LOG_FORMAT").as_deref() {
        None | Some("pretty") | Some("text") => Ok(LogFormat::Pretty),
        Some("json") => Ok(LogFormat::Json),
        Some(other) => Err(ConfigError::new(
            "LOG_FORMAT",
            format!("{other:?} is not a log format"),
            "use pretty or json",
        )),
    }
}
