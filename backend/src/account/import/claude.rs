//! Claude's export: `conversations.json`, each conversation's `chat_messages` in order, each
//! with `sender` (`human` or `assistant`) and `text` (or `content` blocks). A message follows
//! the one before it, or its `parent_message_uuid` when the export names one.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::Value;
use shared::messages::Role;

use super::model::{self, Conversation, Message};

#[derive(Deserialize)]
struct Export {
    uuid: String,
    name: Option<String>,
    created_at: Option<String>,
    updated_at: Option<String>,
    chat_messages: Vec<ChatMessage>,
}

#[derive(Deserialize)]
struct ChatMessage {
    uuid: Option<String>,
    parent_message_uuid: Option<String>,
    sender: String,
    #[serde(default)]
    text: String,
    #[serde(default)]
    content: Vec<Value>,
    created_at: Option<String>,
    updated_at: Option<String>,
    #[serde(default)]
    attachments: Vec<Value>,
    #[serde(default)]
    files: Vec<Value>,
}

pub fn recognizes(value: &Value) -> bool {
    value.get("chat_messages").is_some_and(Value::is_array)
}

pub fn convert(value: Value, now: DateTime<Utc>) -> Result<Conversation, String> {
    let export: Export =
        serde_json::from_value(value).map_err(|e| format!("not a Claude conversation: {e}"))?;
    let created_at = export
        .created_at
        .as_deref()
        .and_then(model::from_rfc3339)
        .unwrap_or(now);
    let updated_at = export
        .updated_at
        .as_deref()
        .and_then(model::from_rfc3339)
        .unwrap_or(created_at);
    let mut messages: Vec<Message> = Vec::new();
    let mut position: HashMap<String, usize> = HashMap::new();
    for mut m in export.chat_messages {
        let role = match m.sender.as_str() {
            "human" | "user" => Role::User,
            "assistant" => Role::Assistant,
            _ => continue,
        };
        let mut content = text(&mut m);
        for name in m.attachments.iter().chain(&m.files).filter_map(|f| {
            f.get("file_name")
                .or_else(|| f.get("name"))
                .and_then(Value::as_str)
        }) {
            if !content.is_empty() {
                content.push('\n');
            }
            let name: String = name.chars().filter(|c| !c.is_control()).take(200).collect();
            content.push_str(&format!("[file: {name}]"));
        }
        if content.trim().is_empty() {
            continue;
        }
        let parent = match m.parent_message_uuid.as_deref() {
            Some(p) if position.contains_key(p) => position.get(p).copied(),
            _ => messages.len().checked_sub(1),
        };
        let at = m
            .created_at
            .as_deref()
            .and_then(model::from_rfc3339)
            .unwrap_or(created_at);
        let mut message = Message::plain(parent, role, content, at);
        message.updated_at = m
            .updated_at
            .as_deref()
            .and_then(model::from_rfc3339)
            .unwrap_or(at);
        messages.push(message);
        if let Some(id) = &m.uuid {
            position.insert(id.clone(), messages.len() - 1);
        }
    }
    if messages.is_empty() {
        return Err("it has no messages to import".to_owned());
    }
    let active = messages.len().checked_sub(1);
    Ok(Conversation {
        source: "claude",
        key: export.uuid,
        title: model::clean_title(export.name.as_deref()),
        pinned: false,
        archived_at: None,
        created_at,
        updated_at,
        last_message_at: None,
        messages,
        active,
    })
}

/// The text blocks of `content`, or `text` when there are none (taken, not copied: an import
/// holds a conversation's text once).
fn text(m: &mut ChatMessage) -> String {
    let blocks: Vec<&str> = m
        .content
        .iter()
        .filter(|b| b.get("type").and_then(Value::as_str) == Some("text"))
        .filter_map(|b| b.get("text").and_then(Value::as_str))
        .collect();
    if blocks.is_empty() {
        std::mem::take(&mut m.text)
    } else {
        blocks.join("\n\n")
    }
}
