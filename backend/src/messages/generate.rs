//! Writing an answer: a task per answer runs the agent, forwards its events to the client
//! that asked, and saves the text as it arrives (batched: at most every 250 ms, and at least
//! every 10 s as a heartbeat). The task, not the HTTP response, owns the answer: when the
//! client leaves (a reload, a lost network) the answer goes on to its end, and anyone may
//! follow it from what is stored (`GET .../messages/{mid}/events`). A stop request, an agent
//! error or the answer's time limit (`AGENT_MAX_DURATION`) end it, with the right status, and
//! free its slot. Nothing waits forever.

use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use shared::ErrorBody;
use shared::messages::{MessageStatus, Source, Usage};
use shared::stream::{DeltaEvent, FinishEvent, StartEvent, StreamEvent, TitleEvent};
use shared::{ConversationId, MessageId, UserId};
use sqlx::PgPool;
use tokio::sync::mpsc;
use tokio::time::{Instant, MissedTickBehavior};

use super::admission::Slot;
use super::running::Running;
use super::store::{self, MessageRow, Outcome};
use crate::agent::{Agent, AgentError, AgentEvent, AgentRequest};
use crate::db::begin_for_user;
use crate::state::AppState;

const SAVE_EVERY: Duration = Duration::from_millis(250);
const HEARTBEAT_EVERY: Duration = Duration::from_secs(10);
/// A client that reads nothing for this long is let go: the answer goes on without it (and it
/// can follow the stored answer instead), so a connection held open without reading cannot
/// hold the answer up.
const CLIENT_STALL: Duration = Duration::from_secs(30);
/// How long the final event may wait for a slow reader.
const FINAL_EVENT_WAIT: Duration = Duration::from_secs(5);
/// How long the final save keeps trying while the database is away (a restart, a failover).
/// Past it the answer is left to the abandoned-answer rule, which ends it with what was saved.
const FINAL_SAVE_PATIENCE: Duration = Duration::from_secs(120);
/// The longest pause between two tries of the final save.
const FINAL_SAVE_MAX_PAUSE: Duration = Duration::from_secs(2);

/// Everything an answer task needs.
pub struct Job {
    pub pool: PgPool,
    pub agent: Arc<Agent>,
    pub running: Arc<Running>,
    pub user_id: UserId,
    pub conversation_id: ConversationId,
    pub question_id: MessageId,
    pub answer_id: MessageId,
    pub request: AgentRequest,
    /// Set when this exchange titled the conversation.
    pub new_title: Option<String>,
    /// The longest an answer may take, start to finish (`AGENT_MAX_DURATION`).
    pub max_duration: Duration,
    /// Held for the task's life: its slot and its places in the caps.
    pub slot: Slot,
}

/// How the answer ended, before it is saved.
enum End {
    Complete,
    Stopped,
    Failed { code: &'static str, message: String },
}

impl End {
    /// The agent failed: the details go to the log, once; the person gets the plain message.
    fn failed(answer_id: MessageId, error: &AgentError) -> Self {
        tracing::warn!(message.id = %answer_id, code = error.code(), error = crate::telemetry::chain(error), "the agent failed");
        crate::metrics::agent_error(error.code());
        Self::Failed {
            code: error.code(),
            message: error.public_message().to_owned(),
        }
    }
}

/// Starts writing `answer` to `question` (both stored), holding `slot` until it is saved.
pub fn start(
    state: &AppState,
    user_id: &UserId,
    question: &MessageRow,
    answer: &MessageRow,
    request: AgentRequest,
    new_title: Option<String>,
    slot: Slot,
) -> mpsc::Receiver<StreamEvent> {
    spawn(Job {
        pool: state.pool.clone(),
        agent: Arc::clone(&state.chat.agent),
        running: Arc::clone(&state.chat.running),
        user_id: user_id.clone(),
        conversation_id: question.conversation_id,
        question_id: question.id,
        answer_id: answer.id,
        request,
        new_title,
        max_duration: Duration::from_secs(state.settings.agent.max_duration_secs),
        slot,
    })
}

/// Starts the answer task; its events arrive on the returned channel, which ends when the
/// answer is saved. Dropping the receiver lets the answer go on without that client.
pub fn spawn(job: Job) -> mpsc::Receiver<StreamEvent> {
    let (tx, rx) = mpsc::channel(64);
    tokio::spawn(run(job, tx));
    rx
}

async fn run(job: Job, tx: mpsc::Sender<StreamEvent>) {
    let mut client = Client(Some(tx));
    let (cancel, _registration) = job.running.register(job.answer_id);
    let mut answer = Answer::default();
    let mut saver = Saver::new();
    let deadline = Instant::now() + job.max_duration;
    let too_long = || End::Failed {
        code: "AGENT_TIMEOUT",
        message: format!(
            "the answer took longer than {} s",
            job.max_duration.as_secs()
        ),
    };

    let end = 'answer: {
        let start = StreamEvent::Start(StartEvent {
            message_id: job.answer_id,
            user_message_id: Some(job.question_id),
            conversation_id: job.conversation_id,
        });
        client.emit(start).await;
        if let Some(title) = &job.new_title {
            let event = StreamEvent::Title(TitleEvent {
                title: title.clone(),
            });
            client.emit(event).await;
        }

        // Connecting can take a while (a model loading): keep the heartbeat going meanwhile.
        let connect = job.agent.stream(job.request.clone());
        tokio::pin!(connect);
        let mut events = loop {
            tokio::select! {
                biased;
                () = cancel.cancelled() => break 'answer End::Stopped,
                () = tokio::time::sleep_until(deadline) => break 'answer too_long(),
                _ = saver.tick.tick() => {
                    if saver.beat(&job, &answer).await {
                        break 'answer End::Stopped;
                    }
                }
                connected = &mut connect => match connected {
                    Ok(events) => break events,
                    Err(e) => break 'answer End::failed(job.answer_id, &e),
                },
            }
        };

        loop {
            tokio::select! {
                biased;
                () = cancel.cancelled() => break End::Stopped,
                () = tokio::time::sleep_until(deadline) => break too_long(),
                _ = saver.tick.tick() => {
                    if saver.beat(&job, &answer).await {
                        break End::Stopped;
                    }
                }
                next = events.next() => match next {
                    None => break End::Complete,
                    Some(Err(e)) => break End::failed(job.answer_id, &e),
                    Some(Ok(event)) => {
                        if let Some(out) = answer.apply(event) {
                            saver.dirty = true;
                            tokio::select! {
                                biased;
                                () = cancel.cancelled() => break End::Stopped,
                                () = client.emit(out) => {}
                            }
                        }
                    }
                },
            }
        }
    };

