//! The slowest an upload or a download may move (`TRANSFER_STALL_TIMEOUT`,
//! `TRANSFER_MIN_RATE`): over each window of time spent waiting on the client, it must have
//! moved `min_rate` bytes a second. A client that stops, or trickles a byte at a time to hold
//! an import or export slot, is ended. Only the time spent waiting on the client counts, so a
//! slow database never ends a fast client's export.

use std::future::Future;
use std::time::Duration;

use tokio::time::Instant;

use crate::config::TransferFloor;

/// The client moved too little for too long.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TooSlow;

pub struct Floor {
    floor: TransferFloor,
    /// Time spent waiting on the client in this window, and the bytes it moved.
    waited: Duration,
    moved: u64,
}

impl Floor {
    pub fn new(floor: TransferFloor) -> Self {
        Self {
            floor,
            waited: Duration::ZERO,
            moved: 0,
        }
    }

    /// Waits for `step` (the client's next chunk, or room to send one). Each time a window's
    /// worth of waiting passes, the rate is checked; the wait goes on while it held.
    pub async fn wait<F: Future>(&mut self, step: F) -> Result<F::Output, TooSlow> {
        tokio::pin!(step);
        loop {
            let left = self.floor.window.saturating_sub(self.waited);
            let started = Instant::now();
            let outcome = tokio::time::timeout(left, &mut step).await;
            self.waited += started.elapsed();
            match outcome {
                Ok(output) => return Ok(output),
                Err(_) => self.end_window()?,
            }
        }
    }

    /// Counts `bytes` moved; at the end of each window, checks the rate held.
    pub fn moved(&mut self, bytes: usize) -> Result<(), TooSlow> {
        self.moved += bytes as u64;
        if self.waited >= self.floor.window {
            self.end_window()?;
        }
        Ok(())
    }

    /// A window of waiting is over: the client must have moved `min_rate` bytes a second of it
    /// (and at least a byte, so a full stall ends even with no rate set). Starts the next.
    fn end_window(&mut self) -> Result<(), TooSlow> {
        let needed = self
            .floor
            .min_rate
            .saturating_mul(self.waited.as_secs())
            .max(1);
        if self.moved < needed {
            return Err(TooSlow);
        }
        self.waited = Duration::ZERO;
        self.moved = 0;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn floor() -> Floor {
        Floor::new(TransferFloor {
            window: Duration::from_secs(10),
            min_rate: 100,
        })
    }

    #[tokio::test(start_paused = true)]
    async fn a_client_that_stops_is_ended_at_the_windows_end() {
        let mut f = floor();
        let never = std::future::pending::<()>();
        assert_eq!(f.wait(never).await, Err(TooSlow));
    }

    #[tokio::test(start_paused = true)]
    async fn a_client_at_a_good_rate_is_never_ended_however_long_it_takes() {
        let mut f = floor();
        // A chunk of 5,000 bytes every 3 s (1,666 a second against a floor of 100), for far
        // longer than a window: waits cross window ends in the middle of a step.
        for _ in 0..100 {
            f.wait(tokio::time::sleep(Duration::from_secs(3)))
                .await
                .unwrap();
            f.moved(5_000).unwrap();
        }
        // And one long pause within a window, after a good window.
        f.wait(tokio::time::sleep(Duration::from_secs(9)))
            .await
            .unwrap();
    }

    #[tokio::test(start_paused = true)]
    async fn a_trickle_below_the_rate_is_ended_and_a_steady_client_is_not() {
        let mut slow = floor();
        let mut steady = floor();
        for _ in 0..10 {
            slow.wait(tokio::time::sleep(Duration::from_secs(1)))
                .await
                .unwrap();
            steady
                .wait(tokio::time::sleep(Duration::from_secs(1)))
                .await
                .unwrap();
            let s = slow.moved(10);
            steady.moved(1_000).unwrap();
            if s.is_err() {
                return;
            }
        }
        panic!("a client moving 10 bytes a second against a floor of 100 was not ended");
    }
}
