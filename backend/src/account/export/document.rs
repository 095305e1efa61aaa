//! The export format's pieces, built from rows: one definition (the types in
//! `shared::account`) for the OpenAPI document, the streamed writer and the importer.

use serde::Serialize;
use shared::account::{ExportConversation, ExportMessage, ImportOrigin};
use shared::feedback::Feedback;

use super::store::ConversationRow;
use crate::columns::iso_micros;
use crate::messages::store::MessageRow;

pub fn message(m: &MessageRow) -> ExportMessage {
    ExportMessage {
        id: m.id.to_string(),
        parent_id: m.parent_id.map(|p| p.to_string()),
        role: m.role,
        content: m.content.clone(),
        selected_text: m.selected_text.clone(),
        sources: serde_json::from_value(m.sources.clone()).unwrap_or_default(),
        status: m.status,
        finish_reason: m.finish_reason.clone(),
        error: m.error.clone(),
        usage: m.usage.clone().and_then(|u| serde_json::from_value(u).ok()),
        created_at: iso_micros(m.created_at),
        updated_at: iso_micros(m.updated_at),
        feedback: m.feedback.as_ref().map(Feedback::from),
    }
}

/// The conversation without its messages (`messages: []`).
pub fn conversation(c: &ConversationRow) -> ExportConversation {
    ExportConversation {
        id: c.id.to_string(),
        title: c.title.clone(),
        pinned: c.pinned,
        archived_at: c.archived_at.map(iso_micros),
        created_at: iso_micros(c.created_at),
        updated_at: iso_micros(c.updated_at),
        last_message_at: iso_micros(c.last_message_at),
        active_message_id: c.active_message_id.map(|id| id.to_string()),
        imported_from: c
            .import_source
            .clone()
            .zip(c.import_key.clone())
            .map(|(source, key)| ImportOrigin { source, key }),
        messages: Vec::new(),
    }
}

/// `value` as compact JSON, left open inside its last field, an empty array named `field`:
/// `{"a":1,"items":[]}` becomes `{"a":1,"items":[`. The streamed export writes the array's
/// elements and then `]}`.
pub fn open_at_last_array<T: Serialize>(value: &T, field: &str) -> String {
    let mut json = serde_json::to_string(value).expect("export types serialize");
    let tail = format!("\"{field}\":[]}}");
    assert!(
        json.ends_with(&tail),
        "{field} must be the last field, and empty, to stream it"
    );
    json.truncate(json.len() - 2);
    json
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_open_array_closes_back_to_the_same_json() {
        #[derive(Serialize)]
        struct Doc {
            a: u32,
            items: Vec<u32>,
        }
        let mut open = open_at_last_array(
            &Doc {
                a: 1,
                items: vec![],
            },
            "items",
        );
        assert_eq!(open, r#"{"a":1,"items":["#);
        open.push_str("2,3]}");
        let back: serde_json::Value = serde_json::from_str(&open).unwrap();
        assert_eq!(back, serde_json::json!({"a": 1, "items": [2, 3]}));
    }
}
