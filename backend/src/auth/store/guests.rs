//! Guests: Better Auth's anonymous users, and what happens to them.

use shared::UserId;
use sqlx::PgConnection;

use super::{UserRecord, UserRow, generate_id, now};

/// A new guest as Better Auth's anonymous plugin makes one: named "Anonymous", a placeholder
/// address no mail can reach (`<32 characters>@anonymous.placeholder.invalid`, RFC 6761's
/// reserved `.invalid`), unverified, `isAnonymous`. No `account` row: a guest has no way in
/// but their session.
pub async fn insert_guest(conn: &mut PgConnection) -> sqlx::Result<UserRow> {
    let now = now();
    let email = format!(
        "{}@anonymous.placeholder.invalid",
        generate_id().to_lowercase()
    );
    query_users!(
        r#"INSERT INTO "user" (id, name, email, "emailVerified", image, "createdAt", "updatedAt",
                              "isAnonymous", role, banned)
           VALUES ($1, 'Anonymous', $2, false, NULL, $3, $3, true, 'user', false)
           RETURNING"#,
        "",
        generate_id(),
        email,
        now
    )
    .fetch_one(conn)
    .await
    .map(Into::into)
}

/// Moves `guest`'s conversations (their messages and feedback follow through their foreign
/// keys) to the transaction's user, then deletes the guest with their sessions. Runs in a
/// transaction scoped to the account that adopts them ([`crate::db::begin_for_user`]); the
/// `conversation_adopt` policy admits the guest's rows for this one update. Returns how many
/// conversations moved; nothing happens unless `guest` is a guest.
pub async fn adopt_guest(conn: &mut PgConnection, guest: &UserId) -> sqlx::Result<u64> {
    let is_guest = sqlx::query_scalar!(
        r#"SELECT coalesce("isAnonymous", false) AS "guest!" FROM "user" WHERE id = $1 FOR UPDATE"#,
        guest.as_str()
    )
    .fetch_optional(&mut *conn)
    .await?;
    if is_guest != Some(true) {
        return Ok(0);
    }
    sqlx::query!(
        "SELECT set_config('app.adopt_from', $1, true)",
        guest.as_str()
    )
    .fetch_one(&mut *conn)
    .await?;
    let moved = sqlx::query!(
        "UPDATE conversation SET user_id = current_setting('app.user_id', true) WHERE user_id = $1",
        guest.as_str()
    )
    .execute(&mut *conn)
    .await?
    .rows_affected();
    sqlx::query!("SELECT set_config('app.adopt_from', '', true)")
        .fetch_one(&mut *conn)
        .await?;
    sqlx::query!(
        r#"DELETE FROM "user" WHERE id = $1 AND "isAnonymous""#,
        guest.as_str()
    )
    .execute(conn)
    .await?;
    Ok(moved)
}

/// Deletes `guest` (sessions and chats with them): `false` when it is not a guest.
pub async fn delete_guest(conn: &mut PgConnection, guest: &UserId) -> sqlx::Result<bool> {
    let deleted = sqlx::query!(
        r#"DELETE FROM "user" WHERE id = $1 AND "isAnonymous""#,
        guest.as_str()
    )
    .execute(conn)
    .await?;
    Ok(deleted.rows_affected() == 1)
}

/// Deletes guests who started more than `days` ago and never signed up, with their chats.
pub async fn delete_expired_guests(conn: &mut PgConnection, days: u32) -> sqlx::Result<u64> {
    let deleted = sqlx::query!(
        r#"DELETE FROM "user"
            WHERE "isAnonymous" AND "createdAt" < now() - make_interval(days => $1)"#,
        i32::try_from(days).unwrap_or(i32::MAX)
    )
    .execute(conn)
    .await?;
    Ok(deleted.rows_affected())
}

/// Whether `user` is a guest.
pub async fn is_guest(conn: &mut PgConnection, user: &UserId) -> sqlx::Result<bool> {
    let guest = sqlx::query_scalar!(
        r#"SELECT coalesce("isAnonymous", false) AS "guest!" FROM "user" WHERE id = $1"#,
        user.as_str()
    )
    .fetch_optional(conn)
    .await?;
    Ok(guest == Some(true))
}
