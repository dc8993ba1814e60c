//! One pace for a whole batch: the request and token budgets the caller
//! set, the pause a host asks for, and how many calls may be in flight.
//!
//! Every call of a batch asks this one value when it may go, so a `429` or
//! a `Retry-After` seen by one call slows all of them, instead of each
//! worker discovering the limit on its own and the batch hammering the host
//! with the rest.
//!
//! - **Requests per minute** are spread evenly: one start every `60 s / rpm`,
//!   so any minute (as a half-open window) holds at most `rpm` starts.
//! - **Tokens per minute** work the same way with a cost: a call estimated
//!   at `c` tokens moves the token clock `c × 60 s / tpm` on; the estimate is
//!   corrected by the usage the host reports, and refunded when the host
//!   answered an error (nothing was generated).
//! - **Rate limits**: a `429`, or any answer carrying `Retry-After`, pauses
//!   every call until the wait is over, and halves the number of calls
//!   allowed in flight (at least one). Each success adds back `1/window`
//!   (additive increase, multiplicative decrease, as TCP does), so the pace
//!   recovers, one call at a time, as long as the host keeps answering.
//!
//! The arithmetic takes the time as an argument, so it is tested without a
//! clock.

use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use tokio::time::Instant;

/// `at + by`, or a year after `at` when that overflows: far past any
/// wait a batch honours, and never a panic.
pub(crate) fn later(at: Instant, by: Duration) -> Instant {
    at.checked_add(by)
        .or_else(|| at.checked_add(Duration::from_secs(365 * 24 * 3600)))
        .unwrap_or(at)
}

/// The shared pace of one batch.
#[derive(Debug)]
pub(crate) struct Pacer {
    /// Gap between request starts (`60 s / rpm`), if limited.
    request_gap: Option<Duration>,
    /// Tokens per minute, if limited.
    tpm: Option<u64>,
    /// The most calls in flight, as configured.
    max_window: usize,
    state: Mutex<State>,
}

#[derive(Debug)]
struct State {
    /// When the next request may start, by the request budget.
    next_request: Instant,
    /// When the next request may start, by the token budget.
    next_token: Instant,
    /// No call starts before this (a host's `Retry-After`).
    paused_until: Instant,
    /// Calls allowed in flight now; shrinks on rate limits, grows back.
    window: f64,
    /// Rate-limit answers seen.
    rate_limited: u64,
}

impl Pacer {
    pub(crate) fn new(concurrency: usize, rpm: Option<u32>, tpm: Option<u64>, now: Instant) -> Self {
        let concurrency = concurrency.max(1);
        Pacer {
            request_gap: rpm
                .filter(|r| *r > 0)
                .and_then(|r| 60_000_000_000u64.checked_div(u64::from(r)))
                .map(Duration::from_nanos),
            tpm: tpm.filter(|t| *t > 0),
            max_window: concurrency,
            state: Mutex::new(State {
                next_request: now,
                next_token: now,
                paused_until: now,
                window: concurrency as f64,
                rate_limited: 0,
            }),
        }
    }

    fn state(&self) -> MutexGuard<'_, State> {
        // The state holds plain numbers that every update leaves
        // consistent, so a panic elsewhere cannot leave it half-written.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// How long `tokens` take out of the token budget.
    fn token_time(&self, tokens: u64) -> Duration {
        match self.tpm {
            Some(tpm) => {
                let nanos = u128::from(tokens)
                    .saturating_mul(60_000_000_000)
                    .checked_div(u128::from(tpm))
                    .unwrap_or(u128::MAX);
                Duration::from_nanos(u64::try_from(nanos).unwrap_or(u64::MAX))
            }
            None => Duration::ZERO,
        }
    }

    /// Books the earliest start for a call estimated at `tokens`, moving
    /// both budgets past it. The caller waits until the returned time.
    pub(crate) fn reserve(&self, tokens: u64, now: Instant) -> Instant {
        let token_time = self.token_time(tokens);
        let mut s = self.state();
        let start = now.max(s.next_request).max(s.next_token).max(s.paused_until);
        if let Some(gap) = self.request_gap {
            s.next_request = later(start, gap);
        }
        s.next_token = later(start, token_time);
        start
    }

    /// The time calls are paused until, if that is after `now`.
    pub(crate) fn paused_after(&self, now: Instant) -> Option<Instant> {
        let until = self.state().paused_until;
        (until > now).then_some(until)
    }

    /// A host said to slow down: pause every call for `wait` and halve the
    /// calls allowed in flight.
    pub(crate) fn rate_limited(&self, wait: Duration, now: Instant) {
        let mut s = self.state();
        let until = later(now, wait);
        s.paused_until = s.paused_until.max(until);
        s.window = (s.window / 2.0).max(1.0);
        s.rate_limited = s.rate_limited.saturating_add(1);
    }

