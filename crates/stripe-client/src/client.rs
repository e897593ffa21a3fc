//! The HTTP core: configuration, authentication, the request budget,
//! idempotency keys, retries and response decoding. Every call goes through
//! [`StripeClient::request`]; callers name Stripe's paths and read the objects
//! they need (the engine reads them as `serde_json::Value`).

use std::fmt;
use std::ops::Deref;
use std::sync::Arc;
use std::time::Duration;

use rand::Rng;
use reqwest::header::{HeaderMap, HeaderValue, AUTHORIZATION, CONTENT_TYPE, USER_AGENT};
use reqwest::Method;
use serde::de::DeserializeOwned;
use tokio::sync::watch;
use url::Url;

use crate::budget::RequestBudget;
use crate::encode::Form;
use crate::error::{self, StripeError};
use crate::retry::{
    classify_status, parse_retry_after, ClientStats, Counters, RetryEvent, RetryObserver, RetryPolicy, RetryReason,
};

/// The API version every request is pinned to (`Stripe-Version` header).
/// Kept equal to the sandbox's so that both speak the same object shapes.
pub const STRIPE_VERSION: &str = "2025-10-29.clover";

/// Stripe's production API.
pub const DEFAULT_API_BASE: &str = "https://api.stripe.com";

/// A Stripe secret (or restricted) key. Its `Debug` and `Display` never
/// show the key, so it can sit in configs that get logged.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretKey(Arc<str>);

impl SecretKey {
    /// Wraps a key (`sk_test_…`, `sk_live_…`, `rk_…`).
    pub fn new(key: impl Into<String>) -> Self {
        Self(Arc::from(key.into()))
    }

    /// The key itself, for the `Authorization` header (and the budget registry's hash) only.
    pub(crate) fn expose(&self) -> &str {
        &self.0
    }

    /// Whether this is a test-mode key (`sk_test_…` / `rk_test_…`).
    pub fn is_test_mode(&self) -> bool {
        self.0.starts_with("sk_test_") || self.0.starts_with("rk_test_")
    }
}

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretKey(<redacted>)")
    }
}

impl fmt::Display for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

impl From<&str> for SecretKey {
    fn from(s: &str) -> Self {
        Self::new(s)
    }
}

impl From<String> for SecretKey {
    fn from(s: String) -> Self {
        Self::new(s)
    }
}

/// How a [`StripeClient`] talks to Stripe.
#[derive(Clone)]
pub struct ClientConfig {
    /// API base URL, without `/v1` (default [`DEFAULT_API_BASE`]).
    pub api_base: String,
    /// The secret key.
    pub secret_key: SecretKey,
    /// Timeout of one attempt (connect + response).
    pub timeout: Duration,
    /// Retry behaviour (`max_retries`, back-off bounds).
    pub retry: RetryPolicy,
    /// Requests per second allowed by the budget (default 25, Stripe's
    /// test-mode limit; live mode allows 100).
    pub requests_per_second: f64,
    /// A budget to share with other clients; overrides `requests_per_second`.
    /// Without one, clients of the same key and rate share
    /// [`RequestBudget::for_key`]'s bucket.
    pub shared_budget: Option<Arc<RequestBudget>>,
    /// Called before every retry (for metrics and the console's sync page).
    pub on_retry: Option<RetryObserver>,
    /// Appended to the `User-Agent`.
    pub app_info: Option<String>,
}

impl fmt::Debug for ClientConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientConfig")
            .field("api_base", &self.api_base)
            .field("secret_key", &self.secret_key)
            .field("timeout", &self.timeout)
            .field("retry", &self.retry)
            .field("requests_per_second", &self.requests_per_second)
            .field("shared_budget", &self.shared_budget.is_some())
            .field("on_retry", &self.on_retry.is_some())
            .field("app_info", &self.app_info)
            .finish()
    }
}

