//! One write per environment at a time.

use std::time::Duration;

use reqwest::Method;
use serde_json::json;
use sqlx::Connection;

use crate::common::*;
use payments_engine::DbKind;

#[tokio::test]
async fn concurrent_writes_are_serialised_and_all_succeed() {
    let h = Harness::start().await;
    h.configure(TEST_KEY).await;
    let tasks: Vec<_> = (0..8)
        .map(|i| {
            let base = h.base.clone();
            tokio::spawn(async move {
                let body = json!({"name": format!("P{i}")});
                request(
                    &reqwest::Client::new(),
                    &base,
                    Method::POST,
                    "/api/payments/test/catalog/products",
                    Some(body),
                    Auth::Admin,
                )
                .await
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap().ok(201);
    }
    assert_eq!(h.get("/api/payments/test/catalog/products").await.ok(200)["products"].as_array().unwrap().len(), 8);
}

/// On PostgreSQL the engine takes `pg_advisory_lock(<environment class>, <1 = test, 2 = live>)`
/// (`lock.rs`): while another session (another console instance) holds it, writes of that
/// environment wait.
/// `lock.rs`'s `ENVIRONMENT_CLASS` (`"PAY\x01"`), the advisory-lock class of environment locks.
const ENVIRONMENT_CLASS: i32 = 0x5041_5901;

#[tokio::test]
async fn postgres_writes_wait_for_the_advisory_lock_of_another_instance() {
    let h = Harness::start().await;
    if h.engine.db_kind() != DbKind::Postgres {
        eprintln!("skipped: needs PAYMENTS_CONSOLE_TEST_POSTGRES");
        return;
    }
    h.configure(TEST_KEY).await;
    let mut other = h.pool.acquire().await.unwrap().detach();
    sqlx::query(&format!("SELECT CAST(pg_advisory_lock({ENVIRONMENT_CLASS}, 1) AS TEXT)"))
        .execute(&mut other)
        .await
        .unwrap();

    let create = h.send(Method::POST, "/api/payments/test/catalog/products", json!({"name": "Waits"}));
    tokio::pin!(create);
    assert!(tokio::time::timeout(Duration::from_millis(500), &mut create).await.is_err(), "the write must wait");
    // The other environment is not blocked.
    h.send(Method::POST, "/api/payments/live/catalog/products", json!({"name": "Live"})).await.err(
        400,
        "PAYMENT_CONFIG_INVALID",
        "STRIPE_LIVE_SECRET_KEY is not configured",
    );
    sqlx::query(&format!("SELECT pg_advisory_unlock({ENVIRONMENT_CLASS}, 1)")).execute(&mut other).await.unwrap();
    create.await.ok(201);
    other.close().await.unwrap();
}
