//! [`Guard`], the reader between an import's bytes and the JSON parser: every string cut to
//! `IMPORT_MAX_MESSAGE_BYTES` (the cut counted), and the read stopped past `IMPORT_MAX_DEPTH`
//! levels of nesting or at a string that is not text.

use std::cell::Cell;
use std::io::{self, Read};
use std::rc::Rc;

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

#[cfg(test)]
mod tests {
    use serde_json::Value;

    use super::*;
    use crate::account::import::bounded::tests::caps;

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
}
