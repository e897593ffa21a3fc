//! Key configuration, status and config routes.

use reqwest::Method;
use serde_json::{json, Value};
use stripe_sandbox::{ApiKeys, SandboxConfig};

use crate::common::*;
use payments_engine::Sealer;

fn is_iso_ms(v: &Value) -> bool {
    let s = v.as_str().unwrap_or_default();
    s.len() == 24 && s.ends_with('Z') && s.as_bytes()[10] == b'T' && s.as_bytes()[19] == b'.'
}

fn unconfigured(env: &str) -> Value {
    json!({"environment": env, "status": "unconfigured", "stripeAccountId": null, "stripeAccountEmail": null,
        "accountLivemode": null, "webhookEndpointId": null, "webhookEndpointUrl": null, "webhookConfiguredAt": null,
        "maskedKey": null, "lastSyncedAt": null, "lastSyncStatus": null, "lastSyncError": null, "lastSyncCounts": {}})
}

async fn sandbox_webhook_endpoints(h: &Harness) -> Vec<Value> {
    let r = reqwest::Client::new()
        .get(format!("{}/v1/webhook_endpoints?limit=100", h.sandbox_base))
        .bearer_auth(TEST_KEY)
        .send()
        .await
        .unwrap();
    let body: Value = r.json().await.unwrap();
    body["data"].as_array().cloned().unwrap_or_default()
}

#[tokio::test]
async fn status_and_config_list_both_environments_when_unconfigured() {
    let h = Harness::start().await;
    let status = h.get("/api/payments/status").await;
    assert_eq!(status.ok(200), &json!({"connections": [unconfigured("test"), unconfigured("live")]}));
    // The service API the console calls directly serialises to the same shape.
    assert_eq!(serde_json::to_value(h.engine.status().await.unwrap()).unwrap(), status.body);
    let config = h.get("/api/payments/config").await;
    assert_eq!(
        config.ok(200),
        &json!({"keys": [{"environment": "test", "hasKey": false, "maskedKey": null},
                         {"environment": "live", "hasKey": false, "maskedKey": null}]})
    );
}

