use serde::{Deserialize, Serialize};

/// Every error the API returns: a stable SCREAMING_SNAKE `code` for programs and a
/// human-readable `message`. Better Auth uses the same two fields.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ErrorBody {
    /// Machine-readable, e.g. `NOT_FOUND`, `VALIDATION_ERROR`.
    #[cfg_attr(feature = "openapi", schema(example = "NOT_FOUND"))]
    pub code: String,
    /// Human-readable explanation, safe to show to a user.
    #[cfg_attr(
        feature = "openapi",
        schema(example = "No route matches GET /api/nope")
    )]
    pub message: String,
}

/// Declares [`Code`]: each variant with its text on the wire.
macro_rules! codes {
    ($($(#[$doc:meta])* $variant:ident = $text:literal,)*) => {
        /// The error codes the app branches on: one list, used by the server when it answers
        /// and by the app when it reads `ErrorBody::code`. Codes not listed here still reach
        /// the app as text (and are shown by their message); only these change what it does.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Code {
            $($(#[$doc])* $variant,)*
        }

        impl Code {
            pub const ALL: &'static [Code] = &[$(Code::$variant,)*];

            /// The code as it is written on the wire.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $(Code::$variant => $text,)*
                }
            }

            /// The listed code `code` is, if it is one.
            pub fn parse(code: &str) -> Option<Self> {
                match code {
                    $($text => Some(Code::$variant),)*
                    _ => None,
                }
            }
        }
    };
}

codes! {
    /// Sign-in with an unknown address or a wrong password (one answer for both).
    InvalidEmailOrPassword = "INVALID_EMAIL_OR_PASSWORD",
    InvalidEmail = "INVALID_EMAIL",
    /// The current password, asked again to confirm a change, is wrong.
    InvalidPassword = "INVALID_PASSWORD",
    PasswordTooShort = "PASSWORD_TOO_SHORT",
    PasswordTooLong = "PASSWORD_TOO_LONG",
    /// Better Auth's older wording of the next one.
    UserAlreadyExists = "USER_ALREADY_EXISTS",
    UserAlreadyExistsUseAnotherEmail = "USER_ALREADY_EXISTS_USE_ANOTHER_EMAIL",
    /// `EMAIL_VERIFICATION=required`: no session until the address is verified.
    EmailNotVerified = "EMAIL_NOT_VERIFIED",
    /// A sensitive change needs a session signed in within the last day.
    SessionNotFresh = "SESSION_NOT_FRESH",
    SessionExpired = "SESSION_EXPIRED",
    /// An administrator has banned the account (Better Auth's admin plugin).
    BannedUser = "BANNED_USER",
    FailedToUnlinkLastAccount = "FAILED_TO_UNLINK_LAST_ACCOUNT",
    ProviderNotFound = "PROVIDER_NOT_FOUND",
    /// A mailed link that is unknown, used, or for another purpose.
    InvalidToken = "INVALID_TOKEN",
    TokenExpired = "TOKEN_EXPIRED",
    /// A verification link whose user is gone.
    InvalidUser = "INVALID_USER",
    Unauthorized = "UNAUTHORIZED",
    NotFound = "NOT_FOUND",
    RateLimited = "RATE_LIMITED",
    /// Every generation slot is taken (503); retry.
    Busy = "BUSY",
    /// Made by the app, never sent: the request did not reach the server.
    NetworkError = "NETWORK_ERROR",
    /// Made by the app, never sent: an answer that was not the JSON expected.
    BadResponse = "BAD_RESPONSE",
    /// Made by the app, never sent: an error status with no error body.
    HttpError = "HTTP_ERROR",
}

impl ErrorBody {
    /// The listed [`Code`] this error is, if any.
    pub fn known_code(&self) -> Option<Code> {
        Code::parse(&self.code)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_body_serializes_as_code_and_message() {
        let body = ErrorBody {
            code: "NOT_FOUND".into(),
            message: "gone".into(),
        };
        assert_eq!(
            serde_json::to_string(&body).unwrap(),
            r#"{"code":"NOT_FOUND","message":"gone"}"#
        );
    }

    #[test]
    fn every_code_reads_back_as_itself_and_is_written_as_the_wire_writes_codes() {
        for code in Code::ALL {
            assert_eq!(Code::parse(code.as_str()), Some(*code));
            assert!(
                code.as_str()
                    .chars()
                    .all(|c| c.is_ascii_uppercase() || c == '_'),
                "{code:?}"
            );
        }
        let unique: std::collections::HashSet<_> = Code::ALL.iter().map(|c| c.as_str()).collect();
        assert_eq!(unique.len(), Code::ALL.len());
        assert_eq!(Code::parse("SOMETHING_NEW"), None);
    }
}
