//! Chatkeep's own export, read back: ids are minted anew on import, so only the links between
//! messages (by their exported ids) and everything else are kept.

use std::collections::HashMap;

use serde_json::Value;
use shared::account::ExportConversation;
use shared::messages::{MessageStatus, Role};

use super::model::{self, Conversation, Feedback, Message};

/// A message's large fields, taken out of the export.
#[derive(Default)]
struct Taken {
    content: String,
    selected_text: Option<String>,
    sources: Vec<shared::messages::Source>,
    error: Option<String>,
}

pub fn convert(value: Value) -> Result<Conversation, String> {
    let mut export: ExportConversation =
        serde_json::from_value(value).map_err(|e| format!("not a Chatkeep conversation: {e}"))?;
    let time = |raw: &str, what: &str| {
        model::from_rfc3339(raw).ok_or_else(|| format!("{what} {raw:?} is not an RFC 3339 time"))
    };
    let created_at = time(&export.created_at, "createdAt")?;
    let updated_at = time(&export.updated_at, "updatedAt")?;
    // What is large is taken, not copied: an import holds a conversation's text once.
    let mut taken: Vec<Taken> = export
        .messages
        .iter_mut()
        .map(|m| Taken {
            content: std::mem::take(&mut m.content),
            selected_text: m.selected_text.take(),
            sources: std::mem::take(&mut m.sources),
            error: m.error.take(),
        })
        .collect();
    // Parents first: order by the links, not by the file (a parent may be listed later).
    let ids: HashMap<&str, usize> = export
        .messages
        .iter()
        .enumerate()
        .map(|(i, m)| (m.id.as_str(), i))
        .collect();
    if ids.len() != export.messages.len() {
        return Err("two messages share an id".to_owned());
    }
    let mut order: Vec<usize> = Vec::with_capacity(export.messages.len());
    let mut placed: HashMap<usize, usize> = HashMap::new();
    let mut children: HashMap<Option<usize>, Vec<usize>> = HashMap::new();
    for (i, m) in export.messages.iter().enumerate() {
        let parent = match m.parent_id.as_deref() {
            None => None,
            Some(p) => Some(*ids.get(p).ok_or_else(|| {
                format!(
                    "message {} follows {p}, which is not in the conversation",
                    m.id
                )
            })?),
        };
        children.entry(parent).or_default().push(i);
    }
    let mut stack: Vec<usize> = children.get(&None).cloned().unwrap_or_default();
    stack.reverse();
    while let Some(i) = stack.pop() {
        placed.insert(i, order.len());
        order.push(i);
        if let Some(kids) = children.get(&Some(i)) {
            stack.extend(kids.iter().rev());
        }
    }
    if order.len() != export.messages.len() {
        return Err("the messages' parent links form a cycle".to_owned());
    }
    let mut messages = Vec::with_capacity(order.len());
    for &i in &order {
        let m = &export.messages[i];
        let at = time(&m.created_at, "createdAt")?;
        let parent = m.parent_id.as_deref().map(|p| placed[&ids[p]]);
        let feedback = match (&m.feedback, m.role) {
            (Some(f), Role::Assistant) => Some(Feedback {
                rating: f.rating,
                reason: f
                    .reason
                    .as_deref()
                    .map(str::trim)
                    .filter(|r| !r.is_empty())
                    .map(|r| r.chars().take(2000).collect()),
                updated_at: time(&f.updated_at, "feedback.updatedAt")?,
            }),
            _ => None,
        };
        messages.push(Message {
            parent,
            role: m.role,
            content: std::mem::take(&mut taken[i].content),
            selected_text: taken[i].selected_text.take(),
            sources: std::mem::take(&mut taken[i].sources),
            // An answer that was being written when it was exported has stopped for good.
            status: match m.status {
                MessageStatus::Streaming => MessageStatus::Stopped,
                other => other,
            },
            finish_reason: m.finish_reason.clone(),
            error: taken[i].error.take(),
            usage: m.usage.clone(),
            created_at: at,
            updated_at: time(&m.updated_at, "updatedAt")?,
            feedback,
        });
    }
    let active = export
        .active_message_id
        .as_deref()
        .and_then(|id| ids.get(id))
        .map(|i| placed[i]);
    // A conversation imported from elsewhere keeps its first origin's key, so importing both
    // the original file and a Chatkeep export of it adds it once.
    let (source, key) = match &export.imported_from {
        Some(origin) => match origin.source.as_str() {
            "chatgpt" => ("chatgpt", origin.key.clone()),
            "claude" => ("claude", origin.key.clone()),
            _ => ("chatkeep", origin.key.clone()),
        },
        None => ("chatkeep", export.id.clone()),
    };
    Ok(Conversation {
        source,
        key,
        title: model::clean_title(export.title.as_deref()),
        pinned: export.pinned,
        archived_at: export
            .archived_at
            .as_deref()
            .map(|raw| time(raw, "archivedAt"))
            .transpose()?,
        created_at,
        updated_at,
        last_message_at: Some(time(&export.last_message_at, "lastMessageAt")?),
        messages,
        active,
    })
}
