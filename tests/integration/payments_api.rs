//! The embedded engine's InsForge-compatible API as mounted in the console: who may call it, and
//! the demo wiring to the in-process Stripe sandbox.

use crate::support;

use payments_console::auth::Role;
use serde_json::Value;
use support::TestApp;

async fn api_key(app: &TestApp) -> String {
    app.state.api_keys.create("tests").await.unwrap().1.expose().to_string()
}

#[tokio::test]
async fn an_api_key_reads_status_and_demo_mode_is_connected_to_the_sandbox() {
    let app = TestApp::spawn().await;
    let key = api_key(&app).await;
    let res = reqwest::Client::new().get(app.url("/api/payments/status")).bearer_auth(&key).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let status: Value = res.json().await.unwrap();
    let connections = status["connections"].as_array().unwrap();
    assert_eq!(connections.len(), 2, "both environments, always");
    assert_eq!(connections[0]["environment"], "test");
    assert_eq!(connections[0]["status"], "connected", "demo mode connects test to the sandbox: {status}");
    assert_eq!(connections[0]["maskedKey"], "sk_test_****dbox");
    assert_eq!(connections[1]["status"], "unconfigured");

    // The initial sync mirrored the sandbox's demo catalog; `x-api-key` works as well.
    let catalog: Value = reqwest::Client::new()
        .get(app.url("/api/payments/test/catalog"))
        .header("x-api-key", &key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(!catalog["products"].as_array().unwrap().is_empty(), "{catalog}");
    assert!(!catalog["prices"].as_array().unwrap().is_empty());
}

#[tokio::test]
async fn callers_without_valid_credentials_are_refused_in_the_contracts_terms() {
    let app = TestApp::spawn().await;
    let client = reqwest::Client::new();
    let res = client.get(app.url("/api/payments/status")).send().await.unwrap();
    assert_eq!(res.status(), 401);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"], "AUTH_INVALID_CREDENTIALS");
    assert_eq!(body["message"], "No admin token provided");

    let res = client.get(app.url("/api/payments/status")).bearer_auth("ik_not_a_key").send().await.unwrap();
    assert_eq!(res.status(), 401);
    assert_eq!(res.json::<Value>().await.unwrap()["error"], "AUTH_INVALID_API_KEY");

    // A revoked key stops working.
    let key = api_key(&app).await;
    app.state.api_keys.revoke("tests").await.unwrap();
    let res = client.get(app.url("/api/payments/status")).bearer_auth(&key).send().await.unwrap();
    assert_eq!(res.status(), 401);
}

#[tokio::test]
async fn console_sessions_authenticate_support_read_only() {
    let app = TestApp::spawn().await;
    let support = app.signed_in("support@example.com", Role::Support).await;
    assert_eq!(support.get(app.url("/api/payments/status")).send().await.unwrap().status(), 200);
    let res = support
        .put(app.url("/api/payments/test/config"))
        .json(&serde_json::json!({ "secretKey": "sk_test_other" }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    assert_eq!(res.json::<Value>().await.unwrap()["error"], "AUTH_UNAUTHORIZED");

    let admin = app.signed_in("admin@example.com", Role::Admin).await;
    // A write from another site riding on the admin's cookie is refused before it reaches the API.
    let res = admin
        .delete(app.url("/api/payments/test/config"))
        .header("origin", "https://evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    let status: Value = admin.get(app.url("/api/payments/status")).send().await.unwrap().json().await.unwrap();
    assert_eq!(status["connections"][0]["status"], "connected", "the key is still there");
}

#[tokio::test]
async fn writes_through_the_api_land_in_the_console_audit_log_with_stripe_request_ids() {
    let app = TestApp::spawn().await;
    let key = api_key(&app).await;
    let res = reqwest::Client::new().post(app.url("/api/payments/test/sync")).bearer_auth(&key).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["results"][0]["connection"]["lastSyncStatus"], "succeeded", "{body}");

    // The audit entry is written right after the operation; poll briefly for it.
    let mut entry = None;
    for _ in 0..50 {
        let page = app.state.audit.page(None, 50).await.unwrap();
        entry = page.entries.into_iter().find(|e| e.action.contains("sync"));
        if entry.is_some() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let entry = entry.expect("the sync is audited");
    assert_eq!(entry.actor, "api_key:tests");
    assert_eq!(entry.environment.as_deref(), Some("test"));
    assert!(entry.stripe_request_id.as_deref().is_some_and(|id| id.starts_with("req_")), "{entry:?}");
}

/// The sandbox's webhook endpoints, as Stripe would list them.
async fn sandbox_webhook_urls(app: &TestApp) -> Vec<String> {
    let list = app.sandbox_get("/v1/webhook_endpoints").await;
    list["data"].as_array().unwrap().iter().map(|e| e["url"].as_str().unwrap().to_string()).collect()
}

#[tokio::test]
async fn each_demo_start_reconnects_its_fresh_sandbox_and_a_real_key_ends_demo_mode() {
    let dir = tempfile::tempdir().unwrap();
    let database_url = support::fresh_database_url(dir.path()).await;
    let key_file = dir.path().join("master.key");
    payments_console::server::crypto::MasterKey::create_file(&key_file).unwrap();

    for start in 0..2 {
        let app = TestApp::spawn_on(dir.path(), database_url.clone(), Some(key_file.clone())).await;
        // The sandbox is new on every start (it lives in memory): its webhook endpoint must point
        // back at this server, or no event would ever arrive.
        let expected = format!("{}/api/webhooks/stripe/test", app.base);
        assert_eq!(sandbox_webhook_urls(&app).await, vec![expected], "start {start}");
        let status = app.state.engine.status().await.unwrap();
        let json = serde_json::to_value(&status).unwrap();
        assert_eq!(json["connections"][0]["status"], "connected", "start {start}: {json}");
    }

    // Once another key is configured (through the engine, as the Keys page will; the sandbox
    // accepts any test key), demo mode no longer starts the sandbox on the next start.
    let app = TestApp::spawn_on(dir.path(), database_url.clone(), Some(key_file.clone())).await;
    app.state.engine.set_secret_key(payments_engine::Environment::Test, "sk_test_realkey1234").await.unwrap();
    let app = TestApp::spawn_on(dir.path(), database_url, Some(key_file)).await;
    assert_eq!(app.state.settings.demo_sandbox_url, None, "no sandbox once a real key is set");
}

/// A JWT for the console's `--jwt-secret`.
fn app_jwt(secret: &str, claims: Value) -> String {
    payments_engine::sign_hs256(&claims, secret.as_bytes())
}

#[tokio::test]
async fn slow_stripe_checkouts_do_not_starve_probes_sign_in_or_webhooks() {
    let secret = "a-jwt-secret-of-at-least-32-bytes-for-tests";
    let app = TestApp::spawn_with(|a| {
        a.jwt_secret = Some(payments_console::server::secrets::SecretString::new(secret.to_owned()))
    })
    .await;
    let key = api_key(&app).await;
    let sandbox = app.state.settings.demo_sandbox_url.clone().expect("demo mode runs the sandbox");
    let http = reqwest::Client::new();
    let catalog: Value =
        http.get(app.url("/api/payments/test/catalog")).bearer_auth(&key).send().await.unwrap().json().await.unwrap();
    let price = catalog["prices"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["type"] == "one_time" && p["active"] == true)
        .expect("the demo catalog has a one-time price")["stripePriceId"]
        .as_str()
        .unwrap()
        .to_owned();
    // Stripe takes 5 s to create each of the next 8 checkout sessions.
    let fault =
        serde_json::json!({"path_prefix": "/v1/checkout/sessions", "method": "POST", "delay_ms": 5000, "count": 8});
    assert!(http.post(format!("{sandbox}/_sandbox/faults")).json(&fault).send().await.unwrap().status().is_success());

    let anon = app_jwt(secret, serde_json::json!({"sub": "anon", "role": "anon"}));
    let body = serde_json::json!({"mode": "payment", "lineItems": [{"stripePriceId": price}],
        "successUrl": "https://app.example.com/s", "cancelUrl": "https://app.example.com/c"});
    let checkouts: Vec<_> = (0..8)
        .map(|_| {
            let req = http.post(app.url("/api/payments/test/checkout-sessions")).bearer_auth(&anon).json(&body);
            tokio::spawn(async move { req.send().await.unwrap().status().as_u16() })
        })
        .collect();
    // Wait until checkouts are at Stripe (their local rows exist).
    let pool = app.state.db.pool().clone();
    let at_stripe = || async {
        sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM payments_checkout_sessions").fetch_one(&pool).await.unwrap()
    };
    for _ in 0..200 {
        if at_stripe().await >= 4 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    assert!(at_stripe().await >= 4, "the checkouts did not reach Stripe");

    // While they wait on Stripe: the probe, a sign-in and a webhook (a customer created at
    // Stripe, delivered back to the console) all get through.
    assert_eq!(http.get(app.url("/readyz")).send().await.unwrap().status(), 200);
    app.signed_in("ops@example.com", Role::Support).await;
    let customer: Value = http
        .post(format!("{sandbox}/v1/customers"))
        .bearer_auth(stripe_sandbox::DEFAULT_API_KEY)
        .form(&[("email", "during-slow-checkouts@example.com")])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = customer["id"].as_str().unwrap().to_owned();
    let mirrored = || async {
        sqlx::query_scalar::<_, i64>(&format!(
            "SELECT COUNT(*) FROM payments_customers WHERE stripe_customer_id = '{id}'"
        ))
        .fetch_one(&pool)
        .await
        .unwrap()
    };
    while mirrored().await == 0 && !checkouts.iter().any(|c| c.is_finished()) {
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    assert_eq!(mirrored().await, 1, "the webhook was applied");
    assert!(
        !checkouts.iter().any(|c| c.is_finished()),
        "all of that happened while every checkout still waited on Stripe"
    );
    for c in checkouts {
        assert_eq!(c.await.unwrap(), 201);
    }
}
