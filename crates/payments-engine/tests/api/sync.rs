//! Full sync, its progress, and the one-sync-per-environment rule.

use reqwest::Method;
use serde_json::{json, Value};

use crate::common::*;

async fn stripe_post(h: &Harness, path: &str, form: &[(&str, &str)]) -> Value {
    reqwest::Client::new()
        .post(format!("{}{path}", h.sandbox_base))
        .bearer_auth(TEST_KEY)
        .form(form)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

#[tokio::test]
async fn sync_mirrors_the_demo_seed_idempotently_and_deletes_what_vanished() {
    let h = Harness::start().await;
    h.sandbox.seed_demo();
    h.configure(TEST_KEY).await;
    let products = h.sandbox.count("product").unwrap() as i64;
    let prices = h.sandbox.count("price").unwrap() as i64;
    let customers = h.sandbox.count("customer").unwrap() as i64;
    let subscriptions = h.sandbox.count("subscription").unwrap() as i64;

    let r = h.send(Method::POST, "/api/payments/test/sync", json!({})).await;
    let body = r.ok(200).clone();
    let result = &body["results"][0];
    assert_eq!(body["results"].as_array().unwrap().len(), 1);
    assert_eq!(result["connection"]["lastSyncStatus"], "succeeded");
    // The history was backfilled by the key's first sync; this one finds it whole, and imports
    // no event again.
    let (payments, refunds, _) = h.backfilled().await;
    assert_eq!(refunds, h.sandbox.count("refund").unwrap() as i64);
    assert_eq!(
        result["connection"]["lastSyncCounts"],
        json!({"products": products, "prices": prices, "customers": customers, "subscriptions": subscriptions,
               "payments": payments, "refunds": refunds})
    );
    assert_eq!(result["history"]["payments"], payments);
    assert_eq!(result["history"]["events"], 0);
    assert_eq!(result["subscriptions"]["synced"], subscriptions);
    assert_eq!(result["subscriptions"]["deleted"], 0);
    assert_eq!(h.scalar_i64("SELECT COUNT(*) FROM payments_customers WHERE deleted = 0").await, customers);
    assert_eq!(h.scalar_i64("SELECT COUNT(*) FROM payments_subscriptions").await, subscriptions);
    assert!(h.scalar_i64("SELECT COUNT(*) FROM payments_subscription_items").await >= subscriptions);
    // Subjects come from the subscriptions' metadata.
    assert_eq!(
        h.scalar_i64("SELECT COUNT(*) FROM payments_subscriptions WHERE subject_type IS NULL").await,
        result["subscriptions"]["unmapped"].as_i64().unwrap()
    );

    // Progress is observable, with per-type counts.
    let progress = h.get("/api/payments/test/sync/progress").await.ok(200).clone();
    assert_eq!(progress["state"], "finished");
    assert_eq!(progress["succeeded"], true);
    assert_eq!(progress["objects"]["customers"]["fetched"], customers);
    assert_eq!(progress["objects"]["subscriptions"]["written"], subscriptions);
    assert!(progress["startedAt"].as_str().unwrap() <= progress["finishedAt"].as_str().unwrap());
    assert_eq!(serde_json::to_value(h.engine.sync_progress(payments_engine::Environment::Test)).unwrap(), progress);

    // Idempotent: a second sync changes nothing.
    let second = h.send(Method::POST, "/api/payments/test/sync", json!({})).await.ok(200).clone();
    assert_eq!(second["results"][0]["subscriptions"], result["subscriptions"]);
    assert_eq!(h.scalar_i64("SELECT COUNT(*) FROM payments_subscriptions").await, subscriptions);

    // Vanished objects: a customer deleted in Stripe is soft-deleted, a subscription row Stripe
    // does not know is removed with its items.
    let victim = sqlx::query_scalar::<_, String>(
        "SELECT stripe_customer_id FROM payments_customers ORDER BY stripe_customer_id LIMIT 1",
    )
    .fetch_one(&h.pool)
    .await
    .unwrap();
    reqwest::Client::new()
        .delete(format!("{}/v1/customers/{victim}", h.sandbox_base))
        .bearer_auth(TEST_KEY)
        .send()
        .await
        .unwrap();
    // Written "this second" (versions are whole seconds), as a sync or event just before this
    // one would have: a tie must not shield it.
    sqlx::query(
        "INSERT INTO payments_subscriptions (id, environment, stripe_subscription_id, stripe_customer_id, status, synced_at, created_at, updated_at, source_version)
         VALUES ('x', 'test', 'sub_gone', 'cus_gone', 'active', 0, 0, 0, $1)",
    )
    .bind(payments_engine::time::now_ms() / 1000)
    .execute(&h.pool)
    .await
    .unwrap();
    // (Written straight into the table: the overview's figures are recounted to include it.)
    h.engine.recount_overview().await.unwrap();
    let third = h.send(Method::POST, "/api/payments/test/sync", json!({})).await.ok(200).clone();
    assert_eq!(third["results"][0]["subscriptions"]["deleted"], 1, "{third}");
    assert_eq!(
        h.scalar_i64("SELECT COUNT(*) FROM payments_subscriptions WHERE stripe_subscription_id = 'sub_gone'").await,
        0
    );
    let deleted = sqlx::query_scalar::<_, i64>("SELECT deleted FROM payments_customers WHERE stripe_customer_id = $1")
        .bind(&victim)
        .fetch_one(&h.pool)
        .await
        .unwrap();
    assert_eq!(deleted, 1);
    // The overview's figures followed the syncs, the deletion included.
    let figures = assert_figures_kept(&h.base, &h.engine).await;
    let counted: u64 = figures["subscriptions"].as_array().unwrap().iter().map(|s| s["rows"].as_u64().unwrap()).sum();
    assert_eq!(counted, subscriptions as u64, "{figures}");
}

#[tokio::test]
async fn sync_all_reports_per_environment_failures_in_the_body() {
    let h = Harness::start().await;
    h.configure(TEST_KEY).await;
    let body = h.send(Method::POST, "/api/payments/sync", json!({})).await.ok(200).clone();
    let results = body["results"].as_array().unwrap();
    assert_eq!(results.len(), 2);
    assert_eq!(results[0]["environment"], "test");
    assert_eq!(results[0]["connection"]["lastSyncStatus"], "succeeded");
    assert_eq!(results[1]["environment"], "live");
    assert_eq!(results[1]["subscriptions"], Value::Null);
    assert_eq!(results[1]["connection"]["status"], "unconfigured");
    assert_eq!(results[1]["connection"]["lastSyncStatus"], "failed");
    assert_eq!(results[1]["connection"]["lastSyncError"], "STRIPE_LIVE_SECRET_KEY is not configured");
    let live = h.get("/api/payments/live/sync/progress").await.ok(200).clone();
    assert_eq!((live["state"].clone(), live["succeeded"].clone()), (json!("finished"), json!(false)));
}

#[tokio::test]
async fn sync_routes_validate_and_guard() {
    let h = Harness::start().await;
    h.send(Method::POST, "/api/payments/foo/sync", json!({})).await.err(
        400,
        "INVALID_INPUT",
        "environment: Invalid enum value. Expected 'test' | 'live', received 'foo'",
    );
    h.request(Method::POST, "/api/payments/test/sync", None, Auth::None).await.err(
        401,
        "AUTH_INVALID_CREDENTIALS",
        "No admin token provided",
    );
    h.request(Method::POST, "/api/payments/sync", None, Auth::Support).await.err(
        403,
        "AUTH_UNAUTHORIZED",
        "Admin access required",
    );
    h.get("/api/payments/foo/sync/progress").await.err(
        400,
        "INVALID_INPUT",
        "environment: Invalid enum value. Expected 'test' | 'live', received 'foo'",
    );
    let idle = h.get("/api/payments/live/sync/progress").await.ok(200).clone();
    assert_eq!(idle["state"], "idle");
    // Webhook configure needs a key.
    h.send(Method::POST, "/api/payments/live/webhook", json!({})).await.err(
        400,
        "PAYMENT_CONFIG_INVALID",
        "STRIPE_LIVE_SECRET_KEY is not configured",
    );
    let _ = stripe_post;
}

#[tokio::test]
async fn webhook_configure_recreates_the_managed_endpoint() {
    let h = Harness::start().await;
    let before = h.configure(TEST_KEY).await;
    let _ = before;
    let first = h.get("/api/payments/status").await.ok(200)["connections"][0]["webhookEndpointId"].clone();
    let r = h.send(Method::POST, "/api/payments/test/webhook", json!({})).await.ok(200).clone();
    assert_eq!(r["connection"]["status"], "connected");
    assert_ne!(r["connection"]["webhookEndpointId"], first);
    assert_eq!(r["connection"]["webhookEndpointUrl"], format!("{}/api/webhooks/stripe/test", h.base));
}

/// Rows Stripe does not have, written long ago: a sync that read everything removes them.
async fn insert_vanished_rows(h: &Harness) {
    for sql in [
        "INSERT INTO payments_subscriptions (id, environment, stripe_subscription_id, stripe_customer_id, status,
             synced_at, created_at, updated_at, source_version)
         VALUES ('x1', 'test', 'sub_gone', 'cus_gone', 'active', 0, 0, 0, 0)",
        "INSERT INTO payments_customers (id, environment, stripe_customer_id, deleted, metadata, raw, synced_at,
             created_at, updated_at, source_version)
         VALUES ('x2', 'test', 'cus_gone', 0, '{}', '{}', 0, 0, 0, 0)",
        "INSERT INTO payments_products (id, environment, stripe_product_id, name, active, metadata, raw, synced_at,
             created_at, updated_at)
         VALUES ('x3', 'test', 'prod_gone', 'Gone', 1, '{}', '{}', 0, 0, 0)",
    ] {
        sqlx::query(sql).execute(&h.pool).await.unwrap();
    }
}

