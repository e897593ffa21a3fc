//! No Stripe event is acknowledged unprocessed: a delivery that finds the event claimed and
//! unfinished answers non-2xx, an expired claim is taken over, and the sweeper finishes what a
//! crashed delivery left behind.

use serde_json::{json, Value};
use stripe_client::unix_now;

use crate::common::*;
use crate::webhooks::{post_event, webhook_secret};

fn customer_event(id: &str, customer: &str) -> Value {
    json!({"id": id, "object": "event", "type": "customer.created", "created": unix_now(), "livemode": false,
        "data": {"object": {"id": customer, "object": "customer", "email": "claim@example.com", "metadata": {}}}})
}

/// What a delivery that died after claiming `event` leaves behind: its `pending` row, claimed
/// `age_ms` ago, and nothing applied.
async fn abandoned_claim(h: &Harness, event: &Value, age_ms: i64) {
    let at = payments_engine::time::now_ms() - age_ms;
    sqlx::query(
        "INSERT INTO payments_webhook_events (id, environment, stripe_event_id, event_type, livemode, object_type,
             object_id, processing_status, attempt_count, payload, received_at, created_at, updated_at)
         VALUES ($1, 'test', $2, $3, 0, 'customer', $4, 'pending', 1, $5, $6, $6, $6)",
    )
    .bind(format!("row_{}", event["id"].as_str().unwrap()))
    .bind(event["id"].as_str().unwrap())
    .bind(event["type"].as_str().unwrap())
    .bind(event.pointer("/data/object/id").and_then(Value::as_str).unwrap())
    .bind(event.to_string())
    .bind(at)
    .execute(&h.pool)
    .await
    .unwrap();
}

async fn status_of(h: &Harness, event: &str) -> (String, i64) {
    sqlx::query_as(&format!(
        "SELECT processing_status, CAST(attempt_count AS BIGINT) FROM payments_webhook_events WHERE stripe_event_id = '{event}'"
    ))
    .fetch_one(&h.pool)
    .await
    .unwrap()
}

async fn customers(h: &Harness, id: &str) -> i64 {
    h.scalar_i64(&format!("SELECT COUNT(*) FROM payments_customers WHERE stripe_customer_id = '{id}'")).await
}

#[tokio::test]
async fn a_redelivery_of_an_unfinished_event_is_refused_until_its_claim_expires() {
    let h = Harness::start().await;
    h.configure(TEST_KEY).await;
    let secret = webhook_secret(&h).await;

    // Claimed a moment ago by a delivery still at work (or one that could not record its
    // outcome): answering 200 here would make Stripe stop retrying an event never applied.
    let event = customer_event("evt_inflight", "cus_inflight");
    abandoned_claim(&h, &event, 1_000).await;
    let r = post_event(&h.base, &secret, &event).await;
    r.err(
        409,
        "PAYMENT_WEBHOOK_IN_PROGRESS",
        "Stripe event evt_inflight is being processed by another delivery; retry later",
    );
    assert_eq!(status_of(&h, "evt_inflight").await, ("pending".into(), 1));
    assert_eq!(customers(&h, "cus_inflight").await, 0);

    // A claim older than the lease was abandoned: the redelivery takes it over and applies it.
    let event = customer_event("evt_abandoned", "cus_abandoned");
    abandoned_claim(&h, &event, 10 * 60 * 1000).await;
    let r = post_event(&h.base, &secret, &event).await;
    assert_eq!(r.ok(200)["handled"], true);
    assert_eq!(r.body["event"]["processingStatus"], "processed");
    assert_eq!(status_of(&h, "evt_abandoned").await, ("processed".into(), 2));
    assert_eq!(customers(&h, "cus_abandoned").await, 1);
    // Once done, further deliveries are acknowledged without processing (the contract's 200).
    let again = post_event(&h.base, &secret, &event).await;
    assert_eq!(again.ok(200)["handled"], false);
    assert_eq!(status_of(&h, "evt_abandoned").await, ("processed".into(), 2));
}

#[tokio::test]
async fn the_sweeper_finishes_events_a_crash_left_behind() {
    let h = Harness::start().await;
    h.configure(TEST_KEY).await;
    let stale = customer_event("evt_crashed", "cus_crashed");
    abandoned_claim(&h, &stale, 10 * 60 * 1000).await;
    let fresh = customer_event("evt_working", "cus_working");
    abandoned_claim(&h, &fresh, 1_000).await;

    assert_eq!(h.engine.sweep_abandoned_events().await.unwrap(), 1);
    assert_eq!(status_of(&h, "evt_crashed").await, ("processed".into(), 2));
    assert_eq!(customers(&h, "cus_crashed").await, 1);
    // A claim within its lease belongs to a live delivery: left alone.
    assert_eq!(status_of(&h, "evt_working").await, ("pending".into(), 1));
    assert_eq!(customers(&h, "cus_working").await, 0);
    // Nothing is processed twice.
    assert_eq!(h.engine.sweep_abandoned_events().await.unwrap(), 0);
    assert_eq!(status_of(&h, "evt_crashed").await, ("processed".into(), 2));
}
