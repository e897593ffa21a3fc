//! Hostile input on the list routes (table 3 of `crates/payments-engine/ERROR_PATHS.md`): absurd
//! dates, cursors and limits are a clear 400 `INVALID_INPUT`, never a panic (in debug builds
//! integer overflow panics, and a panicking handler drops the connection); and the advisory-lock
//! keys cannot be reached from a caller's idempotency key.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use reqwest::Method;
use serde_json::json;

use crate::common::*;
use crate::runtime::{catalog, checkout_body, CHECKOUT};
use crate::webhooks::eventually;
use payments_engine::{DbKind, Environment, ListOptions};

/// Every list route with `from`/`to`, and whether it takes `cursor` pages.
const ROUTES: [&str; 4] = ["payment-history", "subscriptions", "customers", "webhook-events"];

fn b64(s: &str) -> String {
    URL_SAFE_NO_PAD.encode(s)
}

#[tokio::test]
async fn absurd_dates_are_invalid_input() {
    let h = Harness::start().await;
    // The first four overflowed the millisecond arithmetic of the date parser: a panic.
    let dates = [
        "99999999999-01-01",
        "9223372036854775807-12-31",
        "2026-01-01T9223372036854775807:00Z",
        "2026-01-01T00:00:1e300Z",
        "2026-01-01T00:00:NaNZ",
        "2026-02-30",
        "2026-01-01T24:00Z",
        "-9223372036854775808",
        "9223372036854775807",
        "+2026-01-01",
    ];
    for path in ROUTES {
        for date in dates {
            let q = url::form_urlencoded::byte_serialize(date.as_bytes()).collect::<String>();
            for key in ["from", "to"] {
                h.get(&format!("/api/payments/test/{path}?{key}={q}")).await.err(
                    400,
                    "INVALID_INPUT",
                    &format!("{key}: Invalid date"),
                );
            }
        }
        // Sane bounds still work, in every accepted form.
        h.get(&format!("/api/payments/test/{path}?from=2026-01-01&to=2026-12-31T23:59:59.999Z")).await.ok(200);
        h.get(&format!("/api/payments/test/{path}?from=0&to=1778625667123")).await.ok(200);
        h.get(&format!("/api/payments/test/{path}?from=9999-12-31T23:59Z")).await.ok(200);
    }
}

#[tokio::test]
async fn absurd_cursors_are_invalid_input() {
    let h = Harness::start().await;
    let cursors = [
        "!!!".to_owned(),
        "%00%FF".to_owned(),
        // 60 KB: the `http` crate cannot even form a longer URI (the unit tests try 100 KB).
        "a".repeat(60_000),
        b64(&format!("[{}, \"x\", \"y\"]", "9".repeat(400))),
        b64("[1e308, \"x\", \"y\"]"),
        b64("[18446744073709551615, \"x\", \"y\"]"),
        b64("[-9223372036854775809, \"x\", \"y\"]"),
        b64("[\"x\", 1, 2]"),
        b64("[]"),
        b64("{}"),
        b64("null"),
        b64("garbage"),
        URL_SAFE_NO_PAD.encode([0xff_u8, 0xfe, 0x00, 0x80]),
        b64(&format!("{}1{}", "[".repeat(500), "]".repeat(500))),
        b64(&format!("[1, \"{}\", \"y\"]", "x".repeat(10_000))),
    ];
    for path in ROUTES {
        for c in &cursors {
            let q = url::form_urlencoded::byte_serialize(c.as_bytes()).collect::<String>();
            let r = h.get(&format!("/api/payments/test/{path}?cursor={q}")).await;
            let shown = &c[..c.len().min(60)];
            assert_eq!((r.status.as_u16(), &r.body["error"]), (400, &json!("INVALID_INPUT")), "{shown}");
            assert_eq!(r.body["message"], "cursor: Invalid cursor", "{shown}");
        }
        // Negative and zero sort keys are just positions: an empty page, not an error.
        for c in [b64("[-9223372036854775808, \"x\", \"y\"]"), b64("[0, \"\", \"\"]")] {
            h.get(&format!("/api/payments/test/{path}?cursor={c}")).await.ok(200);
        }
    }
}

