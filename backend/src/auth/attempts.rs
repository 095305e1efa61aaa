//! Password checks counted per account (sign-in, change-password, delete-user, `DELETE /api/me`),
//! so that guesses spread over many addresses stay bounded without letting someone who does
//! not know the password keep out someone who does. Ours; Better Auth has no per-account rule.
//! Only failures count, and two ways:
//!
//! - per account *and* address: after [`PER_ADDRESS`] failures in five minutes, that address
//!   is refused (429) for that account until the window ends. A success clears its count.
//! - per account, from every address together: past [`SLOW_AFTER`] failures in five minutes,
//!   every attempt at that account waits [`SLOW_BY`] before its password is checked. Slowed,
//!   never refused: the owner, from their own address, always gets in with the right password.
//!
//! The counts live where the other auth limits do (Redis when `REDIS_URL` is set) and are off
//! with `AUTH_RATE_LIMIT=off`.

use std::net::IpAddr;
use std::time::Duration;

use shared::UserId;

use crate::client_ip::bucket_key;
use crate::rate_limit::{Decision, Failures, RateLimiter, Rule};
use crate::state::AppState;

/// Failures one address may make against one account in [`WINDOW`].
pub const PER_ADDRESS: u32 = 10;
/// Failures against one account, from everywhere, before every attempt is slowed.
pub const SLOW_AFTER: u32 = 50;
/// How long a slowed attempt waits before its password is checked.
pub const SLOW_BY: Duration = Duration::from_secs(2);
const WINDOW: Duration = Duration::from_secs(300);

/// Better Auth's rule for the routes that check a password: 3 per 10 s per address and route.
pub const STRICT: Rule = Rule::new(10, 3);

/// Counts a request from `ip` to `route` (a route outside `/api/auth` that checks a password)
/// under [`STRICT`], as the `/api/auth` limiter does for its own.
pub async fn strict(state: &AppState, ip: Option<IpAddr>, route: &str) -> Result<(), Refused> {
    let (Some(limiter), Some(ip)) = (state.auth_rate_limiter.as_ref(), ip) else {
        return Ok(());
    };
    match limiter
        .hit(&format!("auth|{}|{route}", bucket_key(ip)), STRICT)
        .await
    {
        Ok(Decision::Limited { retry_after_secs }) => {
            crate::metrics::rejected(crate::metrics::Limit::Auth);
            Err(Refused { retry_after_secs })
        }
        Ok(Decision::Allowed { .. }) => Ok(()),
        Err(e) => {
            tracing::error!(
                error = crate::telemetry::chain(e.as_ref()),
                "auth rate limiter unavailable"
            );
            Ok(())
        }
    }
}

/// The address as the per-account count keys it: IPv4 as is, IPv6 by its /48, a whole site's
/// allocation (its /64s are as many as an attacker wants).
fn address_key(ip: IpAddr) -> String {
    match ip {
        IpAddr::V6(v6) if v6.to_ipv4_mapped().is_none() => {
            let s = v6.segments();
            format!("{:x}:{:x}:{:x}::/48", s[0], s[1], s[2])
        }
        other => bucket_key(other),
    }
}

/// Whose password is being checked: an email at sign-in (known or not), a user otherwise.
pub enum Account<'a> {
    Email(&'a str),
    User(&'a UserId),
}

/// An address has failed too often for this account: refused for `retry_after_secs`.
#[derive(Debug)]
pub struct Refused {
    pub retry_after_secs: u64,
}

/// What to do with an attempt, given the failures counted so far.
#[derive(Debug, PartialEq, Eq)]
enum Verdict {
    Check,
    SlowThenCheck,
    Refuse { retry_after_secs: u64 },
}

fn verdict(from_here: Failures, from_everywhere: Failures) -> Verdict {
    if from_here.count >= PER_ADDRESS {
        Verdict::Refuse {
            retry_after_secs: from_here.resets_in_secs,
        }
    } else if from_everywhere.count >= SLOW_AFTER {
        Verdict::SlowThenCheck
    } else {
        Verdict::Check
    }
}

/// One password check under way: report how it went with [`Attempt::failed`] or
/// [`Attempt::succeeded`].
pub struct Attempt<'a> {
    limiter: Option<&'a RateLimiter>,
    account: String,
    pair: String,
}

