//! When and how long to retry, and the counters that make retries visible
//! (the console's sync page shows "429 back-offs").

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use rand::Rng;

/// Retry settings. Every write carries an `Idempotency-Key`, so retrying
/// one never applies it twice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Retries after the first attempt (0 disables retries).
    pub max_retries: u32,
    /// Upper bound of the first back-off; doubles per retry.
    pub initial_backoff: Duration,
    /// Cap of the exponential back-off.
    pub max_backoff: Duration,
    /// Cap applied to a server's `Retry-After`, so that a misbehaving server
    /// cannot park a task for hours.
    pub max_retry_after: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_retries: 3,
            initial_backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(8),
            max_retry_after: Duration::from_secs(60),
        }
    }
}

impl RetryPolicy {
    /// The back-off before retry number `retry` (1-based): "full jitter",
    /// uniform in `[0, min(max_backoff, initial_backoff * 2^(retry-1))]`, so
    /// that many clients hitting the same limit do not retry in lockstep.
    /// A `Retry-After` from the server is a floor.
    pub fn backoff(&self, retry: u32, retry_after: Option<Duration>) -> Duration {
        let exp = self.initial_backoff.saturating_mul(1u32 << retry.saturating_sub(1).min(20));
        let ceiling = exp.min(self.max_backoff);
        let jittered =
            if ceiling.is_zero() { Duration::ZERO } else { rand::thread_rng().gen_range(Duration::ZERO..=ceiling) };
        match retry_after {
            Some(after) => jittered.max(after.min(self.max_retry_after)),
            None => jittered,
        }
    }
}

/// Why a request is being retried.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RetryReason {
    /// 429: Stripe's rate limiter (or a lock timeout).
    RateLimited,
    /// 409: a conflicting concurrent request (e.g. the same idempotency key in flight).
    Conflict,
    /// 5xx.
    ServerError(u16),
    /// Another status that Stripe flagged with `Stripe-Should-Retry: true`.
    ShouldRetryHeader(u16),
    /// Connection refused/reset or no response in time.
    Transport(String),
}

/// One retry about to happen, reported to [`crate::ClientConfig::on_retry`].
#[derive(Debug, Clone)]
pub struct RetryEvent {
    /// HTTP method.
    pub method: String,
    /// Request path (no query string, so no parameters are leaked).
    pub path: String,
    /// The attempt that just failed (1 = the first try).
    pub attempt: u32,
    /// Why it is retried.
    pub reason: RetryReason,
    /// How long the client waits before the next attempt.
    pub delay: Duration,
    /// `Request-Id` of the failed attempt, if a response came back.
    pub request_id: Option<String>,
}

/// Callback invoked for every retry.
pub type RetryObserver = Arc<dyn Fn(&RetryEvent) + Send + Sync>;

/// Counters shared by all clones of a client.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    requests: AtomicU64,
    attempts: AtomicU64,
    retries: AtomicU64,
    rate_limit_backoffs: AtomicU64,
    server_error_retries: AtomicU64,
    transport_retries: AtomicU64,
    budget_waits: AtomicU64,
    budget_wait_micros: AtomicU64,
}

