//! SQL over Better Auth's tables, a file per table group: [`users`], [`guests`] (the anonymous
//! plugin's users and their adoption), [`accounts`] (passwords and external links), [`sessions`]
//! and [`verifications`] (reset tokens, and the user's address
//! as the email flows change it). Identifiers are Better Auth's quoted camelCase; every
//! timestamp we write is truncated to milliseconds, as JavaScript's `Date` would store it, so a
//! Better Auth server reading the same rows sees exactly what it would have written.

/// `sqlx::query_as!` into [`UserRecord`] with the `"user"` columns between two literals, so every
/// query that reads a user reads the same list, checked at compile time.
macro_rules! query_users {
    ($before:tt, $after:tt $(, $arg:expr)* $(,)?) => {
        sqlx::query_as!(
            UserRecord,
            $before
                + r#" id, name, email, "emailVerified" AS email_verified, image,
                      "createdAt" AS created_at, "updatedAt" AS updated_at,
                      coalesce("isAnonymous", false) AS "is_anonymous!",
                      role, banned, "banReason" AS ban_reason, "banExpires" AS ban_expires "#
                + $after
            $(, $arg)*
        )
    };
}

/// The same for [`SessionRecord`] and the `session` columns.
macro_rules! query_sessions {
    ($before:tt, $after:tt $(, $arg:expr)* $(,)?) => {
        sqlx::query_as!(
            SessionRecord,
            $before
                + r#" id, token, "userId" AS user_id, "expiresAt" AS expires_at,
                      "createdAt" AS created_at, "updatedAt" AS updated_at,
                      "ipAddress" AS ip_address, "userAgent" AS user_agent,
                      "impersonatedBy" AS impersonated_by "#
                + $after
            $(, $arg)*
        )
    };
}

mod accounts;
pub mod admin;
mod guests;
mod sessions;
mod users;
mod verifications;

pub use accounts::*;
pub use guests::*;
pub use sessions::*;
pub use users::*;
pub use verifications::*;

use chrono::{DateTime, DurationRound, TimeDelta, Utc};
use shared::UserId;

use crate::columns::iso_millis;

/// The role a new user gets (the admin plugin's `defaultRole`).
pub const DEFAULT_ROLE: &str = "user";

/// Now, at JavaScript `Date` precision.
pub fn now() -> DateTime<Utc> {
    Utc::now()
        .duration_trunc(TimeDelta::milliseconds(1))
        .expect("millisecond truncation cannot overflow")
}

/// 32 characters from `[A-Za-z0-9]`, from the OS's CSPRNG: Better Auth's ids and tokens.
pub fn generate_id() -> String {
    use rand::Rng;
    use rand::distributions::Alphanumeric;
    rand::rngs::OsRng
        .sample_iter(&Alphanumeric)
        .take(32)
        .map(char::from)
        .collect()
}

#[derive(Debug, Clone)]
pub struct UserRow {
    pub id: UserId,
    pub name: String,
    pub email: String,
    pub email_verified: bool,
    pub image: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// A guest (Better Auth's anonymous plugin); `false` for a NULL column.
    pub is_anonymous: bool,
    /// Better Auth's admin plugin: roles, comma-separated (`NULL` reads as `user`).
    pub role: Option<String>,
    pub banned: Option<bool>,
    pub ban_reason: Option<String>,
    /// When a ban lifts itself; `NULL` for a ban without end.
    pub ban_expires: Option<DateTime<Utc>>,
}

impl UserRow {
    /// A user as a new sign-up would make it, stored nowhere: Better Auth's answer to a taken
    /// address when it must not say so.
    pub fn unsaved(name: &str, email: &str, image: Option<&str>) -> Self {
        let now = now();
        Self {
            id: UserId::new(generate_id()),
            name: name.to_owned(),
            email: email.to_owned(),
            email_verified: false,
            image: image.map(str::to_owned),
            created_at: now,
            updated_at: now,
            is_anonymous: false,
            role: Some(DEFAULT_ROLE.to_owned()),
            banned: Some(false),
            ban_reason: None,
            ban_expires: None,
        }
    }

