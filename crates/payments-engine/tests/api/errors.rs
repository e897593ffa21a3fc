//! The contract's error paths that no other module asserts exactly: the guards and the
//! environment check on every route, the key checks on every Stripe-calling route, Stripe's
//! refusals as normalised by §1.5 (sandbox faults for 429/5xx after the client's retries, a stub
//! Stripe for what the sandbox cannot produce: 402 card errors, 403 permission errors, missing
//! fields), the webhook receiver's remaining failures and unknown endpoints. Every assertion
//! checks status, `error` and the exact message. The inventory is `ERROR_PATHS.md`.
//!
//! Section numbers (§) in this file are those of `contract/BEHAVIOUR.md`.

use std::sync::Arc;

use axum::http::StatusCode as AxumStatus;
use axum::response::IntoResponse;
use payments_engine::{Engine, EngineConfig, Sealer, SimpleAuthenticator};
use reqwest::Method;
use serde_json::{json, Value};
use stripe_client::{sign_webhook_payload, unix_now};

use crate::common::*;
use crate::runtime::{checkout_body, CHECKOUT, PORTAL};
use crate::webhooks::{post_event, post_raw, webhook_secret};

const NO_TEST_KEY: &str = "STRIPE_TEST_SECRET_KEY is not configured";
const RATE_LIMIT_MESSAGE: &str =
    "Request rate limit exceeded. You can learn more about rate limits here https://docs.stripe.com/rate-limits.";
const SERVER_ERROR_MESSAGE: &str = "An unknown error occurred while processing your request. Please try again.";
/// The client tries once and retries 3 times: a fault must hit 4 requests to surface.
const ALL_ATTEMPTS: u32 = 4;
/// A sync reads a failed page twice more, each time with the client's retries
/// (`PAGE_ATTEMPTS` in crates/payments-engine/src/sync.rs).
const ALL_PAGE_ATTEMPTS: u32 = 3 * ALL_ATTEMPTS;

/// Every admin route (rows 1–3, 6–23 of §2.1, then the console's additive ones), `{env}` to fill.
const ADMIN_ROUTES: [(Method, &str); 27] = [
    (Method::GET, "/api/payments/status"),
    (Method::GET, "/api/payments/config"),
    (Method::POST, "/api/payments/sync"),
    (Method::PUT, "/api/payments/{env}/config"),
    (Method::DELETE, "/api/payments/{env}/config"),
    (Method::POST, "/api/payments/{env}/sync"),
    (Method::POST, "/api/payments/{env}/webhook"),
    (Method::PUT, "/api/payments/{env}/webhook/forwarding-secret"),
    (Method::DELETE, "/api/payments/{env}/webhook/forwarding-secret"),
    (Method::GET, "/api/payments/{env}/catalog"),
    (Method::GET, "/api/payments/{env}/catalog/products"),
    (Method::GET, "/api/payments/{env}/catalog/products/prod_1"),
    (Method::POST, "/api/payments/{env}/catalog/products"),
    (Method::PATCH, "/api/payments/{env}/catalog/products/prod_1"),
    (Method::DELETE, "/api/payments/{env}/catalog/products/prod_1"),
    (Method::GET, "/api/payments/{env}/catalog/prices"),
    (Method::GET, "/api/payments/{env}/catalog/prices/price_1"),
    (Method::POST, "/api/payments/{env}/catalog/prices"),
    (Method::PATCH, "/api/payments/{env}/catalog/prices/price_1"),
    (Method::DELETE, "/api/payments/{env}/catalog/prices/price_1"),
    (Method::GET, "/api/payments/{env}/payment-history"),
    (Method::GET, "/api/payments/{env}/payment-history/summary"),
    (Method::GET, "/api/payments/{env}/subscriptions"),
    (Method::GET, "/api/payments/{env}/customers"),
    (Method::GET, "/api/payments/{env}/sync/progress"),
    (Method::GET, "/api/payments/{env}/webhook-events"),
    (Method::POST, "/api/payments/{env}/webhook-events/evt_1/reprocess"),
];

fn bad_env(raw: &str) -> String {
    format!("environment: Invalid enum value. Expected 'test' | 'live', received '{raw}'")
}

fn body_for(method: &Method) -> Option<Value> {
    (*method != Method::GET && *method != Method::DELETE).then(|| json!({}))
}

/// Adds a sandbox fault: the next `count` requests to `path_prefix` (with `method`, if given)
/// answer `status`.
async fn fault(h: &Harness, method: Option<&str>, path_prefix: &str, status: u16, count: u32) {
    h.add_fault(json!({"path_prefix": path_prefix, "method": method, "status": status, "count": count})).await;
}

/// Maps the billing subject `team/t1` of `env` to `customer`, as a completed checkout would.
async fn map_subject(h: &Harness, env: &str, customer: &str) {
    sqlx::query(
        "INSERT INTO payments_customer_mappings (id, environment, subject_type, subject_id, stripe_customer_id,
             created_at, updated_at) VALUES ($1, $2, 'team', 't1', $3, 0, 0)",
    )
    .bind(format!("map_{env}_{customer}"))
    .bind(env)
    .bind(customer)
    .execute(&h.pool)
    .await
    .unwrap();
}

/// A portal for team t1 (callers need a token granting it, see `subjects.rs`).
fn portal_body() -> Value {
    json!({"subject": {"type": "team", "id": "t1"}})
}

