//! Who may start an answer now. Answers are expensive (a model call, a slot held for up to
//! minutes), so admission is decided at once and never queued: a cap per user, a cap per
//! client address (through the trusted-proxy resolution, so a dozen fresh accounts behind one
//! address are one source), a global number of slots, and a fair share of those slots.
//!
//! The fair share: the last quarter of the slots goes only to sources that hold none, so one
//! busy source (or a few) cannot take every slot and turn everyone else away with 503 `BUSY`.
//! The slots and the address caps are per process (a slot is this process's capacity); the
//! user's cap is also checked in the database, so it is one limit across every instance
//! (`answer::admit` counts them there).

use std::collections::HashMap;
use std::hash::Hash;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};

use shared::UserId;

use crate::error::ApiError;

pub(super) fn too_many_for_user(cap: usize) -> ApiError {
    ApiError::TooManyStreams(format!(
        "You already have {cap} answers being written; wait for one to finish or stop it."
    ))
}

pub struct Limits {
    /// `AGENT_MAX_CONCURRENCY`: answers generating at once, in all.
    pub slots: usize,
    /// `MAX_STREAMS_PER_USER`.
    pub per_user: usize,
    /// `MAX_STREAMS_PER_IP`.
    pub per_ip: usize,
}

pub struct Admission {
    limits: Limits,
    /// Slots only sources holding none may take.
    reserve: usize,
    counts: Mutex<Counts>,
}

#[derive(Default)]
struct Counts {
    running: usize,
    by_user: HashMap<UserId, usize>,
    by_ip: HashMap<IpAddr, usize>,
}

/// An admitted answer's hold: its slot and its places in the user's and the address's counts.
/// Dropping it (the answer finished, or its client left) frees all three.
pub struct Slot {
    admission: Arc<Admission>,
    user_id: UserId,
    ip: Option<IpAddr>,
}

impl Admission {
    pub fn new(limits: Limits) -> Arc<Self> {
        Arc::new(Self {
            reserve: limits.slots / 4,
            limits,
            counts: Mutex::new(Counts::default()),
        })
    }

    /// Generation slots taken, and how many there are.
    pub fn slots(&self) -> (usize, usize) {
        let counts = self.counts.lock().expect("admission counts poisoned");
        (counts.running, self.limits.slots)
    }

    /// Admits an answer for `user_id` from `ip` (unknown when the peer address is), or says
    /// why not: 429 `TOO_MANY_STREAMS` for a source over its cap, 503 `BUSY` when no slot it
    /// may take is free.
    pub fn try_admit(
        self: &Arc<Self>,
        user_id: &UserId,
        ip: Option<IpAddr>,
    ) -> Result<Slot, ApiError> {
        let mut counts = self.counts.lock().expect("admission counts poisoned");
        let by_user = counts.by_user.get(user_id).copied().unwrap_or(0);
        let by_ip = ip.map_or(0, |ip| counts.by_ip.get(&ip).copied().unwrap_or(0));
        if by_user >= self.limits.per_user {
            crate::metrics::rejected(crate::metrics::Limit::Streams);
            return Err(too_many_for_user(self.limits.per_user));
        }
        if by_ip >= self.limits.per_ip {
            crate::metrics::rejected(crate::metrics::Limit::Streams);
            return Err(ApiError::TooManyStreams(format!(
                "{} answers are already being written for your network address; wait for one \
                 to finish.",
                self.limits.per_ip
            )));
        }
        let free = self.limits.slots - counts.running;
        let holds_some = by_user > 0 || by_ip > 0;
        if free == 0 || (free <= self.reserve && holds_some) {
            crate::metrics::rejected(crate::metrics::Limit::Slots);
            return Err(ApiError::Busy);
        }
        counts.running += 1;
        *counts.by_user.entry(user_id.clone()).or_default() += 1;
        if let Some(ip) = ip {
            *counts.by_ip.entry(ip).or_default() += 1;
        }
        Ok(Slot {
            admission: self.clone(),
            user_id: user_id.clone(),
            ip,
        })
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut counts = self
            .admission
            .counts
            .lock()
            .expect("admission counts poisoned");
        counts.running -= 1;
        release(&mut counts.by_user, &self.user_id);
        if let Some(ip) = &self.ip {
            release(&mut counts.by_ip, ip);
        }
    }
}

