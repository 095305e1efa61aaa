//! Ids as types, so one kind cannot be passed where another is meant. A [`UserId`] is what
//! scopes every chat query and the row-level-security setting: only authentication makes one.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A user's id (Better Auth's `user.id`: 32 characters, not secret). On the wire, a plain string.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(transparent)]
pub struct UserId(String);

impl UserId {
    /// Wraps an id that authentication (or the database) vouches for.
    pub fn new(id: impl Into<String>) -> Self {
        Self(id.into())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

impl fmt::Display for UserId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_user_id_is_a_plain_string_on_the_wire() {
        let id = UserId::new("WOZidNc4zymSeE3YgkQL590WYfi9F6Zy");
        let json = serde_json::to_string(&id).unwrap();
        assert_eq!(json, r#""WOZidNc4zymSeE3YgkQL590WYfi9F6Zy""#);
        assert_eq!(serde_json::from_str::<UserId>(&json).unwrap(), id);
    }
}
