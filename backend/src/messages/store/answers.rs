//! Saving an answer as it is written: progress, the final state, a stop request, and the sweep
//! that marks answers a crashed server abandoned.

use serde_json::Value;
use shared::messages::{MessageStatus, Source, Usage};
use shared::{ConversationId, MessageId, UserId};
use sqlx::PgConnection;

use super::{MessageRow, Row, get};

/// Saves the answer so far; `false` when it was stopped (by a request, maybe on another
/// instance). The writing task owns the row: an `error` set by the abandoned-answer sweep (which
/// cannot tell a live answer from a crashed one) is overruled.
pub async fn save_progress(
    conn: &mut PgConnection,
    user_id: &UserId,
    id: MessageId,
    content: &str,
    sources: &[Source],
) -> sqlx::Result<bool> {
    let done = sqlx::query!(
        "UPDATE message SET content = $3, sources = $4, status = 'streaming', error = NULL,
                            updated_at = now()
          WHERE id = $1 AND user_id = $2 AND status IN ('streaming', 'error')",
        id.as_uuid(),
        user_id.as_str(),
        content,
        serde_json::to_value(sources).unwrap_or(Value::Array(vec![]))
    )
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub struct Outcome<'a> {
    pub status: MessageStatus,
    pub content: &'a str,
    pub sources: &'a [Source],
    pub finish_reason: Option<&'a str>,
    pub usage: Option<&'a Usage>,
    pub error: Option<&'a str>,
}

/// Writes the answer's final state. A `stopped` request made elsewhere wins over `complete`
/// and `error`, but the text generated so far is always kept; an `error` from the abandoned-
/// answer sweep is overruled by the task that was in fact still writing.
pub async fn finish(
    conn: &mut PgConnection,
    user_id: &UserId,
    id: MessageId,
    outcome: &Outcome<'_>,
) -> sqlx::Result<Option<MessageRow>> {
    query_message_rows!(
        r#"WITH m AS (
               UPDATE message
                  SET content = $3,
                      sources = $4,
                      status = CASE WHEN status = 'stopped' THEN 'stopped' ELSE $5 END,
                      finish_reason = CASE WHEN status = 'stopped' THEN 'stopped' ELSE $6 END,
                      usage = $7,
                      error = CASE WHEN status = 'stopped' THEN NULL ELSE $8 END,
                      updated_at = now()
                WHERE id = $1 AND user_id = $2 AND status IN ('streaming', 'stopped', 'error')
               RETURNING *
           )
           SELECT"#,
        "FROM m LEFT JOIN message_feedback f ON f.message_id = m.id",
        id.as_uuid(),
        user_id.as_str(),
        outcome.content,
        serde_json::to_value(outcome.sources).unwrap_or(Value::Array(vec![])),
        outcome.status.as_str(),
        outcome.finish_reason,
        outcome.usage.and_then(|u| serde_json::to_value(u).ok()),
        outcome.error
    )
    .fetch_optional(conn)
    .await
    .map(|row| row.map(MessageRow::from))
}

/// Marks a streaming answer stopped (the generating task, wherever it runs, notices on its
/// next save and keeps its text). Returns the row either way.
pub async fn request_stop(
    conn: &mut PgConnection,
    user_id: &UserId,
    conversation_id: ConversationId,
    id: MessageId,
) -> sqlx::Result<Option<MessageRow>> {
    sqlx::query!(
        "UPDATE message SET status = 'stopped', finish_reason = 'stopped', updated_at = now()
          WHERE id = $1 AND conversation_id = $2 AND user_id = $3 AND status = 'streaming'",
        id.as_uuid(),
        conversation_id.as_uuid(),
        user_id.as_str()
    )
    .execute(&mut *conn)
    .await?;
    get(conn, user_id, conversation_id, id).await
}

