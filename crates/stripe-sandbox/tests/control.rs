//! Sandbox-only routes: faults, reset, seeds (including their timing).

mod common;

use std::collections::{BTreeSet, HashSet};
use std::time::{Duration, Instant};

use common::start;
use serde_json::{json, Value};
use stripe_sandbox::{Sandbox, SandboxConfig};

#[tokio::test]
async fn faults_hit_the_next_n_matching_requests() {
    let s = start().await;
    let r = s.control("/_sandbox/faults", json!({"path_prefix": "/v1/customers", "count": 2, "status": 429})).await;
    assert!(r.ok()["id"].as_str().unwrap().starts_with("fault_"));
    // Other paths are unaffected.
    s.get("/v1/products", &[]).await.ok();
    for _ in 0..2 {
        let r = s.get("/v1/customers", &[]).await;
        let err = r.assert_error(429, "invalid_request_error", Some("rate_limit"));
        assert!(err["message"].as_str().unwrap().contains("rate limit"));
        assert!(r.header("request-id").is_some());
    }
    s.get("/v1/customers", &[]).await.ok();
    assert!(s.control_get("/_sandbox/faults").await.body["data"].as_array().unwrap().is_empty());

    s.control("/_sandbox/faults", json!({"path_prefix": "/v1/products", "method": "post", "status": 503})).await.ok();
    s.get("/v1/products", &[]).await.ok(); // GET does not match
    let r = s.post("/v1/products", &[("name", "x")]).await;
    r.assert_error(503, "api_error", None);
    assert!(
        s.get("/v1/products", &[]).await.body["data"].as_array().unwrap().is_empty(),
        "a faulted request changes nothing"
    );

    s.control("/_sandbox/faults", json!({"path_prefix": "/v1/account", "count": 1, "status": 500})).await.ok();
    s.get("/v1/account", &[]).await.assert_error(500, "api_error", None);

    s.control("/_sandbox/faults", json!({"path_prefix": "/v1/account", "delay_ms": 300})).await.ok();
    let t = Instant::now();
    s.get("/v1/account", &[]).await.ok();
    assert!(t.elapsed() >= Duration::from_millis(300));
    let t = Instant::now();
    s.get("/v1/account", &[]).await.ok();
    assert!(t.elapsed() < Duration::from_millis(300), "the delay applied once");

    let bad = s.control("/_sandbox/faults", json!({"path_prefix": "/v1", "status": 418})).await;
    assert_eq!(bad.status, 400);
    let bad = s.control("/_sandbox/faults", json!({"path_prefix": "/_sandbox", "status": 500})).await;
    assert_eq!(bad.status, 400);

    s.control("/_sandbox/faults", json!({"path_prefix": "/v1", "count": 5, "status": 500})).await.ok();
    let cleared = s.http.delete(format!("{}/_sandbox/faults", s.base)).send().await.unwrap();
    assert_eq!(cleared.status(), 200);
    s.get("/v1/account", &[]).await.ok();
}

#[tokio::test]
async fn reset_drops_everything() {
    let s = start().await;
    s.post("/v1/customers", &[("email", "a@x.test")]).await.ok();
    s.post("/v1/webhook_endpoints", &[("url", "https://e.test/h"), ("enabled_events[]", "*")]).await.ok();
    s.control("/_sandbox/reset", json!({})).await.ok();
    assert!(s.get("/v1/customers", &[]).await.body["data"].as_array().unwrap().is_empty());
    assert!(s.get("/v1/events", &[]).await.body["data"].as_array().unwrap().is_empty());
    assert!(s.get("/v1/webhook_endpoints", &[]).await.body["data"].as_array().unwrap().is_empty());
    assert_eq!(s.sandbox.count("customer"), Some(0));
}

async fn all(s: &common::Server, path: &str, extra: &[(&str, &str)]) -> Vec<Value> {
    let mut q = vec![("limit", "100")];
    q.extend_from_slice(extra);
    let r = s.get(path, &q).await;
    assert_eq!(r.ok()["has_more"], json!(false));
    r.body["data"].as_array().unwrap().clone()
}

