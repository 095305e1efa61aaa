//! A conversation as every importer hands it over: messages in an order where each parent
//! comes before its children, linked by position, with text already made plain.

use chrono::{DateTime, Utc};
use shared::feedback::Rating;
use shared::messages::{MessageStatus, Role, Source, Usage};

use crate::config::ImportCaps;

#[derive(Debug, Clone)]
pub struct Conversation {
    /// `chatkeep`, `chatgpt` or `claude`.
    pub source: &'static str,
    /// The source's own id for the conversation: importing it again finds it by this.
    pub key: String,
    pub title: Option<String>,
    pub pinned: bool,
    pub archived_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// The last activity, when the source records it (else the newest message's time).
    pub last_message_at: Option<DateTime<Utc>>,
    pub messages: Vec<Message>,
    /// The message (by position) that ends the branch last viewed.
    pub active: Option<usize>,
}

impl Conversation {
    /// Bytes it stores, as `USER_MAX_STORED_BYTES` counts them.
    pub fn stored_bytes(&self) -> i64 {
        self.messages.iter().map(|m| m.stored_bytes() as i64).sum()
    }
}

#[derive(Debug, Clone)]
pub struct Message {
    /// Position of the parent in [`Conversation::messages`]; always before this one.
    pub parent: Option<usize>,
    pub role: Role,
    pub content: String,
    pub selected_text: Option<String>,
    pub sources: Vec<Source>,
    pub status: MessageStatus,
    pub finish_reason: Option<String>,
    pub error: Option<String>,
    pub usage: Option<Usage>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub feedback: Option<Feedback>,
}

#[derive(Debug, Clone)]
pub struct Feedback {
    pub rating: Rating,
    pub reason: Option<String>,
    pub updated_at: DateTime<Utc>,
}

impl Message {
    /// Bytes it stores: its text, the quoted selection, the sources (as JSON) and the error, as
    /// `account::storage` counts them in the database.
    pub fn stored_bytes(&self) -> usize {
        let sources = if self.sources.is_empty() {
            0
        } else {
            serde_json::to_string(&self.sources).map_or(0, |s| s.len())
        };
        self.content.len()
            + self.selected_text.as_ref().map_or(0, String::len)
            + self.error.as_ref().map_or(0, String::len)
            + sources
    }

    /// A finished message with nothing but its text.
    pub fn plain(parent: Option<usize>, role: Role, content: String, at: DateTime<Utc>) -> Self {
        Self {
            parent,
            role,
            content,
            selected_text: None,
            sources: Vec::new(),
            status: MessageStatus::Complete,
            finish_reason: None,
            error: None,
            usage: None,
            created_at: at,
            updated_at: at,
            feedback: None,
        }
    }
}

/// A title as Chatkeep stores them: one line, no control characters, at most 200 characters.
pub fn clean_title(raw: Option<&str>) -> Option<String> {
    let line: String = raw?
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect::<String>()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    let title: String = line.chars().take(200).collect();
    (!title.is_empty()).then_some(title)
}

/// Unix seconds, fractional (ChatGPT's `create_time`), to a time.
pub fn from_unix(seconds: f64) -> Option<DateTime<Utc>> {
    if !seconds.is_finite() {
        return None;
    }
    DateTime::from_timestamp_micros((seconds * 1_000_000.0).round() as i64)
}

pub fn from_rfc3339(raw: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(raw)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// Why one conversation is reported instead of imported: a code and a sentence for people.
#[derive(Debug)]
pub struct Refused {
    pub code: &'static str,
    pub reason: String,
}

/// A reason as short as a report needs: parser errors quote the text they stopped at, which a
/// hostile file makes megabytes long.
pub fn brief(reason: impl Into<String>) -> String {
    const MAX_CHARS: usize = 300;
    let reason = reason.into();
    match reason.char_indices().nth(MAX_CHARS) {
        Some((at, _)) => format!("{}…", &reason[..at]),
        None => reason,
    }
}

impl Refused {
    pub fn new(code: &'static str, reason: impl Into<String>) -> Self {
        Self {
            code,
            reason: brief(reason),
        }
    }

    /// The source's data does not make a conversation.
    pub fn unreadable(reason: impl Into<String>) -> Self {
        Self::new("UNREADABLE", reason)
    }
}

/// Checks what every importer must hand over, and the caps on what was made of it; the reason
/// a conversation is refused.
pub fn check(conversation: &Conversation, caps: &ImportCaps) -> Result<(), Refused> {
    let count = conversation.messages.len();
    if count > caps.messages {
        return Err(Refused::new(
            "TOO_MANY_MESSAGES",
            format!(
                "it has {count} messages; at most {} are imported (IMPORT_MAX_MESSAGES); it was skipped",
                caps.messages
            ),
        ));
    }
    for (i, m) in conversation.messages.iter().enumerate() {
        if m.parent.is_some_and(|p| p >= i) {
            return Err(Refused::unreadable("a message comes before its parent"));
        }
        // Parts joined into one message can pass what each part was held to.
        let bytes = m.content.len() as u64;
        if bytes > caps.message_bytes {
            return Err(Refused::new(
                "MESSAGE_TOO_LONG",
                format!(
                    "a message in it has {bytes} bytes; at most {} are imported \
                     (IMPORT_MAX_MESSAGE_BYTES); it was skipped",
                    caps.message_bytes
                ),
            ));
        }
    }
    if conversation
        .active
        .is_some_and(|a| a >= conversation.messages.len())
    {
        return Err(Refused::unreadable(
            "the active message is not in the conversation",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn titles_are_one_clean_line() {
        assert_eq!(
            clean_title(Some("  Trip\r\nSet-Cookie: x\t")).as_deref(),
            Some("Trip Set-Cookie: x")
        );
        assert_eq!(clean_title(Some(" \n ")), None);
        assert_eq!(
            clean_title(Some(&"é".repeat(300))).map(|t| t.chars().count()),
            Some(200)
        );
    }

    #[test]
    fn reasons_are_kept_short() {
        let long = format!("invalid type: string \"{}\"", "é".repeat(4_000_000));
        let refused = Refused::unreadable(long);
        assert_eq!(refused.reason.chars().count(), 301);
        assert_eq!(brief("short"), "short");
    }

    #[test]
    fn unix_seconds_keep_their_fraction() {
        let t = from_unix(1_700_000_000.123_456).unwrap();
        assert_eq!(t.timestamp_subsec_micros(), 123_456);
        assert!(from_unix(f64::NAN).is_none());
    }
}