#[tokio::test]
async fn setting_a_key_checks_the_account_creates_the_webhook_and_syncs_the_catalog() {
    let h = Harness::start().await;
    h.sandbox.seed_demo();
    let products_in_stripe = h.sandbox.count("product").unwrap() as i64;
    let prices_in_stripe = h.sandbox.count("price").unwrap() as i64;
    assert!(products_in_stripe > 0 && prices_in_stripe > 0);

    // Surrounding whitespace is trimmed before the prefix check.
    let config = h.send(Method::PUT, "/api/payments/test/config", json!({"secretKey": format!("  {TEST_KEY} ")})).await;
    assert_eq!(
        config.ok(200),
        &json!({"keys": [{"environment": "test", "hasKey": true, "maskedKey": "sk_test_****1234"},
                         {"environment": "live", "hasKey": false, "maskedKey": null}]})
    );

    let status = h.get("/api/payments/status").await.ok(200).clone();
    let test = &status["connections"][0];
    assert_eq!(test["environment"], "test");
    assert_eq!(test["status"], "connected");
    assert_eq!(test["stripeAccountId"], h.sandbox.config().account_id.as_str());
    assert_eq!(test["stripeAccountEmail"], "sandbox@example.com");
    assert_eq!(test["accountLivemode"], false);
    assert_eq!(test["maskedKey"], "sk_test_****1234");
    assert_eq!(test["webhookEndpointUrl"], format!("{}/api/webhooks/stripe/test", h.base));
    assert!(test["webhookEndpointId"].as_str().unwrap().starts_with("we_"), "{test}");
    assert!(is_iso_ms(&test["webhookConfiguredAt"]), "{test}");
    assert!(is_iso_ms(&test["lastSyncedAt"]), "{test}");
    assert_eq!(test["lastSyncStatus"], "succeeded");
    assert_eq!(test["lastSyncError"], Value::Null);
    // `customers` and `subscriptions` are recorded too (InsForge never did; the CLI reads
    // them), and the history the first sync backfilled, with the events it imported.
    let customers_in_stripe = h.sandbox.count("customer").unwrap() as i64;
    let subscriptions_in_stripe = h.sandbox.count("subscription").unwrap() as i64;
    let (payments, refunds, events) = h.backfilled().await;
    assert_eq!(refunds, h.sandbox.count("refund").unwrap() as i64);
    assert!(payments > subscriptions_in_stripe && events > 0, "{payments} payments, {events} events");
    assert_eq!(
        test["lastSyncCounts"],
        json!({"products": products_in_stripe, "prices": prices_in_stripe, "customers": customers_in_stripe,
               "subscriptions": subscriptions_in_stripe, "payments": payments, "refunds": refunds, "events": events})
    );
    assert_eq!(status["connections"][1], unconfigured("live"));

    // The managed endpoint exists in Stripe with the contract's metadata and events.
    let endpoints = sandbox_webhook_endpoints(&h).await;
    assert_eq!(endpoints.len(), 1);
    let we = &endpoints[0];
    assert_eq!(we["id"], test["webhookEndpointId"]);
    assert_eq!(we["url"], test["webhookEndpointUrl"]);
    assert_eq!(we["metadata"]["managed_by"], "insforge");
    assert_eq!(we["metadata"]["insforge_environment"], "test");
    // The contract's 20 events and `invoice_payment.paid` (see `MANAGED_WEBHOOK_EVENTS`).
    assert_eq!(we["enabled_events"], json!(payments_engine::MANAGED_WEBHOOK_EVENTS));
    assert_eq!(we["enabled_events"].as_array().unwrap().len(), 21);

    // Both secrets are stored sealed: no plaintext anywhere in the secrets table.
    let rows: Vec<(String, String, i64)> =
        sqlx::query_as("SELECT name, value_sealed, is_active FROM payments_secrets ORDER BY name")
            .fetch_all(&h.pool)
            .await
            .unwrap();
    let names: Vec<&str> = rows.iter().map(|r| r.0.as_str()).collect();
    assert_eq!(names, ["STRIPE_TEST_SECRET_KEY", "STRIPE_TEST_WEBHOOK_SECRET"]);
    for (_, sealed, active) in &rows {
        assert_eq!(*active, 1);
        assert!(!sealed.contains("sk_test_") && !sealed.contains("whsec_") && !sealed.contains(TEST_KEY), "{sealed}");
    }
    assert_eq!(TestSealer.open(&rows[0].1).unwrap().as_str(), TEST_KEY);
    assert!(TestSealer.open(&rows[1].1).unwrap().starts_with("whsec_"));
    let dump: Vec<(String,)> =
        sqlx::query_as("SELECT raw FROM payments_stripe_connections").fetch_all(&h.pool).await.unwrap();
    assert!(dump.iter().all(|(raw,)| !raw.contains(TEST_KEY)));

    // The initial sync mirrored the catalog.
    let catalog = h.get("/api/payments/test/catalog").await.ok(200).clone();
    assert_eq!(catalog["products"].as_array().unwrap().len() as i64, products_in_stripe);
    assert_eq!(catalog["prices"].as_array().unwrap().len() as i64, prices_in_stripe);
    let names: Vec<&str> =
        catalog["products"].as_array().unwrap().iter().map(|p| p["name"].as_str().unwrap()).collect();
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(names, sorted, "products are ordered by name");
    assert_eq!(h.get("/api/payments/live/catalog").await.ok(200), &json!({"products": [], "prices": []}));

    // Setting the same key again is a no-op: no new webhook endpoint.
    h.configure(TEST_KEY).await;
    assert_eq!(sandbox_webhook_endpoints(&h).await.len(), 1);
}

#[tokio::test]
async fn keys_with_the_wrong_prefix_are_refused() {
    let h = Harness::start().await;
    let r = h.send(Method::PUT, "/api/payments/live/config", json!({"secretKey": TEST_KEY})).await;
    r.err(400, "PAYMENT_CONFIG_INVALID", "STRIPE_LIVE_SECRET_KEY must start with sk_live_");
    let r = h.send(Method::PUT, "/api/payments/test/config", json!({"secretKey": "rk_test_restricted1234"})).await;
    r.err(400, "PAYMENT_CONFIG_INVALID", "STRIPE_TEST_SECRET_KEY must start with sk_test_");
    let r = h.send(Method::PUT, "/api/payments/test/config", json!({"secretKey": "sk_live_abcdefgh1234"})).await;
    r.err(400, "PAYMENT_CONFIG_INVALID", "STRIPE_TEST_SECRET_KEY must start with sk_test_");
    assert_eq!(h.scalar_i64("SELECT COUNT(*) FROM payments_secrets").await, 0);
}

