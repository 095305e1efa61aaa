//! Reads an uploaded export as a stream, one conversation at a time, whatever its size: a ZIP
//! (ChatGPT's download, its `conversations.json` or `conversations-NNN.json` files read in
//! order), or JSON: an array of ChatGPT or Claude conversations, or Chatkeep's export object.
//! Runs on a blocking thread; each conversation is handed to `sink` as soon as it is read.

use std::cell::Cell;
use std::fmt;
use std::fs::File;
use std::io::{BufReader, Read};
use std::path::Path;
use std::rc::Rc;

use chrono::{DateTime, Utc};
use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::Value;
use shared::account::{EXPORT_FORMAT, EXPORT_VERSION, ImportFailure};

use super::bounded::{Bounded, Budget, Guard, GuardState, Over, rest_of_map};
use super::model::{self, Conversation, Refused};
use super::{chatgpt, chatkeep, claude};
use crate::config::ImportCaps;

/// What the reader hands over.
pub enum Item {
    Conversation(Box<Conversation>),
    Failed(ImportFailure),
}

#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// Nothing in the file is an export; nothing has been handed over.
    #[error("{0}")]
    NotAnExport(String),
    /// The file broke off (or became malformed) after some conversations were handed over.
    #[error("{0}")]
    Broken(String),
    /// The ZIP unpacks to more than it may.
    #[error("the archive unpacks to more than {0} bytes")]
    Unpacked(u64),
    /// The file nests deeper than `IMPORT_MAX_DEPTH`.
    #[error("the file nests deeper than {0} levels")]
    TooDeep(u32),
    /// The receiver went away.
    #[error("stopped")]
    Stopped,
}

/// Which app the file came from, once known.
pub type Format = Option<&'static str>;

struct State<'s> {
    format: Format,
    caps: ImportCaps,
    guard: Rc<GuardState>,
    /// Conversations met so far (for naming the ones without an id).
    seen: usize,
    now: DateTime<Utc>,
    sink: &'s mut dyn FnMut(Item) -> bool,
    /// Why the visitor stopped the parse, when it did.
    stop: Option<ReadError>,
}

impl State<'_> {
    fn hand_over(&mut self, item: Item) -> bool {
        if (self.sink)(item) {
            true
        } else {
            self.stop = Some(ReadError::Stopped);
            false
        }
    }

    /// Reads the next conversation of an array within its budget: the value (whole, or as far
    /// as it was kept) and the cap it passed, if any.
    fn next<'de, A: SeqAccess<'de>>(
        &mut self,
        seq: &mut A,
    ) -> Result<Option<(Value, Option<Over>)>, A::Error> {
        let mut budget = Budget::new(&self.caps);
        let cuts = self.guard.cuts();
        let Some(value) = seq.next_element_seed(Bounded {
            budget: &mut budget,
        })?
        else {
            return Ok(None);
        };
        let over = budget.over.or_else(|| {
            (self.guard.cuts() > cuts).then_some(Over::MessageBytes(self.caps.message_bytes))
        });
        Ok(Some((value, over)))
    }

    /// One conversation of an array: ChatGPT's or Claude's.
    fn element(&mut self, value: Value, over: Option<Over>) -> Result<(), ReadError> {
        self.seen += 1;
        let recognized = if chatgpt::recognizes(&value) {
            Some("chatgpt")
        } else if claude::recognizes(&value) {
            Some("claude")
        } else {
            None
        };
        let name = identify(&value, self.seen);
        let converted = match (recognized.or(self.format), over) {
            // An object too large to keep may not have shown what it is before the cap: it is
            // reported, and the file's kind is left to the next one.
            (_, Some(over)) if recognized.is_some() || value.is_object() => {
                Err(Refused::from(over))
            }
            (None, _) => {
                return Err(ReadError::NotAnExport(
                    "This is not an export Chatkeep reads: a ChatGPT or Claude conversations.json, \
                     a ChatGPT ZIP, or a Chatkeep export."
                        .to_owned(),
                ));
            }
            (Some(_), _) if recognized.is_none() => {
                Err(Refused::unreadable("not a ChatGPT or Claude conversation"))
            }
            (Some("chatgpt"), None) => {
                chatgpt::convert(value, self.now).map_err(Refused::unreadable)
            }
            (Some(_), None) => claude::convert(value, self.now).map_err(Refused::unreadable),
            (Some(_), Some(over)) => Err(Refused::from(over)),
        };
        if let Some(format) = recognized {
            self.format.get_or_insert(format);
        }
        self.deliver(name, converted)
    }

    fn deliver(
        &mut self,
        (conversation, title): (String, Option<String>),
        converted: Result<Conversation, Refused>,
    ) -> Result<(), ReadError> {
        let checked = converted.and_then(|c| model::check(&c, &self.caps).map(|()| c));
        let item = match checked {
            Ok(c) => Item::Conversation(Box::new(c)),
            Err(refused) => Item::Failed(ImportFailure {
                conversation,
                title,
                code: refused.code.to_owned(),
                reason: refused.reason,
            }),
        };
        if self.hand_over(item) {
            Ok(())
        } else {
            Err(ReadError::Stopped)
        }
    }
}

