//! Message queries: pages, the exchange of a question and its answers, and the branch the agent
//! reads; the answer's saves are [`answers`]. Every one carries the user id, inside the
//! handler's row-level-security transaction.

/// `sqlx::query_as!(Row, ..)` over the one list of a message's columns and its feedback: the
/// query is `$before`, the list, then `$after`, which names the message `m` and left-joins its
/// feedback as `f`. Checked against the database like any `query_as!`; the `!` overrides keep the
/// `NOT NULL` columns non-null where a common table expression hides where they came from.
macro_rules! query_message_rows {
    ($before:tt, $after:tt $(, $arg:expr)* $(,)?) => {
        sqlx::query_as!(
            Row,
            $before
                + r#" m.id AS "id!", m.conversation_id AS "conversation_id!", m.parent_id,
                      m.role AS "role!", m.content AS "content!", m.selected_text,
                      m.sources AS "sources!", m.status AS "status!", m.finish_reason, m.error,
                      m.usage, m.client_id, m.created_at AS "created_at!",
                      m.updated_at AS "updated_at!", f.rating AS "feedback_rating?",
                      f.reason AS "feedback_reason?", f.updated_at AS "feedback_at?"
                   "#
                + $after
            $(, $arg)*
        )
    };
}

mod answers;

pub use answers::*;

use chrono::{DateTime, Utc};
use serde_json::Value;
use shared::feedback::Feedback;
use shared::messages::{Message, MessageStatus, Role};
use shared::{ConversationId, MessageId, UserId};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::columns::iso_micros;
use crate::columns::{parse_rating, parse_role, parse_status};
use crate::cursor::Cursor;
use crate::feedback::store::FeedbackRow;

/// A message as stored, its `role` and `status` parsed once, here.
#[derive(Debug, Clone)]
pub struct MessageRow {
    pub id: MessageId,
    pub conversation_id: ConversationId,
    pub parent_id: Option<MessageId>,
    pub role: Role,
    pub content: String,
    pub selected_text: Option<String>,
    pub sources: Value,
    pub status: MessageStatus,
    pub finish_reason: Option<String>,
    pub error: Option<String>,
    pub usage: Option<Value>,
    pub client_id: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub feedback: Option<FeedbackRow>,
}

impl MessageRow {
    pub fn is_streaming(&self) -> bool {
        self.status == MessageStatus::Streaming
    }
}

/// The columns as PostgreSQL returns them; `message_role_check` and `message_status_check` keep
/// `role` and `status` to the enums' values.
pub struct Row {
    id: Uuid,
    conversation_id: Uuid,
    parent_id: Option<Uuid>,
    role: String,
    content: String,
    selected_text: Option<String>,
    sources: Value,
    status: String,
    finish_reason: Option<String>,
    error: Option<String>,
    usage: Option<Value>,
    client_id: Option<String>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    feedback_rating: Option<String>,
    feedback_reason: Option<String>,
    feedback_at: Option<DateTime<Utc>>,
}

impl From<Row> for MessageRow {
    fn from(r: Row) -> Self {
        Self {
            id: MessageId::new(r.id),
            conversation_id: ConversationId::new(r.conversation_id),
            parent_id: r.parent_id.map(MessageId::new),
            role: parse_role(&r.role),
            content: r.content,
            selected_text: r.selected_text,
            sources: r.sources,
            status: parse_status(&r.status),
            finish_reason: r.finish_reason,
            error: r.error,
            usage: r.usage,
            client_id: r.client_id,
            created_at: r.created_at,
            updated_at: r.updated_at,
            feedback: r
                .feedback_rating
                .zip(r.feedback_at)
                .map(|(rating, updated_at)| FeedbackRow {
                    rating: parse_rating(&rating),
                    reason: r.feedback_reason,
                    updated_at,
                }),
        }
    }
}

impl From<&MessageRow> for Message {
    fn from(m: &MessageRow) -> Self {
        Self {
            id: m.id,
            conversation_id: m.conversation_id,
            parent_id: m.parent_id,
            role: m.role,
            content: m.content.clone(),
            selected_text: m.selected_text.clone(),
            sources: serde_json::from_value(m.sources.clone()).unwrap_or_default(),
            status: m.status,
            finish_reason: m.finish_reason.clone(),
            error: m.error.clone(),
            usage: m.usage.clone().and_then(|u| serde_json::from_value(u).ok()),
            client_id: m.client_id.clone(),
            created_at: iso_micros(m.created_at),
            updated_at: iso_micros(m.updated_at),
            feedback: m.feedback.as_ref().map(Feedback::from),
        }
    }
}

