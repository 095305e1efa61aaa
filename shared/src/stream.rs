//! The answer stream: typed events as Server-Sent Events, and an incremental SSE parser that
//! both sides use (the server to read an upstream model's stream, the SPA to read ours). The
//! parser takes bytes as they arrive, however the network splits them.

use serde::{Deserialize, Serialize};

use crate::messages::{Source, Usage};
use crate::{ConversationId, ErrorBody, MessageId};

/// `start`: the stored ids, first thing on every answer stream.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct StartEvent {
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub message_id: MessageId,
    /// The question answered; `""` for an answer with none (an imported conversation may
    /// begin with one).
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    #[serde(with = "empty_as_none")]
    pub user_message_id: Option<MessageId>,
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub conversation_id: ConversationId,
}

/// An optional id written as `""` when absent, as the wire has always had it.
mod empty_as_none {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    use crate::MessageId;

    pub fn serialize<S: Serializer>(id: &Option<MessageId>, s: S) -> Result<S::Ok, S::Error> {
        match id {
            Some(id) => id.serialize(s),
            None => s.serialize_str(""),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<MessageId>, D::Error> {
        let text = String::deserialize(d)?;
        if text.is_empty() {
            return Ok(None);
        }
        text.parse().map(Some).map_err(serde::de::Error::custom)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DeltaEvent {
    pub text: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TitleEvent {
    pub title: String,
}

/// `finish`: the answer is stored as `complete` (`stop`, `length`, ...) or `stopped`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct FinishEvent {
    pub finish_reason: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usage: Option<Usage>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StreamEvent {
    Start(StartEvent),
    Source(Source),
    Delta(DeltaEvent),
    Title(TitleEvent),
    Finish(FinishEvent),
    /// The answer is stored with status `error`; the stream ends.
    Error(ErrorBody),
}

impl StreamEvent {
    pub fn name(&self) -> &'static str {
        match self {
            Self::Start(_) => "start",
            Self::Source(_) => "source",
            Self::Delta(_) => "delta",
            Self::Title(_) => "title",
            Self::Finish(_) => "finish",
            Self::Error(_) => "error",
        }
    }

    fn data(&self) -> String {
        let json = match self {
            Self::Start(e) => serde_json::to_string(e),
            Self::Source(e) => serde_json::to_string(e),
            Self::Delta(e) => serde_json::to_string(e),
            Self::Title(e) => serde_json::to_string(e),
            Self::Finish(e) => serde_json::to_string(e),
            Self::Error(e) => serde_json::to_string(e),
        };
        json.expect("stream events always serialize")
    }

    /// One SSE frame without an id: `event: <name>`, `data: <json>`.
    pub fn to_sse_unnumbered(&self) -> String {
        format!("event: {}\ndata: {}\n\n", self.name(), self.data())
    }

    /// One SSE frame: `id: <id>`, `event: <name>`, `data: <json>` (JSON has no raw newlines).
    /// A live answer numbers its events; a followed one names positions (`{chars}.{sources}`).
    pub fn to_sse(&self, id: impl std::fmt::Display) -> String {
        format!(
            "id: {id}\nevent: {}\ndata: {}\n\n",
            self.name(),
            self.data()
        )
    }

    /// Reads a frame of ours back; `None` for events this version does not know.
    pub fn from_frame(frame: &SseFrame) -> Option<Result<Self, serde_json::Error>> {
        let data = frame.data.as_str();
        Some(match frame.event.as_deref()? {
            "start" => serde_json::from_str(data).map(Self::Start),
            "source" => serde_json::from_str(data).map(Self::Source),
            "delta" => serde_json::from_str(data).map(Self::Delta),
            "title" => serde_json::from_str(data).map(Self::Title),
            "finish" => serde_json::from_str(data).map(Self::Finish),
            "error" => serde_json::from_str(data).map(Self::Error),
            _ => return None,
        })
    }
}

/// One dispatched SSE event, per the WHATWG algorithm.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SseFrame {
    pub id: Option<String>,
    pub event: Option<String>,
    pub data: String,
}

/// Incremental SSE parser: feed it chunks, get whole events. Handles `\n`, `\r\n` and `\r`
/// line ends (even split across chunks), comments, multi-line `data`, and a UTF-8 character
/// cut in two by the network.
#[derive(Debug, Default)]
pub struct SseParser {
    pending_bytes: Vec<u8>,
    line: String,
    last_was_cr: bool,
    frame: SseFrame,
    has_data: bool,
}

impl SseParser {
    pub fn new() -> Self {
        Self::default()
    }

    /// Feeds bytes; returns every event completed by them.
    pub fn push(&mut self, chunk: &[u8]) -> Vec<SseFrame> {
        self.pending_bytes.extend_from_slice(chunk);
        let text = self.take_text();

        let mut out = Vec::new();
        for c in text.chars() {
            match c {
                '\n' if self.last_was_cr => self.last_was_cr = false,
                '\n' | '\r' => {
                    self.last_was_cr = c == '\r';
                    let line = std::mem::take(&mut self.line);
                    if let Some(frame) = self.take_line(&line) {
                        out.push(frame);
                    }
                }
                c => {
                    self.last_was_cr = false;
                    self.line.push(c);
                }
            }
        }
        out
    }

    /// The pending bytes as text: each invalid sequence becomes U+FFFD, as `from_utf8_lossy`
    /// would make it, and a character cut off at the end waits for the next chunk. So where the
    /// chunks were cut never changes the text (a property test holds it to that).
    fn take_text(&mut self) -> String {
        let mut text = String::with_capacity(self.pending_bytes.len());
        let mut rest: &[u8] = &self.pending_bytes;
        while !rest.is_empty() {
            match std::str::from_utf8(rest) {
                Ok(valid) => {
                    text.push_str(valid);
                    rest = &[];
                }
                Err(e) => {
                    let (valid, after) = rest.split_at(e.valid_up_to());
                    text.push_str(std::str::from_utf8(valid).unwrap_or_default());
                    match e.error_len() {
                        Some(invalid) => {
                            text.push(char::REPLACEMENT_CHARACTER);
                            rest = &after[invalid..];
                        }
                        // A character cut off at the end: keep its bytes for the next chunk.
                        None => {
                            rest = after;
                            break;
                        }
                    }
                }
            }
        }
        let consumed = self.pending_bytes.len() - rest.len();
        self.pending_bytes.drain(..consumed);
        text
    }

    /// Ends the input: an event still missing its blank line is dispatched (lenient, for
    /// servers that close right after the last `data:`).
    pub fn finish(&mut self) -> Option<SseFrame> {
        let line = std::mem::take(&mut self.line);
        if !line.is_empty()
            && let Some(frame) = self.take_line(&line)
        {
            return Some(frame);
        }
        self.dispatch()
    }

    fn take_line(&mut self, line: &str) -> Option<SseFrame> {
        if line.is_empty() {
            return self.dispatch();
        }
        if line.starts_with(':') {
            return None;
        }
        let (field, value) = match line.split_once(':') {
            Some((f, v)) => (f, v.strip_prefix(' ').unwrap_or(v)),
            None => (line, ""),
        };
        match field {
            "data" => {
                if self.has_data {
                    self.frame.data.push('\n');
                }
                self.frame.data.push_str(value);
                self.has_data = true;
            }
            "event" => self.frame.event = Some(value.to_owned()),
            "id" => self.frame.id = Some(value.to_owned()),
            _ => {}
        }
        None
    }

    fn dispatch(&mut self) -> Option<SseFrame> {
        let frame = std::mem::take(&mut self.frame);
        let had_data = std::mem::replace(&mut self.has_data, false);
        had_data.then_some(frame)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_round_trip_through_sse() {
        let event = StreamEvent::Delta(DeltaEvent {
            text: "two\nlines".into(),
        });
        let wire = event.to_sse(7);
        assert_eq!(
            wire,
            "id: 7\nevent: delta\ndata: {\"text\":\"two\\nlines\"}\n\n"
        );
        let frames = SseParser::new().push(wire.as_bytes());
        assert_eq!(frames.len(), 1);
        assert_eq!(frames[0].id.as_deref(), Some("7"));
        assert_eq!(StreamEvent::from_frame(&frames[0]).unwrap().unwrap(), event);
    }

    #[test]
    fn frames_survive_any_split() {
        let wire =
            "data: {\"a\":1}\r\n\r\n: keep-alive\n\nevent: x\ndata: é\ndata: 2\n\ndata: [DONE]\n\n";
        let bytes = wire.as_bytes();
        let whole: Vec<SseFrame> = SseParser::new().push(bytes);
        for size in 1..=bytes.len() {
            let mut parser = SseParser::new();
            let mut frames = Vec::new();
            for chunk in bytes.chunks(size) {
                frames.extend(parser.push(chunk));
            }
            assert_eq!(frames, whole, "chunk size {size}");
        }
        let data: Vec<&str> = whole.iter().map(|f| f.data.as_str()).collect();
        assert_eq!(data, ["{\"a\":1}", "é\n2", "[DONE]"]);
        assert_eq!(whole[1].event.as_deref(), Some("x"));
    }

    #[test]
    fn an_unterminated_last_event_is_flushed_at_the_end() {
        let mut parser = SseParser::new();
        assert!(parser.push(b"data: tail").is_empty());
        assert_eq!(parser.finish().unwrap().data, "tail");
        assert!(parser.finish().is_none());
    }
}

/// Properties of the parser every stream reader uses (the app, the tests, the upstream agent):
/// no input makes it panic, how the bytes are cut into chunks never changes what it reads, and
/// every event we write reads back as itself.
#[cfg(test)]
mod properties {
    use proptest::prelude::*;

    use super::*;

    fn frames_of(bytes: &[u8], cuts: &[usize]) -> Vec<SseFrame> {
        let mut parser = SseParser::new();
        let mut frames = Vec::new();
        let mut at = 0;
        let mut cuts: Vec<usize> = cuts.iter().map(|c| c % (bytes.len() + 1)).collect();
        cuts.sort_unstable();
        for cut in cuts {
            frames.extend(parser.push(&bytes[at..cut.max(at)]));
            at = cut.max(at);
        }
        frames.extend(parser.push(&bytes[at..]));
        frames.extend(parser.finish());
        frames
    }

    /// Bytes that look like SSE often enough to reach every branch: field names, colons,
    /// CR/LF mixes, UTF-8 and invalid bytes.
    fn sse_like() -> impl Strategy<Value = Vec<u8>> {
        let piece = prop_oneof![
            Just(b"data: ".to_vec()),
            Just(b"event: delta".to_vec()),
            Just(b"id: 7".to_vec()),
            Just(b": comment".to_vec()),
            Just(b"\n".to_vec()),
            Just(b"\r\n".to_vec()),
            Just(b"\r".to_vec()),
            Just(b"\n\n".to_vec()),
            Just("é漢🙂".as_bytes().to_vec()),
            Just(vec![0xff, 0xfe]),
            prop::collection::vec(any::<u8>(), 0..8),
        ];
        prop::collection::vec(piece, 0..40).prop_map(|p| p.concat())
    }

    proptest! {
        #[test]
        fn chunking_never_changes_what_is_read(
            bytes in sse_like(),
            cuts in prop::collection::vec(any::<usize>(), 0..12),
        ) {
            prop_assert_eq!(frames_of(&bytes, &cuts), frames_of(&bytes, &[]));
        }

        #[test]
        fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
            for frame in frames_of(&bytes, &[3, 17, 64]) {
                let _ = StreamEvent::from_frame(&frame);
            }
        }

        #[test]
        fn every_event_we_write_reads_back_as_itself(
            text in any::<String>(),
            id in any::<u64>(),
            cuts in prop::collection::vec(any::<usize>(), 0..6),
        ) {
            let event = StreamEvent::Delta(DeltaEvent { text });
            let wire = event.to_sse(id);
            let frames = frames_of(wire.as_bytes(), &cuts);
            prop_assert_eq!(frames.len(), 1);
            prop_assert_eq!(frames[0].id.clone(), Some(id.to_string()));
            let read = StreamEvent::from_frame(&frames[0]).unwrap().unwrap();
            prop_assert_eq!(read, event);
        }
    }
}
