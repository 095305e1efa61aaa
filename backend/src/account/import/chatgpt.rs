//! ChatGPT's export: each conversation's `mapping` is a tree of nodes. Every branch is kept;
//! null, system, hidden and tool nodes are skipped, their children attached to the nearest kept
//! ancestor; text parts are joined with their line breaks; images and files become a short
//! placeholder; citations in the metadata become sources; `current_node` is remembered.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::Value;
use shared::messages::{Role, Source};

use super::model::{self, Conversation, Message};

#[derive(Deserialize)]
struct Export {
    id: Option<String>,
    conversation_id: Option<String>,
    title: Option<String>,
    create_time: Option<f64>,
    update_time: Option<f64>,
    mapping: HashMap<String, Node>,
    current_node: Option<String>,
    #[serde(default)]
    is_archived: Option<bool>,
}

#[derive(Deserialize)]
struct Node {
    message: Option<NodeMessage>,
    parent: Option<String>,
    #[serde(default)]
    children: Vec<String>,
}

#[derive(Deserialize)]
struct NodeMessage {
    author: Author,
    create_time: Option<f64>,
    update_time: Option<f64>,
    content: Option<Content>,
    #[serde(default)]
    metadata: Value,
    recipient: Option<String>,
}

#[derive(Deserialize)]
struct Author {
    role: String,
}

#[derive(Deserialize)]
struct Content {
    content_type: String,
    #[serde(default)]
    parts: Vec<Value>,
    text: Option<String>,
}

/// Whether a conversation of a `conversations.json` array is ChatGPT's.
pub fn recognizes(value: &Value) -> bool {
    value.get("mapping").is_some_and(Value::is_object)
}

pub fn convert(value: Value, now: DateTime<Utc>) -> Result<Conversation, String> {
    let mut export: Export =
        serde_json::from_value(value).map_err(|e| format!("not a ChatGPT conversation: {e}"))?;
    let key = export
        .conversation_id
        .clone()
        .or_else(|| export.id.clone())
        .ok_or("the conversation has no id")?;
    let created_at = export.create_time.and_then(model::from_unix).unwrap_or(now);
    let updated_at = export
        .update_time
        .and_then(model::from_unix)
        .unwrap_or(created_at);

    // Roots: nodes without a parent in the mapping. Sorted, so the order does not depend on
    // the map's.
    let mut roots: Vec<String> = export
        .mapping
        .iter()
        .filter(|(_, n)| {
            n.parent
                .as_ref()
                .is_none_or(|p| !export.mapping.contains_key(p))
        })
        .map(|(id, _)| id.clone())
        .collect();
    roots.sort();

    // Each node's message is taken out of the mapping as it is placed: an import holds a
    // conversation's text once.
    let mut messages: Vec<Message> = Vec::new();
    // Node id -> position of the nearest kept message at or above it.
    let mut kept_at: HashMap<String, Option<usize>> = HashMap::new();
    let mut seen: HashSet<String> = HashSet::new();
    let mut stack: Vec<(String, Option<usize>)> =
        roots.into_iter().rev().map(|id| (id, None)).collect();
    while let Some((id, above)) = stack.pop() {
        if !seen.insert(id.clone()) {
            continue;
        }
        let Some(node) = export.mapping.get_mut(&id) else {
            continue;
        };
        let here = match node
            .message
            .take()
            .and_then(|m| message(m, above, created_at))
        {
            Some(m) => {
                messages.push(m);
                Some(messages.len() - 1)
            }
            None => above,
        };
        for child in std::mem::take(&mut node.children).into_iter().rev() {
            stack.push((child, here));
        }
        kept_at.insert(id, here);
    }
    if messages.is_empty() {
        return Err("it has no messages to import".to_owned());
    }
    let active = export
        .current_node
        .as_deref()
        .and_then(|id| kept_at.get(id).copied().flatten());
    Ok(Conversation {
        source: "chatgpt",
        key,
        title: model::clean_title(export.title.as_deref()),
        pinned: false,
        archived_at: export.is_archived.unwrap_or(false).then_some(updated_at),
        created_at,
        updated_at,
        last_message_at: None,
        messages,
        active,
    })
}

