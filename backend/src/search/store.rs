//! The search query: message and title hits of one user, ranked, keyset-paged, and headlined
//! (only the page's rows pay for `ts_headline`).

use chrono::{DateTime, Utc};
use shared::UserId;
use sqlx::PgConnection;
use uuid::Uuid;

use super::query::Typed;

pub struct Filter<'a> {
    /// The text search configuration that stems the words (`SEARCH_LANGUAGE`).
    pub language: &'a str,
    pub typed: &'a Typed,
    /// `Some(true)`: only archived conversations; `Some(false)`: only the others.
    pub archived: Option<bool>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    pub after: Option<RankCursor>,
    pub limit: i64,
}

/// The sort key of a hit: rank (exactly as PostgreSQL computed it), time, id.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RankCursor {
    pub rank: f32,
    pub at: DateTime<Utc>,
    pub id: Uuid,
}

#[derive(Debug)]
pub struct HitRow {
    pub kind: String,
    pub id: Uuid,
    pub conversation_id: Uuid,
    pub role: Option<String>,
    pub at: DateTime<Utc>,
    pub rank: f32,
    pub title: Option<String>,
    pub text: String,
    pub headline: String,
}

/// The most matching messages ranked for one query: the newest this many (all of them for
/// nearly every user). Ranking is per match, so it bounds the work for a common word in a very
/// long history.
pub const MAX_RANKED: i64 = 1000;

/// Makes the transaction a search for `typed`: the query (the stemmed websearch query OR the
/// same words as written, each with the word being typed as a prefix) goes into
/// `app.search_query`, and the role becomes `chatkeep_search`, whose row-level-security policy
/// matches it through the index (see migrations/0005_search_role.sql). Also keeps PostgreSQL's
/// notices about stop-word-only queries off the connection (and out of the logs), JIT off (it
/// costs more than these queries take), and plans made for this user (how many messages they
/// have decides between reading theirs and the GIN index).
async fn prepare(conn: &mut PgConnection, language: &str, typed: &Typed) -> sqlx::Result<()> {
    sqlx::query!(
        r#"SELECT set_config('client_min_messages', 'warning', true) AS quiet,
                  set_config('jit', 'off', true) AS jit,
                  set_config('plan_cache_mode', 'force_custom_plan', true) AS plans,
                  set_config('app.search_query', (
                      CASE WHEN $4 THEN
                          (websearch_to_tsquery($1::text::regconfig, $2)
                             || coalesce(to_tsquery($1::text::regconfig, $3 || ':*'), ''::tsquery))
                       || (websearch_to_tsquery('simple'::regconfig, $2)
                             || coalesce(to_tsquery('simple'::regconfig, $3 || ':*'), ''::tsquery))
                      ELSE
                          (websearch_to_tsquery($1::text::regconfig, $2)
                             && coalesce(to_tsquery($1::text::regconfig, $3 || ':*'), ''::tsquery))
                       || (websearch_to_tsquery('simple'::regconfig, $2)
                             && coalesce(to_tsquery('simple'::regconfig, $3 || ':*'), ''::tsquery))
                      END)::text, true) AS query,
                  set_config('role', 'chatkeep_search', true) AS role"#,
        language,
        typed.head,
        typed.prefix,
        typed.or_prefix
    )
    .fetch_one(conn)
    .await?;
    Ok(())
}

/// One page of hits, best first. Makes the transaction a search first ([`prepare`]): the
/// matching is the search role's, so the query cannot run without it.
pub async fn search(
    conn: &mut PgConnection,
    user_id: &UserId,
    filter: &Filter<'_>,
) -> sqlx::Result<Vec<HitRow>> {
    prepare(&mut *conn, filter.language, filter.typed).await?;
    let (after_rank, after_at, after_id) = filter.after.map_or((None, None, None), |c| {
        (Some(c.rank), Some(c.at), Some(c.id))
    });
    sqlx::query_as!(
        HitRow,
        r#"WITH q AS (
               SELECT current_setting('app.search_query', true)::tsquery AS query
           ), matches AS (
               -- Message alone (no join), so the plan is the one GIN scan over both keys. The
               -- match itself is the search role's policy (matching again here would cost as
               -- much as the scan).
               SELECT m.id, m.conversation_id, m.role, m.created_at, m.search
                 FROM message m
                WHERE m.user_id = $1
                  AND ($3::timestamptz IS NULL OR m.created_at >= $3)
                  AND ($4::timestamptz IS NULL OR m.created_at < $4)
                  AND ($5::bool IS NULL OR EXISTS (
                          SELECT 1 FROM conversation c
                           WHERE c.id = m.conversation_id AND c.user_id = $1
                             AND (c.archived_at IS NOT NULL) = $5))
                ORDER BY m.created_at DESC, m.id DESC
                LIMIT $10
           ), hits AS (
               SELECT 'message' AS kind, x.id, x.conversation_id, x.role, x.created_at AS at,
                      ts_rank(x.search, q.query, 1) AS rank
                 FROM matches x, q
               UNION ALL
               -- A title says what the whole conversation is about: it counts double.
               SELECT 'title', c.id, c.id, NULL, c.last_message_at,
                      ts_rank(c.title_search, q.query, 1) * 2::real
                 FROM conversation c, q
                WHERE c.user_id = $1 AND c.title_search @@ q.query
                  AND ($3::timestamptz IS NULL OR c.last_message_at >= $3)
                  AND ($4::timestamptz IS NULL OR c.last_message_at < $4)
                  AND ($5::bool IS NULL OR (c.archived_at IS NOT NULL) = $5)
           ), page AS (
               SELECT h.kind, h.id, h.conversation_id, h.role, h.at, h.rank, c.title
                 FROM hits h JOIN conversation c ON c.id = h.conversation_id AND c.user_id = $1
                WHERE ($6::real IS NULL OR (h.rank, h.at, h.id) < ($6, $7::timestamptz, $8::uuid))
                ORDER BY h.rank DESC, h.at DESC, h.id DESC
                LIMIT $9
           ), texts AS (
               SELECT p.*, CASE WHEN p.kind = 'message' THEN m.content ELSE p.title END AS raw
                 FROM page p
                 LEFT JOIN message m ON p.kind = 'message' AND m.id = p.id AND m.user_id = $1
           )
           SELECT t.kind AS "kind!", t.id AS "id!", t.conversation_id AS "conversation_id!",
                  t.role, t.at AS "at!", t.rank AS "rank!", t.title,
                  translate(coalesce(t.raw, ''), chr(57344) || chr(57345) || chr(57346) || chr(57347), '')
                      AS "text!",
                  -- Marked by the two markers, with `<` and `>` as the index saw them.
                  ts_headline($2::text::regconfig,
                              translate(coalesce(t.raw, ''),
                                        '<>' || chr(57344) || chr(57345) || chr(57346) || chr(57347),
                                        chr(57346) || chr(57347)),
                              q.query,
                              format('StartSel=%s, StopSel=%s, MaxWords=30, MinWords=12, ShortWord=2',
                                     chr(57344), chr(57345))) AS "headline!"
             FROM texts t, q
            ORDER BY t.rank DESC, t.at DESC, t.id DESC"#,
        user_id.as_str(),
        filter.language,
        filter.from,
        filter.to,
        filter.archived,
        after_rank,
        after_at,
        after_id,
        filter.limit,
        MAX_RANKED
    )
    .fetch_all(conn)
    .await
}