impl ClientConfig {
    /// Defaults for `secret_key`: production base URL, 30 s timeout, 3
    /// retries, Stripe's limit for the key's mode (25 requests/s in test
    /// mode, 100 in live mode).
    pub fn new(secret_key: impl Into<SecretKey>) -> Self {
        let secret_key = secret_key.into();
        Self {
            api_base: DEFAULT_API_BASE.to_owned(),
            requests_per_second: RequestBudget::stripe_rate(&secret_key),
            secret_key,
            timeout: Duration::from_secs(30),
            retry: RetryPolicy::default(),
            shared_budget: None,
            on_retry: None,
            app_info: None,
        }
    }

    /// Sets the API base URL (e.g. a sandbox's `http://127.0.0.1:12111`).
    pub fn api_base(mut self, base: impl Into<String>) -> Self {
        self.api_base = base.into();
        self
    }

    /// Sets the per-attempt timeout.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Sets the number of retries after the first attempt.
    pub fn max_retries(mut self, n: u32) -> Self {
        self.retry.max_retries = n;
        self
    }

    /// Sets the whole retry policy.
    pub fn retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.retry = policy;
        self
    }

    /// Sets the request budget's rate.
    pub fn requests_per_second(mut self, rate: f64) -> Self {
        self.requests_per_second = rate;
        self
    }

    /// Shares an existing budget.
    pub fn shared_budget(mut self, budget: Arc<RequestBudget>) -> Self {
        self.shared_budget = Some(budget);
        self
    }

    /// Registers a callback run before every retry.
    pub fn on_retry(mut self, f: impl Fn(&RetryEvent) + Send + Sync + 'static) -> Self {
        self.on_retry = Some(Arc::new(f));
        self
    }
}

/// Per-request options.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RequestOptions {
    /// The `Idempotency-Key` of a write. `None`: a random key is generated
    /// per call and reused by all of its retries.
    pub idempotency_key: Option<String>,
}

impl RequestOptions {
    /// No options.
    pub const NONE: RequestOptions = RequestOptions { idempotency_key: None };

    /// Options with a caller-chosen idempotency key (the engine uses its
    /// `insforge:<env>:…` scheme, so that a retried job replays instead of
    /// creating twice).
    pub fn idempotency_key(key: impl Into<String>) -> Self {
        Self { idempotency_key: Some(key.into()) }
    }
}

/// A decoded response with the metadata the audit log needs.
#[derive(Debug, Clone, PartialEq)]
pub struct StripeResponse<T> {
    /// The decoded body. Named `body` (not `data`) so that it does not hide
    /// a list's own `data` field, which `Deref` exposes.
    pub body: T,
    /// The `Request-Id` header.
    pub request_id: Option<String>,
    /// The idempotency key sent (writes only).
    pub idempotency_key: Option<String>,
    /// `Idempotent-Replayed: true`: Stripe answered from its idempotency
    /// store, i.e. an earlier attempt had already been applied.
    pub idempotent_replayed: bool,
    /// HTTP status (named so that it does not hide an object's `status`).
    pub http_status: u16,
    /// Attempts made (1 = no retry).
    pub attempts: u32,
}

impl<T> StripeResponse<T> {
    /// The body.
    pub fn into_inner(self) -> T {
        self.body
    }

    /// Transforms the body, keeping the metadata.
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> StripeResponse<U> {
        StripeResponse {
            body: f(self.body),
            request_id: self.request_id,
            idempotency_key: self.idempotency_key,
            idempotent_replayed: self.idempotent_replayed,
            http_status: self.http_status,
            attempts: self.attempts,
        }
    }
}

impl<T> Deref for StripeResponse<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.body
    }
}

/// The Stripe REST client. Cheap to clone; clones share the connection
/// pool, the request budget and the counters.
#[derive(Clone)]
pub struct StripeClient {
    inner: Arc<Inner>,
}

