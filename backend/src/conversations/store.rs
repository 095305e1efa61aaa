//! Conversation queries. Each takes the caller's user id and runs on the handler's
//! connection, inside the transaction where row-level security admits only that user's rows.

use chrono::{DateTime, Utc};
use shared::{ConversationId, MessageId, UserId};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::columns::iso_micros;
use crate::cursor::Cursor;

#[derive(Debug, Clone)]
pub struct ConversationRow {
    pub id: Uuid,
    pub title: Option<String>,
    pub pinned: bool,
    pub archived_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub last_message_at: DateTime<Utc>,
    pub active_message_id: Option<Uuid>,
}

impl From<&ConversationRow> for shared::conversations::Conversation {
    fn from(c: &ConversationRow) -> Self {
        Self {
            id: ConversationId::new(c.id),
            title: c.title.clone(),
            pinned: c.pinned,
            archived: c.archived_at.is_some(),
            archived_at: c.archived_at.map(iso_micros),
            created_at: iso_micros(c.created_at),
            updated_at: iso_micros(c.updated_at),
            last_message_at: iso_micros(c.last_message_at),
            active_message_id: c.active_message_id.map(MessageId::new),
        }
    }
}

pub struct ListFilter<'a> {
    pub archived: bool,
    pub pinned: Option<bool>,
    /// Only conversations whose title contains this (any case).
    pub title_contains: Option<&'a str>,
    pub after: Option<Cursor>,
    pub limit: i64,
}

/// A page of the user's conversations, newest activity first; rows with equal timestamps are
/// ordered by id, so no row is skipped or repeated across pages.
pub async fn list(
    conn: &mut PgConnection,
    user_id: &UserId,
    filter: &ListFilter<'_>,
) -> sqlx::Result<Vec<ConversationRow>> {
    let pattern = filter.title_contains.map(like_pattern);
    let (after_at, after_id) = filter
        .after
        .map_or((None, None), |c| (Some(c.at), Some(c.id)));
    sqlx::query_as!(
        ConversationRow,
        r#"SELECT id, title, pinned, archived_at, created_at, updated_at, last_message_at, active_message_id
             FROM conversation
            WHERE user_id = $1
              AND (archived_at IS NOT NULL) = $2
              AND ($3::bool IS NULL OR pinned = $3)
              AND ($4::timestamptz IS NULL OR (last_message_at, id) < ($4, $5::uuid))
              AND ($7::text IS NULL OR title ILIKE $7)
            ORDER BY last_message_at DESC, id DESC
            LIMIT $6"#,
        user_id.as_str(),
        filter.archived,
        filter.pinned,
        after_at,
        after_id,
        filter.limit,
        pattern
    )
    .fetch_all(conn)
    .await
}

/// `%text%` for `ILIKE`, the text's own `%`, `_` and `\\` matched literally.
fn like_pattern(text: &str) -> String {
    format!("%{}%", crate::columns::like_escaped(text))
}

pub async fn create(
    conn: &mut PgConnection,
    user_id: &UserId,
    title: Option<&str>,
) -> sqlx::Result<ConversationRow> {
    sqlx::query_as!(
        ConversationRow,
        r#"INSERT INTO conversation (id, user_id, title) VALUES ($1, $2, $3)
           RETURNING id, title, pinned, archived_at, created_at, updated_at, last_message_at, active_message_id"#,
        Uuid::now_v7(),
        user_id.as_str(),
        title
    )
    .fetch_one(conn)
    .await
}

pub async fn get(
    conn: &mut PgConnection,
    user_id: &UserId,
    id: ConversationId,
) -> sqlx::Result<Option<ConversationRow>> {
    sqlx::query_as!(
        ConversationRow,
        r#"SELECT id, title, pinned, archived_at, created_at, updated_at, last_message_at, active_message_id
             FROM conversation WHERE id = $1 AND user_id = $2"#,
        id.as_uuid(),
        user_id.as_str()
    )
    .fetch_optional(conn)
    .await
}

pub struct Changes<'a> {
    /// `Some(None)` clears the title.
    pub title: Option<Option<&'a str>>,
    pub pinned: Option<bool>,
    pub archived: Option<bool>,
}

impl Changes<'_> {
    pub fn is_empty(&self) -> bool {
        self.title.is_none() && self.pinned.is_none() && self.archived.is_none()
    }
}