async fn vanished_rows_left(h: &Harness) -> (i64, i64, i64) {
    (
        h.scalar_i64("SELECT COUNT(*) FROM payments_subscriptions WHERE stripe_subscription_id = 'sub_gone'").await,
        h.scalar_i64("SELECT COUNT(*) FROM payments_customers WHERE stripe_customer_id = 'cus_gone' AND deleted = 0")
            .await,
        h.scalar_i64("SELECT COUNT(*) FROM payments_products WHERE stripe_product_id = 'prod_gone'").await,
    )
}

#[tokio::test]
async fn a_sync_failing_on_a_later_page_keeps_the_pages_written_and_deletes_nothing() {
    let h = Harness::start().await;
    h.configure(TEST_KEY).await;
    insert_vanished_rows(&h).await;
    h.sandbox.seed_size(250); // three pages of each list
                              // Faults are matched in order: the first subscriptions page passes (a 1 ms delay), every
                              // later attempt (retries included) gets a 500.
    h.add_fault(json!({"path_prefix": "/v1/subscriptions", "delay_ms": 1, "count": 1})).await;
    h.add_fault(json!({"path_prefix": "/v1/subscriptions", "status": 500, "count": 50})).await;

    let failed = h.send(Method::POST, "/api/payments/test/sync", json!({})).await.ok(200).clone();
    let result = &failed["results"][0];
    assert_eq!(result["subscriptions"], Value::Null, "{failed}");
    assert_eq!(result["connection"]["lastSyncStatus"], "failed");
    // The first page was committed as it went.
    let bulk_subscriptions = "SELECT COUNT(*) FROM payments_subscriptions WHERE stripe_subscription_id <> 'sub_gone'";
    assert_eq!(h.scalar_i64(bulk_subscriptions).await, 100);
    let progress = h.engine.sync_progress(payments_engine::Environment::Test);
    assert_eq!(progress.succeeded, Some(false));
    assert_eq!(progress.objects["subscriptions"].written, 100);
    // Nothing was deleted: no list may be trusted as complete after a failure.
    assert_eq!(vanished_rows_left(&h).await, (1, 1, 1));

    h.clear_faults().await;
    let ok = h.send(Method::POST, "/api/payments/test/sync", json!({})).await.ok(200).clone();
    assert_eq!(ok["results"][0]["subscriptions"]["synced"], 250, "{ok}");
    assert_eq!(ok["results"][0]["subscriptions"]["deleted"], 1);
    assert_eq!(
        ok["results"][0]["connection"]["lastSyncCounts"],
        json!({"products": 250, "prices": 250, "customers": 250, "subscriptions": 250, "payments": 0, "refunds": 0})
    );
    assert_eq!(h.scalar_i64(bulk_subscriptions).await, 250);
    assert_eq!(vanished_rows_left(&h).await, (0, 0, 0));
}

