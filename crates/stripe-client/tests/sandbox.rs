//! The client against the in-process sandbox: CRUD round trips, pagination,
//! error mapping, retries on injected faults, idempotency and the budget.

mod support;

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use stripe_client::{Form, HasId, RequestOptions, RetryReason, StripeClient};
use support::{client, control, data, fast_config, ids, start_sandbox, text, Rest, KEY};

const NONE: &RequestOptions = &RequestOptions::NONE;

#[tokio::test]
async fn account_and_request_ids() {
    let s = start_sandbox().await;
    let c = client(&s.base);
    let account = c.fetch("/v1/account").await.unwrap();
    assert_eq!(account.id(), s.sandbox.config().account_id);
    assert!(account.request_id.as_deref().is_some_and(|id| id.starts_with("req_")), "{:?}", account.request_id);
    assert_eq!(account.attempts, 1);
    assert_eq!(account.idempotency_key, None, "reads carry no idempotency key");
}

#[tokio::test]
async fn product_crud_round_trip() {
    let s = start_sandbox().await;
    let c = client(&s.base);
    let created = c
        .send(
            "/v1/products",
            &Form::new()
                .set("name", "Pro plan")
                .set("description", "For teams")
                .set("metadata", Form::new().set("tier", "pro")),
            NONE,
        )
        .await
        .unwrap();
    assert_eq!(created["name"], "Pro plan");
    assert_eq!(created["metadata"]["tier"], "pro");
    assert_eq!(created["active"], true);
    assert!(created.idempotency_key.as_deref().is_some_and(|k| k.starts_with("stripe-client-")));
    assert!(!created.idempotent_replayed);

    let path = format!("/v1/products/{}", created.id());
    let fetched = c.fetch(&path).await.unwrap();
    assert_eq!(fetched.body, created.body);

    let updated = c
        .send(&path, &Form::new().set("active", false).set("metadata", Form::new().set("tier", "")), NONE)
        .await
        .unwrap();
    assert_eq!(updated["active"], false);
    assert_eq!(updated["metadata"], json!({}), "metadata[tier]= deletes the key");

    let listed = c.list("/v1/products", &Form::new().set("active", false)).await.unwrap();
    assert_eq!(ids(&listed), [created.id()]);

    let deleted = c.remove(&path, &Form::new(), NONE).await.unwrap();
    assert_eq!(deleted["deleted"], true);
    assert_eq!(deleted.id(), created.id());
    let gone = c.fetch(&path).await.unwrap_err();
    assert!(gone.is_resource_missing(), "{gone}");
    assert_eq!(gone.status(), Some(404));
    assert!(gone.request_id().is_some());
}

#[tokio::test]
async fn prices_with_recurring_tax_behavior_and_lookup_keys() {
    let s = start_sandbox().await;
    let c = client(&s.base);
    let product = c.send("/v1/products", &Form::new().set("name", "Team"), NONE).await.unwrap();
    let monthly = c
        .send(
            "/v1/prices",
            &Form::new()
                .set("product", product.id())
                .set("currency", "usd")
                .set("unit_amount", 2900)
                .set("recurring", Form::new().set("interval", "month"))
                .set("tax_behavior", "exclusive")
                .set("lookup_key", "team_monthly")
                .set("expand", vec!["product"]),
            NONE,
        )
        .await
        .unwrap();
    assert_eq!(monthly["type"], "recurring");
    assert_eq!(monthly["recurring"]["interval"], "month");
    assert_eq!(monthly["recurring"]["interval_count"], 1);
    assert_eq!(monthly["tax_behavior"], "exclusive");
    assert_eq!(monthly["unit_amount"], 2900);
    assert_eq!(monthly["product"]["name"], "Team", "expand[]=product");

    let once = c
        .send(
            "/v1/prices",
            &Form::new()
                .set("product", product.id())
                .set("currency", "usd")
                .set("unit_amount", 500)
                .set("lookup_key", "setup_fee"),
            NONE,
        )
        .await
        .unwrap();
    assert_eq!(once["type"], "one_time");
    assert_eq!(once["recurring"], Value::Null);

    let by_key = c.list("/v1/prices", &Form::new().set("lookup_keys", vec!["team_monthly"])).await.unwrap();
    assert_eq!(ids(&by_key), [monthly.id()]);
    assert_eq!(data(&by_key)[0]["product"], product.id());

    let recurring = c.list("/v1/prices", &Form::new().set("type", "recurring")).await.unwrap();
    assert_eq!(ids(&recurring), [monthly.id()]);

    let once_path = format!("/v1/prices/{}", once.id());
    let updated = c.send(&once_path, &Form::new().set("active", false).set("nickname", "Setup"), NONE).await.unwrap();
    assert_eq!(updated["active"], false);
    assert_eq!(updated["nickname"], "Setup");
    assert_eq!(c.fetch(&once_path).await.unwrap().body, updated.body);
}