    // A partial save still under way lands before the final one, never after it.
    saver.settle().await;
    let final_event = finish(&job.pool, &job.user_id, job.answer_id, &answer, &end).await;
    tracing::info!(
        message.id = %job.answer_id,
        status = final_event.as_ref().map_or("unsaved", |(s, _)| s.as_str()),
        chars = answer.content.chars().count(),
        "answer finished"
    );
    let event = match final_event {
        Some((_, event)) => event,
        // Not saved: the reader still learns that the answer ended, and why it may not be kept.
        None => StreamEvent::Error(ErrorBody {
            code: "DATABASE_UNAVAILABLE".to_owned(),
            message: "The answer could not be saved because the database is unavailable."
                .to_owned(),
        }),
    };
    if let Some(tx) = client.0 {
        // A slow reader still gets the last word; one that is gone does not hold us up.
        let _ = tokio::time::timeout(FINAL_EVENT_WAIT, tx.send(event)).await;
    }
}

/// Saves the answer every `SAVE_EVERY` when it changed, and every `HEARTBEAT_EVERY` anyway, so
/// a live answer never looks abandoned. Saves run beside the answer, one at a time: a database
/// that is slow or away holds up the saving, never the words reaching the reader.
struct Saver {
    tick: tokio::time::Interval,
    saved_at: Instant,
    dirty: bool,
    pending: Option<tokio::task::JoinHandle<sqlx::Result<bool>>>,
}

impl Saver {
    fn new() -> Self {
        let mut tick = tokio::time::interval(SAVE_EVERY);
        tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
        Self {
            tick,
            saved_at: Instant::now(),
            dirty: false,
            pending: None,
        }
    }

    /// Returns `true` when the answer was stopped elsewhere (a stop request, maybe on another
    /// instance): the task should end.
    async fn beat(&mut self, job: &Job, answer: &Answer) -> bool {
        if self.pending.as_ref().is_some_and(|p| !p.is_finished()) {
            return false;
        }
        if self.take_result().await == Some(false) {
            return true;
        }
        if !self.dirty && self.saved_at.elapsed() < HEARTBEAT_EVERY {
            return false;
        }
        self.dirty = false;
        let (pool, user_id, id) = (job.pool.clone(), job.user_id.clone(), job.answer_id);
        let (content, sources) = (answer.content.clone(), answer.sources.clone());
        self.pending = Some(tokio::spawn(async move {
            save(&pool, &user_id, id, &content, &sources).await
        }));
        false
    }

    /// The finished save's answer to "still streaming?", if one had finished; a failed save
    /// leaves the answer dirty, so the next tick tries again.
    async fn take_result(&mut self) -> Option<bool> {
        let pending = self.pending.take()?;
        match pending.await {
            Ok(Ok(still_streaming)) => {
                self.saved_at = Instant::now();
                Some(still_streaming)
            }
            Ok(Err(e)) => {
                self.dirty = true;
                tracing::warn!(
                    error = crate::telemetry::chain(&e),
                    "saving a partial answer failed; retrying"
                );
                None
            }
            Err(e) => {
                self.dirty = true;
                tracing::warn!(error = %e, "a partial save did not run; retrying");
                None
            }
        }
    }

