//! What the engine reports through the [`metrics`] facade: sync runs and webhook deliveries,
//! with their durations (the Stripe client reports its own calls, [`stripe_client::metrics`]).
//! Without a recorder installed in the process these are no-ops; the console installs a
//! Prometheus one and serves it at `/metrics`.
//!
//! Every label has a fixed set of values: the environment and an outcome, never an id.

use std::time::Duration;

use crate::environment::Environment;

/// The Stripe client's series (its names, for a recorder that configures them).
pub use stripe_client::metrics as stripe;

/// Counter: sync runs, by `environment` and `outcome` (`succeeded`, `failed`, `unconfigured`:
/// no key; `refused`: the stored key could not be used).
pub const SYNC_RUNS_TOTAL: &str = "payments_sync_runs_total";
/// Histogram: how long a sync that ran took, in seconds, by `environment` and `outcome`
/// (`succeeded`, `failed`).
pub const SYNC_DURATION_SECONDS: &str = "payments_sync_duration_seconds";
/// Counter: webhook deliveries received from Stripe, by `environment` and `outcome` (see
/// [`WebhookOutcome`]).
pub const WEBHOOK_EVENTS_TOTAL: &str = "payments_webhook_events_total";
/// Histogram: how long a delivery took from its arrival at the engine to its answer (signature
/// check, claim, projection and commit), in seconds, by `environment` and `outcome`.
pub const WEBHOOK_PROCESSING_SECONDS: &str = "payments_webhook_processing_duration_seconds";

/// Registers the help text of the engine's series (and the Stripe client's) with the installed
/// recorder.
pub fn describe() {
    stripe_client::metrics::describe();
    metrics::describe_counter!(SYNC_RUNS_TOTAL, "Stripe sync runs, by environment and outcome");
    metrics::describe_histogram!(
        SYNC_DURATION_SECONDS,
        metrics::Unit::Seconds,
        "Duration of Stripe sync runs that started, by environment and outcome"
    );
    metrics::describe_counter!(WEBHOOK_EVENTS_TOTAL, "Stripe webhook deliveries received, by environment and outcome");
    metrics::describe_histogram!(
        WEBHOOK_PROCESSING_SECONDS,
        metrics::Unit::Seconds,
        "Time to verify, apply and record one Stripe webhook delivery, by environment and outcome"
    );
}

/// How a sync run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SyncOutcome {
    Succeeded,
    Failed,
    /// No key is configured for the environment.
    Unconfigured,
    /// The stored key could not be used (e.g. it no longer decrypts).
    Refused,
}

impl SyncOutcome {
    fn label(self) -> &'static str {
        match self {
            SyncOutcome::Succeeded => "succeeded",
            SyncOutcome::Failed => "failed",
            SyncOutcome::Unconfigured => "unconfigured",
            SyncOutcome::Refused => "refused",
        }
    }
}

/// A sync run ended; `elapsed` is `None` for one that never started (no usable key).
pub(crate) fn sync_run(env: Environment, outcome: SyncOutcome, elapsed: Option<Duration>) {
    let labels = [("environment", env.as_str()), ("outcome", outcome.label())];
    metrics::counter!(SYNC_RUNS_TOTAL, &labels).increment(1);
    if let Some(elapsed) = elapsed {
        metrics::histogram!(SYNC_DURATION_SECONDS, &labels).record(elapsed);
    }
}

/// What became of a webhook delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum WebhookOutcome {
    /// Applied: it changed the mirror.
    Processed,
    /// Applied, and it changed nothing (an unhandled type, or state the mirror already had).
    Ignored,
    /// The event had already been processed by an earlier delivery.
    Duplicate,
    /// Another delivery of the event is being processed (answered 409, Stripe retries).
    InFlight,
    /// Processing failed (recorded `failed`; Stripe retries).
    Failed,
    /// The `Stripe-Signature` was missing or did not verify.
    RefusedSignature,
    /// No signing secret is configured for the environment.
    Unconfigured,
    /// Not an event: not sent as JSON, not JSON, or without an id.
    Invalid,
}

impl WebhookOutcome {
    fn label(self) -> &'static str {
        match self {
            WebhookOutcome::Processed => "processed",
            WebhookOutcome::Ignored => "ignored",
            WebhookOutcome::Duplicate => "duplicate",
            WebhookOutcome::InFlight => "in_flight",
            WebhookOutcome::Failed => "failed",
            WebhookOutcome::RefusedSignature => "refused_signature",
            WebhookOutcome::Unconfigured => "unconfigured",
            WebhookOutcome::Invalid => "invalid",
        }
    }
}

/// A webhook delivery was answered after `elapsed`.
pub(crate) fn webhook_event(env: Environment, outcome: WebhookOutcome, elapsed: Duration) {
    let labels = [("environment", env.as_str()), ("outcome", outcome.label())];
    metrics::counter!(WEBHOOK_EVENTS_TOTAL, &labels).increment(1);
    metrics::histogram!(WEBHOOK_PROCESSING_SECONDS, &labels).record(elapsed);
}
