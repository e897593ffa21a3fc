//! The runtime routes (4) checkout-sessions and (5) customer-portal-sessions
//! (`contract/BEHAVIOUR.md` §8), end to end: created with user JWTs, paid in the sandbox,
//! projected from the sandbox's webhooks.

use reqwest::Method;
use serde_json::{json, Value};

use crate::common::*;
use crate::webhooks::eventually;

pub const CHECKOUT: &str = "/api/payments/test/checkout-sessions";
pub const PORTAL: &str = "/api/payments/test/customer-portal-sessions";

/// Configures the key and creates a product with a monthly and a one-time price.
/// Returns `(monthly price id, one-time price id)`.
pub async fn catalog(h: &Harness) -> (String, String) {
    h.configure(TEST_KEY).await;
    let product = h.send(Method::POST, "/api/payments/test/catalog/products", json!({"name": "Pro"})).await;
    let product = product.ok(201)["product"]["stripeProductId"].as_str().unwrap().to_owned();
    let monthly = h
        .send(
            Method::POST,
            "/api/payments/test/catalog/prices",
            json!({"stripeProductId": product, "currency": "usd", "unitAmount": 900, "recurring": {"interval": "month"}}),
        )
        .await;
    let once = h
        .send(
            Method::POST,
            "/api/payments/test/catalog/prices",
            json!({"stripeProductId": product, "currency": "usd", "unitAmount": 2500}),
        )
        .await;
    (
        monthly.ok(201)["price"]["stripePriceId"].as_str().unwrap().to_owned(),
        once.ok(201)["price"]["stripePriceId"].as_str().unwrap().to_owned(),
    )
}

pub fn checkout_body(mode: &str, price: &str, subject: Option<(&str, &str)>) -> Value {
    let mut body = json!({
        "mode": mode,
        "lineItems": [{"stripePriceId": price, "quantity": 2}],
        "successUrl": "https://app.example.com/billing/success",
        "cancelUrl": "https://app.example.com/billing/cancel",
        "metadata": {"order_id": "o-1"},
    });
    if let Some((t, i)) = subject {
        body["subject"] = json!({"type": t, "id": i});
    }
    body
}

/// Pays a checkout session as the customer would on Stripe's page.
pub async fn complete(h: &Harness, stripe_session: &str) {
    let r = reqwest::Client::new()
        .post(format!("{}/_sandbox/checkout/sessions/{stripe_session}/complete", h.sandbox_base))
        .json(&json!({"outcome": "succeeded", "email": "payer@example.com"}))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "completing {stripe_session}: {}", r.text().await.unwrap());
}

async fn text(h: &Harness, sql: &str) -> Option<String> {
    sqlx::query_scalar::<_, Option<String>>(sql).fetch_one(&h.pool).await.unwrap()
}