/// A page of a conversation's messages, newest first (the caller reverses it for display).
pub async fn list(
    conn: &mut PgConnection,
    user_id: &UserId,
    conversation_id: ConversationId,
    before: Option<Cursor>,
    limit: i64,
) -> sqlx::Result<Vec<MessageRow>> {
    let (before_at, before_id) = before.map_or((None, None), |c| (Some(c.at), Some(c.id)));
    query_message_rows!(
        "SELECT",
        r#"FROM message m LEFT JOIN message_feedback f ON f.message_id = m.id
            WHERE m.conversation_id = $1 AND m.user_id = $2
              AND ($3::timestamptz IS NULL OR (m.created_at, m.id) < ($3, $4::uuid))
            ORDER BY m.created_at DESC, m.id DESC
            LIMIT $5"#,
        conversation_id.as_uuid(),
        user_id.as_str(),
        before_at,
        before_id,
        limit
    )
    .fetch_all(conn)
    .await
    .map(|rows| rows.into_iter().map(MessageRow::from).collect())
}

/// The `limit` newest messages of the branch ending at `leaf` (following parents from it),
/// newest first like [`list`]. Empty when `leaf` is not the user's.
pub async fn branch_to(
    conn: &mut PgConnection,
    user_id: &UserId,
    leaf: MessageId,
    limit: i64,
) -> sqlx::Result<Vec<MessageRow>> {
    query_message_rows!(
        r#"WITH RECURSIVE branch AS (
               SELECT m.id, m.parent_id, 0 AS depth FROM message m WHERE m.id = $1 AND m.user_id = $2
               UNION ALL
               SELECT m.id, m.parent_id, b.depth + 1
                 FROM message m JOIN branch b ON m.id = b.parent_id
                WHERE m.user_id = $2 AND b.depth + 1 < $3
           )
           SELECT"#,
        r#"FROM branch b JOIN message m ON m.id = b.id
             LEFT JOIN message_feedback f ON f.message_id = m.id
            WHERE m.user_id = $2
            ORDER BY b.depth"#,
        leaf.as_uuid(),
        user_id.as_str(),
        limit as i32
    )
    .fetch_all(conn)
    .await
    .map(|rows| rows.into_iter().map(MessageRow::from).collect())
}

/// Every message of a conversation, every branch, oldest first, streamed as PostgreSQL sends
/// them (for exports: memory stays flat however long the conversation).
pub fn all_in_conversation<'c>(
    conn: &'c mut PgConnection,
    user_id: &'c UserId,
    conversation_id: ConversationId,
) -> impl futures_util::Stream<Item = sqlx::Result<Row>> + 'c {
    query_message_rows!(
        "SELECT",
        r#"FROM message m LEFT JOIN message_feedback f ON f.message_id = m.id
            WHERE m.conversation_id = $1 AND m.user_id = $2
            ORDER BY m.created_at, m.id"#,
        conversation_id.as_uuid(),
        user_id.as_str()
    )
    .fetch(conn)
}

pub async fn get(
    conn: &mut PgConnection,
    user_id: &UserId,
    conversation_id: ConversationId,
    id: MessageId,
) -> sqlx::Result<Option<MessageRow>> {
    query_message_rows!(
        "SELECT",
        r#"FROM message m LEFT JOIN message_feedback f ON f.message_id = m.id
            WHERE m.id = $1 AND m.conversation_id = $2 AND m.user_id = $3"#,
        id.as_uuid(),
        conversation_id.as_uuid(),
        user_id.as_str()
    )
    .fetch_optional(conn)
    .await
    .map(|row| row.map(MessageRow::from))
}

/// The conversation's most recent message: where a new question attaches by default.
pub async fn latest_id(
    conn: &mut PgConnection,
    user_id: &UserId,
    conversation_id: ConversationId,
) -> sqlx::Result<Option<MessageId>> {
    sqlx::query_scalar!(
        "SELECT id FROM message WHERE conversation_id = $1 AND user_id = $2
          ORDER BY created_at DESC, id DESC LIMIT 1",
        conversation_id.as_uuid(),
        user_id.as_str()
    )
    .fetch_optional(conn)
    .await
    .map(|id| id.map(MessageId::new))
}

pub struct NewQuestion<'a> {
    pub content: &'a str,
    pub selected_text: Option<&'a str>,
    pub parent_id: Option<MessageId>,
    pub client_id: Option<&'a str>,
}

