//! The built-in retrieval agent: a Markdown corpus (`DOCS_DIR`, the bundled `docs/` by default)
//! split into sections and indexed with PostgreSQL full-text search at startup when it changed.
//! It answers extractively: the best-matching passages, quoted verbatim with numbered
//! citations, streamed like any other answer. It writes nothing of its own beyond a fixed
//! lead-in, so it cannot invent facts; when nothing matches, it says so.

use std::path::{Path, PathBuf};

use anyhow::Context;
use sha2::{Digest, Sha256};
use sqlx::{Connection, PgConnection, PgPool};

use super::{AgentError, AgentEvent, AgentRequest, AgentStream};

/// Passages quoted per answer.
const TOP_K: i64 = 3;
/// What `ts_headline` puts between the fragments of one excerpt: the query's
/// `FragmentDelimiter`, which has to be spelled out there too (sqlx checks literal SQL).
const FRAGMENT_DELIMITER: &str = " … ";
/// Sections longer than this are split at paragraph breaks, so a citation stays specific.
const MAX_SECTION_CHARS: usize = 2_000;

pub struct RetrievalAgent {
    pool: PgPool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Section {
    /// Path relative to the corpus root, with `/` separators.
    pub source: String,
    /// `Page title › Section heading`.
    pub heading: String,
    pub content: String,
}

#[derive(Debug)]
pub struct IndexReport {
    pub files: usize,
    pub sections: usize,
    /// `false` when the stored index already matched the corpus.
    pub reindexed: bool,
}

struct Hit {
    source: String,
    heading: String,
    excerpt: String,
}

impl RetrievalAgent {
    pub fn new(pool: PgPool) -> Self {
        Self { pool }
    }

    pub async fn stream(&self, request: AgentRequest) -> Result<AgentStream, AgentError> {
        let query = match &request.selected_text {
            Some(selected) => format!("{} {selected}", request.question),
            None => request.question.clone(),
        };
        let hits = search(&self.pool, &query, TOP_K)
            .await
            .map_err(AgentError::Internal)?;

        let mut events: Vec<Result<AgentEvent, AgentError>> = Vec::new();
        let answer = if hits.is_empty() {
            "I could not find anything about that in the documentation I index. \
             Try asking with other words, or about a topic the documentation covers."
                .to_owned()
        } else {
            let mut text = String::from("Here is what the documentation says:\n\n");
            for (i, hit) in hits.iter().enumerate() {
                events.push(Ok(AgentEvent::Source {
                    title: hit.heading.clone(),
                    url: Some(hit.source.clone()),
                    snippet: hit.excerpt.clone(),
                }));
                text.push_str(&format!("> {} [{}]\n\n", hit.excerpt, i + 1));
            }
            text.truncate(text.trim_end().len());
            text
        };
        // Word-sized deltas, so it streams like a model's answer (and a stop can cut it short).
        events.extend(split_keeping_spaces(&answer).map(|w| Ok(AgentEvent::Delta(w.to_owned()))));
        events.push(Ok(AgentEvent::Finish("stop".to_owned())));
        Ok(Box::pin(futures_util::stream::iter(events)))
    }
}

/// Pieces of `text` that concatenate back to it: each word with its trailing whitespace.
fn split_keeping_spaces(text: &str) -> impl Iterator<Item = &str> {
    let mut rest = text;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let word_end = rest.find(char::is_whitespace).unwrap_or(rest.len());
        let end = rest[word_end..]
            .find(|c: char| !c.is_whitespace())
            .map_or(rest.len(), |i| word_end + i);
        let (piece, tail) = rest.split_at(end);
        rest = tail;
        Some(piece)
    })
}

