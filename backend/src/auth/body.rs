//! Reading Better Auth request bodies: JSON or form-encoded, validated field by field with the
//! messages Better Auth's zod schemas produce (`[body.email] Invalid email address`).

use actix_web::HttpRequest;
use actix_web::http::header;
use serde_json::{Map, Value};

use super::error::AuthError;

/// Largest auth request body we read. Every Better Auth body is a handful of short fields.
pub const BODY_LIMIT: usize = 64 * 1024;

/// A parsed body: `None` when the request had none (Better Auth's `undefined`).
pub struct Body(Option<Value>);

impl Body {
    /// Parses `bytes` by content type. Empty bodies are "no body", whatever the type says.
    pub fn parse(req: &HttpRequest, bytes: &[u8]) -> Result<Self, AuthError> {
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(Self(None));
        }
        let content_type = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        match crate::error::media_type(req.headers()).as_str() {
            "application/json" => serde_json::from_slice(bytes)
                .map(|v| Self(Some(v)))
                .map_err(|_| AuthError::INVALID_JSON),
            "application/x-www-form-urlencoded" => {
                let pairs: Vec<(String, String)> =
                    serde_urlencoded::from_bytes(bytes).map_err(|_| AuthError::INVALID_JSON)?;
                let map = pairs
                    .into_iter()
                    .map(|(k, v)| (k, Value::String(v)))
                    .collect();
                Ok(Self(Some(Value::Object(map))))
            }
            _ => Err(AuthError::unsupported_media_type(content_type)),
        }
    }

    /// The body as an object; a missing body fails like zod's `z.object()` does.
    pub fn object(&self) -> Result<Fields<'_>, AuthError> {
        match &self.0 {
            Some(Value::Object(map)) => Ok(Fields(map)),
            other => Err(AuthError::validation(format!(
                "[body] Invalid input: expected object, received {}",
                type_name(other.as_ref())
            ))),
        }
    }

    pub fn raw(&self) -> Option<&Value> {
        self.0.as_ref()
    }
}

/// zod's names for what it received.
fn type_name(value: Option<&Value>) -> &'static str {
    match value {
        None => "undefined",
        Some(Value::Null) => "null",
        Some(Value::Bool(_)) => "boolean",
        Some(Value::Number(_)) => "number",
        Some(Value::String(_)) => "string",
        Some(Value::Array(_)) => "array",
        Some(Value::Object(_)) => "object",
    }
}

pub struct Fields<'a>(&'a Map<String, Value>);

impl<'a> Fields<'a> {
    fn invalid(key: &str, expected: &str, got: Option<&Value>) -> AuthError {
        AuthError::validation(format!(
            "[body.{key}] Invalid input: expected {expected}, received {}",
            type_name(got)
        ))
    }

    /// PostgreSQL text cannot hold NUL: refused here rather than failing at the insert.
    fn no_nul(key: &str, s: &'a str) -> Result<&'a str, AuthError> {
        if s.contains('\0') {
            return Err(AuthError::validation(format!(
                "[body.{key}] Invalid input: must not contain NUL characters"
            )));
        }
        Ok(s)
    }

    pub fn string(&self, key: &str) -> Result<&'a str, AuthError> {
        match self.0.get(key) {
            Some(Value::String(s)) => Self::no_nul(key, s),
            other => Err(Self::invalid(key, "string", other)),
        }
    }

