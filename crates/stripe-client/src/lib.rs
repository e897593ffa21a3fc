//! The payments engine's Stripe REST client. It has no typed models: callers name Stripe's
//! paths and read the objects as JSON (`serde_json::Value`), so a field Stripe adds or
//! changes needs no release of this crate.
//!
//! * [`StripeClient`]: authenticated requests pinned to [`STRIPE_VERSION`],
//!   with retries (exponential back-off, full jitter, `Retry-After`,
//!   `Stripe-Should-Retry`), an `Idempotency-Key` on every write, a shared
//!   token-bucket [`RequestBudget`], and the `Request-Id` of every response
//!   ([`StripeResponse`]).
//! * [`Form`]: Stripe's bracket-notation form encoding.
//! * [`StripeError`]: Stripe's error object parsed ([`ApiError`]), plus
//!   transport and decoding failures.
//! * [`Paginator`] / [`StripeClient::list_all`]: every page of a list.
//! * [`verify_webhook_signature`]: the receiver's check of `Stripe-Signature`.
//!
//! ```no_run
//! # async fn run() -> Result<(), stripe_client::StripeError> {
//! use serde_json::Value;
//! use stripe_client::{ClientConfig, Form, RequestOptions, StripeClient};
//! let client = StripeClient::new(ClientConfig::new("sk_test_…").api_base("http://127.0.0.1:12111"))?;
//! let product = client
//!     .post::<Value>("/v1/products", &Form::new().set("name", "Pro"), &RequestOptions::idempotency_key("insforge:dev:product:pro"))
//!     .await?;
//! println!("{} (request {:?})", product["id"], product.request_id);
//! # Ok(()) }
//! ```

#![warn(missing_docs)]

mod budget;
mod client;
mod encode;
mod error;
pub mod metrics;
mod pagination;
mod retry;
mod webhook;

pub use budget::{RequestBudget, STRIPE_LIVE_MODE_RATE, STRIPE_TEST_MODE_RATE};
pub use client::{
    ClientConfig, RequestOptions, SecretKey, StripeClient, StripeResponse, DEFAULT_API_BASE, STRIPE_VERSION,
};
pub use encode::{Form, FormValue};
pub use error::{ApiError, StripeError};
pub use pagination::{HasId, PageProgress, Paginator, MAX_PAGE_SIZE};
pub use retry::{ClientStats, RetryEvent, RetryObserver, RetryPolicy, RetryReason};
pub use webhook::{sign_webhook_payload, unix_now, verify_webhook_signature, SignatureError, DEFAULT_TOLERANCE_SECS};

/// The HTTP method type used by [`StripeClient::request`].
pub use reqwest::Method;