    /// Banned now: `banned`, and no `banExpires` or one still ahead (an expired ban is lifted
    /// at the next sign-in, as Better Auth lifts it).
    pub fn is_banned(&self, now: DateTime<Utc>) -> bool {
        self.banned == Some(true) && self.ban_expires.is_none_or(|at| at > now)
    }

    /// The user's roles (Better Auth's comma-separated `role`; `user` when unset).
    pub fn roles(&self) -> impl Iterator<Item = &str> {
        self.role
            .as_deref()
            .unwrap_or(DEFAULT_ROLE)
            .split(',')
            .map(str::trim)
    }

    /// The user as Better Auth returns it: with `isAnonymous` when the anonymous plugin is on
    /// (`ANONYMOUS_SIGN_IN`), without it otherwise.
    pub fn wire(&self, guests_on: bool) -> shared::auth::User {
        shared::auth::User {
            name: self.name.clone(),
            email: self.email.clone(),
            email_verified: self.email_verified,
            image: self.image.clone(),
            created_at: iso_millis(self.created_at),
            updated_at: iso_millis(self.updated_at),
            is_anonymous: guests_on.then_some(self.is_anonymous),
            role: self.role.clone(),
            banned: self.banned,
            ban_reason: self.ban_reason.clone(),
            ban_expires: self.ban_expires.map(iso_millis),
            id: self.id.clone(),
        }
    }
}

/// A `"user"` row as the query returns it.
#[derive(sqlx::FromRow)]
pub(super) struct UserRecord {
    id: String,
    name: String,
    email: String,
    email_verified: bool,
    image: Option<String>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    is_anonymous: bool,
    role: Option<String>,
    banned: Option<bool>,
    ban_reason: Option<String>,
    ban_expires: Option<DateTime<Utc>>,
}

impl From<UserRecord> for UserRow {
    fn from(r: UserRecord) -> Self {
        Self {
            id: UserId::new(r.id),
            name: r.name,
            email: r.email,
            email_verified: r.email_verified,
            image: r.image,
            created_at: r.created_at,
            updated_at: r.updated_at,
            is_anonymous: r.is_anonymous,
            role: r.role,
            banned: r.banned,
            ban_reason: r.ban_reason,
            ban_expires: r.ban_expires,
        }
    }
}

#[derive(Debug, Clone)]
pub struct SessionRow {
    pub id: String,
    pub token: String,
    pub user_id: UserId,
    pub expires_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub ip_address: Option<String>,
    pub user_agent: Option<String>,
    /// The administrator whose impersonation this session is (admin plugin).
    pub impersonated_by: Option<String>,
}

impl From<&SessionRow> for shared::auth::Session {
    fn from(s: &SessionRow) -> Self {
        Self {
            expires_at: iso_millis(s.expires_at),
            token: s.token.clone(),
            created_at: iso_millis(s.created_at),
            updated_at: iso_millis(s.updated_at),
            ip_address: s.ip_address.clone(),
            user_agent: s.user_agent.clone(),
            user_id: s.user_id.clone(),
            impersonated_by: s.impersonated_by.clone(),
            id: s.id.clone(),
        }
    }
}

/// A `session` row as the query returns it.
pub(super) struct SessionRecord {
    id: String,
    token: String,
    user_id: String,
    expires_at: DateTime<Utc>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    ip_address: Option<String>,
    user_agent: Option<String>,
    impersonated_by: Option<String>,
}

impl From<SessionRecord> for SessionRow {
    fn from(r: SessionRecord) -> Self {
        Self {
            id: r.id,
            token: r.token,
            user_id: UserId::new(r.user_id),
            expires_at: r.expires_at,
            created_at: r.created_at,
            updated_at: r.updated_at,
            ip_address: r.ip_address,
            user_agent: r.user_agent,
            impersonated_by: r.impersonated_by,
        }
    }
}