    pub fn optional_string(&self, key: &str) -> Result<Option<&'a str>, AuthError> {
        match self.0.get(key) {
            None => Ok(None),
            Some(Value::String(s)) => Self::no_nul(key, s).map(Some),
            other => Err(Self::invalid(key, "string", other)),
        }
    }

    /// A string that may also be explicitly `null` (e.g. clearing `image`).
    pub fn nullable_string(&self, key: &str) -> Result<Option<Option<&'a str>>, AuthError> {
        match self.0.get(key) {
            None => Ok(None),
            Some(Value::Null) => Ok(Some(None)),
            Some(Value::String(s)) => Self::no_nul(key, s).map(|s| Some(Some(s))),
            other => Err(Self::invalid(key, "string", other)),
        }
    }

    /// The object under `key` (`update-user`'s `data`).
    pub fn object(&self, key: &str) -> Result<Fields<'a>, AuthError> {
        match self.0.get(key) {
            Some(Value::Object(map)) => Ok(Fields(map)),
            other => Err(Self::invalid(key, "record", other)),
        }
    }

    /// The keys present.
    pub fn keys(&self) -> impl Iterator<Item = &'a str> {
        self.0.keys().map(String::as_str)
    }

    /// The raw value of `key`, for fields that take more than one shape.
    pub fn value(&self, key: &str) -> Option<&'a Value> {
        self.0.get(key)
    }

    /// Whether the body has `key` at all.
    pub fn has(&self, key: &str) -> bool {
        self.0.contains_key(key)
    }

    /// An array of strings, when present.
    pub fn optional_strings(&self, key: &str) -> Result<Option<Vec<String>>, AuthError> {
        match self.0.get(key) {
            None => Ok(None),
            Some(Value::Array(items)) => items
                .iter()
                .map(|item| match item {
                    Value::String(s) => Self::no_nul(key, s).map(str::to_owned),
                    other => Err(Self::invalid(key, "string", Some(other))),
                })
                .collect::<Result<Vec<_>, _>>()
                .map(Some),
            other => Err(Self::invalid(key, "array", other)),
        }
    }

    pub fn optional_bool(&self, key: &str) -> Result<Option<bool>, AuthError> {
        match self.0.get(key) {
            None => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            // Form posts carry booleans as text.
            Some(Value::String(s)) if s == "true" => Ok(Some(true)),
            Some(Value::String(s)) if s == "false" => Ok(Some(false)),
            other => Err(Self::invalid(key, "boolean", other)),
        }
    }

    /// An email as zod's `z.email()` accepts it, lower-cased as Better Auth stores it.
    pub fn email(&self, key: &str) -> Result<String, AuthError> {
        let raw = self.string(key)?;
        if !is_email(raw) {
            return Err(AuthError::validation(format!(
                "[body.{key}] Invalid email address"
            )));
        }
        Ok(raw.to_lowercase())
    }
}

/// zod 4's email rule, in substance: a dotted local part without leading/trailing/double dots,
/// an `@`, and a domain of dot-separated labels (letters, digits, hyphens) ending in a label of
/// at least two letters.
pub fn is_email(s: &str) -> bool {
    let Some((local, domain)) = s.rsplit_once('@') else {
        return false;
    };
    let local_ok = !local.is_empty()
        && !local.starts_with('.')
        && !local.ends_with('.')
        && !local.contains("..")
        && local
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "!#$%&'*+/=?^_`{|}~.-".contains(c));
    let labels: Vec<&str> = domain.split('.').collect();
    let domain_ok = labels.len() >= 2
        && labels.iter().all(|l| {
            !l.is_empty()
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        })
        && labels
            .last()
            .is_some_and(|tld| tld.len() >= 2 && tld.chars().all(|c| c.is_ascii_alphabetic()));
    local_ok && domain_ok
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_checked_like_zod() {
        for ok in [
            "a@example.com",
            "first.last+tag@sub.example.co",
            "x_y@a-b.io",
        ] {
            assert!(is_email(ok), "{ok}");
        }
        for bad in [
            "not-an-email",
            "a@b",
            "@example.com",
            "a..b@example.com",
            "a@-x.com",
            "a@x.c1",
        ] {
            assert!(!is_email(bad), "{bad}");
        }
    }

    #[test]
    fn validation_messages_name_the_field_and_the_types() {
        let value = serde_json::json!({ "name": 42, "flag": "yes" });
        let map = value.as_object().unwrap();
        let fields = Fields(map);
        let err = fields.string("email").unwrap_err().to_string();
        assert_eq!(
            err,
            "[body.email] Invalid input: expected string, received undefined"
        );
        let err = fields.string("name").unwrap_err().to_string();
        assert_eq!(
            err,
            "[body.name] Invalid input: expected string, received number"
        );
        let err = fields.optional_bool("flag").unwrap_err().to_string();
        assert_eq!(
            err,
            "[body.flag] Invalid input: expected boolean, received string"
        );
    }
}
