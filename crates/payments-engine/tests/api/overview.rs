//! `GET /{env}/overview` (additive, issue #14): MRR normalised per currency, the last 30 days of
//! payments, recent failures and refunds, the subscription status mix and stuck webhook events,
//! all from rows written straight into the mirror.

use payments_engine::time::now_ms;
use reqwest::Method;
use serde_json::json;

use crate::common::*;

const DAY: i64 = 86_400_000;

async fn exec(h: &Harness, sql: &str) {
    sqlx::query(sql).execute(&h.pool).await.unwrap_or_else(|e| panic!("{e}: {sql}"));
}

#[tokio::test]
async fn the_overview_counts_mrr_payments_failures_and_stuck_events() {
    let h = Harness::start().await;
    let now = now_ms();
    for (sub, status) in [("sub_a", "active"), ("sub_b", "past_due"), ("sub_c", "canceled"), ("sub_d", "trialing")] {
        exec(
            &h,
            &format!(
            "INSERT INTO payments_subscriptions (id, environment, stripe_subscription_id, stripe_customer_id, status,
                 synced_at, created_at, updated_at) VALUES ('{sub}', 'test', '{sub}', 'cus_1', '{status}', 0, 0, 0)"
        ),
        )
        .await;
    }
    // The same price in live must not count in test.
    exec(
        &h,
        "INSERT INTO payments_subscriptions (id, environment, stripe_subscription_id, stripe_customer_id, status,
                 synced_at, created_at, updated_at) VALUES ('live_a', 'live', 'sub_a', 'cus_1', 'active', 0, 0, 0)",
    )
    .await;
    for (id, env, currency, amount, interval, count) in [
        ("price_m", "test", "usd", "1000", "'month'", "1"),
        ("price_y", "test", "usd", "12000", "'year'", "1"),
        ("price_q", "test", "usd", "3000", "'month'", "3"),
        ("price_w", "test", "eur", "100", "'week'", "1"),
        ("price_t", "test", "usd", "NULL", "'month'", "1"),
        ("price_m", "live", "usd", "99999", "'month'", "1"),
    ] {
        exec(&h, &format!(
            "INSERT INTO payments_prices (id, environment, stripe_price_id, active, currency, unit_amount, type,
                 recurring_interval, recurring_interval_count, synced_at, created_at, updated_at)
             VALUES ('{env}{id}', '{env}', '{id}', 1, '{currency}', {amount}, 'recurring', {interval}, {count}, 0, 0, 0)"
        ))
        .await;
    }
    for (item, env, sub, price, quantity) in [
        ("si_1", "test", "sub_a", "price_m", "2"),
        ("si_2", "test", "sub_a", "price_y", "1"),
        ("si_3", "test", "sub_a", "price_t", "1"),
        ("si_4", "test", "sub_b", "price_w", "NULL"),
        ("si_5", "test", "sub_b", "price_q", "1"),
        ("si_6", "test", "sub_c", "price_m", "5"),
        ("si_7", "test", "sub_d", "price_m", "1"),
        ("si_8", "test", "sub_a", "price_gone", "1"),
        ("si_9", "live", "sub_a", "price_m", "1"),
    ] {
        exec(
            &h,
            &format!(
                "INSERT INTO payments_subscription_items (id, environment, stripe_subscription_item_id,
                 stripe_subscription_id, stripe_price_id, quantity, created_at, updated_at)
             VALUES ('{env}{item}', '{env}', '{item}', '{sub}', '{price}', {quantity}, 0, 0)"
            ),
        )
        .await;
    }
    let yesterday = now - DAY;
    for (id, env, kind, status, amount, currency, at) in [
        ("h1", "test", "one_time_payment", "succeeded", 500, "usd", yesterday),
        ("h2", "test", "subscription_invoice", "refunded", 700, "usd", yesterday),
        ("h3", "test", "one_time_payment", "failed", 300, "usd", yesterday),
        ("h4", "test", "refund", "succeeded", 700, "usd", now - 2 * DAY),
        ("h5", "test", "one_time_payment", "succeeded", 200, "eur", now - 3 * DAY),
        ("h6", "test", "one_time_payment", "failed", 100, "usd", now - 10 * DAY),
        ("h7", "test", "one_time_payment", "succeeded", 9000, "usd", now - 40 * DAY),
        ("h8", "live", "one_time_payment", "succeeded", 9000, "usd", yesterday),
    ] {
        exec(
            &h,
            &format!(
            "INSERT INTO payments_payment_history (id, environment, type, status, amount, currency, stripe_created_at,
                 raw, created_at, updated_at)
             VALUES ('{id}', '{env}', '{kind}', '{status}', {amount}, '{currency}', {at}, '{{}}', {at}, {at})"
        ),
        )
        .await;
    }
    for (i, status) in ["failed", "failed", "pending", "processed", "processed", "ignored"].iter().enumerate() {
        exec(
            &h,
            &format!(
                "INSERT INTO payments_webhook_events (id, environment, stripe_event_id, event_type, livemode,
                 processing_status, payload, received_at, created_at, updated_at)
             VALUES ('e{i}', 'test', 'evt_{i}', 'invoice.paid', 0, '{status}', '{{}}', {now}, 0, 0)"
            ),
        )
        .await;
    }

    let res = h.get("/api/payments/test/overview").await;
    let o = &res.ok(200)["overview"];
    // usd: 2 × 1000 + 12000 / 12 + 3000 / 3; eur: 100 a week is 433.33 a month. The tiered
    // price and the price the mirror does not have are left out, and said to be.
    assert_eq!(o["mrr"], json!([{ "currency": "usd", "amount": 4000 }, { "currency": "eur", "amount": 433 }]));
    assert_eq!(o["mrrUncountedItems"], 2);
    assert_eq!(o["payments30d"], 3, "{o}");
    assert_eq!(o["volume30d"], json!([{ "currency": "usd", "amount": 1200 }, { "currency": "eur", "amount": 200 }]));
    assert_eq!((o["failed7d"].as_u64(), o["refunds7d"].as_u64()), (Some(1), Some(1)));
    assert_eq!((o["eventsFailed"].as_u64(), o["eventsPending"].as_u64()), (Some(2), Some(1)));
    let statuses: Vec<(&str, u64)> = o["subscriptions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["status"].as_str().unwrap(), s["rows"].as_u64().unwrap()))
        .collect();
    assert_eq!(statuses, [("active", 1), ("canceled", 1), ("past_due", 1), ("trialing", 1)]);
    // The Subscriptions page's mix alone, the same counts.
    assert_eq!(h.get("/api/payments/test/subscriptions/summary").await.ok(200)["summary"], o["subscriptions"]);
    let days = o["days"].as_array().unwrap();
    assert_eq!(days.len(), 30);
    let date = |ms: i64| payments_engine::time::iso_ms(ms)[..10].to_owned();
    assert_eq!(days[29]["date"], date(now));
    let day = |ms: i64| days.iter().find(|d| d["date"] == date(ms)).unwrap().clone();
    assert_eq!((day(yesterday)["succeeded"].as_u64(), day(yesterday)["failed"].as_u64()), (Some(2), Some(1)));
    assert_eq!(day(now - 10 * DAY)["failed"], 1);
    assert_eq!(days.iter().map(|d| d["succeeded"].as_u64().unwrap()).sum::<u64>(), 3);

    // Support may read it (a GET, like the lists); no caller, no figures; a bad environment 400s.
    assert_eq!(h.request(Method::GET, "/api/payments/test/overview", None, Auth::Support).await.status, 200);
    assert_eq!(h.request(Method::GET, "/api/payments/test/overview", None, Auth::None).await.status, 401);
    assert_eq!(h.get("/api/payments/staging/overview").await.status, 400);
}
