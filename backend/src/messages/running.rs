//! The answers this process is writing, by message id, with the token that stops each: how a
//! stop request reaches its answer's task.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use shared::MessageId;
use tokio_util::sync::CancellationToken;

/// The answers this process is writing, by message id, so a stop request can reach them.
#[derive(Default)]
pub struct Running(Mutex<HashMap<MessageId, CancellationToken>>);

impl Running {
    pub fn register(self: &Arc<Self>, id: MessageId) -> (CancellationToken, Registration) {
        let token = CancellationToken::new();
        self.0
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
        match self.0.lock().expect("registry poisoned").get(&id) {
            Some(token) => {
                token.cancel();
                true
            }
            None => false,
        }
    }

    pub fn is_running(&self, id: MessageId) -> bool {
        self.0.lock().expect("registry poisoned").contains_key(&id)
    }
}

pub struct Registration {
    running: Arc<Running>,
    id: MessageId,
}

impl Drop for Registration {
    fn drop(&mut self) {
        self.running
            .0
            .lock()
            .expect("registry poisoned")
            .remove(&self.id);
    }
}
