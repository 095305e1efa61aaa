//! The pure part of a streamed answer: what each event does to the messages, with no signal
//! and no network, so it is tested natively (`cargo test -p frontend`), as the tree is.

use shared::messages::{Message, MessageStatus, Role};
use shared::stream::{FinishEvent, StartEvent};
use shared::{ConversationId, MessageId};

/// The question (when the event names one) and the empty answer a `start` event announces, as
/// they are shown until the server's own copies are loaded. `parent` is where the question
/// sits; `now` is their creation time.
pub fn started(
    start: &StartEvent,
    question: &str,
    parent: Option<MessageId>,
    now: &str,
) -> (Option<Message>, Message) {
    let asked = start.user_message_id.map(|id| {
        local_message(
            id,
            start.conversation_id,
            parent,
            Role::User,
            question,
            MessageStatus::Complete,
            now,
        )
    });
    let answer = local_message(
        start.message_id,
        start.conversation_id,
        start.user_message_id,
        Role::Assistant,
        "",
        MessageStatus::Streaming,
        now,
    );
    (asked, answer)
}

/// The answer's end: complete, or stopped. Returns what a screen reader should hear.
pub fn finish(answer: &mut Message, finish: FinishEvent) -> String {
    let stopped = finish.finish_reason == "stopped";
    answer.status = if stopped {
        MessageStatus::Stopped
    } else {
        MessageStatus::Complete
    };
    answer.finish_reason = Some(finish.finish_reason);
    answer.usage = finish.usage;
    announcement(&answer.content, stopped)
}

/// The agent failed mid-answer: the text so far stays, with the reason.
pub fn fail(answer: &mut Message, message: String) {
    answer.status = MessageStatus::Error;
    answer.error = Some(message);
}

/// The connection broke while the answer was being written here.
pub fn cut_off(answer: &mut Message) {
    if answer.status == MessageStatus::Streaming {
        answer.status = MessageStatus::Error;
        answer.error = Some("The connection was lost while this answer was written.".to_owned());
    }
}

/// The stream ended without a final event: the server stopped the answer.
pub fn ended_without_finish(answer: &mut Message) {
    if answer.status == MessageStatus::Streaming {
        answer.status = MessageStatus::Stopped;
    }
}

/// Where following an answer picks up: the characters and sources already here.
pub fn position(answer: &Message) -> String {
    format!(
        "{}.{}",
        answer.content.chars().count(),
        answer.sources.len()
    )
}

/// What a screen reader hears when an answer is ready, once (not token by token): its first
/// words.
pub fn announcement(content: &str, stopped: bool) -> String {
    let start: String = content.chars().take(160).collect();
    let more = if content.chars().count() > 160 {
        "…"
    } else {
        ""
    };
    let what = if stopped {
        "Answer stopped"
    } else {
        "Answer finished"
    };
    format!("{what}: {start}{more}")
}

fn local_message(
    id: MessageId,
    conversation_id: ConversationId,
    parent_id: Option<MessageId>,
    role: Role,
    content: &str,
    status: MessageStatus,
    now: &str,
) -> Message {
    Message {
        id,
        conversation_id,
        parent_id,
        role,
        content: content.to_owned(),
        selected_text: None,
        sources: Vec::new(),
        status,
        finish_reason: None,
        error: None,
        usage: None,
        client_id: None,
        created_at: now.to_owned(),
        updated_at: now.to_owned(),
        feedback: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: &str = "2026-12-07T20:00:00.000000Z";

    /// The conversation or message numbered `n`.
    fn id<T: std::str::FromStr>(n: u32) -> T
    where
        T::Err: std::fmt::Debug,
    {
        format!("00000000-0000-7000-8000-{n:012}").parse().unwrap()
    }

    fn start() -> StartEvent {
        StartEvent {
            conversation_id: id(1),
            user_message_id: Some(id(10)),
            message_id: id(11),
        }
    }

    fn finish_event(reason: &str) -> FinishEvent {
        FinishEvent {
            finish_reason: reason.to_owned(),
            usage: None,
        }
    }

    #[test]
    fn a_start_shows_the_question_where_it_was_asked_and_an_empty_answer_under_it() {
        let (question, answer) = started(&start(), "Why?", Some(id(9)), NOW);
        let question = question.unwrap();
        assert_eq!(
            (question.id, question.parent_id, question.role),
            (id(10), Some(id(9)), Role::User)
        );
        assert_eq!(question.content, "Why?");
        assert_eq!(question.status, MessageStatus::Complete);
        assert_eq!(
            (answer.id, answer.parent_id, answer.role),
            (id(11), Some(id(10)), Role::Assistant)
        );
        assert_eq!(
            (answer.content.as_str(), answer.status),
            ("", MessageStatus::Streaming)
        );
        assert_eq!(
            (answer.created_at.as_str(), answer.conversation_id),
            (NOW, id(1))
        );
    }

    #[test]
    fn an_answer_with_no_question_shows_alone() {
        let start = StartEvent {
            user_message_id: None,
            ..start()
        };
        let (question, answer) = started(&start, "", None, NOW);
        assert!(question.is_none());
        assert_eq!(answer.parent_id, None);
    }

    #[test]
    fn a_finish_completes_or_stops_the_answer_and_says_so_once() {
        let (_, mut answer) = started(&start(), "", None, NOW);
        answer.content = "Forty-two.".to_owned();
        let said = finish(&mut answer, finish_event("stop"));
        assert_eq!(answer.status, MessageStatus::Complete);
        assert_eq!(answer.finish_reason.as_deref(), Some("stop"));
        assert_eq!(said, "Answer finished: Forty-two.");

        let said = finish(&mut answer, finish_event("stopped"));
        assert_eq!(answer.status, MessageStatus::Stopped);
        assert_eq!(said, "Answer stopped: Forty-two.");
    }

    #[test]
    fn the_announcement_is_the_first_160_characters() {
        let long = "é".repeat(200);
        let said = announcement(&long, false);
        assert_eq!(said, format!("Answer finished: {}…", "é".repeat(160)));
        assert_eq!(announcement("short", false), "Answer finished: short");
    }

    #[test]
    fn a_failure_keeps_the_text_and_gives_the_reason() {
        let (_, mut answer) = started(&start(), "", None, NOW);
        answer.content = "Half".to_owned();
        fail(&mut answer, "upstream timed out".to_owned());
        assert_eq!(answer.status, MessageStatus::Error);
        assert_eq!(answer.content, "Half");
        assert_eq!(answer.error.as_deref(), Some("upstream timed out"));
    }

    #[test]
    fn a_lost_connection_or_a_missing_finish_only_changes_an_answer_still_being_written() {
        let (_, mut answer) = started(&start(), "", None, NOW);
        cut_off(&mut answer);
        assert_eq!(answer.status, MessageStatus::Error);
        assert!(
            answer
                .error
                .as_deref()
                .unwrap()
                .contains("connection was lost")
        );

        let (_, mut answer) = started(&start(), "", None, NOW);
        ended_without_finish(&mut answer);
        assert_eq!(answer.status, MessageStatus::Stopped);

        let (_, mut done) = started(&start(), "", None, NOW);
        finish(&mut done, finish_event("stop"));
        cut_off(&mut done);
        ended_without_finish(&mut done);
        assert_eq!((done.status, done.error), (MessageStatus::Complete, None));
    }

    #[test]
    fn following_picks_up_after_the_characters_and_sources_already_here() {
        let (_, mut answer) = started(&start(), "", None, NOW);
        answer.content = "naïve".to_owned();
        assert_eq!(position(&answer), "5.0");
    }
}
