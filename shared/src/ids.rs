//! Ids as types, so one kind cannot be passed where another is meant. A [`UserId`] is what
//! scopes every chat query and the row-level-security setting: only authentication makes one.
//! [`ConversationId`] and [`MessageId`] are UUIDv7s; on the wire every id is a plain string.

use std::fmt;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

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

/// An id over a UUID, printed and (de)serialized as the UUID's hyphenated form.
macro_rules! uuid_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(Uuid);

        impl $name {
            pub fn new(id: Uuid) -> Self {
                Self(id)
            }

            pub fn as_uuid(self) -> Uuid {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        /// Reads the hyphenated form (or any form `Uuid` reads), as in a URL's path.
        impl std::str::FromStr for $name {
            type Err = uuid::Error;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Uuid::parse_str(s).map(Self)
            }
        }
    };
}

uuid_id!(
    /// A conversation's id.
    ConversationId
);
uuid_id!(
    /// A message's id (questions and answers alike).
    MessageId
);

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

    #[test]
    fn uuid_ids_are_hyphenated_strings_on_the_wire() {
        let uuid = Uuid::parse_str("01935a3e-8b1c-7d2e-9f00-123456789abc").unwrap();
        let id = MessageId::new(uuid);
        assert_eq!(id.to_string(), "01935a3e-8b1c-7d2e-9f00-123456789abc");
        assert_eq!(
            serde_json::to_string(&id).unwrap(),
            r#""01935a3e-8b1c-7d2e-9f00-123456789abc""#
        );
        let back: MessageId =
            serde_json::from_str(r#""01935a3e-8b1c-7d2e-9f00-123456789abc""#).unwrap();
        assert_eq!(back, id);
        assert!(serde_json::from_str::<ConversationId>(r#""not-a-uuid""#).is_err());
        assert_eq!(
            "01935a3e-8b1c-7d2e-9f00-123456789abc"
                .parse::<MessageId>()
                .unwrap(),
            id
        );
        assert!("not-a-uuid".parse::<ConversationId>().is_err());
    }
}