#[tokio::test]
async fn keys_stripe_does_not_know_are_refused_with_401() {
    let h = Harness::start_with(SandboxConfig {
        api_keys: ApiKeys::Only(vec![TEST_KEY.to_owned()]),
        ..SandboxConfig::default()
    })
    .await;
    let r = h.send(Method::PUT, "/api/payments/test/config", json!({"secretKey": "sk_test_unknownkey000000"})).await;
    r.err(401, "PAYMENT_CONFIG_INVALID", "Invalid API Key provided: sk_test_************0000");
    assert_eq!(h.get("/api/payments/config").await.ok(200)["keys"][0]["hasKey"], false);
    assert_eq!(h.scalar_i64("SELECT COUNT(*) FROM payments_secrets").await, 0);
}

#[tokio::test]
async fn rotating_the_key_of_the_same_account_keeps_data_and_webhook() {
    let h = Harness::start().await;
    h.configure(TEST_KEY).await;
    let product =
        h.send(Method::POST, "/api/payments/test/catalog/products", json!({"name": "Kept"})).await.ok(201).clone();
    let before = h.get("/api/payments/status").await.ok(200)["connections"][0].clone();

    let config = h.configure("sk_test_rotatedKeyZZZZ9876").await;
    assert_eq!(config["keys"][0]["maskedKey"], "sk_test_****9876");
    let after = h.get("/api/payments/status").await.ok(200)["connections"][0].clone();
    assert_eq!(after["webhookEndpointId"], before["webhookEndpointId"], "no webhook recreation on rotation");
    assert_eq!(after["lastSyncedAt"], before["lastSyncedAt"], "no sync on rotation");
    assert_eq!(sandbox_webhook_endpoints(&h).await.len(), 1);
    let id = product["product"]["stripeProductId"].as_str().unwrap();
    h.get(&format!("/api/payments/test/catalog/products/{id}")).await.ok(200);
    assert_eq!(
        h.scalar_i64(
            "SELECT COUNT(*) FROM payments_secrets WHERE name = 'STRIPE_TEST_SECRET_KEY' AND rotated_at IS NOT NULL"
        )
        .await,
        1
    );
}

#[tokio::test]
async fn a_key_of_another_account_wipes_that_environment() {
    let h = Harness::start().await;
    // The old account has subscriptions and payments: figures on the overview.
    h.sandbox.seed_demo();
    h.configure(TEST_KEY).await;
    let old_figures = figures(&h.base).await;
    assert!(old_figures["payments30d"].as_u64().unwrap() > 0, "{old_figures}");
    let created = h
        .send(Method::POST, "/api/payments/test/catalog/products", json!({"name": "Old account"}))
        .await
        .ok(201)
        .clone();
    let old_id = created["product"]["stripeProductId"].as_str().unwrap().to_owned();
    // Projection rows of both environments: only the test ones may go.
    for env in ["test", "live"] {
        sqlx::query(
            "INSERT INTO payments_customers (id, environment, stripe_customer_id, metadata, raw, synced_at, created_at, updated_at)
             VALUES ($1, $2, 'cus_1', '{}', '{}', 0, 0, 0)",
        )
        .bind(format!("row-{env}"))
        .bind(env)
        .execute(&h.pool)
        .await
        .unwrap();
    }

    // Same database, an engine instance whose Stripe is another account.
    let (other, other_base) =
        start_sandbox(SandboxConfig { account_id: "acct_1OtherAccount000".into(), ..SandboxConfig::default() }).await;
    other.seed_demo();
    let (engine2, _) = serve_engine(&h.pool, &other_base).await;
    let http = reqwest::Client::new();
    // (The very same key would be a no-op without any Stripe call, per `contract/BEHAVIOUR.md`
    // §5.2.)
    let body = json!({"secretKey": "sk_test_otherAccountKey5678"});
    // The first instance keeps folding its figures meanwhile, as its background task does every
    // 2 s: a fold committing during the wipe must not bring the old account's figures back.
    // (Stopped by a flag, not aborted: a transaction cut off mid-statement would leave its
    // connection to the next user.)
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let folding = {
        let (engine, stop) = (h.engine.clone(), stop.clone());
        tokio::spawn(async move {
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let _ = engine.fold_overview().await;
                tokio::task::yield_now().await;
            }
        })
    };
    request(&http, &engine2, Method::PUT, "/api/payments/test/config", Some(body), Auth::Admin).await.ok(200);
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    folding.await.unwrap();

    let status = h.get("/api/payments/status").await.ok(200)["connections"][0].clone();
    assert_eq!(status["stripeAccountId"], "acct_1OtherAccount000");
    assert_eq!(status["lastSyncCounts"]["products"], other.count("product").unwrap() as i64);
    h.get(&format!("/api/payments/test/catalog/products/{old_id}")).await.err(
        404,
        "PAYMENT_PRODUCT_NOT_FOUND",
        &format!("Stripe test product not found: {old_id}"),
    );
    // The old account's rows are gone; the new account's customers were synced.
    assert_eq!(
        h.scalar_i64(
            "SELECT COUNT(*) FROM payments_customers WHERE environment = 'test' AND stripe_customer_id = 'cus_1'"
        )
        .await,
        0
    );
    assert_eq!(
        h.scalar_i64("SELECT COUNT(*) FROM payments_customers WHERE environment = 'test'").await,
        other.count("customer").unwrap() as i64
    );
    assert_eq!(h.scalar_i64("SELECT COUNT(*) FROM payments_customers WHERE environment = 'live'").await, 1);
    // The overview's figures went with the old account's rows: what is kept is the new one's.
    assert_figures_kept(&h.base, &h.engine).await;
}