struct Inner {
    http: reqwest::Client,
    base: Url,
    key: SecretKey,
    retry: RetryPolicy,
    budget: Arc<RequestBudget>,
    on_retry: Option<RetryObserver>,
    counters: Counters,
    stats: watch::Sender<ClientStats>,
}

impl fmt::Debug for StripeClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StripeClient").field("base", &self.inner.base.as_str()).finish_non_exhaustive()
    }
}

impl StripeClient {
    /// Builds a client. Fails on an invalid base URL or key characters.
    pub fn new(config: ClientConfig) -> Result<Self, StripeError> {
        let base = Url::parse(&config.api_base)
            .map_err(|e| StripeError::Config(format!("invalid api_base {:?}: {e}", config.api_base)))?;
        if !matches!(base.scheme(), "http" | "https") {
            return Err(StripeError::Config(format!("api_base must be http(s): {:?}", config.api_base)));
        }
        let mut headers = HeaderMap::new();
        let mut auth = HeaderValue::from_str(&format!("Bearer {}", config.secret_key.expose()))
            .map_err(|_| StripeError::Config("the secret key contains invalid characters".into()))?;
        auth.set_sensitive(true);
        headers.insert(AUTHORIZATION, auth);
        headers.insert("stripe-version", HeaderValue::from_static(STRIPE_VERSION));
        let ua = match &config.app_info {
            Some(info) => format!("payments-console-stripe-client/{} {info}", env!("CARGO_PKG_VERSION")),
            None => format!("payments-console-stripe-client/{}", env!("CARGO_PKG_VERSION")),
        };
        headers.insert(
            USER_AGENT,
            HeaderValue::from_str(&ua).map_err(|_| StripeError::Config("invalid app_info".into()))?,
        );
        let http = reqwest::Client::builder()
            .default_headers(headers)
            .timeout(config.timeout)
            .connect_timeout(config.timeout.min(Duration::from_secs(10)))
            // Stripe never redirects API calls; following one could leak the key.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| StripeError::Config(format!("HTTP client: {e}")))?;
        if config.shared_budget.is_none()
            && !(config.requests_per_second > 0.0 && config.requests_per_second.is_finite())
        {
            return Err(StripeError::Config("requests_per_second must be positive".into()));
        }
        // Stripe counts requests per account and mode, not per client: without an explicit
        // budget, every client of this key in the process draws from one bucket.
        let budget = config
            .shared_budget
            .unwrap_or_else(|| RequestBudget::for_key(&config.secret_key, config.requests_per_second));
        Ok(Self {
            inner: Arc::new(Inner {
                http,
                base,
                key: config.secret_key,
                retry: config.retry,
                budget,
                on_retry: config.on_retry,
                counters: Counters::default(),
                stats: watch::channel(ClientStats::default()).0,
            }),
        })
    }

    /// The base URL requests go to.
    pub fn api_base(&self) -> &str {
        self.inner.base.as_str()
    }

    /// Whether the configured key is a test-mode key.
    pub fn is_test_mode(&self) -> bool {
        self.inner.key.is_test_mode()
    }

    /// The request budget (shared by all clones).
    pub fn budget(&self) -> &Arc<RequestBudget> {
        &self.inner.budget
    }

    /// Current counters (requests, retries, 429 back-offs, budget waits).
    pub fn stats(&self) -> ClientStats {
        self.inner.counters.snapshot()
    }

    /// A receiver that sees the counters change, e.g. to push "429
    /// back-offs" to the console's sync page without polling.
    pub fn watch_stats(&self) -> watch::Receiver<ClientStats> {
        self.inner.stats.subscribe()
    }

    fn publish_stats(&self) {
        self.inner.stats.send_replace(self.inner.counters.snapshot());
    }

