//! The `account` table: the credential (password) account, and links to external issuers.

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
