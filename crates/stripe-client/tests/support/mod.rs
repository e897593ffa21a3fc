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
