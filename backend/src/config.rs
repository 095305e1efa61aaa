//! Typed settings, read once at startup from the environment (and `.env` when present).
//!
//! Every key is documented in `.env.example`. A missing or invalid value stops startup with one
//! line naming the key and the fix; secrets never appear in `Debug` output.

use std::fmt;
use std::net::{SocketAddr, ToSocketAddrs};
use std::path::PathBuf;

use ipnet::IpNet;
use url::Url;

use crate::auth::external::ExternalIssuerSettings;

/// Where Chatkeep runs. Development is forgiving (generated secret, pretty logs); production is
/// strict.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Environment {
    Development,
    Production,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// One human-readable line per event.
    Pretty,
    /// One JSON object per event, for log shippers.
    Json,
}

/// A value that must not leak into logs or `Debug` output.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret<T>(T);

impl<T> Secret<T> {
    pub fn new(value: T) -> Self {
        Self(value)
    }

    /// The only way to read the value: greppable on purpose.
    pub fn expose(&self) -> &T {
        &self.0
    }
}

impl<T> fmt::Debug for Secret<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret([redacted])")
    }
}

#[derive(Debug, Clone)]
pub struct Settings {
    pub environment: Environment,
    /// `CHATKEEP_BIND`: host:port to listen on; port 0 picks a free port (tests).
    pub bind: String,
    /// `BETTER_AUTH_URL`: the public origin users reach Chatkeep at.
    pub base_url: Url,
    pub database: DatabaseSettings,
    pub auth: AuthSettings,
    /// `CHATKEEP_DATA_DIR`: generated secret and other local state.
    pub data_dir: PathBuf,
    /// `CHATKEEP_SPA_DIR`: the built single-page app (`index.html` + `assets/`).
    pub spa_dir: PathBuf,
    /// `LOG_FORMAT`.
    pub log_format: LogFormat,
    /// `CHATKEEP_JSON_LIMIT`: largest accepted JSON request body, in bytes.
    pub json_limit: usize,
    /// `CHATKEEP_SHUTDOWN_TIMEOUT`: seconds in-flight requests get to finish on SIGTERM.
    pub shutdown_timeout_secs: u64,
    /// `CHATKEEP_TRUSTED_PROXIES`: peers whose `X-Forwarded-For` we believe.
    pub trusted_proxies: Vec<IpNet>,
    /// `REDIS_URL`: share rate-limit counts across instances.
    pub redis_url: Option<Secret<String>>,
    pub agent: AgentSettings,
    pub chat: ChatSettings,
}

#[derive(Debug, Clone)]
pub struct AgentSettings {
    /// `AGENT_URL`: an OpenAI-compatible server; unset = the built-in retrieval agent.
    pub url: Option<Url>,
    /// `AGENT_API_KEY`: sent as `Authorization: Bearer`.
    pub api_key: Option<Secret<String>>,
    /// `AGENT_MODEL`.
    pub model: String,
    /// `AGENT_IDLE_TIMEOUT`: seconds without a byte from the upstream before the answer fails.
    pub idle_timeout_secs: u64,
    /// `AGENT_MAX_DURATION`: the longest one answer may take, start to finish.
    pub max_duration_secs: u64,
    /// `AGENT_MAX_CONCURRENCY`: answers generated at once; more get 503 `BUSY`.
    pub max_concurrency: usize,
    /// `AGENT_HISTORY_MESSAGES`: earlier messages sent along as context.
    pub history_messages: i64,
    /// `DOCS_DIR`: the built-in agent's Markdown corpus.
    pub docs_dir: PathBuf,
}

#[derive(Debug, Clone)]
pub struct ChatSettings {
    /// `MESSAGE_MAX_CHARS`: longest accepted question.
    pub message_max_chars: usize,
    /// `MESSAGE_RATE_LIMIT`: messages per user per minute.
    pub messages_per_minute: u32,
    /// `MAX_STREAMS_PER_USER`: answers one user may have generating at once.
    pub max_streams_per_user: usize,
    /// `MAX_STREAMS_PER_IP`: answers generating at once for one client address (after the
    /// trusted-proxy resolution); by default a quarter of the slots, at least the per-user cap.
    pub max_streams_per_ip: usize,
    /// `SSE_KEEP_ALIVE`: seconds between keep-alive comments on a quiet answer stream.
    pub keep_alive_secs: u64,
}

