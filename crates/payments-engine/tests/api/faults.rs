//! Stripe faults (issue #9): while a share of Stripe's answers are 429s and 5xx, or are lost after
//! Stripe acted on the request, catalog writes and checkouts still happen exactly once (the
//! retries carry the first attempt's idempotency key), a failure that outlasts the retries is the
//! contract's error, and a sync converges on what Stripe holds.

use reqwest::Method;
use serde_json::{json, Value};

use crate::common::*;
use crate::runtime::{catalog, checkout_body, CHECKOUT};

/// How many of the sandbox's `object`s match `pred`.
fn count_where(h: &Harness, object: &str, pred: impl Fn(&Value) -> bool) -> usize {
    h.sandbox.list(object).unwrap().iter().filter(|o| pred(o)).count()
}

#[tokio::test]
async fn catalog_writes_through_lost_replies_and_errors_happen_exactly_once() {
    let h = Harness::start().await;
    h.configure(TEST_KEY).await;
    // Every third product and price creation is carried out by Stripe but its reply is lost (500 or
    // 503), and every fourth is refused with a 429 before Stripe does anything.
    for (path, status) in [("/v1/products", 500), ("/v1/prices", 503)] {
        h.add_fault(
            json!({"path_prefix": path, "method": "POST", "status": status, "after": true, "every": 3, "count": 100}),
        )
        .await;
        h.add_fault(json!({"path_prefix": path, "method": "POST", "status": 429, "every": 4, "count": 100})).await;
    }
    let mut products = Vec::new();
    for i in 0..12 {
        let name = format!("Faulty {i}");
        let r = h.send(Method::POST, "/api/payments/test/catalog/products", json!({"name": name})).await;
        let product = r.ok(201)["product"]["stripeProductId"].as_str().unwrap().to_owned();
        let r = h
            .send(
                Method::POST,
                "/api/payments/test/catalog/prices",
                json!({"stripeProductId": product, "currency": "usd", "unitAmount": 100 + i}),
            )
            .await;
        r.ok(201);
        products.push((name, product));
    }
    for (name, id) in &products {
        assert_eq!(count_where(&h, "product", |p| p["name"] == name.as_str()), 1, "{name} created once at Stripe");
        assert_eq!(count_where(&h, "price", |p| p["product"] == id.as_str()), 1, "one price for {name} at Stripe");
    }
    assert_eq!(
        h.scalar_i64("SELECT COUNT(*) FROM payments_products WHERE name LIKE 'Faulty %'").await,
        12,
        "the mirror holds each product once"
    );

    // A failure that outlasts every retry is the contract's error, and nothing is half-made.
    h.clear_faults().await;
    h.add_fault(json!({"path_prefix": "/v1/products", "method": "POST", "status": 500, "count": 10})).await;
    h.send(Method::POST, "/api/payments/test/catalog/products", json!({"name": "Never"})).await.err(
        500,
        "UPSTREAM_FAILURE",
        "An unknown error occurred while processing your request. Please try again.",
    );
    assert_eq!(count_where(&h, "product", |p| p["name"] == "Never"), 0);
    assert_eq!(h.scalar_i64("SELECT COUNT(*) FROM payments_products WHERE name = 'Never'").await, 0);
    h.clear_faults().await;
    h.add_fault(json!({"path_prefix": "/v1/products", "method": "POST", "status": 429, "count": 10})).await;
    let r = h.send(Method::POST, "/api/payments/test/catalog/products", json!({"name": "Throttled"})).await;
    assert_eq!((r.status.as_u16(), r.body["error"].as_str()), (429, Some("RATE_LIMITED")), "{}", r.body);
    assert_eq!(count_where(&h, "product", |p| p["name"] == "Throttled"), 0);
}

#[tokio::test]
async fn checkouts_through_lost_replies_create_one_stripe_session_each() {
    let h = Harness::start().await;
    let (_, one_time) = catalog(&h).await;
    h.add_fault(
        json!({"path_prefix": "/v1/checkout/sessions", "method": "POST", "status": 500, "after": true, "every": 2,
               "count": 100}),
    )
    .await;
    let before = h.sandbox.count("checkout.session").unwrap();
    let token = h.jwt("authenticated", "u-faults");
    for i in 0..8 {
        let mut body = checkout_body("payment", &one_time, Some(("user", "u-faults")));
        body["metadata"] = json!({"order_id": format!("faults-{i}")});
        let r = h.request(Method::POST, CHECKOUT, Some(body), Auth::Bearer(token.clone())).await;
        assert!(r.ok(201)["checkoutSession"]["url"].as_str().is_some());
    }
    assert_eq!(h.sandbox.count("checkout.session").unwrap(), before + 8, "one Stripe session per checkout");
    assert_eq!(h.scalar_i64("SELECT COUNT(*) FROM payments_checkout_sessions WHERE status = 'open'").await, 8);
}

#[tokio::test]
async fn a_sync_through_failing_reads_converges_on_what_stripe_holds() {
    let h = Harness::start().await;
    h.sandbox.seed_size(300);
    h.configure(TEST_KEY).await;
    // Stripe changes behind the mirror's back: new objects, and the first sync's rows are stale.
    h.sandbox.seed_size(150);
    // About one read in five fails: 500, 502 or 429, each with its own rhythm.
    for (status, every) in [(500, 10), (502, 15), (429, 20)] {
        h.add_fault(json!({"path_prefix": "/v1/", "method": "GET", "status": status, "every": every, "count": 10_000}))
            .await;
    }
    // And one outage outlasts the client's retries (4 attempts) on a page of customers.
    h.add_fault(json!({"path_prefix": "/v1/customers", "method": "GET", "status": 503, "count": 5})).await;
    let r = h.send(Method::POST, "/api/payments/test/sync", json!({})).await;
    let body = r.ok(200).clone();
    assert_eq!(body["results"][0]["connection"]["lastSyncStatus"], "succeeded", "{body}");
    let mirror = |table: &'static str| {
        let h = &h;
        async move { h.scalar_i64(&format!("SELECT COUNT(*) FROM {table}")).await }
    };
    assert_eq!(mirror("payments_products").await, h.sandbox.count("product").unwrap() as i64);
    assert_eq!(mirror("payments_prices").await, h.sandbox.count("price").unwrap() as i64);
    assert_eq!(
        h.scalar_i64("SELECT COUNT(*) FROM payments_customers WHERE deleted = 0").await,
        h.sandbox.count("customer").unwrap() as i64
    );
    assert_eq!(mirror("payments_subscriptions").await, h.sandbox.count("subscription").unwrap() as i64);
    assert!(h.sandbox.faults_hit() >= 10, "the faults were hit: {}", h.sandbox.faults_hit());
}