#[tokio::test]
async fn customer_crud_and_tombstone() {
    let s = start_sandbox().await;
    let c = client(&s.base);
    let created = c
        .send(
            "/v1/customers",
            &Form::new()
                .set("email", "ada@example.com")
                .set("name", "Ada")
                .set("metadata", Form::new().set("insforge_subject_id", "42")),
            NONE,
        )
        .await
        .unwrap();
    assert_eq!(created["email"], "ada@example.com");
    assert_ne!(created["deleted"], true);
    let path = format!("/v1/customers/{}", created.id());
    let updated = c.send(&path, &Form::new().set("name", "Ada L."), NONE).await.unwrap();
    assert_eq!(updated["name"], "Ada L.");
    assert_eq!(updated["metadata"]["insforge_subject_id"], "42");
    let by_email = c.list("/v1/customers", &Form::new().set("email", "ada@example.com")).await.unwrap();
    assert_eq!(data(&by_email).len(), 1);

    assert_eq!(c.remove(&path, &Form::new(), NONE).await.unwrap()["deleted"], true);
    let tombstone = c.fetch(&path).await.unwrap();
    assert_eq!(tombstone["deleted"], true, "Stripe keeps deleted customers as tombstones");
    assert_eq!(tombstone.id(), created.id());
}

/// Creates a product, a monthly price and a customer paying with `card`.
async fn subscribed_customer(c: &StripeClient, card: &str) -> (String, String, Value) {
    let product = c.send("/v1/products", &Form::new().set("name", "Pro"), NONE).await.unwrap();
    let price = c
        .send(
            "/v1/prices",
            &Form::new()
                .set("product", product.id())
                .set("currency", "usd")
                .set("unit_amount", 1500)
                .set("recurring", Form::new().set("interval", "month")),
            NONE,
        )
        .await
        .unwrap();
    let customer = c.send("/v1/customers", &Form::new().set("email", "sub@example.com"), NONE).await.unwrap();
    let sub = c
        .send(
            "/v1/subscriptions",
            &Form::new()
                .set("customer", customer.id())
                .set("items", vec![Form::new().set("price", price.id())])
                .set("default_payment_method", card)
                .set("metadata", Form::new().set("insforge_subject_type", "team").set("insforge_subject_id", "acme")),
            NONE,
        )
        .await
        .unwrap()
        .into_inner();
    (customer.id().to_owned(), price.id().to_owned(), sub)
}

