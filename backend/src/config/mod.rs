//! Typed settings, read once at startup from the environment (and `.env` when present).
//!
//! Every key is documented in `.env.example`. A missing or invalid value stops startup with one
//! line naming the key and the fix; secrets never appear in `Debug` output. The types are here;
//! [`read`] reads each section, with one parser per kind of value.

mod accounts;
mod read;

pub use accounts::{
    AccountFlows, AuthSettings, EmailVerification, ExternalIssuerSettings, GuestSettings,
    MailSettings, PasswordHash, ProviderKind, ProviderSettings,
};

use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;

use ipnet::IpNet;
use url::Url;

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
    /// `METRICS_TOKEN`: `/metrics` is served to scrapes bearing it; off when unset.
    pub metrics_token: Option<Secret<String>>,
    pub agent: AgentSettings,
    pub chat: ChatSettings,
    pub history: HistorySettings,
    pub mail: MailSettings,
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
pub struct HistorySettings {
    /// `SEARCH_LANGUAGE`: the PostgreSQL text search configuration that stems search words
    /// (`english` by default; words are also matched as written, so other languages are found).
    pub search_language: String,
    /// `IMPORT_MAX_BYTES`: the largest import upload (100 MB by default). An unzipped export may
    /// be up to eight times this.
    pub import_max_bytes: u64,
    /// What one imported conversation may hold, checked while the file is read.
    pub import_caps: ImportCaps,
    /// `TRANSFER_STALL_TIMEOUT` and `TRANSFER_MIN_RATE`: how slowly an import's upload or a full
    /// export's download may move before it is ended.
    pub transfer: TransferFloor,
    /// `USER_MAX_STORED_BYTES`: bytes of message text one account may hold; `None` = no limit.
    pub user_max_stored_bytes: Option<i64>,
}

/// Caps on one conversation of an import, so that the memory an import takes is bounded by
/// settings whatever the file's shape. A conversation over one is skipped and reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImportCaps {
    /// `IMPORT_MAX_MESSAGES`: messages in one conversation.
    pub messages: usize,
    /// `IMPORT_MAX_NODES`: JSON values (objects, arrays, keys, strings, numbers...) in one
    /// conversation.
    pub nodes: u64,
    /// `IMPORT_MAX_MESSAGE_BYTES`: the longest string anywhere in the file, in bytes as written.
    pub message_bytes: u64,
    /// `IMPORT_MAX_CONVERSATION_BYTES`: bytes of text (strings and keys) in one conversation.
    pub conversation_bytes: u64,
    /// `IMPORT_MAX_DEPTH`: levels of nesting anywhere in the file.
    pub depth: u32,
}

impl Default for ImportCaps {
    fn default() -> Self {
        Self {
            messages: 10_000,
            nodes: 200_000,
            message_bytes: 4_000_000,
            conversation_bytes: 16_000_000,
            depth: 64,
        }
    }
}

/// The slowest an upload or a download may move: at least `min_rate` bytes a second, averaged
/// over each `window`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TransferFloor {
    /// `TRANSFER_STALL_TIMEOUT`.
    pub window: std::time::Duration,
    /// `TRANSFER_MIN_RATE`, bytes a second.
    pub min_rate: u64,
}

