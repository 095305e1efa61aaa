//! Errors on `/api/auth`, in Better Auth's exact shapes: `{"message","code"}` in that order, a
//! few with no `code`, and an empty-bodied 404 for unknown auth paths. The rest of `/api` uses
//! [`crate::error::ApiError`]; this type exists because the official client (and every app
//! written against Better Auth) reads these bodies and statuses.

use std::borrow::Cow;

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use shared::auth::AuthErrorBody;
use shared::error::Code;

#[derive(Debug)]
pub enum AuthError {
    Body {
        status: StatusCode,
        code: Option<&'static str>,
        message: Cow<'static, str>,
    },
    /// Better Auth's unknown-path answer: 404 with no body and no content type.
    EmptyNotFound,
    /// The admin plugin's answer without a session: 401, `application/json`, an empty body.
    EmptyUnauthorized,
    /// A rate limit, answered as Better Auth's limiter answers: 429, `X-Retry-After`, and a
    /// body with only a message.
    TooManyRequests { retry_after_secs: u64 },
    /// A failure of ours; logged, answered with Better Auth's generic 500.
    Internal(anyhow::Error),
}

impl std::fmt::Display for AuthError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Body { message, .. } => f.write_str(message),
            Self::EmptyNotFound => f.write_str("not found"),
            Self::EmptyUnauthorized => f.write_str("unauthorized"),
            Self::TooManyRequests { .. } => f.write_str("too many requests"),
            Self::Internal(e) => write!(f, "{e:#}"),
        }
    }
}

impl From<anyhow::Error> for AuthError {
    fn from(e: anyhow::Error) -> Self {
        if e.is::<super::password::HasherBusy>() {
            return body(
                StatusCode::SERVICE_UNAVAILABLE,
                Code::Busy.as_str(),
                "Too many passwords are being checked right now; try again in a few seconds.",
            );
        }
        Self::Internal(e)
    }
}

impl From<sqlx::Error> for AuthError {
    /// The database away (down, restarting, every connection busy) is a 503 here as on every
    /// route; anything else a 500.
    fn from(e: sqlx::Error) -> Self {
        if crate::db::is_unavailable(&e) {
            tracing::warn!(
                error = crate::telemetry::chain(&e),
                "the database is unavailable"
            );
            return Self::DATABASE_UNAVAILABLE;
        }
        Self::Internal(anyhow::Error::new(e).context("auth database query failed"))
    }
}

pub(crate) const fn body(
    status: StatusCode,
    code: &'static str,
    message: &'static str,
) -> AuthError {
    AuthError::Body {
        status,
        code: Some(code),
        message: Cow::Borrowed(message),
    }
}

impl AuthError {
    pub fn validation(message: String) -> Self {
        Self::Body {
            status: StatusCode::BAD_REQUEST,
            code: Some("VALIDATION_ERROR"),
            message: Cow::Owned(message),
        }
    }

