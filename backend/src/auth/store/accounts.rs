//! The `account` table: the credential (password) account, and links to external issuers.

use chrono::{DateTime, Utc};
use shared::UserId;
use sqlx::PgConnection;

use super::{generate_id, now};

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

/// An identity provider's account row, as `list-accounts` shows it (never its tokens).
#[derive(Debug)]
pub struct LinkedAccount {
    pub id: String,
    pub account_id: String,
    pub provider_id: String,
    pub user_id: UserId,
    pub scope: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// The tokens a provider sign-in stores or refreshes on the account row.
pub struct ProviderTokens<'a> {
    pub access_token: Option<&'a str>,
    pub refresh_token: Option<&'a str>,
    pub id_token: Option<&'a str>,
    pub access_token_expires_at: Option<DateTime<Utc>>,
    pub refresh_token_expires_at: Option<DateTime<Utc>>,
    /// Comma-joined, as Better Auth stores scopes.
    pub scope: &'a str,
}

/// Holds `(provider_id, account_id)` until the transaction ends: one first sight of a
/// provider's account at a time, so concurrent ones make one user and one row.
pub async fn lock_account_key(
    conn: &mut PgConnection,
    provider_id: &str,
    account_id: &str,
) -> sqlx::Result<()> {
    sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))")
        .bind(format!("{provider_id} {account_id}"))
        .execute(conn)
        .await?;
    Ok(())
}

/// The account row for `account_id` at `provider_id` (the provider's subject), and its user.
pub async fn account_by_key(
    conn: &mut PgConnection,
    provider_id: &str,
    account_id: &str,
) -> sqlx::Result<Option<(String, UserId)>> {
    let row = sqlx::query!(
        r#"SELECT id, "userId" AS user_id FROM account
            WHERE "providerId" = $1 AND "accountId" = $2
            ORDER BY "createdAt" LIMIT 1"#,
        provider_id,
        account_id
    )
    .fetch_optional(conn)
    .await?;
    Ok(row.map(|r| (r.id, UserId::new(r.user_id))))
}

/// Links `user_id` to the provider's `account_id`, with the tokens as Better Auth stores them
/// (unencrypted unless Better Auth's `encryptOAuthTokens` is on, which Chatkeep does not use).
pub async fn insert_provider_account(
    conn: &mut PgConnection,
    user_id: &UserId,
    provider_id: &str,
    account_id: &str,
    tokens: &ProviderTokens<'_>,
) -> sqlx::Result<()> {
    let now = now();
    sqlx::query!(
        r#"INSERT INTO account (id, "accountId", "providerId", "userId", "accessToken",
                                "refreshToken", "idToken", "accessTokenExpiresAt",
                                "refreshTokenExpiresAt", scope, "createdAt", "updatedAt")
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11)"#,
        generate_id(),
        account_id,
        provider_id,
        user_id.as_str(),
        tokens.access_token,
        tokens.refresh_token,
        tokens.id_token,
        tokens.access_token_expires_at,
        tokens.refresh_token_expires_at,
        tokens.scope,
        now
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// A later sign-in's fresh tokens; what the provider did not send again is kept.
pub async fn refresh_provider_tokens(
    conn: &mut PgConnection,
    id: &str,
    tokens: &ProviderTokens<'_>,
) -> sqlx::Result<()> {
    sqlx::query!(
        r#"UPDATE account SET
               "accessToken" = coalesce($2, "accessToken"),
               "refreshToken" = coalesce($3, "refreshToken"),
               "idToken" = coalesce($4, "idToken"),
               "accessTokenExpiresAt" = coalesce($5, "accessTokenExpiresAt"),
               "refreshTokenExpiresAt" = coalesce($6, "refreshTokenExpiresAt"),
               "updatedAt" = $7
            WHERE id = $1"#,
        id,
        tokens.access_token,
        tokens.refresh_token,
        tokens.id_token,
        tokens.access_token_expires_at,
        tokens.refresh_token_expires_at,
        now()
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Every account of the user (password and providers), oldest first.
pub async fn accounts_of(
    conn: &mut PgConnection,
    user_id: &UserId,
) -> sqlx::Result<Vec<LinkedAccount>> {
    let rows = sqlx::query!(
        r#"SELECT id, "accountId" AS account_id, "providerId" AS provider_id,
                  "userId" AS user_id, scope, "createdAt" AS created_at,
                  "updatedAt" AS updated_at
             FROM account WHERE "userId" = $1 ORDER BY "createdAt", id"#,
        user_id.as_str()
    )
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| LinkedAccount {
            id: r.id,
            account_id: r.account_id,
            provider_id: r.provider_id,
            user_id: UserId::new(r.user_id),
            scope: r.scope,
            created_at: r.created_at,
            updated_at: r.updated_at,
        })
        .collect())
}

/// Deletes the user's account row `id`; `false` when they have none by that id.
pub async fn delete_account(
    conn: &mut PgConnection,
    user_id: &UserId,
    id: &str,
) -> sqlx::Result<bool> {
    let deleted = sqlx::query!(
        r#"DELETE FROM account WHERE id = $1 AND "userId" = $2"#,
        id,
        user_id.as_str()
    )
    .execute(conn)
    .await?;
    Ok(deleted.rows_affected() == 1)
}

/// Adds `scopes` to the account row's stored ones (comma-joined), keeping their order.
pub async fn merge_provider_scopes(
    conn: &mut PgConnection,
    id: &str,
    scopes: &[String],
) -> sqlx::Result<()> {
    let stored = sqlx::query_scalar!(r#"SELECT scope FROM account WHERE id = $1"#, id)
        .fetch_optional(&mut *conn)
        .await?
        .flatten()
        .unwrap_or_default();
    let mut merged: Vec<&str> = stored.split(',').filter(|s| !s.is_empty()).collect();
    for scope in scopes {
        if !merged.contains(&scope.as_str()) {
            merged.push(scope);
        }
    }
    sqlx::query!(
        r#"UPDATE account SET scope = $2 WHERE id = $1"#,
        id,
        merged.join(",")
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Holds the user's row until the transaction ends, so two changes to their accounts (two
/// unlinks at once) cannot both see an account the other is removing.
pub async fn lock_user(conn: &mut PgConnection, user_id: &UserId) -> sqlx::Result<()> {
    sqlx::query!(
        r#"SELECT id FROM "user" WHERE id = $1 FOR UPDATE"#,
        user_id.as_str()
    )
    .fetch_optional(conn)
    .await?;
    Ok(())
}