    /// Waits for a save under way, so that it cannot land after the final one.
    async fn settle(&mut self) {
        self.take_result().await;
    }
}

/// The client that asked, while it reads.
struct Client(Option<mpsc::Sender<StreamEvent>>);

impl Client {
    /// Sends an event; a client that has gone, or has read nothing for `CLIENT_STALL`, is let
    /// go, and the answer goes on without it.
    async fn emit(&mut self, event: StreamEvent) {
        let Some(tx) = &self.0 else { return };
        if !matches!(
            tokio::time::timeout(CLIENT_STALL, tx.send(event)).await,
            Ok(Ok(()))
        ) {
            self.0 = None;
        }
    }
}

/// The answer as it accumulates.
#[derive(Default)]
struct Answer {
    content: String,
    sources: Vec<Source>,
    usage: Option<Usage>,
    finish_reason: Option<String>,
}

impl Answer {
    /// Folds an agent event in; returns what the client should see, if anything.
    fn apply(&mut self, event: AgentEvent) -> Option<StreamEvent> {
        match event {
            AgentEvent::Delta(text) => {
                self.content.push_str(&text);
                Some(StreamEvent::Delta(DeltaEvent { text }))
            }
            AgentEvent::Source {
                title,
                url,
                snippet,
            } => {
                let source = Source {
                    n: u32::try_from(self.sources.len() + 1).unwrap_or(u32::MAX),
                    title,
                    url,
                    snippet,
                };
                self.sources.push(source.clone());
                Some(StreamEvent::Source(source))
            }
            AgentEvent::Usage(usage) => {
                self.usage = Some(usage);
                None
            }
            AgentEvent::Finish(reason) => {
                self.finish_reason = Some(reason);
                None
            }
        }
    }
}

async fn save(
    pool: &PgPool,
    user_id: &UserId,
    id: MessageId,
    content: &str,
    sources: &[Source],
) -> sqlx::Result<bool> {
    let mut tx = begin_for_user(pool, user_id).await?;
    let still_streaming = store::save_progress(&mut tx, user_id, id, content, sources).await?;
    tx.commit().await?;
    Ok(still_streaming)
}

/// Saves the final state and returns it with the event that tells the client. Retries for up
/// to `FINAL_SAVE_PATIENCE`: losing an answer to a database restart is worse than a wait.
async fn finish(
    pool: &PgPool,
    user_id: &UserId,
    id: MessageId,
    answer: &Answer,
    end: &End,
) -> Option<(MessageStatus, StreamEvent)> {
    let (status, finish_reason, error) = match end {
        End::Complete => (
            MessageStatus::Complete,
            Some(
                answer
                    .finish_reason
                    .clone()
                    .unwrap_or_else(|| "stop".to_owned()),
            ),
            None,
        ),
        End::Stopped => (MessageStatus::Stopped, Some("stopped".to_owned()), None),
        End::Failed { message, .. } => (MessageStatus::Error, None, Some(message.clone())),
    };
    let outcome = Outcome {
        status,
        content: &answer.content,
        sources: &answer.sources,
        finish_reason: finish_reason.as_deref(),
        usage: answer.usage.as_ref(),
        error: error.as_deref(),
    };
    let mut delay = Duration::from_millis(100);
    let give_up = Instant::now() + FINAL_SAVE_PATIENCE;
    for attempt in 1.. {
        let result = async {
            let mut tx = begin_for_user(pool, user_id).await?;
            let row = store::finish(&mut tx, user_id, id, &outcome).await?;
            tx.commit().await?;
            Ok::<_, sqlx::Error>(row)
        }
        .await;
        match result {
            // Gone: the conversation was deleted meanwhile.
            Ok(None) => return None,
            Ok(Some(row)) => {
                let saved = if row.status == MessageStatus::Stopped {
                    MessageStatus::Stopped
                } else {
                    status
                };
                let event = match (saved, end) {
                    (MessageStatus::Error, End::Failed { code, message }) => {
                        StreamEvent::Error(ErrorBody {
                            code: (*code).to_owned(),
                            message: message.clone(),
                        })
                    }
                    (MessageStatus::Stopped, _) => StreamEvent::Finish(FinishEvent {
                        finish_reason: "stopped".to_owned(),
                        usage: answer.usage.clone(),
                    }),
                    _ => StreamEvent::Finish(FinishEvent {
                        finish_reason: finish_reason.clone().unwrap_or_else(|| "stop".to_owned()),
                        usage: answer.usage.clone(),
                    }),
                };
                return Some((saved, event));
            }
            Err(e) => {
                tracing::warn!(
                    error = crate::telemetry::chain(&e),
                    attempt,
                    "saving the final answer failed"
                );
                if Instant::now() + delay >= give_up {
                    break;
                }
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(FINAL_SAVE_MAX_PAUSE);
            }
        }
    }
    tracing::error!(message.id = %id, "could not save the final answer; it will show as interrupted");
    None
}