/// Admits a password check for `account` from `ip`: refused when this address failed too
/// often for it, and slowed (waits here) when the account is under a wide guessing run.
pub async fn admit<'a>(
    state: &'a AppState,
    account: Account<'_>,
    ip: Option<IpAddr>,
) -> Result<Attempt<'a>, Refused> {
    let account = match account {
        Account::Email(email) => format!("email|{}", email.to_lowercase()),
        Account::User(id) => format!("user|{id}"),
    };
    let address = ip.map_or_else(|| "unknown".to_owned(), address_key);
    let attempt = Attempt {
        limiter: state.auth_rate_limiter.as_ref(),
        pair: format!("pw|{account}|{address}"),
        account: format!("pw|{account}"),
    };
    let Some(limiter) = attempt.limiter else {
        return Ok(attempt);
    };
    let counted = async {
        let here = limiter.failures(&attempt.pair).await?;
        let everywhere = limiter.failures(&attempt.account).await?;
        anyhow::Ok(verdict(here, everywhere))
    };
    match counted.await {
        Ok(Verdict::Check) => {}
        Ok(Verdict::SlowThenCheck) => {
            tracing::info!("password attempt slowed: many failures for this account");
            tokio::time::sleep(SLOW_BY).await;
        }
        Ok(Verdict::Refuse { retry_after_secs }) => {
            crate::metrics::rejected(crate::metrics::Limit::Auth);
            return Err(Refused { retry_after_secs });
        }
        // The limiter's store is down: check the password rather than lock everyone out.
        Err(e) => tracing::error!(
            error = crate::telemetry::chain(e.as_ref()),
            "password attempt limiter unavailable"
        ),
    }
    Ok(attempt)
}

impl From<Refused> for super::AuthError {
    fn from(r: Refused) -> Self {
        Self::TooManyRequests {
            retry_after_secs: r.retry_after_secs,
        }
    }
}

impl From<Refused> for crate::error::ApiError {
    fn from(r: Refused) -> Self {
        Self::RateLimited {
            retry_after_secs: r.retry_after_secs,
            message: "Too many password attempts for this account from here; try again later."
                .to_owned(),
        }
    }
}

/// Whether `password` matches `stored`, checked under the counts of [`admit`].
pub async fn verify<E: From<Refused> + From<anyhow::Error>>(
    state: &AppState,
    account: Account<'_>,
    ip: Option<IpAddr>,
    password: &str,
    stored: &str,
) -> Result<bool, E> {
    let attempt = admit(state, account, ip).await?;
    let right = state.auth.hasher.verify(password, stored).await?;
    if right {
        attempt.succeeded().await;
    } else {
        attempt.failed().await;
    }
    Ok(right)
}

impl Attempt<'_> {
    /// The password was wrong: counts against the account and this address.
    pub async fn failed(self) {
        let Some(limiter) = self.limiter else { return };
        for key in [&self.pair, &self.account] {
            if let Err(e) = limiter.add_failure(key, WINDOW).await {
                tracing::error!(
                    error = crate::telemetry::chain(e.as_ref()),
                    "password attempt limiter unavailable"
                );
            }
        }
    }

    /// The password was right: this address starts afresh for this account.
    pub async fn succeeded(self) {
        let Some(limiter) = self.limiter else { return };
        if let Err(e) = limiter.clear_failures(&self.pair).await {
            tracing::error!(
                error = crate::telemetry::chain(e.as_ref()),
                "password attempt limiter unavailable"
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failures(count: u32) -> Failures {
        Failures {
            count,
            resets_in_secs: 120,
        }
    }

    #[test]
    fn ipv6_addresses_count_by_their_48() {
        let key = |ip: &str| address_key(ip.parse().unwrap());
        assert_eq!(key("2001:db8:1:2::1"), key("2001:db8:1:ffff::9"));
        assert_ne!(key("2001:db8:1::1"), key("2001:db8:2::1"));
        assert_eq!(key("203.0.113.9"), "203.0.113.9");
        assert_eq!(key("::ffff:203.0.113.9"), "203.0.113.9");
    }

    #[test]
    fn an_address_that_failed_too_often_is_refused_for_that_account() {
        assert_eq!(verdict(failures(9), failures(9)), Verdict::Check);
        assert_eq!(
            verdict(failures(PER_ADDRESS), failures(PER_ADDRESS)),
            Verdict::Refuse {
                retry_after_secs: 120
            }
        );
    }

    #[test]
    fn failures_from_elsewhere_slow_an_address_but_never_refuse_it() {
        assert_eq!(
            verdict(failures(0), failures(SLOW_AFTER - 1)),
            Verdict::Check
        );
        assert_eq!(
            verdict(failures(0), failures(10_000)),
            Verdict::SlowThenCheck
        );
    }
}