impl TransferFloor {
    /// Bytes that must move in each window.
    pub fn min_bytes(&self) -> u64 {
        self.min_rate.saturating_mul(self.window.as_secs().max(1))
    }
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
    /// `MAX_FOLLOWERS_PER_USER`: answer streams one user may follow at once, per instance.
    pub max_followers_per_user: usize,
    /// `MAX_FOLLOWERS`: answer streams followed at once on this instance.
    pub max_followers: usize,
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

/// A setting that stops startup: which key, what is wrong, how to fix it.
#[derive(Debug, thiserror::Error)]
#[error("{key}: {problem}; {fix}")]
pub struct ConfigError {
    pub key: &'static str,
    pub problem: String,
    pub fix: String,
}

impl ConfigError {
    pub(crate) fn new(
        key: &'static str,
        problem: impl Into<String>,
        fix: impl Into<String>,
    ) -> Self {
        Self {
            key,
            problem: problem.into(),
            fix: fix.into(),
        }
    }
}

pub const DEFAULT_BIND: &str = "127.0.0.1:8080";
pub const DEFAULT_DATABASE_URL: &str = "postgres://postgres@127.0.0.1:5432/chatkeep";

/// Loads `.env` into the environment (if present; real environment variables win).
fn load_dotenv() -> Result<(), ConfigError> {
    match dotenvy::dotenv() {
        Ok(_) => Ok(()),
        Err(e) if e.not_found() => Ok(()),
        Err(e) => Err(ConfigError::new(
            ".env",
            format!("cannot be read ({e})"),
            "fix the file's syntax or remove it",
        )),
    }
}

/// The address the server listens on (`CHATKEEP_BIND`, from the environment and `.env`), read
/// alone: what `chatkeep healthcheck` asks, without the rest of the settings.
pub fn bind_address_from_env() -> Result<SocketAddr, ConfigError> {
    load_dotenv()?;
    read::parse_bind(&std::env::var("CHATKEEP_BIND").unwrap_or_else(|_| DEFAULT_BIND.to_owned()))
}

impl Settings {
    /// Reads `.env` (if present; real environment variables win) and then the environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        load_dotenv()?;
        Self::from_lookup(|key| std::env::var(key).ok())
    }

    /// Builds settings from any key lookup; tests pass a map instead of mutating the process env.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let env = read::Env::new(lookup);
        let server = read::server(&env)?;
        let agent = read::agent(&env)?;
        let auth = read::auth(&env)?;
        let mail = read::mail(&env, &server.base_url)?;
        if server.environment == Environment::Production
            && mail.smtp_url.is_none()
            && auth.flows.send_mail()
        {
            return Err(ConfigError::new(
                "SMTP_URL",
                "is not set, and production sends mail (password reset, email verification, \
                 change of email)",
                "set SMTP_URL (e.g. smtp://user:password@smtp.example.com:587?tls=required), \
                 or set PASSWORD_RESET=off, EMAIL_VERIFICATION=off and CHANGE_EMAIL=off",
            ));
        }
        Ok(Self {
            environment: server.environment,
            bind: server.bind,
            base_url: server.base_url,
            database: read::database(&env)?,
            auth,
            data_dir: env.path("CHATKEEP_DATA_DIR", "data"),
            spa_dir: env.path("CHATKEEP_SPA_DIR", "dist"),
            log_format: read::log_format(&env)?,
            json_limit: env.number("CHATKEEP_JSON_LIMIT", 256 * 1024, 1024, 64 << 20)?,
            shutdown_timeout_secs: env.number("CHATKEEP_SHUTDOWN_TIMEOUT", 30, 0, 3600)?,
            trusted_proxies: read::trusted_proxies(&env)?,
            redis_url: read::redis_url(&env)?,
            metrics_token: read::metrics_token(&env)?,
            chat: read::chat(&env, &agent)?,
            history: read::history(&env)?,
            mail,
            agent,
        })
    }
}

/// Every setting the server reads, by name: what `docs/` and `.env.example` must describe.
/// Found by reading the settings with a lookup that notes each key asked for (with the keys
/// set that make the others be read).
pub fn setting_names() -> Vec<String> {
    let asked = std::cell::RefCell::new(std::collections::BTreeSet::new());
    let _ = Settings::from_lookup(|key| {
        asked.borrow_mut().insert(key.to_owned());
        match key {
            "AUTH_JWKS_URL" => Some("https://issuer.example.com/api/auth/jwks".to_owned()),
            "USER_MAX_STORED_BYTES" => Some("1000000".to_owned()),
            _ => None,
        }
    });
    asked.into_inner().into_iter().collect()
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
mod tests;