    /// Sends one logical request and decodes its JSON answer.
    ///
    /// `path` is the API path (`/v1/products/prod_1`). For `GET` and
    /// `DELETE`, `params` go in the query string; for `POST`, in the form
    /// body. `POST` and `DELETE` carry an `Idempotency-Key` (from `opts`, or
    /// generated once and reused by every retry). Retries follow
    /// [`RetryPolicy`]; every attempt first takes a token from the budget.
    pub async fn request<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        params: &Form,
        opts: &RequestOptions,
    ) -> Result<StripeResponse<T>, StripeError> {
        let mut url = self.inner.base.join(path).map_err(|e| StripeError::Config(format!("bad path {path:?}: {e}")))?;
        let encoded = params.encode();
        let is_write = method == Method::POST || method == Method::DELETE;
        let body = if method == Method::POST {
            Some(encoded)
        } else {
            if !encoded.is_empty() {
                url.set_query(Some(&encoded));
            }
            None
        };
        let idempotency_key = is_write.then(|| opts.idempotency_key.clone().unwrap_or_else(random_idempotency_key));

        self.inner.counters.request();
        let max_retries = self.inner.retry.max_retries;
        let mut attempt = 0u32;
        loop {
            attempt += 1;
            let waited = self.inner.budget.acquire().await;
            self.inner.counters.budget_wait(waited);
            self.inner.counters.attempt();

            let mut req = self.inner.http.request(method.clone(), url.clone());
            if let Some(key) = &idempotency_key {
                req = req.header("idempotency-key", key);
            }
            if let Some(body) = &body {
                req = req.header(CONTENT_TYPE, "application/x-www-form-urlencoded").body(body.clone());
            }

            let sent = std::time::Instant::now();
            let outcome = match req.send().await {
                Ok(resp) => {
                    let status = resp.status().as_u16();
                    let headers = resp.headers().clone();
                    match resp.bytes().await {
                        Ok(bytes) => Ok((status, headers, bytes)),
                        Err(e) => Err(e),
                    }
                }
                Err(e) => Err(e),
            };
            let status = outcome.as_ref().ok().map(|(status, _, _)| *status);
            crate::metrics::attempt(&method, path, status, sent.elapsed());

            let (reason, retry_after, request_id, err) = match outcome {
                Ok((status, headers, bytes)) => {
                    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
                    let request_id = header("request-id").map(str::to_owned);
                    tracing::debug!(%method, path, status, request_id = request_id.as_deref(), attempt, "stripe request");
                    if (200..300).contains(&status) {
                        let body = serde_json::from_slice(&bytes)
                            .map_err(|source| StripeError::Decode { source, request_id: request_id.clone() })?;
                        self.publish_stats();
                        return Ok(StripeResponse {
                            body,
                            idempotent_replayed: header("idempotent-replayed") == Some("true"),
                            request_id,
                            idempotency_key,
                            http_status: status,
                            attempts: attempt,
                        });
                    }
                    let should_retry = match header("stripe-should-retry") {
                        Some("true") => Some(true),
                        Some("false") => Some(false),
                        _ => None,
                    };
                    let reason = classify_status(status, should_retry);
                    let retry_after = parse_retry_after(header("retry-after"));
                    let err = error::from_response(status, &bytes, request_id.clone());
                    (reason, retry_after, request_id, err)
                }
                Err(e) => {
                    // Drop the URL from the error: its query may hold customer data.
                    let e = e.without_url();
                    tracing::debug!(%method, path, attempt, error = %e, "stripe request failed");
                    let reason = is_retryable_transport(&e).then(|| RetryReason::Transport(e.to_string()));
                    (reason, None, None, StripeError::Transport(e))
                }
            };

            match reason {
                Some(reason) if attempt <= max_retries => {
                    let delay = self.inner.retry.backoff(attempt, retry_after);
                    self.inner.counters.retry(&reason);
                    crate::metrics::retry(&method, path, &reason);
                    self.publish_stats();
                    let event = RetryEvent {
                        method: method.to_string(),
                        path: path.to_owned(),
                        attempt,
                        reason,
                        delay,
                        request_id,
                    };
                    tracing::info!(method = %event.method, path, attempt, reason = ?event.reason, delay_ms = delay.as_millis() as u64, "retrying stripe request");
                    if let Some(observer) = &self.inner.on_retry {
                        observer(&event);
                    }
                    tokio::time::sleep(delay).await;
                }
                _ => {
                    self.publish_stats();
                    return Err(err);
                }
            }
        }
    }

    /// [`StripeClient::request`] with `GET` (the parameters go in the query string).
    pub async fn get<T: DeserializeOwned>(&self, path: &str, params: &Form) -> Result<StripeResponse<T>, StripeError> {
        self.request(Method::GET, path, params, &RequestOptions::NONE).await
    }

    /// [`StripeClient::request`] with `POST` (an `Idempotency-Key` on every attempt).
    pub async fn post<T: DeserializeOwned>(
        &self,
        path: &str,
        params: &Form,
        opts: &RequestOptions,
    ) -> Result<StripeResponse<T>, StripeError> {
        self.request(Method::POST, path, params, opts).await
    }

    /// [`StripeClient::request`] with `DELETE` (an `Idempotency-Key` on every attempt).
    pub async fn delete<T: DeserializeOwned>(
        &self,
        path: &str,
        params: &Form,
        opts: &RequestOptions,
    ) -> Result<StripeResponse<T>, StripeError> {
        self.request(Method::DELETE, path, params, opts).await
    }
}