#[tokio::test]
async fn subscription_and_payment_checkouts_are_created_paid_and_projected() {
    let h = Harness::start().await;
    let (monthly, once) = catalog(&h).await;
    // A member of team t1 (the token grants the subject) buys for the team.
    let member = Auth::Bearer(h.jwt_granting("authenticated", "member-1", &["team:t1"]));

    // Subscription mode, for team t1.
    let r = h
        .request(
            Method::POST,
            CHECKOUT,
            Some(checkout_body("subscription", &monthly, Some(("team", "t1")))),
            member.clone(),
        )
        .await;
    let cs = r.ok(201)["checkoutSession"].clone();
    assert_eq!(cs["environment"], "test");
    assert_eq!(cs["mode"], "subscription");
    assert_eq!(cs["status"], "open");
    assert_eq!((cs["subjectType"].clone(), cs["subjectId"].clone()), (json!("team"), json!("t1")));
    assert!(cs["url"].as_str().unwrap().contains("/_sandbox/pages/checkout/"));
    assert!(cs["lastError"].is_null());
    let stripe_cs = cs["stripeCheckoutSessionId"].as_str().unwrap().to_owned();
    assert!(stripe_cs.starts_with("cs_test_"));
    // What Stripe received: metadata with the subject, the local id as client_reference_id.
    let stripe_obj = h.sandbox.get_object(&stripe_cs).unwrap();
    assert_eq!(stripe_obj["client_reference_id"], cs["id"]);
    assert_eq!(stripe_obj["metadata"]["insforge_subject_id"], "t1");
    assert_eq!(stripe_obj["metadata"]["insforge_checkout_mode"], "subscription");
    assert_eq!(stripe_obj["metadata"]["insforge_checkout_session_id"], cs["id"]);
    assert_eq!(stripe_obj["metadata"]["order_id"], "o-1");

    complete(&h, &stripe_cs).await;
    eventually(
        &h,
        &format!("SELECT COUNT(*) FROM payments_checkout_sessions WHERE stripe_checkout_session_id = '{stripe_cs}' AND status = 'completed' AND stripe_subscription_id IS NOT NULL"),
        1,
    )
    .await;
    eventually(&h, "SELECT COUNT(*) FROM payments_subscriptions WHERE subject_type = 'team' AND subject_id = 't1' AND status = 'active'", 1).await;
    eventually(
        &h,
        "SELECT COUNT(*) FROM payments_customer_mappings WHERE subject_type = 'team' AND subject_id = 't1'",
        1,
    )
    .await;
    eventually(
        &h,
        "SELECT COUNT(*) FROM payments_payment_history WHERE type = 'subscription_invoice' AND status = 'succeeded' AND subject_id = 't1'",
        1,
    )
    .await;
    let team_customer =
        text(&h, "SELECT stripe_customer_id FROM payments_customer_mappings WHERE subject_id = 't1'").await.unwrap();
    let subs = h.get("/api/payments/test/subscriptions?subjectType=team&subjectId=t1").await.ok(200).clone();
    let sub = &subs["subscriptions"][0];
    assert_eq!(sub["stripeCustomerId"], team_customer.as_str());
    assert_eq!(sub["items"][0]["stripePriceId"], monthly.as_str());
    assert_eq!(sub["items"][0]["quantity"], 2);
    let hist = h.get("/api/payments/test/payment-history?subjectType=team&subjectId=t1").await.ok(200).clone();
    assert_eq!(hist["paymentHistory"][0]["amount"], 1800);
    assert_eq!(hist["paymentHistory"][0]["stripeSubscriptionId"], sub["stripeSubscriptionId"]);

    // Payment mode, for user u1 by u1 (no mapping yet: Stripe must create the customer).
    let u1 = Auth::Bearer(h.jwt("authenticated", "u1"));
    let r = h
        .request(Method::POST, CHECKOUT, Some(checkout_body("payment", &once, Some(("user", "u1")))), u1.clone())
        .await;
    let cs = r.ok(201)["checkoutSession"].clone();
    let stripe_cs = cs["stripeCheckoutSessionId"].as_str().unwrap().to_owned();
    let stripe_obj = h.sandbox.get_object(&stripe_cs).unwrap();
    assert_eq!(stripe_obj["customer_creation"], "always");
    complete(&h, &stripe_cs).await;
    eventually(
        &h,
        &format!("SELECT COUNT(*) FROM payments_payment_history WHERE stripe_checkout_session_id = '{stripe_cs}' AND type = 'one_time_payment' AND status = 'succeeded' AND amount = 5000 AND subject_id = 'u1'"),
        1,
    )
    .await;
    eventually(&h, &format!("SELECT COUNT(*) FROM payments_checkout_sessions WHERE stripe_checkout_session_id = '{stripe_cs}' AND status = 'completed' AND payment_status = 'paid'"), 1).await;
    eventually(
        &h,
        "SELECT COUNT(*) FROM payments_customer_mappings WHERE subject_type = 'user' AND subject_id = 'u1'",
        1,
    )
    .await;

    // A second checkout for team t1 reuses its customer.
    let r = h
        .request(
            Method::POST,
            CHECKOUT,
            Some(checkout_body("subscription", &monthly, Some(("team", "t1")))),
            member.clone(),
        )
        .await;
    let cs = r.ok(201)["checkoutSession"].clone();
    assert_eq!(cs["stripeCustomerId"], team_customer.as_str());

    // The portal of a mapped subject; an unmapped one is 404 and its row is failed.
    let user = Auth::Bearer(h.jwt_granting("authenticated", "user-1", &["team:t1", "team:nobody"]));
    let r = h
        .request(
            Method::POST,
            PORTAL,
            Some(json!({"subject": {"type": "team", "id": "t1"}, "returnUrl": "https://app.example.com/billing"})),
            user.clone(),
        )
        .await;
    let portal = r.ok(201)["customerPortalSession"].clone();
    assert_eq!(portal["status"], "created");
    assert_eq!(portal["stripeCustomerId"], team_customer.as_str());
    assert_eq!(portal["returnUrl"], "https://app.example.com/billing");
    assert!(portal["url"].as_str().unwrap().contains("/_sandbox/pages/portal/"));
    assert!(portal["configuration"].is_null());
    h.request(Method::POST, PORTAL, Some(json!({"subject": {"type": "team", "id": "nobody"}})), user.clone())
        .await
        .err(404, "PAYMENT_NOT_FOUND", "No Stripe customer is mapped to this billing subject");
    assert_eq!(
        text(&h, "SELECT status FROM payments_customer_portal_sessions WHERE subject_id = 'nobody'").await.as_deref(),
        Some("failed")
    );
    // project_admin JWTs may open portals too.
    h.request(
        Method::POST,
        PORTAL,
        Some(json!({"subject": {"type": "user", "id": "u1"}})),
        Auth::Bearer(h.jwt("project_admin", "admin")),
    )
    .await
    .ok(201);
}