#[tokio::test]
async fn demo_seed_is_realistic() {
    let s = start().await;
    let r = s.control("/_sandbox/seed", json!({"preset": "demo"})).await;
    r.ok();

    let products = all(&s, "/v1/products", &[]).await;
    assert!((3..=6).contains(&products.len()), "{} products", products.len());
    assert!(products.iter().all(|p| p["default_price"].is_string()));
    let prices = all(&s, "/v1/prices", &[]).await;
    let intervals: BTreeSet<&str> = prices.iter().filter_map(|p| p["recurring"]["interval"].as_str()).collect();
    assert_eq!(intervals, BTreeSet::from(["month", "year"]));
    assert!(prices.iter().any(|p| p["type"] == "one_time"));
    let by_key = all(&s, "/v1/prices", &[("lookup_keys[]", "pro_monthly")]).await;
    assert_eq!(by_key.len(), 1);

    let customers = all(&s, "/v1/customers", &[]).await;
    assert!((6..=10).contains(&customers.len()));
    let subjects: HashSet<(String, String)> = customers
        .iter()
        .map(|c| {
            (
                c["metadata"]["insforge_subject_type"].as_str().unwrap().to_owned(),
                c["metadata"]["insforge_subject_id"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    for (t, id) in [("team", "acme"), ("user", "42"), ("team", "globex"), ("org", "initech")] {
        assert!(subjects.contains(&(t.to_owned(), id.to_owned())), "missing {t}/{id}");
    }

    let subs = all(&s, "/v1/subscriptions", &[("status", "all")]).await;
    let statuses: BTreeSet<&str> = subs.iter().map(|s| s["status"].as_str().unwrap()).collect();
    for st in ["active", "trialing", "past_due", "canceled"] {
        assert!(statuses.contains(st), "no {st} subscription in {statuses:?}");
    }
    assert!(subs.iter().all(
        |s| s["metadata"]["insforge_subject_type"].is_string() && s["metadata"]["insforge_subject_id"].is_string()
    ));
    assert!(subs.iter().any(|s| s["cancel_at_period_end"] == true));
    assert!(subs.iter().any(|s| s["pause_collection"]["behavior"] == "void"));
    // Subscriptions belong to the customer carrying the same subject.
    for sub in &subs {
        let c = s.get(&format!("/v1/customers/{}", sub["customer"].as_str().unwrap()), &[]).await;
        assert_eq!(c.body["metadata"], sub["metadata"]);
    }

    let refunds = all(&s, "/v1/refunds", &[]).await;
    assert!(refunds.len() >= 2);
    let charges = all(&s, "/v1/charges", &[]).await;
    assert!(charges.iter().any(|c| c["refunded"] == true));
    assert!(charges.iter().any(|c| c["refunded"] == false && c["amount_refunded"].as_i64().unwrap() > 0));
    assert!(charges.iter().any(|c| c["status"] == "failed"), "the past_due renewal left a failed charge");
    let customers_with_payments: HashSet<&str> = charges.iter().filter_map(|c| c["customer"].as_str()).collect();
    assert!(customers_with_payments.len() >= 4, "payments across several billing subjects");
    let invoices = all(&s, "/v1/invoices", &[]).await;
    assert!(invoices.iter().any(|i| i["status"] == "paid") && invoices.iter().any(|i| i["status"] == "open"));
    let types = s.event_types().await;
    for t in [
        "customer.subscription.created",
        "invoice.payment_failed",
        "checkout.session.completed",
        "charge.refunded",
        "refund.created",
    ] {
        assert!(types.iter().any(|x| x == t), "demo seed emitted no {t}");
    }
}

#[tokio::test]
async fn seed_size_is_fast_and_paginates() {
    let s = start().await;
    let n = 5_000;
    let t = Instant::now();
    let r = s.control("/_sandbox/seed", json!({"size": n})).await;
    r.ok();
    let elapsed = t.elapsed();
    eprintln!("seed_size({n}) = {} objects in {elapsed:?}", 4 * n);
    assert!(elapsed < Duration::from_secs(20), "seeding {} objects took {elapsed:?}", 4 * n);
    for object in ["product", "price", "customer", "subscription"] {
        assert_eq!(s.sandbox.count(object), Some(n));
    }
    // Deep pagination stays cheap: walk to the end of subscriptions.
    let mut seen = 0;
    let mut after: Option<String> = None;
    let t = Instant::now();
    loop {
        let mut q = vec![("limit", "100")];
        if let Some(a) = &after {
            q.push(("starting_after", a.as_str()));
        }
        let r = s.get("/v1/subscriptions", &q).await;
        let data = r.ok()["data"].as_array().unwrap();
        seen += data.len();
        if r.body["has_more"] != true {
            break;
        }
        after = Some(data.last().unwrap()["id"].as_str().unwrap().to_owned());
    }
    assert_eq!(seen, n);
    eprintln!("paginated {n} subscriptions in {:?}", t.elapsed());
    let r = s.get("/v1/subscriptions", &[("limit", "1"), ("expand[]", "data.items.data.price.product")]).await;
    assert!(r.ok()["data"][0]["items"]["data"][0]["price"]["product"]["name"]
        .as_str()
        .unwrap()
        .starts_with("Bulk product"));
}

#[tokio::test]
async fn seed_size_with_history_adds_invoices_one_time_payments_and_refunds() {
    let s = start().await;
    s.control("/_sandbox/seed", json!({"size": 100, "history": true})).await.ok();
    for (object, n) in [("invoice", 100), ("checkout.session", 20), ("payment_intent", 20), ("refund", 10)] {
        assert_eq!(s.sandbox.count(object), Some(n), "{object}");
    }
    // Each invoice belongs to a subscription and its customer, with the subject's metadata.
    let r = s.get("/v1/invoices", &[("limit", "1"), ("status", "paid")]).await;
    let invoice = &r.ok()["data"][0];
    let sub = invoice["parent"]["subscription_details"]["subscription"].as_str().unwrap();
    let sub = s.get(&format!("/v1/subscriptions/{sub}"), &[]).await;
    assert_eq!(sub.ok()["customer"], invoice["customer"]);
    assert_eq!(invoice["parent"]["subscription_details"]["metadata"], sub.body["metadata"]);
    assert_eq!(invoice["amount_paid"], sub.body["items"]["data"][0]["price"]["unit_amount"]);
    // Refunds point at a succeeded InsForge one-time payment.
    let r = s.get("/v1/refunds", &[("limit", "1"), ("expand[]", "data.payment_intent")]).await;
    let pi = &r.ok()["data"][0]["payment_intent"];
    assert_eq!(pi["status"], "succeeded");
    assert_eq!(pi["metadata"]["insforge_checkout_mode"], "payment");
}

/// 100k objects (25k each of products, prices, customers, subscriptions).
/// Run with `cargo test -p stripe-sandbox --release -- --ignored --nocapture`.
#[test]
#[ignore]
fn bench_seed_100k_objects() {
    let sandbox = Sandbox::new(SandboxConfig::default());
    let t = Instant::now();
    sandbox.seed_size(25_000);
    let elapsed = t.elapsed();
    println!("seed_size(25_000) = 100k objects in {elapsed:?}");
    assert_eq!(sandbox.count("subscription"), Some(25_000));
    assert!(elapsed < Duration::from_secs(10));
}

#[tokio::test]
async fn in_process_api_and_hosted_pages() {
    let s = start().await;
    let (_, price) = s.product_with_price("Pro", 1000, Some("month")).await;
    let session = s
        .post(
            "/v1/checkout/sessions",
            &[
                ("mode", "subscription"),
                ("line_items[0][price]", &price),
                ("line_items[0][quantity]", "1"),
                ("success_url", "https://app.test/ok"),
            ],
        )
        .await;
    let url = session.ok()["url"].as_str().unwrap().to_owned();
    assert!(url.ends_with(&format!("/_sandbox/pages/checkout/{}", session.id())));
    let page = s.control_get(&format!("/_sandbox/pages/checkout/{}", session.id())).await;
    assert_eq!(page.status, 200);
    assert!(page.body.as_str().unwrap().contains("Pay (card succeeds)"));

    let declined =
        s.sandbox.complete_checkout(&session.id(), stripe_sandbox::CheckoutOutcome::Declined("generic_decline"));
    assert_eq!(declined.unwrap_err().status.as_u16(), 402);
    let done = s.sandbox.complete_checkout(&session.id(), stripe_sandbox::CheckoutOutcome::Succeeded).unwrap();
    let sub = done["subscription"].as_str().unwrap();
    let advanced = s.sandbox.advance_subscription(sub, Some(false)).unwrap();
    assert_eq!(advanced["status"], "past_due");
    assert_eq!(s.sandbox.get_object(sub).unwrap()["status"], "past_due");

    let info = s.control_get("/_sandbox").await;
    assert_eq!(info.ok()["stripe_version"], stripe_sandbox::STRIPE_VERSION);
    assert_eq!(info.body["counts"]["subscription"], json!(1));
}
