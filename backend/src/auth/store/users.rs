//! The `"user"` table.

use chrono::{DateTime, Utc};
use shared::UserId;
use sqlx::PgConnection;

use super::{DEFAULT_ROLE, UserRecord, UserRow, generate_id, now};

pub async fn user_by_email(conn: &mut PgConnection, email: &str) -> sqlx::Result<Option<UserRow>> {
    query_users!("SELECT", r#"FROM "user" WHERE email = $1"#, email)
        .fetch_optional(conn)
        .await
        .map(|row| row.map(Into::into))
}

pub async fn user_by_id(conn: &mut PgConnection, id: &UserId) -> sqlx::Result<Option<UserRow>> {
    query_users!("SELECT", r#"FROM "user" WHERE id = $1"#, id.as_str())
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
    insert_user_with_role(conn, name, email, image, email_verified, None).await
}

/// [`insert_user`] with roles other than the default (an administrator's `create-user`).
pub async fn insert_user_with_role(
    conn: &mut PgConnection,
    name: &str,
    email: &str,
    image: Option<&str>,
    email_verified: bool,
    user_role: Option<&str>,
) -> sqlx::Result<Option<UserRow>> {
    let now = now();
    query_users!(
        r#"INSERT INTO "user" (id, name, email, "emailVerified", image, "createdAt", "updatedAt",
                              "isAnonymous", role, banned)
           VALUES ($1, $2, $3, $4, $5, $6, $6, false, $7, false)
           ON CONFLICT (email) DO NOTHING
           RETURNING"#,
        "",
        generate_id(),
        name,
        email,
        email_verified,
        image,
        now,
        user_role.unwrap_or(DEFAULT_ROLE)
    )
    .fetch_optional(conn)
    .await
    .map(|row| row.map(Into::into))
}

/// Inserts a user with a given id; `false` when the id or the email is taken.
pub async fn insert_user_with_id(conn: &mut PgConnection, user: &UserRow) -> sqlx::Result<bool> {
    let inserted = sqlx::query!(
        r#"INSERT INTO "user" (id, name, email, "emailVerified", image, "createdAt", "updatedAt",
                              "isAnonymous", role, banned)
           VALUES ($1, $2, $3, $4, $5, $6, $7, false, $8, false)
           ON CONFLICT DO NOTHING"#,
        user.id.as_str(),
        user.name,
        user.email,
        user.email_verified,
        user.image,
        user.created_at,
        user.updated_at,
        user.role.as_deref().unwrap_or(DEFAULT_ROLE)
    )
    .execute(conn)
    .await?;
    Ok(inserted.rows_affected() == 1)
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

/// The user's `banned` and `banExpires` (`None`: no such user).
pub async fn ban_of(
    conn: &mut PgConnection,
    user_id: &UserId,
) -> sqlx::Result<Option<(bool, Option<DateTime<Utc>>)>> {
    let row = sqlx::query!(
        r#"SELECT coalesce(banned, false) AS "banned!", "banExpires" AS ban_expires
             FROM "user" WHERE id = $1"#,
        user_id.as_str()
    )
    .fetch_optional(conn)
    .await?;
    Ok(row.map(|r| (r.banned, r.ban_expires)))
}
