//! The answers this process is writing, by message id, with the token that stops each: how a
//! stop request reaches its answer's task, and how shutdown waits for them.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use shared::MessageId;
use tokio::sync::Notify;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

/// The answers this process is writing, by message id, so a stop request can reach them.
#[derive(Default)]
pub struct Running {
    answers: Mutex<HashMap<MessageId, CancellationToken>>,
    /// Told whenever an answer's task ends.
    ended: Notify,
}

impl Running {
    pub fn register(self: &Arc<Self>, id: MessageId) -> (CancellationToken, Registration) {
        let token = CancellationToken::new();
        self.answers
            .lock()
            .expect("registry poisoned")
            .insert(id, token.clone());
        (
            token,
            Registration {
                running: self.clone(),
                id,
            },
        )
    }

    /// Cancels a local answer; `false` if this process is not writing it.
    pub fn stop(&self, id: MessageId) -> bool {
        match self.answers.lock().expect("registry poisoned").get(&id) {
            Some(token) => {
                token.cancel();
                true
            }
            None => false,
        }
    }

    /// Cancels every answer this process is writing (shutdown); how many there were.
    pub fn stop_all(&self) -> usize {
        let answers = self.answers.lock().expect("registry poisoned");
        for token in answers.values() {
            token.cancel();
        }
        answers.len()
    }

    pub fn is_running(&self, id: MessageId) -> bool {
        self.answers
            .lock()
            .expect("registry poisoned")
            .contains_key(&id)
    }

    /// How many answers this process is writing.
    pub fn count(&self) -> usize {
        self.answers.lock().expect("registry poisoned").len()
    }

    fn is_empty(&self) -> bool {
        self.answers.lock().expect("registry poisoned").is_empty()
    }

    /// Waits until no answer is being written, or `deadline`; `true` if none is.
    pub async fn wait_until_none(&self, deadline: Instant) -> bool {
        loop {
            let ended = self.ended.notified();
            if self.is_empty() {
                return true;
            }
            if tokio::time::timeout_at(deadline, ended).await.is_err() {
                return self.is_empty();
            }
        }
    }
}

/// An answer's place in [`Running`], held by its task until the answer is saved.
pub struct Registration {
    running: Arc<Running>,
    id: MessageId,
}

impl Drop for Registration {
    fn drop(&mut self) {
        self.running
            .answers
            .lock()
            .expect("registry poisoned")
            .remove(&self.id);
        self.running.ended.notify_waiters();
    }
}
