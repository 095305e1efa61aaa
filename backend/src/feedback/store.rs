//! Feedback queries, in the handler's row-level-security transaction.

use chrono::{DateTime, Utc};
use shared::feedback::{Feedback, Rating};
use shared::messages::Role;
use shared::{ConversationId, MessageId, UserId};
use sqlx::PgConnection;

use crate::columns::{iso_micros, parse_rating, parse_role};

/// Feedback as stored; `message_feedback_rating_check` keeps `rating` to the enum's values.
#[derive(Debug, Clone)]
pub struct FeedbackRow {
    pub rating: Rating,
    pub reason: Option<String>,
    pub updated_at: DateTime<Utc>,
}

impl From<&FeedbackRow> for Feedback {
    fn from(f: &FeedbackRow) -> Self {
        Self {
            rating: f.rating,
            reason: f.reason.clone(),
            updated_at: iso_micros(f.updated_at),
        }
    }
}

/// What feedback needs to know about the message it is given on.
pub struct Target {
    pub conversation_id: ConversationId,
    pub role: Role,
    pub streaming: bool,
}

pub async fn target(
    conn: &mut PgConnection,
    user_id: &UserId,
    message_id: MessageId,
) -> sqlx::Result<Option<Target>> {
    let row = sqlx::query!(
        "SELECT conversation_id, role, status FROM message WHERE id = $1 AND user_id = $2",
        message_id.as_uuid(),
        user_id.as_str()
    )
    .fetch_optional(conn)
    .await?;
    Ok(row.map(|r| Target {
        conversation_id: ConversationId::new(r.conversation_id),
        role: parse_role(&r.role),
        streaming: r.status == "streaming",
    }))
}

/// Sets or replaces the feedback on a message of the user.
pub async fn set(
    conn: &mut PgConnection,
    user_id: &UserId,
    message_id: MessageId,
    conversation_id: ConversationId,
    rating: Rating,
    reason: Option<&str>,
) -> sqlx::Result<FeedbackRow> {
    let row = sqlx::query!(
        r#"INSERT INTO message_feedback (message_id, conversation_id, user_id, rating, reason)
           VALUES ($1, $2, $3, $4, $5)
           ON CONFLICT (message_id) DO UPDATE
              SET rating = excluded.rating, reason = excluded.reason, updated_at = now()
           RETURNING rating, reason, updated_at"#,
        message_id.as_uuid(),
        conversation_id.as_uuid(),
        user_id.as_str(),
        rating.as_str(),
        reason
    )
    .fetch_one(conn)
    .await?;
    Ok(FeedbackRow {
        rating: parse_rating(&row.rating),
        reason: row.reason,
        updated_at: row.updated_at,
    })
}

/// Clears the feedback on a message; `false` when it had none.
pub async fn clear(
    conn: &mut PgConnection,
    user_id: &UserId,
    message_id: MessageId,
) -> sqlx::Result<bool> {
    let done = sqlx::query!(
        "DELETE FROM message_feedback WHERE message_id = $1 AND user_id = $2",
        message_id.as_uuid(),
        user_id.as_str()
    )
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}