#[tokio::test]
async fn removing_a_key_keeps_the_mirror_and_404s_when_there_is_none() {
    let h = Harness::start().await;
    h.delete("/api/payments/test/config").await.err(404, "PAYMENT_CONFIG_NOT_FOUND", "No Stripe key configured");
    h.sandbox.seed_demo();
    h.configure(TEST_KEY).await;
    let products = h.get("/api/payments/test/catalog/products").await.ok(200)["products"].as_array().unwrap().len();
    assert!(products > 0);

    let config = h.delete("/api/payments/test/config").await.ok(200).clone();
    assert_eq!(config["keys"][0], json!({"environment": "test", "hasKey": false, "maskedKey": null}));
    let status = h.get("/api/payments/status").await.ok(200)["connections"][0].clone();
    assert_eq!(status["status"], "unconfigured");
    assert_eq!(status["lastSyncStatus"], "failed");
    assert_eq!(status["lastSyncError"], "STRIPE_TEST_SECRET_KEY is not configured");
    assert_eq!(status["webhookEndpointId"], Value::Null);
    assert_eq!(status["lastSyncCounts"], json!({}));
    assert_eq!(status["stripeAccountId"], h.sandbox.config().account_id.as_str(), "the account id is kept");
    assert_eq!(sandbox_webhook_endpoints(&h).await.len(), 0, "managed endpoint removed from Stripe");
    assert_eq!(
        h.get("/api/payments/test/catalog/products").await.ok(200)["products"].as_array().unwrap().len(),
        products
    );
    assert_eq!(h.scalar_i64("SELECT COUNT(*) FROM payments_secrets WHERE is_active = 1").await, 0);
    h.delete("/api/payments/test/config").await.err(404, "PAYMENT_CONFIG_NOT_FOUND", "No Stripe key configured");

    // Re-adding a key of the same account: full path (webhook recreated, sync), data not wiped.
    h.configure(TEST_KEY).await;
    let status = h.get("/api/payments/status").await.ok(200)["connections"][0].clone();
    assert_eq!(status["status"], "connected");
    assert!(status["webhookEndpointId"].as_str().unwrap().starts_with("we_"));
    assert_eq!(status["lastSyncStatus"], "succeeded");
    assert_eq!(sandbox_webhook_endpoints(&h).await.len(), 1);
}

#[tokio::test]
async fn config_body_and_environment_validation() {
    let h = Harness::start().await;
    let put = |body: Value| h.send(Method::PUT, "/api/payments/test/config", body);
    put(json!({})).await.err(400, "INVALID_INPUT", "secretKey: Required");
    put(json!({"secretKey": "   "})).await.err(400, "INVALID_INPUT", "secretKey: Stripe secret key is required");
    put(json!({"secretKey": 5})).await.err(400, "INVALID_INPUT", "secretKey: Expected string, received number");
    put(json!({"secretKey": TEST_KEY, "environment": "test"})).await.err(
        400,
        "INVALID_INPUT",
        ": Unrecognized key(s) in object: 'environment'",
    );
    put(json!(["x"])).await.err(400, "INVALID_INPUT", ": Expected object, received array");
    // The path is validated before the body.
    h.send(Method::PUT, "/api/payments/foo/config", json!({})).await.err(
        400,
        "INVALID_INPUT",
        "environment: Invalid enum value. Expected 'test' | 'live', received 'foo'",
    );
    h.delete("/api/payments/TEST/config").await.err(
        400,
        "INVALID_INPUT",
        "environment: Invalid enum value. Expected 'test' | 'live', received 'TEST'",
    );
    let r = h.request(Method::PUT, "/api/payments/test/config", None, Auth::Admin).await;
    r.err(400, "INVALID_INPUT", "secretKey: Required");
}

