use serde::{Deserialize, Deserializer, Serialize};

use crate::{ConversationId, MessageId};

/// A conversation as the history sidebar shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Conversation {
    /// UUIDv7.
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub id: ConversationId,
    /// `null` until the first exchange titles it (or the user names it).
    pub title: Option<String>,
    pub pinned: bool,
    pub archived: bool,
    pub archived_at: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    /// Bumped by every new message; the list is ordered by it, newest first.
    pub last_message_at: String,
    /// The leaf of the branch last viewed, when one is remembered.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub active_message_id: Option<MessageId>,
}

/// One page of conversations, newest activity first. Pass `nextCursor` back as `cursor` for
/// the next page; `null` means this was the last.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct ConversationPage {
    pub items: Vec<Conversation>,
    pub next_cursor: Option<String>,
}

/// `POST /api/conversations`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateConversation {
    /// 1 to 200 characters after trimming; omit to let the first exchange title it.
    #[serde(default)]
    pub title: Option<String>,
}

/// `PATCH /api/conversations/{id}`: every field optional; `title: null` clears the title.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UpdateConversation {
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub title: Option<Option<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pinned: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub archived: Option<bool>,
    /// The branch in view, by its leaf: a message of this conversation. Remembered so a reload
    /// or another device opens the same branch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub active_message_id: Option<String>,
}

/// `DELETE /api/conversations`: the listed conversations, or all of them. With `all`,
/// archived conversations are deleted only with `includeArchived: true`; listed ids are deleted
/// archived or not.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BulkDelete {
    /// At most 10,000 conversation ids.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ids: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub all: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub include_archived: Option<bool>,
}

/// What a bulk delete did. Ids that are not the caller's conversations (or not anyone's) count
/// as `notFound`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct BulkDeleted {
    pub deleted: u64,
    pub not_found: u64,
    /// The messages deleted with them.
    pub messages: u64,
}

/// Tells "absent" (`None`) from "null" (`Some(None)`).
fn present<'de, D, T>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(deserializer).map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patch_tells_absent_from_null() {
        let absent: UpdateConversation = serde_json::from_str(r#"{"pinned":true}"#).unwrap();
        assert_eq!(absent.title, None);
        let cleared: UpdateConversation = serde_json::from_str(r#"{"title":null}"#).unwrap();
        assert_eq!(cleared.title, Some(None));
        let named: UpdateConversation = serde_json::from_str(r#"{"title":"Trip"}"#).unwrap();
        assert_eq!(named.title, Some(Some("Trip".into())));
        assert!(serde_json::from_str::<UpdateConversation>(r#"{"color":"red"}"#).is_err());
    }
}