/// Connection failures, timeouts and broken responses are retried: writes
/// are idempotent thanks to their key, reads are harmless.
fn is_retryable_transport(e: &reqwest::Error) -> bool {
    !(e.is_builder() || e.is_redirect() || e.is_decode())
}

/// A random key: 32 hex digits (128 bits) with a recognisable prefix.
fn random_idempotency_key() -> String {
    let bytes: [u8; 16] = rand::thread_rng().gen();
    format!("stripe-client-{}", hex::encode(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_key_is_never_shown() {
        let key = SecretKey::new("sk_test_supersecret123");
        assert!(!format!("{key:?}").contains("supersecret"));
        assert!(!format!("{key}").contains("supersecret"));
        let config = ClientConfig::new("sk_live_supersecret456");
        assert!(!format!("{config:?}").contains("supersecret"));
        let client = StripeClient::new(config).unwrap();
        assert!(!format!("{client:?}").contains("supersecret"));
        assert!(key.is_test_mode());
        assert!(!client.is_test_mode());
    }

    #[test]
    fn defaults() {
        let config = ClientConfig::new("sk_test_x");
        assert_eq!(config.api_base, "https://api.stripe.com");
        assert_eq!(config.requests_per_second, 25.0);
        assert_eq!(ClientConfig::new("sk_live_x").requests_per_second, 100.0);
        assert_eq!(STRIPE_VERSION, stripe_sandbox::STRIPE_VERSION);
    }

    #[test]
    fn bad_configs_are_refused() {
        assert!(matches!(
            StripeClient::new(ClientConfig::new("sk_test_x").api_base("not a url")),
            Err(StripeError::Config(_))
        ));
        assert!(matches!(
            StripeClient::new(ClientConfig::new("sk_test_x").api_base("ftp://example.com")),
            Err(StripeError::Config(_))
        ));
        assert!(matches!(StripeClient::new(ClientConfig::new("sk_test_\nx")), Err(StripeError::Config(_))));
        assert!(matches!(
            StripeClient::new(ClientConfig::new("sk_test_x").requests_per_second(0.0)),
            Err(StripeError::Config(_))
        ));
    }

    #[test]
    fn generated_idempotency_keys_are_unique() {
        let keys: std::collections::HashSet<_> = (0..1000).map(|_| random_idempotency_key()).collect();
        assert_eq!(keys.len(), 1000);
    }
}
