//! The `session` table.

use chrono::{DateTime, Utc};
use shared::UserId;
use sqlx::PgConnection;

use super::{SessionRecord, SessionRow, UserRow, generate_id, now};

pub async fn insert_session(
    conn: &mut PgConnection,
    user_id: &UserId,
    expires_at: DateTime<Utc>,
    ip_address: &str,
    user_agent: &str,
) -> sqlx::Result<SessionRow> {
    let now = now();
    query_sessions!(
        r#"INSERT INTO session (id, token, "userId", "expiresAt", "createdAt", "updatedAt", "ipAddress", "userAgent")
           VALUES ($1, $2, $3, $4, $5, $5, $6, $7)
           RETURNING"#,
        "",
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
                  s."impersonatedBy" AS impersonated_by,
                  u.name, u.email, u."emailVerified" AS email_verified, u.image,
                  u."createdAt" AS u_created_at, u."updatedAt" AS u_updated_at,
                  coalesce(u."isAnonymous", false) AS "is_anonymous!",
                  u.role, u.banned, u."banReason" AS ban_reason, u."banExpires" AS ban_expires
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
                impersonated_by: r.impersonated_by,
            },
            UserRow {
                id: UserId::new(r.user_id),
                name: r.name,
                email: r.email,
                email_verified: r.email_verified,
                image: r.image,
                created_at: r.u_created_at,
                updated_at: r.u_updated_at,
                is_anonymous: r.is_anonymous,
                role: r.role,
                banned: r.banned,
                ban_reason: r.ban_reason,
                ban_expires: r.ban_expires,
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
    query_sessions!(
        r#"UPDATE session SET "expiresAt" = $2, "updatedAt" = $3 WHERE id = $1 RETURNING"#,
        "",
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
    query_sessions!(
        "SELECT",
        r#"FROM session
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
