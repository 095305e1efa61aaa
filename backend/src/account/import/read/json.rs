//! Reading JSON: the parse behind the guard, and the visitors that tell an array of ChatGPT or
//! Claude conversations from a Chatkeep export and hand each conversation over as it is read.

use std::cell::Cell;
use std::fmt;
use std::io::Read;
use std::rc::Rc;

use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::Value;
use shared::account::{EXPORT_FORMAT, EXPORT_VERSION};

use super::state::{ReadError, State, identify};
use crate::account::import::bounded::{Bounded, Budget, Guard, Over, rest_of_map};
use crate::account::import::chatkeep;
use crate::account::import::model::Refused;

pub(super) fn read_json<R: Read>(
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