#[tokio::test]
async fn a_webhook_is_applied_while_a_sync_is_still_running() {
    let h = Harness::start().await;
    h.configure(TEST_KEY).await;
    let secret = crate::webhooks::webhook_secret(&h).await;
    h.sandbox.seed_size(250);
    // The first subscriptions page comes at once, the next two slowly: the sync is still
    // running (and has committed page one) when the webhook arrives.
    h.add_fault(json!({"path_prefix": "/v1/subscriptions", "delay_ms": 1, "count": 1})).await;
    h.add_fault(json!({"path_prefix": "/v1/subscriptions", "delay_ms": 1500, "count": 2})).await;

    let engine = h.engine.clone();
    let sync = tokio::spawn(async move { engine.sync_environment(payments_engine::Environment::Test).await });
    let progress = || h.engine.sync_progress(payments_engine::Environment::Test);
    for _ in 0..400 {
        if progress().objects.get("subscriptions").is_some_and(|o| o.written > 0) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    assert_eq!(progress().state, payments_engine::SyncState::Running);
    assert_eq!(progress().objects["subscriptions"].written, 100);

    let now = stripe_client::unix_now();
    let event = json!({
        "id": "evt_during_sync", "object": "event", "type": "customer.subscription.created", "created": now,
        "livemode": false,
        "data": {"object": {
            "id": "sub_from_webhook", "object": "subscription", "customer": "cus_from_webhook", "status": "active",
            "metadata": {"insforge_subject_type": "team", "insforge_subject_id": "t1"},
            "cancel_at_period_end": false,
            "items": {"object": "list", "has_more": false, "data": []}
        }}
    });
    crate::webhooks::post_event(&h.base, &secret, &event).await.ok(200);
    // Applied and acknowledged while the sync goes on: it waited for one page's commit at most.
    assert_eq!(progress().state, payments_engine::SyncState::Running);
    let from_webhook = "SELECT COUNT(*) FROM payments_subscriptions WHERE stripe_subscription_id = 'sub_from_webhook'";
    assert_eq!(h.scalar_i64(from_webhook).await, 1);

    let done = sync.await.unwrap().unwrap();
    assert_eq!(done.subscriptions.unwrap().synced, 250);
    // Written during the sync, so newer than its snapshot: not taken for a vanished row.
    assert_eq!(h.scalar_i64(from_webhook).await, 1);
}
