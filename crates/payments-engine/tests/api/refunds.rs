//! Refunds by admins (`POST /{env}/refunds`, additive) and the history's `object` filter that
//! finds the rows of any one Stripe object (search by id).

use std::sync::Arc;
use std::time::Duration;

use reqwest::Method;
use serde_json::{json, Value};

use crate::audit::Recorder;
use crate::common::*;

async fn history(h: &Harness, query: &str) -> Vec<Value> {
    let body = h.get(&format!("/api/payments/test/payment-history?limit=100{query}")).await.ok(200).clone();
    body["paymentHistory"].as_array().cloned().unwrap_or_default()
}

/// The rows of one object, waited for until `done` holds (webhooks arrive asynchronously).
async fn object_rows(h: &Harness, id: &str, done: impl Fn(&[Value]) -> bool) -> Vec<Value> {
    for _ in 0..100 {
        let rows = history(h, &format!("&object={id}")).await;
        if done(&rows) {
            return rows;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the history of {id} never got there: {:?}", history(h, &format!("&object={id}")).await);
}

#[tokio::test]
async fn an_admin_refunds_part_of_a_payment_once_and_the_history_follows() {
    let rec = Arc::new(Recorder::default());
    let h = Harness::start_audited(rec.clone()).await;
    h.sandbox.seed_demo();
    h.configure(TEST_KEY).await;
    let payment = history(&h, "&type=one_time_payment&status=succeeded")
        .await
        .into_iter()
        .find(|p| p["stripePaymentIntentId"].is_string() && p["amount"].as_i64().unwrap_or(0) > 300)
        .expect("the demo has a succeeded one-time payment");
    let pi = payment["stripePaymentIntentId"].as_str().unwrap().to_owned();
    let amount = payment["amount"].as_i64().unwrap();
    rec.take();

    // A double click: the same idempotency key twice makes one refund at Stripe.
    let body =
        json!({"paymentIntentId": pi, "amount": 150, "reason": "requested_by_customer", "idempotencyKey": "click-1"});
    let first = h.send(Method::POST, "/api/payments/test/refunds", body.clone()).await.ok(201).clone();
    let again = h.send(Method::POST, "/api/payments/test/refunds", body).await.ok(201).clone();
    let refund = &first["refund"];
    assert_eq!(refund["stripeRefundId"], again["refund"]["stripeRefundId"]);
    assert_eq!((refund["amount"].as_i64(), refund["stripePaymentIntentId"].as_str()), (Some(150), Some(pi.as_str())));
    assert_eq!(
        (refund["status"].as_str(), refund["reason"].as_str()),
        (Some("succeeded"), Some("requested_by_customer"))
    );
    assert_eq!(refund["environment"], "test");
    let at_stripe = h.sandbox.list("refund").unwrap();
    assert_eq!(at_stripe.iter().filter(|r| r["payment_intent"] == pi.as_str()).count(), 1, "{at_stripe:?}");

    // Audited, with Stripe's request id and the scoped idempotency key.
    let audit = rec.take();
    let entry = audit.iter().find(|a| a.action == "payments.refund.create").expect("audited");
    assert_eq!(entry.target.as_deref(), Some(pi.as_str()));
    assert!(entry.stripe_request_id().is_some_and(|id| id.starts_with("req_")), "{entry:?}");

    // Stripe's refusal comes back with Stripe's message, and refunds nothing.
    let too_much =
        h.send(Method::POST, "/api/payments/test/refunds", json!({"paymentIntentId": pi, "amount": amount})).await;
    assert_eq!(too_much.status.as_u16(), 400, "{}", too_much.body);
    assert_eq!(too_much.body["error"], "UPSTREAM_FAILURE");
    let message = too_much.body["message"].as_str().unwrap();
    assert!(message.contains("greater than unrefunded amount"), "{message}");

    // The history follows Stripe's events: a refund row, and the payment partially refunded.
    let rows = object_rows(&h, &pi, |rows| rows.iter().any(|r| r["type"] == "refund")).await;
    let refund_row = rows.iter().find(|r| r["type"] == "refund").unwrap();
    assert_eq!(refund_row["stripeRefundId"], refund["stripeRefundId"]);
    assert_eq!(refund_row["amount"], 150);
    let rows =
        object_rows(&h, &pi, |rows| rows.iter().any(|r| r["type"] != "refund" && r["amountRefunded"] == 150)).await;
    let paid = rows.iter().find(|r| r["type"] != "refund").unwrap();
    assert_eq!(paid["status"], "partially_refunded", "{paid}");

    // The rest of it, without an amount.
    let rest = h.send(Method::POST, "/api/payments/test/refunds", json!({"paymentIntentId": pi})).await.ok(201).clone();
    assert_eq!(rest["refund"]["amount"].as_i64(), Some(amount - 150));
}

#[tokio::test]
async fn refund_bodies_are_checked_before_stripe_is_asked() {
    let h = Harness::start().await;
    h.configure(TEST_KEY).await;
    let post = |body: Value| h.send(Method::POST, "/api/payments/test/refunds", body);
    post(json!({})).await.err(400, "INVALID_INPUT", "paymentIntentId: Required");
    post(json!({"paymentIntentId": " "})).await.err(
        400,
        "INVALID_INPUT",
        "paymentIntentId: PaymentIntent id is required",
    );
    post(json!({"paymentIntentId": "pi_1", "amount": 0})).await.err(
        400,
        "INVALID_INPUT",
        "amount: Number must be greater than 0",
    );
    post(json!({"paymentIntentId": "pi_1", "amount": 1.5})).await.err(
        400,
        "INVALID_INPUT",
        "amount: Expected integer, received float",
    );
    post(json!({"paymentIntentId": "pi_1", "reason": "changed_mind"})).await.err(
        400,
        "INVALID_INPUT",
        "reason: Invalid enum value. Expected 'requested_by_customer' | 'duplicate' | 'fraudulent', received 'changed_mind'",
    );
    post(json!({"paymentIntentId": "pi_1", "charge": "ch_1"})).await.err(
        400,
        "INVALID_INPUT",
        ": Unrecognized key(s) in object: 'charge'",
    );
    // Stripe does not know the PaymentIntent: its message.
    let unknown = post(json!({"paymentIntentId": "pi_missing"})).await;
    assert_eq!((unknown.status.as_u16(), unknown.body["error"].as_str()), (400, Some("UPSTREAM_FAILURE")));
    assert!(unknown.body["message"].as_str().unwrap().contains("pi_missing"), "{}", unknown.body);
    // Nothing was refunded by any of them.
    assert!(h.sandbox.list("refund").unwrap().is_empty());
}

#[tokio::test]
async fn the_history_finds_the_rows_of_any_stripe_object_id() {
    let h = Harness::start().await;
    h.sandbox.seed_demo();
    h.configure(TEST_KEY).await;
    let refunds = history(&h, "&type=refund").await;
    let refund = refunds.iter().find(|r| r["stripePaymentIntentId"].is_string()).expect("the demo has refunds");
    let pi = refund["stripePaymentIntentId"].as_str().unwrap();
    let re = refund["stripeRefundId"].as_str().unwrap();

    // A PaymentIntent: its payment and its refunds, newest first.
    let rows = history(&h, &format!("&object={pi}")).await;
    assert!(rows.iter().any(|r| r["type"] == "refund" && r["stripeRefundId"] == re), "{rows:?}");
    assert!(rows.iter().any(|r| r["type"] != "refund"), "{rows:?}");
    assert!(rows.iter().all(|r| r["stripePaymentIntentId"] == pi), "{rows:?}");
    // A refund: its row only.
    let rows = history(&h, &format!("&object={re}")).await;
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0]["stripeRefundId"], re);
    // An invoice and a Checkout Session: their payment rows.
    let invoice = history(&h, "&type=subscription_invoice").await;
    let invoice = invoice.iter().find_map(|r| r["stripeInvoiceId"].as_str()).expect("the demo has invoices").to_owned();
    let rows = history(&h, &format!("&object={invoice}")).await;
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0]["stripeInvoiceId"], invoice.as_str());
    // Combined with other filters, and paged like every list.
    assert!(history(&h, &format!("&object={pi}&type=refund")).await.iter().all(|r| r["type"] == "refund"));
    let paged = h.get(&format!("/api/payments/test/payment-history?object={re}&cursor=")).await.ok(200).clone();
    assert_eq!(paged["nextCursor"], Value::Null);
    // Unknown objects find nothing; ids of other kinds are refused plainly.
    assert!(history(&h, "&object=pi_missing").await.is_empty());
    h.get("/api/payments/test/payment-history?object=cus_1").await.err(
        400,
        "INVALID_INPUT",
        "object: Expected a pi_, cs_, in_, ch_ or re_ id",
    );
}
