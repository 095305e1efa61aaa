//! A question as it arrives: trimmed, checked and parsed once, before anything is stored.

use shared::MessageId;
use shared::messages::PostMessage;
use uuid::Uuid;

use crate::error::ApiError;

const MAX_SELECTED_CHARS: usize = 8_000;
const MAX_CLIENT_ID_CHARS: usize = 100;

/// A question as stored: parsed and checked once, here.
pub struct Question {
    pub content: String,
    pub selected_text: Option<String>,
    pub parent_id: Option<MessageId>,
    /// The question this one rewrites (it takes that question's parent).
    pub edit_of: Option<MessageId>,
    pub client_id: Option<String>,
}

fn message_id(field: &str, raw: Option<String>) -> Result<Option<MessageId>, ApiError> {
    raw.map(|p| {
        Uuid::parse_str(&p).map(MessageId::new).map_err(|_| {
            ApiError::bad_request("INVALID_ID", format!("{field} {p:?} is not a message id"))
        })
    })
    .transpose()
}

/// Text as PostgreSQL can store it and people can read it: control characters other than line
/// breaks and tabs (NUL above all, which `text` cannot hold) are refused.
fn check_text(field: &str, text: &str) -> Result<(), ApiError> {
    if text
        .chars()
        .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
    {
        return Err(ApiError::validation(format!(
            "{field} must not contain control characters"
        )));
    }
    Ok(())
}

impl Question {
    pub fn parse(body: PostMessage, max_chars: usize) -> Result<Self, ApiError> {
        let content = body.content.trim().to_owned();
        check_text("content", &content)?;
        if content.is_empty() {
            return Err(ApiError::validation("content must not be empty"));
        }
        let chars = content.chars().count();
        if chars > max_chars {
            return Err(ApiError::TooLarge {
                code: "CONTENT_TOO_LONG",
                message: format!("content is {chars} characters; the limit is {max_chars}"),
            });
        }
        let selected_text = body
            .selected_text
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty());
        if let Some(selected) = &selected_text {
            check_text("selectedText", selected)?;
            let chars = selected.chars().count();
            if chars > MAX_SELECTED_CHARS {
                return Err(ApiError::TooLarge {
                    code: "SELECTED_TEXT_TOO_LONG",
                    message: format!(
                        "selectedText is {chars} characters; the limit is {MAX_SELECTED_CHARS}"
                    ),
                });
            }
        }
        let parent_id = message_id("parentId", body.parent_id)?;
        let edit_of = message_id("editOf", body.edit_of)?;
        if parent_id.is_some() && edit_of.is_some() {
            return Err(ApiError::validation(
                "give parentId or editOf, not both: an edit follows what its question followed",
            ));
        }
        let client_id = body.client_id;
        if let Some(id) = &client_id {
            let chars = id.chars().count();
            if chars == 0 || chars > MAX_CLIENT_ID_CHARS || id.chars().any(char::is_control) {
                return Err(ApiError::validation(format!(
                    "clientId must be 1 to {MAX_CLIENT_ID_CHARS} printable characters"
                )));
            }
        }
        Ok(Self {
            content,
            selected_text,
            parent_id,
            edit_of,
            client_id,
        })
    }
}
