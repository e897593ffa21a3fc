//! The receiver unseals its signing secret once per stored value (issue #10), so a changed
//! secret must be noticed at the next delivery, whoever changed it: the endpoint's re-creation,
//! a key removal, or another instance writing the shared database.

use payments_engine::Sealer;
use reqwest::Method;
use serde_json::{json, Value};
use stripe_client::unix_now;

use crate::common::*;
use crate::webhooks::{post_event, webhook_secret};

fn event(id: &str) -> Value {
    json!({"id": id, "object": "event", "type": "customer.created", "created": unix_now(), "livemode": false,
        "data": {"object": {"id": format!("cus_{id}"), "object": "customer", "metadata": {}}}})
}

const MISMATCH: &str = "No signatures found matching the expected signature for payload";

#[tokio::test]
async fn a_changed_signing_secret_is_used_from_the_next_delivery_on() {
    let h = Harness::start().await;
    h.configure(TEST_KEY).await;
    let first = webhook_secret(&h).await;
    assert_eq!(post_event(&h.base, &first, &event("evt_a")).await.ok(200)["handled"], true);

    // The endpoint is re-created: Stripe signs with the new secret only.
    h.send(Method::POST, "/api/payments/test/webhook", json!({})).await.ok(200);
    let second = webhook_secret(&h).await;
    assert_ne!(first, second);
    post_event(&h.base, &first, &event("evt_b")).await.err(400, "INVALID_INPUT", MISMATCH);
    assert_eq!(post_event(&h.base, &second, &event("evt_c")).await.ok(200)["handled"], true);

    // Another instance (or an operator) stores a new secret in the shared database.
    sqlx::query("UPDATE payments_secrets SET value_sealed = $1 WHERE name = 'STRIPE_TEST_WEBHOOK_SECRET'")
        .bind(TestSealer.seal("whsec_from_elsewhere"))
        .execute(&h.pool)
        .await
        .unwrap();
    post_event(&h.base, &second, &event("evt_d")).await.err(400, "INVALID_INPUT", MISMATCH);
    assert_eq!(post_event(&h.base, "whsec_from_elsewhere", &event("evt_e")).await.ok(200)["handled"], true);

    // The key is removed (and the secret with it): deliveries are refused as before.
    h.send(Method::DELETE, "/api/payments/test/config", json!({})).await.ok(200);
    post_event(&h.base, "whsec_from_elsewhere", &event("evt_f")).await.err(
        500,
        "INTERNAL_ERROR",
        "STRIPE_TEST_WEBHOOK_SECRET is not configured",
    );
    let stored: Vec<String> = sqlx::query_scalar(
        "SELECT stripe_event_id FROM payments_webhook_events
         WHERE stripe_event_id IN ('evt_a', 'evt_b', 'evt_c', 'evt_d', 'evt_e', 'evt_f')
             AND processing_status = 'processed' ORDER BY stripe_event_id",
    )
    .fetch_all(&h.pool)
    .await
    .unwrap();
    assert_eq!(stored, ["evt_a", "evt_c", "evt_e"]);
}

#[tokio::test]
async fn a_removed_key_is_noticed_with_the_secret_still_cached() {
    let h = Harness::start().await;
    h.configure(TEST_KEY).await;
    let secret = webhook_secret(&h).await;
    post_event(&h.base, &secret, &event("evt_1")).await.ok(200);
    // Only the key goes (the secret stays): the delivery is refused for the missing key.
    sqlx::query("UPDATE payments_secrets SET is_active = 0 WHERE name = 'STRIPE_TEST_SECRET_KEY'")
        .execute(&h.pool)
        .await
        .unwrap();
    post_event(&h.base, &secret, &event("evt_2")).await.err(
        400,
        "PAYMENT_CONFIG_INVALID",
        "STRIPE_TEST_SECRET_KEY is not configured",
    );
    // The key's use is still recorded, as it was for every delivery before the cache.
    let stamped = h
        .scalar_i64(
            "SELECT COUNT(*) FROM payments_secrets WHERE name = 'STRIPE_TEST_WEBHOOK_SECRET' AND last_used_at IS NOT NULL",
        )
        .await;
    assert_eq!(stamped, 1);
}
