//! `GET /{env}/overview` (additive, issue #14): MRR normalised per currency, the last 30 days of
//! payments, recent failures and refunds, the subscription status mix and stuck webhook events,
//! all from rows written straight into the mirror and then recounted. (The figures kept as the
//! writers change rows are compared with a recount in `streams.rs` and `sync.rs`.)

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
    // Written now: a pending event with an old `updated_at` is one whose claim expired, and the
    // engine's sweeper (every 30 s) would take it over and finish it under the test's feet.
    for (i, status) in ["failed", "failed", "pending", "processed", "processed", "ignored"].iter().enumerate() {
        exec(
            &h,
            &format!(
                "INSERT INTO payments_webhook_events (id, environment, stripe_event_id, event_type, livemode,
                 processing_status, payload, received_at, created_at, updated_at)
             VALUES ('e{i}', 'test', 'evt_{i}', 'invoice.paid', 0, '{status}', '{{}}', {now}, {now}, {now})"
            ),
        )
        .await;
    }

    // The sweeper may run at any moment (a slow machine passes its 30 s tick mid-test); running it
    // here makes that moment part of the test: an event claimed just now is left alone.
    assert_eq!(h.engine.sweep_abandoned_events().await.unwrap(), 0);
    // Rows written straight into the tables bypass the writers that keep the figures.
    h.engine.recount_overview().await.unwrap();
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

/// Failed and pending events are counted up to `EVENT_COUNT_LIMIT`, so the figure stays a short
/// index read however many there are; past it the figure says "more than".
#[tokio::test]
async fn event_figures_stop_counting_past_their_limit() {
    let h = Harness::start().await;
    let now = now_ms();
    let limit = payments_model::EVENT_COUNT_LIMIT as usize;
    // Past the limit failed, exactly at it pending (written now, so that no sweep takes them).
    let statuses = std::iter::repeat_n("failed", limit + 5).chain(std::iter::repeat_n("pending", limit));
    let rows: Vec<String> = statuses
        .enumerate()
        .map(|(i, status)| {
            format!("('e{i}', 'test', 'evt_{i}', 'invoice.paid', 0, '{status}', '{{}}', {now}, {now}, {now})")
        })
        .collect();
    exec(
        &h,
        &format!(
            "INSERT INTO payments_webhook_events (id, environment, stripe_event_id, event_type, livemode,
             processing_status, payload, received_at, created_at, updated_at) VALUES {}",
            rows.join(", ")
        ),
    )
    .await;
    let o = h.get("/api/payments/test/overview").await.ok(200)["overview"].clone();
    assert_eq!(o["eventsFailed"].as_u64(), Some(limit as u64 + 1), "{o}");
    assert_eq!(o["eventsPending"].as_u64(), Some(limit as u64), "{o}");
}

fn stripe(h: &Harness) -> stripe_client::StripeClient {
    stripe_client::StripeClient::new(stripe_client::ClientConfig::new(TEST_KEY).api_base(h.sandbox_base.clone()))
        .unwrap()
}

async fn call(h: &Harness, method: Method, path: &str, form: stripe_client::Form) -> serde_json::Value {
    stripe(h)
        .request::<serde_json::Value>(method, path, &form, &stripe_client::RequestOptions::NONE)
        .await
        .unwrap()
        .into_inner()
}

