//! The search language: the text search configuration that stems words in the stored vectors.
//! The migrations generate them in English; `SEARCH_LANGUAGE` names another, and startup
//! re-generates the columns once (a rewrite of the message table, logged) when it changes. The
//! expressions must stay those of `migrations/0004_history.sql` (and the policy that of
//! `0005_search_role.sql`).

use sqlx::PgConnection;

#[derive(Debug, thiserror::Error)]
pub enum LanguageError {
    #[error(
        "SEARCH_LANGUAGE={0:?} is not a text search configuration of this PostgreSQL; choose one of: {1}"
    )]
    Unknown(String, String),
    #[error("cannot re-generate the search columns: {0}")]
    Db(#[from] sqlx::Error),
}

/// Makes the stored search vectors stem in `language`. Runs on the owner's connection at
/// startup, in one transaction; a no-op when they already do.
pub async fn ensure(owner: &mut PgConnection, language: &str) -> Result<(), LanguageError> {
    let known: Vec<String> =
        sqlx::query_scalar("SELECT cfgname::text FROM pg_ts_config ORDER BY cfgname")
            .fetch_all(&mut *owner)
            .await?;
    if !known.iter().any(|k| k == language) {
        return Err(LanguageError::Unknown(
            language.to_owned(),
            known.join(", "),
        ));
    }
    let current: Option<String> = sqlx::query_scalar(
        "SELECT pg_get_expr(d.adbin, d.adrelid)
           FROM pg_attrdef d JOIN pg_attribute a ON a.attrelid = d.adrelid AND a.attnum = d.adnum
          WHERE d.adrelid = 'message'::regclass AND a.attname = 'search'",
    )
    .fetch_optional(&mut *owner)
    .await?;
    let wanted = format!("'{language}'::regconfig");
    if current
        .as_deref()
        .is_some_and(|expr| expr.contains(&wanted))
    {
        return Ok(());
    }
    tracing::warn!(
        language,
        "re-generating the search columns for SEARCH_LANGUAGE (rewrites the message table once)"
    );
    // `language` is a catalog name checked above, made of [a-z0-9_].
    let statement = format!(
        "BEGIN;
         DROP POLICY IF EXISTS message_search_match ON message;
         DROP INDEX IF EXISTS message_search_idx;
         ALTER TABLE message DROP COLUMN search;
         ALTER TABLE message ADD COLUMN search tsvector GENERATED ALWAYS AS (
             to_tsvector('{language}'::regconfig, translate(content, '<>', chr(57346) || chr(57347)))
             || to_tsvector('simple'::regconfig, translate(content, '<>', chr(57346) || chr(57347)))) STORED;
         CREATE INDEX message_search_idx ON message USING gin (user_id, search);
         CREATE POLICY message_search_match ON message AS RESTRICTIVE FOR SELECT TO chatkeep_search
             USING (search @@ current_setting('app.search_query', true)::tsquery);
         DROP INDEX IF EXISTS conversation_title_search_idx;
         ALTER TABLE conversation DROP COLUMN title_search;
         ALTER TABLE conversation ADD COLUMN title_search tsvector GENERATED ALWAYS AS (
             to_tsvector('{language}'::regconfig, translate(coalesce(title, ''), '<>', chr(57346) || chr(57347)))
             || to_tsvector('simple'::regconfig, translate(coalesce(title, ''), '<>', chr(57346) || chr(57347)))) STORED;
         CREATE INDEX conversation_title_search_idx ON conversation USING gin (user_id, title_search);
         COMMIT;"
    );
    sqlx::raw_sql(sqlx::AssertSqlSafe(statement))
        .execute(&mut *owner)
        .await?;
    Ok(())
}
