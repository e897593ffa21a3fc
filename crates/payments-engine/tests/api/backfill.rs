//! Payment history from Stripe itself (issue #11): a sync backfills what Stripe holds, imports
//! its recent events once, and replaying every event afterwards changes nothing.

use std::collections::BTreeMap;
use std::time::Duration;

use reqwest::Method;
use serde_json::{json, Value};
use stripe_client::{Form, RequestOptions, StripeClient};
use stripe_sandbox::CheckoutOutcome;

use crate::common::*;
use crate::webhooks::{post_event, webhook_secret};

const SUBJECT: [(&str, &str); 2] =
    [("metadata[insforge_subject_type]", "team"), ("metadata[insforge_subject_id]", "acme")];

fn stripe(h: &Harness) -> StripeClient {
    StripeClient::new(stripe_client::ClientConfig::new(TEST_KEY).api_base(h.sandbox_base.clone())).unwrap()
}

async fn call(stripe: &StripeClient, method: Method, path: &str, form: Form) -> Value {
    stripe.request::<Value>(method, path, &form, &RequestOptions::NONE).await.unwrap().into_inner()
}

/// Every object of a Stripe list, newest first.
async fn all(stripe: &StripeClient, path: &str, form: Form) -> Vec<Value> {
    stripe.list_all(path, form, |_| {}).await.unwrap()
}

fn with_subject(form: Form) -> Form {
    SUBJECT.iter().fold(form, |f, (k, v)| f.set(*k, *v))
}

/// Drives the sandbox, before any console connects, through what support staff ask about:
/// one-time payments (one refunded in full, one in part), a declined one-time payment, and a
/// subscription with two paid renewals and a failed one. Returns the customer's id.
async fn stripe_history(h: &Harness) -> String {
    let s = stripe(h);
    let product = call(&s, Method::POST, "/v1/products", Form::new().set("name", "Pro")).await;
    let product = product["id"].as_str().unwrap();
    let price = |amount: i64, monthly: bool| {
        let f = Form::new().set("product", product).set("currency", "usd").set("unit_amount", amount);
        if monthly {
            f.set("recurring", Form::new().set("interval", "month"))
        } else {
            f
        }
    };
    let one_time = call(&s, Method::POST, "/v1/prices", price(5000, false)).await;
    let monthly = call(&s, Method::POST, "/v1/prices", price(2000, true)).await;
    let customer = call(
        &s,
        Method::POST,
        "/v1/customers",
        Form::new()
            .set("email", "billing@acme.test")
            .set("payment_method", "pm_card_visa")
            .set("invoice_settings", Form::new().set("default_payment_method", "pm_card_visa")),
    )
    .await;
    let customer = customer["id"].as_str().unwrap().to_owned();
    let session = |mode: &str, price: &str| {
        let mut f = with_subject(Form::new())
            .set("mode", mode)
            .set("customer", customer.as_str())
            .set("success_url", "http://127.0.0.1/ok")
            .set("cancel_url", "http://127.0.0.1/cancel")
            .set("line_items[0][price]", price)
            .set("line_items[0][quantity]", 1);
        if mode == "payment" {
            f = f
                .set("payment_intent_data[metadata][insforge_checkout_mode]", "payment")
                .set("payment_intent_data[metadata][insforge_subject_type]", "team")
                .set("payment_intent_data[metadata][insforge_subject_id]", "acme");
        } else {
            f = f
                .set("subscription_data[metadata][insforge_subject_type]", "team")
                .set("subscription_data[metadata][insforge_subject_id]", "acme");
        }
        f
    };
    let one_time = one_time["id"].as_str().unwrap();
    let mut paid = Vec::new();
    for _ in 0..3 {
        let cs = call(&s, Method::POST, "/v1/checkout/sessions", session("payment", one_time)).await;
        let done = h.sandbox.complete_checkout(cs["id"].as_str().unwrap(), CheckoutOutcome::Succeeded).unwrap();
        paid.push(done["payment_intent"].as_str().unwrap().to_owned());
    }
    let declined = call(&s, Method::POST, "/v1/checkout/sessions", session("payment", one_time)).await;
    assert!(h
        .sandbox
        .complete_checkout(declined["id"].as_str().unwrap(), CheckoutOutcome::Declined("generic_decline"))
        .is_err());

    let cs =
        call(&s, Method::POST, "/v1/checkout/sessions", session("subscription", monthly["id"].as_str().unwrap())).await;
    let done = h.sandbox.complete_checkout(cs["id"].as_str().unwrap(), CheckoutOutcome::Succeeded).unwrap();
    let sub = done["subscription"].as_str().unwrap();
    h.sandbox.advance_subscription(sub, Some(true)).unwrap();
    h.sandbox.advance_subscription(sub, Some(true)).unwrap();
    h.sandbox.advance_subscription(sub, Some(false)).unwrap();

    call(&s, Method::POST, "/v1/refunds", Form::new().set("payment_intent", paid[0].as_str())).await;
    call(&s, Method::POST, "/v1/refunds", Form::new().set("payment_intent", paid[1].as_str()).set("amount", 1500))
        .await;
    customer
}

