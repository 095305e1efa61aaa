//! Opaque keyset cursors: the sort key of the last row on a page, `(timestamp, id)`, in
//! base64url. Clients pass them back untouched; anything else is a clear 400.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Datelike, Utc};
use uuid::Uuid;

use crate::error::ApiError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cursor {
    pub at: DateTime<Utc>,
    pub id: Uuid,
}

impl Cursor {
    pub fn encode(&self) -> String {
        URL_SAFE_NO_PAD.encode(format!("{}.{}", self.at.timestamp_micros(), self.id))
    }

    pub fn decode(raw: &str) -> Result<Self, ApiError> {
        let invalid = invalid_cursor;
        let bytes = URL_SAFE_NO_PAD.decode(raw).map_err(|_| invalid())?;
        let text = String::from_utf8(bytes).map_err(|_| invalid())?;
        let (micros, id) = text.split_once('.').ok_or_else(invalid)?;
        // chrono takes dates PostgreSQL refuses (before 4713 BC); no cursor of ours is outside
        // the years 1 to 9999, so anything else is not one this server issued.
        let at = micros
            .parse::<i64>()
            .ok()
            .and_then(DateTime::from_timestamp_micros)
            .filter(|at| (1..=9999).contains(&at.year()))
            .ok_or_else(invalid)?;
        let id = Uuid::parse_str(id).map_err(|_| invalid())?;
        Ok(Self { at, id })
    }
}

/// The `400` for a cursor this server did not issue.
pub fn invalid_cursor() -> ApiError {
    ApiError::bad_request(
        "INVALID_CURSOR",
        "The cursor is not one this server issued; pass back nextCursor unchanged.",
    )
}

/// Page sizes: absent = `default`, above `max` = `max`; zero is a client bug, so it is refused.
pub fn page_limit(requested: Option<u32>, default: u32, max: u32) -> Result<i64, ApiError> {
    match requested {
        None => Ok(i64::from(default)),
        Some(0) => Err(ApiError::bad_request(
            "INVALID_LIMIT",
            format!("limit must be between 1 and {max}"),
        )),
        Some(n) => Ok(i64::from(n.min(max))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_at_microsecond_precision() {
        let cursor = Cursor {
            at: DateTime::from_timestamp_micros(1_795_749_232_123_456).unwrap(),
            id: Uuid::now_v7(),
        };
        assert_eq!(Cursor::decode(&cursor.encode()).unwrap(), cursor);
    }

    #[test]
    fn garbage_cursors_are_400() {
        for raw in [
            "",
            "!!!",
            "bm90LWEtY3Vyc29y",
            &URL_SAFE_NO_PAD.encode("12.not-a-uuid"),
        ] {
            assert_eq!(
                Cursor::decode(raw).unwrap_err().code(),
                "INVALID_CURSOR",
                "{raw}"
            );
        }
    }

    #[test]
    fn limits_are_clamped_above_and_refused_at_zero() {
        assert_eq!(page_limit(None, 20, 100).unwrap(), 20);
        assert_eq!(page_limit(Some(500), 20, 100).unwrap(), 100);
        assert!(page_limit(Some(0), 20, 100).is_err());
    }
}

#[cfg(test)]
mod properties {
    use chrono::TimeZone;
    use proptest::prelude::*;

    use super::*;

    proptest! {
        /// Whatever a client sends as a cursor is a cursor or a 400, never a panic.
        #[test]
        fn any_text_decodes_or_is_refused(raw in any::<String>()) {
            let _ = Cursor::decode(&raw);
        }

        /// And anything that decodes to the right shape at all: base64 of arbitrary text.
        #[test]
        fn any_base64_decodes_or_is_refused(text in any::<String>()) {
            let _ = Cursor::decode(&URL_SAFE_NO_PAD.encode(text));
        }

        #[test]
        fn every_cursor_we_issue_reads_back_as_itself(
            // Years 1 to 9999, to the microsecond.
            micros in -62_135_596_800_000_000i64..253_402_300_799_999_999,
            id in any::<u128>(),
        ) {
            let at = Utc.timestamp_micros(micros).unwrap();
            let cursor = Cursor { at, id: Uuid::from_u128(id) };
            prop_assert_eq!(Cursor::decode(&cursor.encode()).unwrap(), cursor);
        }
    }
}
