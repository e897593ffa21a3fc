//! The Stripe webhook receiver: signatures, dedup, projections, ordering guard, re-processing.

use std::time::Duration;

use payments_engine::Sealer;
use reqwest::Method;
use serde_json::{json, Value};
use stripe_client::{sign_webhook_payload, unix_now};

use crate::common::*;

pub async fn webhook_secret(h: &Harness) -> String {
    let sealed: String =
        sqlx::query_scalar("SELECT value_sealed FROM payments_secrets WHERE name = 'STRIPE_TEST_WEBHOOK_SECRET'")
            .fetch_one(&h.pool)
            .await
            .unwrap();
    TestSealer.open(&sealed).unwrap().to_string()
}

pub async fn post_raw(base: &str, env: &str, body: &str, signature: Option<String>) -> Resp {
    let mut req = reqwest::Client::new()
        .post(format!("{base}/api/webhooks/stripe/{env}"))
        .header("content-type", "application/json")
        .body(body.to_owned());
    if let Some(sig) = signature {
        req = req.header("stripe-signature", sig);
    }
    let r = req.send().await.unwrap();
    let status = r.status();
    let text = r.text().await.unwrap();
    Resp { status, body: serde_json::from_str(&text).unwrap_or(Value::String(text)) }
}

pub async fn post_event(base: &str, secret: &str, event: &Value) -> Resp {
    let body = event.to_string();
    let sig = sign_webhook_payload(body.as_bytes(), secret, unix_now());
    post_raw(base, "test", &body, Some(sig)).await
}