/// A history row as support sees it: `(kind, key) → (status, amount, refunded, subject)`.
type Rows = BTreeMap<(String, String), (String, i64, i64, String)>;

/// The history Stripe's objects imply, computed from Stripe's lists alone.
async fn expected_from_stripe(h: &Harness) -> Rows {
    let s = stripe(h);
    let mut rows = Rows::new();
    let refunds = all(&s, "/v1/refunds", Form::new()).await;
    let refunded = |pi: &str| -> i64 {
        refunds
            .iter()
            .filter(|r| r["payment_intent"] == pi && r["status"] == "succeeded")
            .map(|r| r["amount"].as_i64().unwrap())
            .sum()
    };
    let status = |amount: i64, refunded: i64| match refunded {
        0 => "succeeded",
        r if r >= amount => "refunded",
        _ => "partially_refunded",
    };
    for cs in all(&s, "/v1/checkout/sessions", Form::new().set("status", "complete")).await {
        if cs["mode"] != "payment" {
            continue;
        }
        let pi = cs["payment_intent"].as_str().unwrap();
        let amount = cs["amount_total"].as_i64().unwrap();
        let r = refunded(pi);
        rows.insert(("one_time_payment".into(), pi.into()), (status(amount, r).into(), amount, r, "team:acme".into()));
    }
    for pi in all(&s, "/v1/payment_intents", Form::new()).await {
        if pi["metadata"]["insforge_checkout_mode"] == "payment" && pi["status"] != "succeeded" {
            let key = ("failed_payment".to_owned(), pi["id"].as_str().unwrap().to_owned());
            rows.insert(key, ("failed".into(), pi["amount"].as_i64().unwrap(), 0, "team:acme".into()));
        }
    }
    for inv in all(&s, "/v1/invoices", Form::new()).await {
        let id = inv["id"].as_str().unwrap().to_owned();
        let row = match inv["status"].as_str().unwrap() {
            "paid" => ("succeeded".to_owned(), inv["amount_paid"].as_i64().unwrap()),
            _ if inv["attempted"] == true => ("failed".to_owned(), inv["amount_due"].as_i64().unwrap()),
            _ => continue,
        };
        rows.insert(("subscription_invoice".into(), id), (row.0, row.1, 0, "team:acme".into()));
    }
    for r in &refunds {
        let key = ("refund".to_owned(), r["id"].as_str().unwrap().to_owned());
        rows.insert(key, ("refunded".into(), r["amount"].as_i64().unwrap(), 0, "team:acme".into()));
    }
    rows
}

/// The stored history, keyed like [`expected_from_stripe`].
async fn stored(h: &Harness) -> Rows {
    let rows: Vec<(
        String,
        String,
        Option<i64>,
        Option<i64>,
        Option<String>,
        Option<String>,
        Option<String>,
        Option<String>,
        Option<String>,
    )> = sqlx::query_as(
        "SELECT type, status, amount, amount_refunded, subject_type, subject_id, stripe_payment_intent_id,
                 stripe_invoice_id, stripe_refund_id
             FROM payments_payment_history WHERE environment = 'test'",
    )
    .fetch_all(&h.pool)
    .await
    .unwrap();
    let mut out = Rows::new();
    for (kind, status, amount, refunded, st, si, pi, inv, re) in rows {
        let key = match kind.as_str() {
            "refund" => re,
            "subscription_invoice" => inv,
            _ => pi,
        }
        .unwrap_or_default();
        let subject = format!("{}:{}", st.unwrap_or_default(), si.unwrap_or_default());
        let previous = out.insert((kind, key.clone()), (status, amount.unwrap_or(0), refunded.unwrap_or(0), subject));
        assert!(previous.is_none(), "two history rows for {key}");
    }
    out
}