#[derive(Clone)]
pub struct DatabaseSettings {
    /// `DATABASE_URL`: what the server serves with; may carry a password, so it is redacted in
    /// `Debug`. With `DATABASE_MIGRATION_URL` set it should log in as `chatkeep_app`; alone, it
    /// is the owner's, and the server logs in as `chatkeep_app` on the same server.
    pub url: Secret<String>,
    /// `DATABASE_MIGRATION_URL`: the tables' owner, for migrations and the docs index (a direct
    /// URL where `DATABASE_URL` goes through a pooler).
    pub migration_url: Option<Secret<String>>,
    /// `DATABASE_MAX_CONNECTIONS`.
    pub max_connections: u32,
}

impl fmt::Debug for DatabaseSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DatabaseSettings")
            .field("url", &redact_url(self.url.expose()))
            .field(
                "migration_url",
                &self.migration_url.as_ref().map(|u| redact_url(u.expose())),
            )
            .field("max_connections", &self.max_connections)
            .finish()
    }
}

#[derive(Debug, Clone)]
pub struct AuthSettings {
    /// `BETTER_AUTH_SECRET`: cookie HMAC and key-encryption secret shared with Better Auth.
    /// `None` in development means "generate one into the data dir".
    pub secret: Option<Secret<String>>,
    /// `BETTER_AUTH_TRUSTED_ORIGINS`: extra origins for CORS and Origin checks.
    pub trusted_origins: Vec<String>,
    /// `AUTH_RATE_LIMIT`: Better Auth's rate limits on `/api/auth` (on by default).
    pub rate_limit: bool,
    /// `AUTH_JWKS_URL` (+ `AUTH_JWT_ISSUER`, `AUTH_JWT_AUDIENCE`): trust an external issuer.
    pub external_issuer: Option<ExternalIssuerSettings>,
    /// `AUTH_JWKS_CACHE_SECS`: how long verification keys (ours and the external issuer's)
    /// are trusted from memory before they are read again, so a removed or expired key stops
    /// verifying within this time.
    pub jwks_cache_ttl: std::time::Duration,
    /// `PASSWORD_HASH_CONCURRENCY`: scrypt hashes running at once (each takes ~32 MiB).
    pub hash_concurrency: usize,
    /// `PASSWORD_HASH_MAX_WAIT_MS`: the longest a request waits for a hashing slot (then 503).
    pub hash_max_wait: std::time::Duration,
}

/// A setting that stops startup: which key, what is wrong, how to fix it.
#[derive(Debug, thiserror::Error)]
#[error("{key}: {problem}; {fix}")]
pub struct ConfigError {
    pub key: &'static str,
    pub problem: String,
    pub fix: String,
}

impl ConfigError {
    fn new(key: &'static str, problem: impl Into<String>, fix: impl Into<String>) -> Self {
        Self {
            key,
            problem: problem.into(),
            fix: fix.into(),
        }
    }
}

pub const DEFAULT_BIND: &str = "127.0.0.1:8080";
pub const DEFAULT_DATABASE_URL: &str = "postgres://postgres@127.0.0.1:5432/chatkeep";

