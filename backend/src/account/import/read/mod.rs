//! Reads an uploaded export as a stream, one conversation at a time, whatever its size: a ZIP
//! (ChatGPT's download, its `conversations.json` or `conversations-NNN.json` files read in
//! order), or JSON: an array of ChatGPT or Claude conversations, or Chatkeep's export object.
//! Runs on a blocking thread; each conversation is handed to `sink` as soon as it is read.

mod archive;
mod json;
mod state;

pub use archive::MAX_ZIP_ENTRIES;
pub use state::{Format, Item, ReadError};

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::Path;
use std::rc::Rc;

use chrono::{DateTime, Utc};

use self::archive::read_zip;
use self::json::read_json;
use self::state::State;
use super::bounded::GuardState;
use crate::config::ImportCaps;

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

/// Imports are uploads from anyone: whatever the file holds (any bytes, any JSON, a real export
/// cut short or with bytes flipped), reading it ends with conversations, failures and maybe a
/// reason, never a panic.
#[cfg(test)]
mod properties {
    use proptest::prelude::*;
    use serde_json::{Map, Value};
    use shared::account::EXPORT_FORMAT;

    use super::*;

    const CLAUDE: &[u8] =
        include_bytes!("../../../../tests/api/fixtures/import/claude-conversations.json");
    const CHATGPT: &[u8] =
        include_bytes!("../../../../tests/api/fixtures/import/chatgpt-conversations-000.json");

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