/// The best sections for `query`: any of its (stemmed, stop-word-free) terms may match,
/// ranked by cover density; each hit is an excerpt of the section around the matches. The
/// terms are stemmed once: cast, not passed through `to_tsquery` again, which would stem the
/// stems ("conversation" to `convers` to `conver`) and match nothing.
async fn search(pool: &PgPool, query: &str, limit: i64) -> anyhow::Result<Vec<Hit>> {
    let rows = sqlx::query_as!(
        HitRow,
        r#"WITH q AS (
               SELECT string_agg(quote_literal(lexeme), ' | ')::tsquery AS query
                 FROM unnest(tsvector_to_array(to_tsvector('english', $1))) AS lexeme
           )
           SELECT c.source, c.heading, c.content,
                  ts_headline('english', c.content, q.query,
                      'MaxFragments=2, MinWords=15, MaxWords=45, FragmentDelimiter=" … ", StartSel="", StopSel=""')
                      AS "excerpt!"
             FROM doc_chunk c, q
            WHERE q.query IS NOT NULL AND c.search @@ q.query
            ORDER BY ts_rank_cd(c.search, q.query) DESC, c.id
            LIMIT $2"#,
        query,
        limit
    )
    .fetch_all(pool)
    .await
    .context("searching the corpus")?;
    Ok(rows
        .into_iter()
        .map(|r| Hit {
            source: r.source,
            heading: r.heading,
            excerpt: quotable(&r.content, &r.excerpt),
        })
        .collect())
}

/// `headline` (fragments of `content` from `ts_headline`) made ready to quote: whitespace
/// collapsed, code spans the cuts split mended, and an ellipsis where it starts or ends inside
/// the section, so a quote that begins mid-sentence says so.
fn quotable(content: &str, headline: &str) -> String {
    let collapse = |text: &str| text.split_whitespace().collect::<Vec<_>>().join(" ");
    let section = collapse(content);
    let fragments: Vec<String> = headline.split(FRAGMENT_DELIMITER).map(collapse).collect();
    let mut quote = fragments
        .iter()
        .map(|fragment| mend_code_spans(fragment))
        .collect::<Vec<_>>()
        .join(FRAGMENT_DELIMITER);
    if fragments
        .first()
        .is_some_and(|f| !section.starts_with(f.as_str()))
    {
        quote.insert_str(0, "… ");
    }
    if fragments
        .last()
        .is_some_and(|f| !section.ends_with(f.as_str()))
    {
        quote.push_str(" …");
    }
    quote
}

/// A fragment cut out of Markdown can begin or end inside an inline code span. Left alone, its
/// lone backtick pairs with the next quote's, and everything between renders as code. This
/// reopens a span the fragment starts inside and closes one it ends inside, so the quoted text
/// stays verbatim and only the cut span is marked as code.
fn mend_code_spans(fragment: &str) -> String {
    let runs = backtick_runs(fragment);
    let Some(&(first_at, first_len)) = runs.first() else {
        return fragment.to_owned();
    };
    let mut mended = String::with_capacity(fragment.len() + 4);
    // A closing run follows the code it ends: no space before it, and no code after it.
    let before = fragment[..first_at].chars().next_back();
    let after = fragment[first_at + first_len..].chars().next();
    let starts_inside = before.is_some_and(|c| !c.is_whitespace() && !"([{\"'".contains(c))
        && after.is_none_or(|c| c.is_whitespace() || ".,;:!?)]}".contains(c));
    if starts_inside {
        mended.push_str(&"`".repeat(first_len));
    }
    mended.push_str(fragment);
    // Pair runs as CommonMark does: a run opens a span that the next run of the same length
    // closes; runs of other lengths in between are literal text inside it. A first run that
    // closes the reopened span is already paired.
    let mut open: Option<usize> = None;
    for &(_, len) in &runs[usize::from(starts_inside)..] {
        match open {
            Some(n) if n == len => open = None,
            Some(_) => {}
            None => open = Some(len),
        }
    }
    if let Some(n) = open {
        mended.push_str(&"`".repeat(n));
    }
    mended
}

/// Byte offset and length of each run of backticks in `text`.
fn backtick_runs(text: &str) -> Vec<(usize, usize)> {
    let mut runs = Vec::new();
    let mut start = None;
    for (i, b) in text.bytes().enumerate() {
        match (b == b'`', start) {
            (true, None) => start = Some(i),
            (false, Some(s)) => {
                runs.push((s, i - s));
                start = None;
            }
            _ => {}
        }
    }
    if let Some(s) = start {
        runs.push((s, text.len() - s));
    }
    runs
}

struct HitRow {
    source: String,
    heading: String,
    content: String,
    excerpt: String,
}

