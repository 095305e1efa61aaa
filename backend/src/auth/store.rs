//! SQL over Better Auth's tables. Identifiers are Better Auth's quoted camelCase; every
//! timestamp we write is truncated to milliseconds, as JavaScript's `Date` would store it, so a
//! Better Auth server reading the same rows sees exactly what it would have written.

use chrono::{DateTime, DurationRound, TimeDelta, Utc};
use shared::UserId;
use sqlx::PgConnection;

/// Now, at JavaScript `Date` precision.
pub fn now() -> DateTime<Utc> {
    Utc::now()
        .duration_trunc(TimeDelta::milliseconds(1))
        .expect("millisecond truncation cannot overflow")
}

/// ISO-8601 with milliseconds and `Z`, as `Date.toISOString()` writes it.
pub fn iso(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
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
}

impl From<&UserRow> for shared::auth::User {
    fn from(u: &UserRow) -> Self {
        Self {
            name: u.name.clone(),
            email: u.email.clone(),
            email_verified: u.email_verified,
            image: u.image.clone(),
            created_at: iso(u.created_at),
            updated_at: iso(u.updated_at),
            id: u.id.to_string(),
        }
    }
}

/// A `"user"` row as the query returns it.
struct UserRecord {
    id: String,
    name: String,
    email: String,
    email_verified: bool,
    image: Option<String>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
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
}

impl From<&SessionRow> for shared::auth::Session {
    fn from(s: &SessionRow) -> Self {
        Self {
            expires_at: iso(s.expires_at),
            token: s.token.clone(),
            created_at: iso(s.created_at),
            updated_at: iso(s.updated_at),
            ip_address: s.ip_address.clone(),
            user_agent: s.user_agent.clone(),
            user_id: s.user_id.to_string(),
            id: s.id.clone(),
        }
    }
}

/// A `session` row as the query returns it.
struct SessionRecord {
    id: String,
    token: String,
    user_id: String,
    expires_at: DateTime<Utc>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    ip_address: Option<String>,
    user_agent: Option<String>,
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
        }
    }
}

pub async fn user_by_email(conn: &mut PgConnection, email: &str) -> sqlx::Result<Option<UserRow>> {
    sqlx::query_as!(
        UserRecord,
        r#"SELECT id, name, email, "emailVerified" AS email_verified, image,
                  "createdAt" AS created_at, "updatedAt" AS updated_at
             FROM "user" WHERE email = $1"#,
        email
    )
    .fetch_optional(conn)
    .await
    .map(|row| row.map(Into::into))
}

pub async fn user_by_id(conn: &mut PgConnection, id: &UserId) -> sqlx::Result<Option<UserRow>> {
    sqlx::query_as!(
        UserRecord,
        r#"SELECT id, name, email, "emailVerified" AS email_verified, image,
                  "createdAt" AS created_at, "updatedAt" AS updated_at
             FROM "user" WHERE id = $1"#,
        id.as_str()
    )
    .fetch_optional(conn)
    .await
    .map(|row| row.map(Into::into))
}

/// Inserts a user; `Ok(None)` when the email is taken (a racing sign-up included).
pub async fn insert_user(
    conn: &mut PgConnection,
    name: &str,
    email: &str,
    image: Option<&str>,
    email_verified: bool,
) -> sqlx::Result<Option<UserRow>> {
    let now = now();
    sqlx::query_as!(
        UserRecord,
        r#"INSERT INTO "user" (id, name, email, "emailVerified", image, "createdAt", "updatedAt")
           VALUES ($1, $2, $3, $4, $5, $6, $6)
           ON CONFLICT (email) DO NOTHING
           RETURNING id, name, email, "emailVerified" AS email_verified, image,
                     "createdAt" AS created_at, "updatedAt" AS updated_at"#,
        generate_id(),
        name,
        email,
        email_verified,
        image,
        now
    )
    .fetch_optional(conn)
    .await
    .map(|row| row.map(Into::into))
}

/// The local user linked to `account_id` at the external issuer `provider_id`.
pub async fn linked_user(
    conn: &mut PgConnection,
    provider_id: &str,
    account_id: &str,
) -> sqlx::Result<Option<UserId>> {
    sqlx::query_scalar!(
        r#"SELECT "userId" AS user_id FROM account
            WHERE "providerId" = $1 AND "accountId" = $2
            ORDER BY "createdAt" LIMIT 1"#,
        provider_id,
        account_id
    )
    .fetch_optional(conn)
    .await
    .map(|id| id.map(UserId::new))
}

