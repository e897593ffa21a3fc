//! Two console instances (separate pools, separate HTTP servers) on one PostgreSQL database.
//! PostgreSQL-only: SQLite is the single-instance deployment. On SQLite the test logs that it
//! did not run; it runs in the `PAYMENTS_CONSOLE_TEST_POSTGRES` pass.

use serde_json::{json, Value};
use sqlx::any::AnyPoolOptions;

use crate::common::*;
use payments_engine::DbKind;

#[tokio::test]
async fn postgres_two_instances_serialise_syncs_and_process_a_webhook_once() {
    let h = Harness::start().await;
    if h.engine.db_kind() != DbKind::Postgres {
        eprintln!("NOT RUN (PostgreSQL-only): set PAYMENTS_CONSOLE_TEST_POSTGRES to run the two-instance test");
        return;
    }
    h.sandbox.seed_demo();
    h.configure(TEST_KEY).await;
    let pool2 = AnyPoolOptions::new().max_connections(5).connect(&h.db_url).await.unwrap();
    let (base2, _engine2) = serve_engine(&pool2, &h.sandbox_base).await;
    let http = reqwest::Client::new();

    // Slow Stripe down so that two unserialised syncs would overlap.
    h.add_fault(json!({"path_prefix": "/v1/products", "count": 2, "delay_ms": 400, "method": "GET"})).await;
    let sync = |base: String| {
        let http = http.clone();
        async move { request(&http, &base, reqwest::Method::POST, "/api/payments/test/sync", None, Auth::Admin).await }
    };
    let (a, b) = tokio::join!(sync(h.base.clone()), sync(base2.clone()));
    for r in [&a, &b] {
        assert_eq!(r.ok(200)["results"][0]["connection"]["lastSyncStatus"], "succeeded", "{}", r.body);
    }
    let progress = |base: String| {
        let http = http.clone();
        async move {
            let r = request(&http, &base, reqwest::Method::GET, "/api/payments/test/sync/progress", None, Auth::Admin)
                .await;
            let p = r.ok(200).clone();
            (p["startedAt"].as_str().unwrap().to_owned(), p["finishedAt"].as_str().unwrap().to_owned())
        }
    };
    let (pa, pb) = (progress(h.base.clone()).await, progress(base2.clone()).await);
    assert!(pa.1 <= pb.0 || pb.1 <= pa.0, "the two syncs overlapped: {pa:?} and {pb:?}");

    // The same event delivered to both instances at once is processed once.
    let secret = crate::webhooks::webhook_secret(&h).await;
    let event = json!({"id": "evt_both", "type": "customer.created", "created": stripe_client::unix_now(), "livemode": false,
        "data": {"object": {"id": "cus_both", "object": "customer", "email": "both@example.com", "metadata": {}}}});
    let (ra, rb) = tokio::join!(
        crate::webhooks::post_event(&h.base, &secret, &event),
        crate::webhooks::post_event(&base2, &secret, &event)
    );
    // One delivery processes it; the other finds it done (200, not handled) or still in flight
    // (409, so that Stripe delivers it again later), never a second processing.
    let handled: Vec<Value> = [&ra, &rb]
        .iter()
        .map(|r| match r.status.as_u16() {
            409 => json!("in flight"),
            _ => r.ok(200)["handled"].clone(),
        })
        .collect();
    assert_eq!(handled.iter().filter(|v| **v == json!(true)).count(), 1, "{handled:?}");
    assert_eq!(
        h.scalar_i64(
            "SELECT CAST(attempt_count AS BIGINT) FROM payments_webhook_events WHERE stripe_event_id = 'evt_both'"
        )
        .await,
        1
    );
    assert_eq!(h.scalar_i64("SELECT COUNT(*) FROM payments_customers WHERE stripe_customer_id = 'cus_both'").await, 1);
}