impl Settings {
    /// Reads `.env` (if present; real environment variables win) and then the environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        match dotenvy::dotenv() {
            Ok(_) => {}
            Err(e) if e.not_found() => {}
            Err(e) => {
                return Err(ConfigError::new(
                    ".env",
                    format!("cannot be read ({e})"),
                    "fix the file's syntax or remove it",
                ));
            }
        }
        Self::from_lookup(|key| std::env::var(key).ok())
    }

    /// Builds settings from any key lookup; tests pass a map instead of mutating the process env.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let get = |key: &str| {
            lookup(key)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };

        let environment = match get("CHATKEEP_ENV").as_deref() {
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

        let bind = get("CHATKEEP_BIND").unwrap_or_else(|| DEFAULT_BIND.to_owned());
        let bind_addr = parse_bind(&bind)?;

        let base_url = match get("BETTER_AUTH_URL") {
            Some(raw) => parse_base_url(&raw)?,
            None => {
                // Without a public URL, the origin users reach us at is the listen address.
                let host = if bind_addr.ip().is_unspecified() {
                    "127.0.0.1".to_owned()
                } else {
                    bind.rsplit_once(':')
                        .map(|(h, _)| h.to_owned())
                        .unwrap_or_default()
                };
                parse_base_url(&format!("http://{host}:{}", bind_addr.port()))?
            }
        };

        let database_url = get("DATABASE_URL").unwrap_or_else(|| DEFAULT_DATABASE_URL.to_owned());
        validate_database_url("DATABASE_URL", &database_url)?;
        let migration_url = get("DATABASE_MIGRATION_URL");
        if let Some(url) = &migration_url {
            validate_database_url("DATABASE_MIGRATION_URL", url)?;
        }
        let max_connections = parse_number("DATABASE_MAX_CONNECTIONS", get, 20u32, 1, 1000)?;

        let secret = get("BETTER_AUTH_SECRET")
            .or_else(|| get("AUTH_SECRET"))
            .map(Secret::new);
        let trusted_origins = match get("BETTER_AUTH_TRUSTED_ORIGINS") {
            Some(list) => list
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(|s| s.trim_end_matches('/').to_owned())
                .collect(),
            None => Vec::new(),
        };

        let rate_limit = parse_switch("AUTH_RATE_LIMIT", get("AUTH_RATE_LIMIT"), true)?;
        let external_issuer = match get("AUTH_JWKS_URL") {
            None => None,
            Some(raw) => {
                let jwks_url = Url::parse(&raw)
                    .ok()
                    .filter(|u| matches!(u.scheme(), "http" | "https"))
                    .ok_or_else(|| {
                        ConfigError::new(
                            "AUTH_JWKS_URL",
                            format!("{raw:?} is not an http(s) URL"),
                            "use the issuer's JWKS URL, e.g. https://auth.example.com/api/auth/jwks",
                        )
                    })?;
                // Better Auth signs with iss = aud = its base URL's origin.
                let origin = jwks_url.origin().ascii_serialization();
                let issuer = get("AUTH_JWT_ISSUER").unwrap_or(origin);
                let audience = get("AUTH_JWT_AUDIENCE").unwrap_or_else(|| issuer.clone());
                let shared_users =
                    parse_switch("AUTH_JWT_SHARED_USERS", get("AUTH_JWT_SHARED_USERS"), false)?;
                Some(ExternalIssuerSettings {
                    jwks_url,
                    issuer,
                    audience,
                    shared_users,
                })
            }
        };
        let jwks_cache_ttl = std::time::Duration::from_secs(parse_number(
            "AUTH_JWKS_CACHE_SECS",
            get,
            300u64,
            1,
            86_400,
        )?);
        let cores = std::thread::available_parallelism().map_or(2, std::num::NonZero::get);
        let hash_concurrency = parse_number("PASSWORD_HASH_CONCURRENCY", get, cores, 1, 256)?;
        let hash_max_wait = std::time::Duration::from_millis(parse_number(
            "PASSWORD_HASH_MAX_WAIT_MS",
            get,
            5_000u64,
            1,
            60_000,
        )?);
        let trusted_proxies = match get("CHATKEEP_TRUSTED_PROXIES") {
            None => Vec::new(),
            Some(list) => list
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
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
                .collect::<Result<_, _>>()?,
        };
        let redis_url = match get("REDIS_URL") {
            None => None,
            Some(raw) if raw.starts_with("redis://") || raw.starts_with("rediss://") => {
                Some(Secret::new(raw))
            }
            Some(_) => {
                return Err(ConfigError::new(
                    "REDIS_URL",
                    "is not a redis:// or rediss:// URL",
                    "use redis://HOST:PORT[/DB], or unset it for in-process limits",
                ));
            }
        };

        let agent_url = match get("AGENT_URL") {
            None => None,
            Some(raw) => Some(
                Url::parse(&raw)
                    .ok()
                    .filter(|u| matches!(u.scheme(), "http" | "https"))
                    .ok_or_else(|| {
                        ConfigError::new(
                            "AGENT_URL",
                            format!("{raw:?} is not an http(s) URL"),
                            "use the server's base URL, e.g. https://api.openai.com (or unset it for the built-in agent)",
                        )
                    })?,
            ),
        };
        let agent = AgentSettings {
            url: agent_url,
            api_key: get("AGENT_API_KEY").map(Secret::new),
            model: get("AGENT_MODEL").unwrap_or_else(|| "gpt-4o-mini".to_owned()),
            idle_timeout_secs: parse_number("AGENT_IDLE_TIMEOUT", get, 60, 1, 3600)?,
            max_duration_secs: parse_number("AGENT_MAX_DURATION", get, 600, 1, 86_400)?,
            max_concurrency: parse_number("AGENT_MAX_CONCURRENCY", get, 32, 1, 10_000)?,
            history_messages: parse_number("AGENT_HISTORY_MESSAGES", get, 20, 0, 500)?,
            docs_dir: get("DOCS_DIR").map_or_else(|| PathBuf::from("docs"), PathBuf::from),
        };
        let max_streams_per_user = parse_number("MAX_STREAMS_PER_USER", get, 3, 1, 1000)?;
        let per_ip_default = max_streams_per_user.max(agent.max_concurrency / 4);
        let chat = ChatSettings {
            message_max_chars: parse_number("MESSAGE_MAX_CHARS", get, 32_000, 100, 1_000_000)?,
            messages_per_minute: parse_number("MESSAGE_RATE_LIMIT", get, 60, 1, 100_000)?,
            max_streams_per_user,
            max_streams_per_ip: parse_number("MAX_STREAMS_PER_IP", get, per_ip_default, 1, 10_000)?,
            keep_alive_secs: parse_number("SSE_KEEP_ALIVE", get, 15, 1, 300)?,
        };

        let log_format = match get("LOG_FORMAT").as_deref() {
            None | Some("pretty") | Some("text") => LogFormat::Pretty,
            Some("json") => LogFormat::Json,
            Some(other) => {
                return Err(ConfigError::new(
                    "LOG_FORMAT",
                    format!("{other:?} is not a log format"),
                    "use pretty or json",
                ));
            }
        };

        Ok(Self {
            environment,
            bind,
            base_url,
            database: DatabaseSettings {
                url: Secret::new(database_url),
                migration_url: migration_url.map(Secret::new),
                max_connections,
            },
            auth: AuthSettings {
                secret,
                trusted_origins,
                rate_limit,
                external_issuer,
                hash_concurrency,
                hash_max_wait,
                jwks_cache_ttl,
            },
            data_dir: get("CHATKEEP_DATA_DIR").map_or_else(|| PathBuf::from("data"), PathBuf::from),
            spa_dir: get("CHATKEEP_SPA_DIR").map_or_else(|| PathBuf::from("dist"), PathBuf::from),
            log_format,
            json_limit: parse_number("CHATKEEP_JSON_LIMIT", get, 256 * 1024, 1024, 64 << 20)?,
            shutdown_timeout_secs: parse_number("CHATKEEP_SHUTDOWN_TIMEOUT", get, 30, 0, 3600)?,
            trusted_proxies,
            redis_url,
            agent,
            chat,
        })
    }
}

