//! Stores one imported conversation whole, in the handler's transaction: the conversation,
//! every message in one statement, their feedback, and the branch last viewed. Ids are new.

use serde_json::Value;
use shared::UserId;
use sqlx::PgConnection;
use uuid::Uuid;

use super::model::Conversation;

pub enum Stored {
    Imported { messages: u64 },
    AlreadyThere,
}

/// Whether this source's conversation is already the user's (imported before, or for a
/// Chatkeep export, the very conversation it was exported from).
pub async fn already_there(
    conn: &mut PgConnection,
    user_id: &UserId,
    c: &Conversation,
) -> sqlx::Result<bool> {
    sqlx::query_scalar!(
        r#"SELECT EXISTS (
               SELECT 1 FROM conversation
                WHERE user_id = $1
                  AND ((import_source = $2 AND import_key = $3)
                       OR ($2 = 'chatkeep' AND id::text = $3))
           ) AS "there!""#,
        user_id.as_str(),
        c.source,
        c.key
    )
    .fetch_one(conn)
    .await
}

pub async fn store(
    conn: &mut PgConnection,
    user_id: &UserId,
    c: &Conversation,
) -> sqlx::Result<Stored> {
    if already_there(conn, user_id, c).await? {
        return Ok(Stored::AlreadyThere);
    }
    let id = Uuid::now_v7();
    let last_message_at = c.last_message_at.unwrap_or_else(|| {
        c.messages
            .iter()
            .map(|m| m.created_at)
            .max()
            .unwrap_or(c.updated_at)
    });
    let inserted = sqlx::query!(
        "INSERT INTO conversation (id, user_id, title, pinned, archived_at, created_at, updated_at,
                                   last_message_at, import_source, import_key)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        id,
        user_id.as_str(),
        c.title,
        c.pinned,
        c.archived_at,
        c.created_at,
        c.updated_at.max(c.created_at),
        last_message_at,
        c.source,
        c.key
    )
    .execute(&mut *conn)
    .await;
    match inserted {
        // The same conversation imported at this moment by another request.
        Err(sqlx::Error::Database(e)) if e.constraint() == Some("conversation_import_key") => {
            return Ok(Stored::AlreadyThere);
        }
        other => {
            other?;
        }
    }

    let ids: Vec<Uuid> = c.messages.iter().map(|_| Uuid::now_v7()).collect();
    // In batches of about a megabyte, so the statement being sent never holds more than that
    // (a whole conversation's would, twice over); parents come before their children, so every
    // batch's parent links point at rows already there or in it.
    let mut start = 0;
    while start < c.messages.len() {
        let mut end = start;
        let mut bytes = 0;
        while end < c.messages.len() && (end == start || bytes < BATCH_BYTES) {
            bytes += c.messages[end].stored_bytes();
            end += 1;
        }
        insert_messages(conn, user_id, id, &ids, &c.messages, start..end).await?;
        start = end;
    }

    let rated: Vec<usize> = (0..c.messages.len())
        .filter(|&i| c.messages[i].feedback.is_some())
        .collect();
    if !rated.is_empty() {
        let feedback = |i: &usize| c.messages[*i].feedback.as_ref().expect("filtered above");
        let message_ids: Vec<Uuid> = rated.iter().map(|&i| ids[i]).collect();
        let ratings: Vec<&str> = rated.iter().map(|i| feedback(i).rating.as_str()).collect();
        let reasons: Vec<Option<&str>> = rated
            .iter()
            .map(|i| feedback(i).reason.as_deref())
            .collect();
        let at: Vec<_> = rated.iter().map(|i| feedback(i).updated_at).collect();
        sqlx::query!(
            "INSERT INTO message_feedback (message_id, conversation_id, user_id, rating, reason,
                                           created_at, updated_at)
             SELECT t.id, $2, $3, t.rating, t.reason, t.at, t.at
               FROM UNNEST($1::uuid[], $4::text[], $5::text[], $6::timestamptz[])
                 AS t(id, rating, reason, at)",
            &message_ids,
            id,
            user_id.as_str(),
            &ratings as &[&str],
            &reasons as &[Option<&str>],
            &at
        )
        .execute(&mut *conn)
        .await?;
    }
    if let Some(active) = c.active {
        sqlx::query!(
            "UPDATE conversation SET active_message_id = $3 WHERE id = $1 AND user_id = $2",
            id,
            user_id.as_str(),
            ids[active]
        )
        .execute(&mut *conn)
        .await?;
    }
    Ok(Stored::Imported {
        messages: ids.len() as u64,
    })
}

