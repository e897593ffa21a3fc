//! The migration's natural keys hold on both engines.

use crate::common::*;

async fn insert_product(h: &Harness, id: &str, env: &str, stripe_id: &str) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO payments_products (id, environment, stripe_product_id, name, active, metadata, raw, synced_at, created_at, updated_at)
         VALUES ($1, $2, $3, 'n', 1, '{}', '{}', 0, 0, 0)",
    )
    .bind(id)
    .bind(env)
    .bind(stripe_id)
    .execute(&h.pool)
    .await
    .map(|_| ())
}

async fn insert_history(h: &Harness, id: &str, kind: &str, pi: &str, refund: Option<&str>) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO payments_payment_history (id, environment, type, status, stripe_payment_intent_id, stripe_refund_id, raw, created_at, updated_at)
         VALUES ($1, 'test', $2, 'succeeded', $3, $4, '{}', 0, 0)",
    )
    .bind(id)
    .bind(kind)
    .bind(pi)
    .bind(refund)
    .execute(&h.pool)
    .await
    .map(|_| ())
}

#[tokio::test]
async fn natural_keys_and_partial_unique_indexes() {
    let h = Harness::start().await;
    insert_product(&h, "a", "test", "prod_1").await.unwrap();
    insert_product(&h, "b", "live", "prod_1").await.unwrap();
    assert!(insert_product(&h, "c", "test", "prod_1").await.is_err(), "one row per environment and Stripe id");
    assert!(insert_product(&h, "d", "staging", "prod_2").await.is_err(), "environment is checked");

    // One non-refund row per PaymentIntent, but any number of refunds for it.
    insert_history(&h, "h1", "one_time_payment", "pi_1", None).await.unwrap();
    assert!(insert_history(&h, "h2", "failed_payment", "pi_1", None).await.is_err());
    insert_history(&h, "h3", "refund", "pi_1", Some("re_1")).await.unwrap();
    insert_history(&h, "h4", "refund", "pi_1", Some("re_2")).await.unwrap();
    assert!(insert_history(&h, "h5", "refund", "pi_2", Some("re_1")).await.is_err(), "one row per refund");
}