/// A conversation's id and title as the file names them, for the report.
fn identify(value: &Value, position: usize) -> (String, Option<String>) {
    let text = |keys: &[&str]| {
        keys.iter()
            .find_map(|k| value.get(*k).and_then(Value::as_str))
            .map(|s| s.chars().take(200).collect::<String>())
    };
    (
        text(&["conversation_id", "id", "uuid"]).unwrap_or_else(|| format!("#{position}")),
        model::clean_title(text(&["title", "name"]).as_deref()),
    )
}

/// Reads the file at `path`, handing each conversation to `sink` (which returns `false` to
/// stop). `max_unpacked` bounds what a ZIP may unpack to. Says which app the file came from
/// (once known), and why reading stopped early, if it did.
pub fn read(
    path: &Path,
    max_unpacked: u64,
    caps: ImportCaps,
    now: DateTime<Utc>,
    sink: &mut dyn FnMut(Item) -> bool,
) -> (Format, Result<(), ReadError>) {
    let mut state = State {
        format: None,
        caps,
        guard: Rc::new(GuardState::default()),
        seen: 0,
        now,
        sink,
        stop: None,
    };
    let result = read_file(path, max_unpacked, &mut state);
    (state.format, result)
}

fn read_file(path: &Path, max_unpacked: u64, state: &mut State<'_>) -> Result<(), ReadError> {
    let unreadable =
        |e: std::io::Error| ReadError::NotAnExport(format!("cannot read the upload: {e}"));
    let mut file = File::open(path).map_err(unreadable)?;
    let mut magic = [0u8; 4];
    let n = file.read(&mut magic).map_err(unreadable)?;
    drop(file);
    if n == 4 && magic == *b"PK\x03\x04" {
        read_zip(path, max_unpacked, state)
    } else {
        let file = File::open(path).map_err(unreadable)?;
        read_json(BufReader::with_capacity(256 * 1024, file), state, None)
    }
}

/// The most files a ZIP may hold: the ZIP reader keeps about 200 bytes for each entry of the
/// archive's directory before anything is read (a million empty files took 250 MB). A ChatGPT
/// export holds its conversations and one file per image or attachment.
pub const MAX_ZIP_ENTRIES: u64 = 50_000;

