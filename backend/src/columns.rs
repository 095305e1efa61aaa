//! The columns several features read the same way: timestamps as the wire writes them, and the
//! text columns whose check constraints keep them to an enum's values
//! (`message_role_check`, `message_status_check`, `message_feedback_rating_check`).

use chrono::{DateTime, Utc};
use shared::feedback::Rating;
use shared::messages::{MessageStatus, Role};

/// RFC 3339 with microseconds and `Z`: every timestamp of Chatkeep's own API (history, search,
/// exports).
pub fn iso_micros(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}

/// ISO 8601 with milliseconds and `Z`, as JavaScript's `Date.toISOString()` writes it: every
/// timestamp on Better Auth's wire (`/api/auth`, the JWT's claims).
pub fn iso_millis(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

pub fn parse_role(role: &str) -> Role {
    if role == "user" {
        Role::User
    } else {
        Role::Assistant
    }
}

pub fn parse_status(status: &str) -> MessageStatus {
    match status {
        "streaming" => MessageStatus::Streaming,
        "complete" => MessageStatus::Complete,
        "stopped" => MessageStatus::Stopped,
        _ => MessageStatus::Error,
    }
}

pub fn parse_rating(rating: &str) -> Rating {
    if rating == "up" {
        Rating::Up
    } else {
        Rating::Down
    }
}

/// `text` for a `LIKE`/`ILIKE` pattern with its own `%`, `_` and `\\` matched literally
/// (backslash is PostgreSQL's default escape); the caller adds the wildcards.
pub fn like_escaped(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len() + 2);
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            escaped.push('\\');
        }
        escaped.push(c);
    }
    escaped
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_precisions_write_utc_with_z() {
        let t = DateTime::parse_from_rfc3339("2026-12-07T20:41:01.123456Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(iso_micros(t), "2026-12-07T20:41:01.123456Z");
        assert_eq!(iso_millis(t), "2026-12-07T20:41:01.123Z");
    }

    #[test]
    fn every_stored_value_parses_to_its_variant() {
        assert_eq!(parse_role("user"), Role::User);
        assert_eq!(parse_role("assistant"), Role::Assistant);
        for (text, status) in [
            ("streaming", MessageStatus::Streaming),
            ("complete", MessageStatus::Complete),
            ("stopped", MessageStatus::Stopped),
            ("error", MessageStatus::Error),
        ] {
            assert_eq!(parse_status(text), status);
        }
        assert_eq!(parse_rating("up"), Rating::Up);
        assert_eq!(parse_rating("down"), Rating::Down);
    }
}