#[derive(Debug, thiserror::Error)]
pub enum InsertError {
    #[error("the client id is already used in this conversation")]
    ClientIdTaken,
    #[error("the parent is not a message of this conversation")]
    NoSuchParent,
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

impl From<InsertError> for crate::error::ApiError {
    /// Where the handler has ruled the domain cases out, what is left is a store error.
    fn from(e: InsertError) -> Self {
        match e {
            InsertError::Db(e) => e.into(),
            other => Self::Internal(anyhow::Error::new(other)),
        }
    }
}

/// Database constraints become domain errors by name.
fn classify(e: sqlx::Error) -> InsertError {
    if let sqlx::Error::Database(db) = &e {
        match db.constraint() {
            Some("message_client_id_key") => return InsertError::ClientIdTaken,
            Some("message_parent_fkey") => return InsertError::NoSuchParent,
            _ => {}
        }
    }
    InsertError::Db(e)
}

pub async fn insert_question(
    conn: &mut PgConnection,
    user_id: &UserId,
    conversation_id: ConversationId,
    question: &NewQuestion<'_>,
) -> Result<MessageRow, InsertError> {
    query_message_rows!(
        r#"WITH m AS (
               INSERT INTO message (id, conversation_id, user_id, parent_id, role, content,
                                    selected_text, status, client_id, created_at, updated_at)
               VALUES ($1, $2, $3, $4, 'user', $5, $6, 'complete', $7, clock_timestamp(), clock_timestamp())
               RETURNING *
           )
           SELECT"#,
        "FROM m LEFT JOIN message_feedback f ON f.message_id = m.id",
        Uuid::now_v7(),
        conversation_id.as_uuid(),
        user_id.as_str(),
        question.parent_id.map(MessageId::as_uuid),
        question.content,
        question.selected_text,
        question.client_id
    )
    .fetch_one(conn)
    .await
    .map(MessageRow::from)
    .map_err(classify)
}

/// The empty answer the agent will fill, stored before the agent is called.
pub async fn insert_answer(
    conn: &mut PgConnection,
    user_id: &UserId,
    conversation_id: ConversationId,
    question_id: MessageId,
) -> Result<MessageRow, InsertError> {
    query_message_rows!(
        r#"WITH m AS (
               INSERT INTO message (id, conversation_id, user_id, parent_id, role, status, created_at, updated_at)
               VALUES ($1, $2, $3, $4, 'assistant', 'streaming', clock_timestamp(), clock_timestamp())
               RETURNING *
           )
           SELECT"#,
        "FROM m LEFT JOIN message_feedback f ON f.message_id = m.id",
        Uuid::now_v7(),
        conversation_id.as_uuid(),
        user_id.as_str(),
        question_id.as_uuid()
    )
    .fetch_one(conn)
    .await
    .map(MessageRow::from)
    .map_err(classify)
}

/// A question sent with `client_id`, and its latest answer.
pub async fn exchange_by_client_id(
    conn: &mut PgConnection,
    user_id: &UserId,
    conversation_id: ConversationId,
    client_id: &str,
) -> sqlx::Result<Option<(MessageRow, Option<MessageRow>)>> {
    let Some(question) = query_message_rows!(
        "SELECT",
        r#"FROM message m LEFT JOIN message_feedback f ON f.message_id = m.id
            WHERE m.conversation_id = $1 AND m.user_id = $2 AND m.client_id = $3"#,
        conversation_id.as_uuid(),
        user_id.as_str(),
        client_id
    )
    .fetch_optional(&mut *conn)
    .await?
    .map(MessageRow::from) else {
        return Ok(None);
    };
    let answer = latest_answer(conn, user_id, conversation_id, question.id).await?;
    Ok(Some((question, answer)))
}

pub async fn latest_answer(
    conn: &mut PgConnection,
    user_id: &UserId,
    conversation_id: ConversationId,
    question_id: MessageId,
) -> sqlx::Result<Option<MessageRow>> {
    // The conversation filter lets the (conversation, created_at) index serve this.
    query_message_rows!(
        "SELECT",
        r#"FROM message m LEFT JOIN message_feedback f ON f.message_id = m.id
            WHERE m.conversation_id = $1 AND m.parent_id = $2 AND m.user_id = $3
              AND m.role = 'assistant'
            ORDER BY m.created_at DESC, m.id DESC LIMIT 1"#,
        conversation_id.as_uuid(),
        question_id.as_uuid(),
        user_id.as_str()
    )
    .fetch_optional(conn)
    .await
    .map(|row| row.map(MessageRow::from))
}

/// Up to `limit` messages before `question_id` on its branch (following parents), oldest
/// first: the context the agent gets.
pub async fn history(
    conn: &mut PgConnection,
    user_id: &UserId,
    question_id: MessageId,
    limit: i64,
) -> sqlx::Result<Vec<(Role, String)>> {
    let rows = sqlx::query!(
        r#"WITH RECURSIVE branch AS (
               SELECT m.parent_id, 0 AS depth FROM message m WHERE m.id = $1 AND m.user_id = $2
               UNION ALL
               SELECT m.parent_id, b.depth + 1
                 FROM message m JOIN branch b ON m.id = b.parent_id
                WHERE m.user_id = $2 AND b.depth < $3
           )
           SELECT m.role AS "role!", m.content AS "content!", b.depth AS "depth!"
             FROM branch b JOIN message m ON m.id = b.parent_id
            WHERE m.user_id = $2 AND m.content <> '' AND b.depth < $3
            ORDER BY b.depth DESC"#,
        question_id.as_uuid(),
        user_id.as_str(),
        limit as i32
    )
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| (parse_role(&r.role), r.content))
        .collect())
}