/// Reads `dir`'s Markdown files (recursively, in path order) into sections.
pub fn read_corpus(dir: &Path) -> anyhow::Result<Vec<Section>> {
    let mut files = Vec::new();
    collect_markdown(dir, &mut files)
        .with_context(|| format!("cannot read DOCS_DIR {}", dir.display()))?;
    files.sort();
    let mut sections = Vec::new();
    for path in files {
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        let source = path
            .strip_prefix(dir)
            .unwrap_or(&path)
            .components()
            .map(|c| c.as_os_str().to_string_lossy())
            .collect::<Vec<_>>()
            .join("/");
        sections.extend(split_sections(&source, &text));
    }
    Ok(sections)
}

fn collect_markdown(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            collect_markdown(&path, out)?;
        } else if path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("md"))
        {
            out.push(path);
        }
    }
    Ok(())
}

/// Splits a Markdown page at its `##`/`###` headings. The page's `#` title prefixes each
/// section's heading; text before the first section heading is its own section.
pub fn split_sections(source: &str, markdown: &str) -> Vec<Section> {
    let mut title = source.trim_end_matches(".md").to_owned();
    let mut sections = Vec::new();
    let mut heading: Option<String> = None;
    let mut body = String::new();
    let mut in_code = false;

    let mut flush = |heading: &Option<String>, body: &mut String, title: &str| {
        let text = body.trim();
        if !text.is_empty() {
            let full = match heading {
                Some(h) => format!("{title} › {h}"),
                None => title.to_owned(),
            };
            for part in split_long(text) {
                sections.push(Section {
                    source: source.to_owned(),
                    heading: full.clone(),
                    content: part,
                });
            }
        }
        body.clear();
    };

    for line in markdown.lines() {
        if line.trim_start().starts_with("```") {
            in_code = !in_code;
        }
        if !in_code {
            if let Some(h1) = line.strip_prefix("# ") {
                flush(&heading, &mut body, &title);
                title = h1.trim().to_owned();
                heading = None;
                continue;
            }
            if let Some(h) = line
                .strip_prefix("## ")
                .or_else(|| line.strip_prefix("### "))
            {
                flush(&heading, &mut body, &title);
                heading = Some(h.trim().to_owned());
                continue;
            }
        }
        body.push_str(line);
        body.push('\n');
    }
    flush(&heading, &mut body, &title);
    sections
}

fn split_long(text: &str) -> Vec<String> {
    if text.chars().count() <= MAX_SECTION_CHARS {
        return vec![text.to_owned()];
    }
    let mut parts = Vec::new();
    let mut current = String::new();
    for paragraph in text.split("\n\n") {
        if !current.is_empty()
            && current.chars().count() + paragraph.chars().count() > MAX_SECTION_CHARS
        {
            parts.push(std::mem::take(&mut current));
        }
        if !current.is_empty() {
            current.push_str("\n\n");
        }
        current.push_str(paragraph);
    }
    if !current.is_empty() {
        parts.push(current);
    }
    parts
}

/// Indexes the built-in agent's corpus when it changed, over the owner's connection (the
/// application role may only read the index). A missing or unreadable folder leaves the
/// previous index in place: the agent then says it found nothing, and the log says why.
pub async fn index_at_startup(owner: &mut PgConnection, dir: &Path) {
    match index_corpus(owner, dir).await {
        Ok(report) if report.reindexed => tracing::info!(
            dir = %dir.display(), files = report.files, sections = report.sections,
            "indexed the built-in agent's corpus"
        ),
        Ok(report) => tracing::info!(
            dir = %dir.display(), sections = report.sections, "the built-in agent's corpus is unchanged"
        ),
        Err(e) => tracing::warn!(
            error = crate::telemetry::chain(e.as_ref()),
            "cannot index DOCS_DIR; the built-in agent will find nothing new"
        ),
    }
}

