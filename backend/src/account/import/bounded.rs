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

use std::cell::Cell;
use std::fmt;
use std::io::{self, Read};
use std::rc::Rc;

use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};

use super::model::Refused;
use crate::config::ImportCaps;

/// Why the guard stopped the read, or how many strings it cut; shared with the reader.
#[derive(Debug, Default)]
pub struct GuardState {
    cuts: Cell<u64>,
    too_deep: Cell<bool>,
    not_text: Cell<bool>,
}

impl GuardState {
    /// Strings cut so far: a conversation that saw one cut is refused.
    pub fn cuts(&self) -> u64 {
        self.cuts.get()
    }

    pub fn too_deep(&self) -> bool {
        self.too_deep.get()
    }

    /// A string ran on past its cap with no place to cut it: not UTF-8 text.
    pub fn not_text(&self) -> bool {
        self.not_text.get()
    }
}

/// Past the cap, a cut comes within one character, or one escape or surrogate pair (12 bytes):
/// a string that runs on further without one is not text, and the read stops there (the
/// parser buffers a string's bytes whole before it checks them).
const CUT_WITHIN: u64 = 16;

/// Where the guard is in the JSON text.
#[derive(Debug, Clone, Copy)]
enum Lex {
    Outside,
    String {
        bytes: u64,
        escape: Escape,
        /// The last escape was a UTF-16 high surrogate: its low half must follow uncut.
        high_surrogate: bool,
    },
    /// The rest of a string that was cut, dropped up to its closing quote.
    Cutting {
        escaped: bool,
    },
}

#[derive(Debug, Clone, Copy)]
enum Escape {
    None,
    Backslash,
    /// Inside `\uXXXX`: digits read so far, and their value.
    Hex(u8, u16),
}

/// A reader that passes JSON text through with every string cut to `max_string` bytes and
/// fails past `max_depth` levels of nesting. Meant to be read a byte at a time (as serde_json
/// reads), so that a cut is counted while the parser is at that very string.
pub struct Guard<R> {
    inner: R,
    lex: Lex,
    depth: u32,
    max_depth: u32,
    max_string: u64,
    state: Rc<GuardState>,
}

impl<R: Read> Guard<R> {
    pub fn new(inner: R, caps: &ImportCaps, state: Rc<GuardState>) -> Self {
        Self {
            inner,
            lex: Lex::Outside,
            depth: 0,
            max_depth: caps.depth,
            max_string: caps.message_bytes,
            state,
        }
    }

    /// The byte to pass on for `b`, if any.
    fn step(&mut self, b: u8) -> io::Result<Option<u8>> {
        match self.lex {
            Lex::Outside => {
                match b {
                    b'"' => {
                        self.lex = Lex::String {
                            bytes: 0,
                            escape: Escape::None,
                            high_surrogate: false,
                        }
                    }
                    b'[' | b'{' => {
                        self.depth += 1;
                        if self.depth > self.max_depth {
                            self.state.too_deep.set(true);
                            return Err(io::Error::other("nested too deep"));
                        }
                    }
                    b']' | b'}' => self.depth = self.depth.saturating_sub(1),
                    _ => {}
                }
                Ok(Some(b))
            }
            Lex::String {
                bytes,
                escape,
                high_surrogate,
            } => {
                let mut next = (bytes + 1, escape, high_surrogate);
                match escape {
                    Escape::None => {
                        // A cut falls where the text so far is whole: not inside an escape or
                        // a character, nor between the halves of a surrogate pair.
                        let whole = b & 0xC0 != 0x80 && !high_surrogate;
                        if bytes >= self.max_string.saturating_add(CUT_WITHIN) {
                            self.state.not_text.set(true);
                            return Err(io::Error::other("a string that is not text"));
                        }
                        if b != b'"' && bytes >= self.max_string && whole {
                            self.state.cuts.set(self.state.cuts.get() + 1);
                            self.lex = Lex::Cutting { escaped: false };
                            self.step(b)?;
                            return Ok(Some(b'"'));
                        }
                        match b {
                            b'"' => {
                                self.lex = Lex::Outside;
                                return Ok(Some(b));
                            }
                            b'\\' => next.1 = Escape::Backslash,
                            _ => next.2 = false,
                        }
                    }
                    Escape::Backslash => {
                        next.1 = if b == b'u' {
                            Escape::Hex(0, 0)
                        } else {
                            next.2 = false;
                            Escape::None
                        };
                    }
                    Escape::Hex(digits, value) => {
                        let digit = (b as char).to_digit(16).unwrap_or(0) as u16;
                        let value = value.wrapping_mul(16).wrapping_add(digit);
                        next.1 = if digits == 3 {
                            next.2 = (0xD800..0xDC00).contains(&value);
                            Escape::None
                        } else {
                            Escape::Hex(digits + 1, value)
                        };
                    }
                }
                self.lex = Lex::String {
                    bytes: next.0,
                    escape: next.1,
                    high_surrogate: next.2,
                };
                Ok(Some(b))
            }
            Lex::Cutting { escaped } => {
                self.lex = match (escaped, b) {
                    (true, _) => Lex::Cutting { escaped: false },
                    (false, b'\\') => Lex::Cutting { escaped: true },
                    (false, b'"') => Lex::Outside,
                    (false, _) => Lex::Cutting { escaped: false },
                };
                Ok(None)
            }
        }
    }
}