#[tokio::test]
async fn idempotency_keys_replay_or_conflict() {
    let h = Harness::start().await;
    let (_, once) = catalog(&h).await;
    let anon = Auth::Bearer(h.jwt("anon", "a"));
    let mut body = checkout_body("payment", &once, None);
    body["idempotencyKey"] = json!("order-42");
    body["customerEmail"] = json!("buyer@example.com");
    let first =
        h.request(Method::POST, CHECKOUT, Some(body.clone()), anon.clone()).await.ok(201)["checkoutSession"].clone();
    let again =
        h.request(Method::POST, CHECKOUT, Some(body.clone()), anon.clone()).await.ok(201)["checkoutSession"].clone();
    assert_eq!(first["id"], again["id"]);
    assert_eq!(first["stripeCheckoutSessionId"], again["stripeCheckoutSessionId"]);
    assert_eq!(h.sandbox.count("checkout.session"), Some(1));
    assert_eq!(first["customerEmail"], "buyer@example.com");
    let stripe_obj = h.sandbox.get_object(first["stripeCheckoutSessionId"].as_str().unwrap()).unwrap();
    assert_eq!(stripe_obj["customer_email"], "buyer@example.com");

    body["successUrl"] = json!("https://app.example.com/other");
    h.request(Method::POST, CHECKOUT, Some(body), anon.clone()).await.err(
        409,
        "PAYMENT_CHECKOUT_ALREADY_EXISTS",
        "Idempotency key is already used for another checkout request",
    );

    // Concurrent requests with one key create one session.
    let mut body = checkout_body("payment", &once, None);
    body["idempotencyKey"] = json!("order-43");
    let tasks: Vec<_> = (0..4)
        .map(|_| {
            let (base, body, anon) = (h.base.clone(), body.clone(), anon.clone());
            tokio::spawn(async move {
                request(&reqwest::Client::new(), &base, Method::POST, CHECKOUT, Some(body), anon).await
            })
        })
        .collect();
    let mut ids = Vec::new();
    for t in tasks {
        ids.push(t.await.unwrap().ok(201)["checkoutSession"]["id"].clone());
    }
    ids.dedup();
    assert_eq!(ids.len(), 1);
    assert_eq!(h.sandbox.count("checkout.session"), Some(2));
}

