//! Typed settings, read once at startup from the environment (and `.env` when present).
//!
//! Every key is documented in `.env.example`. A missing or invalid value stops startup with one
//! line naming the key and the fix; secrets never appear in `Debug` output. The types are here;
//! [`read`] reads each section, with one parser per kind of value.

mod read;

use std::fmt;
use std::net::SocketAddr;
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
    /// `METRICS_TOKEN`: `/metrics` is served to scrapes bearing it; off when unset.
    pub metrics_token: Option<Secret<String>>,
    pub agent: AgentSettings,
    pub chat: ChatSettings,
    pub history: HistorySettings,
    pub mail: MailSettings,
}

/// Where mail goes: SMTP, or (without `SMTP_URL`) a folder of files in development.
#[derive(Debug, Clone)]
pub struct MailSettings {
    /// `SMTP_URL`, in lettre's form: `smtp://host:port` (plain, for a local relay),
    /// `smtp://host:587?tls=required` (STARTTLS), `smtps://host:465` (TLS); user and password in
    /// the URL. `None`: mail is written to `CHATKEEP_DATA_DIR/outbox` (development only).
    pub smtp_url: Option<Secret<String>>,
    /// `MAIL_FROM`: the sender, `Name <address>` or an address.
    pub from: String,
}

/// How email verification is asked for (`EMAIL_VERIFICATION`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EmailVerification {
    /// No verification mail is sent; addresses stay unverified.
    Off,
    /// A verification mail goes out at sign-up; an unverified account works (the app offers to
    /// verify).
    Optional,
    /// As Better Auth's `requireEmailVerification`: no session until the address is verified.
    Required,
}

/// The account flows that send mail, as Better Auth's options name them.
#[derive(Debug, Clone)]
pub struct AccountFlows {
    /// `EMAIL_VERIFICATION`: `off`, `optional` (default) or `required`.
    pub verification: EmailVerification,
    /// `EMAIL_VERIFICATION_ON_SIGN_IN`: with `required`, a sign-in of an unverified account mails
    /// a fresh link (Better Auth's `sendOnSignIn`). Default on.
    pub verification_on_sign_in: bool,
    /// `AUTO_SIGN_IN_AFTER_VERIFICATION`: following the link signs the person in. Default on.
    pub auto_sign_in_after_verification: bool,
    /// `EMAIL_VERIFICATION_TTL`: seconds a verification link works (Better Auth's `expiresIn`).
    pub verification_ttl: std::time::Duration,
    /// `PASSWORD_RESET`: `POST /request-password-reset` and the reset links. Default on.
    pub password_reset: bool,
    /// `PASSWORD_RESET_TTL`: seconds a reset link works.
    pub reset_ttl: std::time::Duration,
    /// `PASSWORD_RESET_REVOKES_SESSIONS`: a reset signs every device out (Better Auth's
    /// `revokeSessionsOnPasswordReset`, off there; on here).
    pub reset_revokes_sessions: bool,
    /// `CHANGE_EMAIL`: `POST /change-email`. Default on.
    pub change_email: bool,
    /// `CHANGE_EMAIL_CONFIRM_OLD`: a verified address confirms a change from its own inbox
    /// before the new address is asked (Better Auth's `sendChangeEmailConfirmation`). Default on.
    pub change_email_confirm_old: bool,
}

impl AccountFlows {
    /// Whether any flow sends mail.
    pub fn send_mail(&self) -> bool {
        self.verification != EmailVerification::Off || self.password_reset || self.change_email
    }
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

#[derive(Debug, Clone)]
pub struct AuthSettings {
    /// `BETTER_AUTH_SECRET`: cookie HMAC and key-encryption secret shared with Better Auth.
    /// `None` in development means "generate one into the data dir".
    pub secret: Option<Secret<String>>,
    /// `BETTER_AUTH_SECRETS` (`"2:new,1:old"`): versioned secrets, the first one current, as
    /// Better Auth 1.5+ reads them. `BETTER_AUTH_SECRET` beside it decrypts what was encrypted
    /// before rotation.
    pub secrets: Option<Vec<(u32, Secret<String>)>>,
    /// `PASSWORD_HASH`: how new and changed passwords are hashed (bcrypt hashes verify either way).
    pub password_hash: PasswordHash,
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
    /// Verification, password reset and change of email.
    pub flows: AccountFlows,
    /// Guests (Better Auth's anonymous plugin).
    pub guests: GuestSettings,
    /// Identity providers people may sign in with (none by default).
    pub providers: Vec<ProviderSettings>,
    /// `TRUSTED_PROVIDERS`: providers whose sign-in may link to an existing account with the
    /// same address even when the provider does not say it verified it (Better Auth's
    /// `accountLinking.trustedProviders`).
    pub trusted_providers: Vec<String>,
}

/// One identity provider: `GITHUB_CLIENT_ID`, `GOOGLE_CLIENT_ID`, or an entry of
/// `OIDC_PROVIDERS` with its `OIDC_<ID>_*` settings.
#[derive(Debug, Clone)]
pub struct ProviderSettings {
    /// The provider's id on the wire (`github`, `google`, or the `OIDC_PROVIDERS` entry).
    pub id: String,
    /// The button's label: "Continue with {name}".
    pub name: String,
    pub kind: ProviderKind,
    pub client_id: String,
    pub client_secret: Secret<String>,
    /// Scopes asked for, as the provider spells them.
    pub scopes: Vec<String>,
}

#[derive(Debug, Clone)]
pub enum ProviderKind {
    /// OpenID Connect, its endpoints discovered from `{issuer}/.well-known/openid-configuration`.
    Oidc { issuer: Url },
    /// Google: OpenID Connect with its endpoints built in, or discovered from `GOOGLE_ISSUER`
    /// when that is set (a stand-in for tests).
    Google { issuer: Option<Url> },
    /// GitHub's OAuth apps (not OpenID Connect): `GITHUB_OAUTH_URL` for the authorization and
    /// token endpoints, `GITHUB_API_URL` for the profile (both GitHub's by default).
    GitHub { oauth: Url, api: Url },
}

/// Guests: people who chat before they have an account (`ANONYMOUS_SIGN_IN`).
#[derive(Debug, Clone)]
pub struct GuestSettings {
    /// `ANONYMOUS_SIGN_IN`: `POST /api/auth/sign-in/anonymous` and `isAnonymous` on users (off).
    pub enabled: bool,
    /// `GUEST_MESSAGES_PER_DAY`: questions a guest may ask in 24 hours.
    pub messages_per_day: u32,
    /// `GUEST_MAX_CONVERSATIONS`: conversations a guest may keep at once.
    pub max_conversations: u32,
    /// `GUEST_RETENTION_DAYS`: a guest who never signs up is deleted, with their chats, this
    /// long after they started.
    pub retention_days: u32,
}

/// `PASSWORD_HASH`: the hash written for new and changed passwords.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PasswordHash {
    /// Better Auth's default (`hexsalt:hexkey`).
    Scrypt,
    /// `$2b$10$…`, for a database shared with an app whose Better Auth hashes with bcrypt.
    Bcrypt,
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
    fn provider_ids_never_take_the_passwords_or_the_built_ins() {
        for id in ["credential", "github", "google", "Corp", "a b"] {
            let err = settings(&[("OIDC_PROVIDERS", id)]).unwrap_err();
            assert_eq!(err.key, "OIDC_PROVIDERS", "{id}");
        }
        let err = settings(&[("OIDC_PROVIDERS", "corp")]).unwrap_err();
        assert!(err.problem.contains("OIDC_CORP_ISSUER"), "{}", err.problem);
    }