    pub const UNAUTHORIZED: Self = body(StatusCode::UNAUTHORIZED, "UNAUTHORIZED", "Unauthorized");
    pub const DATABASE_UNAVAILABLE: Self = body(
        StatusCode::SERVICE_UNAVAILABLE,
        "DATABASE_UNAVAILABLE",
        "The database is busy or unreachable; please retry.",
    );
    pub const INVALID_EMAIL_OR_PASSWORD: Self = body(
        StatusCode::UNAUTHORIZED,
        Code::InvalidEmailOrPassword.as_str(),
        "Invalid email or password",
    );
    pub const INVALID_EMAIL: Self = body(
        StatusCode::BAD_REQUEST,
        Code::InvalidEmail.as_str(),
        "Invalid email",
    );
    pub const INVALID_PASSWORD: Self = body(
        StatusCode::BAD_REQUEST,
        Code::InvalidPassword.as_str(),
        "Invalid password",
    );
    pub const PASSWORD_TOO_SHORT: Self = body(
        StatusCode::BAD_REQUEST,
        Code::PasswordTooShort.as_str(),
        "Password too short",
    );
    pub const PASSWORD_TOO_LONG: Self = body(
        StatusCode::BAD_REQUEST,
        Code::PasswordTooLong.as_str(),
        "Password too long",
    );
    pub const USER_ALREADY_EXISTS: Self = body(
        StatusCode::UNPROCESSABLE_ENTITY,
        Code::UserAlreadyExistsUseAnotherEmail.as_str(),
        "User already exists. Use another email.",
    );
    pub const CREDENTIAL_ACCOUNT_NOT_FOUND: Self = body(
        StatusCode::BAD_REQUEST,
        "CREDENTIAL_ACCOUNT_NOT_FOUND",
        "Credential account not found",
    );
    pub const EMAIL_CAN_NOT_BE_UPDATED: Self = body(
        StatusCode::BAD_REQUEST,
        "EMAIL_CAN_NOT_BE_UPDATED",
        "Email can not be updated",
    );
    pub const NO_FIELDS_TO_UPDATE: Self = AuthError::Body {
        status: StatusCode::BAD_REQUEST,
        code: None,
        message: Cow::Borrowed("No fields to update"),
    };
    pub const BODY_MUST_BE_AN_OBJECT: Self = body(
        StatusCode::BAD_REQUEST,
        "BODY_MUST_BE_AN_OBJECT",
        "Body must be an object",
    );
    // Identity providers and linked accounts, as Better Auth words them.
    pub const PROVIDER_NOT_FOUND: Self = body(
        StatusCode::NOT_FOUND,
        Code::ProviderNotFound.as_str(),
        "Provider not found",
    );
    pub const ID_TOKEN_NOT_SUPPORTED: Self = body(
        StatusCode::NOT_FOUND,
        "ID_TOKEN_NOT_SUPPORTED",
        "id_token not supported",
    );
    pub const FAILED_TO_UNLINK_LAST_ACCOUNT: Self = body(
        StatusCode::BAD_REQUEST,
        Code::FailedToUnlinkLastAccount.as_str(),
        "You can't unlink your last account",
    );
    pub const ACCOUNT_NOT_FOUND: Self = body(
        StatusCode::BAD_REQUEST,
        "ACCOUNT_NOT_FOUND",
        "Account not found",
    );
    pub const SESSION_NOT_FRESH: Self = body(
        StatusCode::FORBIDDEN,
        Code::SessionNotFresh.as_str(),
        "Session is not fresh",
    );
    pub const SESSION_EXPIRED: Self = body(
        StatusCode::BAD_REQUEST,
        Code::SessionExpired.as_str(),
        "Session expired. Re-authenticate to perform this action.",
    );
    pub const INVALID_JSON: Self = body(
        StatusCode::BAD_REQUEST,
        "BAD_REQUEST",
        "Invalid JSON in request body",
    );
    pub const PAYLOAD_TOO_LARGE: Self = body(
        StatusCode::PAYLOAD_TOO_LARGE,
        "PAYLOAD_TOO_LARGE",
        "Request body is too large",
    );
    pub const METHOD_NOT_ALLOWED_DEFER_SESSION_REQUIRED: Self = body(
        StatusCode::METHOD_NOT_ALLOWED,
        "METHOD_NOT_ALLOWED_DEFER_SESSION_REQUIRED",
        "POST method requires deferSessionRefresh to be enabled in session config",
    );
    pub const MISSING_OR_NULL_ORIGIN: Self = body(
        StatusCode::FORBIDDEN,
        "MISSING_OR_NULL_ORIGIN",
        "Missing or null Origin",
    );
    pub const INVALID_ORIGIN: Self =
        body(StatusCode::FORBIDDEN, "INVALID_ORIGIN", "Invalid origin");
    pub const CROSS_SITE_NAVIGATION_LOGIN_BLOCKED: Self = body(
        StatusCode::FORBIDDEN,
        "CROSS_SITE_NAVIGATION_LOGIN_BLOCKED",
        "Cross-site navigation login blocked. This request appears to be a CSRF attack.",
    );
    pub const INVALID_CALLBACK_URL: Self = body(
        StatusCode::FORBIDDEN,
        "INVALID_CALLBACK_URL",
        "Invalid callbackURL",
    );

    pub const INVALID_REDIRECT_URL: Self = body(
        StatusCode::FORBIDDEN,
        "INVALID_REDIRECT_URL",
        "Invalid redirectURL",
    );