/// Bytes per `INSERT` of an imported conversation's messages.
const BATCH_BYTES: usize = 1 << 20;

/// Inserts `messages[range]` (ids from `ids`, parents by position) in one statement.
async fn insert_messages(
    conn: &mut PgConnection,
    user_id: &UserId,
    conversation_id: Uuid,
    ids: &[Uuid],
    messages: &[super::model::Message],
    range: std::ops::Range<usize>,
) -> sqlx::Result<()> {
    let batch = &messages[range.clone()];
    let own_ids = &ids[range];
    let parents: Vec<Option<Uuid>> = batch.iter().map(|m| m.parent.map(|p| ids[p])).collect();
    let roles: Vec<&str> = batch
        .iter()
        .map(|m| match m.role {
            shared::messages::Role::User => "user",
            shared::messages::Role::Assistant => "assistant",
        })
        .collect();
    let contents: Vec<&str> = batch.iter().map(|m| m.content.as_str()).collect();
    let selected: Vec<Option<&str>> = batch.iter().map(|m| m.selected_text.as_deref()).collect();
    let sources: Vec<Value> = batch
        .iter()
        .map(|m| serde_json::to_value(&m.sources).unwrap_or(Value::Array(vec![])))
        .collect();
    let statuses: Vec<&str> = batch.iter().map(|m| m.status.as_str()).collect();
    let finish: Vec<Option<&str>> = batch.iter().map(|m| m.finish_reason.as_deref()).collect();
    let errors: Vec<Option<&str>> = batch.iter().map(|m| m.error.as_deref()).collect();
    let usage: Vec<Option<Value>> = batch
        .iter()
        .map(|m| m.usage.as_ref().and_then(|u| serde_json::to_value(u).ok()))
        .collect();
    let created: Vec<_> = batch.iter().map(|m| m.created_at).collect();
    let updated: Vec<_> = batch
        .iter()
        .map(|m| m.updated_at.max(m.created_at))
        .collect();
    // Parent links are checked at the end of the statement, so the order within it is free.
    sqlx::query!(
        r#"INSERT INTO message (id, conversation_id, user_id, parent_id, role, content,
                                selected_text, sources, status, finish_reason, error, usage,
                                created_at, updated_at)
           SELECT t.id, $2, $3, t.parent_id, t.role, t.content, t.selected_text, t.sources,
                  t.status, t.finish_reason, t.error, t.usage, t.created_at, t.updated_at
             FROM UNNEST($1::uuid[], $4::uuid[], $5::text[], $6::text[], $7::text[], $8::jsonb[],
                         $9::text[], $10::text[], $11::text[], $12::jsonb[], $13::timestamptz[],
                         $14::timestamptz[])
               AS t(id, parent_id, role, content, selected_text, sources, status, finish_reason,
                    error, usage, created_at, updated_at)"#,
        own_ids,
        conversation_id,
        user_id.as_str(),
        &parents as &[Option<Uuid>],
        &roles as &[&str],
        &contents as &[&str],
        &selected as &[Option<&str>],
        &sources,
        &statuses as &[&str],
        &finish as &[Option<&str>],
        &errors as &[Option<&str>],
        &usage as &[Option<Value>],
        &created,
        &updated
    )
    .execute(&mut *conn)
    .await?;
    Ok(())
}
