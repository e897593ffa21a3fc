//! An offline, stateful stand-in for the Stripe REST API.
//!
//! [`Sandbox`] serves a faithful subset of Stripe's API (products, prices,
//! customers, subscriptions, invoices, payment intents, charges, refunds,
//! checkout and billing-portal sessions, webhook endpoints and events) from
//! memory, records the events Stripe would emit and delivers them, signed, to
//! registered webhook endpoints. Sandbox-only routes under `/_sandbox/` let
//! tests and demos act as a paying customer, advance subscriptions, inject
//! faults and seed data.
//!
//! ```no_run
//! # async fn run() -> std::io::Result<()> {
//! use stripe_sandbox::{Sandbox, SandboxConfig};
//! let sandbox = Sandbox::new(SandboxConfig::default());
//! sandbox.seed_demo();
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:12111").await?;
//! sandbox.serve(listener).await
//! # }
//! ```
#![recursion_limit = "256"]

mod control;
mod error;
mod events;
pub mod form;
mod http;
mod resources;
mod seed;
mod store;
mod webhooks;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use parking_lot::Mutex;
use serde_json::Value;

pub use error::ApiError;
pub use resources::CheckoutOutcome;
pub use webhooks::{sign_payload, verify_signature};

use store::{Ctx, State};

/// The Stripe API version whose object shapes the sandbox serves; sent back
/// in the `Stripe-Version` response header and stamped on every event.
pub const STRIPE_VERSION: &str = "2025-10-29.clover";

/// The test secret key the sandbox documents for clients that need one.
pub const DEFAULT_API_KEY: &str = "sk_test_sandbox";

/// The live-mode key the sandbox documents for a sandbox that stands in for live mode.
pub const DEFAULT_LIVE_API_KEY: &str = "sk_live_sandbox";

/// Which `Authorization` keys the sandbox accepts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApiKeys {
    /// Any test-mode secret or restricted key (`sk_test_…`, `rk_test_…`).
    AnyTestKey,
    /// Any live-mode secret or restricted key (`sk_live_…`, `rk_live_…`): a sandbox standing in
    /// for an account's live mode, whose data Stripe keeps apart from test mode's.
    AnyLiveKey,
    /// Exactly these keys.
    Only(Vec<String>),
}

/// Configuration of a [`Sandbox`].
#[derive(Debug, Clone)]
pub struct SandboxConfig {
    /// Keys accepted in `Authorization: Bearer …` (default: any `sk_test_` key).
    pub api_keys: ApiKeys,
    /// The account id returned by `GET /v1/account` (`acct_…`).
    pub account_id: String,
    /// Display name of the account (also used on invoices).
    pub account_name: String,
    /// Base URL under which the sandbox is reachable, used to build the
    /// `url` of checkout and billing-portal sessions (hosted pages served by
    /// the sandbox itself under `/_sandbox/pages/`).
    pub public_url: String,
    /// Pause before the first webhook retry; doubles on each further retry.
    pub webhook_retry_base: Duration,
    /// Attempts per webhook delivery, first try included.
    pub webhook_max_attempts: u32,
    /// Timeout of one webhook attempt.
    pub webhook_timeout: Duration,
}

impl Default for SandboxConfig {
    fn default() -> Self {
        Self {
            api_keys: ApiKeys::AnyTestKey,
            account_id: "acct_1SandboxPaymentsC0".to_owned(),
            account_name: "Payments Console Sandbox".to_owned(),
            public_url: "http://127.0.0.1:12111".to_owned(),
            webhook_retry_base: webhooks::DEFAULT_RETRY_BASE,
            webhook_max_attempts: 5,
            webhook_timeout: Duration::from_secs(10),
        }
    }
}

impl SandboxConfig {
    /// Whether `key` is accepted as an API key.
    pub fn accepts_key(&self, key: &str) -> bool {
        match &self.api_keys {
            ApiKeys::AnyTestKey => {
                (key.starts_with("sk_test_") || key.starts_with("rk_test_")) && key.len() > "sk_test_".len()
            }
            ApiKeys::AnyLiveKey => {
                (key.starts_with("sk_live_") || key.starts_with("rk_live_")) && key.len() > "sk_live_".len()
            }
            ApiKeys::Only(keys) => keys.iter().any(|k| k == key),
        }
    }

    /// A key clients can use: the first configured one, or [`DEFAULT_API_KEY`].
    pub fn example_key(&self) -> &str {
        match &self.api_keys {
            ApiKeys::Only(keys) if !keys.is_empty() => &keys[0],
            ApiKeys::AnyLiveKey => DEFAULT_LIVE_API_KEY,
            _ => DEFAULT_API_KEY,
        }
    }
}

/// A running sandbox: a cheaply cloneable handle to shared state.
#[derive(Clone)]
pub struct Sandbox {
    inner: Arc<Inner>,
}

struct Inner {
    config: SandboxConfig,
    state: Mutex<State>,
    faults: Mutex<Vec<control::Fault>>,
    /// Requests that injected faults hit.
    faults_hit: std::sync::atomic::AtomicU64,
    idempotency: Mutex<http::IdempotencyStore>,
    http: reqwest::Client,
}

