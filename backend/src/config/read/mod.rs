//! Reading the settings: one function per section, and one parser per kind of value (number,
//! switch, URL, list), each failing with the key and the fix. The account settings are read in
//! [`accounts`].

use std::fmt;
use std::net::{SocketAddr, ToSocketAddrs};
use std::path::PathBuf;
use std::time::Duration;

use ipnet::IpNet;
use url::Url;

use super::{
    AgentSettings, ChatSettings, ConfigError, DEFAULT_BIND, DEFAULT_DATABASE_URL, DatabaseSettings,
    Environment, HistorySettings, ImportCaps, LogFormat, Secret, TransferFloor, redact_url,
};

mod accounts;

pub use accounts::{auth, mail};

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
pub(super) fn url(
    key: &'static str,
    raw: &str,
    schemes: &[&str],
    fix: &str,
) -> Result<Url, ConfigError> {
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