/// Indexes `dir` into `doc_chunk`, unless the stored index is of the same corpus. Atomic: a
/// concurrent search sees the old index or the new one, never half of either.
pub async fn index_corpus(conn: &mut PgConnection, dir: &Path) -> anyhow::Result<IndexReport> {
    let sections = read_corpus(dir)?;
    let files = sections
        .iter()
        .map(|s| s.source.as_str())
        .collect::<std::collections::BTreeSet<_>>()
        .len();
    let mut hasher = Sha256::new();
    for s in &sections {
        for part in [&s.source, &s.heading, &s.content] {
            hasher.update(part.as_bytes());
            hasher.update([0]);
        }
    }
    let hash = hex::encode(hasher.finalize());

    let mut tx = conn.begin().await?;
    // Two instances starting together index once: the second waits here, then sees the hash.
    sqlx::query!("LOCK TABLE doc_corpus IN EXCLUSIVE MODE")
        .execute(&mut *tx)
        .await?;
    let stored = sqlx::query_scalar!("SELECT hash FROM doc_corpus")
        .fetch_optional(&mut *tx)
        .await?;
    if stored.as_deref() == Some(hash.as_str()) {
        return Ok(IndexReport {
            files,
            sections: sections.len(),
            reindexed: false,
        });
    }
    sqlx::query!("DELETE FROM doc_chunk")
        .execute(&mut *tx)
        .await?;
    let (sources, headings, contents): (Vec<_>, Vec<_>, Vec<_>) = sections
        .iter()
        .map(|s| (s.source.clone(), s.heading.clone(), s.content.clone()))
        .fold(
            (vec![], vec![], vec![]),
            |(mut a, mut b, mut c), (x, y, z)| {
                a.push(x);
                b.push(y);
                c.push(z);
                (a, b, c)
            },
        );
    sqlx::query!(
        "INSERT INTO doc_chunk (source, heading, content)
         SELECT * FROM unnest($1::text[], $2::text[], $3::text[])",
        &sources,
        &headings,
        &contents
    )
    .execute(&mut *tx)
    .await?;
    sqlx::query!(
        "INSERT INTO doc_corpus (hash) VALUES ($1)
         ON CONFLICT (singleton) DO UPDATE SET hash = excluded.hash, indexed_at = now()",
        hash
    )
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(IndexReport {
        files,
        sections: sections.len(),
        reindexed: true,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_split_at_their_headings() {
        let md = "# Accounts\n\nIntro text.\n\n## How do I delete my account?\n\nUse delete-user.\n\n```sh\n## not a heading\n```\n\n### Details\n\nMore.\n";
        let sections = split_sections("accounts.md", md);
        let headings: Vec<&str> = sections.iter().map(|s| s.heading.as_str()).collect();
        assert_eq!(
            headings,
            [
                "Accounts",
                "Accounts › How do I delete my account?",
                "Accounts › Details"
            ]
        );
        assert!(sections[1].content.contains("## not a heading"));
    }

    #[test]
    fn a_code_span_cut_by_a_fragment_is_closed_or_reopened() {
        // Cut after the opening backtick: closed at the end.
        assert_eq!(
            mend_code_spans("the `wasm32-unknown-unknown` target, `wasm-bindgen"),
            "the `wasm32-unknown-unknown` target, `wasm-bindgen`"
        );
        // Cut inside the span: reopened at the start.
        assert_eq!(
            mend_code_spans("unknown-unknown` Rust target, `wasm-bindgen` and"),
            "`unknown-unknown` Rust target, `wasm-bindgen` and"
        );
        // Both at once.
        assert_eq!(
            mend_code_spans("env` file, and `DATABASE"),
            "`env` file, and `DATABASE`"
        );
        // Balanced spans, and text without any, are left as they are.
        for text in [
            "the `chatkeep` database",
            "no code here",
            "``a ` b`` and `c`",
            "`x`.",
        ] {
            assert_eq!(mend_code_spans(text), text);
        }
        // A run inside a longer span is text, not an opener.
        assert_eq!(mend_code_spans("say ``a ` b"), "say ``a ` b``");
    }

    #[test]
    fn a_quote_says_where_it_was_cut() {
        let section = "Run it.\nThen `chatkeep`\n  starts. It listens on 8080.";
        assert_eq!(
            quotable(section, section),
            "Run it. Then `chatkeep` starts. It listens on 8080."
        );
        assert_eq!(
            quotable(section, "Then `chatkeep` starts."),
            "… Then `chatkeep` starts. …"
        );
        assert_eq!(quotable(section, "Run it. Then"), "Run it. Then …");
        assert_eq!(
            quotable(section, "chatkeep` starts. It listens on 8080."),
            "… `chatkeep` starts. It listens on 8080."
        );
        assert_eq!(
            quotable(section, "Run it. … It listens on 8080."),
            "Run it. … It listens on 8080."
        );
    }

    #[test]
    fn words_stream_back_to_the_same_text() {
        let text = "Here is:\n\n> one  two [1]";
        let pieces: Vec<&str> = split_keeping_spaces(text).collect();
        assert_eq!(pieces.concat(), text);
        assert_eq!(pieces[0], "Here ");
    }
}