/// Sends `send(n)` (n = 0, 1, …) until it is answered `status`; that answer. For a change of a
/// signing secret or key made by another instance (or straight in the database): this one
/// notices it within the receiver's cache second (`webhook/signing.rs`), not at once.
pub async fn until_answered<F, Fut>(status: u16, mut send: F) -> Resp
where
    F: FnMut(usize) -> Fut,
    Fut: std::future::Future<Output = Resp>,
{
    let started = std::time::Instant::now();
    for n in 0.. {
        let r = send(n).await;
        if r.status.as_u16() == status {
            return r;
        }
        assert!(started.elapsed() < Duration::from_secs(10), "still {} after 10 s: {}", r.status, r.body);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    unreachable!()
}

pub async fn eventually(h: &Harness, sql: &str, want: i64) {
    for _ in 0..100 {
        if h.scalar_i64(sql).await == want {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("timed out waiting for `{sql}` = {want} (is {})", h.scalar_i64(sql).await);
}

fn subscription_event(id: &str, created: i64, status: &str) -> Value {
    json!({
        "id": id, "object": "event", "type": "customer.subscription.updated", "created": created, "livemode": false,
        "data": {"object": {
            "id": "sub_ord", "object": "subscription", "customer": "cus_ord", "status": status,
            "metadata": {"insforge_subject_type": "team", "insforge_subject_id": "t1"},
            "cancel_at_period_end": false,
            "items": {"object": "list", "has_more": false, "data": [
                {"id": "si_1", "object": "subscription_item", "quantity": 2, "metadata": {},
                 "current_period_start": created, "current_period_end": created + 2_592_000,
                 "price": {"id": "price_1", "product": "prod_1"}}
            ]}
        }}
    })
}

/// [`subscription_event`] for subscription `sub_{name}` (item `si_{name}`) of `customer`.
fn customer_subscription_event(event: &str, name: &str, customer: &str, created: i64) -> Value {
    let mut sub = subscription_event(event, created, "active");
    sub["data"]["object"]["id"] = json!(format!("sub_{name}"));
    sub["data"]["object"]["customer"] = json!(customer);
    sub["data"]["object"]["items"]["data"][0]["id"] = json!(format!("si_{name}"));
    sub
}

#[tokio::test]
async fn signature_failures_are_rejected_with_the_contract_codes() {
    let h = Harness::start().await;
    let body = json!({"id": "evt_x", "type": "customer.created", "data": {"object": {"id": "cus_x"}}}).to_string();
    post_raw(&h.base, "foo", &body, Some("t=1,v1=00".into())).await.err(
        400,
        "INVALID_INPUT",
        "Invalid Stripe environment",
    );
    post_raw(&h.base, "test", &body, None).await.err(401, "AUTH_UNAUTHORIZED", "Missing stripe-signature header");
    // No webhook secret yet.
    post_raw(&h.base, "test", &body, Some("t=1,v1=00".into())).await.err(
        500,
        "INTERNAL_ERROR",
        "STRIPE_TEST_WEBHOOK_SECRET is not configured",
    );
    h.configure(TEST_KEY).await;
    let secret = webhook_secret(&h).await;
    let r = reqwest::Client::new()
        .post(format!("{}/api/webhooks/stripe/test", h.base))
        .header("content-type", "text/plain")
        .header("stripe-signature", "t=1,v1=00")
        .body(body.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let bad = sign_webhook_payload(body.as_bytes(), "whsec_wrong", unix_now());
    post_raw(&h.base, "test", &body, Some(bad)).await.err(
        400,
        "INVALID_INPUT",
        "No signatures found matching the expected signature for payload",
    );
    let stale = sign_webhook_payload(body.as_bytes(), &secret, unix_now() - 301);
    post_raw(&h.base, "test", &body, Some(stale)).await.err(
        400,
        "INVALID_INPUT",
        "Timestamp outside the tolerance zone",
    );
    // Several v1 entries (a secret being rolled): any match is enough.
    let good = sign_webhook_payload(body.as_bytes(), &secret, unix_now());
    let v1 = good.split_once(",v1=").unwrap().1;
    let rolled = format!("t={},v1={},v1={v1}", unix_now(), "ab".repeat(32));
    post_raw(&h.base, "test", &body, Some(rolled)).await.ok(200);
    post_raw(&h.base, "test", &body, Some("garbage".into())).await.err(
        400,
        "INVALID_INPUT",
        "Unable to extract timestamp and signatures from header",
    );
}

/// Invoices and subscriptions whose metadata names no subject take their customer's mapped
/// subject, read inside the write itself; a customer without a mapping leaves it empty, and a
/// later event of the same invoice keeps it.
#[tokio::test]
async fn invoices_and_subscriptions_without_a_subject_take_their_customers_mapping() {
    let h = Harness::start().await;
    h.configure(TEST_KEY).await;
    let secret = webhook_secret(&h).await;
    sqlx::query(
        "INSERT INTO payments_customer_mappings (id, environment, subject_type, subject_id, stripe_customer_id,
             created_at, updated_at) VALUES ('map_1', 'test', 'team', 'mapped', 'cus_mapped', 1, 1)",
    )
    .execute(&h.pool)
    .await
    .unwrap();
    let now = unix_now();
    for customer in ["cus_mapped", "cus_unmapped"] {
        for (n, kind) in ["invoice.paid", "invoice.payment_succeeded"].iter().enumerate() {
            let invoice = json!({"id": format!("evt_inv_{customer}_{n}"), "type": kind, "created": now, "livemode": false,
                "data": {"object": {"id": format!("in_{customer}"), "object": "invoice", "customer": customer,
                    "currency": "usd", "amount_paid": 500, "amount_due": 500, "created": now, "status": "paid",
                    "status_transitions": {"paid_at": now}, "metadata": {}}}});
            post_event(&h.base, &secret, &invoice).await.ok(200);
        }
        let mut sub = customer_subscription_event(&format!("evt_sub_{customer}"), customer, customer, now);
        sub["data"]["object"]["metadata"] = json!({});
        post_event(&h.base, &secret, &sub).await.ok(200);
    }
    let subject = |table: &'static str, column: &'static str, id: &'static str| {
        let sql = format!("SELECT subject_type, subject_id FROM {table} WHERE {column} = $1");
        let pool = h.pool.clone();
        async move { sqlx::query_as::<_, (Option<String>, Option<String>)>(&sql).bind(id).fetch_one(&pool).await.unwrap() }
    };
    let mapped = (Some("team".to_owned()), Some("mapped".to_owned()));
    assert_eq!(subject("payments_payment_history", "stripe_invoice_id", "in_cus_mapped").await, mapped);
    assert_eq!(subject("payments_subscriptions", "stripe_subscription_id", "sub_cus_mapped").await, mapped);
    assert_eq!(subject("payments_payment_history", "stripe_invoice_id", "in_cus_unmapped").await, (None, None));
    assert_eq!(subject("payments_subscriptions", "stripe_subscription_id", "sub_cus_unmapped").await, (None, None));
}

/// A burst of concurrent deliveries, each event sent twice at once, as Stripe's retries and a
/// slow answer can make it. SQLite's writer commits them in batches, PostgreSQL in concurrent
/// transactions: either way each event is applied once, answered only once its commit is
/// done, and the overview's figures count each subscription once.
#[tokio::test]
async fn a_burst_of_concurrent_deliveries_is_applied_once_each_and_counted_once() {
    let h = Harness::start().await;
    h.configure(TEST_KEY).await;
    let secret = webhook_secret(&h).await;
    let now = unix_now();
    let customers = 24;
    let mut events = Vec::new();
    for c in 0..customers {
        events.push(json!({"id": format!("evt_burst_cus_{c}"), "type": "customer.created", "created": now,
            "livemode": false, "data": {"object": {"id": format!("cus_burst_{c}"), "object": "customer",
            "email": format!("burst{c}@example.com"), "metadata": {}}}}));
        events.push(customer_subscription_event(
            &format!("evt_burst_sub_{c}"),
            &format!("burst_{c}"),
            &format!("cus_burst_{c}"),
            now,
        ));
    }
    let mut sent = Vec::new();
    for event in events.iter().chain(events.iter()) {
        let (base, secret, event) = (h.base.clone(), secret.clone(), event.clone());
        sent.push(tokio::spawn(async move { post_event(&base, &secret, &event).await }));
    }
    let mut handled = 0;
    for task in sent {
        let r = task.await.unwrap();
        let body = r.ok(200);
        // Answered after the commit: what the answer says is what the table holds.
        let id = body["event"]["stripeEventId"].as_str().unwrap().to_owned();
        let stored: String =
            sqlx::query_scalar("SELECT processing_status FROM payments_webhook_events WHERE stripe_event_id = $1")
                .bind(&id)
                .fetch_one(&h.pool)
                .await
                .unwrap();
        assert_eq!(stored, "processed", "{id}");
        handled += usize::from(body["handled"] == json!(true));
    }
    assert_eq!(handled, events.len(), "each event handled by exactly one of its two deliveries");
    let n = i64::from(customers);
    let count = |sql: &'static str| h.scalar_i64(sql);
    assert_eq!(count("SELECT COUNT(*) FROM payments_webhook_events WHERE stripe_event_id LIKE 'evt_burst_%' AND attempt_count = 1").await, 2 * n);
    assert_eq!(count("SELECT COUNT(*) FROM payments_customers WHERE stripe_customer_id LIKE 'cus_burst_%'").await, n);
    assert_eq!(
        count("SELECT COUNT(*) FROM payments_subscriptions WHERE stripe_subscription_id LIKE 'sub_burst_%'").await,
        n
    );
    assert_eq!(
        count("SELECT CAST(SUM(subscriptions) AS BIGINT) FROM payments_rollup_statuses WHERE environment = 'test' AND status = 'active'").await,
        n
    );
}

#[tokio::test]
async fn duplicates_ordering_guard_and_reprocessing() {
    let h = Harness::start().await;
    h.configure(TEST_KEY).await;
    let secret = webhook_secret(&h).await;
    let now = unix_now();
    let newer = subscription_event("evt_new", now, "active");
    let r = post_event(&h.base, &secret, &newer).await;
    let body = r.ok(200);
    assert_eq!(body["received"], true);
    assert_eq!(body["handled"], true);
    assert_eq!(body["event"]["processingStatus"], "processed");
    assert_eq!(body["event"]["attemptCount"], 1);
    assert_eq!(body["event"]["objectId"], "sub_ord");
    // Duplicate delivery: 200, not handled, not processed again.
    let dup = post_event(&h.base, &secret, &newer).await;
    assert_eq!(dup.ok(200)["handled"], false);
    assert_eq!(dup.body["event"]["attemptCount"], 1);

    // An older event delivered late does not overwrite the newer state.
    let older = subscription_event("evt_old", now - 100, "past_due");
    post_event(&h.base, &secret, &older).await.ok(200);
    let status: String =
        sqlx::query_scalar("SELECT status FROM payments_subscriptions WHERE stripe_subscription_id = 'sub_ord'")
            .fetch_one(&h.pool)
            .await
            .unwrap();
    assert_eq!(status, "active");
    let subs = h.get("/api/payments/test/subscriptions").await.ok(200).clone();
    assert_eq!(subs["subscriptions"][0]["subjectType"], "team");
    assert_eq!(subs["subscriptions"][0]["items"][0]["quantity"], 2);

    // Re-processing on request (the guard still holds).
    let again = h.send(Method::POST, "/api/payments/test/webhook-events/evt_old/reprocess", json!({})).await;
    assert_eq!(again.ok(200)["event"]["attemptCount"], 2);
    assert_eq!(again.body["event"]["processingStatus"], "processed");
    let newest = subscription_event("evt_newest", now + 1, "canceled");
    post_event(&h.base, &secret, &newest).await.ok(200);
    let status: String =
        sqlx::query_scalar("SELECT status FROM payments_subscriptions WHERE stripe_subscription_id = 'sub_ord'")
            .fetch_one(&h.pool)
            .await
            .unwrap();
    assert_eq!(status, "canceled");
    h.send(Method::POST, "/api/payments/test/webhook-events/evt_nope/reprocess", json!({})).await.err(
        404,
        "PAYMENT_NOT_FOUND",
        "Stripe test webhook event not found: evt_nope",
    );
    // Unknown event types are recorded as ignored.
    let other = json!({"id": "evt_other", "type": "product.created", "created": now, "data": {"object": {"id": "prod_9", "object": "product"}}});
    let r = post_event(&h.base, &secret, &other).await;
    assert_eq!(
        (r.ok(200)["handled"].clone(), r.body["event"]["processingStatus"].clone()),
        (json!(false), json!("ignored"))
    );
}

#[tokio::test]
async fn sandbox_deliveries_are_projected_customers_and_refunds() {
    let h = Harness::start().await;
    h.sandbox.seed_demo();
    h.configure(TEST_KEY).await;
    // A customer created in Stripe arrives through the managed webhook.
    let client = reqwest::Client::new();
    let customer: Value = client
        .post(format!("{}/v1/customers", h.sandbox_base))
        .bearer_auth(TEST_KEY)
        .form(&[("email", "hook@example.com"), ("name", "Hook")])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = customer["id"].as_str().unwrap();
    eventually(
        &h,
        &format!(
            "SELECT COUNT(*) FROM payments_customers WHERE stripe_customer_id = '{id}' AND email = 'hook@example.com'"
        ),
        1,
    )
    .await;

    // A refund of a demo payment (created through the Stripe client) is projected with its original.
    let stripe =
        stripe_client::StripeClient::new(stripe_client::ClientConfig::new(TEST_KEY).api_base(h.sandbox_base.clone()))
            .unwrap();
    let pis: Value = stripe
        .request::<Value>(
            Method::GET,
            "/v1/payment_intents",
            &stripe_client::Form::new().set("limit", 100),
            &stripe_client::RequestOptions::NONE,
        )
        .await
        .unwrap()
        .into_inner();
    let pi = pis["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["status"] == "succeeded" && p["amount_received"].as_i64().unwrap_or(0) > 100)
        .cloned()
        .expect("a succeeded demo payment");
    let pi_id = pi["id"].as_str().unwrap().to_owned();
    let charge: Value = stripe
        .request::<Value>(
            Method::GET,
            &format!("/v1/charges/{}", pi["latest_charge"].as_str().unwrap()),
            &stripe_client::Form::new(),
            &stripe_client::RequestOptions::NONE,
        )
        .await
        .unwrap()
        .into_inner();
    let already = charge["amount_refunded"].as_i64().unwrap_or(0);
    let refund: Value = stripe
        .request::<Value>(
            Method::POST,
            "/v1/refunds",
            &stripe_client::Form::new().set("payment_intent", pi_id.as_str()).set("amount", 100),
            &stripe_client::RequestOptions::NONE,
        )
        .await
        .unwrap()
        .into_inner();
    let re = refund["id"].as_str().unwrap();
    eventually(
        &h,
        &format!(
            "SELECT COUNT(*) FROM payments_payment_history WHERE stripe_refund_id = '{re}' AND status = 'refunded'"
        ),
        1,
    )
    .await;
    let _ = already;
    eventually(
        &h,
        &format!("SELECT COUNT(*) FROM payments_payment_history WHERE stripe_payment_intent_id = '{pi_id}' AND type <> 'refund' AND status IN ('partially_refunded', 'refunded')"),
        1,
    )
    .await;
}

/// A `customer.updated` names the default card by id only: the card the sync expanded (brand,
/// last four, expiry) stays until the customer points at another payment method.
#[tokio::test]
async fn a_customer_event_keeps_the_card_the_sync_expanded() {
    let h = Harness::start().await;
    h.sandbox.seed_demo();
    h.configure(TEST_KEY).await;
    let secret = webhook_secret(&h).await;
    let customers = h.get("/api/payments/test/customers?limit=100").await.ok(200).clone();
    let with_card = customers["customers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["paymentMethodLast4"].is_string())
        .expect("the sync expands the demo's cards")
        .clone();
    let id = with_card["stripeCustomerId"].as_str().unwrap();
    let raw: String = sqlx::query_scalar("SELECT raw FROM payments_customers WHERE stripe_customer_id = $1")
        .bind(id)
        .fetch_one(&h.pool)
        .await
        .unwrap();
    let raw: Value = serde_json::from_str(&raw).unwrap();
    let pm = raw.pointer("/invoice_settings/default_payment_method/id").and_then(Value::as_str).unwrap().to_owned();
    let updated = |n: u32, pm: &str| {
        json!({"id": format!("evt_card_{n}"), "type": "customer.updated", "created": unix_now() + i64::from(n), "livemode": false,
            "data": {"object": {"id": id, "object": "customer", "email": "renamed@example.com", "metadata": {},
                "invoice_settings": {"default_payment_method": pm}}}})
    };
    let q = format!("/api/payments/test/customers?ids={id}");
    post_event(&h.base, &secret, &updated(1, &pm)).await.ok(200);
    let after = h.get(&q).await.ok(200)["customers"][0].clone();
    assert_eq!(after["email"], "renamed@example.com", "the event was applied");
    for key in ["paymentMethodBrand", "paymentMethodLast4", "paymentMethodExpMonth", "paymentMethodExpYear"] {
        assert_eq!(after[key], with_card[key], "{key}");
    }
    // Another payment method: the old card is not shown for it.
    post_event(&h.base, &secret, &updated(2, "pm_other")).await.ok(200);
    assert_eq!(h.get(&q).await.ok(200)["customers"][0]["paymentMethodLast4"], Value::Null);
}

/// A refund can arrive before the payment it refunds (Stripe does not order deliveries): the
/// payment's row, when it is written, takes the refunds already recorded for its charge (the
/// insert counts them), and the refund row takes the payment's subject.
#[tokio::test]
async fn a_payment_written_after_its_refund_counts_it() {
    let h = Harness::start().await;
    h.configure(TEST_KEY).await;
    let secret = webhook_secret(&h).await;
    let event = |id: &str, kind: &str, object: Value| {
        json!({"id": id, "object": "event", "type": kind, "created": unix_now(), "livemode": false,
            "data": {"object": object}})
    };
    let refund = |id: &str, amount: i64| {
        json!({"id": id, "object": "refund", "charge": "ch_early", "amount": amount, "currency": "usd",
            "status": "succeeded", "created": unix_now()})
    };
    let row = |pi: &str| {
        format!(
            "SELECT status || ' ' || CAST(amount_refunded AS TEXT) FROM payments_payment_history
             WHERE stripe_payment_intent_id = '{pi}' AND type <> 'refund'"
        )
    };
    let text = |sql: String| {
        let pool = h.pool.clone();
        async move { sqlx::query_scalar::<_, String>(&sql).fetch_one(&pool).await.unwrap() }
    };
    let payment = |pi: &str, charge: &str| {
        json!({"id": pi, "object": "payment_intent", "amount": 1000, "amount_received": 1000, "currency": "usd",
            "status": "succeeded", "created": unix_now(), "latest_charge": charge,
            "metadata": {"insforge_checkout_mode": "payment", "insforge_subject_type": "team",
                "insforge_subject_id": "early"}})
    };

    post_event(&h.base, &secret, &event("evt_early_re", "refund.created", refund("re_early", 400))).await.ok(200);
    let early = payment("pi_early", "ch_early");
    post_event(&h.base, &secret, &event("evt_early_pi", "payment_intent.succeeded", early)).await.ok(200);
    assert_eq!(text(row("pi_early")).await, "partially_refunded 400");
    let subject = "SELECT subject_id FROM payments_payment_history WHERE stripe_refund_id = 're_early'";
    assert_eq!(text(subject.into()).await, "early", "the refund row takes the payment's subject");

    // A payment without refunds reads none.
    let plain = payment("pi_plain", "ch_plain");
    post_event(&h.base, &secret, &event("evt_plain_pi", "payment_intent.succeeded", plain)).await.ok(200);
    assert_eq!(text(row("pi_plain")).await, "succeeded 0");
}
