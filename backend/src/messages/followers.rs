//! How many answer streams are followed at once (`GET .../events`): each polls the database
//! while its answer is written, so they are capped per user (`MAX_FOLLOWERS_PER_USER`) and per
//! instance (`MAX_FOLLOWERS`). Counted in this process: with several instances, per instance.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use shared::UserId;

use crate::error::ApiError;

#[derive(Default)]
struct Counts {
    total: usize,
    per_user: HashMap<UserId, usize>,
}

pub struct Followers {
    max_total: usize,
    max_per_user: usize,
    counts: Arc<Mutex<Counts>>,
}

/// One follower counted; uncounted when dropped (the stream ended or its client left).
pub struct Following {
    counts: Arc<Mutex<Counts>>,
    user: UserId,
}

impl Drop for Following {
    fn drop(&mut self) {
        let mut counts = self.counts.lock().unwrap_or_else(PoisonError::into_inner);
        counts.total = counts.total.saturating_sub(1);
        if let Some(n) = counts.per_user.get_mut(&self.user) {
            *n -= 1;
            if *n == 0 {
                counts.per_user.remove(&self.user);
            }
        }
    }
}

impl Followers {
    pub fn new(max_total: usize, max_per_user: usize) -> Self {
        Self {
            max_total,
            max_per_user,
            counts: Arc::default(),
        }
    }

    /// Counts a new follower for `user`, or `429 TOO_MANY_FOLLOWERS`.
    pub fn admit(&self, user: &UserId) -> Result<Following, ApiError> {
        let mut counts = self.counts.lock().unwrap_or_else(PoisonError::into_inner);
        let mine = counts.per_user.get(user).copied().unwrap_or(0);
        let refuse = |message: String| {
            crate::metrics::rejected(crate::metrics::Limit::Followers);
            Err(ApiError::TooMany {
                code: "TOO_MANY_FOLLOWERS",
                message,
            })
        };
        if mine >= self.max_per_user {
            return refuse(format!(
                "You are following {mine} answers at once, the most allowed \
                 (MAX_FOLLOWERS_PER_USER); close another tab or wait for one to finish."
            ));
        }
        if counts.total >= self.max_total {
            return refuse(
                "This server is following as many answers as it allows (MAX_FOLLOWERS); \
                 retry in a moment."
                    .to_owned(),
            );
        }
        counts.total += 1;
        *counts.per_user.entry(user.clone()).or_insert(0) += 1;
        Ok(Following {
            counts: Arc::clone(&self.counts),
            user: user.clone(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn followers_are_capped_per_user_and_in_all_and_freed_when_dropped() {
        let followers = Followers::new(3, 2);
        let (a, b) = (UserId::new("a"), UserId::new("b"));
        let a1 = followers.admit(&a).unwrap();
        let _a2 = followers.admit(&a).unwrap();
        let refused = |user: &UserId| followers.admit(user).err().map(|e| e.code());
        assert_eq!(refused(&a), Some("TOO_MANY_FOLLOWERS"));
        let _b1 = followers.admit(&b).unwrap();
        assert_eq!(refused(&b), Some("TOO_MANY_FOLLOWERS"));
        drop(a1);
        assert!(followers.admit(&b).is_ok());
    }
}
