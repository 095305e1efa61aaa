//! The account settings: sign-in, passwords, guests, identity providers, an external JWT
//! issuer, and the mail the account flows send.

use url::Url;

use super::Secret;

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
    /// `ADMIN_EMAILS`: addresses that are administrators once verified, whatever their role
    /// (lower-cased). The other way in is `chatkeep admin grant EMAIL`.
    pub admin_emails: Vec<String>,
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

#[derive(Debug, Clone)]
/// `AUTH_JWKS_URL`: an external Better Auth server whose JWTs are trusted ([`crate::auth::external`]).
pub struct ExternalIssuerSettings {
    pub jwks_url: Url,
    pub issuer: String,
    pub audience: String,
    /// `AUTH_JWT_SHARED_USERS`: the issuer and Chatkeep share one user table, so a token's
    /// `sub` is a local user id. Off by default: external users are linked by an `account` row.
    pub shared_users: bool,
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
