//! The receiver unseals its signing secret once per stored value and reads the table at most
//! once a second (issue #10). A secret this instance changes (the endpoint's re-creation, a key
//! removal, a pasted secret) must be noticed at the next delivery; one that another instance
//! writes to the shared database, within a second or so.

use payments_engine::{Environment, Sealer};
use reqwest::Method;
use serde_json::{json, Value};
use stripe_client::unix_now;

use crate::common::*;
use crate::webhooks::{post_event, until_answered, webhook_secret};

fn event(id: &str) -> Value {
    json!({"id": id, "object": "event", "type": "customer.created", "created": unix_now(), "livemode": false,
        "data": {"object": {"id": format!("cus_{id}"), "object": "customer", "metadata": {}}}})
}

/// [`post_event`] of an event it owns (for [`until_answered`]'s closures).
fn deliver(h: &Harness, secret: &str, event: Value) -> impl std::future::Future<Output = Resp> {
    let (base, secret) = (h.base.clone(), secret.to_owned());
    async move { post_event(&base, &secret, &event).await }
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

    // Another instance (or an operator) stores a new secret in the shared database: noticed
    // within the cache's second (until then its signatures are refused and nothing is stored).
    sqlx::query("UPDATE payments_secrets SET value_sealed = $1 WHERE name = 'STRIPE_TEST_WEBHOOK_SECRET'")
        .bind(TestSealer.seal("whsec_from_elsewhere"))
        .execute(&h.pool)
        .await
        .unwrap();
    let r = until_answered(200, |_| deliver(&h, "whsec_from_elsewhere", event("evt_e"))).await;
    assert_eq!(r.ok(200)["handled"], true);
    post_event(&h.base, &second, &event("evt_d")).await.err(400, "INVALID_INPUT", MISMATCH);

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
    // Only the key goes (the secret stays), by another instance: within the cache's second,
    // deliveries are refused for the missing key.
    sqlx::query("UPDATE payments_secrets SET is_active = 0 WHERE name = 'STRIPE_TEST_SECRET_KEY'")
        .execute(&h.pool)
        .await
        .unwrap();
    until_answered(400, |n| deliver(&h, &secret, event(&format!("evt_2_{n}")))).await.err(
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

// --- Signing secrets pasted from the Stripe CLI (issue #14) -------------------------------------

/// What `stripe listen` prints: `whsec_` and 64 hex digits.
const PASTED: &str = "whsec_5f1e0c9d8b7a69584736251403f2e1d0c9b8a7968574635241302f1e0d9c8b7a";
const PASTED_HINT: &str = "whsec_…8b7a";
const FORWARDING: &str = "/api/payments/test/webhook/forwarding-secret";

async fn paste(h: &Harness, secret: &str) -> Value {
    h.send(Method::PUT, FORWARDING, json!({ "signingSecret": secret })).await.ok(200).clone()
}

/// The event log's row of `id` (`processingStatus`…), through the API.
async fn logged(h: &Harness, id: &str) -> Value {
    let list = h.get(&format!("/api/payments/test/webhook-events?id={id}")).await;
    list.ok(200)["webhookEvents"][0].clone()
}

#[tokio::test]
async fn events_signed_with_a_pasted_secret_are_processed_beside_the_managed_ones() {
    let h = Harness::start().await;
    h.configure(TEST_KEY).await;
    let managed = webhook_secret(&h).await;
    // Nothing pasted: the connection says nothing of it, and the pasted secret opens nothing.
    let status = h.get("/api/payments/status").await.ok(200).clone();
    assert!(status["connections"][0].get("forwardingSecretHint").is_none(), "{status}");
    post_event(&h.base, PASTED, &event("evt_before")).await.err(400, "INVALID_INPUT", MISMATCH);

    let answer = paste(&h, &format!(" {PASTED}\n")).await;
    assert_eq!(answer["connection"]["forwardingSecretHint"], PASTED_HINT, "{answer}");
    assert!(answer["connection"]["forwardingSecretSetAt"].as_str().is_some_and(|t| t.ends_with('Z')), "{answer}");
    // The managed endpoint is untouched.
    assert!(answer["connection"]["webhookEndpointId"].as_str().is_some_and(|id| id.starts_with("we_")), "{answer}");

    // Signed by the pasted secret: accepted, processed, and its effect in the mirror.
    let r = post_event(&h.base, PASTED, &event("evt_pasted")).await;
    assert_eq!(r.ok(200)["handled"], true);
    assert_eq!(logged(&h, "evt_pasted").await["processingStatus"], "processed");
    let customers = h.get("/api/payments/test/customers?search=cus_evt_pasted").await.ok(200).clone();
    assert_eq!(customers["customers"][0]["stripeCustomerId"], "cus_evt_pasted", "{customers}");
    // The managed secret works alongside; a third secret does not.
    assert_eq!(post_event(&h.base, &managed, &event("evt_managed")).await.ok(200)["handled"], true);
    post_event(&h.base, "whsec_somebodyelse0123456789", &event("evt_wrong")).await.err(400, "INVALID_INPUT", MISMATCH);
    // A stale timestamp is refused whichever secret signed it, with the same message as before.
    let body = event("evt_stale").to_string();
    let stale = stripe_client::sign_webhook_payload(body.as_bytes(), PASTED, unix_now() - 3600);
    crate::webhooks::post_raw(&h.base, "test", &body, Some(stale)).await.err(
        400,
        "INVALID_INPUT",
        "Timestamp outside the tolerance zone",
    );

    // Pasting another secret replaces it: the first one stops working at the next delivery.
    let second = "whsec_0123456789abcdefABCDEF0123456789";
    assert_eq!(paste(&h, second).await["connection"]["forwardingSecretHint"], "whsec_…6789");
    post_event(&h.base, PASTED, &event("evt_replaced")).await.err(400, "INVALID_INPUT", MISMATCH);
    assert_eq!(post_event(&h.base, second, &event("evt_second")).await.ok(200)["handled"], true);

    // Removed: its events are refused from the next delivery on; the managed secret still works.
    let removed = h.delete(FORWARDING).await.ok(200).clone();
    assert!(removed["connection"].get("forwardingSecretHint").is_none(), "{removed}");
    post_event(&h.base, second, &event("evt_after")).await.err(400, "INVALID_INPUT", MISMATCH);
    assert_eq!(post_event(&h.base, &managed, &event("evt_managed_2")).await.ok(200)["handled"], true);
    h.delete(FORWARDING).await.err(
        404,
        "PAYMENT_NOT_FOUND",
        "No forwarded webhook signing secret is set for the test environment",
    );

    let processed: Vec<String> = sqlx::query_scalar(
        "SELECT stripe_event_id FROM payments_webhook_events WHERE processing_status = 'processed'
         ORDER BY stripe_event_id",
    )
    .fetch_all(&h.pool)
    .await
    .unwrap();
    assert_eq!(processed, ["evt_managed", "evt_managed_2", "evt_pasted", "evt_second"]);
    // Stored sealed, under its own name, like every other secret.
    let sealed: Vec<String> =
        sqlx::query_scalar("SELECT value_sealed FROM payments_secrets").fetch_all(&h.pool).await.unwrap();
    assert!(sealed.iter().all(|s| !s.contains("whsec_")), "{sealed:?}");
    assert_eq!(
        h.scalar_i64("SELECT COUNT(*) FROM payments_secrets WHERE name = 'STRIPE_TEST_WEBHOOK_FORWARDING_SECRET'")
            .await,
        1
    );
}

#[tokio::test]
async fn a_pasted_secret_is_enough_where_stripe_has_no_managed_endpoint() {
    // No public URL: the key is set without a managed endpoint, as behind a loopback URL.
    let h = Harness::start_engine_with(|c| c.public_url = None).await;
    h.configure(TEST_KEY).await;
    // Without a pasted secret, deliveries fail exactly as before.
    post_event(&h.base, PASTED, &event("evt_0")).await.err(
        500,
        "INTERNAL_ERROR",
        "STRIPE_TEST_WEBHOOK_SECRET is not configured",
    );
    let answer = paste(&h, PASTED).await;
    assert!(answer["connection"]["webhookEndpointId"].is_null(), "{answer}");
    assert_eq!(post_event(&h.base, PASTED, &event("evt_1")).await.ok(200)["handled"], true);
    assert_eq!(logged(&h, "evt_1").await["processingStatus"], "processed");
    post_event(&h.base, "whsec_notthepastedsecret0000", &event("evt_2")).await.err(400, "INVALID_INPUT", MISMATCH);

    // Removing the key removes the pasted secret with it (the next key may be another account's).
    h.delete("/api/payments/test/config").await.ok(200);
    post_event(&h.base, PASTED, &event("evt_3")).await.err(
        500,
        "INTERNAL_ERROR",
        "STRIPE_TEST_WEBHOOK_SECRET is not configured",
    );
    h.configure(TEST_KEY).await;
    let status = h.get("/api/payments/status").await.ok(200).clone();
    assert!(status["connections"][0].get("forwardingSecretHint").is_none(), "{status}");
}

#[tokio::test]
async fn pasted_secrets_are_checked_and_only_admins_set_them() {
    let rec = std::sync::Arc::new(crate::audit::Recorder::default());
    let h = Harness::start_audited(rec.clone()).await;
    // No key yet: a secret alone would only mislead.
    h.send(Method::PUT, FORWARDING, json!({ "signingSecret": PASTED })).await.err(
        400,
        "PAYMENT_CONFIG_INVALID",
        "STRIPE_TEST_SECRET_KEY is not configured",
    );
    h.configure(TEST_KEY).await;
    let shape = "signingSecret: whsec_ must be followed by 16 to 128 letters and digits";
    let prefix = "signingSecret: A webhook signing secret starts with whsec_ (copy it from the line `stripe listen` prints: \"Your webhook signing secret is whsec_…\")";
    for (body, message) in [
        (json!({}), "signingSecret: Required"),
        (json!({ "signingSecret": 42 }), "signingSecret: Expected string, received number"),
        (json!({ "signingSecret": "  " }), "signingSecret: Webhook signing secret is required"),
        (json!({ "signingSecret": "sk_test_51AbCdEfGhIjKlMnOp1234" }), prefix),
        (json!({ "signingSecret": "whsec_short" }), shape),
        (json!({ "signingSecret": format!("whsec_{}", "a".repeat(129)) }), shape),
        (json!({ "signingSecret": "whsec_0123456789abcdef<script>" }), shape),
        (json!({ "signingSecret": PASTED, "extra": 1 }), ": Unrecognized key(s) in object: 'extra'"),
        (json!(["whsec_"]), ": Expected object, received array"),
    ] {
        h.send(Method::PUT, FORWARDING, body.clone()).await.err(400, "INVALID_INPUT", message);
    }
    h.send(Method::PUT, "/api/payments/prod/webhook/forwarding-secret", json!({ "signingSecret": PASTED })).await.err(
        400,
        "INVALID_INPUT",
        "environment: Invalid enum value. Expected 'test' | 'live', received 'prod'",
    );
    let body = Some(json!({ "signingSecret": PASTED }));
    for method in [Method::PUT, Method::DELETE] {
        h.request(method.clone(), FORWARDING, body.clone(), Auth::Support).await.err(
            403,
            "AUTH_UNAUTHORIZED",
            "Admin access required",
        );
        let anon = h.request(method.clone(), FORWARDING, body.clone(), Auth::None).await;
        assert_eq!(anon.status.as_u16(), 401, "{}", anon.body);
        let user = Auth::Bearer(h.jwt("authenticated", "u1"));
        h.request(method, FORWARDING, body.clone(), user).await.err(403, "AUTH_UNAUTHORIZED", "Admin access required");
    }
    assert!(h.get("/api/payments/status").await.ok(200)["connections"][0].get("forwardingSecretHint").is_none());

    rec.take();
    let set = paste(&h, PASTED).await;
    h.delete(FORWARDING).await.ok(200);
    let records = rec.take();
    let actions: Vec<(&str, &str, Option<Environment>)> =
        records.iter().map(|r| (r.actor.as_str(), r.action.as_str(), r.environment)).collect();
    assert_eq!(
        actions,
        [
            ("api_key", "payments.webhook.forwarding_secret.set", Some(Environment::Test)),
            ("api_key", "payments.webhook.forwarding_secret.remove", Some(Environment::Test)),
        ]
    );
    assert!(records.iter().all(|r| r.error.is_none() && r.target.is_none()));
    // The secret is in no answer and no audit record.
    let tail = &PASTED[PASTED.len() - 20..];
    assert!(!set.to_string().contains(tail), "{set}");
    assert!(!format!("{records:?}").contains(tail));
}

#[tokio::test]
async fn a_pasted_secret_survives_a_key_rotation_but_not_a_change_of_account() {
    let h = Harness::start().await;
    h.configure(TEST_KEY).await;
    paste(&h, PASTED).await;
    // Another key of the same account: a rotation, the CLI's secret still holds.
    h.configure("sk_test_51AbCdEfGhIjKlMnOpRotated").await;
    let status = h.get("/api/payments/status").await.ok(200).clone();
    assert_eq!(status["connections"][0]["forwardingSecretHint"], PASTED_HINT, "{status}");
    assert_eq!(post_event(&h.base, PASTED, &event("evt_rotated")).await.ok(200)["handled"], true);

    // A key of another account (through a second engine on the same database, whose Stripe is
    // that account): the CLI was logged in to the old one, so its secret goes.
    let (_other, other_base) = stripe_client_sandbox("acct_1OtherAccount000").await;
    let (engine2, _) = serve_engine(&h.pool, &other_base).await;
    let body = json!({"secretKey": "sk_test_otherAccountKey5678"});
    request(&reqwest::Client::new(), &engine2, Method::PUT, "/api/payments/test/config", Some(body), Auth::Admin)
        .await
        .ok(200);
    let status = h.get("/api/payments/status").await.ok(200).clone();
    assert_eq!(status["connections"][0]["stripeAccountId"], "acct_1OtherAccount000", "{status}");
    assert!(status["connections"][0].get("forwardingSecretHint").is_none(), "{status}");
    // The first instance learns of it within its cache's second.
    until_answered(400, |n| deliver(&h, PASTED, event(&format!("evt_other_account_{n}")))).await.err(
        400,
        "INVALID_INPUT",
        MISMATCH,
    );
}

async fn stripe_client_sandbox(account: &str) -> (stripe_sandbox::Sandbox, String) {
    start_sandbox(stripe_sandbox::SandboxConfig { account_id: account.into(), ..Default::default() }).await
}