#[tokio::test]
async fn absurd_limits_are_invalid_input() {
    let h = Harness::start().await;
    let float_and_max = "limit: Expected integer, received float, limit: Number must be less than or equal to 100";
    for path in ROUTES {
        for (limit, message) in [
            ("1e400", float_and_max),
            ("Infinity", float_and_max),
            ("-Infinity", "limit: Expected integer, received float, limit: Number must be greater than or equal to 1"),
            // `Number("inf")` is NaN in JavaScript, whatever Rust's float parser says.
            ("inf", "limit: Expected number, received nan"),
            ("NaN", "limit: Expected number, received nan"),
            ("9223372036854775808", "limit: Number must be less than or equal to 100"),
            ("-9223372036854775809", "limit: Number must be greater than or equal to 1"),
            ("1e-400", "limit: Number must be greater than or equal to 1"),
        ] {
            h.get(&format!("/api/payments/test/{path}?limit={limit}")).await.err(400, "INVALID_INPUT", message);
        }
    }
}

/// `ListOptions` is public and its `Default` has `limit: 0`: the engine refuses it (and other
/// out-of-range limits) instead of underflowing `limit - 1`.
#[tokio::test]
async fn library_callers_get_an_error_for_out_of_range_limits() {
    let h = Harness::start().await;
    // Each list takes its own filters: the same options, typed for each.
    fn o<F: Default>(limit: i64) -> ListOptions<F> {
        ListOptions { limit, ..ListOptions::default() }
    }
    for limit in [0, -1, 101, i64::MIN, i64::MAX] {
        let env = Environment::Test;
        let errors = [
            h.engine.list_payment_history(env, &o(limit)).await.err(),
            h.engine.list_subscriptions(env, &o(limit)).await.err(),
            h.engine.list_customers(env, &o(limit)).await.err(),
            h.engine.list_webhook_events(env, &o(limit)).await.err(),
        ];
        for e in errors {
            let e = e.unwrap_or_else(|| panic!("limit {limit} accepted"));
            assert!(matches!(e, payments_engine::EngineError::InvalidInput(_)), "limit {limit}: {e:?}");
        }
    }
    assert!(h.engine.list_payment_history(Environment::Test, &o(100)).await.is_ok());
}

/// Under the old lock names, `hashtext('payments_checkout_test_' || CRAFTED)` equals
/// `hashtext('payments_environment_test')` (found by an offline search of PostgreSQL's 32-bit
/// `hashtext`). A checkout with this key took the environment's lock exclusively.
pub const CRAFTED_KEY: &str = "collide-00002d2e8282";

/// A checkout in flight with the crafted key (held in Stripe by a sandbox delay) must not block
/// checkouts with other keys: they share the environment lock, and the key's own lock is of
/// another kind. Before the fix, on PostgreSQL, the second checkout waited for the first
/// (the exclusive "key" lock *was* the environment lock). On SQLite the in-process locks were
/// already apart; the test guards that too.
#[tokio::test]
async fn a_crafted_idempotency_key_does_not_take_the_environment_lock() {
    let h = Harness::start().await;
    if h.engine.db_kind() == DbKind::Postgres {
        let collides: bool = sqlx::query_scalar(&format!(
            "SELECT hashtext('payments_checkout_test_{CRAFTED_KEY}') = hashtext('payments_environment_test')"
        ))
        .fetch_one(&h.pool)
        .await
        .unwrap();
        assert!(collides, "the crafted key collides under the old scheme");
    }
    let (_, once) = catalog(&h).await;
    let user = Auth::Bearer(h.jwt("authenticated", "u1"));
    // The crafted checkout hangs in Stripe for a minute while holding its locks.
    h.add_fault(json!({"path_prefix": "/v1/checkout/sessions", "method": "POST", "delay_ms": 60_000, "count": 1}))
        .await;
    let mut crafted = checkout_body("payment", &once, None);
    crafted["idempotencyKey"] = json!(CRAFTED_KEY);
    let first = {
        let (base, user) = (h.base.clone(), user.clone());
        tokio::spawn(async move {
            request(&reqwest::Client::new(), &base, Method::POST, CHECKOUT, Some(crafted), user).await
        })
    };
    // Its local row is written under the locks, before Stripe is called.
    eventually(
        &h,
        &format!("SELECT COUNT(*) FROM payments_checkout_sessions WHERE idempotency_key = '{CRAFTED_KEY}'"),
        1,
    )
    .await;

    // Another key, and no key: both proceed. The bound is only there to fail instead of hanging
    // for the minute; unblocked, each takes milliseconds.
    for key in [Some("another-key"), None] {
        let mut body = checkout_body("payment", &once, None);
        if let Some(key) = key {
            body["idempotencyKey"] = json!(key);
        }
        let other = h.request(Method::POST, CHECKOUT, Some(body), user.clone());
        let other = tokio::time::timeout(std::time::Duration::from_secs(20), other)
            .await
            .unwrap_or_else(|_| panic!("a checkout with key {key:?} waited for the crafted key's checkout"));
        other.ok(201);
    }
    // Dropping the request cancels the handler, which frees its locks.
    first.abort();
}