#[tokio::test]
async fn subscription_invoice_payment_and_refund_flow() {
    let s = start_sandbox().await;
    let c = client(&s.base);
    let (customer, price, sub) = subscribed_customer(&c, "pm_card_visa").await;
    assert_eq!(sub["status"], "active");
    assert_eq!(sub["customer"], customer.as_str());
    let item = &sub["items"]["data"][0];
    assert_eq!(item["price"]["id"], price.as_str());
    let (start, end) = (&item["current_period_start"], &item["current_period_end"]);
    assert!(end.as_i64() > start.as_i64() && start.is_i64(), "the current API puts the period on items");

    let path = format!("/v1/subscriptions/{}", sub.id());
    let updated = c.send(&path, &Form::new().set("cancel_at_period_end", true), NONE).await.unwrap();
    assert_eq!(updated["cancel_at_period_end"], true);
    assert_eq!(c.fetch(&path).await.unwrap().body, updated.body);

    let invoices = c.list("/v1/invoices", &Form::new().set("subscription", sub.id())).await.unwrap();
    assert_eq!(data(&invoices).len(), 1);
    let invoice = c.fetch(&format!("/v1/invoices/{}", ids(&invoices)[0])).await.unwrap();
    assert_eq!(invoice["status"], "paid");
    assert_eq!(invoice["amount_paid"], 1500);
    assert_eq!(invoice.pointer("/parent/subscription_details/subscription"), Some(&sub["id"]));

    let charges = c.list("/v1/charges", &Form::new().set("customer", customer.as_str())).await.unwrap();
    assert_eq!(data(&charges).len(), 1);
    let charge_path = format!("/v1/charges/{}", ids(&charges)[0]);
    let charge = c.fetch(&charge_path).await.unwrap();
    assert_eq!(charge["paid"], true);
    let pi = c.fetch(&format!("/v1/payment_intents/{}", text(&charge, "payment_intent"))).await.unwrap();
    assert_eq!(pi["status"], "succeeded");
    assert_eq!(pi["latest_charge"], charge.id());

    let refund = c.send("/v1/refunds", &Form::new().set("charge", charge.id()).set("amount", 500), NONE).await.unwrap();
    assert_eq!(refund["amount"], 500);
    assert_eq!(refund["charge"], charge.id());
    let refunds = c.list("/v1/refunds", &Form::new().set("charge", charge.id())).await.unwrap();
    assert_eq!(ids(&refunds), [refund.id()]);
    assert_eq!(c.fetch(&charge_path).await.unwrap()["amount_refunded"], 500);

    // Cancel now; the default list hides canceled subscriptions, so the engine asks for status=all.
    let canceled = c.remove(&path, &Form::new(), NONE).await.unwrap();
    assert_eq!(canceled["status"], "canceled");
    let all = c.list("/v1/subscriptions", &Form::new().set("status", "all")).await.unwrap();
    assert_eq!(
        data(&all).iter().map(|s| (text(s, "id"), text(s, "status"))).collect::<Vec<_>>(),
        [(sub.id(), "canceled")]
    );
    let active_only = c.list("/v1/subscriptions", &Form::new().set("status", "active")).await.unwrap();
    assert!(data(&active_only).is_empty());
}

#[tokio::test]
async fn checkout_portal_and_completion() {
    let s = start_sandbox().await;
    let c = client(&s.base);
    let (customer, price, _) = subscribed_customer(&c, "pm_card_visa").await;
    let session = c
        .send(
            "/v1/checkout/sessions",
            &Form::new()
                .set("mode", "subscription")
                .set("line_items", vec![Form::new().set("price", price.as_str()).set("quantity", 1_u32)])
                .set("success_url", "https://console.example/ok")
                .set("cancel_url", "https://console.example/cancel")
                .set("client_reference_id", "team:acme"),
            NONE,
        )
        .await
        .unwrap();
    assert_eq!(session["mode"], "subscription");
    assert_eq!(session["status"], "open");
    assert!(session["url"].is_string());

    control(
        &s.base,
        &format!("/_sandbox/checkout/sessions/{}/complete", session.id()),
        json!({"outcome": "succeeded"}),
    )
    .await;
    let done = c.fetch(&format!("/v1/checkout/sessions/{}", session.id())).await.unwrap();
    assert_eq!(done["status"], "complete");
    assert!(!done["subscription"].is_null());

    let price_data = c.fetch(&format!("/v1/prices/{price}")).await.unwrap();
    let one_off = c
        .send(
            "/v1/prices",
            &Form::new().set("product", text(&price_data, "product")).set("currency", "usd").set("unit_amount", 900),
            NONE,
        )
        .await
        .unwrap();
    let other = c
        .send(
            "/v1/checkout/sessions",
            &Form::new()
                .set("mode", "payment")
                .set("line_items", vec![Form::new().set("price", one_off.id()).set("quantity", 1_u32)])
                .set("success_url", "https://console.example/ok"),
            NONE,
        )
        .await
        .unwrap();
    let expired = c.send(&format!("/v1/checkout/sessions/{}/expire", other.id()), &Form::new(), NONE).await.unwrap();
    assert_eq!(expired["status"], "expired");

    let portal = c
        .send(
            "/v1/billing_portal/sessions",
            &Form::new().set("customer", customer.as_str()).set("return_url", "https://console.example/account"),
            NONE,
        )
        .await
        .unwrap();
    assert_eq!(portal["customer"], customer.as_str());
    assert!(text(&portal, "url").starts_with("http"));
}

