//! What the client reports through the [`metrics`] facade: every HTTP attempt sent to Stripe
//! (with its outcome and duration) and every retry. Without a recorder installed in the process
//! these are no-ops; the console installs a Prometheus one and serves it at `/metrics`.
//!
//! Labels are bounded: the method, the resource family (the first path segment after `/v1/`,
//! never an id) and a fixed outcome or reason.

use std::time::Duration;

use crate::retry::RetryReason;

/// Counter: HTTP attempts sent to Stripe (a retried request counts once per attempt), by
/// `method`, `resource` and `outcome` (`ok`, `4xx`, `429`, `5xx`, `network`, `other`).
pub const REQUESTS_TOTAL: &str = "payments_stripe_requests_total";
/// Histogram: how long one attempt took until its answer was read, in seconds (the wait for the
/// request budget excluded), by `method` and `resource`.
pub const REQUEST_DURATION_SECONDS: &str = "payments_stripe_request_duration_seconds";
/// Counter: retries, by `method`, `resource` and `reason` (`rate_limited`, `conflict`,
/// `server_error`, `should_retry`, `network`).
pub const RETRIES_TOTAL: &str = "payments_stripe_retries_total";

/// Registers the help text of the client's series with the installed recorder.
pub fn describe() {
    metrics::describe_counter!(REQUESTS_TOTAL, "HTTP attempts sent to Stripe's API, by method, resource and outcome");
    metrics::describe_histogram!(
        REQUEST_DURATION_SECONDS,
        metrics::Unit::Seconds,
        "Duration of one HTTP attempt to Stripe's API, by method and resource"
    );
    metrics::describe_counter!(RETRIES_TOTAL, "Retries of Stripe API requests, by method, resource and reason");
}

/// The resource family of an API path: the first segment after `/v1/` (`/v1/checkout/sessions`
/// → `checkout`), or `other` for anything that does not look like one, so that no id or query
/// can become a label value.
pub fn resource_family(path: &str) -> &str {
    let Some(rest) = path.strip_prefix("/v1/") else { return "other" };
    let segment = rest.split(['/', '?']).next().unwrap_or_default();
    let plain =
        !segment.is_empty() && segment.len() <= 40 && segment.bytes().all(|b| b.is_ascii_lowercase() || b == b'_');
    if plain {
        segment
    } else {
        "other"
    }
}

/// The method label: the ones Stripe's API uses, or `OTHER`.
fn method_label(method: &reqwest::Method) -> &'static str {
    match *method {
        reqwest::Method::GET => "GET",
        reqwest::Method::POST => "POST",
        reqwest::Method::DELETE => "DELETE",
        _ => "OTHER",
    }
}

/// The outcome label of an attempt: its status class (429 on its own), or `network` when no
/// response came back.
pub fn outcome_label(status: Option<u16>) -> &'static str {
    match status {
        None => "network",
        Some(200..=299) => "ok",
        Some(429) => "429",
        Some(400..=499) => "4xx",
        Some(500..=599) => "5xx",
        Some(_) => "other",
    }
}

fn reason_label(reason: &RetryReason) -> &'static str {
    match reason {
        RetryReason::RateLimited => "rate_limited",
        RetryReason::Conflict => "conflict",
        RetryReason::ServerError(_) => "server_error",
        RetryReason::ShouldRetryHeader(_) => "should_retry",
        RetryReason::Transport(_) => "network",
    }
}

/// One attempt answered with `status` (`None`: no response) after `elapsed`.
pub(crate) fn attempt(method: &reqwest::Method, path: &str, status: Option<u16>, elapsed: Duration) {
    let (method, resource) = (method_label(method), resource_family(path).to_owned());
    metrics::counter!(REQUESTS_TOTAL, "method" => method, "resource" => resource.clone(), "outcome" => outcome_label(status))
        .increment(1);
    metrics::histogram!(REQUEST_DURATION_SECONDS, "method" => method, "resource" => resource).record(elapsed);
}

/// A retry about to happen.
pub(crate) fn retry(method: &reqwest::Method, path: &str, reason: &RetryReason) {
    metrics::counter!(RETRIES_TOTAL, "method" => method_label(method), "resource" => resource_family(path).to_owned(),
        "reason" => reason_label(reason))
    .increment(1);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resource_families_never_carry_ids() {
        assert_eq!(resource_family("/v1/products/prod_123"), "products");
        assert_eq!(resource_family("/v1/checkout/sessions"), "checkout");
        assert_eq!(resource_family("/v1/account"), "account");
        assert_eq!(resource_family("/v1/events?limit=100"), "events");
        assert_eq!(resource_family("/v1/prod_123"), "other");
        assert_eq!(resource_family("/v2/core/events"), "other");
        assert_eq!(resource_family("/v1/"), "other");
        assert_eq!(resource_family("/v1/Customers%2F"), "other");
    }

    #[test]
    fn outcomes_are_status_classes_with_429_apart() {
        assert_eq!(outcome_label(Some(200)), "ok");
        assert_eq!(outcome_label(Some(402)), "4xx");
        assert_eq!(outcome_label(Some(429)), "429");
        assert_eq!(outcome_label(Some(503)), "5xx");
        assert_eq!(outcome_label(Some(302)), "other");
        assert_eq!(outcome_label(None), "network");
    }
}
