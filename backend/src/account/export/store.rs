//! The export's queries: the account's own rows, and the conversations with their messages,
//! read in the handler's transaction.

use chrono::{DateTime, Utc};
use futures_util::Stream;
use shared::account::{ExportAccount, ExportSession};
use shared::{ConversationId, UserId};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::columns::iso_micros;
use crate::messages::store::MessageRow;

/// A conversation as exported (`messages` come separately).
#[derive(sqlx::FromRow)]
pub struct ConversationRow {
    pub id: Uuid,
    pub title: Option<String>,
    pub pinned: bool,
    pub archived_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub last_message_at: DateTime<Utc>,
    pub active_message_id: Option<Uuid>,
    pub import_source: Option<String>,
    pub import_key: Option<String>,
}

pub async fn accounts(
    conn: &mut PgConnection,
    user_id: &UserId,
) -> sqlx::Result<Vec<ExportAccount>> {
    let rows = sqlx::query!(
        r#"SELECT "providerId" AS provider_id, "accountId" AS account_id,
                  "createdAt" AS created_at, "updatedAt" AS updated_at
             FROM account WHERE "userId" = $1 ORDER BY "createdAt", id"#,
        user_id.as_str()
    )
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| ExportAccount {
            provider_id: r.provider_id,
            account_id: r.account_id,
            created_at: iso_micros(r.created_at),
            updated_at: iso_micros(r.updated_at),
        })
        .collect())
}

pub async fn sessions(
    conn: &mut PgConnection,
    user_id: &UserId,
) -> sqlx::Result<Vec<ExportSession>> {
    let rows = sqlx::query!(
        r#"SELECT "createdAt" AS created_at, "updatedAt" AS updated_at,
                  "expiresAt" AS expires_at, "ipAddress" AS ip_address, "userAgent" AS user_agent
             FROM session WHERE "userId" = $1 ORDER BY "createdAt", id"#,
        user_id.as_str()
    )
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| ExportSession {
            created_at: iso_micros(r.created_at),
            updated_at: iso_micros(r.updated_at),
            expires_at: iso_micros(r.expires_at),
            ip_address: r.ip_address,
            user_agent: r.user_agent,
        })
        .collect())
}

/// Opens a server-side cursor over the user's conversations, oldest first, so the export holds
/// one batch of them at a time however many there are. Lives until the transaction ends.
pub async fn open_conversations(conn: &mut PgConnection, user_id: &UserId) -> sqlx::Result<()> {
    sqlx::query(
        "DECLARE export_conversations NO SCROLL CURSOR FOR
         SELECT id, title, pinned, archived_at, created_at, updated_at, last_message_at,
                active_message_id, import_source, import_key
           FROM conversation WHERE user_id = $1 ORDER BY created_at, id",
    )
    .bind(user_id.as_str())
    .execute(conn)
    .await?;
    Ok(())
}

/// The next batch from [`open_conversations`]; empty at the end.
pub async fn next_conversations(conn: &mut PgConnection) -> sqlx::Result<Vec<ConversationRow>> {
    sqlx::query_as::<_, ConversationRow>("FETCH 100 FROM export_conversations")
        .fetch_all(conn)
        .await
}

pub async fn conversation(
    conn: &mut PgConnection,
    user_id: &UserId,
    id: ConversationId,
) -> sqlx::Result<Option<ConversationRow>> {
    sqlx::query_as!(
        ConversationRow,
        r#"SELECT id, title, pinned, archived_at, created_at, updated_at, last_message_at,
                  active_message_id, import_source, import_key
             FROM conversation WHERE id = $1 AND user_id = $2"#,
        id.as_uuid(),
        user_id.as_str()
    )
    .fetch_optional(conn)
    .await
}

/// Every message of a conversation, every branch, oldest first, as a stream of rows.
pub fn messages<'c>(
    conn: &'c mut PgConnection,
    user_id: &'c UserId,
    id: ConversationId,
) -> impl Stream<Item = sqlx::Result<MessageRow>> + 'c {
    use futures_util::StreamExt;
    crate::messages::store::all_in_conversation(conn, user_id, id).map(|r| r.map(MessageRow::from))
}