/// A stand-in for Stripe answering `(method, path prefix) → (status, body)`, first match wins;
/// anything else gets Stripe's 404. For refusals the sandbox cannot produce.
async fn stub_stripe(rules: Vec<(&'static str, &'static str, u16, Value)>) -> String {
    let rules = Arc::new(rules);
    let app = axum::Router::new().fallback(move |req: axum::extract::Request| {
        let rules = rules.clone();
        async move {
            let (method, path) = (req.method().as_str().to_owned(), req.uri().path().to_owned());
            let (status, body) = rules
                .iter()
                .find(|(m, p, _, _)| *m == method && path.starts_with(p))
                .map(|(_, _, s, b)| (*s, b.clone()))
                .unwrap_or_else(|| {
                    let message = format!("Unrecognized request URL ({method}: {path}).");
                    (404, json!({"error": {"type": "invalid_request_error", "message": message}}))
                });
            (AxumStatus::from_u16(status).unwrap(), axum::Json(body)).into_response()
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    base
}

fn stripe_error(kind: &str, message: &str) -> Value {
    json!({"error": {"type": kind, "message": message}})
}

/// A request with a raw (non-JSON-encoded) body.
async fn raw_request(base: &str, method: Method, path: &str, body: &'static str) -> Resp {
    let r = reqwest::Client::new()
        .request(method, format!("{base}{path}"))
        .bearer_auth(ADMIN_KEY)
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap();
    let status = r.status();
    let text = r.text().await.unwrap();
    Resp { status, body: serde_json::from_str(&text).unwrap_or(Value::String(text)) }
}

// ---------------------------------------------------------------------------------------------
// §1.2 guards, on every route.

#[tokio::test]
async fn the_admin_guard_answers_on_every_admin_route_before_validation() {
    let h = Harness::start().await;
    let jwt = |role: &str| Auth::Bearer(h.jwt(role, "u1"));
    let forged = Auth::Bearer(payments_engine::sign_hs256(&json!({"role": "project_admin"}), b"another-secret"));
    for (method, route) in ADMIN_ROUTES {
        // A valid and an invalid environment: the guard runs first (§1.4, §2.1).
        for env in ["test", "foo"] {
            let path = route.replace("{env}", env);
            let call = |auth: Auth| h.request(method.clone(), &path, body_for(&method), auth);
            call(Auth::None).await.err(401, "AUTH_INVALID_CREDENTIALS", "No admin token provided");
            call(Auth::Bearer("not.a.jwt".into())).await.err(401, "AUTH_INVALID_CREDENTIALS", "Invalid admin token");
            call(forged.clone()).await.err(401, "AUTH_INVALID_CREDENTIALS", "Invalid admin token");
            call(Auth::Bearer("ik_wrong".into())).await.err(401, "AUTH_INVALID_API_KEY", "Invalid API key");
            call(Auth::ApiKeyHeader("wrong".into())).await.err(401, "AUTH_INVALID_API_KEY", "Invalid API key");
            for role in ["anon", "authenticated"] {
                call(jwt(role)).await.err(403, "AUTH_UNAUTHORIZED", "Admin access required");
            }
        }
    }
    // Nothing got through.
    assert_eq!(h.scalar_i64("SELECT COUNT(*) FROM payments_secrets").await, 0);
    assert_eq!(h.sandbox.count("product"), Some(0));
}

#[tokio::test]
async fn read_only_callers_are_refused_on_every_admin_write() {
    let h = Harness::start().await;
    for (method, route) in ADMIN_ROUTES.into_iter().filter(|(m, _)| *m != Method::GET) {
        let path = route.replace("{env}", "test");
        h.request(method.clone(), &path, body_for(&method), Auth::Support).await.err(
            403,
            "AUTH_UNAUTHORIZED",
            "Admin access required",
        );
    }
}

#[tokio::test]
async fn the_user_guard_answers_on_both_runtime_routes_before_validation() {
    let h = Harness::start().await;
    for path in ["/api/payments/foo/checkout-sessions", "/api/payments/foo/customer-portal-sessions"] {
        let call = |auth: Auth| h.request(Method::POST, path, Some(json!({})), auth);
        call(Auth::None).await.err(401, "AUTH_INVALID_CREDENTIALS", "No token provided");
        call(Auth::Bearer("not.a.jwt".into())).await.err(401, "AUTH_INVALID_CREDENTIALS", "Invalid token");
        call(Auth::ApiKeyHeader("wrong".into())).await.err(401, "AUTH_INVALID_API_KEY", "Invalid API key");
    }
    // Expired user tokens are invalid too.
    let expired = payments_engine::sign_hs256(&json!({"role": "anon", "exp": 1_000_000_000}), JWT_SECRET);
    h.request(Method::POST, CHECKOUT, Some(json!({})), Auth::Bearer(expired)).await.err(
        401,
        "AUTH_INVALID_CREDENTIALS",
        "Invalid token",
    );
}

// ---------------------------------------------------------------------------------------------
// §1.4 path validation, on every route.

#[tokio::test]
async fn every_environment_route_validates_the_environment() {
    let h = Harness::start().await;
    for (method, route) in ADMIN_ROUTES.into_iter().filter(|(_, r)| r.contains("{env}")) {
        for raw in ["foo", "TEST", "prod"] {
            let path = route.replace("{env}", raw);
            h.request(method.clone(), &path, body_for(&method), Auth::Admin).await.err(
                400,
                "INVALID_INPUT",
                &bad_env(raw),
            );
        }
    }
    let anon = Auth::Bearer(h.jwt("anon", "a"));
    h.request(Method::POST, "/api/payments/LIVE/checkout-sessions", Some(checkout_body("payment", "p", None)), anon)
        .await
        .err(400, "INVALID_INPUT", &bad_env("LIVE"));
}

#[tokio::test]
async fn blank_object_ids_are_invalid_on_every_id_route() {
    let h = Harness::start().await;
    for method in [Method::GET, Method::PATCH, Method::DELETE] {
        let body = (method == Method::PATCH).then(|| json!({"active": false}));
        let r = h.request(method.clone(), "/api/payments/test/catalog/products/%20", body.clone(), Auth::Admin).await;
        r.err(400, "INVALID_INPUT", "productId: Stripe product id is required");
        let r = h.request(method.clone(), "/api/payments/test/catalog/prices/%20", body, Auth::Admin).await;
        r.err(400, "INVALID_INPUT", "priceId: Stripe price id is required");
    }
    // Path parameters are validated together, before the body.
    h.send(Method::PATCH, "/api/payments/foo/catalog/products/%20", json!({})).await.err(
        400,
        "INVALID_INPUT",
        &format!("{}, productId: Stripe product id is required", bad_env("foo")),
    );
    h.send(Method::POST, "/api/payments/test/webhook-events/%20/reprocess", json!({})).await.err(
        400,
        "INVALID_INPUT",
        "eventId: Stripe event id is required",
    );
}

#[tokio::test]
async fn malformed_json_bodies_are_invalid_input() {
    let h = Harness::start().await;
    for (method, path) in [
        (Method::PUT, "/api/payments/test/config"),
        (Method::POST, "/api/payments/test/catalog/products"),
        (Method::PATCH, "/api/payments/test/catalog/prices/price_1"),
    ] {
        raw_request(&h.base, method, path, "{\"name\":").await.err(
            400,
            "INVALID_INPUT",
            "Request body must be valid JSON",
        );
    }
    let r = reqwest::Client::new()
        .post(format!("{}{CHECKOUT}", h.base))
        .bearer_auth(h.jwt("anon", "a"))
        .header("content-type", "application/json")
        .body("not json")
        .send()
        .await
        .unwrap();
    let status = r.status();
    Resp { status, body: r.json().await.unwrap() }.err(400, "INVALID_INPUT", "Request body must be valid JSON");
}

#[tokio::test]
async fn body_rules_not_covered_by_the_route_modules() {
    let h = Harness::start().await;
    let prices = "/api/payments/test/catalog/prices";
    let price = |patch: Value| {
        let mut b = json!({"stripeProductId": "prod_1", "currency": "usd", "unitAmount": 100});
        b.as_object_mut().unwrap().extend(patch.as_object().unwrap().clone());
        b
    };
    let admin_cases: Vec<(Method, &str, Value, &str)> = vec![
        (
            Method::PUT,
            "/api/payments/test/config",
            json!({"secretKey": null}),
            "secretKey: Expected string, received null",
        ),
        (Method::POST, "/api/payments/test/catalog/products", json!("x"), ": Expected object, received string"),
        (
            Method::PATCH,
            "/api/payments/test/catalog/products/prod_1",
            json!({"description": "d".repeat(5001)}),
            "description: String must contain at most 5000 character(s)",
        ),
        (Method::POST, prices, price(json!({"unitAmount": null})), "unitAmount: Expected number, received null"),
        (
            Method::POST,
            prices,
            price(json!({"lookupKey": "k".repeat(201)})),
            "lookupKey: String must contain at most 200 character(s)",
        ),
        (
            Method::POST,
            prices,
            price(json!({"recurring": {"interval": "hour"}})),
            "recurring.interval: Invalid enum value. Expected 'day' | 'week' | 'month' | 'year', received 'hour'",
        ),
        (
            Method::POST,
            prices,
            price(json!({"recurring": {"interval": "month", "x": 1}})),
            "recurring: Unrecognized key(s) in object: 'x'",
        ),
        (
            Method::POST,
            prices,
            price(json!({"idempotencyKey": ""})),
            "idempotencyKey: String must contain at least 1 character(s)",
        ),
        (
            Method::PATCH,
            "/api/payments/test/catalog/prices/price_1",
            json!({"lookupKey": ""}),
            "lookupKey: String must contain at least 1 character(s)",
        ),
        (
            Method::PATCH,
            "/api/payments/test/catalog/prices/price_1",
            json!({"taxBehavior": "none"}),
            "taxBehavior: Invalid enum value. Expected 'exclusive' | 'inclusive' | 'unspecified', received 'none'",
        ),
    ];
    for (method, path, body, message) in admin_cases {
        h.send(method, path, body).await.err(400, "INVALID_INPUT", message);
    }
    let anon = Auth::Bearer(h.jwt("anon", "a"));
    let mut many = checkout_body("payment", "price_1", None);
    many["lineItems"] = json!(vec![json!({"stripePriceId": "price_1"}); 101]);
    let mut long_subject = checkout_body("payment", "price_1", None);
    long_subject["subject"] = json!({"type": "t".repeat(101), "id": "i".repeat(256)});
    for (body, message) in [
        (many, "lineItems: Array must contain at most 100 element(s)"),
        (
            long_subject,
            "subject.type: String must contain at most 100 character(s), \
             subject.id: String must contain at most 255 character(s)",
        ),
    ] {
        h.request(Method::POST, CHECKOUT, Some(body), anon.clone()).await.err(400, "INVALID_INPUT", message);
    }
    let user = Auth::Bearer(h.jwt("authenticated", "u"));
    let body = json!({"subject": {"type": "team", "id": "t1"}, "configuration": "c".repeat(256)});
    h.request(Method::POST, PORTAL, Some(body), user).await.err(
        400,
        "INVALID_INPUT",
        "configuration: String must contain at most 255 character(s)",
    );
}

// ---------------------------------------------------------------------------------------------
// Key configuration (§2.3 (2), (6), (7), (9); §5).

#[tokio::test]
async fn every_stripe_route_needs_a_configured_key() {
    let h = Harness::start().await;
    let price = json!({"stripeProductId": "prod_1", "currency": "usd", "unitAmount": 100});
    for (method, path, body) in [
        (Method::POST, "/api/payments/test/webhook", None),
        (Method::POST, "/api/payments/test/catalog/products", Some(json!({"name": "P"}))),
        (Method::PATCH, "/api/payments/test/catalog/products/prod_1", Some(json!({"name": "P"}))),
        (Method::DELETE, "/api/payments/test/catalog/products/prod_1", None),
        (Method::POST, "/api/payments/test/catalog/prices", Some(price)),
        (Method::PATCH, "/api/payments/test/catalog/prices/price_1", Some(json!({"active": false}))),
        (Method::DELETE, "/api/payments/test/catalog/prices/price_1", None),
    ] {
        h.request(method, path, body, Auth::Admin).await.err(400, "PAYMENT_CONFIG_INVALID", NO_TEST_KEY);
    }
    let anon = Auth::Bearer(h.jwt("anon", "a"));
    h.request(Method::POST, CHECKOUT, Some(checkout_body("payment", "price_1", None)), anon).await.err(
        400,
        "PAYMENT_CONFIG_INVALID",
        NO_TEST_KEY,
    );
    // The portal looks the subject up first (404 without a mapping), then needs the key.
    map_subject(&h, "live", "cus_1").await;
    let user = Auth::Bearer(h.jwt_granting("authenticated", "u", &["team:t1"]));
    h.request(Method::POST, "/api/payments/live/customer-portal-sessions", Some(portal_body()), user).await.err(
        400,
        "PAYMENT_CONFIG_INVALID",
        "STRIPE_LIVE_SECRET_KEY is not configured",
    );
    // Removing a key that was never set.
    h.delete("/api/payments/live/config").await.err(404, "PAYMENT_CONFIG_NOT_FOUND", "No Stripe key configured");
    // Sync is not an HTTP error (§2.3 (3)/(8)): the failure is in the body.
    let r = h.send(Method::POST, "/api/payments/test/sync", json!({})).await.ok(200).clone();
    assert_eq!(r["results"][0]["connection"]["lastSyncStatus"], "failed");
    assert_eq!(r["results"][0]["connection"]["lastSyncError"], NO_TEST_KEY);
    assert_eq!(r["results"][0]["subscriptions"], Value::Null);
}

#[tokio::test]
async fn a_stored_key_with_the_wrong_prefix_is_config_invalid() {
    let h = Harness::start().await;
    h.configure(TEST_KEY).await;
    sqlx::query("UPDATE payments_secrets SET value_sealed = $1 WHERE name = 'STRIPE_TEST_SECRET_KEY'")
        .bind(TestSealer.seal("sk_live_51AbCdEfGhIjKlMnOp1234"))
        .execute(&h.pool)
        .await
        .unwrap();
    let message = "STRIPE_TEST_SECRET_KEY must start with sk_test_";
    h.get("/api/payments/config").await.err(400, "PAYMENT_CONFIG_INVALID", message);
    h.send(Method::POST, "/api/payments/test/catalog/products", json!({"name": "P"})).await.err(
        400,
        "PAYMENT_CONFIG_INVALID",
        message,
    );
    h.send(Method::PUT, "/api/payments/test/config", json!({"secretKey": TEST_KEY})).await.err(
        400,
        "PAYMENT_CONFIG_INVALID",
        message,
    );
    // Deviation (README): status still renders (the reference would answer 500), and the key
    // can be removed.
    assert_eq!(h.get("/api/payments/status").await.ok(200)["connections"][0]["maskedKey"], "sk_live_****1234");
    h.delete("/api/payments/test/config").await.ok(200);
}

#[tokio::test]
async fn a_key_without_permission_is_config_invalid_with_stripes_403() {
    let message = "The provided key 'sk_test_********1234' does not have the required permissions for this endpoint \
                   on account 'acct_1'.";
    let stripe = stub_stripe(vec![("GET", "/v1/account", 403, stripe_error("invalid_request_error", message))]).await;
    let h = Harness::start().await;
    let (base, _engine) = serve_engine(&h.pool, &stripe).await;
    let http = reqwest::Client::new();
    request(&http, &base, Method::PUT, "/api/payments/test/config", Some(json!({"secretKey": TEST_KEY})), Auth::Admin)
        .await
        .err(403, "PAYMENT_CONFIG_INVALID", message);
    assert_eq!(h.scalar_i64("SELECT COUNT(*) FROM payments_secrets").await, 0);
}

#[tokio::test]
async fn a_revoked_key_on_a_catalog_write_is_config_invalid_with_stripes_401() {
    let h = Harness::start().await;
    h.configure(TEST_KEY).await;
    let message = "Invalid API Key provided: sk_test_************1234";
    let stripe = stub_stripe(vec![("POST", "/v1/products", 401, stripe_error("authentication_error", message))]).await;
    let (base, _engine) = serve_engine(&h.pool, &stripe).await;
    let path = "/api/payments/test/catalog/products";
    request(&reqwest::Client::new(), &base, Method::POST, path, Some(json!({"name": "P"})), Auth::Admin).await.err(
        401,
        "PAYMENT_CONFIG_INVALID",
        message,
    );
}

#[tokio::test]
async fn webhook_configure_without_a_public_url_is_config_invalid() {
    let h = Harness::start().await;
    h.configure(TEST_KEY).await;
    // A second engine on the same database, without a public URL (README deviation).
    let config = EngineConfig::new(h.pool.clone(), Arc::new(TestSealer), h.sandbox_base.parse().unwrap());
    let engine = Engine::new(config).await.unwrap();
    let app = engine.router(Arc::new(SimpleAuthenticator::new(&[ADMIN_KEY], &[], JWT_SECRET)));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    request(&reqwest::Client::new(), &base, Method::POST, "/api/payments/test/webhook", None, Auth::Admin).await.err(
        400,
        "PAYMENT_CONFIG_INVALID",
        "A public URL must be configured before creating the Stripe webhook",
    );
}

#[tokio::test]
async fn webhook_configure_without_a_signing_secret_from_stripe_is_a_500() {
    let h = Harness::start().await;
    h.configure(TEST_KEY).await;
    let stripe = stub_stripe(vec![
        ("GET", "/v1/account", 200, json!({"id": "acct_1", "object": "account", "email": null})),
        ("GET", "/v1/webhook_endpoints", 200, json!({"object": "list", "data": [], "has_more": false})),
        ("POST", "/v1/webhook_endpoints", 200, json!({"id": "we_1", "object": "webhook_endpoint", "url": "x"})),
    ])
    .await;
    let (base, _engine) = serve_engine(&h.pool, &stripe).await;
    request(&reqwest::Client::new(), &base, Method::POST, "/api/payments/test/webhook", None, Auth::Admin).await.err(
        500,
        "INTERNAL_ERROR",
        "Stripe did not return a webhook signing secret for the managed endpoint",
    );
}

// ---------------------------------------------------------------------------------------------
// §1.5 Stripe error normalisation: 4xx refusals from the sandbox.

#[tokio::test]
async fn stripe_refusals_of_missing_objects_are_upstream_failures_with_stripes_status() {
    let h = Harness::start().await;
    h.configure(TEST_KEY).await;
    let products = "/api/payments/test/catalog/products";
    let prices = "/api/payments/test/catalog/prices";
    let no_product = "No such product: 'prod_missing'";
    let no_price = "No such price: 'price_missing'";
    h.send(Method::PATCH, &format!("{products}/prod_missing"), json!({"name": "x"})).await.err(
        404,
        "UPSTREAM_FAILURE",
        no_product,
    );
    h.delete(&format!("{products}/prod_missing")).await.err(404, "UPSTREAM_FAILURE", no_product);
    h.send(Method::POST, prices, json!({"stripeProductId": "prod_missing", "currency": "usd", "unitAmount": 100}))
        .await
        .err(400, "UPSTREAM_FAILURE", no_product);
    h.send(Method::PATCH, &format!("{prices}/price_missing"), json!({"active": true})).await.err(
        404,
        "UPSTREAM_FAILURE",
        no_price,
    );
    h.delete(&format!("{prices}/price_missing")).await.err(404, "UPSTREAM_FAILURE", no_price);
    // Runtime routes: a bad price (§2.3 (4)) and a mapped customer Stripe does not know.
    let anon = Auth::Bearer(h.jwt("anon", "a"));
    h.request(Method::POST, CHECKOUT, Some(checkout_body("payment", "price_missing", None)), anon).await.err(
        400,
        "UPSTREAM_FAILURE",
        no_price,
    );
    map_subject(&h, "test", "cus_missing").await;
    let user = Auth::Bearer(h.jwt_granting("authenticated", "u", &["team:t1"]));
    h.request(Method::POST, PORTAL, Some(portal_body()), user).await.err(
        400,
        "UPSTREAM_FAILURE",
        "No such customer: 'cus_missing'",
    );
    // Nothing reached the mirror.
    assert_eq!(h.scalar_i64("SELECT COUNT(*) FROM payments_prices").await, 0);
}

#[tokio::test]
async fn a_reused_idempotency_key_is_an_upstream_failure() {
    let h = Harness::start().await;
    h.configure(TEST_KEY).await;
    let path = "/api/payments/test/catalog/products";
    h.send(Method::POST, path, json!({"name": "A", "idempotencyKey": "k1"})).await.ok(201);
    let r = h.send(Method::POST, path, json!({"name": "B", "idempotencyKey": "k1"})).await;
    let message = r.body["message"].as_str().unwrap_or_default().to_owned();
    assert!(message.starts_with("Keys for idempotent requests"), "{}", r.body);
    r.err(400, "UPSTREAM_FAILURE", &message);
}

#[tokio::test]
async fn a_declined_card_at_checkout_is_payment_method_declined() {
    let h = Harness::start().await;
    h.configure(TEST_KEY).await;
    let mut declined = stripe_error("card_error", "Your card was declined.");
    declined["error"]["code"] = json!("card_declined");
    declined["error"]["decline_code"] = json!("generic_decline");
    let stripe = stub_stripe(vec![("POST", "/v1/checkout/sessions", 402, declined)]).await;
    let (base, _engine) = serve_engine(&h.pool, &stripe).await;
    let anon = Auth::Bearer(h.jwt("anon", "a"));
    request(
        &reqwest::Client::new(),
        &base,
        Method::POST,
        CHECKOUT,
        Some(checkout_body("payment", "price_1", None)),
        anon,
    )
    .await
    .err(402, "PAYMENT_METHOD_DECLINED", "Your card was declined.");
    let (status, last_error): (String, Option<String>) =
        sqlx::query_as("SELECT status, last_error FROM payments_checkout_sessions").fetch_one(&h.pool).await.unwrap();
    assert_eq!((status.as_str(), last_error.as_deref()), ("failed", Some("Your card was declined.")));
}

#[tokio::test]
async fn a_portal_session_without_url_is_a_500() {
    let h = Harness::start().await;
    h.configure(TEST_KEY).await;
    map_subject(&h, "test", "cus_1").await;
    let stripe = stub_stripe(vec![(
        "POST",
        "/v1/billing_portal/sessions",
        200,
        json!({"id": "bps_1", "object": "billing_portal.session", "customer": "cus_1", "url": null}),
    )])
    .await;
    let (base, _engine) = serve_engine(&h.pool, &stripe).await;
    let user = Auth::Bearer(h.jwt_granting("authenticated", "u", &["team:t1"]));
    request(&reqwest::Client::new(), &base, Method::POST, PORTAL, Some(portal_body()), user).await.err(
        500,
        "INTERNAL_ERROR",
        "Stripe did not return a customer portal URL",
    );
}

#[tokio::test]
async fn an_unreachable_stripe_is_a_502_upstream_failure() {
    let h = Harness::start().await;
    h.configure(TEST_KEY).await;
    // A port nobody listens on.
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}", l.local_addr().unwrap())
    };
    let (base, _engine) = serve_engine(&h.pool, &closed).await;
    let path = "/api/payments/test/catalog/products";
    request(&reqwest::Client::new(), &base, Method::POST, path, Some(json!({"name": "P"})), Auth::Admin).await.err(
        502,
        "UPSTREAM_FAILURE",
        "Could not reach Stripe",
    );
}

// ---------------------------------------------------------------------------------------------
// §1.5 Stripe error normalisation: 429 and 5xx through sandbox faults, after the retries.

#[tokio::test]
async fn rate_limits_on_key_setup_are_rate_limited_after_the_retries() {
    let h = Harness::start().await;
    fault(&h, Some("GET"), "/v1/account", 429, ALL_ATTEMPTS).await;
    h.send(Method::PUT, "/api/payments/test/config", json!({"secretKey": TEST_KEY})).await.err(
        429,
        "RATE_LIMITED",
        RATE_LIMIT_MESSAGE,
    );
    assert_eq!(h.scalar_i64("SELECT COUNT(*) FROM payments_secrets").await, 0);
}

#[tokio::test]
async fn stripe_server_errors_on_key_setup_are_upstream_failures() {
    let h = Harness::start().await;
    fault(&h, Some("GET"), "/v1/account", 503, ALL_ATTEMPTS).await;
    h.send(Method::PUT, "/api/payments/test/config", json!({"secretKey": TEST_KEY})).await.err(
        503,
        "UPSTREAM_FAILURE",
        SERVER_ERROR_MESSAGE,
    );
}

#[tokio::test]
async fn rate_limits_on_catalog_writes_are_rate_limited_and_fewer_faults_are_retried_away() {
    let h = Harness::start().await;
    h.configure(TEST_KEY).await;
    let path = "/api/payments/test/catalog/products";
    fault(&h, Some("POST"), "/v1/products", 429, ALL_ATTEMPTS).await;
    h.send(Method::POST, path, json!({"name": "P"})).await.err(429, "RATE_LIMITED", RATE_LIMIT_MESSAGE);
    // Three failures are absorbed by the client's three retries.
    fault(&h, Some("POST"), "/v1/products", 429, ALL_ATTEMPTS - 1).await;
    h.send(Method::POST, path, json!({"name": "P"})).await.ok(201);
}

#[tokio::test]
async fn stripe_server_errors_on_catalog_writes_are_upstream_failures() {
    let h = Harness::start().await;
    h.configure(TEST_KEY).await;
    fault(&h, Some("POST"), "/v1/prices/", 502, ALL_ATTEMPTS).await;
    h.send(Method::PATCH, "/api/payments/test/catalog/prices/price_1", json!({"active": true})).await.err(
        502,
        "UPSTREAM_FAILURE",
        SERVER_ERROR_MESSAGE,
    );
    fault(&h, Some("DELETE"), "/v1/products/", 500, ALL_ATTEMPTS).await;
    h.delete("/api/payments/test/catalog/products/prod_1").await.err(500, "UPSTREAM_FAILURE", SERVER_ERROR_MESSAGE);
}

#[tokio::test]
async fn stripe_failures_at_checkout_are_normalised_and_fail_the_local_row() {
    let h = Harness::start().await;
    h.configure(TEST_KEY).await;
    let anon = Auth::Bearer(h.jwt("anon", "a"));
    fault(&h, Some("POST"), "/v1/checkout/sessions", 429, ALL_ATTEMPTS).await;
    h.request(Method::POST, CHECKOUT, Some(checkout_body("payment", "price_1", None)), anon.clone()).await.err(
        429,
        "RATE_LIMITED",
        RATE_LIMIT_MESSAGE,
    );
    fault(&h, Some("POST"), "/v1/checkout/sessions", 500, ALL_ATTEMPTS).await;
    h.request(Method::POST, CHECKOUT, Some(checkout_body("payment", "price_1", None)), anon).await.err(
        500,
        "UPSTREAM_FAILURE",
        SERVER_ERROR_MESSAGE,
    );
    let failed = h.scalar_i64("SELECT COUNT(*) FROM payments_checkout_sessions WHERE status = 'failed'").await;
    assert_eq!(failed, 2);
}

#[tokio::test]
async fn stripe_failures_at_the_portal_are_normalised() {
    let h = Harness::start().await;
    h.configure(TEST_KEY).await;
    map_subject(&h, "test", "cus_1").await;
    let user = Auth::Bearer(h.jwt_granting("authenticated", "u", &["team:t1"]));
    fault(&h, Some("POST"), "/v1/billing_portal/sessions", 503, ALL_ATTEMPTS).await;
    h.request(Method::POST, PORTAL, Some(portal_body()), user).await.err(503, "UPSTREAM_FAILURE", SERVER_ERROR_MESSAGE);
}

#[tokio::test]
async fn stripe_failures_of_webhook_configure_propagate() {
    let h = Harness::start().await;
    h.configure(TEST_KEY).await;
    fault(&h, None, "/v1/webhook_endpoints", 500, ALL_ATTEMPTS).await;
    h.send(Method::POST, "/api/payments/test/webhook", json!({})).await.err(
        500,
        "UPSTREAM_FAILURE",
        SERVER_ERROR_MESSAGE,
    );
    fault(&h, Some("GET"), "/v1/account", 429, ALL_ATTEMPTS).await;
    h.send(Method::POST, "/api/payments/test/webhook", json!({})).await.err(429, "RATE_LIMITED", RATE_LIMIT_MESSAGE);
}

#[tokio::test]
async fn stripe_failures_during_sync_are_reported_in_a_200() {
    let h = Harness::start().await;
    h.configure(TEST_KEY).await;
    fault(&h, Some("GET"), "/v1/account", 500, ALL_ATTEMPTS).await;
    let r = h.send(Method::POST, "/api/payments/test/sync", json!({})).await.ok(200).clone();
    let connection = &r["results"][0]["connection"];
    assert_eq!(connection["lastSyncStatus"], "failed", "{r}");
    assert_eq!(connection["lastSyncError"], SERVER_ERROR_MESSAGE, "{r}");
    assert_eq!(r["results"][0]["subscriptions"], Value::Null);
}

#[tokio::test]
async fn best_effort_stripe_failures_of_key_setup_and_removal_do_not_fail_the_request() {
    let h = Harness::start().await;
    // §5.2: the managed webhook is best-effort and the initial sync records its own failure.
    fault(&h, None, "/v1/webhook_endpoints", 500, ALL_ATTEMPTS).await;
    fault(&h, Some("GET"), "/v1/products", 500, ALL_PAGE_ATTEMPTS).await;
    let r = h.send(Method::PUT, "/api/payments/test/config", json!({"secretKey": TEST_KEY})).await;
    assert_eq!(r.ok(200)["keys"][0]["hasKey"], true);
    let status = h.get("/api/payments/status").await.ok(200)["connections"][0].clone();
    assert_eq!(status["status"], "error", "{status}");
    assert_eq!(status["webhookEndpointId"], Value::Null, "{status}");
    assert_eq!(status["lastSyncStatus"], "failed", "{status}");
    assert_eq!(status["lastSyncError"], SERVER_ERROR_MESSAGE, "{status}");
    // §5.4: removing the managed endpoints is best-effort too.
    fault(&h, None, "/v1/webhook_endpoints", 500, ALL_ATTEMPTS).await;
    assert_eq!(h.delete("/api/payments/test/config").await.ok(200)["keys"][0]["hasKey"], false);
}

// ---------------------------------------------------------------------------------------------
// (24) The webhook receiver.

#[tokio::test]
async fn receiver_failures_not_covered_by_the_signature_tests() {
    let h = Harness::start().await;
    let body = json!({"id": "evt_x", "type": "customer.created", "data": {"object": {"id": "cus_x"}}}).to_string();
    post_raw(&h.base, "live", &body, Some("t=1,v1=00".into())).await.err(
        500,
        "INTERNAL_ERROR",
        "STRIPE_LIVE_WEBHOOK_SECRET is not configured",
    );
    h.configure(TEST_KEY).await;
    let secret = webhook_secret(&h).await;
    // Not a raw JSON body.
    let r = reqwest::Client::new()
        .post(format!("{}/api/webhooks/stripe/test", h.base))
        .header("content-type", "text/plain")
        .header("stripe-signature", "t=1,v1=00")
        .body(body.clone())
        .send()
        .await
        .unwrap();
    let status = r.status();
    Resp { status, body: r.json().await.unwrap() }.err(
        400,
        "INVALID_INPUT",
        "Stripe webhook requires raw request body",
    );
    // Signed, but not an event.
    for (payload, message) in
        [("not json", "Webhook payload is not valid JSON"), ("{\"type\":\"x\"}", "Webhook event has no id")]
    {
        let sig = sign_webhook_payload(payload.as_bytes(), &secret, unix_now());
        post_raw(&h.base, "test", payload, Some(sig)).await.err(400, "INVALID_INPUT", message);
    }
    // A webhook secret but no active key (removed straight in the database, as another
    // instance would: noticed within the receiver's cache second).
    sqlx::query("UPDATE payments_secrets SET is_active = 0 WHERE name = 'STRIPE_TEST_SECRET_KEY'")
        .execute(&h.pool)
        .await
        .unwrap();
    let signed = |_| post_raw(&h.base, "test", &body, Some(sign_webhook_payload(body.as_bytes(), &secret, unix_now())));
    crate::webhooks::until_answered(400, signed).await.err(400, "PAYMENT_CONFIG_INVALID", NO_TEST_KEY);
    // Unknown methods and paths of the receiver.
    let r = h.request(Method::GET, "/api/webhooks/stripe/test", None, Auth::None).await;
    r.err(404, "NOT_FOUND", "Endpoint /api/webhooks/stripe/test not found");
}

#[tokio::test]
async fn a_stripe_failure_while_applying_an_event_is_a_500_and_the_event_is_failed() {
    let h = Harness::start().await;
    h.configure(TEST_KEY).await;
    let secret = webhook_secret(&h).await;
    // A refund of a payment the history does not know: its PaymentIntent is fetched from Stripe,
    // which does not know it either. Not normalised on this route (§1.5).
    let event = json!({
        "id": "evt_refund", "object": "event", "type": "refund.created", "created": unix_now(), "livemode": false,
        "data": {"object": {"id": "re_1", "object": "refund", "amount": 100, "currency": "usd",
                            "payment_intent": "pi_missing", "status": "succeeded", "created": unix_now()}}
    });
    post_event(&h.base, &secret, &event).await.err(500, "INTERNAL_ERROR", "No such payment_intent: 'pi_missing'");
    let (status, error): (String, Option<String>) = sqlx::query_as(
        "SELECT processing_status, last_error FROM payments_webhook_events WHERE stripe_event_id = 'evt_refund'",
    )
    .fetch_one(&h.pool)
    .await
    .unwrap();
    assert_eq!((status.as_str(), error.as_deref()), ("failed", Some("No such payment_intent: 'pi_missing'")));
    // The admin re-process route is an admin route that calls Stripe: normalised there.
    h.send(Method::POST, "/api/payments/test/webhook-events/evt_refund/reprocess", json!({})).await.err(
        404,
        "UPSTREAM_FAILURE",
        "No such payment_intent: 'pi_missing'",
    );
}

// ---------------------------------------------------------------------------------------------
// §1.3 unknown endpoints (only for paths matching no route; §11.2).

#[tokio::test]
async fn unknown_endpoints_and_methods_are_not_found_after_the_guard() {
    let h = Harness::start().await;
    for (method, path) in [
        (Method::GET, "/api/payments/test/config"),
        (Method::DELETE, "/api/payments/status"),
        (Method::PUT, "/api/payments/test/catalog"),
        (Method::GET, "/api/payments/test/checkout-sessions"),
        (Method::GET, "/api/payments/test/subscriptions/sub_1"),
        // (`POST /{env}/refunds` is the engine's own, additive; disputes are not.)
        (Method::POST, "/api/payments/test/disputes"),
        (Method::GET, "/api/payments"),
    ] {
        let r = h.request(method.clone(), path, None, Auth::Admin).await;
        r.err(404, "NOT_FOUND", &format!("Endpoint {path} not found"));
        assert_eq!(r.body["nextActions"], "Please check the API documentation for available endpoints");
        h.request(method, path, None, Auth::None).await.err(401, "AUTH_INVALID_CREDENTIALS", "No admin token provided");
    }
    h.get("/api/payments/test/nope?x=1").await.err(404, "NOT_FOUND", "Endpoint /api/payments/test/nope?x=1 not found");
}

// ---------------------------------------------------------------------------------------------
// §1.3 anything else: 500 `INTERNAL_ERROR`, its cause only in the log (README deviation).

#[tokio::test]
async fn a_database_failure_is_an_internal_error_without_its_cause() {
    let h = Harness::start().await;
    sqlx::query("DROP TABLE payments_products").execute(&h.pool).await.unwrap();
    h.get("/api/payments/test/catalog").await.err(500, "INTERNAL_ERROR", "Internal server error");
    h.get("/api/payments/test/catalog/products/prod_1").await.err(500, "INTERNAL_ERROR", "Internal server error");
}
