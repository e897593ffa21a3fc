//! Webhook endpoints and signed, retried deliveries to a real local receiver.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::Router;
use common::{start, Server};
use hmac::{Hmac, Mac};
use parking_lot::Mutex;
use serde_json::{json, Value};
use sha2::Sha256;

#[derive(Clone, Default)]
struct Receiver {
    /// (Stripe-Signature header, raw body, arrival time)
    hits: Arc<Mutex<Vec<(String, String, Instant)>>>,
    /// Number of initial requests answered 500.
    fail_first: Arc<AtomicUsize>,
}

async fn receiver(fail_first: usize) -> (String, Receiver) {
    let rx = Receiver::default();
    rx.fail_first.store(fail_first, Ordering::SeqCst);
    let state = rx.clone();
    let app = Router::new().route(
        "/hook",
        post(move |headers: HeaderMap, body: Bytes| {
            let state = state.clone();
            async move {
                let sig = headers.get("stripe-signature").map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default();
                let n = {
                    let mut hits = state.hits.lock();
                    hits.push((sig, String::from_utf8(body.to_vec()).unwrap(), Instant::now()));
                    hits.len()
                };
                if n <= state.fail_first.load(Ordering::SeqCst) {
                    StatusCode::INTERNAL_SERVER_ERROR
                } else {
                    StatusCode::OK
                }
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, rx)
}

/// Verifies a signature independently of the crate, per Stripe's docs.
fn verify(header: &str, payload: &str, secret: &str) -> bool {
    let t = header.split(',').find_map(|p| p.strip_prefix("t=")).unwrap();
    let v1 = header.split(',').find_map(|p| p.strip_prefix("v1=")).unwrap();
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(format!("{t}.{payload}").as_bytes());
    hex::encode(mac.finalize().into_bytes()) == v1
}

async fn wait_for<F: Fn() -> bool>(what: &str, f: F) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !f() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Polls the sandbox-only delivery log until a record matching `query` has `status`.
async fn delivery(s: &Server, query: &str, status: &str) -> Value {
    for _ in 0..250 {
        let r = s.control_get(&format!("/_sandbox/webhook_deliveries?{query}")).await;
        if let Some(d) = r.body["data"].as_array().and_then(|a| a.first()) {
            if d["status"] == status {
                return d.clone();
            }
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("no {status} delivery for {query}");
}

async fn endpoint(s: &Server, url: &str, events: &[&str]) -> (String, String) {
    let mut p = vec![("url", url)];
    for e in events {
        p.push(("enabled_events[]", e));
    }
    let r = s.post("/v1/webhook_endpoints", &p).await;
    let secret = r.ok()["secret"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("whsec_"));
    (r.id(), secret)
}

#[tokio::test]
async fn endpoint_crud_shows_secret_once() {
    let s = start().await;
    let (id, _) = endpoint(&s, "https://example.test/hook", &["product.created", "price.updated"]).await;
    let r = s.get(&format!("/v1/webhook_endpoints/{id}"), &[]).await;
    assert!(r.ok().get("secret").is_none(), "secret is only returned on creation");
    assert_eq!(r.body["enabled_events"], json!(["product.created", "price.updated"]));
    assert_eq!(r.body["status"], "enabled");
    let r = s
        .post(
            &format!("/v1/webhook_endpoints/{id}"),
            &[
                ("disabled", "true"),
                ("url", "https://example.test/v2"),
                ("enabled_events[]", "*"),
                ("metadata[env]", "dev"),
            ],
        )
        .await;
    assert_eq!(r.ok()["status"], "disabled");
    assert_eq!(r.body["url"], "https://example.test/v2");
    assert_eq!(r.body["enabled_events"], json!(["*"]));
    assert_eq!(r.body["metadata"], json!({"env": "dev"}));
    assert_eq!(s.get("/v1/webhook_endpoints", &[]).await.body["data"].as_array().unwrap().len(), 1);
    let r = s.post("/v1/webhook_endpoints", &[("url", "https://example.test/x")]).await;
    assert_eq!(r.assert_error(400, "invalid_request_error", Some("parameter_missing"))["param"], "enabled_events");
    let r = s.post("/v1/webhook_endpoints", &[("url", "not a url"), ("enabled_events[]", "*")]).await;
    assert_eq!(r.assert_error(400, "invalid_request_error", None)["param"], "url");
    assert_eq!(s.delete(&format!("/v1/webhook_endpoints/{id}")).await.ok()["deleted"], json!(true));
    s.get(&format!("/v1/webhook_endpoints/{id}"), &[]).await.assert_error(
        404,
        "invalid_request_error",
        Some("resource_missing"),
    );
}

#[tokio::test]
async fn deliveries_are_signed_and_filtered_by_enabled_events() {
    let s = start().await;
    let (url, rx) = receiver(0).await;
    let (ep, secret) = endpoint(&s, &url, &["product.created"]).await;
    let (disabled, _) = endpoint(&s, &url, &["*"]).await;
    s.post(&format!("/v1/webhook_endpoints/{disabled}"), &[("disabled", "true")]).await.ok();

    let started = Instant::now();
    let product = s.post("/v1/products", &[("name", "Hooked")]).await;
    assert!(started.elapsed() < Duration::from_secs(2), "delivery must not block the response");
    s.post(&format!("/v1/products/{}", product.id()), &[("name", "Renamed")]).await.ok();

    wait_for("one delivery", || rx.hits.lock().len() == 1).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let hits = rx.hits.lock().clone();
    assert_eq!(hits.len(), 1, "only product.created matches, and the disabled endpoint gets nothing");
    let (sig, body, _) = &hits[0];
    assert!(verify(sig, body, &secret), "signature {sig} must verify");
    assert!(!verify(sig, body, "whsec_wrong"));
    assert!(stripe_sandbox::verify_signature(sig, body, &secret, 300));
    let event: Value = serde_json::from_str(body).unwrap();
    assert_eq!(event["type"], "product.created");
    assert_eq!(event["data"]["object"]["id"], product.id().as_str());
    assert_eq!(event["data"]["object"]["name"], "Hooked", "data.object is a snapshot at event time");

    let d = &delivery(&s, &format!("webhook_endpoint={ep}"), "succeeded").await;
    assert_eq!(d["event"], event["id"]);
    assert_eq!(d["status"], "succeeded");
    assert_eq!(d["attempts"][0]["status_code"], json!(200));
    let ev = s.get(&format!("/v1/events/{}", event["id"].as_str().unwrap()), &[]).await;
    assert_eq!(ev.ok()["pending_webhooks"], json!(0), "successful delivery clears pending_webhooks");
}

#[tokio::test]
async fn failed_deliveries_retry_with_exponential_backoff() {
    let s = start().await; // retry base 50 ms
    let (url, rx) = receiver(2).await;
    let (ep, secret) = endpoint(&s, &url, &["*"]).await;
    s.post("/v1/customers", &[("email", "retry@x.test")]).await.ok();
    wait_for("three attempts", || rx.hits.lock().len() >= 3).await;
    let hits = rx.hits.lock().clone();
    assert_eq!(hits[0].1, hits[2].1, "same payload on every attempt");
    for (sig, body, _) in &hits {
        assert!(verify(sig, body, &secret));
    }
    let gap1 = hits[1].2 - hits[0].2;
    let gap2 = hits[2].2 - hits[1].2;
    assert!(gap1 >= Duration::from_millis(45), "first retry after ~base: {gap1:?}");
    assert!(gap2 >= Duration::from_millis(95), "second retry after ~2×base: {gap2:?}");

    let record = delivery(&s, &format!("webhook_endpoint={ep}"), "succeeded").await;
    let attempts = record["attempts"].as_array().unwrap();
    assert_eq!(attempts.len(), 3);
    assert_eq!(attempts[0]["status_code"], json!(500));
    assert_eq!(attempts[0]["next_retry_in_ms"], json!(50));
    assert_eq!(attempts[1]["next_retry_in_ms"], json!(100));
    assert_eq!(attempts[2]["status_code"], json!(200));
}

#[tokio::test]
async fn unreachable_endpoint_gives_up_after_max_attempts() {
    let s = common::start_with(stripe_sandbox::SandboxConfig {
        webhook_retry_base: Duration::from_millis(10),
        webhook_max_attempts: 3,
        ..Default::default()
    })
    .await;
    // Bind and drop a listener to get a port nobody listens on.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    endpoint(&s, &format!("http://127.0.0.1:{port}/gone"), &["*"]).await;
    s.post("/v1/products", &[("name", "x")]).await.ok();
    let record = delivery(&s, "status=failed", "failed").await;
    let attempts = record["attempts"].as_array().unwrap();
    assert_eq!(attempts.len(), 3);
    assert!(attempts.iter().all(|a| a["status_code"].is_null() && a["error"].is_string()));
    let ev = s.get(&format!("/v1/events/{}", record["event"].as_str().unwrap()), &[]).await;
    assert_eq!(ev.ok()["pending_webhooks"], json!(1));
}
