//! The built-in retrieval agent: a Markdown corpus (`DOCS_DIR`, the bundled `docs/` by default)
//! split into sections and indexed with PostgreSQL full-text search at startup when it changed.
//! It answers extractively: the best-matching passages, quoted verbatim with numbered
//! citations, streamed like any other answer. It writes nothing of its own beyond a fixed
//! lead-in, so it cannot invent facts; when nothing matches, it says so.

mod corpus;
mod quote;

pub use corpus::{
    IndexReport, Section, index_at_startup, index_corpus, read_corpus, split_sections,
};

use anyhow::Context;
use sqlx::PgPool;

use self::quote::quotable;
use super::{AgentError, AgentEvent, AgentRequest, AgentStream};

/// Passages quoted per answer.
const TOP_K: i64 = 3;

pub struct RetrievalAgent {
    pool: PgPool,
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

struct HitRow {
    source: String,
    heading: String,
    content: String,
    excerpt: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_stream_back_to_the_same_text() {
        let text = "Here is:\n\n> one  two [1]";
        let pieces: Vec<&str> = split_keeping_spaces(text).collect();
        assert_eq!(pieces.concat(), text);
        assert_eq!(pieces[0], "Here ");
    }
}
