//! The `verification` table, as Better Auth keeps password-reset tokens in it: identifier
//! `reset-password:<token>`, value the user's id, an expiry.

use chrono::{DateTime, Utc};
use shared::UserId;
use sqlx::PgConnection;

use super::{generate_id, now};

/// The identifier Better Auth gives a reset token's row.
pub fn reset_identifier(token: &str) -> String {
    format!("reset-password:{token}")
}

pub async fn insert_verification(
    conn: &mut PgConnection,
    identifier: &str,
    value: &str,
    expires_at: DateTime<Utc>,
) -> sqlx::Result<()> {
    let now = now();
    sqlx::query!(
        r#"INSERT INTO verification (id, identifier, value, "expiresAt", "createdAt", "updatedAt")
           VALUES ($1, $2, $3, $4, $5, $5)"#,
        generate_id(),
        identifier,
        value,
        expires_at,
        now
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// The value of a live row (`None` when there is none, or it has expired).
pub async fn live_verification(
    conn: &mut PgConnection,
    identifier: &str,
) -> sqlx::Result<Option<String>> {
    sqlx::query_scalar!(
        r#"SELECT value FROM verification
            WHERE identifier = $1 AND "expiresAt" > $2
            ORDER BY "createdAt" DESC LIMIT 1"#,
        identifier,
        now()
    )
    .fetch_optional(conn)
    .await
}

/// The value of a row, live or expired (the caller reads its own expiry).
pub async fn verification_value(
    conn: &mut PgConnection,
    identifier: &str,
) -> sqlx::Result<Option<String>> {
    sqlx::query_scalar!(
        r#"SELECT value FROM verification WHERE identifier = $1
            ORDER BY "createdAt" DESC LIMIT 1"#,
        identifier
    )
    .fetch_optional(conn)
    .await
}

/// Deletes a live row and says whose it was: a token used once (a second use finds nothing).
pub async fn consume_verification(
    conn: &mut PgConnection,
    identifier: &str,
) -> sqlx::Result<Option<String>> {
    sqlx::query_scalar!(
        r#"DELETE FROM verification
            WHERE identifier = $1 AND "expiresAt" > $2
        RETURNING value"#,
        identifier,
        now()
    )
    .fetch_optional(conn)
    .await
}

/// Forgets rows that have expired (Better Auth sweeps them the same way).
pub async fn delete_expired_verifications(conn: &mut PgConnection) -> sqlx::Result<u64> {
    Ok(
        sqlx::query!(r#"DELETE FROM verification WHERE "expiresAt" <= $1"#, now())
            .execute(conn)
            .await?
            .rows_affected(),
    )
}

/// Marks `user_id`'s address verified, or not.
pub async fn set_email_verified(
    conn: &mut PgConnection,
    user_id: &UserId,
    verified: bool,
) -> sqlx::Result<()> {
    sqlx::query!(
        r#"UPDATE "user" SET "emailVerified" = $2, "updatedAt" = $3 WHERE id = $1"#,
        user_id.as_str(),
        verified,
        now()
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Changes `user_id`'s address; `false` when another account holds it already.
pub async fn set_email(
    conn: &mut PgConnection,
    user_id: &UserId,
    email: &str,
) -> sqlx::Result<bool> {
    let changed = sqlx::query!(
        r#"UPDATE "user" SET email = $2, "updatedAt" = $3
            WHERE id = $1 AND NOT EXISTS (SELECT 1 FROM "user" WHERE email = $2)"#,
        user_id.as_str(),
        email,
        now()
    )
    .execute(conn)
    .await;
    match changed {
        Ok(done) => Ok(done.rows_affected() == 1),
        Err(sqlx::Error::Database(e)) if e.constraint() == Some("user_email_key") => Ok(false),
        Err(e) => Err(e),
    }
}
