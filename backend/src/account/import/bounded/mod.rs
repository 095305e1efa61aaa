//! What keeps an import's memory bounded by settings, whatever the file's shape. Two parts:
//!
//! - [`Guard`], on the bytes before the JSON parser: no string grows past
//!   `IMPORT_MAX_MESSAGE_BYTES` (the rest of it is dropped, so the parser's buffer never holds
//!   more, and the cut is counted) and nothing nests deeper than `IMPORT_MAX_DEPTH` (the read
//!   stops there, since even skipping a value costs the parser a byte per level).
//! - [`Bounded`], the seed that builds one conversation's JSON value while counting what it
//!   holds against [`Budget`]: once `IMPORT_MAX_NODES` values or `IMPORT_MAX_CONVERSATION_BYTES`
//!   of text are passed, the rest of the conversation is skipped without being kept, and the
//!   conversation is reported instead of imported.

mod guard;

pub use guard::{Guard, GuardState};

use std::fmt;

use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};

use super::model::Refused;
use crate::config::ImportCaps;

/// A cap one conversation passed while it was read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Over {
    Nodes(u64),
    Bytes(u64),
    MessageBytes(u64),
}

impl Over {
    pub fn code(self) -> &'static str {
        match self {
            Self::Nodes(_) => "TOO_MANY_VALUES",
            Self::Bytes(_) => "TOO_MUCH_TEXT",
            Self::MessageBytes(_) => "MESSAGE_TOO_LONG",
        }
    }
}

impl fmt::Display for Over {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Nodes(cap) => write!(
                f,
                "it holds more than {cap} JSON values (IMPORT_MAX_NODES); it was skipped"
            ),
            Self::Bytes(cap) => write!(
                f,
                "it holds more than {cap} bytes of text (IMPORT_MAX_CONVERSATION_BYTES); it was skipped"
            ),
            Self::MessageBytes(cap) => write!(
                f,
                "a text in it is longer than {cap} bytes (IMPORT_MAX_MESSAGE_BYTES); it was skipped"
            ),
        }
    }
}

impl From<Over> for Refused {
    fn from(over: Over) -> Self {
        Self::new(over.code(), over.to_string())
    }
}

/// What one conversation has spent while it is read.
#[derive(Debug)]
pub struct Budget {
    nodes: u64,
    bytes: u64,
    max_nodes: u64,
    max_bytes: u64,
    pub over: Option<Over>,
}

impl Budget {
    pub fn new(caps: &ImportCaps) -> Self {
        Self {
            nodes: 0,
            bytes: 0,
            max_nodes: caps.nodes,
            max_bytes: caps.conversation_bytes,
            over: None,
        }
    }

    /// Counts one value of `bytes` bytes of text; whether the conversation is still in budget.
    fn charge(&mut self, bytes: usize) -> bool {
        self.nodes += 1;
        self.bytes += bytes as u64;
        if self.over.is_none() {
            if self.nodes > self.max_nodes {
                self.over = Some(Over::Nodes(self.max_nodes));
            } else if self.bytes > self.max_bytes {
                self.over = Some(Over::Bytes(self.max_bytes));
            }
        }
        self.over.is_none()
    }
}

/// Builds a JSON value within a [`Budget`]; past it, reads on without keeping anything (the
/// value is then incomplete, and the budget says why).
pub struct Bounded<'b> {
    pub budget: &'b mut Budget,
}