#[tokio::test]
async fn webhook_endpoints_and_events() {
    let s = start_sandbox().await;
    let c = client(&s.base);
    let endpoint = c
        .send(
            "/v1/webhook_endpoints",
            &Form::new()
                .set("url", "http://127.0.0.1:9/unused")
                .set("enabled_events", vec!["customer.created", "customer.updated"]),
            NONE,
        )
        .await
        .unwrap();
    assert!(text(&endpoint, "secret").starts_with("whsec_"), "secret only on create");
    let listed = c.list("/v1/webhook_endpoints", &Form::new()).await.unwrap();
    assert_eq!(data(&listed).len(), 1);
    assert_eq!(data(&listed)[0]["secret"], Value::Null, "never listed");
    let path = format!("/v1/webhook_endpoints/{}", endpoint.id());
    let updated = c.send(&path, &Form::new().set("enabled_events", vec!["*"]), NONE).await.unwrap();
    assert_eq!(updated["enabled_events"], json!(["*"]));
    assert_eq!(c.remove(&path, &Form::new(), NONE).await.unwrap()["deleted"], true);

    let customer = c
        .send(
            "/v1/customers",
            &Form::new().set("email", "ev@example.com"),
            &RequestOptions::idempotency_key("insforge:test:customer:ev"),
        )
        .await
        .unwrap();
    let events = c.list("/v1/events", &Form::new().set("type", "customer.created")).await.unwrap();
    assert_eq!(data(&events).len(), 1);
    let event = c.fetch(&format!("/v1/events/{}", ids(&events)[0])).await.unwrap();
    assert_eq!(event["type"], "customer.created");
    assert_eq!(event["data"]["object"]["id"], customer.id());
    let request = &event["request"];
    assert_eq!(request["id"].as_str(), customer.request_id.as_deref(), "the event names the request that caused it");
    assert_eq!(request["idempotency_key"], "insforge:test:customer:ev");
}

#[tokio::test]
async fn auto_pagination_sees_each_object_exactly_once() {
    let s = start_sandbox().await;
    let c = client(&s.base);
    let mut created = HashSet::new();
    for i in 0..250 {
        let p = c.send("/v1/products", &Form::new().set("name", format!("Product {i}")), NONE).await.unwrap();
        created.insert(p.id().to_owned());
    }
    let mut progress = Vec::new();
    let all = c.list_all::<Value>("/v1/products", Form::new(), |p| progress.push(p.clone())).await.unwrap();
    assert_eq!(all.len(), 250);
    let seen: HashSet<_> = all.iter().map(|p| p.id().to_owned()).collect();
    assert_eq!(seen.len(), 250, "no duplicates");
    assert_eq!(seen, created);
    // Newest first, like Stripe.
    assert_eq!(all[0]["name"], "Product 249");
    assert_eq!(all[249]["name"], "Product 0");
    assert_eq!(
        progress.iter().map(|p| (p.page, p.page_len, p.total, p.has_more)).collect::<Vec<_>>(),
        [(1, 100, 100, true), (2, 100, 200, true), (3, 50, 250, false)]
    );
    assert!(progress.iter().all(|p| p.request_id.is_some()));

    // The pull-based paginator with a smaller page.
    let mut pages = c.paginate::<Value>("/v1/products", Form::new()).page_size(60);
    let mut sizes = Vec::new();
    while let Some(page) = pages.next_page().await.unwrap() {
        sizes.push(page.len());
    }
    assert_eq!(sizes, [60, 60, 60, 60, 10]);
    assert!(pages.next_page().await.unwrap().is_none(), "stays exhausted");
}