/// The message a node holds, when it is one people saw: a user's or the assistant's reply to
/// them, not hidden, with some text.
fn message(m: NodeMessage, parent: Option<usize>, fallback: DateTime<Utc>) -> Option<Message> {
    let role = match m.author.role.as_str() {
        "user" => Role::User,
        "assistant" => Role::Assistant,
        _ => return None,
    };
    if m.metadata
        .get("is_visually_hidden_from_conversation")
        .and_then(Value::as_bool)
        .unwrap_or(false)
    {
        return None;
    }
    // An assistant message addressed to a tool (`browser`, `python`, ...) is a tool call.
    if m.recipient.as_deref().is_some_and(|r| r != "all") {
        return None;
    }
    let mut content = text(m.content?)?;
    for name in attachments(&m.metadata) {
        if !content.is_empty() {
            content.push('\n');
        }
        content.push_str(&format!("[file: {name}]"));
    }
    if content.trim().is_empty() {
        return None;
    }
    let at = m.create_time.and_then(model::from_unix).unwrap_or(fallback);
    let mut message = Message::plain(parent, role, content, at);
    message.updated_at = m.update_time.and_then(model::from_unix).unwrap_or(at);
    message.sources = citations(&m.metadata);
    Some(message)
}

/// The text of a message's content, or `None` for content people were not shown.
fn text(content: Content) -> Option<String> {
    match content.content_type.as_str() {
        "text" | "multimodal_text" => {
            let mut parts: Vec<String> = content.parts.into_iter().filter_map(part).collect();
            Some(if parts.len() == 1 {
                parts.swap_remove(0)
            } else {
                parts.join("\n")
            })
        }
        "code" => content.text.as_ref().map(|t| format!("```\n{t}\n```")),
        // Tool output, browsing, custom instructions, reasoning: not the conversation.
        "execution_output"
        | "tether_browsing_display"
        | "tether_quote"
        | "user_editable_context"
        | "thoughts"
        | "reasoning_recap"
        | "system_error" => None,
        _ => content.text,
    }
}

/// One part of a text: a string as it is, an image or a file as a placeholder.
fn part(part: Value) -> Option<String> {
    match part {
        Value::String(s) => Some(s),
        Value::Object(o) => {
            let kind = o.get("content_type").and_then(Value::as_str).unwrap_or("");
            Some(match kind {
                "image_asset_pointer" => "[image]".to_owned(),
                "audio_transcription" => o.get("text").and_then(Value::as_str)?.to_owned(),
                "audio_asset_pointer" | "real_time_user_audio_video_asset_pointer" => {
                    "[audio]".to_owned()
                }
                _ => "[attachment]".to_owned(),
            })
        }
        _ => None,
    }
}

/// Names of the files attached to a message.
fn attachments(metadata: &Value) -> Vec<String> {
    metadata
        .get("attachments")
        .and_then(Value::as_array)
        .map(|files| {
            files
                .iter()
                .filter_map(|f| f.get("name").and_then(Value::as_str))
                .map(|name| name.chars().filter(|c| !c.is_control()).take(200).collect())
                .collect()
        })
        .unwrap_or_default()
}

/// Citations (`citations[].metadata`, and the newer `content_references[]`) as sources, one per
/// URL, numbered in order.
fn citations(metadata: &Value) -> Vec<Source> {
    let mut found: Vec<(String, Option<String>, String)> = Vec::new();
    let mut add = |v: &Value| {
        let title = v
            .get("title")
            .and_then(Value::as_str)
            .unwrap_or("")
            .trim()
            .to_owned();
        let url = v.get("url").and_then(Value::as_str).map(str::to_owned);
        let snippet = v
            .get("text")
            .or_else(|| v.get("snippet"))
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned();
        if title.is_empty() && url.is_none() {
            return;
        }
        if url.is_some() && found.iter().any(|(_, u, _)| *u == url) {
            return;
        }
        found.push((title, url, snippet));
    };
    for c in metadata
        .get("citations")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        if let Some(m) = c.get("metadata") {
            add(m);
        }
    }
    for r in metadata
        .get("content_references")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        match r.get("items").and_then(Value::as_array) {
            Some(items) => items.iter().for_each(&mut add),
            None => add(r),
        }
    }
    found
        .into_iter()
        .enumerate()
        .map(|(i, (title, url, snippet))| Source {
            n: i as u32 + 1,
            title: if title.is_empty() {
                url.clone().unwrap_or_default()
            } else {
                title
            },
            url,
            snippet,
        })
        .collect()
}
