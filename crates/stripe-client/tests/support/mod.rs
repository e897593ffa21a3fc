//! Shared test harness: an in-process sandbox on 127.0.0.1:0 and clients for it.
#![allow(dead_code)]

use std::time::Duration;

use stripe_client::{ClientConfig, RetryPolicy, StripeClient};
use stripe_sandbox::{Sandbox, SandboxConfig};

pub const KEY: &str = "sk_test_client_tests";

pub struct SandboxServer {
    pub base: String,
    pub sandbox: Sandbox,
}

/// Starts a sandbox on a random loopback port.
pub async fn start_sandbox() -> SandboxServer {
    let sandbox =
        Sandbox::new(SandboxConfig { webhook_retry_base: Duration::from_millis(50), ..SandboxConfig::default() });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(sandbox.clone().serve(listener));
    SandboxServer { base, sandbox }
}

/// A config with fast retries and a budget high enough not to matter.
pub fn fast_config(base: &str) -> ClientConfig {
    ClientConfig::new(KEY)
        .api_base(base)
        .timeout(Duration::from_secs(10))
        .retry_policy(RetryPolicy {
            max_retries: 3,
            initial_backoff: Duration::from_millis(20),
            max_backoff: Duration::from_millis(100),
            max_retry_after: Duration::from_secs(5),
        })
        .requests_per_second(10_000.0)
}

pub fn client(base: &str) -> StripeClient {
    StripeClient::new(fast_config(base)).unwrap()
}

/// Posts a JSON body to a `/_sandbox` control route.
pub async fn control(base: &str, path: &str, body: serde_json::Value) -> serde_json::Value {
    let resp = reqwest::Client::new().post(format!("{base}{path}")).json(&body).send().await.unwrap();
    let status = resp.status();
    let json: serde_json::Value = resp.json().await.unwrap();
    assert!(status.is_success(), "{path}: {status} {json}");
    json
}

/// Polls `f` until it returns `Some`, or panics after `timeout`.
pub async fn poll<T, F, Fut>(what: &str, timeout: Duration, mut f: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        if let Some(v) = f().await {
            return v;
        }
        assert!(tokio::time::Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

/// A Stripe object or list page as the client returns it: JSON, with the response's request id,
/// idempotency key and attempts.
pub type Object = stripe_client::StripeResponse<serde_json::Value>;

/// The client's calls by path, read as JSON (as the engine reads them).
#[allow(async_fn_in_trait)]
pub trait Rest {
    /// The client the calls go through.
    fn client(&self) -> &StripeClient;

    /// `GET path`.
    async fn fetch(&self, path: &str) -> Result<Object, stripe_client::StripeError> {
        self.client().get(path, &stripe_client::Form::new()).await
    }

    /// `GET path?filters`: one page of a list.
    async fn list(&self, path: &str, filters: &stripe_client::Form) -> Result<Object, stripe_client::StripeError> {
        self.client().get(path, filters).await
    }

    /// `POST path` with `params`.
    async fn send(
        &self,
        path: &str,
        params: &stripe_client::Form,
        opts: &stripe_client::RequestOptions,
    ) -> Result<Object, stripe_client::StripeError> {
        self.client().post(path, params, opts).await
    }

    /// `DELETE path` with `params`.
    async fn remove(
        &self,
        path: &str,
        params: &stripe_client::Form,
        opts: &stripe_client::RequestOptions,
    ) -> Result<Object, stripe_client::StripeError> {
        self.client().delete(path, params, opts).await
    }
}

impl Rest for StripeClient {
    fn client(&self) -> &StripeClient {
        self
    }
}

/// The objects of a list page.
pub fn data(list: &serde_json::Value) -> &[serde_json::Value] {
    list["data"].as_array().map(Vec::as_slice).unwrap_or_default()
}

/// The ids of a list page's objects, in order.
pub fn ids(list: &serde_json::Value) -> Vec<&str> {
    data(list).iter().map(|o| o["id"].as_str().unwrap_or_default()).collect()
}

/// A string field (empty when absent or not a string).
pub fn text<'a>(object: &'a serde_json::Value, field: &str) -> &'a str {
    object[field].as_str().unwrap_or_default()
}
