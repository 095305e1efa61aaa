use serde::{Deserialize, Serialize};

use crate::{ConversationId, MessageId};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum Role {
    User,
    Assistant,
}

/// An answer is `streaming` while the agent writes it, then `complete`, `stopped` (by the user
/// or a disconnect; the partial text is kept) or `error` (the reason is in `error`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum MessageStatus {
    Streaming,
    Complete,
    Stopped,
    Error,
}

impl MessageStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Streaming => "streaming",
            Self::Complete => "complete",
            Self::Stopped => "stopped",
            Self::Error => "error",
        }
    }
}

/// A citation: `[n]` in the answer's text refers to the source with this `n`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Source {
    pub n: u32,
    pub title: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(default)]
    pub snippet: String,
}

/// Token counts, when the agent reports them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Usage {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prompt_tokens: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completion_tokens: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total_tokens: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Message {
    /// UUIDv7.
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub id: MessageId,
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub conversation_id: ConversationId,
    /// The message this one follows; regenerated answers share their question as parent.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub parent_id: Option<MessageId>,
    pub role: Role,
    pub content: String,
    pub selected_text: Option<String>,
    pub sources: Vec<Source>,
    pub status: MessageStatus,
    pub finish_reason: Option<String>,
    pub error: Option<String>,
    pub usage: Option<Usage>,
    pub client_id: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    /// The user's thumbs up or down on an answer; `null` when none is given.
    #[serde(default)]
    pub feedback: Option<crate::feedback::Feedback>,
}

/// `POST /api/conversations/{id}/messages`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PostMessage {
    /// The question; not empty, at most the server's configured length.
    pub content: String,
    /// Text the user highlighted and is asking about; given to the agent as context.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub selected_text: Option<String>,
    /// The message this one follows (defaults to the conversation's latest).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent_id: Option<String>,
    /// An earlier question this one rewrites: the new question becomes its sibling (it follows
    /// what that question followed). Not together with `parentId`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub edit_of: Option<String>,
    /// A client-chosen id (1-100 chars): a retried POST with the same id returns the stored
    /// exchange instead of creating another.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
}

/// A question and its answer, as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Exchange {
    pub user_message: Message,
    pub assistant_message: Message,
}

/// One page of a conversation's messages: the newest page first, each page in chronological
/// order. Pass `nextCursor` back as `before` for the page before it; `null` means the start.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct MessagePage {
    pub items: Vec<Message>,
    pub next_cursor: Option<String>,
    /// The leaf of the branch last viewed (the conversation's `activeMessageId`): open there.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub active_message_id: Option<MessageId>,
    /// On the first page, when the branch last viewed ends before the page's messages: the
    /// newest messages of that branch (up to the page size, chronological), so it can be opened
    /// however old it is. Empty otherwise.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub active_path: Vec<Message>,
}