/// Refuses an archive whose directory claims more than [`MAX_ZIP_ENTRIES`] files, before the
/// ZIP reader allocates for them. Every end-of-directory record in the file's last 64 KiB
/// counts (the reader may pick any of them), and one that defers to ZIP64 is refused: no real
/// export within `IMPORT_MAX_BYTES` needs it.
fn zip_directory_fits(file: &mut File) -> Result<(), ReadError> {
    use std::io::{Seek, SeekFrom};
    let unreadable = |e: std::io::Error| ReadError::NotAnExport(format!("not a readable ZIP: {e}"));
    let len = file.seek(SeekFrom::End(0)).map_err(unreadable)?;
    let tail_len = len.min(22 + 65_535);
    file.seek(SeekFrom::Start(len - tail_len))
        .map_err(unreadable)?;
    let mut tail = Vec::with_capacity(tail_len as usize);
    file.take(tail_len)
        .read_to_end(&mut tail)
        .map_err(unreadable)?;
    let too_many = || {
        ReadError::NotAnExport(format!(
            "The ZIP holds more than {MAX_ZIP_ENTRIES} files; an export from ChatGPT or Claude \
             holds far fewer. Import its conversations.json instead."
        ))
    };
    for at in 0..tail.len().saturating_sub(21) {
        if tail[at..at + 4] != [0x50, 0x4b, 0x05, 0x06] {
            continue;
        }
        let entries = u16::from_le_bytes([tail[at + 10], tail[at + 11]]);
        let directory =
            u32::from_le_bytes([tail[at + 12], tail[at + 13], tail[at + 14], tail[at + 15]]);
        if entries == u16::MAX || directory == u32::MAX || u64::from(entries) > MAX_ZIP_ENTRIES {
            return Err(too_many());
        }
    }
    Ok(())
}

fn read_zip(path: &Path, max_unpacked: u64, state: &mut State<'_>) -> Result<(), ReadError> {
    let not_zip =
        |e: zip::result::ZipError| ReadError::NotAnExport(format!("not a readable ZIP: {e}"));
    let mut file = File::open(path).map_err(|e| ReadError::NotAnExport(e.to_string()))?;
    zip_directory_fits(&mut file)?;
    let mut archive = zip::ZipArchive::new(BufReader::new(file)).map_err(not_zip)?;
    let mut names: Vec<(String, usize)> = (0..archive.len())
        .filter_map(|i| {
            let entry = archive.by_index_raw(i).ok()?;
            let name = entry.name().ok()?.into_owned();
            let base = name.rsplit('/').next().unwrap_or(&name);
            let wanted = base == "conversations.json"
                || (base.starts_with("conversations-") && base.ends_with(".json"));
            (wanted && entry.is_file()).then_some((name, i))
        })
        .collect();
    names.sort();
    if names.is_empty() {
        return Err(ReadError::NotAnExport(
            "The ZIP holds no conversations.json (or conversations-NNN.json).".to_owned(),
        ));
    }
    let budget = Rc::new(Cell::new(max_unpacked));
    let over = Rc::new(Cell::new(false));
    for (_, i) in names {
        let entry = archive.by_index(i).map_err(not_zip)?;
        let limited = Budgeted {
            inner: entry,
            left: Rc::clone(&budget),
            over: Rc::clone(&over),
        };
        read_json(
            BufReader::with_capacity(256 * 1024, limited),
            state,
            Some(&over),
        )
        .map_err(|e| {
            if over.get() {
                ReadError::Unpacked(max_unpacked)
            } else {
                e
            }
        })?;
    }
    Ok(())
}

/// A reader that fails once the shared budget of bytes is spent (a ZIP bomb stops here).
struct Budgeted<R> {
    inner: R,
    left: Rc<Cell<u64>>,
    over: Rc<Cell<bool>>,
}

impl<R: Read> Read for Budgeted<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        let left = self.left.get();
        if n as u64 > left {
            self.over.set(true);
            return Err(std::io::Error::other("unpacked size limit"));
        }
        self.left.set(left - n as u64);
        Ok(n)
    }
}