#[tokio::test]
async fn error_mapping() {
    let s = start_sandbox().await;
    let c = client(&s.base);

    let missing = c.fetch("/v1/customers/cus_doesnotexist").await.unwrap_err();
    let api = missing.api().expect("an API error");
    assert_eq!(
        (api.status, api.error_type.as_str(), api.code.as_deref()),
        (404, "invalid_request_error", Some("resource_missing"))
    );
    assert!(api.message.contains("cus_doesnotexist"));
    assert!(api.request_id.is_some());
    assert!(missing.is_resource_missing());

    let no_name = c.send("/v1/products", &Form::new(), NONE).await.unwrap_err();
    assert_eq!(no_name.status(), Some(400));
    assert_eq!(no_name.code(), Some("parameter_missing"));
    assert_eq!(no_name.api().unwrap().param.as_deref(), Some("name"));

    let product = c.send("/v1/products", &Form::new().set("name", "P"), NONE).await.unwrap();
    let price = c
        .send(
            "/v1/prices",
            &Form::new().set("product", product.id()).set("currency", "usd").set("unit_amount", 100),
            NONE,
        )
        .await
        .unwrap();
    let immutable =
        c.send(&format!("/v1/prices/{}", price.id()), &Form::new().set("unit_amount", 200), NONE).await.unwrap_err();
    assert_eq!(immutable.code(), Some("parameter_unknown"));
    assert_eq!(immutable.api().unwrap().param.as_deref(), Some("unit_amount"));

    let dangling = c
        .send("/v1/prices", &Form::new().set("product", "prod_nope").set("currency", "usd").set("unit_amount", 1), NONE)
        .await
        .unwrap_err();
    assert_eq!(dangling.status(), Some(400));
    assert!(dangling.is_resource_missing());

    // 402: a subscription on a declining card leaves an open invoice; paying it is declined.
    let (_, _, sub) = subscribed_customer(&c, "pm_card_chargeDeclinedInsufficientFunds").await;
    let invoice =
        c.list("/v1/invoices", &Form::new().set("subscription", sub.id()).set("status", "open")).await.unwrap();
    assert_eq!(data(&invoice).len(), 1, "{}", sub["status"]);
    let declined = c.send(&format!("/v1/invoices/{}/pay", ids(&invoice)[0]), &Form::new(), NONE).await.unwrap_err();
    assert_eq!(declined.status(), Some(402));
    assert!(declined.is_card_error());
    assert_eq!(declined.code(), Some("card_declined"));
    assert_eq!(declined.decline_code(), Some("insufficient_funds"));

    let unauthorized =
        StripeClient::new(stripe_client::ClientConfig { secret_key: "sk_live_wrong".into(), ..fast_config(&s.base) })
            .unwrap()
            .fetch("/v1/account")
            .await
            .unwrap_err();
    assert_eq!(unauthorized.status(), Some(401));
    assert!(unauthorized.is_auth_error());
    assert!(!unauthorized.to_string().contains("sk_live_wrong"), "{unauthorized}");

    // None of these are retryable.
    assert_eq!(c.stats().retries, 0);
}

#[tokio::test]
async fn retries_injected_429_and_5xx_reusing_the_idempotency_key() {
    let s = start_sandbox().await;
    let events = Arc::new(Mutex::new(Vec::new()));
    let seen = events.clone();
    let c = StripeClient::new(fast_config(&s.base).on_retry(move |e| seen.lock().unwrap().push(e.clone()))).unwrap();
    let mut stats = c.watch_stats();

    control(
        &s.base,
        "/_sandbox/faults",
        json!({"path_prefix": "/v1/customers", "method": "POST", "count": 2, "status": 429}),
    )
    .await;
    control(
        &s.base,
        "/_sandbox/faults",
        json!({"path_prefix": "/v1/customers", "method": "POST", "count": 1, "status": 503}),
    )
    .await;
    let created = c.send("/v1/customers", &Form::new().set("email", "retry@example.com"), NONE).await.unwrap();
    assert_eq!(created.attempts, 4);
    assert_eq!(s.sandbox.count("customer"), Some(1), "applied once");

    let reasons: Vec<_> = events.lock().unwrap().iter().map(|e| (e.attempt, e.reason.clone())).collect();
    assert_eq!(
        reasons,
        [(1, RetryReason::RateLimited), (2, RetryReason::RateLimited), (3, RetryReason::ServerError(503))]
    );
    let snapshot = c.stats();
    assert_eq!(
        (snapshot.requests, snapshot.attempts, snapshot.rate_limit_backoffs, snapshot.server_error_retries),
        (1, 4, 2, 1)
    );
    assert!(stats.has_changed().unwrap());
    assert_eq!(stats.borrow_and_update().rate_limit_backoffs, 2);

    // The key that finally went through is the one every attempt carried.
    let key = created.idempotency_key.clone().unwrap();
    let ev = c.list("/v1/events", &Form::new().set("type", "customer.created")).await.unwrap();
    assert_eq!(data(&ev)[0]["request"]["idempotency_key"], key.as_str());

    // A read through a 500.
    control(
        &s.base,
        "/_sandbox/faults",
        json!({"path_prefix": "/v1/customers/", "method": "GET", "count": 1, "status": 500}),
    )
    .await;
    let fetched = c.fetch(&format!("/v1/customers/{}", created.id())).await.unwrap();
    assert_eq!(fetched.attempts, 2);
}