#[tokio::test]
async fn stripe_and_configuration_errors_fail_the_local_row() {
    let h = Harness::start().await;
    let anon = Auth::Bearer(h.jwt("anon", "a"));
    h.request(
        Method::POST,
        "/api/payments/live/checkout-sessions",
        Some(checkout_body("payment", "price_x", None)),
        anon.clone(),
    )
    .await
    .err(400, "PAYMENT_CONFIG_INVALID", "STRIPE_LIVE_SECRET_KEY is not configured");
    h.configure(TEST_KEY).await;
    let r =
        h.request(Method::POST, CHECKOUT, Some(checkout_body("payment", "price_missing", None)), anon.clone()).await;
    assert_eq!(r.status.as_u16(), 400, "{}", r.body);
    assert_eq!(r.body["error"], "UPSTREAM_FAILURE");
    assert!(r.body["message"].as_str().unwrap().contains("price_missing"), "{}", r.body);
    let (status, last_error) = sqlx::query_as::<_, (String, Option<String>)>(
        "SELECT status, last_error FROM payments_checkout_sessions WHERE environment = 'test'",
    )
    .fetch_one(&h.pool)
    .await
    .unwrap();
    assert_eq!(status, "failed");
    assert_eq!(last_error.as_deref(), r.body["message"].as_str());
}

