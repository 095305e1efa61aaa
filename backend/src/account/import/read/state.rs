//! The reader's state while it reads one upload: what it hands over, why it stops, and each
//! conversation of an array read within its budget, recognized, converted, checked and handed
//! to the sink.

use std::rc::Rc;

use chrono::{DateTime, Utc};
use serde::de::SeqAccess;
use serde_json::Value;
use shared::account::ImportFailure;

use crate::account::import::bounded::{Bounded, Budget, GuardState, Over};
use crate::account::import::model::{self, Conversation, Refused};
use crate::account::import::{chatgpt, claude};
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

pub(super) struct State<'s> {
    pub(super) format: Format,
    pub(super) caps: ImportCaps,
    pub(super) guard: Rc<GuardState>,
    /// Conversations met so far (for naming the ones without an id).
    pub(super) seen: usize,
    pub(super) now: DateTime<Utc>,
    pub(super) sink: &'s mut dyn FnMut(Item) -> bool,
    /// Why the visitor stopped the parse, when it did.
    pub(super) stop: Option<ReadError>,
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
    pub(super) fn next<'de, A: SeqAccess<'de>>(
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
    pub(super) fn element(&mut self, value: Value, over: Option<Over>) -> Result<(), ReadError> {
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

    pub(super) fn deliver(
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
pub(super) fn identify(value: &Value, position: usize) -> (String, Option<String>) {
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