/// How many answers `user_id` has being written now, on any instance (answers saved within the
/// abandonment window). The count is taken under a per-user lock held to the end of the
/// transaction, so two instances admitting the same user at once cannot both pass a cap: the
/// second waits for the first's answer row, then counts it.
pub async fn lock_and_count_streams(
    conn: &mut PgConnection,
    user_id: &UserId,
) -> sqlx::Result<i64> {
    // Two statements: under READ COMMITTED the count's snapshot must be taken after the lock.
    sqlx::query!(
        "SELECT pg_advisory_xact_lock(hashtextextended('chatkeep.streams.' || $1, 0))",
        user_id.as_str()
    )
    .execute(&mut *conn)
    .await?;
    sqlx::query_scalar!(
        r#"SELECT count(*) AS "streams!" FROM message
            WHERE user_id = $1 AND status = 'streaming'
              AND updated_at > now() - interval '90 seconds'"#,
        user_id.as_str()
    )
    .fetch_one(conn)
    .await
}

/// Answers a crashed process left `streaming` (no save for 90 s, while a live answer saves at
/// least every 10 s) become `error`, so nothing looks in progress forever. Run whenever a
/// conversation's messages are read or asked into.
/// How long an answer may go without a write before it counts as abandoned (its writer died);
/// `expire_abandoned`'s SQL says the same.
pub const ABANDONED_AFTER_SECS: i64 = 90;

/// Whether `row` is an answer whose writer has stopped writing without finishing it.
pub fn is_abandoned(row: &MessageRow) -> bool {
    row.is_streaming()
        && row.updated_at < chrono::Utc::now() - chrono::Duration::seconds(ABANDONED_AFTER_SECS)
}

pub async fn expire_abandoned(
    conn: &mut PgConnection,
    user_id: &UserId,
    conversation_id: ConversationId,
) -> sqlx::Result<u64> {
    let done = sqlx::query!(
        "UPDATE message
            SET status = 'error', error = 'The answer was interrupted (the server stopped while writing it).',
                updated_at = now()
          WHERE conversation_id = $1 AND user_id = $2 AND status = 'streaming'
            AND updated_at < now() - interval '90 seconds'",
        conversation_id.as_uuid(),
        user_id.as_str()
    )
    .execute(conn)
    .await?;
    Ok(done.rows_affected())
}

/// An answer as stored, from a position on: what a follower of the answer has not seen yet.
pub struct Progress {
    pub status: MessageStatus,
    /// The text's length in characters.
    pub chars: i64,
    /// The text after the follower's position.
    pub tail: String,
    /// Every source, when there are more than the follower has.
    pub sources: Option<Value>,
    pub source_count: i32,
    pub finish_reason: Option<String>,
    pub error: Option<String>,
    pub usage: Option<Value>,
}

/// The answer `id` past `after_chars` characters and `known_sources` sources; `None` when
/// there is no such answer in the conversation.
pub async fn progress(
    conn: &mut PgConnection,
    user_id: &UserId,
    conversation_id: ConversationId,
    id: MessageId,
    after_chars: i64,
    known_sources: i32,
) -> sqlx::Result<Option<Progress>> {
    let row = sqlx::query!(
        r#"SELECT status, char_length(content)::int8 AS "chars!",
                  substr(content, (least($4::int8, char_length(content)) + 1)::int4) AS "tail!",
                  CASE WHEN jsonb_array_length(sources) > $5 THEN sources END AS sources,
                  jsonb_array_length(sources) AS "source_count!",
                  finish_reason, error, usage
             FROM message
            WHERE id = $1 AND conversation_id = $2 AND user_id = $3 AND role = 'assistant'"#,
        id.as_uuid(),
        conversation_id.as_uuid(),
        user_id.as_str(),
        after_chars,
        known_sources
    )
    .fetch_optional(conn)
    .await?;
    Ok(row.map(|r| Progress {
        status: crate::columns::parse_status(&r.status),
        chars: r.chars,
        tail: r.tail,
        sources: r.sources,
        source_count: r.source_count,
        finish_reason: r.finish_reason,
        error: r.error,
        usage: r.usage,
    }))
}