#[tokio::test]
async fn auth_and_validation_errors_of_the_runtime_routes() {
    let h = Harness::start().await;
    let anon = Auth::Bearer(h.jwt("anon", "a"));
    let user = Auth::Bearer(h.jwt("authenticated", "u"));
    let valid = checkout_body("payment", "price_1", None);
    let portal = json!({"subject": {"type": "team", "id": "t1"}});

    // The user guard (`contract/BEHAVIOUR.md` §1.2 verifyUser).
    for (path, body) in [(CHECKOUT, valid.clone()), (PORTAL, portal.clone())] {
        let call = |auth: Auth| h.request(Method::POST, path, Some(body.clone()), auth);
        call(Auth::None).await.err(401, "AUTH_INVALID_CREDENTIALS", "No token provided");
        call(Auth::Bearer("not.a.jwt".into())).await.err(401, "AUTH_INVALID_CREDENTIALS", "Invalid token");
        let forged = payments_engine::sign_hs256(&json!({"role": "anon"}), b"other-secret");
        call(Auth::Bearer(forged)).await.err(401, "AUTH_INVALID_CREDENTIALS", "Invalid token");
        call(Auth::Bearer("ik_wrong".into())).await.err(401, "AUTH_INVALID_API_KEY", "Invalid API key");
        call(Auth::ApiKeyHeader("wrong".into())).await.err(401, "AUTH_INVALID_API_KEY", "Invalid API key");
    }
    // Valid API keys carry no user.
    for auth in [Auth::Admin, Auth::ApiKeyHeader(ADMIN_KEY.into())] {
        h.request(Method::POST, CHECKOUT, Some(valid.clone()), auth.clone()).await.err(
            401,
            "AUTH_INVALID_CREDENTIALS",
            "Checkout session creation requires a user token",
        );
        h.request(Method::POST, PORTAL, Some(portal.clone()), auth).await.err(
            401,
            "AUTH_INVALID_CREDENTIALS",
            "Customer portal session creation requires a user token",
        );
    }
    // Roles.
    let odd = Auth::Bearer(h.jwt("service_role", "s"));
    h.request(Method::POST, CHECKOUT, Some(valid.clone()), odd.clone()).await.err(
        403,
        "AUTH_UNAUTHORIZED",
        "Unsupported checkout role",
    );
    h.request(Method::POST, PORTAL, Some(portal.clone()), odd).await.err(
        403,
        "AUTH_UNAUTHORIZED",
        "Unsupported customer portal role",
    );
    h.request(Method::POST, PORTAL, Some(portal.clone()), anon.clone()).await.err(
        401,
        "AUTH_INVALID_CREDENTIALS",
        "Customer portal sessions require an authenticated user",
    );
    // Other methods on these paths are admin routes (guard first, then 404).
    h.request(Method::GET, CHECKOUT, None, anon.clone()).await.err(403, "AUTH_UNAUTHORIZED", "Admin access required");

    // The environment, then the body.
    for path in ["/api/payments/foo/checkout-sessions", "/api/payments/foo/customer-portal-sessions"] {
        h.request(Method::POST, path, Some(json!({})), user.clone()).await.err(
            400,
            "INVALID_INPUT",
            "environment: Invalid enum value. Expected 'test' | 'live', received 'foo'",
        );
    }
    let with = |patch: Value| {
        let mut b = valid.clone();
        for (k, v) in patch.as_object().unwrap() {
            if v.is_null() {
                b.as_object_mut().unwrap().remove(k);
            } else {
                b[k] = v.clone();
            }
        }
        b
    };
    let cases: Vec<(Value, &str)> = vec![
        (json!({"mode": "subscription"}), "subject: Subscription checkout requires a billing subject"),
        (json!({"metadata": {"insforge_subject_id": "x"}}), "metadata: Metadata keys starting with insforge_ are reserved"),
        (json!({"metadata": {"a": 1}}), "metadata.a: Expected string, received number"),
        (json!({"mode": null}), "mode: Required"),
        (json!({"mode": "setup"}), "mode: Invalid enum value. Expected 'payment' | 'subscription', received 'setup'"),
        (json!({"lineItems": []}), "lineItems: Array must contain at least 1 element(s)"),
        (json!({"lineItems": "price_1"}), "lineItems: Expected array, received string"),
        (
            json!({"lineItems": [{"stripePriceId": "", "quantity": 1000, "x": 1}]}),
            "lineItems.0.stripePriceId: String must contain at least 1 character(s), \
             lineItems.0.quantity: Number must be less than or equal to 999, lineItems.0: Unrecognized key(s) in object: 'x'",
        ),
        (json!({"lineItems": [{"stripePriceId": "p", "quantity": 1.5}]}), "lineItems.0.quantity: Expected integer, received float"),
        (json!({"lineItems": [{"stripePriceId": "p", "quantity": 0}]}), "lineItems.0.quantity: Number must be greater than or equal to 1"),
        (json!({"successUrl": "not a url"}), "successUrl: Success URL must be a valid URL"),
        (json!({"cancelUrl": "/relative"}), "cancelUrl: Cancel URL must be a valid URL"),
        (json!({"successUrl": null}), "successUrl: Required"),
        (json!({"customerEmail": "nope"}), "customerEmail: Invalid email"),
        (json!({"subject": {"type": "team"}}), "subject.id: Required"),
        (json!({"subject": {"type": " ", "id": "1"}}), "subject.type: String must contain at least 1 character(s)"),
        (json!({"subject": "team"}), "subject: Expected object, received string"),
        (json!({"idempotencyKey": ""}), "idempotencyKey: String must contain at least 1 character(s)"),
        (json!({"idempotencyKey": "k".repeat(201)}), "idempotencyKey: String must contain at most 200 character(s)"),
        (json!({"environment": "test"}), ": Unrecognized key(s) in object: 'environment'"),
        (
            json!({"mode": "subscription", "successUrl": "x", "foo": 1}),
            "successUrl: Success URL must be a valid URL, : Unrecognized key(s) in object: 'foo', \
             subject: Subscription checkout requires a billing subject",
        ),
    ];
    for (patch, message) in cases {
        h.request(Method::POST, CHECKOUT, Some(with(patch.clone())), anon.clone()).await.err(
            400,
            "INVALID_INPUT",
            message,
        );
    }
    h.request(Method::POST, CHECKOUT, Some(json!([])), anon.clone()).await.err(
        400,
        "INVALID_INPUT",
        ": Expected object, received array",
    );
    let portal_cases: Vec<(Value, &str)> = vec![
        (json!({}), "subject: Required"),
        (
            json!({"subject": {"type": "t", "id": "i"}, "returnUrl": "nope"}),
            "returnUrl: Return URL must be a valid URL",
        ),
        (
            json!({"subject": {"type": "t", "id": "i"}, "configuration": ""}),
            "configuration: String must contain at least 1 character(s)",
        ),
        (
            json!({"subject": {"type": "t", "id": "i", "x": 1}, "y": 2}),
            "subject: Unrecognized key(s) in object: 'x', : Unrecognized key(s) in object: 'y'",
        ),
    ];
    for (body, message) in portal_cases {
        h.request(Method::POST, PORTAL, Some(body), user.clone()).await.err(400, "INVALID_INPUT", message);
    }
    // Nothing reached Stripe or the tables.
    assert_eq!(h.scalar_i64("SELECT COUNT(*) FROM payments_checkout_sessions").await, 0);
}
