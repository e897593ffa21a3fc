//! The client against the in-process sandbox: CRUD round trips, pagination,
//! error mapping, retries on injected faults, idempotency and the budget.

mod support;

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::json;
use stripe_client::models::{InvoiceStatus, PriceType, RecurringInterval, SubscriptionStatus, TaxBehavior};
use stripe_client::{Form, RequestOptions, RetryReason, StripeClient};
use support::{client, control, fast_config, start_sandbox, KEY};

const NONE: &RequestOptions = &RequestOptions::NONE;

#[tokio::test]
async fn account_and_request_ids() {
    let s = start_sandbox().await;
    let c = client(&s.base);
    let account = c.retrieve_account().await.unwrap();
    assert_eq!(account.id, s.sandbox.config().account_id);
    assert!(account.request_id.as_deref().is_some_and(|id| id.starts_with("req_")), "{:?}", account.request_id);
    assert_eq!(account.attempts, 1);
    assert_eq!(account.idempotency_key, None, "reads carry no idempotency key");
}

#[tokio::test]
async fn product_crud_round_trip() {
    let s = start_sandbox().await;
    let c = client(&s.base);
    let created = c
        .create_product(
            &Form::new()
                .set("name", "Pro plan")
                .set("description", "For teams")
                .set("metadata", Form::new().set("tier", "pro")),
            NONE,
        )
        .await
        .unwrap();
    assert_eq!(created.name, "Pro plan");
    assert_eq!(created.metadata["tier"], "pro");
    assert!(created.active);
    assert!(created.idempotency_key.as_deref().is_some_and(|k| k.starts_with("stripe-client-")));
    assert!(!created.idempotent_replayed);

    let fetched = c.retrieve_product(&created.id).await.unwrap();
    assert_eq!(fetched.body, created.body);

    let updated = c
        .update_product(
            &created.id,
            &Form::new().set("active", false).set("metadata", Form::new().set("tier", "")),
            NONE,
        )
        .await
        .unwrap();
    assert!(!updated.active);
    assert!(updated.metadata.is_empty(), "metadata[tier]= deletes the key: {:?}", updated.metadata);

    let listed = c.list_products(&Form::new().set("active", false)).await.unwrap();
    assert_eq!(listed.data.iter().map(|p| p.id.as_str()).collect::<Vec<_>>(), [created.id.as_str()]);

    let deleted = c.delete_product(&created.id, NONE).await.unwrap();
    assert!(deleted.deleted);
    assert_eq!(deleted.id, created.id);
    let gone = c.retrieve_product(&created.id).await.unwrap_err();
    assert!(gone.is_resource_missing(), "{gone}");
    assert_eq!(gone.status(), Some(404));
    assert!(gone.request_id().is_some());
}

