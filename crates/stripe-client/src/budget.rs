//! A token-bucket request budget, shared by every clone of a client and, through
//! [`RequestBudget::for_key`], by every client of the same key in the process, so
//! that the engine as a whole stays under Stripe's rate limit (which Stripe counts
//! per account and mode) instead of finding it with 429s.

use std::collections::HashMap;
use std::hash::{BuildHasher, RandomState};
use std::sync::{Arc, Mutex, OnceLock, Weak};
use std::time::Duration;

use crate::client::SecretKey;

use tokio::time::Instant;

/// Stripe's documented test-mode limit, in requests per second.
pub const STRIPE_TEST_MODE_RATE: f64 = 25.0;

/// Stripe's documented live-mode limit, in requests per second.
pub const STRIPE_LIVE_MODE_RATE: f64 = 100.0;

/// The budgets handed out by [`RequestBudget::for_key`], by a hash of the key (the
/// key itself is not kept) and the rate. Weak, so a key no longer used costs nothing.
type Registry = Mutex<(RandomState, HashMap<(u64, u64), Weak<RequestBudget>>)>;

fn registry() -> &'static Registry {
    static REGISTRY: OnceLock<Registry> = OnceLock::new();
    REGISTRY.get_or_init(|| Mutex::new((RandomState::new(), HashMap::new())))
}

/// A token bucket: `rate` tokens per second, at most `burst` saved up.
///
/// Callers reserve a token and sleep until it is theirs, so concurrent
/// callers are served in arrival order without a busy loop.
#[derive(Debug)]
pub struct RequestBudget {
    rate: f64,
    burst: f64,
    state: Mutex<BucketState>,
}

#[derive(Debug)]
struct BucketState {
    /// Tokens available at `at`; negative while reservations are pending.
    tokens: f64,
    at: Instant,
}

impl RequestBudget {
    /// A budget of `per_second` requests per second with a burst of the same
    /// size (at least 1). `per_second` must be positive.
    pub fn new(per_second: f64) -> Self {
        Self::with_burst(per_second, per_second.max(1.0) as u32)
    }

    /// A budget of `per_second` with a custom burst size (at least 1).
    pub fn with_burst(per_second: f64, burst: u32) -> Self {
        assert!(per_second > 0.0 && per_second.is_finite(), "a request budget needs a positive rate");
        let burst = f64::from(burst.max(1));
        Self { rate: per_second, burst, state: Mutex::new(BucketState { tokens: burst, at: Instant::now() }) }
    }

    /// The process-wide budget of `key` at `per_second`: every call with the same
    /// key and rate returns the same bucket (while one is alive), so that clients
    /// built in different places for one account share Stripe's limit. A rate
    /// other than the first one gets its own bucket rather than silently changing it.
    pub fn for_key(key: &SecretKey, per_second: f64) -> Arc<RequestBudget> {
        let mut guard = registry().lock().unwrap_or_else(|p| p.into_inner());
        let (hasher, budgets) = &mut *guard;
        let slot = (hasher.hash_one(key.expose()), per_second.to_bits());
        if let Some(budget) = budgets.get(&slot).and_then(Weak::upgrade) {
            return budget;
        }
        budgets.retain(|_, b| b.strong_count() > 0);
        let budget = Arc::new(RequestBudget::new(per_second));
        budgets.insert(slot, Arc::downgrade(&budget));
        budget
    }

    /// Stripe's limit for `key`'s mode: [`STRIPE_TEST_MODE_RATE`] for test keys,
    /// [`STRIPE_LIVE_MODE_RATE`] otherwise.
    pub fn stripe_rate(key: &SecretKey) -> f64 {
        if key.is_test_mode() {
            STRIPE_TEST_MODE_RATE
        } else {
            STRIPE_LIVE_MODE_RATE
        }
    }

    /// Requests per second.
    pub fn rate(&self) -> f64 {
        self.rate
    }

    /// Takes one token, waiting as long as needed. Returns the time waited
    /// (zero when a token was available).
    pub async fn acquire(&self) -> Duration {
        let wait = self.reserve();
        if !wait.is_zero() {
            tokio::time::sleep(wait).await;
        }
        wait
    }

    /// Reserves a token and returns how long until it may be used.
    fn reserve(&self) -> Duration {
        let mut st = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        let refilled = st.tokens + now.duration_since(st.at).as_secs_f64() * self.rate;
        st.tokens = refilled.min(self.burst) - 1.0;
        st.at = now;
        if st.tokens >= 0.0 {
            Duration::ZERO
        } else {
            Duration::from_secs_f64(-st.tokens / self.rate)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn burst_is_free_then_paced() {
        let budget = RequestBudget::new(10.0);
        for _ in 0..10 {
            assert_eq!(budget.acquire().await, Duration::ZERO);
        }
        let start = Instant::now();
        for _ in 0..10 {
            budget.acquire().await;
        }
        // Paused clock: exactly one second of virtual time for ten tokens.
        let elapsed = start.elapsed();
        assert!(elapsed >= Duration::from_millis(999), "{elapsed:?}");
        assert!(elapsed <= Duration::from_millis(1001), "{elapsed:?}");
    }

    #[tokio::test(start_paused = true)]
    async fn concurrent_callers_share_the_bucket() {
        let budget = std::sync::Arc::new(RequestBudget::with_burst(5.0, 1));
        let start = Instant::now();
        let tasks: Vec<_> = (0..6)
            .map(|_| {
                let b = budget.clone();
                tokio::spawn(async move { b.acquire().await })
            })
            .collect();
        for t in tasks {
            t.await.unwrap();
        }
        // One free token, then five more at 5/s.
        assert!(start.elapsed() >= Duration::from_millis(999), "{:?}", start.elapsed());
    }

    #[test]
    fn one_bucket_per_key_and_rate() {
        let a = SecretKey::new("sk_test_budget_a");
        let first = RequestBudget::for_key(&a, 25.0);
        assert!(Arc::ptr_eq(&first, &RequestBudget::for_key(&SecretKey::new("sk_test_budget_a"), 25.0)));
        assert!(!Arc::ptr_eq(&first, &RequestBudget::for_key(&SecretKey::new("sk_test_budget_b"), 25.0)));
        assert!(!Arc::ptr_eq(&first, &RequestBudget::for_key(&a, 50.0)));
        assert_eq!(RequestBudget::stripe_rate(&a), STRIPE_TEST_MODE_RATE);
        assert_eq!(RequestBudget::stripe_rate(&SecretKey::new("sk_live_x")), STRIPE_LIVE_MODE_RATE);
    }

    #[test]
    #[should_panic(expected = "positive rate")]
    fn zero_rate_is_refused() {
        RequestBudget::new(0.0);
    }
}
