//! Admin writes are reported to the audit sink with actor, action, environment, target, and
//! the Stripe request ids and idempotency keys of the calls they made.

use std::sync::{Arc, Mutex};

use payments_engine::{AuditRecord, AuditSink, Environment};
use reqwest::Method;
use serde_json::json;

use crate::common::*;

/// Keeps what the engine reports (shared with the refund tests).
#[derive(Default)]
pub(crate) struct Recorder(Mutex<Vec<AuditRecord>>);

impl AuditSink for Recorder {
    fn record(&self, record: AuditRecord) {
        self.0.lock().unwrap().push(record);
    }
}

impl Recorder {
    pub(crate) fn take(&self) -> Vec<AuditRecord> {
        std::mem::take(&mut *self.0.lock().unwrap())
    }
}

#[tokio::test]
async fn key_and_catalog_writes_are_audited() {
    let rec = Arc::new(Recorder::default());
    let h = Harness::start_audited(rec.clone()).await;
    h.configure(TEST_KEY).await;
    let r = rec.take();
    assert_eq!(r.len(), 1, "{r:?}");
    assert_eq!((r[0].actor.as_str(), r[0].action.as_str()), ("api_key", "payments.config.set"));
    assert_eq!(r[0].environment, Some(Environment::Test));
    assert!(r[0].error.is_none());
    assert!(r[0].stripe_calls.iter().any(|c| c.endpoint == "GET /v1/account" && c.request_id.is_some()), "{r:?}");

    let admin_jwt = Auth::Bearer(h.jwt("project_admin", "boss"));
    let p = h
        .request(
            Method::POST,
            "/api/payments/test/catalog/products",
            Some(json!({"name": "A", "idempotencyKey": "k1"})),
            admin_jwt,
        )
        .await;
    let product = p.ok(201)["product"]["stripeProductId"].as_str().unwrap().to_owned();
    let price = h
        .send(
            Method::POST,
            "/api/payments/test/catalog/prices",
            json!({"stripeProductId": product, "currency": "usd", "unitAmount": 5, "idempotencyKey": "k2"}),
        )
        .await;
    let price = price.ok(201)["price"]["stripePriceId"].as_str().unwrap().to_owned();
    h.send(Method::PATCH, &format!("/api/payments/test/catalog/products/{product}"), json!({"name": "B"}))
        .await
        .ok(200);
    h.send(Method::PATCH, &format!("/api/payments/test/catalog/prices/{price}"), json!({"active": true})).await.ok(200);
    h.delete(&format!("/api/payments/test/catalog/prices/{price}")).await.ok(200);
    h.delete(&format!("/api/payments/test/catalog/products/{product}")).await;
    h.delete("/api/payments/test/config").await.ok(200);
    // A refused write is audited with its error.
    h.send(Method::POST, "/api/payments/test/catalog/products", json!({"name": "C"})).await.err(
        400,
        "PAYMENT_CONFIG_INVALID",
        "STRIPE_TEST_SECRET_KEY is not configured",
    );

    let r = rec.take();
    let actions: Vec<(&str, &str, Option<&str>)> =
        r.iter().map(|a| (a.actor.as_str(), a.action.as_str(), a.target.as_deref())).collect();
    assert_eq!(
        actions,
        vec![
            ("jwt:project_admin:boss", "payments.catalog.product.create", None),
            ("api_key", "payments.catalog.price.create", None),
            ("api_key", "payments.catalog.product.update", Some(product.as_str())),
            ("api_key", "payments.catalog.price.update", Some(price.as_str())),
            ("api_key", "payments.catalog.price.archive", Some(price.as_str())),
            ("api_key", "payments.catalog.product.delete", Some(product.as_str())),
            ("api_key", "payments.config.remove", None),
            ("api_key", "payments.catalog.product.create", None),
        ]
    );
    assert_eq!(r[0].idempotency_key(), Some("insforge:test:product:k1"));
    assert_eq!(r[1].idempotency_key(), Some("insforge:test:price:k2"));
    for a in &r[..5] {
        assert!(a.stripe_request_id().is_some_and(|id| id.starts_with("req_")), "{a:?}");
        assert!(a.environment == Some(Environment::Test));
    }
    assert_eq!(r[7].error.as_deref(), Some("STRIPE_TEST_SECRET_KEY is not configured"));
    assert!(r[7].stripe_calls.is_empty());
}
