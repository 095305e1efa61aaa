//! The built-in agent's corpus: Markdown files read into sections (split at their headings,
//! long ones at paragraph breaks) and indexed into `doc_chunk` when they changed.

use std::path::{Path, PathBuf};

use anyhow::Context;
use sha2::{Digest, Sha256};
use sqlx::{Connection, PgConnection};

/// Sections longer than this are split at paragraph breaks, so a citation stays specific.
const MAX_SECTION_CHARS: usize = 2_000;

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
}
