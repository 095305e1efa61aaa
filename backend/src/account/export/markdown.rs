//! A conversation as a Markdown transcript people can read: the branch last viewed (or the
//! newest), each answer's sources as footnotes. The JSON export is the lossless one.

use std::collections::HashMap;
use std::fmt::Write;

use chrono::{DateTime, Utc};
use shared::MessageId;
use shared::messages::{Role, Source};

use super::store::ConversationRow;
use crate::messages::store::MessageRow;

/// The messages on the branch ending at `leaf` (or at the newest message), root first.
fn branch(messages: &[MessageRow], leaf: Option<MessageId>) -> Vec<&MessageRow> {
    let by_id: HashMap<MessageId, &MessageRow> = messages.iter().map(|m| (m.id, m)).collect();
    let mut at = leaf
        .and_then(|id| by_id.get(&id).copied())
        .or_else(|| messages.last());
    let mut path = Vec::new();
    while let Some(m) = at {
        // Parents are older; a bound on the walk guards against a cycle all the same.
        if path.len() > messages.len() {
            break;
        }
        path.push(m);
        at = m.parent_id.and_then(|p| by_id.get(&p).copied());
    }
    path.reverse();
    path
}

fn when(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M UTC").to_string()
}

/// `[n]` citations in an answer become footnote references unique in the document.
fn cite(content: &str, sources: &[Source], label: usize) -> String {
    let mut out = content.to_owned();
    for s in sources {
        out = out.replace(&format!("[{}]", s.n), &format!("[^{label}-{}]", s.n));
    }
    out
}

pub fn transcript(
    c: &ConversationRow,
    messages: &[MessageRow],
    exported_at: DateTime<Utc>,
) -> String {
    let path = branch(messages, c.active_message_id.map(MessageId::new));
    let title = c.title.as_deref().unwrap_or("Untitled conversation");
    let mut md = String::new();
    let _ = writeln!(md, "# {title}\n");
    let _ = writeln!(
        md,
        "*Exported from Chatkeep on {} · started {} · {} messages*\n",
        when(exported_at),
        when(c.created_at),
        path.len()
    );
    for (i, m) in path.iter().enumerate() {
        let who = match m.role {
            Role::User => "You",
            Role::Assistant => "Assistant",
        };
        let _ = writeln!(md, "---\n\n**{who}** · {}\n", when(m.created_at));
        if let Some(selected) = m.selected_text.as_deref().filter(|s| !s.is_empty()) {
            for line in selected.lines() {
                let _ = writeln!(md, "> {line}");
            }
            md.push('\n');
        }
        let sources: Vec<Source> = serde_json::from_value(m.sources.clone()).unwrap_or_default();
        let body = cite(&m.content, &sources, i + 1);
        let _ = writeln!(md, "{}\n", body.trim_end());
        if let Some(status) = match m.status {
            shared::messages::MessageStatus::Stopped => Some("*(stopped before the end)*"),
            shared::messages::MessageStatus::Error => Some("*(the answer failed)*"),
            _ => None,
        } {
            let _ = writeln!(md, "{status}\n");
        }
        for s in &sources {
            let title = s.title.replace(['[', ']'], "");
            match &s.url {
                Some(url) => {
                    let _ = write!(md, "[^{}-{}]: [{title}](<{url}>)", i + 1, s.n);
                }
                None => {
                    let _ = write!(md, "[^{}-{}]: {title}", i + 1, s.n);
                }
            }
            let snippet = s.snippet.split_whitespace().collect::<Vec<_>>().join(" ");
            if !snippet.is_empty() {
                let _ = write!(md, ": “{snippet}”");
            }
            md.push('\n');
        }
        if !sources.is_empty() {
            md.push('\n');
        }
    }
    let elsewhere = messages.len() - path.len();
    if elsewhere > 0 {
        let _ = writeln!(
            md,
            "---\n\n*{elsewhere} more messages are on other branches of this conversation; the \
             JSON export holds every branch.*"
        );
    }
    md
}

/// A file name for a download: the title's letters and digits, dashes between words.
pub fn file_stem(title: Option<&str>) -> String {
    let stem: String = title
        .unwrap_or("")
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                ' '
            }
        })
        .collect::<String>()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join("-");
    let stem: String = stem.chars().take(60).collect();
    if stem.is_empty() {
        "conversation".to_owned()
    } else {
        stem
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_are_safe() {
        assert_eq!(
            file_stem(Some("Trip: \"Rome\"\r\nSet-Cookie: x")),
            "trip-rome-set-cookie-x"
        );
        assert_eq!(file_stem(Some("東京")), "conversation");
        assert_eq!(file_stem(None), "conversation");
    }

    #[test]
    fn citations_become_footnotes() {
        let sources = vec![Source {
            n: 1,
            title: "Docs".into(),
            url: None,
            snippet: String::new(),
        }];
        assert_eq!(cite("Yes [1].", &sources, 3), "Yes [^3-1].");
    }
}