fn parse_switch(
    key: &'static str,
    raw: Option<String>,
    default: bool,
) -> Result<bool, ConfigError> {
    match raw.as_deref().map(str::to_ascii_lowercase).as_deref() {
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

fn parse_bind(bind: &str) -> Result<SocketAddr, ConfigError> {
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

fn parse_base_url(raw: &str) -> Result<Url, ConfigError> {
    let fix = "use the public origin, e.g. https://chat.example.com";
    let url = Url::parse(raw).map_err(|e| {
        ConfigError::new(
            "BETTER_AUTH_URL",
            format!("{raw:?} is not a URL ({e})"),
            fix,
        )
    })?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(ConfigError::new(
            "BETTER_AUTH_URL",
            format!("{raw:?} is not an http(s) origin"),
            fix,
        ));
    }
    Ok(url)
}

fn validate_database_url(key: &'static str, raw: &str) -> Result<(), ConfigError> {
    let fix = "use postgres://USER[:PASSWORD]@HOST:PORT/DATABASE";
    let url = Url::parse(raw)
        .map_err(|_| ConfigError::new(key, format!("{} is not a URL", redact_url(raw)), fix))?;
    if !matches!(url.scheme(), "postgres" | "postgresql") {
        return Err(ConfigError::new(
            key,
            format!("scheme {:?} is not PostgreSQL", url.scheme()),
            fix,
        ));
    }
    if url.path().trim_start_matches('/').is_empty() {
        return Err(ConfigError::new(
            key,
            format!("{} names no database", redact_url(raw)),
            fix,
        ));
    }
    Ok(())
}

fn parse_number<T>(
    key: &'static str,
    get: impl Fn(&str) -> Option<String>,
    default: T,
    min: T,
    max: T,
) -> Result<T, ConfigError>
where
    T: std::str::FromStr + PartialOrd + fmt::Display + Copy,
{
    let Some(raw) = get(key) else {
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

/// A database URL safe to print: the password, if any, is replaced.
pub fn redact_url(raw: &str) -> String {
    match Url::parse(raw) {
        Ok(mut url) => {
            if url.password().is_some() {
                let _ = url.set_password(Some("redacted"));
            }
            url.to_string()
        }
        Err(_) => "<unparseable URL>".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn settings(vars: &[(&str, &str)]) -> Result<Settings, ConfigError> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        Settings::from_lookup(|k| map.get(k).cloned())
    }

    #[test]
    fn defaults_need_no_configuration() {
        let s = settings(&[]).unwrap();
        assert_eq!(s.bind, "127.0.0.1:8080");
        assert_eq!(s.base_url.as_str(), "http://127.0.0.1:8080/");
        assert_eq!(s.database.url.expose(), DEFAULT_DATABASE_URL);
        assert_eq!(s.environment, Environment::Development);
        assert_eq!(s.log_format, LogFormat::Pretty);
    }

    #[test]
    fn base_url_follows_the_bind_address() {
        let s = settings(&[("CHATKEEP_BIND", "127.0.0.1:9000")]).unwrap();
        assert_eq!(s.base_url.as_str(), "http://127.0.0.1:9000/");
        let s = settings(&[("CHATKEEP_BIND", "0.0.0.0:9000")]).unwrap();
        assert_eq!(s.base_url.as_str(), "http://127.0.0.1:9000/");
    }

    #[test]
    fn invalid_values_name_the_key_and_the_fix() {
        let err = settings(&[("CHATKEEP_BIND", "nonsense")]).unwrap_err();
        assert_eq!(err.key, "CHATKEEP_BIND");
        assert!(err.to_string().contains("host:port"), "{err}");

        let err = settings(&[("DATABASE_URL", "mysql://x@h/db")]).unwrap_err();
        assert_eq!(err.key, "DATABASE_URL");

        let err = settings(&[("DATABASE_MAX_CONNECTIONS", "0")]).unwrap_err();
        assert_eq!(err.key, "DATABASE_MAX_CONNECTIONS");

        let err = settings(&[("LOG_FORMAT", "xml")]).unwrap_err();
        assert_eq!(err.key, "LOG_FORMAT");

        let err = settings(&[("BETTER_AUTH_URL", "ftp://x")]).unwrap_err();
        assert_eq!(err.key, "BETTER_AUTH_URL");
    }

    #[test]
    fn debug_output_hides_secrets() {
        let s = settings(&[
            ("DATABASE_URL", "postgres://app:hunter2@db:5432/chatkeep"),
            ("BETTER_AUTH_SECRET", "super-secret-value-1234567890"),
        ])
        .unwrap();
        let printed = format!("{s:?}");
        assert!(!printed.contains("hunter2"), "{printed}");
        assert!(!printed.contains("super-secret-value"), "{printed}");
        assert!(printed.contains("redacted"), "{printed}");
    }
}