/// `contract/BEHAVIOUR.md` §5.5: keys seeded from `STRIPE_<ENV>_SECRET_KEY` at startup, once;
/// failures only logged.
#[tokio::test]
async fn keys_are_seeded_from_the_environment_once() {
    let h = Harness::start().await;
    h.sandbox.seed_demo();
    let vars = |test: &'static str, live: &'static str| {
        move |name: &str| match name {
            "STRIPE_TEST_SECRET_KEY" => Some(test.to_owned()),
            "STRIPE_LIVE_SECRET_KEY" => Some(live.to_owned()),
            _ => None,
        }
    };
    // Test: the whole set-key flow; live: an empty variable is no key; a test key given for
    // live fails validation, which is logged and does not stop the rest.
    let seeded = h.engine.seed_secret_keys(vars(TEST_KEY, "")).await;
    assert_eq!(seeded, vec![payments_engine::Environment::Test]);
    let status = h.get("/api/payments/status").await.ok(200).clone();
    assert_eq!(status["connections"][0]["status"], "connected");
    assert_eq!(status["connections"][0]["lastSyncStatus"], "succeeded", "the first sync ran");
    assert!(status["connections"][0]["webhookEndpointId"].is_string(), "the webhook endpoint was created");
    assert_eq!(status["connections"][1]["status"], "unconfigured");
    assert!(h.engine.seed_secret_keys(vars("", "sk_test_for_live")).await.is_empty());
    assert_eq!(h.get("/api/payments/status").await.ok(200)["connections"][1]["status"], "unconfigured");

    // Once stored, the variable no longer wins, even with another value.
    assert!(h.engine.seed_secret_keys(vars("sk_test_other_value_9999", "")).await.is_empty());
    let config = h.get("/api/payments/config").await.ok(200).clone();
    assert_eq!(config["keys"][0]["maskedKey"], payments_engine::mask_key(TEST_KEY));

    // A key an admin removed stays removed across restarts.
    h.send(Method::DELETE, "/api/payments/test/config", serde_json::json!({})).await.ok(200);
    assert!(h.engine.seed_secret_keys(vars(TEST_KEY, "")).await.is_empty());
    assert_eq!(h.get("/api/payments/config").await.ok(200)["keys"][0]["hasKey"], false);
}

/// `EngineConfig::stripe_live_api_base`: live mode's calls go to their own Stripe stand-in (the
/// console's demo mode), test mode's stay on `stripe_api_base`, and the data stay apart.
#[tokio::test]
async fn live_mode_can_have_its_own_stripe_base() {
    let (live_sandbox, live_base) =
        start_sandbox(SandboxConfig { api_keys: ApiKeys::AnyLiveKey, ..SandboxConfig::default() }).await;
    let h = Harness::start_engine_with(|c| c.stripe_live_api_base = Some(live_base.parse().unwrap())).await;
    h.configure(TEST_KEY).await;
    let test_products = h.sandbox.count("product").unwrap();
    // The test sandbox would refuse a live key: only the live one can have accepted it.
    let live = h.send(Method::PUT, "/api/payments/live/config", json!({"secretKey": "sk_live_sandbox"})).await;
    let keys = live.ok(200)["keys"].as_array().unwrap().clone();
    assert!(keys.iter().any(|k| k["environment"] == "live" && k["maskedKey"] == "sk_live_****dbox"), "{keys:?}");
    h.send(Method::POST, "/api/payments/live/catalog/products", json!({"name": "Live only"})).await.ok(201);
    assert_eq!(live_sandbox.count("product"), Some(1));
    assert_eq!(h.sandbox.count("product"), Some(test_products), "test mode's Stripe has none of live's objects");
    h.send(Method::POST, "/api/payments/test/catalog/products", json!({"name": "Test only"})).await.ok(201);
    assert_eq!((h.sandbox.count("product"), live_sandbox.count("product")), (Some(test_products + 1), Some(1)));
}
