//! Your data: the export of everything (one versioned JSON format, which import reads back),
//! the import report, and deleting the account with a receipt.

use serde::{Deserialize, Serialize};

use crate::feedback::Feedback;
use crate::messages::{MessageStatus, Role, Source, Usage};

/// `format` of a Chatkeep export.
pub const EXPORT_FORMAT: &str = "chatkeep.export";
/// `version` of the format this build writes (and the newest it reads).
pub const EXPORT_VERSION: u32 = 1;

/// `GET /api/me/export`: the account and its whole history. `format` and `version` come first
/// in the file, so a reader knows what it holds before the conversations arrive.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct ExportDocument {
    /// Always `chatkeep.export`.
    pub format: String,
    /// 1.
    pub version: u32,
    pub exported_at: String,
    pub user: ExportUser,
    /// How the user signs in: providers and their ids, never passwords or tokens.
    pub accounts: Vec<ExportAccount>,
    /// Sessions: when and where, never their tokens.
    pub sessions: Vec<ExportSession>,
    pub conversations: Vec<ExportConversation>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct ExportUser {
    pub id: String,
    pub name: String,
    pub email: String,
    pub email_verified: bool,
    pub image: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct ExportAccount {
    pub provider_id: String,
    pub account_id: String,
    pub created_at: String,
    pub updated_at: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct ExportSession {
    pub created_at: String,
    pub updated_at: String,
    pub expires_at: String,
    pub ip_address: Option<String>,
    pub user_agent: Option<String>,
}

/// Where an imported conversation came from: the app and its own id for it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct ImportOrigin {
    /// `chatkeep`, `chatgpt` or `claude`.
    pub source: String,
    pub key: String,
}

/// A conversation with every message of every branch. `messages` is the last field.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct ExportConversation {
    pub id: String,
    pub title: Option<String>,
    #[serde(default)]
    pub pinned: bool,
    #[serde(default)]
    pub archived_at: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    pub last_message_at: String,
    /// The leaf of the branch last viewed.
    #[serde(default)]
    pub active_message_id: Option<String>,
    #[serde(default)]
    pub imported_from: Option<ImportOrigin>,
    /// Oldest first; `parentId` links them into branches.
    pub messages: Vec<ExportMessage>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct ExportMessage {
    pub id: String,
    pub parent_id: Option<String>,
    pub role: Role,
    pub content: String,
    #[serde(default)]
    pub selected_text: Option<String>,
    #[serde(default)]
    pub sources: Vec<Source>,
    pub status: MessageStatus,
    #[serde(default)]
    pub finish_reason: Option<String>,
    #[serde(default)]
    pub error: Option<String>,
    #[serde(default)]
    pub usage: Option<Usage>,
    pub created_at: String,
    pub updated_at: String,
    #[serde(default)]
    pub feedback: Option<Feedback>,
}

/// One conversation that could not be imported, and why. Nothing of it was stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct ImportFailure {
    /// The source's id for it, or its position in the file (`#3`) when it has none.
    pub conversation: String,
    pub title: Option<String>,
    /// Why, for programs: `UNREADABLE`, `NOT_STORED`, `CUT_SHORT`, `STORAGE_FULL`, or the cap
    /// it passed: `TOO_MANY_VALUES` (`IMPORT_MAX_NODES`), `TOO_MUCH_TEXT`
    /// (`IMPORT_MAX_CONVERSATION_BYTES`), `MESSAGE_TOO_LONG` (`IMPORT_MAX_MESSAGE_BYTES`),
    /// `TOO_MANY_MESSAGES` (`IMPORT_MAX_MESSAGES`).
    pub code: String,
    /// Why, for people.
    pub reason: String,
}

/// `POST /api/me/import`: what happened to each conversation of the file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct ImportReport {
    /// `chatkeep`, `chatgpt` or `claude`.
    pub format: String,
    /// Stored now.
    pub imported: u32,
    /// Imported before (the same source id): left as they were.
    pub already_imported: u32,
    pub failed: u32,
    pub failures: Vec<ImportFailure>,
    /// Messages stored now.
    pub messages: u64,
}

/// `DELETE /api/me`: the proof Better Auth's delete-user asks for. The password, or (without
/// one) a session signed in within the last day.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DeleteAccount {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
}

/// What `DELETE /api/me` removed, table by table.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct DeletionReceipt {
    pub users: u64,
    pub sessions: u64,
    pub accounts: u64,
    pub verifications: u64,
    pub conversations: u64,
    pub messages: u64,
    pub feedback: u64,
}
