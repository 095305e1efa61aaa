//! `chatkeep seed`: a realistic history to measure on, written with set-based SQL. Users sign in
//! with [`PASSWORD`] (hashed once, shared by every seeded account). Conversations have titles;
//! messages alternate question and answer along one branch (each message's parent is the one
//! before it), with varied lengths, a skewed word distribution (a few words are very common,
//! most are rare, as in real text), Markdown lists and headings, some code blocks, and sources
//! on answers. One extra heavy user holds `heavy_messages` messages.
//!
//! Seeding writes as the connecting role, which must bypass row-level security (a superuser,
//! as the local PostgreSQL's `postgres` is); the server itself never does.

use std::time::{Duration, Instant};

use sqlx::{Connection, PgConnection};

use crate::auth::password::PasswordHasher;
use crate::config::PasswordHash;

/// The password of every seeded user.
pub const PASSWORD: &str = "seeded-password-1234";

/// How much to write.
#[derive(Debug, Clone, Copy)]
pub struct Plan {
    pub users: u32,
    pub conversations_per_user: u32,
    pub messages_per_conversation: u32,
    /// Messages of the one heavy user (in conversations of 1,000), 0 for none.
    pub heavy_messages: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Report {
    pub users: i64,
    pub conversations: i64,
    pub messages: i64,
}

/// The words text is drawn from, most common first: a word's chance falls with its rank.
const WORDS: &str = "the of and to a in is that for it as with on was be by this are or at from \
    not but have an they which you we can all there their has more one will if about would what \
    when your out up other into some time these so like them only than its also two how then \
    first any way could new use may very after most through should where work because well even \
    data user session token query index answer question model server client request response \
    database table column row cache stream message conversation history search export import \
    password cookie header error status retry timeout limit page cursor branch source citation \
    prompt context embedding vector retrieval document chunk corpus ranking latency throughput \
    deploy docker proxy nginx redis postgres migration schema transaction lock replica backup \
    restore tomato garden water soil sunlight compost harvest recipe kitchen oven flour butter \
    travel train ticket museum weather mountain river forest bicycle marathon guitar piano \
    violin theorem proof lemma integral matrix graph network protocol packet router kernel \
    compiler parser lexer borrow lifetime trait generic async await future runtime thread";

/// Runs `plan` into the database at `conn`, in one transaction; returns what is there after.
pub async fn run(conn: &mut PgConnection, plan: Plan) -> anyhow::Result<Report> {
    let started = Instant::now();
    let hash = PasswordHasher::new(1, Duration::from_secs(60), PasswordHash::Scrypt)?
        .hash(PASSWORD)
        .await?;
    let words: Vec<&str> = WORDS.split_whitespace().collect();
    let mut tx = conn.begin().await?;
    seed_users(&mut tx, "seed-user", plan.users, &hash).await?;
    seed_history(
        &mut tx,
        "seed-user",
        plan.conversations_per_user,
        plan.messages_per_conversation,
        &words,
    )
    .await?;
    if plan.heavy_messages > 0 {
        seed_users(&mut tx, "seed-heavy", 1, &hash).await?;
        let per_conversation = plan.heavy_messages.min(1_000);
        seed_history(
            &mut tx,
            "seed-heavy",
            plan.heavy_messages.div_ceil(per_conversation),
            per_conversation,
            &words,
        )
        .await?;
    }
    tx.commit().await?;
    sqlx::raw_sql("ANALYZE \"user\", account, conversation, message")
        .execute(&mut *conn)
        .await?;
    let report = report(conn).await?;
    tracing::info!(
        users = report.users,
        conversations = report.conversations,
        messages = report.messages,
        seconds = started.elapsed().as_secs_f64(),
        "seeded"
    );
    Ok(report)
}

/// Users `{prefix}-1` .. `{prefix}-{count}` (emails `{prefix}-N@example.com`), each with a
/// credential account holding `hash`. Users that exist already are left alone.
async fn seed_users(
    conn: &mut PgConnection,
    prefix: &str,
    count: u32,
    hash: &str,
) -> sqlx::Result<()> {
    sqlx::query(
        r#"INSERT INTO "user" (id, name, email, "emailVerified", "createdAt", "updatedAt")
           SELECT $1 || '-' || g, 'Seeded User ' || g, $1 || '-' || g || '@example.com', true,
                  now() - interval '90 days', now() - interval '90 days'
             FROM generate_series(1, $2::int) g
           ON CONFLICT DO NOTHING"#,
    )
    .bind(prefix)
    .bind(count as i32)
    .execute(&mut *conn)
    .await?;
    sqlx::query(
        r#"INSERT INTO account (id, "accountId", "providerId", "userId", password, "createdAt", "updatedAt")
           SELECT 'acct-' || u.id, u.id, 'credential', u.id, $2, now(), now()
             FROM "user" u
            WHERE u.id LIKE $1 || '-%'
              AND NOT EXISTS (SELECT 1 FROM account a WHERE a."userId" = u.id)"#,
    )
    .bind(prefix)
    .bind(hash)
    .execute(conn)
    .await?;
    Ok(())
}

/// For every `{prefix}-*` user: `conversations` conversations of `messages` messages each.
async fn seed_history(
    conn: &mut PgConnection,
    prefix: &str,
    conversations: u32,
    messages: u32,
    words: &[&str],
) -> sqlx::Result<()> {
    // `n` words, each picked by a skewed rank: `power(random(), 3)` puts most picks among the
    // first (most common) words. Evaluated per call, so every row gets its own text.
    sqlx::raw_sql(
        r#"CREATE OR REPLACE FUNCTION pg_temp.seed_text(n int, words text[]) RETURNS text
           LANGUAGE sql VOLATILE AS $f$
             SELECT string_agg(words[1 + floor(power(random(), 3) * array_length(words, 1))::int],
                               ' ')
               FROM generate_series(1, greatest(n, 1))
           $f$"#,
    )
    .execute(&mut *conn)
    .await?;
    sqlx::raw_sql(
        r#"CREATE OR REPLACE FUNCTION pg_temp.seed_sentence(n int, words text[]) RETURNS text
           LANGUAGE sql VOLATILE AS $f$
             SELECT upper(left(t, 1)) || substr(t, 2) FROM pg_temp.seed_text(n, words) t
           $f$"#,
    )
    .execute(&mut *conn)
    .await?;
    sqlx::query(
        r#"INSERT INTO conversation (id, user_id, title, pinned, created_at, updated_at, last_message_at)
           SELECT md5(u.id || '/' || c)::uuid, u.id,
                  initcap(pg_temp.seed_text(3 + (c % 5), $3)),
                  c % 17 = 0,
                  now() - ((c * 7 + length(u.id)) || ' hours')::interval,
                  now() - ((c * 7) || ' hours')::interval,
                  now() - ((c * 7) || ' hours')::interval
             FROM "user" u, generate_series(1, $2::int) c
            WHERE u.id LIKE $1 || '-%'
           ON CONFLICT DO NOTHING"#,
    )
    .bind(prefix)
    .bind(conversations as i32)
    .bind(words)
    .execute(&mut *conn)
    .await?;
    // Bodies are drawn from a pool made once (generating text per row is what makes 1M rows
    // slow): 2,000 of each kind, picked per message by a hash, so neighbours differ.
    sqlx::query(
        r#"CREATE TEMP TABLE seed_pool ON COMMIT DROP AS
           SELECT kind, i,
                  CASE kind
                    WHEN 0 THEN pg_temp.seed_sentence(4 + (i * 7) % 25, $1) || '?'
                    WHEN 1 THEN '## ' || initcap(pg_temp.seed_text(3, $1)) || E'\n\n'
                         || pg_temp.seed_sentence(40 + (i * 13) % 120, $1)
                         || E' [1].\n\n```rust\nfn answer() -> u32 {\n    ' || i
                         || E'\n}\n```\n\n' || pg_temp.seed_sentence(20, $1) || '.'
                    WHEN 2 THEN E'- ' || pg_temp.seed_text(8, $1) || E'\n- '
                         || pg_temp.seed_text(10, $1) || E'\n- ' || pg_temp.seed_text(6, $1)
                         || E'\n\n**' || pg_temp.seed_text(2, $1) || '** '
                         || pg_temp.seed_sentence(30, $1) || ' [2].'
                    ELSE pg_temp.seed_sentence(30 + (i * 31) % 300, $1) || ' [1].'
                  END AS body,
                  pg_temp.seed_sentence(12, $1) AS snippet
             FROM generate_series(0, 3) kind, generate_series(0, 1999) i"#,
    )
    .bind(words)
    .execute(&mut *conn)
    .await?;
    sqlx::raw_sql("CREATE INDEX ON seed_pool (kind, i); ANALYZE seed_pool")
        .execute(&mut *conn)
        .await?;
    // Message m of a conversation has id md5(conversation/m), so m's parent is m - 1's id.
    // Questions are kind 0; answers are mostly plain, every fifth with a heading and code,
    // every fifth a list.
    sqlx::query(
        r#"INSERT INTO message (id, conversation_id, user_id, parent_id, role, content, sources,
                                status, finish_reason, created_at, updated_at)
           SELECT md5(c.id::text || '/' || m)::uuid, c.id, c.user_id,
                  CASE WHEN m > 1 THEN md5(c.id::text || '/' || (m - 1))::uuid END,
                  CASE WHEN m % 2 = 1 THEN 'user' ELSE 'assistant' END,
                  p.body,
                  CASE WHEN m % 2 = 0 THEN jsonb_build_array(
                         jsonb_build_object('n', 1, 'title', 'Guide ' || (m % 40),
                                            'url', 'https://docs.example.com/guide/' || (m % 40),
                                            'snippet', p.snippet),
                         jsonb_build_object('n', 2, 'title', 'Reference ' || (m % 23),
                                            'snippet', left(p.body, 80)))
                       ELSE '[]'::jsonb END,
                  'complete',
                  CASE WHEN m % 2 = 0 THEN 'stop' END,
                  c.created_at + (m || ' minutes')::interval,
                  c.created_at + (m || ' minutes')::interval
             FROM conversation c
            CROSS JOIN generate_series(1, $2::int) m
             JOIN seed_pool p
               ON p.kind = CASE WHEN m % 2 = 1 THEN 0 WHEN m % 10 = 4 THEN 1
                                WHEN m % 10 = 8 THEN 2 ELSE 3 END
              AND p.i = (hashtext(c.id::text || '/' || m) & 2147483647) % 2000
            WHERE c.user_id LIKE $1 || '-%'
           ON CONFLICT DO NOTHING"#,
    )
    .bind(prefix)
    .bind(messages as i32)
    .execute(&mut *conn)
    .await?;
    sqlx::raw_sql("DROP TABLE seed_pool")
        .execute(&mut *conn)
        .await?;
    sqlx::query(
        r#"UPDATE conversation c SET last_message_at = latest.at
             FROM (SELECT conversation_id, max(created_at) AS at FROM message
                    WHERE user_id LIKE $1 || '-%' GROUP BY conversation_id) latest
            WHERE latest.conversation_id = c.id"#,
    )
    .bind(prefix)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

async fn report(conn: &mut PgConnection) -> sqlx::Result<Report> {
    let (users, conversations, messages): (i64, i64, i64) = sqlx::query_as(
        r#"SELECT (SELECT count(*) FROM "user" WHERE id LIKE 'seed-%'),
                  (SELECT count(*) FROM conversation WHERE user_id LIKE 'seed-%'),
                  (SELECT count(*) FROM message WHERE user_id LIKE 'seed-%')"#,
    )
    .fetch_one(conn)
    .await?;
    Ok(Report {
        users,
        conversations,
        messages,
    })
}