impl<'de> DeserializeSeed<'de> for Bounded<'_> {
    type Value = Value;

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        if self.budget.over.is_some() {
            deserializer.deserialize_ignored_any(IgnoredAny)?;
            return Ok(Value::Null);
        }
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Bounded<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        self.budget.charge(0);
        Ok(Value::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        self.budget.charge(0);
        Ok(Value::Number(v.into()))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        self.budget.charge(0);
        Ok(Value::Number(v.into()))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        self.budget.charge(0);
        Ok(Number::from_f64(v).map_or(Value::Null, Value::Number))
    }

    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(if self.budget.charge(v.len()) {
            Value::String(v.to_owned())
        } else {
            Value::Null
        })
    }

    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(if self.budget.charge(v.len()) {
            Value::String(v)
        } else {
            Value::Null
        })
    }

    fn visit_unit<E: de::Error>(self) -> Result<Value, E> {
        self.budget.charge(0);
        Ok(Value::Null)
    }

    fn visit_none<E: de::Error>(self) -> Result<Value, E> {
        self.visit_unit()
    }

    fn visit_some<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        self.deserialize(deserializer)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        self.budget.charge(0);
        let mut items = Vec::new();
        while self.budget.over.is_none() {
            match seq.next_element_seed(Bounded {
                budget: &mut *self.budget,
            })? {
                Some(item) => items.push(item),
                None => return Ok(Value::Array(items)),
            }
        }
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        self.budget.charge(0);
        let mut entries = Map::new();
        while self.budget.over.is_none() {
            let Some(key) = map.next_key_seed(Key {
                budget: &mut *self.budget,
            })?
            else {
                return Ok(Value::Object(entries));
            };
            let value = map.next_value_seed(Bounded {
                budget: &mut *self.budget,
            })?;
            if let Some(key) = key {
                entries.insert(key, value);
            }
        }
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(Value::Object(entries))
    }
}

/// The rest of an object whose first key the caller has read already, within `budget`.
pub fn rest_of_map<'de, A: MapAccess<'de>>(
    map: &mut A,
    first: String,
    budget: &mut Budget,
) -> Result<Value, A::Error> {
    let mut entries = Map::new();
    let mut key = budget.charge(first.len()).then_some(first);
    loop {
        let value = map.next_value_seed(Bounded {
            budget: &mut *budget,
        })?;
        if let Some(key) = key {
            entries.insert(key, value);
        }
        if budget.over.is_some() {
            while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
            return Ok(Value::Object(entries));
        }
        match map.next_key_seed(Key {
            budget: &mut *budget,
        })? {
            Some(next) => key = next,
            None => return Ok(Value::Object(entries)),
        }
    }
}

/// An object's key, counted like a string; `None` once over budget.
struct Key<'b> {
    budget: &'b mut Budget,
}

impl<'de> DeserializeSeed<'de> for Key<'_> {
    type Value = Option<String>;

    fn deserialize<D: de::Deserializer<'de>>(
        self,
        deserializer: D,
    ) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for Key<'_> {
    type Value = Option<String>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a key")
    }

    fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
        Ok(self.budget.charge(v.len()).then(|| v.to_owned()))
    }

    fn visit_string<E>(self, v: String) -> Result<Self::Value, E> {
        Ok(self.budget.charge(v.len()).then_some(v))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Small caps, for the tests here and the guard's.
    pub(super) fn caps() -> ImportCaps {
        ImportCaps {
            messages: 10,
            nodes: 100,
            message_bytes: 8,
            conversation_bytes: 1_000,
            depth: 4,
        }
    }

    fn bounded(text: &str, nodes: u64, bytes: u64) -> (Value, Option<Over>) {
        let mut budget = Budget::new(&ImportCaps {
            nodes,
            conversation_bytes: bytes,
            ..caps()
        });
        let mut de = serde_json::Deserializer::from_str(text);
        let value = Bounded {
            budget: &mut budget,
        }
        .deserialize(&mut de)
        .unwrap();
        de.end().unwrap();
        (value, budget.over)
    }

    #[test]
    fn values_within_budget_are_kept_whole() {
        let text = r#"{"a":[1,2.5,true,null,"x"],"b":{"c":"d"}}"#;
        assert_eq!(
            bounded(text, 100, 100),
            (serde_json::from_str(text).unwrap(), None)
        );
    }

    #[test]
    fn past_the_budget_the_rest_is_read_but_not_kept() {
        let many = format!("[{}0]", "0,".repeat(10_000));
        let (value, over) = bounded(&many, 50, 1_000);
        assert_eq!(over, Some(Over::Nodes(50)));
        assert!(value.as_array().unwrap().len() <= 50);

        let (_, over) = bounded(r#"{"aaaa":"bbbbbbbb","c":"ddddddd"}"#, 100, 10);
        assert_eq!(over, Some(Over::Bytes(10)));
    }
}