#[tokio::test]
async fn gives_up_after_max_retries() {
    let s = start_sandbox().await;
    let c = StripeClient::new(fast_config(&s.base).max_retries(2)).unwrap();
    control(&s.base, "/_sandbox/faults", json!({"path_prefix": "/v1/account", "count": 10, "status": 502})).await;
    let err = c.fetch("/v1/account").await.unwrap_err();
    assert_eq!(err.status(), Some(502));
    assert_eq!(err.api().unwrap().error_type, "api_error");
    assert_eq!(c.stats().attempts, 3);
    let left =
        reqwest::get(format!("{}/_sandbox/faults", s.base)).await.unwrap().json::<serde_json::Value>().await.unwrap();
    assert_eq!(left["data"][0]["remaining"], 7, "exactly three attempts reached the server: {left}");
}

#[tokio::test]
async fn timeouts_are_retried() {
    let s = start_sandbox().await;
    let c = StripeClient::new(fast_config(&s.base).timeout(Duration::from_millis(300))).unwrap();
    control(&s.base, "/_sandbox/faults", json!({"path_prefix": "/v1/account", "count": 1, "delay_ms": 2000})).await;
    let account = c.fetch("/v1/account").await.unwrap();
    assert_eq!(account.attempts, 2);
    assert_eq!(c.stats().transport_retries, 1);
}

#[tokio::test]
async fn caller_idempotency_keys_replay() {
    let s = start_sandbox().await;
    let c = client(&s.base);
    let opts = RequestOptions::idempotency_key("insforge:test:product:pro");
    let params = Form::new().set("name", "Pro");
    let first = c.send("/v1/products", &params, &opts).await.unwrap();
    let second = c.send("/v1/products", &params, &opts).await.unwrap();
    assert!(!first.idempotent_replayed);
    assert!(second.idempotent_replayed);
    assert_eq!(first.id(), second.id());
    assert_eq!(s.sandbox.count("product"), Some(1));
    // Same key, other parameters: Stripe refuses.
    let err = c.send("/v1/products", &Form::new().set("name", "Other"), &opts).await.unwrap_err();
    assert!(err.is_idempotency_error(), "{err}");
}

#[tokio::test]
async fn request_budget_paces_requests() {
    let s = start_sandbox().await;
    let c = StripeClient::new(fast_config(&s.base).requests_per_second(10.0)).unwrap();
    let clone = c.clone();
    let started = Instant::now();
    // Two clones, concurrently: the budget is shared.
    let (a, b) = tokio::join!(
        async {
            for _ in 0..15 {
                c.fetch("/v1/account").await.unwrap();
            }
        },
        async {
            for _ in 0..15 {
                clone.fetch("/v1/account").await.unwrap();
            }
        }
    );
    let _ = (a, b);
    let elapsed = started.elapsed();
    // 10 free tokens, then 20 more at 10/s: at least ~2 s. Lower bound only.
    assert!(elapsed >= Duration::from_millis(1900), "30 requests at 10/s took only {elapsed:?}");
    assert_eq!(c.stats().requests, 30);
    assert!(c.stats().budget_waits >= 19);
}

#[tokio::test]
async fn the_configured_key_is_sent_as_bearer() {
    // A sandbox that accepts only this exact key.
    let sandbox = stripe_sandbox::Sandbox::new(stripe_sandbox::SandboxConfig {
        api_keys: stripe_sandbox::ApiKeys::Only(vec![KEY.to_owned()]),
        ..Default::default()
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(sandbox.serve(listener));
    assert!(client(&base).fetch("/v1/account").await.is_ok());
    let other =
        StripeClient::new(stripe_client::ClientConfig { secret_key: "sk_test_other".into(), ..fast_config(&base) });
    assert!(other.unwrap().fetch("/v1/account").await.unwrap_err().is_auth_error());
}