fn read_json<R: Read>(
    reader: R,
    state: &mut State<'_>,
    over: Option<&Rc<Cell<bool>>>,
) -> Result<(), ReadError> {
    // serde_json reads a byte at a time, so the guard sees each byte as the parser takes it.
    let guarded = Guard::new(reader, &state.caps, Rc::clone(&state.guard));
    let mut de = serde_json::Deserializer::from_reader(guarded);
    let parsed = de::Deserializer::deserialize_any(&mut de, Top { state: &mut *state })
        .and_then(|()| de.end());
    if let Some(stop) = state.stop.take() {
        return Err(stop);
    }
    if over.is_some_and(|o| o.get()) {
        return Err(ReadError::Unpacked(0));
    }
    if state.guard.too_deep() {
        return Err(ReadError::TooDeep(state.caps.depth));
    }
    parsed.map_err(|e| {
        if state.seen == 0 && state.format.is_none() {
            ReadError::NotAnExport(format!("This is not an export Chatkeep reads ({e})."))
        } else {
            ReadError::Broken(format!(
                "The file is cut short or malformed after {} conversations ({e}); the ones \
                 before it were read.",
                state.seen
            ))
        }
    })
}

/// A visitor's way of stopping the parse: the reason goes in the state.
fn stop<E: de::Error>(state: &mut State<'_>, why: ReadError) -> E {
    let message = why.to_string();
    state.stop = Some(why);
    E::custom(message)
}

struct Top<'a, 's> {
    state: &'a mut State<'s>,
}

impl<'de> Visitor<'de> for Top<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an array of conversations or a Chatkeep export")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while let Some((value, over)) = self.state.next(&mut seq)? {
            if let Err(why) = self.state.element(value, over) {
                return Err(stop(self.state, why));
            }
        }
        if self.state.seen == 0 {
            return Err(stop(
                self.state,
                ReadError::NotAnExport("The file holds no conversations.".to_owned()),
            ));
        }
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let not_ours = || {
            ReadError::NotAnExport(format!(
                "This is not an export Chatkeep reads: a Chatkeep export starts with \
                 \"format\": \"{EXPORT_FORMAT}\", and one conversation exported as JSON has \
                 its \"id\" and \"messages\"."
            ))
        };
        let mut budget = Budget::new(&self.state.caps);
        let cuts = self.state.guard.cuts();
        match map.next_key::<String>()? {
            Some(key) if key == "format" => {
                let format = map.next_value_seed(Bounded {
                    budget: &mut budget,
                })?;
                if format != EXPORT_FORMAT {
                    return Err(stop(self.state, not_ours()));
                }
            }
            // One conversation, as `GET /api/conversations/{id}/export?format=json` gives it.
            Some(key) => {
                let object = rest_of_map(&mut map, key, &mut budget)?;
                let over = budget.over.or_else(|| {
                    (self.state.guard.cuts() > cuts)
                        .then_some(Over::MessageBytes(self.state.caps.message_bytes))
                });
                if !object.get("messages").is_some_and(Value::is_array)
                    || object.get("id").is_none()
                {
                    return Err(stop(self.state, not_ours()));
                }
                self.state.format = Some("chatkeep");
                self.state.seen += 1;
                let name = identify(&object, self.state.seen);
                let converted = match over {
                    Some(over) => Err(Refused::from(over)),
                    None => chatkeep::convert(object).map_err(Refused::unreadable),
                };
                if let Err(why) = self.state.deliver(name, converted) {
                    return Err(stop(self.state, why));
                }
                return Ok(());
            }
            None => return Err(stop(self.state, not_ours())),
        }
        self.state.format = Some("chatkeep");
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "version" => {
                    let version: u64 = map.next_value()?;
                    if version > u64::from(EXPORT_VERSION) {
                        return Err(stop(
                            self.state,
                            ReadError::NotAnExport(format!(
                                "This export is version {version}; this server reads up to {EXPORT_VERSION}."
                            )),
                        ));
                    }
                }
                "conversations" => map.next_value_seed(Conversations {
                    state: &mut *self.state,
                })?,
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(())
    }
}

/// The `conversations` array of a Chatkeep export.
struct Conversations<'a, 's> {
    state: &'a mut State<'s>,
}

