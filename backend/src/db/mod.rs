//! PostgreSQL: what every request uses (a transaction scoped to one user, ended as cheaply as
//! its work allows, and a retry past connections that died while idle), and [`startup`], which
//! makes the database ready and opens the pool.

use shared::UserId;
use sqlx::{AssertSqlSafe, PgConnection, PgPool};

mod startup;

pub use startup::{
    Database, DbStartupError, MIGRATOR, app_pool, connect_and_migrate, enable_app_login,
};

/// The role every application query runs as: it owns no table and cannot bypass row-level
/// security. Created by the migrations; the server logs in as it (or as a member of it).
pub const APP_ROLE: &str = "chatkeep_app";

/// A transaction in which row-level security admits exactly `user_id`'s rows: the handler
/// owns it, every store function runs inside it.
pub async fn begin_for_user(
    pool: &PgPool,
    user_id: &UserId,
) -> sqlx::Result<sqlx::Transaction<'static, sqlx::Postgres>> {
    begin_scoped(pool, "BEGIN", user_id).await
}

/// Ends a transaction that only read. For a read a rollback is as good as a commit, and sqlx
/// sends it without waiting: it goes out with the ping the pool sends as the connection comes
/// back, one round trip where `commit` and that ping are two. Never for a transaction that
/// wrote: its writes would be undone.
pub fn end_read(tx: sqlx::Transaction<'static, sqlx::Postgres>) {
    drop(tx);
}

/// Like [`begin_for_user`], in one consistent, read-only snapshot: what an export reads.
pub async fn begin_snapshot_for_user(
    pool: &PgPool,
    user_id: &UserId,
) -> sqlx::Result<sqlx::Transaction<'static, sqlx::Postgres>> {
    begin_scoped(
        pool,
        "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY",
        user_id,
    )
    .await
}

/// `begin` and the user's scope in one round trip: the transaction's queries run as
/// [`APP_ROLE`] (`set_config('role', .., true)` is `SET LOCAL ROLE`) for `user_id` alone.
///
/// The two go in one simple-protocol message, which takes no parameters, so the id is written
/// as a literal ([`quote_literal`]). A connection that died while idle fails here before
/// anything has run on it, so this is tried again on another connection.
async fn begin_scoped(
    pool: &PgPool,
    begin: &str,
    user_id: &UserId,
) -> sqlx::Result<sqlx::Transaction<'static, sqlx::Postgres>> {
    let statement = format!(
        "{begin}; SELECT set_config('role', '{APP_ROLE}', true), set_config('app.user_id', {}, true)",
        quote_literal(user_id.as_str()).ok_or_else(|| {
            sqlx::Error::Protocol("a user id with a NUL character cannot be a setting".into())
        })?
    );
    let mut attempts = attempts(pool);
    let _waiting = crate::metrics::Waiting::start();
    loop {
        match pool.begin_with(AssertSqlSafe(statement.clone())).await {
            Err(e) if is_connection_lost(&e) && attempts > 1 => {
                attempts -= 1;
                tracing::debug!(
                    error = crate::telemetry::chain(&e),
                    "retrying BEGIN on another connection"
                );
            }
            result => return result,
        }
    }
}

/// How many connections a first statement may be tried on: after a restart every idle
/// connection in the pool is dead, and each is found so only by using it.
fn attempts(pool: &PgPool) -> u32 {
    pool.options().get_max_connections() + 1
}

/// Runs `op` (one statement, or statements safe to run again) on a pooled connection, moving to
/// the next connection while the one it got turns out to have died while idle.
pub async fn on_live_connection<T>(
    pool: &PgPool,
    op: impl AsyncFn(&mut PgConnection) -> sqlx::Result<T>,
) -> sqlx::Result<T> {
    let mut attempts = attempts(pool);
    loop {
        let waiting = crate::metrics::Waiting::start();
        let mut conn = pool.acquire().await?;
        drop(waiting);
        match op(&mut conn).await {
            Err(e) if is_connection_lost(&e) && attempts > 1 => attempts -= 1,
            result => return result,
        }
    }
}

/// Whether `e` means the database is away (down, restarting, unreachable, or every connection
/// busy past the pool's wait) rather than a statement failing: a 503 `DATABASE_UNAVAILABLE`, to
/// retry, not a 500.
pub fn is_unavailable(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed) || is_connection_lost(e)
}

/// Whether the connection itself failed (as opposed to PostgreSQL refusing a statement): with
/// no ping before checkout, what a connection that died while idle says on its first use.
fn is_connection_lost(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Io(_) | sqlx::Error::Protocol(_) => true,
        // The server ended the session: a shutdown or restart (57P01-57P03), or a connection
        // exception (class 08), as told on the connection before it closes.
        sqlx::Error::Database(db) => db
            .code()
            .is_some_and(|code| code.starts_with("57P0") || code.starts_with("08")),
        _ => false,
    }
}

/// A PostgreSQL string literal for `text` that means `text` whatever
/// `standard_conforming_strings` says: an escape string (`E'...'`) with `\` and `'` doubled.
/// None for text with a NUL character, which no PostgreSQL string can hold.
pub fn quote_literal(text: &str) -> Option<String> {
    if text.contains('\0') {
        return None;
    }
    let mut out = String::with_capacity(text.len() + 3);
    out.push_str("E'");
    for c in text.chars() {
        if c == '\'' || c == '\\' {
            out.push(c);
        }
        out.push(c);
    }
    out.push('\'');
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::quote_literal;

    #[test]
    fn literals_double_quotes_and_backslashes_inside_an_escape_string() {
        assert_eq!(quote_literal("plain").as_deref(), Some("E'plain'"));
        assert_eq!(quote_literal("a'b").as_deref(), Some("E'a''b'"));
        assert_eq!(quote_literal(r"a\b").as_deref(), Some(r"E'a\\b'"));
        assert_eq!(quote_literal(r"\'").as_deref(), Some(r"E'\\'''"));
        assert_eq!(quote_literal("a\0b"), None);
    }
}