/// Links `user_id` to `account_id` at the external issuer `provider_id` (no tokens or password:
/// the issuer keeps those).
pub async fn link_external_account(
    conn: &mut PgConnection,
    user_id: &UserId,
    provider_id: &str,
    account_id: &str,
) -> sqlx::Result<()> {
    let now = now();
    sqlx::query!(
        r#"INSERT INTO account (id, "accountId", "providerId", "userId", "createdAt", "updatedAt")
           VALUES ($1, $2, $3, $4, $5, $5)"#,
        generate_id(),
        account_id,
        provider_id,
        user_id.as_str(),
        now
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Whether the user has no account of any kind: what a user provisioned from an external
/// issuer before links existed looks like (every local sign-up has a credential account).
pub async fn has_no_accounts(conn: &mut PgConnection, user_id: &UserId) -> sqlx::Result<bool> {
    let none = sqlx::query_scalar!(
        r#"SELECT NOT EXISTS (SELECT 1 FROM account WHERE "userId" = $1) AS "none!""#,
        user_id.as_str()
    )
    .fetch_one(conn)
    .await?;
    Ok(none)
}

/// Inserts a user with a given id; `false` when the id or the email is taken.
pub async fn insert_user_with_id(conn: &mut PgConnection, user: &UserRow) -> sqlx::Result<bool> {
    let inserted = sqlx::query!(
        r#"INSERT INTO "user" (id, name, email, "emailVerified", image, "createdAt", "updatedAt")
           VALUES ($1, $2, $3, $4, $5, $6, $7)
           ON CONFLICT DO NOTHING"#,
        user.id.as_str(),
        user.name,
        user.email,
        user.email_verified,
        user.image,
        user.created_at,
        user.updated_at
    )
    .execute(conn)
    .await?;
    Ok(inserted.rows_affected() == 1)
}

/// Better Auth's credential account: `providerId = 'credential'`, `accountId = userId`.
pub async fn insert_credential_account(
    conn: &mut PgConnection,
    user_id: &UserId,
    password_hash: &str,
) -> sqlx::Result<()> {
    let now = now();
    sqlx::query!(
        r#"INSERT INTO account (id, "accountId", "providerId", "userId", password, "createdAt", "updatedAt")
           VALUES ($1, $2, 'credential', $2, $3, $4, $4)"#,
        generate_id(),
        user_id.as_str(),
        password_hash,
        now
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// The stored hash of the user's password account, if they have one.
pub async fn credential_password(
    conn: &mut PgConnection,
    user_id: &UserId,
) -> sqlx::Result<Option<String>> {
    let row = sqlx::query_scalar!(
        r#"SELECT password FROM account
            WHERE "userId" = $1 AND "providerId" = 'credential'
            ORDER BY "createdAt" LIMIT 1"#,
        user_id.as_str()
    )
    .fetch_optional(conn)
    .await?;
    Ok(row.flatten())
}

pub async fn set_credential_password(
    conn: &mut PgConnection,
    user_id: &UserId,
    password_hash: &str,
) -> sqlx::Result<()> {
    sqlx::query!(
        r#"UPDATE account SET password = $2, "updatedAt" = $3
            WHERE "userId" = $1 AND "providerId" = 'credential'"#,
        user_id.as_str(),
        password_hash,
        now()
    )
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn update_user(
    conn: &mut PgConnection,
    user_id: &UserId,
    name: Option<&str>,
    image: Option<Option<&str>>,
) -> sqlx::Result<()> {
    let (set_image, image) = match image {
        Some(value) => (true, value),
        None => (false, None),
    };
    sqlx::query!(
        r#"UPDATE "user"
              SET name = coalesce($2, name),
                  image = CASE WHEN $3 THEN $4 ELSE image END,
                  "updatedAt" = $5
            WHERE id = $1"#,
        user_id.as_str(),
        name,
        set_image,
        image,
        now()
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Deletes the user; sessions, accounts and all chat data go with it (foreign keys cascade).
pub async fn delete_user(conn: &mut PgConnection, user_id: &UserId) -> sqlx::Result<()> {
    sqlx::query!(r#"DELETE FROM "user" WHERE id = $1"#, user_id.as_str())
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn insert_session(
    conn: &mut PgConnection,
    user_id: &UserId,
    expires_at: DateTime<Utc>,
    ip_address: &str,
    user_agent: &str,
) -> sqlx::Result<SessionRow> {
    let now = now();
    sqlx::query_as!(
        SessionRecord,
        r#"INSERT INTO session (id, token, "userId", "expiresAt", "createdAt", "updatedAt", "ipAddress", "userAgent")
           VALUES ($1, $2, $3, $4, $5, $5, $6, $7)
           RETURNING id, token, "userId" AS user_id, "expiresAt" AS expires_at,
                     "createdAt" AS created_at, "updatedAt" AS updated_at,
                     "ipAddress" AS ip_address, "userAgent" AS user_agent"#,
        generate_id(),
        generate_id(),
        user_id.as_str(),
        expires_at,
        now,
        ip_address,
        user_agent
    )
    .fetch_one(conn)
    .await
    .map(Into::into)
}

/// A session and its user by raw token, in one round trip.
pub async fn session_with_user(
    conn: &mut PgConnection,
    token: &str,
) -> sqlx::Result<Option<(SessionRow, UserRow)>> {
    let row = sqlx::query!(
        r#"SELECT s.id AS session_id, s.token, s."userId" AS user_id, s."expiresAt" AS expires_at,
                  s."createdAt" AS s_created_at, s."updatedAt" AS s_updated_at,
                  s."ipAddress" AS ip_address, s."userAgent" AS user_agent,
                  u.name, u.email, u."emailVerified" AS email_verified, u.image,
                  u."createdAt" AS u_created_at, u."updatedAt" AS u_updated_at
             FROM session s JOIN "user" u ON u.id = s."userId"
            WHERE s.token = $1"#,
        token
    )
    .fetch_optional(conn)
    .await?;
    Ok(row.map(|r| {
        (
            SessionRow {
                id: r.session_id,
                token: r.token,
                user_id: UserId::new(r.user_id.clone()),
                expires_at: r.expires_at,
                created_at: r.s_created_at,
                updated_at: r.s_updated_at,
                ip_address: r.ip_address,
                user_agent: r.user_agent,
            },
            UserRow {
                id: UserId::new(r.user_id),
                name: r.name,
                email: r.email,
                email_verified: r.email_verified,
                image: r.image,
                created_at: r.u_created_at,
                updated_at: r.u_updated_at,
            },
        )
    }))
}

/// Slides a session's expiry forward; returns the updated row.
pub async fn refresh_session(
    conn: &mut PgConnection,
    session_id: &str,
    expires_at: DateTime<Utc>,
) -> sqlx::Result<Option<SessionRow>> {
    sqlx::query_as!(
        SessionRecord,
        r#"UPDATE session SET "expiresAt" = $2, "updatedAt" = $3 WHERE id = $1
           RETURNING id, token, "userId" AS user_id, "expiresAt" AS expires_at,
                     "createdAt" AS created_at, "updatedAt" AS updated_at,
                     "ipAddress" AS ip_address, "userAgent" AS user_agent"#,
        session_id,
        expires_at,
        now()
    )
    .fetch_optional(conn)
    .await
    .map(|row| row.map(Into::into))
}

/// Unexpired sessions of a user, oldest first.
pub async fn active_sessions(
    conn: &mut PgConnection,
    user_id: &UserId,
) -> sqlx::Result<Vec<SessionRow>> {
    sqlx::query_as!(
        SessionRecord,
        r#"SELECT id, token, "userId" AS user_id, "expiresAt" AS expires_at,
                  "createdAt" AS created_at, "updatedAt" AS updated_at,
                  "ipAddress" AS ip_address, "userAgent" AS user_agent
             FROM session
            WHERE "userId" = $1 AND "expiresAt" > now()
            ORDER BY "createdAt", id"#,
        user_id.as_str()
    )
    .fetch_all(conn)
    .await
    .map(|rows| rows.into_iter().map(Into::into).collect())
}

pub async fn delete_session_by_token(conn: &mut PgConnection, token: &str) -> sqlx::Result<()> {
    sqlx::query!("DELETE FROM session WHERE token = $1", token)
        .execute(conn)
        .await?;
    Ok(())
}

/// Deletes one of the user's sessions by token; someone else's token is left alone.
pub async fn delete_user_session(
    conn: &mut PgConnection,
    user_id: &UserId,
    token: &str,
) -> sqlx::Result<bool> {
    let done = sqlx::query!(
        r#"DELETE FROM session WHERE token = $1 AND "userId" = $2"#,
        token,
        user_id.as_str()
    )
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn delete_all_sessions(conn: &mut PgConnection, user_id: &UserId) -> sqlx::Result<()> {
    sqlx::query!(
        r#"DELETE FROM session WHERE "userId" = $1"#,
        user_id.as_str()
    )
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn delete_other_sessions(
    conn: &mut PgConnection,
    user_id: &UserId,
    keep_token: &str,
) -> sqlx::Result<()> {
    sqlx::query!(
        r#"DELETE FROM session WHERE "userId" = $1 AND token <> $2"#,
        user_id.as_str(),
        keep_token
    )
    .execute(conn)
    .await?;
    Ok(())
}
