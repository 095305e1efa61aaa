//! A conversation as every importer hands it over: messages in an order where each parent
//! comes before its children, linked by position, with text already made plain.

use chrono::{DateTime, Utc};
use shared::feedback::Rating;
use shared::messages::{MessageStatus, Role, Source, Usage};

/// The longest message an import stores, in characters.
pub const MAX_MESSAGE_CHARS: usize = 1_000_000;

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

/// Checks what every importer must hand over; the reason a conversation is refused.
pub fn check(conversation: &Conversation) -> Result<(), String> {
    for (i, m) in conversation.messages.iter().enumerate() {
        if m.parent.is_some_and(|p| p >= i) {
            return Err("a message comes before its parent".to_owned());
        }
        let chars = m.content.chars().count();
        if chars > MAX_MESSAGE_CHARS {
            return Err(format!(
                "a message has {chars} characters; at most {MAX_MESSAGE_CHARS} are imported"
            ));
        }
    }
    if conversation
        .active
        .is_some_and(|a| a >= conversation.messages.len())
    {
        return Err("the active message is not in the conversation".to_owned());
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
    fn unix_seconds_keep_their_fraction() {
        let t = from_unix(1_700_000_000.123_456).unwrap();
        assert_eq!(t.timestamp_subsec_micros(), 123_456);
        assert!(from_unix(f64::NAN).is_none());
    }
}