/// Waits until every event the sandbox sent the engine is applied. The sandbox records some
/// of a change's events while delivering others, so the counts must also hold still a while.
async fn settled(h: &Harness) {
    let managed =
        |e: &serde_json::Value| payments_engine::MANAGED_WEBHOOK_EVENTS.contains(&e["type"].as_str().unwrap());
    let done = "SELECT COUNT(*) FROM payments_webhook_events WHERE processing_status IN ('processed', 'ignored')";
    let mut last = None;
    for _ in 0..200 {
        let sent = h.sandbox.list("event").unwrap().iter().filter(|e| managed(e)).count() as i64;
        let applied = h.scalar_i64(done).await;
        if sent == applied && last == Some(sent) {
            return;
        }
        last = (sent == applied).then_some(sent);
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("the sandbox's events were not all applied");
}

/// Every change the figures follow, made at Stripe and arriving as Stripe sends it (live
/// webhooks, one at a time, and a sync): after each, the figures the writers kept are a recount's.
#[tokio::test]
async fn the_figures_follow_every_change_the_mirror_is_told_of() {
    use stripe_client::Form;
    use stripe_sandbox::CheckoutOutcome;
    let h = Harness::start().await;
    h.configure(TEST_KEY).await;
    let product = call(&h, Method::POST, "/v1/products", Form::new().set("name", "Figures")).await;
    let price = |amount: i64, monthly: bool| {
        let f = Form::new()
            .set("product", product["id"].as_str().unwrap())
            .set("currency", "usd")
            .set("unit_amount", amount);
        if monthly {
            f.set("recurring", Form::new().set("interval", "month"))
        } else {
            f
        }
    };
    let monthly = call(&h, Method::POST, "/v1/prices", price(2000, true)).await["id"].as_str().unwrap().to_owned();
    let one_time = call(&h, Method::POST, "/v1/prices", price(5000, false)).await["id"].as_str().unwrap().to_owned();
    let customer = call(
        &h,
        Method::POST,
        "/v1/customers",
        Form::new()
            .set("email", "figures@example.com")
            .set("payment_method", "pm_card_visa")
            .set("invoice_settings", Form::new().set("default_payment_method", "pm_card_visa")),
    )
    .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let session = |mode: &str, price: &str, quantity: i64| {
        Form::new()
            .set("mode", mode)
            .set("customer", customer.as_str())
            .set("success_url", "http://127.0.0.1/ok")
            .set("cancel_url", "http://127.0.0.1/cancel")
            .set("line_items[0][price]", price)
            .set("line_items[0][quantity]", quantity)
    };

    // A subscription of a price the mirror does not have yet: its item is left out of MRR.
    let cs = call(&h, Method::POST, "/v1/checkout/sessions", session("subscription", &monthly, 2)).await;
    let done = h.sandbox.complete_checkout(cs["id"].as_str().unwrap(), CheckoutOutcome::Succeeded).unwrap();
    let sub = done["subscription"].as_str().unwrap().to_owned();
    settled(&h).await;
    let f = assert_figures_kept(&h.base, &h.engine).await;
    assert_eq!((f["mrr"].clone(), f["mrrUncountedItems"].as_u64()), (json!([]), Some(1)), "{f}");

    // The sync brings the price: the item moves into its currency's MRR.
    h.send(Method::POST, "/api/payments/test/sync", json!({})).await.ok(200);
    let f = assert_figures_kept(&h.base, &h.engine).await;
    assert_eq!(f["mrr"], json!([{ "currency": "usd", "amount": 4000 }]), "{f}");

    // A failed renewal (past due, still billed), then a paid one.
    h.sandbox.advance_subscription(&sub, Some(false)).unwrap();
    settled(&h).await;
    let f = assert_figures_kept(&h.base, &h.engine).await;
    assert_eq!(f["failed7d"], 1, "{f}");
    // The failed invoice is paid after all: its row moves from failed to paid.
    let invoice = h.sandbox.get_object(&sub).unwrap()["latest_invoice"].as_str().unwrap().to_owned();
    call(&h, Method::POST, &format!("/v1/invoices/{invoice}/pay"), Form::new()).await;
    settled(&h).await;
    let f = assert_figures_kept(&h.base, &h.engine).await;
    assert_eq!((f["failed7d"].as_u64(), f["payments30d"].as_u64()), (Some(0), Some(2)), "{f}");
    h.sandbox.advance_subscription(&sub, Some(true)).unwrap();
    settled(&h).await;
    assert_figures_kept(&h.base, &h.engine).await;

    // A one-time payment declined, then paid on the same session: one row, failed then paid.
    let cs = call(&h, Method::POST, "/v1/checkout/sessions", session("payment", &one_time, 1)).await;
    let cs = cs["id"].as_str().unwrap();
    assert!(h.sandbox.complete_checkout(cs, CheckoutOutcome::Declined("generic_decline")).is_err());
    settled(&h).await;
    assert_figures_kept(&h.base, &h.engine).await;
    let paid = h.sandbox.complete_checkout(cs, CheckoutOutcome::Succeeded).unwrap();
    settled(&h).await;
    let f = assert_figures_kept(&h.base, &h.engine).await;
    assert!(f["volume30d"][0]["amount"].as_i64().unwrap() >= 5000, "{f}");

    // Refunded in part, then in full; then the subscription is cancelled.
    let pi = paid["payment_intent"].as_str().unwrap();
    call(&h, Method::POST, "/v1/refunds", Form::new().set("payment_intent", pi).set("amount", 1500)).await;
    call(&h, Method::POST, "/v1/refunds", Form::new().set("payment_intent", pi)).await;
    settled(&h).await;
    let f = assert_figures_kept(&h.base, &h.engine).await;
    assert_eq!(f["refunds7d"], 2, "{f}");
    call(&h, Method::DELETE, &format!("/v1/subscriptions/{sub}"), Form::new()).await;
    settled(&h).await;
    let f = assert_figures_kept(&h.base, &h.engine).await;
    assert_eq!(
        (f["mrr"].clone(), f["subscriptions"].clone()),
        (json!([]), json!([{ "status": "canceled", "rows": 1 }]))
    );

    // Folded: one row per group.
    let groups =
        "SELECT COUNT(*) FROM (SELECT DISTINCT day, counted, refund, failed, currency FROM payments_rollup_days) AS g";
    assert_eq!(h.scalar_i64("SELECT COUNT(*) FROM payments_rollup_days").await, h.scalar_i64(groups).await);
}

/// Two folds at once (the background one and a caller's, or two instances') both succeed and
/// lose nothing. On PostgreSQL the second waits for the first's turn with a snapshot from
/// before it, so its delete collides with rows the first deleted; `fold_overview` runs it again
/// from a new snapshot instead of failing the caller.
#[tokio::test]
async fn concurrent_folds_both_succeed_and_keep_every_delta() {
    let h = Harness::start().await;
    let rounds = 12;
    for round in 0..rounds {
        exec(
            &h,
            "INSERT INTO payments_rollup_statuses (environment, status, subscriptions, folded) VALUES ('test', 'active', 1, 0)",
        )
        .await;
        let (a, b) = tokio::join!(h.engine.fold_overview(), h.engine.fold_overview());
        if let Err(e) = a.as_ref().and(b.as_ref()) {
            panic!("round {round}: a fold failed: {e}");
        }
    }
    let total: i64 = sqlx::query_scalar(
        "SELECT CAST(SUM(subscriptions) AS BIGINT) FROM payments_rollup_statuses WHERE environment = 'test' AND status = 'active'",
    )
    .fetch_one(&h.pool)
    .await
    .unwrap();
    assert_eq!(total, rounds);
}

/// A fold rewrites the days that have deltas, not every day between the oldest and the newest
/// of them: a refund of a years-old payment beside today's payments made each fold rewrite the
/// whole history's figures (thousands of rows, every 2 s under a webhook burst).
#[tokio::test]
async fn a_fold_rewrites_only_the_days_that_have_deltas() {
    let h = Harness::start().await;
    // Three years of figures, each day's group in two folded rows (as two instances' folds can
    // leave it): a day the fold rewrites ends with one row, a day it leaves keeps two. (The
    // engine's own fold runs every 2 s too, so the test counts rows, not what one call did.)
    exec(
        &h,
        "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i + 1 < 2190)
         INSERT INTO payments_rollup_days (environment, day, counted, refund, failed, currency, payments, amount, folded)
         SELECT 'test', 19000 + i / 2, 1, 0, 0, 'usd', 1, 250, 1 FROM n",
    )
    .await;
    // Deltas on the first and the last day, and one that cancels a day's group out.
    exec(
        &h,
        "INSERT INTO payments_rollup_days (environment, day, counted, refund, failed, currency, payments, amount)
         VALUES ('test', 19000, 1, 0, 0, 'usd', 1, 100), ('test', 20094, 1, 0, 0, 'usd', 1, 100),
             ('test', 19500, 1, 0, 0, 'usd', -2, -500)",
    )
    .await;
    let total = "SELECT CAST(SUM(payments) AS BIGINT) FROM payments_rollup_days WHERE environment = 'test'";
    let before = h.scalar_i64(total).await;

    h.engine.fold_overview().await.unwrap();
    assert_eq!(h.scalar_i64(total).await, before);
    assert_eq!(h.scalar_i64("SELECT COUNT(*) FROM payments_rollup_days WHERE folded <> 1").await, 0);
    let rows = |d: i64| format!("SELECT COUNT(*) FROM payments_rollup_days WHERE day = {d}");
    let sum = |d: i64| format!("SELECT CAST(SUM(payments) AS BIGINT) FROM payments_rollup_days WHERE day = {d}");
    assert_eq!((h.scalar_i64(&rows(19000)).await, h.scalar_i64(&sum(19000)).await), (1, 3));
    assert_eq!((h.scalar_i64(&rows(20094)).await, h.scalar_i64(&sum(20094)).await), (1, 3));
    assert_eq!(h.scalar_i64(&rows(19500)).await, 0);
    // Every other day is as it was: two rows each.
    assert_eq!(h.scalar_i64("SELECT COUNT(*) FROM payments_rollup_days").await, 2 * 1095 - 2 * 3 + 2);
    // Nothing is left to fold.
    assert_eq!(h.engine.fold_overview().await.unwrap(), 0);
}
