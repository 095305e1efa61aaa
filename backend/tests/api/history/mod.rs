//! History that people own: search, feedback, bulk and account deletion, export and import,
//! and every id-taking route of the OpenAPI document called as another user.

mod deletion;
mod export;
mod feedback;
mod import;
mod isolation;
mod limits;
mod search;

use crate::helpers::{TestApp, TestSession};

/// A request as `session`'s API client sends it.
pub fn call(
    app: &TestApp,
    session: &TestSession,
    method: reqwest::Method,
    path: &str,
) -> reqwest::RequestBuilder {
    app.client
        .request(method, app.url(path))
        .bearer_auth(&session.bearer)
}

/// `path?query`, the query encoded.
pub fn with_query(path: &str, query: &[(&str, &str)]) -> String {
    format!("{path}?{}", serde_urlencoded::to_string(query).unwrap())
}

/// Stores a conversation with `messages` (role, content) for `user_id` directly, each a minute
/// after the last and each the parent of the next; returns the conversation and message ids.
pub async fn insert_history(
    app: &TestApp,
    user_id: &str,
    title: &str,
    messages: &[(&str, &str)],
) -> (uuid::Uuid, Vec<uuid::Uuid>) {
    let conversation = uuid::Uuid::now_v7();
    sqlx::query("INSERT INTO conversation (id, user_id, title) VALUES ($1, $2, $3)")
        .bind(conversation)
        .bind(user_id)
        .bind(title)
        .execute(&app.pool)
        .await
        .unwrap();
    let mut ids = Vec::new();
    for (i, (role, content)) in messages.iter().enumerate() {
        let id = uuid::Uuid::now_v7();
        sqlx::query(
            "INSERT INTO message (id, conversation_id, user_id, parent_id, role, content, status,
                                  created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, 'complete',
                     now() - interval '1 day' + $7 * interval '1 minute',
                     now() - interval '1 day' + $7 * interval '1 minute')",
        )
        .bind(id)
        .bind(conversation)
        .bind(user_id)
        .bind(ids.last().copied())
        .bind(role)
        .bind(content)
        .bind(i as i32)
        .execute(&app.pool)
        .await
        .unwrap();
        ids.push(id);
    }
    (conversation, ids)
}

/// Every row of the database that mentions `needle` in a text column, as `table.column`.
pub async fn rows_mentioning(app: &TestApp, needle: &str) -> Vec<String> {
    let columns: Vec<(String, String)> = sqlx::query_as(
        "SELECT table_name::text, column_name::text FROM information_schema.columns
          WHERE table_schema = 'public' AND data_type IN ('text', 'character varying', 'jsonb')",
    )
    .fetch_all(&app.pool)
    .await
    .unwrap();
    let mut found = Vec::new();
    for (table, column) in columns {
        let n: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            r#"SELECT count(*) FROM "{table}" WHERE "{column}"::text LIKE '%' || $1 || '%'"#
        )))
        .bind(needle)
        .fetch_one(&app.pool)
        .await
        .unwrap();
        if n > 0 {
            found.push(format!("{table}.{column} ({n})"));
        }
    }
    found
}
