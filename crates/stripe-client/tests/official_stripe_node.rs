//! Cross-check of webhook signing against Stripe's official Node library
//! (npm `stripe`, installed into `.tools/node_modules` by `scripts/setup.sh --test`):
//! (a) a payload the sandbox signed and delivered passes `stripe.webhooks.constructEvent`;
//! (b) a header from `stripe.webhooks.generateTestHeaderString` passes our
//! `verify_webhook_signature`.

mod support;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::routing::post;
use axum::Router;
use stripe_client::{unix_now, verify_webhook_signature, Form, RequestOptions, SignatureError};

/// The installed `stripe` package, or a failure telling how to install it.
fn stripe_node_package() -> PathBuf {
    let pkg = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../.tools/node_modules/stripe");
    assert!(
        pkg.join("package.json").exists(),
        "npm package `stripe` is missing at {}: run `scripts/setup.sh --test`",
        pkg.display()
    );
    pkg.canonicalize().unwrap()
}

/// Runs a Node script with `require('stripe')` bound to the installed
/// package; returns (success, stdout, stderr).
async fn node(script: &str, env: &[(&str, &str)]) -> (bool, String, String) {
    let pkg = stripe_node_package();
    let prelude = format!("const stripe = require({:?})('sk_test_unused');\n", pkg.display().to_string());
    let out = tokio::process::Command::new("node")
        .arg("-e")
        .arg(format!("{prelude}{script}"))
        .envs(env.iter().copied())
        .output()
        .await
        .unwrap_or_else(|e| panic!("could not run `node` ({e}): install Node.js and run `scripts/setup.sh --test`"));
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).trim().to_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

const CONSTRUCT_EVENT: &str = r#"
const event = stripe.webhooks.constructEvent(process.env.PAYLOAD, process.env.HEADER, process.env.SECRET);
console.log(JSON.stringify({ id: event.id, type: event.type }));
"#;

type Deliveries = Arc<Mutex<Vec<(HeaderMap, Bytes)>>>;

async fn receive(State(deliveries): State<Deliveries>, headers: HeaderMap, body: Bytes) -> &'static str {
    deliveries.lock().unwrap().push((headers, body));
    "ok"
}

#[tokio::test]
async fn sandbox_deliveries_pass_the_official_library() {
    let s = support::start_sandbox().await;
    let c = support::client(&s.base);
    let deliveries: Deliveries = Arc::default();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    let app = Router::new().route("/hook", post(receive)).with_state(deliveries.clone());
    tokio::spawn(async move { axum::serve(listener, app).await });
    let endpoint = c
        .post::<serde_json::Value>(
            "/v1/webhook_endpoints",
            &Form::new().set("url", url.as_str()).set("enabled_events", vec!["product.created"]),
            &RequestOptions::NONE,
        )
        .await
        .unwrap();
    let secret = endpoint["secret"].as_str().unwrap().to_owned();
    c.post::<serde_json::Value>("/v1/products", &Form::new().set("name", "Signed"), &RequestOptions::NONE)
        .await
        .unwrap();

    let (headers, body) = support::poll("a webhook delivery", Duration::from_secs(10), || {
        let d = deliveries.clone();
        async move { d.lock().unwrap().first().cloned() }
    })
    .await;
    let payload = std::str::from_utf8(&body).unwrap();
    let header = headers["stripe-signature"].to_str().unwrap();
    let event_id = serde_json::from_slice::<serde_json::Value>(&body).unwrap()["id"].as_str().unwrap().to_owned();

    let (ok, stdout, stderr) =
        node(CONSTRUCT_EVENT, &[("PAYLOAD", payload), ("HEADER", header), ("SECRET", &secret)]).await;
    assert!(ok, "constructEvent rejected a sandbox delivery: {stderr}");
    let parsed: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(parsed["id"], event_id.as_str());
    assert_eq!(parsed["type"], "product.created");

    // The library really checks: a wrong secret fails there too.
    let (ok, _, stderr) =
        node(CONSTRUCT_EVENT, &[("PAYLOAD", payload), ("HEADER", header), ("SECRET", "whsec_wrong")]).await;
    assert!(!ok);
    assert!(stderr.contains("No signatures found matching the expected signature"), "{stderr}");

    // And ours agrees on the same delivery.
    assert_eq!(verify_webhook_signature(&body, header, &secret, 300, unix_now()), Ok(()));
}

#[tokio::test]
async fn official_test_headers_pass_our_verifier() {
    let payload = r#"{"id":"evt_node","object":"event","type":"invoice.paid","data":{"object":{"id":"in_1"}}}"#;
    let secret = "whsec_from_node";
    let script = r#"
console.log(stripe.webhooks.generateTestHeaderString({
  payload: process.env.PAYLOAD,
  secret: process.env.SECRET,
  timestamp: Number(process.env.TIMESTAMP),
}));
"#;
    let timestamp = unix_now().to_string();
    let (ok, header, stderr) =
        node(script, &[("PAYLOAD", payload), ("SECRET", secret), ("TIMESTAMP", &timestamp)]).await;
    assert!(ok, "{stderr}");
    assert!(header.starts_with(&format!("t={timestamp},v1=")), "{header}");

    let now = unix_now();
    assert_eq!(verify_webhook_signature(payload.as_bytes(), &header, secret, 300, now), Ok(()));
    assert_eq!(
        verify_webhook_signature(payload.as_bytes(), &header, "whsec_other", 300, now),
        Err(SignatureError::Mismatch)
    );
    assert!(matches!(
        verify_webhook_signature(payload.as_bytes(), &header, secret, 300, now + 301),
        Err(SignatureError::OutsideTolerance { .. })
    ));
    // Our signer and theirs produce the same header for the same inputs.
    assert_eq!(stripe_client::sign_webhook_payload(payload.as_bytes(), secret, timestamp.parse().unwrap()), header);
}
