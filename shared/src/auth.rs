//! Better Auth's JSON shapes, field for field and in Better Auth's order, so the official
//! `better-auth` client and Chatkeep's SPA read the same bytes. Dates are ISO-8601 UTC strings
//! with milliseconds (`2026-11-27T03:10:44.169Z`).

use serde::{Deserialize, Serialize};

use crate::UserId;

/// A user as Better Auth returns it. The password never leaves the server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct User {
    pub name: String,
    pub email: String,
    pub email_verified: bool,
    pub image: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    /// A guest's account (Better Auth's anonymous plugin): present only when the server offers
    /// guests, `false` for everyone else then.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_anonymous: Option<bool>,
    /// Better Auth's admin plugin: the user's roles, comma-separated (`user`, `admin`).
    #[serde(default)]
    pub role: Option<String>,
    #[serde(default)]
    pub banned: Option<bool>,
    #[serde(default)]
    pub ban_reason: Option<String>,
    /// When a ban lifts itself (`null`: never, or not banned).
    #[serde(default)]
    pub ban_expires: Option<String>,
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub id: UserId,
}

impl User {
    /// An administrator (the admin plugin's `admin` role among the user's roles).
    pub fn is_admin(&self) -> bool {
        self.role
            .as_deref()
            .is_some_and(|roles| roles.split(',').any(|r| r.trim() == "admin"))
    }
}

/// A session row. The raw `token` is included, as Better Auth does (it is the bearer token).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Session {
    pub expires_at: String,
    pub token: String,
    pub created_at: String,
    pub updated_at: String,
    pub ip_address: Option<String>,
    pub user_agent: Option<String>,
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub user_id: UserId,
    /// The administrator impersonating the user in this session (admin plugin), or `null`.
    #[serde(default)]
    pub impersonated_by: Option<String>,
    pub id: String,
}

/// `GET /api/auth/get-session` (or JSON `null` when signed out).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SessionWithUser {
    pub session: Session,
    pub user: User,
}

/// `POST /api/auth/sign-up/email`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct SignUpRequest {
    pub name: String,
    pub email: String,
    pub password: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    /// Where the verification link leads, when one is sent.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        rename = "callbackURL"
    )]
    pub callback_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remember_me: Option<bool>,
}

/// Sign-up's answer: `token` is the new session's raw token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SignUpResponse {
    pub token: Option<String>,
    pub user: User,
}

/// `POST /api/auth/sign-in/email`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct SignInRequest {
    pub email: String,
    pub password: String,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        rename = "callbackURL"
    )]
    pub callback_url: Option<String>,
    /// Default `true`. `false` makes a one-day session held in a browser-session cookie.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remember_me: Option<bool>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SignInResponse {
    pub redirect: bool,
    pub token: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    pub user: User,
}

/// `POST /api/auth/sign-in/anonymous`: a guest's session token and user (no `redirect`, as
/// Better Auth's anonymous plugin answers).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AnonymousSignInResponse {
    pub token: String,
    pub user: User,
}

/// `POST /api/auth/sign-in/social` (and `/sign-in/oauth2`, with `providerId`): start a sign-in
/// with an identity provider.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct SocialSignInRequest {
    /// `github`, `google`, or an `OIDC_PROVIDERS` id.
    pub provider: String,
    /// Where the person lands when signed in (the base URL when absent).
    #[serde(
        rename = "callbackURL",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub callback_url: Option<String>,
    /// Where a person who has just signed up lands instead.
    #[serde(
        rename = "newUserCallbackURL",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub new_user_callback_url: Option<String>,
    /// Where a refused sign-in lands, with `?error=<code>`.
    #[serde(
        rename = "errorCallbackURL",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub error_callback_url: Option<String>,
    /// Answer the URL without the `Location` header.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disable_redirect: Option<bool>,
    /// Scopes to ask for besides the configured ones.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scopes: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_sign_up: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub login_hint: Option<String>,
}

/// Where to send the person next: the provider's authorization URL.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RedirectResponse {
    pub url: String,
    pub redirect: bool,
}

/// One of the user's ways in (`GET /api/auth/list-accounts`): `credential` is the password.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct LinkedAccount {
    /// The provider's id for the person (the user's id for `credential`).
    pub account_id: String,
    pub provider_id: String,
    pub user_id: String,
    pub created_at: String,
    pub updated_at: String,
    /// The account row's id: what `unlink-account` takes.
    pub id: String,
    pub scopes: Vec<String>,
}