    /// A call succeeded: the window grows back by one call per window's
    /// worth of successes, up to the configured concurrency.
    pub(crate) fn succeeded(&self) {
        let mut s = self.state();
        let max = self.max_window as f64;
        s.window = (s.window + 1.0 / s.window.max(1.0)).min(max);
    }

    /// The host reported `actual` tokens for a call booked at `estimated`:
    /// the token clock moves by the difference.
    pub(crate) fn correct(&self, estimated: u64, actual: u64) {
        if self.tpm.is_none() || estimated == actual {
            return;
        }
        let mut s = self.state();
        if actual > estimated {
            let more = self.token_time(actual.saturating_sub(estimated));
            s.next_token = later(s.next_token, more);
        } else {
            let less = self.token_time(estimated.saturating_sub(actual));
            s.next_token = s.next_token.checked_sub(less).unwrap_or(s.next_token);
        }
    }

    /// Calls allowed in flight now (1 to the configured concurrency).
    pub(crate) fn window(&self) -> usize {
        let w = self.state().window;
        // A float kept in [1, max_window], both of which fit a usize.
        #[allow(clippy::cast_possible_truncation)]
        let calls = w as usize;
        calls.clamp(1, self.max_window)
    }

    /// Rate-limit answers seen so far.
    pub(crate) fn rate_limited_count(&self) -> u64 {
        self.state().rate_limited
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn requests_per_minute_are_spread_evenly() {
        let t0 = Instant::now();
        let p = Pacer::new(8, Some(600), None, t0);
        let starts: Vec<Duration> = (0..5).map(|_| p.reserve(0, t0) - t0).collect();
        assert_eq!(starts, [ms(0), ms(100), ms(200), ms(300), ms(400)]);
        // Any half-open minute holds at most rpm starts.
        let p = Pacer::new(8, Some(60), None, t0);
        let starts: Vec<Instant> = (0..120).map(|_| p.reserve(0, t0)).collect();
        for first in &starts {
            let in_window = starts
                .iter()
                .filter(|s| **s >= *first && **s < *first + Duration::from_secs(60))
                .count();
            assert!(in_window <= 60, "{in_window}");
        }
        // Time that passed with no calls is not saved up for a burst.
        let later = t0 + Duration::from_secs(3600);
        assert_eq!(p.reserve(0, later), later);
        assert_eq!(p.reserve(0, later), later + Duration::from_secs(1));
    }

    #[test]
    fn tokens_per_minute_charge_estimates_and_take_corrections() {
        let t0 = Instant::now();
        // 6,000 tpm: 100 tokens a second.
        let p = Pacer::new(4, None, Some(6_000), t0);
        assert_eq!(p.reserve(200, t0), t0);
        assert_eq!(p.reserve(100, t0), t0 + ms(2000));
        // The first call used 50 tokens, not 200: 1.5 s comes back.
        p.correct(200, 50);
        assert_eq!(p.reserve(0, t0), t0 + ms(1500));
        // One used more than booked: the clock moves on.
        p.correct(100, 300);
        assert_eq!(p.reserve(0, t0), t0 + ms(3500));
    }

    #[test]
    fn a_rate_limit_pauses_everyone_and_halves_the_window_which_recovers() {
        let t0 = Instant::now();
        let p = Pacer::new(8, None, None, t0);
        assert_eq!(p.window(), 8);
        p.rate_limited(ms(1500), t0);
        assert_eq!(p.window(), 4);
        assert_eq!(p.paused_after(t0), Some(t0 + ms(1500)));
        assert_eq!(p.reserve(10, t0 + ms(10)), t0 + ms(1500), "every new call waits");
        assert_eq!(p.paused_after(t0 + ms(1500)), None);
        for _ in 0..3 {
            p.rate_limited(ms(1), t0);
        }
        assert_eq!(p.window(), 1, "never below one call");
        assert_eq!(p.rate_limited_count(), 4);
        // A shorter wait never shortens a pause already set.
        assert_eq!(p.paused_after(t0), Some(t0 + ms(1500)));
        // Additive increase: back to 8 after enough successes, not past it.
        let mut successes = 0;
        while p.window() < 8 {
            p.succeeded();
            successes += 1;
        }
        assert!((20..40).contains(&successes), "{successes}");
        for _ in 0..100 {
            p.succeeded();
        }
        assert_eq!(p.window(), 8);
    }

    #[test]
    fn absurd_limits_do_not_overflow() {
        let t0 = Instant::now();
        let p = Pacer::new(0, Some(u32::MAX), Some(1), t0);
        assert_eq!(p.window(), 1);
        let _ = p.reserve(u64::MAX, t0);
        let _ = p.reserve(u64::MAX, t0);
        p.correct(0, u64::MAX);
        p.rate_limited(Duration::MAX, t0);
        assert!(p
            .paused_after(t0)
            .is_some_and(|until| until > t0 + Duration::from_secs(3600)));
        assert_eq!(p.window(), 1);
    }
}