    #[test]
    fn versioned_secrets_read_as_better_auth_reads_them() {
        let s = settings(&[("BETTER_AUTH_SECRETS", " 2:new:with:colons , 1:old ")]).unwrap();
        let secrets = s.auth.secrets.unwrap();
        let read: Vec<(u32, &str)> = secrets
            .iter()
            .map(|(v, s)| (*v, s.expose().as_str()))
            .collect();
        assert_eq!(
            read,
            [(2, "new:with:colons"), (1, "old")],
            "the first is current"
        );

        for (raw, problem) in [
            ("2:s3cr3t,", "entry 2 has no version"),
            ("s3cr3t", "entry 1 has no version"),
            ("2abc:s3cr3t", "not a whole number"),
            ("-1:s3cr3t", "not a whole number"),
            ("2: ", "empty secret"),
            ("2:s3cr3t,2:s3cr3t2", "given twice"),
        ] {
            let err = settings(&[("BETTER_AUTH_SECRETS", raw)]).unwrap_err();
            assert_eq!(err.key, "BETTER_AUTH_SECRETS");
            assert!(err.to_string().contains(problem), "{raw}: {err}");
            assert!(
                !err.to_string().contains("s3cr3t"),
                "no secret in the error: {err}"
            );
        }
    }

    #[test]
    fn the_password_hash_is_scrypt_unless_bcrypt_is_asked_for() {
        assert_eq!(
            settings(&[]).unwrap().auth.password_hash,
            PasswordHash::Scrypt
        );
        let s = settings(&[("PASSWORD_HASH", "BCRYPT")]).unwrap();
        assert_eq!(s.auth.password_hash, PasswordHash::Bcrypt);
        let err = settings(&[("PASSWORD_HASH", "argon2")]).unwrap_err();
        assert_eq!(err.key, "PASSWORD_HASH");
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
    fn production_will_not_start_without_a_way_to_send_the_mail_its_flows_send() {
        let secret = (
            "BETTER_AUTH_SECRET",
            "a-production-secret-that-is-long-enough-0123",
        );
        let err = settings(&[("CHATKEEP_ENV", "production"), secret]).unwrap_err();
        assert_eq!(err.key, "SMTP_URL");
        assert!(err.to_string().contains("PASSWORD_RESET=off"), "{err}");
        let quiet = [
            ("CHATKEEP_ENV", "production"),
            secret,
            ("PASSWORD_RESET", "off"),
            ("EMAIL_VERIFICATION", "off"),
            ("CHANGE_EMAIL", "off"),
        ];
        assert!(settings(&quiet).is_ok());
        let smtp = [
            ("CHATKEEP_ENV", "production"),
            secret,
            (
                "SMTP_URL",
                "smtp://user:pass@smtp.example.com:587?tls=required",
            ),
        ];
        let s = settings(&smtp).unwrap();
        assert!(
            !format!("{s:?}").contains("pass@"),
            "the SMTP password stays out of Debug"
        );
        assert_eq!(s.mail.from, "Chatkeep <no-reply@localhost>");
        let err = settings(&[("SMTP_URL", "http://example.com")]).unwrap_err();
        assert_eq!(err.key, "SMTP_URL");
        let err = settings(&[("EMAIL_VERIFICATION", "maybe")]).unwrap_err();
        assert_eq!(err.key, "EMAIL_VERIFICATION");
    }

    #[test]
    fn every_setting_read_is_named() {
        let names = setting_names();
        for key in [
            "DATABASE_URL",
            "AUTH_JWT_ISSUER",
            "IMPORT_MAX_NODES",
            "USER_MAX_STORED_BYTES",
            "MAX_FOLLOWERS",
        ] {
            assert!(
                names.iter().any(|n| n == key),
                "{key} missing from {names:?}"
            );
        }
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
