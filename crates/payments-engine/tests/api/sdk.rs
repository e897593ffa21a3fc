//! The official InsForge TypeScript SDK (`@insforge/sdk` 1.3.x) against the engine's runtime
//! routes: `insforge.payments.createCheckoutSession(env, body)` and
//! `createCustomerPortalSession(env, body)`, run by `node` from `tests/fixtures/sdk_runtime.cjs`.
//! Needs node and the SDK in `.tools/` (`scripts/setup.sh --test`); fails without them.

use std::path::PathBuf;

use serde_json::{json, Value};

use crate::common::*;
use crate::runtime::{catalog, checkout_body, complete};
use crate::webhooks::eventually;

fn sdk_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../.tools/node_modules/@insforge/sdk")
}

async fn run_sdk(input: Value) -> Value {
    let sdk = sdk_dir();
    assert!(
        sdk.join("package.json").is_file(),
        "@insforge/sdk is not installed at {}: run `scripts/setup.sh --test`",
        sdk.display()
    );
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/sdk_runtime.cjs");
    let out = tokio::task::spawn_blocking(move || {
        std::process::Command::new("node")
            .arg(&script)
            .env("INSFORGE_SDK", &sdk)
            .env("SDK_INPUT", input.to_string())
            .output()
    })
    .await
    .unwrap()
    .unwrap_or_else(|e| panic!("running node ({e}): install Node.js, see `scripts/setup.sh --test`"));
    assert!(out.status.success(), "the SDK script failed: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("SDK output is not JSON ({e}): {}", String::from_utf8_lossy(&out.stdout)))
}

#[tokio::test]
async fn the_official_sdk_creates_checkouts_and_portals() {
    let h = Harness::start().await;
    let (_, once) = catalog(&h).await;

    // The anon key: a payment checkout without a subject works; a subject or a portal does not,
    // and the SDK surfaces the contract's errors.
    let anon_key = h.jwt("anon", "anon");
    let out = run_sdk(json!({
        "baseUrl": h.base, "anonKey": anon_key, "environment": "test",
        "checkout": checkout_body("payment", &once, None),
        "portal": {"subject": {"type": "team", "id": "sdk"}},
    }))
    .await;
    assert_eq!(out["checkout"]["data"]["checkoutSession"]["status"], "open", "{out}");
    let err = &out["portal"]["error"];
    assert_eq!(err["statusCode"], 401, "{out}");
    assert_eq!(err["error"], "AUTH_INVALID_CREDENTIALS");
    assert_eq!(err["message"], "Customer portal sessions require an authenticated user");
    let out = run_sdk(json!({
        "baseUrl": h.base, "anonKey": anon_key, "environment": "test",
        "checkout": checkout_body("payment", &once, Some(("team", "sdk"))),
    }))
    .await;
    let err = &out["checkout"]["error"];
    assert_eq!(err["statusCode"], 403, "{out}");
    assert_eq!(err["error"], "AUTH_UNAUTHORIZED");
    assert_eq!(err["message"], "Checkout session creation is not allowed by payments.checkout_sessions RLS policies");

    // A member of team sdk, whose token grants the subject, buys for the team.
    let member = h.jwt_granting("authenticated", "u-sdk", &["team:sdk"]);
    let mut body = checkout_body("payment", &once, Some(("team", "sdk")));
    body["idempotencyKey"] = json!("sdk-order-1");
    let out = run_sdk(json!({
        "baseUrl": h.base, "anonKey": member, "environment": "test", "checkout": body,
    }))
    .await;
    assert!(out["checkout"]["error"].is_null(), "{out}");
    let cs = &out["checkout"]["data"]["checkoutSession"];
    assert_eq!(cs["status"], "open");
    assert_eq!(cs["subjectId"], "sdk");

    let stripe_cs = cs["stripeCheckoutSessionId"].as_str().unwrap();
    complete(&h, stripe_cs).await;
    eventually(
        &h,
        &format!("SELECT COUNT(*) FROM payments_payment_history WHERE stripe_checkout_session_id = '{stripe_cs}' AND status = 'succeeded' AND subject_id = 'sdk'"),
        1,
    )
    .await;
    eventually(&h, "SELECT COUNT(*) FROM payments_customer_mappings WHERE subject_id = 'sdk'", 1).await;
    let hist = h.get("/api/payments/test/payment-history?subjectType=team&subjectId=sdk").await.ok(200).clone();
    assert_eq!(hist["paymentHistory"][0]["amount"], 5000);

    // The member's token opens the team's portal; an SDK-side validation error.
    let out = run_sdk(json!({
        "baseUrl": h.base, "anonKey": member, "environment": "test",
        "checkout": {"environment": "test", "mode": "subscription", "lineItems": [{"stripePriceId": once}],
                     "successUrl": "https://a.example/s", "cancelUrl": "https://a.example/c"},
        "portal": {"subject": {"type": "team", "id": "sdk"}, "returnUrl": "https://a.example/billing"},
    }))
    .await;
    let err = &out["checkout"]["error"];
    assert_eq!(err["statusCode"], 400, "{out}");
    assert_eq!(err["error"], "INVALID_INPUT");
    assert_eq!(
        err["message"],
        ": Unrecognized key(s) in object: 'environment', subject: Subscription checkout requires a billing subject"
    );
    let portal = &out["portal"]["data"]["customerPortalSession"];
    assert_eq!(portal["status"], "created", "{out}");
    assert!(portal["url"].as_str().is_some());

    // A signed-in user who is not a member gets the RLS refusal, not the team's portal.
    let outsider = h.jwt("authenticated", "u-other");
    let out = run_sdk(json!({
        "baseUrl": h.base, "anonKey": outsider, "environment": "test",
        "portal": {"subject": {"type": "team", "id": "sdk"}},
    }))
    .await;
    let err = &out["portal"]["error"];
    assert_eq!(err["statusCode"], 403, "{out}");
    assert_eq!(
        err["message"],
        "Customer portal session creation is not allowed by payments.customer_portal_sessions RLS policies"
    );
}
