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

/// One page of hits, best first. The query is the stemmed websearch query OR the same words as
/// written (`simple`), each AND the word being typed as a prefix; the stored vectors hold both
/// forms of every word.
pub async fn search(
    conn: &mut PgConnection,
    user_id: &UserId,
    filter: &Filter<'_>,
) -> sqlx::Result<Vec<HitRow>> {
    let (after_rank, after_at, after_id) = filter.after.map_or((None, None, None), |c| {
        (Some(c.rank), Some(c.at), Some(c.id))
    });
    sqlx::query_as!(
        HitRow,
        r#"WITH q AS (
               SELECT CASE WHEN $12 THEN
                          (websearch_to_tsquery($2::text::regconfig, $3)
                             || coalesce(to_tsquery($2::text::regconfig, $4 || ':*'), ''::tsquery))
                       || (websearch_to_tsquery('simple'::regconfig, $3)
                             || coalesce(to_tsquery('simple'::regconfig, $4 || ':*'), ''::tsquery))
                      ELSE
                          (websearch_to_tsquery($2::text::regconfig, $3)
                             && coalesce(to_tsquery($2::text::regconfig, $4 || ':*'), ''::tsquery))
                       || (websearch_to_tsquery('simple'::regconfig, $3)
                             && coalesce(to_tsquery('simple'::regconfig, $4 || ':*'), ''::tsquery))
                      END AS query
           ), hits AS (
               SELECT 'message' AS kind, m.id, m.conversation_id, m.role, m.created_at AS at,
                      ts_rank(m.search, q.query, 1) AS rank
                 FROM message m, q
                WHERE m.user_id = $1 AND m.search @@ q.query
                  AND ($6::timestamptz IS NULL OR m.created_at >= $6)
                  AND ($7::timestamptz IS NULL OR m.created_at < $7)
               UNION ALL
               -- A title says what the whole conversation is about: it counts double.
               SELECT 'title', c.id, c.id, NULL, c.last_message_at,
                      ts_rank(c.title_search, q.query, 1) * 2::real
                 FROM conversation c, q
                WHERE c.user_id = $1 AND c.title_search @@ q.query
                  AND ($6::timestamptz IS NULL OR c.last_message_at >= $6)
                  AND ($7::timestamptz IS NULL OR c.last_message_at < $7)
           ), page AS (
               SELECT h.kind, h.id, h.conversation_id, h.role, h.at, h.rank, c.title
                 FROM hits h JOIN conversation c ON c.id = h.conversation_id AND c.user_id = $1
                WHERE ($5::bool IS NULL OR (c.archived_at IS NOT NULL) = $5)
                  AND ($8::real IS NULL OR (h.rank, h.at, h.id) < ($8, $9::timestamptz, $10::uuid))
                ORDER BY h.rank DESC, h.at DESC, h.id DESC
                LIMIT $11
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
        filter.typed.head,
        filter.typed.prefix,
        filter.archived,
        filter.from,
        filter.to,
        after_rank,
        after_at,
        after_id,
        filter.limit,
        filter.typed.or_prefix
    )
    .fetch_all(conn)
    .await
}

/// Keeps PostgreSQL's notices about stop-word-only queries off the connection (and so out of
/// the logs) for this transaction.
pub async fn quiet_notices(conn: &mut PgConnection) -> sqlx::Result<()> {
    sqlx::query("SELECT set_config('client_min_messages', 'warning', true)")
        .execute(conn)
        .await?;
    Ok(())
}
