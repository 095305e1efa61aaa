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
}