pub async fn update(
    conn: &mut PgConnection,
    user_id: &UserId,
    id: ConversationId,
    changes: &Changes<'_>,
) -> sqlx::Result<Option<ConversationRow>> {
    let (set_title, title) = match changes.title {
        Some(t) => (true, t),
        None => (false, None),
    };
    sqlx::query_as!(
        ConversationRow,
        r#"UPDATE conversation
              SET title = CASE WHEN $3 THEN $4 ELSE title END,
                  pinned = coalesce($5, pinned),
                  archived_at = CASE WHEN $6::bool IS NULL THEN archived_at
                                     WHEN $6 THEN coalesce(archived_at, now())
                                     ELSE NULL END,
                  updated_at = now()
            WHERE id = $1 AND user_id = $2
        RETURNING id, title, pinned, archived_at, created_at, updated_at, last_message_at, active_message_id"#,
        id.as_uuid(),
        user_id.as_str(),
        set_title,
        title,
        changes.pinned,
        changes.archived
    )
    .fetch_optional(conn)
    .await
}

/// Deletes the conversation and (cascade) its messages. `false` when there was none.
pub async fn delete(
    conn: &mut PgConnection,
    user_id: &UserId,
    id: ConversationId,
) -> sqlx::Result<bool> {
    let done = sqlx::query!(
        "DELETE FROM conversation WHERE id = $1 AND user_id = $2",
        id.as_uuid(),
        user_id.as_str()
    )
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Which conversations a bulk delete takes.
pub enum Selection<'a> {
    Ids(&'a [Uuid]),
    All { include_archived: bool },
}

/// What a delete removed.
#[derive(Debug, Clone, Copy, Default)]
pub struct Removed {
    pub conversations: u64,
    pub messages: u64,
}

/// Deletes the selected conversations of the user (their messages and feedback cascade) in
/// one statement, counting the messages as they were.
pub async fn delete_many(
    conn: &mut PgConnection,
    user_id: &UserId,
    selection: Selection<'_>,
) -> sqlx::Result<Removed> {
    let (ids, all, include_archived) = match selection {
        Selection::Ids(ids) => (Some(ids), false, true),
        Selection::All { include_archived } => (None, true, include_archived),
    };
    let counts = sqlx::query!(
        r#"WITH doomed AS (
               SELECT id FROM conversation
                WHERE user_id = $1
                  AND ($2 OR id = ANY($3::uuid[]))
                  AND ($4 OR archived_at IS NULL)
           ), messages AS (
               SELECT count(*) AS n FROM message
                WHERE user_id = $1 AND conversation_id IN (SELECT id FROM doomed)
           ), gone AS (
               DELETE FROM conversation c USING doomed d
                WHERE c.id = d.id AND c.user_id = $1
               RETURNING 1
           )
           SELECT (SELECT count(*) FROM gone) AS "conversations!",
                  (SELECT n FROM messages) AS "messages!""#,
        user_id.as_str(),
        all,
        ids as Option<&[Uuid]>,
        include_archived
    )
    .fetch_one(conn)
    .await?;
    Ok(Removed {
        conversations: counts.conversations as u64,
        messages: counts.messages as u64,
    })
}

/// Remembers `message` (a message of this conversation, else a foreign-key error) as the leaf
/// of the branch in view. Not activity: `updatedAt` and the sidebar's order stay.
pub async fn set_active(
    conn: &mut PgConnection,
    user_id: &UserId,
    id: ConversationId,
    message: MessageId,
) -> sqlx::Result<bool> {
    let done = sqlx::query!(
        "UPDATE conversation SET active_message_id = $3 WHERE id = $1 AND user_id = $2",
        id.as_uuid(),
        user_id.as_str(),
        message.as_uuid()
    )
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Records new activity and titles an untitled conversation; returns the title if it set one.
/// Plain row updates (no `FOR UPDATE`): they take the conversation's row lock in a mode that
/// does not conflict with the key-share locks message inserts take on it, so concurrent
/// questions in one conversation queue instead of deadlocking.
pub async fn record_activity(
    conn: &mut PgConnection,
    user_id: &UserId,
    id: ConversationId,
    title_if_untitled: Option<&str>,
) -> sqlx::Result<Option<String>> {
    sqlx::query!(
        "UPDATE conversation SET last_message_at = clock_timestamp() WHERE id = $1 AND user_id = $2",
        id.as_uuid(),
        user_id.as_str()
    )
    .execute(&mut *conn)
    .await?;
    let Some(title) = title_if_untitled else {
        return Ok(None);
    };
    sqlx::query_scalar!(
        r#"UPDATE conversation SET title = $3 WHERE id = $1 AND user_id = $2 AND title IS NULL
           RETURNING title AS "title!""#,
        id.as_uuid(),
        user_id.as_str(),
        title
    )
    .fetch_optional(conn)
    .await
}
