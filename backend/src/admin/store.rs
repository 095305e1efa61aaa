//! The queries behind the Admin page: accounts found by address or name, and per account the
//! numbers `admin_user_usage` (migration 0008) counts where row-level security lets no request
//! look, plus sessions and sign-in methods from Better Auth's own tables.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use shared::UserId;
use sqlx::PgConnection;

use crate::auth::store::UserRow;

/// `%q%` for `ILIKE`, the text's own wildcards matched literally.
fn contains_pattern(text: &str) -> String {
    format!("%{}%", crate::columns::like_escaped(text))
}

/// Accounts whose address or name holds `q` (any case), newest first; and how many in all.
pub async fn find_users(
    conn: &mut PgConnection,
    q: Option<&str>,
    limit: i64,
    offset: i64,
) -> sqlx::Result<(Vec<UserRow>, i64)> {
    let pattern = q.map(contains_pattern);
    let rows = sqlx::query!(
        r#"SELECT id, name, email, "emailVerified" AS email_verified, image,
                  "createdAt" AS created_at, "updatedAt" AS updated_at,
                  coalesce("isAnonymous", false) AS "is_anonymous!",
                  role, banned, "banReason" AS ban_reason, "banExpires" AS ban_expires,
                  count(*) OVER () AS "total!"
             FROM "user"
            WHERE $1::text IS NULL OR email ILIKE $1 OR name ILIKE $1
            ORDER BY "createdAt" DESC, id DESC
            LIMIT $2 OFFSET $3"#,
        pattern,
        limit,
        offset
    )
    .fetch_all(&mut *conn)
    .await?;
    let total = match rows.first() {
        Some(row) => row.total,
        // Past the end, the window counts nothing: count apart.
        None => {
            sqlx::query_scalar!(
                r#"SELECT count(*) AS "n!" FROM "user"
                    WHERE $1::text IS NULL OR email ILIKE $1 OR name ILIKE $1"#,
                pattern
            )
            .fetch_one(&mut *conn)
            .await?
        }
    };
    let users = rows
        .into_iter()
        .map(|r| UserRow {
            id: UserId::new(r.id),
            name: r.name,
            email: r.email,
            email_verified: r.email_verified,
            image: r.image,
            created_at: r.created_at,
            updated_at: r.updated_at,
            is_anonymous: r.is_anonymous,
            role: r.role,
            banned: r.banned,
            ban_reason: r.ban_reason,
            ban_expires: r.ban_expires,
        })
        .collect();
    Ok((users, total))
}

/// What one account holds and does, in numbers.
#[derive(Debug, Default, Clone)]
pub struct Usage {
    pub conversations: i64,
    pub messages: i64,
    pub stored_bytes: i64,
    pub questions_today: i64,
    pub last_message_at: Option<DateTime<Utc>>,
    pub sessions: i64,
    pub last_session_at: Option<DateTime<Utc>>,
    pub sign_in_methods: Vec<String>,
}

/// The numbers for each of `ids` (an id with nothing has zeros).
pub async fn usage(
    conn: &mut PgConnection,
    ids: &[UserId],
) -> sqlx::Result<HashMap<String, Usage>> {
    let ids: Vec<String> = ids.iter().map(|id| id.as_str().to_owned()).collect();
    let mut out: HashMap<String, Usage> = HashMap::new();
    let counted = sqlx::query!(
        r#"SELECT user_id AS "user_id!", conversations AS "conversations!",
                  messages AS "messages!", stored_bytes AS "stored_bytes!",
                  questions_today AS "questions_today!", last_message_at
             FROM admin_user_usage($1)"#,
        &ids[..]
    )
    .fetch_all(&mut *conn)
    .await?;
    for row in counted {
        let usage = out.entry(row.user_id).or_default();
        usage.conversations = row.conversations;
        usage.messages = row.messages;
        usage.stored_bytes = row.stored_bytes;
        usage.questions_today = row.questions_today;
        usage.last_message_at = row.last_message_at;
    }
    let sessions = sqlx::query!(
        r#"SELECT "userId" AS user_id, count(*) FILTER (WHERE "expiresAt" > now()) AS "live!",
                  max("updatedAt") AS last_at
             FROM session WHERE "userId" = ANY($1) GROUP BY "userId""#,
        &ids[..]
    )
    .fetch_all(&mut *conn)
    .await?;
    for row in sessions {
        let usage = out.entry(row.user_id).or_default();
        usage.sessions = row.live;
        usage.last_session_at = row.last_at;
    }
    let methods = sqlx::query!(
        r#"SELECT "userId" AS user_id,
                  array_agg(DISTINCT "providerId" ORDER BY "providerId") AS "methods!"
             FROM account WHERE "userId" = ANY($1) GROUP BY "userId""#,
        &ids[..]
    )
    .fetch_all(&mut *conn)
    .await?;
    for row in methods {
        out.entry(row.user_id).or_default().sign_in_methods = row.methods;
    }
    Ok(out)
}