impl Counters {
    pub(crate) fn request(&self) {
        self.requests.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn attempt(&self) {
        self.attempts.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn budget_wait(&self, waited: Duration) {
        if !waited.is_zero() {
            self.budget_waits.fetch_add(1, Ordering::Relaxed);
            self.budget_wait_micros.fetch_add(waited.as_micros() as u64, Ordering::Relaxed);
        }
    }

    pub(crate) fn retry(&self, reason: &RetryReason) {
        self.retries.fetch_add(1, Ordering::Relaxed);
        let counter = match reason {
            RetryReason::RateLimited => &self.rate_limit_backoffs,
            RetryReason::ServerError(_) => &self.server_error_retries,
            RetryReason::Transport(_) => &self.transport_retries,
            RetryReason::Conflict | RetryReason::ShouldRetryHeader(_) => return,
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn snapshot(&self) -> ClientStats {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        ClientStats {
            requests: get(&self.requests),
            attempts: get(&self.attempts),
            retries: get(&self.retries),
            rate_limit_backoffs: get(&self.rate_limit_backoffs),
            server_error_retries: get(&self.server_error_retries),
            transport_retries: get(&self.transport_retries),
            budget_waits: get(&self.budget_waits),
            budget_wait_total: Duration::from_micros(get(&self.budget_wait_micros)),
        }
    }
}

/// A snapshot of a client's counters (all clones together).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ClientStats {
    /// Logical requests (a request and its retries count once).
    pub requests: u64,
    /// HTTP attempts sent, retries included.
    pub attempts: u64,
    /// Retries of any kind.
    pub retries: u64,
    /// Retries after a 429 ("429 back-offs").
    pub rate_limit_backoffs: u64,
    /// Retries after a 5xx.
    pub server_error_retries: u64,
    /// Retries after a connection error or timeout.
    pub transport_retries: u64,
    /// Attempts that had to wait for the request budget.
    pub budget_waits: u64,
    /// Total time spent waiting for the request budget.
    pub budget_wait_total: Duration,
}

/// Whether a response status is worth retrying, given Stripe's
/// `Stripe-Should-Retry` header (which, when present, overrides our guess).
pub(crate) fn classify_status(status: u16, should_retry: Option<bool>) -> Option<RetryReason> {
    match (should_retry, status) {
        (Some(false), _) => None,
        (_, 429) => Some(RetryReason::RateLimited),
        (_, 409) => Some(RetryReason::Conflict),
        (_, 500..=599) => Some(RetryReason::ServerError(status)),
        (Some(true), _) => Some(RetryReason::ShouldRetryHeader(status)),
        (None, _) => None,
    }
}

/// Parses `Retry-After` given in seconds (Stripe's form; HTTP dates are ignored).
///
/// The header comes from the network, so any value must be safe: a number too large for a
/// `Duration` (`1e30`, `99999999999999999999`, `inf`) becomes [`Duration::MAX`], which
/// [`RetryPolicy::backoff`] then caps at `max_retry_after` (`Duration::from_secs_f64` would
/// panic on it). Negative values and `NaN` are ignored.
pub(crate) fn parse_retry_after(value: Option<&str>) -> Option<Duration> {
    let secs: f64 = value?.trim().parse().ok()?;
    if secs.is_nan() || secs < 0.0 {
        return None;
    }
    Some(Duration::try_from_secs_f64(secs).unwrap_or(Duration::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_is_bounded_by_the_exponential_ceiling() {
        let p = RetryPolicy {
            initial_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_millis(350),
            ..RetryPolicy::default()
        };
        for _ in 0..200 {
            assert!(p.backoff(1, None) <= Duration::from_millis(100));
            assert!(p.backoff(2, None) <= Duration::from_millis(200));
            assert!(p.backoff(5, None) <= Duration::from_millis(350));
        }
        // Jitter actually spreads the values.
        let samples: std::collections::HashSet<_> = (0..50).map(|_| p.backoff(3, None)).collect();
        assert!(samples.len() > 10);
    }

    #[test]
    fn retry_after_is_a_floor_and_capped() {
        let p = RetryPolicy { initial_backoff: Duration::from_millis(10), ..RetryPolicy::default() };
        assert!(p.backoff(1, Some(Duration::from_secs(2))) >= Duration::from_secs(2));
        assert_eq!(p.backoff(1, Some(Duration::from_secs(3600))), Duration::from_secs(60));
    }

    #[test]
    fn status_classification_honours_should_retry() {
        assert_eq!(classify_status(429, None), Some(RetryReason::RateLimited));
        assert_eq!(classify_status(503, None), Some(RetryReason::ServerError(503)));
        assert_eq!(classify_status(409, None), Some(RetryReason::Conflict));
        assert_eq!(classify_status(400, None), None);
        assert_eq!(classify_status(404, None), None);
        assert_eq!(classify_status(500, Some(false)), None);
        assert_eq!(classify_status(400, Some(true)), Some(RetryReason::ShouldRetryHeader(400)));
    }

    #[test]
    fn retry_after_parsing() {
        assert_eq!(parse_retry_after(Some("2")), Some(Duration::from_secs(2)));
        assert_eq!(parse_retry_after(Some(" 0.5 ")), Some(Duration::from_millis(500)));
        assert_eq!(parse_retry_after(Some("Wed, 21 Oct 2015 07:28:00 GMT")), None);
        assert_eq!(parse_retry_after(Some("-1")), None);
        assert_eq!(parse_retry_after(None), None);
        assert_eq!(parse_retry_after(Some("NaN")), None);
        assert_eq!(parse_retry_after(Some("-inf")), None);
    }

    #[test]
    fn absurd_retry_after_values_give_the_capped_wait() {
        // Each of these panicked in `Duration::from_secs_f64` before.
        let p = RetryPolicy::default();
        for raw in ["99999999999999999999", "1e30", "1.8446744073709552e19", "inf", "1e308", &"9".repeat(400)] {
            let after = parse_retry_after(Some(raw));
            assert_eq!(after, Some(Duration::MAX), "{raw}");
            assert_eq!(p.backoff(1, after), p.max_retry_after, "{raw}");
            assert_eq!(p.backoff(u32::MAX, after), p.max_retry_after, "{raw}");
        }
    }
}