#[tokio::test]
async fn prices_with_recurring_tax_behavior_and_lookup_keys() {
    let s = start_sandbox().await;
    let c = client(&s.base);
    let product = c.create_product(&Form::new().set("name", "Team"), NONE).await.unwrap();
    let monthly = c
        .create_price(
            &Form::new()
                .set("product", product.id.as_str())
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
    assert_eq!(monthly.price_type, PriceType::Recurring);
    assert_eq!(monthly.recurring.as_ref().unwrap().interval, RecurringInterval::Month);
    assert_eq!(monthly.recurring.as_ref().unwrap().interval_count, 1);
    assert_eq!(monthly.tax_behavior, Some(TaxBehavior::Exclusive));
    assert_eq!(monthly.unit_amount, Some(2900));
    assert_eq!(monthly.product.as_object().map(|p| p.name.as_str()), Some("Team"), "expand[]=product");

    let once = c
        .create_price(
            &Form::new()
                .set("product", product.id.as_str())
                .set("currency", "usd")
                .set("unit_amount", 500)
                .set("lookup_key", "setup_fee"),
            NONE,
        )
        .await
        .unwrap();
    assert_eq!(once.price_type, PriceType::OneTime);
    assert!(once.recurring.is_none());

    let by_key = c.list_prices(&Form::new().set("lookup_keys", vec!["team_monthly"])).await.unwrap();
    assert_eq!(by_key.data.len(), 1);
    assert_eq!(by_key.data[0].id, monthly.id);
    assert_eq!(by_key.data[0].product.id(), product.id);

    let recurring = c.list_prices(&Form::new().set("type", "recurring")).await.unwrap();
    assert_eq!(recurring.data.iter().map(|p| &p.id).collect::<Vec<_>>(), [&monthly.id]);

    let updated =
        c.update_price(&once.id, &Form::new().set("active", false).set("nickname", "Setup"), NONE).await.unwrap();
    assert!(!updated.active);
    assert_eq!(updated.nickname.as_deref(), Some("Setup"));
    assert_eq!(c.retrieve_price(&once.id).await.unwrap().body, updated.body);
}

#[tokio::test]
async fn customer_crud_and_tombstone() {
    let s = start_sandbox().await;
    let c = client(&s.base);
    let created = c
        .create_customer(
            &Form::new()
                .set("email", "ada@example.com")
                .set("name", "Ada")
                .set("metadata", Form::new().set("insforge_subject_id", "42")),
            NONE,
        )
        .await
        .unwrap();
    assert_eq!(created.email.as_deref(), Some("ada@example.com"));
    assert!(!created.deleted);
    let updated = c.update_customer(&created.id, &Form::new().set("name", "Ada L."), NONE).await.unwrap();
    assert_eq!(updated.name.as_deref(), Some("Ada L."));
    assert_eq!(updated.metadata["insforge_subject_id"], "42");
    let by_email = c.list_customers(&Form::new().set("email", "ada@example.com")).await.unwrap();
    assert_eq!(by_email.data.len(), 1);

    assert!(c.delete_customer(&created.id, NONE).await.unwrap().deleted);
    let tombstone = c.retrieve_customer(&created.id).await.unwrap();
    assert!(tombstone.deleted, "Stripe keeps deleted customers as tombstones");
    assert_eq!(tombstone.id, created.id);
}

/// Creates a product, a monthly price and a customer paying with `card`.
async fn subscribed_customer(c: &StripeClient, card: &str) -> (String, String, stripe_client::models::Subscription) {
    let product = c.create_product(&Form::new().set("name", "Pro"), NONE).await.unwrap();
    let price = c
        .create_price(
            &Form::new()
                .set("product", product.id.as_str())
                .set("currency", "usd")
                .set("unit_amount", 1500)
                .set("recurring", Form::new().set("interval", "month")),
            NONE,
        )
        .await
        .unwrap();
    let customer = c.create_customer(&Form::new().set("email", "sub@example.com"), NONE).await.unwrap();
    let sub = c
        .create_subscription(
            &Form::new()
                .set("customer", customer.id.as_str())
                .set("items", vec![Form::new().set("price", price.id.as_str())])
                .set("default_payment_method", card)
                .set("metadata", Form::new().set("insforge_subject_type", "team").set("insforge_subject_id", "acme")),
            NONE,
        )
        .await
        .unwrap()
        .into_inner();
    (customer.id.clone(), price.id.clone(), sub)
}

#[tokio::test]
async fn subscription_invoice_payment_and_refund_flow() {
    let s = start_sandbox().await;
    let c = client(&s.base);
    let (customer, price, sub) = subscribed_customer(&c, "pm_card_visa").await;
    assert_eq!(sub.status, SubscriptionStatus::Active);
    assert!(sub.status.is_entitled());
    assert_eq!(sub.customer.id(), customer);
    let item = &sub.items.data[0];
    assert_eq!(item.price.as_ref().unwrap().id, price);
    let (start, end) = sub.current_period().expect("the current API puts the period on items");
    assert!(end > start);

    let updated = c.update_subscription(&sub.id, &Form::new().set("cancel_at_period_end", true), NONE).await.unwrap();
    assert!(updated.cancel_at_period_end);
    assert_eq!(c.retrieve_subscription(&sub.id).await.unwrap().body, updated.body);

    let invoices = c.list_invoices(&Form::new().set("subscription", sub.id.as_str())).await.unwrap();
    assert_eq!(invoices.data.len(), 1);
    let invoice = c.retrieve_invoice(&invoices.data[0].id).await.unwrap();
    assert_eq!(invoice.status, Some(InvoiceStatus::Paid));
    assert_eq!(invoice.amount_paid, 1500);
    assert_eq!(invoice.subscription_id(), Some(sub.id.as_str()));

    let charges = c.list_charges(&Form::new().set("customer", customer.as_str())).await.unwrap();
    assert_eq!(charges.data.len(), 1);
    let charge = c.retrieve_charge(&charges.data[0].id).await.unwrap();
    assert!(charge.paid);
    let pi = c.retrieve_payment_intent(charge.payment_intent.as_ref().unwrap().id()).await.unwrap();
    assert_eq!(pi.status, "succeeded");
    assert_eq!(pi.latest_charge.as_ref().map(|ch| ch.id()), Some(charge.id.as_str()));

    let refund =
        c.create_refund(&Form::new().set("charge", charge.id.as_str()).set("amount", 500), NONE).await.unwrap();
    assert_eq!(refund.amount, 500);
    assert_eq!(refund.charge.as_ref().unwrap().id(), charge.id);
    let refunds = c.list_refunds(&Form::new().set("charge", charge.id.as_str())).await.unwrap();
    assert_eq!(refunds.data.iter().map(|r| &r.id).collect::<Vec<_>>(), [&refund.id]);
    assert_eq!(c.retrieve_charge(&charge.id).await.unwrap().amount_refunded, 500);

    // Cancel now; the default list hides canceled subscriptions, ours asks for status=all.
    let canceled = c.cancel_subscription(&sub.id, &Form::new(), NONE).await.unwrap();
    assert_eq!(canceled.status, SubscriptionStatus::Canceled);
    let all = c.list_subscriptions(&Form::new()).await.unwrap();
    assert_eq!(
        all.data.iter().map(|s| (&s.id, s.status)).collect::<Vec<_>>(),
        [(&sub.id, SubscriptionStatus::Canceled)]
    );
    let active_only = c.list_subscriptions(&Form::new().set("status", "active")).await.unwrap();
    assert!(active_only.data.is_empty());
}

#[tokio::test]
async fn checkout_portal_and_completion() {
    let s = start_sandbox().await;
    let c = client(&s.base);
    let (customer, price, _) = subscribed_customer(&c, "pm_card_visa").await;
    let session = c
        .create_checkout_session(
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
    assert_eq!(session.mode, "subscription");
    assert_eq!(session.status.as_deref(), Some("open"));
    assert!(session.url.is_some());

    control(&s.base, &format!("/_sandbox/checkout/sessions/{}/complete", session.id), json!({"outcome": "succeeded"}))
        .await;
    let done = c.retrieve_checkout_session(&session.id).await.unwrap();
    assert_eq!(done.status.as_deref(), Some("complete"));
    assert!(done.subscription.is_some());

    let price_data = c.retrieve_price(&price).await.unwrap();
    let one_off = c
        .create_price(
            &Form::new().set("product", price_data.product.id()).set("currency", "usd").set("unit_amount", 900),
            NONE,
        )
        .await
        .unwrap();
    let other = c
        .create_checkout_session(
            &Form::new()
                .set("mode", "payment")
                .set("line_items", vec![Form::new().set("price", one_off.id.as_str()).set("quantity", 1_u32)])
                .set("success_url", "https://console.example/ok"),
            NONE,
        )
        .await
        .unwrap();
    let expired = c.expire_checkout_session(&other.id, NONE).await.unwrap();
    assert_eq!(expired.status.as_deref(), Some("expired"));

    let portal = c
        .create_billing_portal_session(
            &Form::new().set("customer", customer.as_str()).set("return_url", "https://console.example/account"),
            NONE,
        )
        .await
        .unwrap();
    assert_eq!(portal.customer, customer);
    assert!(portal.url.starts_with("http"));
}

#[tokio::test]
async fn webhook_endpoints_and_events() {
    let s = start_sandbox().await;
    let c = client(&s.base);
    let endpoint = c
        .create_webhook_endpoint(
            &Form::new()
                .set("url", "http://127.0.0.1:9/unused")
                .set("enabled_events", vec!["customer.created", "customer.updated"]),
            NONE,
        )
        .await
        .unwrap();
    assert!(endpoint.secret.as_deref().is_some_and(|s| s.starts_with("whsec_")), "secret only on create");
    let listed = c.list_webhook_endpoints(&Form::new()).await.unwrap();
    assert_eq!(listed.data.len(), 1);
    assert_eq!(listed.data[0].secret, None, "never listed");
    let updated =
        c.update_webhook_endpoint(&endpoint.id, &Form::new().set("enabled_events", vec!["*"]), NONE).await.unwrap();
    assert_eq!(updated.enabled_events, ["*"]);
    assert!(c.delete_webhook_endpoint(&endpoint.id, NONE).await.unwrap().deleted);

    let customer = c
        .create_customer(
            &Form::new().set("email", "ev@example.com"),
            &RequestOptions::idempotency_key("insforge:test:customer:ev"),
        )
        .await
        .unwrap();
    let events = c.list_events(&Form::new().set("type", "customer.created")).await.unwrap();
    assert_eq!(events.data.len(), 1);
    let event = c.retrieve_event(&events.data[0].id).await.unwrap();
    assert_eq!(event.event_type, "customer.created");
    assert_eq!(event.object::<stripe_client::models::Customer>().unwrap().id, customer.id);
    let request = event.request.as_ref().unwrap();
    assert_eq!(request.id, customer.request_id, "the event names the request that caused it");
    assert_eq!(request.idempotency_key.as_deref(), Some("insforge:test:customer:ev"));
}

#[tokio::test]
async fn auto_pagination_sees_each_object_exactly_once() {
    let s = start_sandbox().await;
    let c = client(&s.base);
    let mut created = HashSet::new();
    for i in 0..250 {
        let p = c.create_product(&Form::new().set("name", format!("Product {i}")), NONE).await.unwrap();
        created.insert(p.body.id);
    }
    let mut progress = Vec::new();
    let all = c.all_products(&Form::new(), |p| progress.push(p.clone())).await.unwrap();
    assert_eq!(all.len(), 250);
    let seen: HashSet<_> = all.iter().map(|p| p.id.clone()).collect();
    assert_eq!(seen.len(), 250, "no duplicates");
    assert_eq!(seen, created);
    // Newest first, like Stripe.
    assert_eq!(all[0].name, "Product 249");
    assert_eq!(all[249].name, "Product 0");
    assert_eq!(
        progress.iter().map(|p| (p.page, p.page_len, p.total, p.has_more)).collect::<Vec<_>>(),
        [(1, 100, 100, true), (2, 100, 200, true), (3, 50, 250, false)]
    );
    assert!(progress.iter().all(|p| p.request_id.is_some()));

    // The pull-based paginator with a smaller page.
    let mut pages = c.paginate::<stripe_client::models::Product>("/v1/products", Form::new()).page_size(60);
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

    let missing = c.retrieve_customer("cus_doesnotexist").await.unwrap_err();
    let api = missing.api().expect("an API error");
    assert_eq!(
        (api.status, api.error_type.as_str(), api.code.as_deref()),
        (404, "invalid_request_error", Some("resource_missing"))
    );
    assert!(api.message.contains("cus_doesnotexist"));
    assert!(api.request_id.is_some());
    assert!(missing.is_resource_missing());

    let no_name = c.create_product(&Form::new(), NONE).await.unwrap_err();
    assert_eq!(no_name.status(), Some(400));
    assert_eq!(no_name.code(), Some("parameter_missing"));
    assert_eq!(no_name.api().unwrap().param.as_deref(), Some("name"));

    let product = c.create_product(&Form::new().set("name", "P"), NONE).await.unwrap();
    let price = c
        .create_price(
            &Form::new().set("product", product.id.as_str()).set("currency", "usd").set("unit_amount", 100),
            NONE,
        )
        .await
        .unwrap();
    let immutable = c.update_price(&price.id, &Form::new().set("unit_amount", 200), NONE).await.unwrap_err();
    assert_eq!(immutable.code(), Some("parameter_unknown"));
    assert_eq!(immutable.api().unwrap().param.as_deref(), Some("unit_amount"));

    let dangling = c
        .create_price(&Form::new().set("product", "prod_nope").set("currency", "usd").set("unit_amount", 1), NONE)
        .await
        .unwrap_err();
    assert_eq!(dangling.status(), Some(400));
    assert!(dangling.is_resource_missing());

    // 402: a subscription on a declining card leaves an open invoice; paying it is declined.
    let (_, _, sub) = subscribed_customer(&c, "pm_card_chargeDeclinedInsufficientFunds").await;
    let invoice =
        c.list_invoices(&Form::new().set("subscription", sub.id.as_str()).set("status", "open")).await.unwrap();
    assert_eq!(invoice.data.len(), 1, "{:?}", sub.status);
    let declined = c.pay_invoice(&invoice.data[0].id, &Form::new(), NONE).await.unwrap_err();
    assert_eq!(declined.status(), Some(402));
    assert!(declined.is_card_error());
    assert_eq!(declined.code(), Some("card_declined"));
    assert_eq!(declined.decline_code(), Some("insufficient_funds"));

    let unauthorized =
        StripeClient::new(stripe_client::ClientConfig { secret_key: "sk_live_wrong".into(), ..fast_config(&s.base) })
            .unwrap()
            .retrieve_account()
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
    let created = c.create_customer(&Form::new().set("email", "retry@example.com"), NONE).await.unwrap();
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
    let ev = c.list_events(&Form::new().set("type", "customer.created")).await.unwrap();
    assert_eq!(ev.data[0].request.as_ref().unwrap().idempotency_key.as_deref(), Some(key.as_str()));

    // A read through a 500.
    control(
        &s.base,
        "/_sandbox/faults",
        json!({"path_prefix": "/v1/customers/", "method": "GET", "count": 1, "status": 500}),
    )
    .await;
    let fetched = c.retrieve_customer(&created.id).await.unwrap();
    assert_eq!(fetched.attempts, 2);
}

#[tokio::test]
async fn gives_up_after_max_retries() {
    let s = start_sandbox().await;
    let c = StripeClient::new(fast_config(&s.base).max_retries(2)).unwrap();
    control(&s.base, "/_sandbox/faults", json!({"path_prefix": "/v1/account", "count": 10, "status": 502})).await;
    let err = c.retrieve_account().await.unwrap_err();
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
    let account = c.retrieve_account().await.unwrap();
    assert_eq!(account.attempts, 2);
    assert_eq!(c.stats().transport_retries, 1);
}

#[tokio::test]
async fn caller_idempotency_keys_replay() {
    let s = start_sandbox().await;
    let c = client(&s.base);
    let opts = RequestOptions::idempotency_key("insforge:test:product:pro");
    let params = Form::new().set("name", "Pro");
    let first = c.create_product(&params, &opts).await.unwrap();
    let second = c.create_product(&params, &opts).await.unwrap();
    assert!(!first.idempotent_replayed);
    assert!(second.idempotent_replayed);
    assert_eq!(first.id, second.id);
    assert_eq!(s.sandbox.count("product"), Some(1));
    // Same key, other parameters: Stripe refuses.
    let err = c.create_product(&Form::new().set("name", "Other"), &opts).await.unwrap_err();
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
                c.retrieve_account().await.unwrap();
            }
        },
        async {
            for _ in 0..15 {
                clone.retrieve_account().await.unwrap();
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
    assert!(client(&base).retrieve_account().await.is_ok());
    let other =
        StripeClient::new(stripe_client::ClientConfig { secret_key: "sk_test_other".into(), ..fast_config(&base) });
    assert!(other.unwrap().retrieve_account().await.unwrap_err().is_auth_error());
}