    // Email verification, password reset and change of email, as Better Auth words them.
    pub const VERIFICATION_EMAIL_NOT_ENABLED: Self = body(
        StatusCode::BAD_REQUEST,
        "VERIFICATION_EMAIL_NOT_ENABLED",
        "Verification email isn't enabled",
    );
    pub const EMAIL_MISMATCH: Self =
        body(StatusCode::BAD_REQUEST, "EMAIL_MISMATCH", "Email mismatch");
    pub const EMAIL_ALREADY_VERIFIED: Self = body(
        StatusCode::BAD_REQUEST,
        "EMAIL_ALREADY_VERIFIED",
        "Email is already verified",
    );
    pub const EMAIL_NOT_VERIFIED: Self = body(
        StatusCode::FORBIDDEN,
        Code::EmailNotVerified.as_str(),
        "Email not verified",
    );
    /// The admin plugin's refusal of a banned user's new session (its default message).
    pub const BANNED_USER: Self = body(
        StatusCode::FORBIDDEN,
        Code::BannedUser.as_str(),
        "You have been banned from this application. Please contact support if you believe this is an error.",
    );
    pub const RESET_PASSWORD_DISABLED: Self = body(
        StatusCode::BAD_REQUEST,
        "RESET_PASSWORD_DISABLED",
        "Reset password isn't enabled",
    );
    /// A reset token that is unknown, used or expired (400, as `reset-password` answers).
    pub const INVALID_RESET_TOKEN: Self = body(
        StatusCode::BAD_REQUEST,
        Code::InvalidToken.as_str(),
        "Invalid token",
    );
    pub const RESET_USER_NOT_FOUND: Self =
        body(StatusCode::BAD_REQUEST, "USER_NOT_FOUND", "User not found");
    pub const ANONYMOUS_USERS_CANNOT_SIGN_IN_AGAIN_ANONYMOUSLY: Self = body(
        StatusCode::BAD_REQUEST,
        "ANONYMOUS_USERS_CANNOT_SIGN_IN_AGAIN_ANONYMOUSLY",
        "Anonymous users cannot sign in again anonymously",
    );
    pub const USER_IS_NOT_ANONYMOUS: Self = body(
        StatusCode::FORBIDDEN,
        "USER_IS_NOT_ANONYMOUS",
        "User is not anonymous",
    );
    pub const CHANGE_EMAIL_DISABLED: Self = body(
        StatusCode::BAD_REQUEST,
        "CHANGE_EMAIL_DISABLED",
        "Change email is disabled",
    );
    pub const EMAIL_IS_THE_SAME: Self = AuthError::Body {
        status: StatusCode::BAD_REQUEST,
        code: None,
        message: Cow::Borrowed("Email is the same"),
    };
    /// `verify-email`'s refusals (401), by their codes.
    pub fn verify_email(code: &'static str) -> Self {
        let message = match code {
            c if c == Code::TokenExpired.as_str() => "Token expired",
            "USER_NOT_FOUND" => "User not found",
            c if c == Code::InvalidUser.as_str() => "Invalid user",
            _ => "Invalid token",
        };
        body(StatusCode::UNAUTHORIZED, code, message)
    }

    pub fn unsupported_media_type(content_type: &str) -> Self {
        Self::Body {
            status: StatusCode::UNSUPPORTED_MEDIA_TYPE,
            code: Some("UNSUPPORTED_MEDIA_TYPE"),
            message: Cow::Owned(format!(
                "Content-Type \"{content_type}\" is not allowed. Allowed types: \
                 application/x-www-form-urlencoded, application/json"
            )),
        }
    }

    /// The machine-readable code, for logs and tests.
    pub fn code(&self) -> Option<&'static str> {
        match self {
            Self::Body { code, .. } => *code,
            Self::EmptyNotFound | Self::TooManyRequests { .. } => None,
            Self::EmptyUnauthorized => Some("UNAUTHORIZED"),
            Self::Internal(_) => Some("INTERNAL_SERVER_ERROR"),
        }
    }
}

impl ResponseError for AuthError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::Body { status, .. } => *status,
            Self::EmptyNotFound => StatusCode::NOT_FOUND,
            Self::EmptyUnauthorized => StatusCode::UNAUTHORIZED,
            Self::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        match self {
            Self::Body {
                status,
                code,
                message,
            } => HttpResponse::build(*status).json(AuthErrorBody {
                message: message.to_string(),
                code: code.map(str::to_owned),
            }),
            Self::EmptyNotFound => HttpResponse::NotFound().finish(),
            Self::EmptyUnauthorized => HttpResponse::Unauthorized()
                .insert_header((actix_web::http::header::CONTENT_TYPE, "application/json"))
                .finish(),
            Self::TooManyRequests { retry_after_secs } => HttpResponse::TooManyRequests()
                .insert_header(("x-retry-after", retry_after_secs.to_string()))
                .json(serde_json::json!({
                    "message": "Too many requests. Please try again later."
                })),
            Self::Internal(cause) => {
                tracing::error!(
                    error = crate::telemetry::chain(cause.as_ref()),
                    "internal error in /api/auth"
                );
                HttpResponse::InternalServerError().json(AuthErrorBody {
                    message: "Internal Server Error".to_owned(),
                    code: Some("INTERNAL_SERVER_ERROR".to_owned()),
                })
            }
        }
    }
}
