//! `USER_MAX_STORED_BYTES`: how much message text one account may hold, so that one account
//! cannot fill the disk (by importing the same large file under new keys, say). Off (no limit)
//! by default; when set, new questions, regenerated answers and imports are checked.

use shared::UserId;
use sqlx::PgConnection;

use crate::error::ApiError;

/// Bytes of messages the user holds: their text, quoted selections, sources and errors (what
/// a person or an import can make large).
pub async fn stored_bytes(conn: &mut PgConnection, user_id: &UserId) -> sqlx::Result<i64> {
    sqlx::query_scalar!(
        r#"SELECT coalesce(sum(octet_length(content)
                               + coalesce(octet_length(selected_text), 0)
                               + coalesce(octet_length(error), 0)
                               + CASE WHEN jsonb_array_length(sources) > 0
                                      THEN octet_length(sources::text) ELSE 0 END), 0)::int8
                  AS "bytes!"
             FROM message
            WHERE user_id = $1"#,
        user_id.as_str()
    )
    .fetch_one(conn)
    .await
}

/// Whether `adding` more bytes fit: `413 STORAGE_FULL` when the account holds the limit already
/// or would pass it.
pub fn check(limit: i64, used: i64, adding: i64) -> Result<(), ApiError> {
    if used >= limit || used.saturating_add(adding) > limit {
        crate::metrics::rejected(crate::metrics::Limit::Storage);
        return Err(ApiError::TooLarge {
            code: "STORAGE_FULL",
            message: full_message(limit, used),
        });
    }
    Ok(())
}

/// What a person is told when their account is full.
pub fn full_message(limit: i64, used: i64) -> String {
    format!(
        "Your account holds {used} bytes of messages, and this server keeps at most {limit} per \
         account (USER_MAX_STORED_BYTES). Delete conversations you no longer need to make room."
    )
}

/// Checks `adding` bytes against the limit, when there is one, reading what the user holds.
pub async fn ensure_room(
    conn: &mut PgConnection,
    user_id: &UserId,
    limit: Option<i64>,
    adding: usize,
) -> Result<(), ApiError> {
    let Some(limit) = limit else {
        return Ok(());
    };
    let used = stored_bytes(conn, user_id).await?;
    check(limit, used, adding as i64)
}

#[cfg(test)]
mod tests {
    use super::check;

    #[test]
    fn room_is_what_is_left_under_the_limit() {
        assert!(check(100, 0, 100).is_ok());
        assert!(check(100, 50, 51).is_err());
        assert!(check(100, 99, 0).is_ok());
        assert!(check(100, 100, 0).is_err());
    }
}
