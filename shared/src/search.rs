//! `GET /api/search`: hits in the caller's titles and messages, with snippets whose matches
//! are marked as segments (plain text; never HTML for the client to trust).

use serde::{Deserialize, Serialize};

use crate::messages::Role;
use crate::{ConversationId, MessageId};

/// A piece of a snippet: `mark` is true for text that matched the query.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Segment {
    pub text: String,
    pub mark: bool,
}

/// Where a query matched: a conversation's title (`messageId` and `role` are then `null`) or a
/// message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum HitKind {
    Title,
    Message,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct SearchHit {
    pub kind: HitKind,
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub conversation_id: ConversationId,
    pub conversation_title: Option<String>,
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub message_id: Option<MessageId>,
    pub role: Option<Role>,
    /// The message's time, or for a title hit the conversation's last activity.
    pub created_at: String,
    /// The matching passage, its matches marked; concatenated, the segments are the passage's
    /// text exactly as stored (possibly shortened around the matches, with `…` at a cut).
    pub snippet: Vec<Segment>,
}

/// One page of hits, most relevant first (newer first among equals). Pass `nextCursor` back as
/// `cursor` for the next page; `null` means this was the last.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct SearchPage {
    pub items: Vec<SearchHit>,
    pub next_cursor: Option<String>,
}