/// Every column support reads, for "nothing changed" (not `raw`, `updated_at`).
async fn snapshot(h: &Harness) -> Vec<Vec<Option<String>>> {
    let columns = "type, status, subject_type, subject_id, stripe_customer_id, stripe_checkout_session_id, \
        stripe_payment_intent_id, stripe_invoice_id, stripe_charge_id, stripe_refund_id, stripe_subscription_id, \
        CAST(amount AS TEXT), CAST(amount_refunded AS TEXT), currency, description, CAST(paid_at AS TEXT), \
        CAST(failed_at AS TEXT), CAST(refunded_at AS TEXT), CAST(stripe_created_at AS TEXT)";
    let rows = sqlx::query(&format!("SELECT {columns} FROM payments_payment_history ORDER BY id"))
        .fetch_all(&h.pool)
        .await
        .unwrap();
    use sqlx::Row;
    rows.iter().map(|r| (0..19).map(|i| r.try_get::<Option<String>, _>(i).unwrap()).collect()).collect()
}

/// Stripe's events of the managed types, oldest first (as Stripe would have delivered them).
async fn stripe_events(h: &Harness) -> Vec<Value> {
    let form = Form::new().set("types", payments_engine::MANAGED_WEBHOOK_EVENTS.to_vec());
    let mut events = all(&stripe(h), "/v1/events", form).await;
    events.reverse();
    events
}

#[tokio::test]
async fn a_first_sync_backfills_stripes_history_and_its_events_then_replaying_them_changes_nothing() {
    let h = Harness::start().await;
    let customer = stripe_history(&h).await;
    // Every event is older than the sync's snapshot (whole seconds, like `created`).
    tokio::time::sleep(Duration::from_millis(1100)).await;

    let config = h.configure(TEST_KEY).await;
    assert_eq!(config["keys"][0]["hasKey"], true);
    let want = expected_from_stripe(&h).await;
    let kinds: Vec<&str> = want.keys().map(|(k, _)| k.as_str()).collect();
    for kind in ["one_time_payment", "failed_payment", "subscription_invoice", "refund"] {
        assert!(kinds.contains(&kind), "the scenario has no {kind}: {want:?}");
    }
    assert_eq!(want.values().filter(|r| r.0 == "failed").count(), 2, "{want:?}");
    assert_eq!(stored(&h).await, want);

    // The subject's customer is recovered from the sessions' metadata.
    let mapped: String = sqlx::query_scalar(
        "SELECT stripe_customer_id FROM payments_customer_mappings WHERE subject_type = 'team' AND subject_id = 'acme'",
    )
    .fetch_one(&h.pool)
    .await
    .unwrap();
    assert_eq!(mapped, customer);

    // The event log holds Stripe's events, each handled once, in the order they happened.
    let events = stripe_events(&h).await;
    assert!(events.len() > 15, "{} events", events.len());
    let logged: Vec<(String, String, i64)> = sqlx::query_as(
        "SELECT stripe_event_id, processing_status, received_at FROM payments_webhook_events
         WHERE environment = 'test' ORDER BY received_at, stripe_event_id",
    )
    .fetch_all(&h.pool)
    .await
    .unwrap();
    assert_eq!(logged.len(), events.len());
    for (id, status, received) in &logged {
        let event = events.iter().find(|e| e["id"] == id.as_str()).expect("an event Stripe has");
        assert!(status == "processed" || status == "ignored", "{id}: {status}");
        assert_eq!(*received, event["created"].as_i64().unwrap() * 1000, "{id}");
    }

    // Status and the sync's progress report the backfill.
    let status = h.get("/api/payments/status").await.ok(200).clone();
    let counts = &status["connections"][0]["lastSyncCounts"];
    let payments = want.keys().filter(|(k, _)| k != "refund").count() as i64;
    assert_eq!(counts["payments"], payments, "{counts}");
    assert_eq!(counts["refunds"], 2, "{counts}");
    assert_eq!(counts["events"], events.len() as i64, "{counts}");
    let progress = h.engine.sync_progress(payments_engine::Environment::Test);
    assert_eq!(progress.objects["refunds"].fetched, 2);
    assert_eq!(progress.objects["events"].fetched, events.len() as u64);

    // A second sync imports no event again and changes no row.
    let before = snapshot(&h).await;
    let again = h.send(Method::POST, "/api/payments/test/sync", json!({})).await.ok(200).clone();
    let history = &again["results"][0]["history"];
    assert_eq!(history["events"], 0, "{again}");
    assert_eq!(history["payments"], payments, "{again}");
    assert_eq!(history["mappings"], 0, "{again}");
    assert_eq!(snapshot(&h).await, before);
    assert_eq!(h.scalar_i64("SELECT COUNT(*) FROM payments_webhook_events").await, events.len() as i64);

    // Replaying every event (the log cleared, so that each delivery is applied, not
    // deduplicated) changes nothing either: the backfill is newer than all of them.
    sqlx::query("DELETE FROM payments_webhook_events").execute(&h.pool).await.unwrap();
    let secret = webhook_secret(&h).await;
    for event in &events {
        let r = post_event(&h.base, &secret, event).await;
        assert_eq!(r.status, 200, "{}: {}", event["type"], r.body);
    }
    assert_eq!(snapshot(&h).await, before);

    // And the webhooks alone, into an empty history, project the same rows: the backfill
    // resolves each object by the webhook's own rules.
    sqlx::query("DELETE FROM payments_payment_history").execute(&h.pool).await.unwrap();
    sqlx::query("DELETE FROM payments_webhook_events").execute(&h.pool).await.unwrap();
    for event in &events {
        let r = post_event(&h.base, &secret, event).await;
        assert_eq!(r.status, 200, "{}: {}", event["type"], r.body);
    }
    assert_eq!(stored(&h).await, want);
}