fn release<K: Eq + Hash>(counts: &mut HashMap<K, usize>, key: &K) {
    if let Some(count) = counts.get_mut(key) {
        *count -= 1;
        if *count == 0 {
            counts.remove(key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(id: &str) -> UserId {
        UserId::new(id)
    }

    fn ip(last: u8) -> Option<IpAddr> {
        Some(IpAddr::from([203, 0, 113, last]))
    }

    fn code(result: &Result<Slot, ApiError>) -> &'static str {
        match result {
            Ok(_) => "OK",
            Err(ApiError::Busy) => "BUSY",
            Err(ApiError::TooManyStreams(_)) => "TOO_MANY_STREAMS",
            Err(other) => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn one_address_cannot_take_every_slot_however_many_accounts_it_has() {
        let admission = Admission::new(Limits {
            slots: 32,
            per_user: 3,
            per_ip: 8,
        });
        let mut held = Vec::new();
        // Twelve fresh accounts behind one address: the address cap stops them at 8.
        for account in 0..12 {
            for _ in 0..3 {
                if let Ok(a) = admission.try_admit(&user(&format!("attacker-{account}")), ip(1)) {
                    held.push(a);
                }
            }
        }
        assert_eq!(held.len(), 8);
        assert_eq!(
            code(&admission.try_admit(&user("attacker-99"), ip(1))),
            "TOO_MANY_STREAMS"
        );
        // Everyone else still gets answers.
        assert_eq!(code(&admission.try_admit(&user("alice"), ip(2))), "OK");
    }

    #[test]
    fn the_last_quarter_of_the_slots_goes_to_sources_holding_none() {
        let admission = Admission::new(Limits {
            slots: 8,
            per_user: 3,
            per_ip: 3,
        });
        let mut held = Vec::new();
        // Two sources fill six of eight slots; the last two are the reserve.
        for source in 1..=2 {
            for n in 0..3 {
                held.push(
                    admission
                        .try_admit(&user(&format!("u{source}-{n}")), ip(source))
                        .unwrap(),
                );
            }
        }
        // A third source holding one slot already may not dip into the reserve...
        let third = admission.try_admit(&user("u3-0"), ip(3));
        assert_eq!(code(&third), "OK");
        assert_eq!(code(&admission.try_admit(&user("u3-1"), ip(3))), "BUSY");
        // ...but a newcomer may, and then nobody can.
        let newcomer = admission.try_admit(&user("n"), ip(4));
        assert_eq!(code(&newcomer), "OK");
        assert_eq!(
            code(&admission.try_admit(&user("m"), ip(5))),
            "BUSY",
            "all slots taken"
        );
    }

    #[test]
    fn leaving_frees_the_slot_and_both_places() {
        let admission = Admission::new(Limits {
            slots: 1,
            per_user: 1,
            per_ip: 1,
        });
        let first = admission.try_admit(&user("u"), ip(1)).unwrap();
        assert_eq!(
            code(&admission.try_admit(&user("u"), ip(1))),
            "TOO_MANY_STREAMS"
        );
        assert_eq!(code(&admission.try_admit(&user("v"), ip(2))), "BUSY");
        drop(first);
        let second = admission.try_admit(&user("v"), ip(2));
        assert_eq!(code(&second), "OK");
        let counts = admission.counts.lock().unwrap();
        assert!(
            counts.by_user.contains_key(&user("v")) && !counts.by_user.contains_key(&user("u"))
        );
        assert_eq!(counts.by_ip.len(), 1);
    }
}