impl<R: Read> Read for Guard<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        loop {
            let n = self.inner.read(buf)?;
            if n == 0 {
                return Ok(0);
            }
            let mut kept = 0;
            for i in 0..n {
                if let Some(b) = self.step(buf[i])? {
                    buf[kept] = b;
                    kept += 1;
                }
            }
            if kept > 0 {
                return Ok(kept);
            }
        }
    }
}

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

    fn caps() -> ImportCaps {
        ImportCaps {
            messages: 10,
            nodes: 100,
            message_bytes: 8,
            conversation_bytes: 1_000,
            depth: 4,
        }
    }

    fn guarded(text: &str) -> (Result<Vec<u8>, io::Error>, Rc<GuardState>) {
        let state = Rc::new(GuardState::default());
        let mut guard = Guard::new(text.as_bytes(), &caps(), Rc::clone(&state));
        // A byte at a time, as serde_json reads.
        let mut out = Vec::new();
        let mut byte = [0u8; 1];
        loop {
            match guard.read(&mut byte) {
                Ok(0) => return (Ok(out), state),
                Ok(_) => out.push(byte[0]),
                Err(e) => return (Err(e), state),
            }
        }
    }

    fn parsed(text: &str) -> (Value, u64) {
        let (bytes, state) = guarded(text);
        (
            serde_json::from_slice(&bytes.unwrap()).unwrap(),
            state.cuts(),
        )
    }

    #[test]
    fn short_strings_pass_untouched() {
        // Up to 8 bytes as written: escapes count as their bytes in the file.
        let text = r#"{"a":"12345678","b":["\"\\x","\u00e9"]}"#;
        assert_eq!(parsed(text), (serde_json::from_str(text).unwrap(), 0));
    }

    #[test]
    fn long_strings_are_cut_whole_and_counted() {
        assert_eq!(
            parsed(r#"["123456789abc", "ok"]"#),
            (serde_json::json!(["12345678", "ok"]), 1)
        );
        // Not inside a character: é is two bytes.
        assert_eq!(
            parsed(r#"["1234567éabc"]"#),
            (serde_json::json!(["1234567é"]), 1)
        );
        // Not inside an escape, nor between the halves of a surrogate pair.
        assert_eq!(
            parsed(r#"["1234567\u00e9abc"]"#),
            (serde_json::json!(["1234567é"]), 1)
        );
        assert_eq!(
            parsed(r#"["1234567\ud83d\ude00abc"]"#),
            (serde_json::json!(["1234567😀"]), 1)
        );
        // Escaped quotes in the dropped part do not end it early.
        assert_eq!(
            parsed(r#"["123456789\"],[\\", 1]"#),
            (serde_json::json!(["12345678", 1]), 1)
        );
    }

    #[test]
    fn a_string_that_never_reaches_a_character_boundary_stops_the_read() {
        // Continuation bytes only: no place to cut, and no valid text either.
        let mut text = b"[\"12345678".to_vec();
        text.extend([0x80u8; 100]);
        text.extend(b"\"]");
        let state = Rc::new(GuardState::default());
        let mut guard = Guard::new(&text[..], &caps(), Rc::clone(&state));
        let mut out = Vec::new();
        assert!(guard.read_to_end(&mut out).is_err());
        assert!(state.not_text());
        assert!(
            out.len() < 8 + 2 + CUT_WITHIN as usize + 2,
            "{} bytes passed",
            out.len()
        );
    }

    #[test]
    fn nesting_past_the_cap_stops_the_read() {
        assert!(guarded("[[[[1]]]]").0.is_ok());
        let (result, state) = guarded("[[[[[1]]]]]");
        assert!(result.is_err());
        assert!(state.too_deep());
        // Brackets inside strings are text.
        assert!(guarded(r#"["[[[[[[[["]"#).0.is_ok());
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