#[tokio::test]
async fn the_history_window_leaves_older_payments_and_events_out() {
    let h = Harness::start_engine_with(|c| c.history_days = Some(0)).await;
    stripe_history(&h).await;
    tokio::time::sleep(Duration::from_millis(1100)).await;
    h.configure(TEST_KEY).await;
    // A zero-day window starts at the sync itself: everything Stripe holds is older.
    assert_eq!(h.scalar_i64("SELECT COUNT(*) FROM payments_payment_history").await, 0);
    assert_eq!(h.scalar_i64("SELECT COUNT(*) FROM payments_webhook_events").await, 0);
    // The mirror is whole all the same.
    assert_eq!(h.scalar_i64("SELECT COUNT(*) FROM payments_subscriptions").await, 1);
    let r = h.send(Method::POST, "/api/payments/test/sync", json!({})).await.ok(200).clone();
    let history = &r["results"][0]["history"];
    assert_eq!(history["payments"], 0, "{r}");
    let since = history["since"].as_str().unwrap();
    assert!(since.ends_with('Z') && since.len() == 24, "{since}");

    // Without a window the same history is backfilled.
    let all_of_it = Harness::start().await;
    stripe_history(&all_of_it).await;
    all_of_it.configure(TEST_KEY).await;
    assert_eq!(stored(&all_of_it).await, expected_from_stripe(&all_of_it).await);
    assert!(all_of_it.scalar_i64("SELECT COUNT(*) FROM payments_payment_history").await >= 8);
}

#[tokio::test]
async fn the_backfill_recovers_mappings_but_never_repoints_one_nor_maps_a_deleted_customer() {
    let h = Harness::start().await;
    let customer = stripe_history(&h).await;
    h.configure(TEST_KEY).await;
    let mapped =
        "SELECT stripe_customer_id FROM payments_customer_mappings WHERE subject_type = 'team' AND subject_id = 'acme'";
    let current = || async { sqlx::query_scalar::<_, String>(mapped).fetch_optional(&h.pool).await.unwrap() };
    assert_eq!(current().await.as_deref(), Some(customer.as_str()));

    // A newer checkout (through this engine) mapped the subject elsewhere: history leaves it.
    sqlx::query("UPDATE payments_customer_mappings SET stripe_customer_id = 'cus_newer' WHERE subject_id = 'acme'")
        .execute(&h.pool)
        .await
        .unwrap();
    let r = h.send(Method::POST, "/api/payments/test/sync", json!({})).await.ok(200).clone();
    assert_eq!(r["results"][0]["history"]["mappings"], 0, "{r}");
    assert_eq!(current().await.as_deref(), Some("cus_newer"));

    // A customer Stripe no longer has is not mapped again.
    sqlx::query("DELETE FROM payments_customer_mappings").execute(&h.pool).await.unwrap();
    call(&stripe(&h), Method::DELETE, &format!("/v1/customers/{customer}"), Form::new()).await;
    h.send(Method::POST, "/api/payments/test/sync", json!({})).await.ok(200);
    assert_eq!(current().await, None);
}
