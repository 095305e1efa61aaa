//! Slots for the long account jobs (full exports, imports): a few per instance, and at most one
//! per user at a time, so that one account cannot hold them all and keep everyone else out.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use shared::UserId;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::error::ApiError;

pub struct Slots {
    what: &'static str,
    instance: Arc<Semaphore>,
    users: Arc<Mutex<HashSet<UserId>>>,
}

/// A user's slot: freed when dropped. Holds one of the instance's slots too once given one.
pub struct Slot {
    permit: Option<OwnedSemaphorePermit>,
    instance: Arc<Semaphore>,
    users: Arc<Mutex<HashSet<UserId>>>,
    user: UserId,
}

impl Slot {
    /// One of the instance's slots, waiting for one at most `wait` (then `503 BUSY`). It can be
    /// handed to the task that does the work, so it is freed when that work ends.
    pub async fn instance_slot(&self, wait: Duration) -> Result<OwnedSemaphorePermit, ApiError> {
        let acquired = tokio::time::timeout(wait, Arc::clone(&self.instance).acquire_owned());
        match acquired.await {
            Ok(Ok(permit)) => Ok(permit),
            _ => Err(ApiError::Busy),
        }
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.users
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .remove(&self.user);
    }
}

impl Slots {
    /// `at_once` jobs of this kind (`what`: "import", "export") on this instance.
    pub fn new(what: &'static str, at_once: usize) -> Self {
        Self {
            what,
            instance: Arc::new(Semaphore::new(at_once)),
            users: Arc::default(),
        }
    }

    /// A slot for `user` and one of the instance's: `429 BUSY_FOR_USER` while they already
    /// hold one, `503 BUSY` while every slot of the instance is taken.
    pub fn claim(&self, user: &UserId) -> Result<Slot, ApiError> {
        let mut slot = self.claim_user(user)?;
        let permit = Arc::clone(&self.instance)
            .try_acquire_owned()
            .map_err(|_| ApiError::Busy)?;
        slot.permit = Some(permit);
        Ok(slot)
    }

    /// The user's slot alone (`429 BUSY_FOR_USER` while they hold one): for the part of a job
    /// that waits on the client, which must not hold one of the instance's few slots.
    pub fn claim_user(&self, user: &UserId) -> Result<Slot, ApiError> {
        let mut users = self
            .users
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if users.contains(user) {
            crate::metrics::rejected(crate::metrics::Limit::UserJob);
            return Err(ApiError::TooMany {
                code: "BUSY_FOR_USER",
                message: format!(
                    "Your last {} is still running; wait for it to finish, then try again.",
                    self.what
                ),
            });
        }
        users.insert(user.clone());
        Ok(Slot {
            permit: None,
            instance: Arc::clone(&self.instance),
            users: Arc::clone(&self.users),
            user: user.clone(),
        })
    }
}