/// `POST /api/auth/unlink-account`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct UnlinkAccountRequest {
    /// The account row's id, from `list-accounts`.
    pub account_id: String,
}

/// An identity provider the server offers (`GET /api/auth/providers`, Chatkeep's own).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct IdentityProvider {
    pub id: String,
    /// The button's label: "Continue with {name}".
    pub name: String,
}

/// `POST /api/auth/change-password`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct ChangePasswordRequest {
    pub new_password: String,
    pub current_password: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revoke_other_sessions: Option<bool>,
}

/// Change-password's answer: a new session token only when other sessions were revoked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ChangePasswordResponse {
    pub token: Option<String>,
    pub user: User,
}

/// `POST /api/auth/update-user`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UpdateUserRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
}

/// `POST /api/auth/delete-user`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DeleteUserRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
}

/// `POST /api/auth/revoke-session`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RevokeSessionRequest {
    /// The raw session token (as `list-sessions` shows it).
    pub token: String,
}

/// `{"status": true}`: revoke-* and update-user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StatusResponse {
    pub status: bool,
}

/// `POST /api/auth/send-verification-email`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct SendVerificationEmailRequest {
    pub email: String,
    /// Where the link leads after verifying: relative, or on a trusted origin (default `/`).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        rename = "callbackURL"
    )]
    pub callback_url: Option<String>,
}

/// `GET /api/auth/verify-email`'s answer: `{status, user: null}` for a verification,
/// `{status}` for the first step of a change of email, `{status, user}` for its last.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct VerifyEmailResponse {
    pub status: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<Option<User>>,
}

impl VerifyEmailResponse {
    /// An address verified (or already verified): `{"status":true,"user":null}`.
    pub fn verified() -> Self {
        Self {
            status: true,
            user: Some(None),
        }
    }

    /// A change of email confirmed from the old address: `{"status":true}`.
    pub fn status_only() -> Self {
        Self {
            status: true,
            user: None,
        }
    }

    /// A change of email done: `{"status":true,"user":{...}}`.
    pub fn changed(user: impl Into<User>) -> Self {
        Self {
            status: true,
            user: Some(Some(user.into())),
        }
    }
}

/// `POST /api/auth/request-password-reset`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct RequestPasswordResetRequest {
    pub email: String,
    /// The app's page that takes the token (`?token=`, or `?error=INVALID_TOKEN`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub redirect_to: Option<String>,
}

/// `{"status": true, "message": ...}`: the same answer for every address.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StatusMessageResponse {
    pub status: bool,
    pub message: String,
}

/// `POST /api/auth/reset-password`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct ResetPasswordRequest {
    pub new_password: String,
    /// The token the reset link carried (it may come as `?token=` instead).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
}

/// `POST /api/auth/change-email`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct ChangeEmailRequest {
    pub new_email: String,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        rename = "callbackURL"
    )]
    pub callback_url: Option<String>,
}

/// How a server asks for email verification (`EMAIL_VERIFICATION`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum EmailVerificationMode {
    Off,
    Optional,
    Required,
}

/// `GET /api/features`: the account flows a server offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct AccountFeatures {
    pub email_verification: EmailVerificationMode,
    pub password_reset: bool,
    /// A password reset signs the account out on every device.
    pub reset_signs_out: bool,
    pub change_email: bool,
    /// Guests may chat without an account (`ANONYMOUS_SIGN_IN`).
    #[serde(default)]
    pub guests: bool,
    /// What a guest may do before they sign up (when `guests`).
    #[serde(default)]
    pub guest_messages_per_day: u32,
    #[serde(default)]
    pub guest_max_conversations: u32,
    #[serde(default)]
    pub guest_retention_days: u32,
}

/// `{"success": true}`: sign-out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SuccessResponse {
    pub success: bool,
}

/// `{"success": true, "message": "User deleted"}`: delete-user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DeleteUserResponse {
    pub success: bool,
    pub message: String,
}

/// `GET /api/auth/token`: a 15-minute EdDSA JWT for the current session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TokenResponse {
    pub token: String,
}

/// Better Auth's error body: `message` always, `code` on most errors.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AuthErrorBody {
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
}