impl Sandbox {
    /// Creates an empty sandbox.
    pub fn new(config: SandboxConfig) -> Self {
        let http = reqwest::Client::builder().build().expect("a plain HTTP client always builds");
        Self {
            inner: Arc::new(Inner {
                state: Mutex::new(State::new(config.clone())),
                config,
                faults: Mutex::new(Vec::new()),
                faults_hit: Default::default(),
                idempotency: Mutex::new(http::IdempotencyStore::default()),
                http,
            }),
        }
    }

    /// The configuration this sandbox was created with.
    pub fn config(&self) -> &SandboxConfig {
        &self.inner.config
    }

    /// The full router: Stripe's `/v1/…` routes, the `/_sandbox/…` routes and
    /// a Stripe-shaped JSON 404 for anything else.
    pub fn router(&self) -> Router {
        http::app(self.clone())
    }

    /// Serves [`Sandbox::router`] on `listener` until the task is dropped.
    pub async fn serve(self, listener: tokio::net::TcpListener) -> std::io::Result<()> {
        axum::serve(listener, self.router()).await
    }

    /// Loads the small realistic `demo` data set (products, prices,
    /// customers, subscriptions in several states, payments, refunds).
    pub fn seed_demo(&self) {
        self.write_internal(seed::demo);
    }

    /// Loads `n` each of products, prices, customers and subscriptions, for
    /// benchmarks. Bypasses event recording to stay fast.
    pub fn seed_size(&self, n: usize) {
        let mut st = self.inner.state.lock();
        seed::bulk(&mut st, n);
    }

    /// Adds a payment history to the last [`Sandbox::seed_size`]'s `n` customers, for the sync
    /// benchmark's backfill: a paid invoice per subscription, a one-time payment (a completed
    /// payment-mode Checkout Session and its PaymentIntent) for every 5th customer, and a
    /// partial refund of every other one of those. Bypasses event recording too.
    pub fn seed_history(&self, n: usize) {
        let mut st = self.inner.state.lock();
        seed::bulk_history(&mut st, n);
    }

    /// Drops all data: objects, events, webhook endpoints and deliveries,
    /// idempotency keys and faults.
    pub fn reset(&self) {
        self.inner.state.lock().clear();
        self.inner.faults.lock().clear();
        *self.inner.idempotency.lock() = http::IdempotencyStore::default();
    }

    /// Number of stored objects of a given Stripe `object` type
    /// (`"product"`, `"customer"`, `"event"`…); `None` for unknown types.
    pub fn count(&self, object: &str) -> Option<usize> {
        let st = self.inner.state.lock();
        store::Kind::ALL.into_iter().find(|k| k.object_name() == object).map(|k| st.table(k).len())
    }

    /// Every stored object of a Stripe `object` type, newest first, as the API renders them;
    /// `None` for unknown types.
    pub fn list(&self, object: &str) -> Option<Vec<Value>> {
        let kind = store::Kind::ALL.into_iter().find(|k| k.object_name() == object)?;
        Some(self.read(|st| st.table(kind).iter_newest().map(|v| st.render(kind, v)).collect()))
    }

    /// How many requests injected faults have hit so far (see `POST /_sandbox/faults`).
    pub fn faults_hit(&self) -> u64 {
        self.inner.faults_hit.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Runs a mutation under the lock and hands the webhook deliveries it
    /// queued to the dispatcher once the lock is released.
    pub(crate) fn write<T>(&self, f: impl FnOnce(&mut State) -> T) -> T {
        let (out, jobs) = {
            let mut st = self.inner.state.lock();
            let out = f(&mut st);
            (out, std::mem::take(&mut st.outbox))
        };
        self.dispatch(jobs);
        out
    }

    fn write_internal(&self, f: impl FnOnce(&mut State, &Ctx)) {
        self.write(|st| f(st, &Ctx::automatic()));
    }

    /// Runs a read under the lock.
    pub(crate) fn read<T>(&self, f: impl FnOnce(&State) -> T) -> T {
        f(&self.inner.state.lock())
    }

    /// Completes an open checkout session as a paying customer would (the
    /// same as `POST /_sandbox/checkout/sessions/{id}/complete`), returning
    /// the session. Declines return the 402 card error and leave it open.
    pub fn complete_checkout(&self, session_id: &str, outcome: CheckoutOutcome) -> Result<Value, ApiError> {
        self.write(|st| st.complete_checkout(session_id, outcome, None, None, &Ctx::automatic()))
    }

    /// Moves a subscription to its next billing period and invoices it (the
    /// same as `POST /_sandbox/subscriptions/{id}/advance`). `payment_succeeds`
    /// forces the renewal payment result; `None` lets the customer's payment
    /// method decide. Returns the subscription.
    pub fn advance_subscription(
        &self,
        subscription_id: &str,
        payment_succeeds: Option<bool>,
    ) -> Result<Value, ApiError> {
        let outcome = payment_succeeds.map(|ok| {
            if ok {
                resources::Outcome::Succeed
            } else {
                resources::Outcome::Decline("generic_decline")
            }
        });
        self.write(|st| st.advance_subscription(subscription_id, outcome, &Ctx::automatic()))
    }

    /// A JSON snapshot of an object by id, for embedding applications.
    pub fn get_object(&self, id: &str) -> Option<Value> {
        let kind = store::Kind::of_id(id)?;
        self.read(|st| st.get(kind, id).map(|v| st.render(kind, v)))
    }
}