impl<'de> DeserializeSeed<'de> for Conversations<'_, '_> {
    type Value = ();

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for Conversations<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an array of conversations")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while let Some((value, over)) = self.state.next(&mut seq)? {
            self.state.seen += 1;
            let name = identify(&value, self.state.seen);
            let converted = match over {
                Some(over) => Err(Refused::from(over)),
                None => chatkeep::convert(value).map_err(Refused::unreadable),
            };
            if let Err(why) = self.state.deliver(name, converted) {
                return Err(stop(self.state, why));
            }
        }
        Ok(())
    }
}

/// Imports are uploads from anyone: whatever the file holds (any bytes, any JSON, a real export
/// cut short or with bytes flipped), reading it ends with conversations, failures and maybe a
/// reason, never a panic.
#[cfg(test)]
mod properties {
    use proptest::prelude::*;
    use serde_json::{Map, Value};

    use super::*;

    const CLAUDE: &[u8] =
        include_bytes!("../../../tests/api/fixtures/import/claude-conversations.json");
    const CHATGPT: &[u8] =
        include_bytes!("../../../tests/api/fixtures/import/chatgpt-conversations-000.json");

    fn read_bytes(bytes: &[u8]) {
        let path = std::env::temp_dir().join(format!("chatkeep-prop-{}", uuid::Uuid::new_v4()));
        std::fs::write(&path, bytes).unwrap();
        let mut items = 0usize;
        let _ = read(
            &path,
            8 << 20,
            ImportCaps::default(),
            Utc::now(),
            &mut |_| {
                items += 1;
                true
            },
        );
        let _ = std::fs::remove_file(&path);
    }

    /// JSON built from the words the readers look for, so it gets past the first checks.
    fn export_like() -> impl Strategy<Value = Value> {
        let key = prop::sample::select(vec![
            "format",
            "version",
            "conversations",
            "title",
            "name",
            "id",
            "uuid",
            "mapping",
            "message",
            "author",
            "role",
            "content",
            "parts",
            "text",
            "children",
            "parent",
            "create_time",
            "created_at",
            "chat_messages",
            "sender",
            "messages",
            "current_node",
        ]);
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(Value::from),
            any::<f64>()
                .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
            ".{0,20}".prop_map(Value::String),
            Just(Value::String(EXPORT_FORMAT.to_owned())),
            Just(Value::String("2024-01-01T00:00:00Z".to_owned())),
        ];
        leaf.prop_recursive(4, 64, 6, move |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
                prop::collection::vec((key.clone(), inner), 0..6).prop_map(|pairs| {
                    Value::Object(
                        pairs
                            .into_iter()
                            .map(|(k, v)| (k.to_owned(), v))
                            .collect::<Map<_, _>>(),
                    )
                }),
            ]
        })
    }

    fn mutated(original: &'static [u8]) -> impl Strategy<Value = Vec<u8>> {
        (
            prop::collection::vec((any::<usize>(), any::<u8>()), 0..8),
            any::<usize>(),
        )
            .prop_map(move |(flips, cut)| {
                let mut bytes = original.to_vec();
                for (at, byte) in flips {
                    let at = at % bytes.len();
                    bytes[at] = byte;
                }
                bytes.truncate(cut % (bytes.len() + 1));
                bytes
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(96))]

        #[test]
        fn any_bytes_are_read_or_refused(bytes in prop::collection::vec(any::<u8>(), 0..600)) {
            read_bytes(&bytes);
            let mut zip = b"PK\x03\x04".to_vec();
            zip.extend_from_slice(&bytes);
            read_bytes(&zip);
        }

        #[test]
        fn any_export_shaped_json_is_read_or_refused(value in export_like()) {
            read_bytes(value.to_string().as_bytes());
            read_bytes(Value::Array(vec![value]).to_string().as_bytes());
        }

        #[test]
        fn real_exports_cut_short_or_damaged_are_read_or_refused(
            claude in mutated(CLAUDE),
            chatgpt in mutated(CHATGPT),
        ) {
            read_bytes(&claude);
            read_bytes(&chatgpt);
        }
    }
}
