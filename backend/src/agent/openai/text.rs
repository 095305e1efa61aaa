//! What the upstream says, made safe to store and to log: no credentials from its URL, no NUL
//! for PostgreSQL's text, error bodies cut short, and the message of an OpenAI-style error.

use serde_json::Value;

/// reqwest's errors name the URL, which may carry credentials; ours do not.
pub fn without_url(e: &reqwest::Error) -> String {
    let kind = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "connection failed"
    } else {
        "request failed"
    };
    let mut cause: Option<&dyn std::error::Error> = std::error::Error::source(e);
    let mut deepest = None;
    while let Some(c) = cause {
        deepest = Some(c.to_string());
        cause = c.source();
    }
    match deepest {
        Some(d) => format!("{kind} ({d})"),
        None => kind.to_owned(),
    }
}

/// PostgreSQL text cannot hold NUL; an upstream that sends one must not cost us the answer.
pub fn without_nul(text: &str) -> String {
    text.replace('\0', "")
}

pub fn truncate(text: &str, limit: usize) -> String {
    match text.char_indices().nth(limit) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_owned(),
    }
}

/// `{"error": {"message": ...}}` or `{"error": "..."}`, as OpenAI-compatible servers send it.
pub fn upstream_message(text: &str) -> Option<String> {
    let value: Value = serde_json::from_str(text).ok()?;
    error_message(&value)
}

/// The message of an OpenAI-style `{"error": ...}` (a string or `{message}`).
pub fn error_message(value: &Value) -> Option<String> {
    match value.get("error")? {
        Value::String(s) => Some(s.clone()),
        Value::Null => None,
        other => Some(
            other
                .get("message")
                .and_then(Value::as_str)
                .map_or_else(|| other.to_string(), str::to_owned),
        ),
    }
}
