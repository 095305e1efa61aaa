//! Better Auth's admin plugin on the wire (`/api/auth/admin/*`), field for field as the official
//! client's `authClient.admin.*` methods send and read it.

use serde::{Deserialize, Serialize};

use crate::auth::{Session, User};

/// `GET /api/auth/admin/list-users`: a page of users and how many match in all; `limit` and
/// `offset` echo the query when it had them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UserList {
    pub users: Vec<User>,
    pub total: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offset: Option<i64>,
}

/// `{"user": …}`: create-user, set-role, ban-user and unban-user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UserEnvelope {
    pub user: User,
}

/// `{"sessions": […]}`: list-user-sessions (expired sessions too).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UserSessions {
    pub sessions: Vec<Session>,
}

/// `POST /api/auth/admin/create-user`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreateUser {
    pub email: String,
    /// None: a user who signs in only through a provider or a reset link.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
    pub name: String,
    /// A role, or several (`["user", "admin"]`); `user` when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Object>))]
    pub role: Option<serde_json::Value>,
    /// More fields for the user (`emailVerified`, `image`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Object>))]
    pub data: Option<serde_json::Value>,
}

/// `POST /api/auth/admin/update-user`: `data` holds the fields to change (`name`, `image`,
/// `email`, `emailVerified`, `role`, `banned`, `banReason`, `banExpires`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct UpdateUser {
    pub user_id: String,
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub data: serde_json::Value,
}

/// `POST /api/auth/admin/set-role`: a role or a list of them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct SetRole {
    pub user_id: String,
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub role: serde_json::Value,
}

/// `POST /api/auth/admin/ban-user`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct BanUser {
    pub user_id: String,
    /// Shown to nobody but administrators; "No reason" when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ban_reason: Option<String>,
    /// Seconds until the ban lifts itself; a ban without end when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ban_expires_in: Option<f64>,
}

/// `{"userId"}`: unban-user, list-user-sessions, revoke-user-sessions, remove-user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct UserIdBody {
    pub user_id: String,
}

/// `POST /api/auth/admin/revoke-user-session`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct RevokeUserSession {
    pub session_token: String,
}

/// `POST /api/auth/admin/set-user-password`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct SetUserPassword {
    pub new_password: String,
    pub user_id: String,
}

/// `POST /api/auth/admin/has-permission`: `{"permissions": {"user": ["ban"]}}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct HasPermission {
    pub permissions: std::collections::BTreeMap<String, Vec<String>>,
}

/// has-permission's answer: `error` is always `null`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PermissionAnswer {
    pub error: Option<String>,
    pub success: bool,
}

/// One account as the Admin page lists it (`GET /api/admin/users`): who, and numbers. Never a
/// title or a message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct AccountRow {
    pub name: String,
    pub email: String,
    pub email_verified: bool,
    /// Comma-separated roles (`user`, `admin`).
    pub role: String,
    pub banned: bool,
    pub ban_reason: Option<String>,
    /// When the ban lifts itself; `null` for a ban without end (or none).
    pub ban_expires: Option<String>,
    /// A guest's account (anonymous sign-in).
    pub guest: bool,
    /// Signed up.
    pub created_at: String,
    /// The last message or session activity; `null` when there was none.
    pub last_active_at: Option<String>,
    /// How the account signs in: `credential` (a password), `github`, `google`, a provider id.
    pub sign_in_methods: Vec<String>,
    /// Unexpired sessions.
    pub sessions: i64,
    pub conversations: i64,
    pub messages: i64,
    /// Bytes of message text, selections, sources and errors (as `USER_MAX_STORED_BYTES` counts).
    pub stored_bytes: i64,
    /// Questions asked since midnight UTC.
    pub questions_today: i64,
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub id: crate::UserId,
}

/// A page of [`AccountRow`]s and how many accounts match in all.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AccountPage {
    pub accounts: Vec<AccountRow>,
    pub total: i64,
    pub limit: i64,
    pub offset: i64,
}
