//! The subject policy of the runtime routes (`crates/payments-engine/src/subjects.rs`): a user
//! acts for `user:<sub>` and for what its token (or the operator's authoriser) grants; the anon
//! key names no subject; a refusal is the RLS 403 with nothing written and nothing sent to Stripe.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::http::StatusCode;
use axum::routing::post;
use axum::{Json, Router};
use payments_engine::{SubjectAuthoriser, SubjectPolicy};
use reqwest::Method;
use serde_json::{json, Value};

use crate::common::*;
use crate::runtime::{catalog, checkout_body, complete, CHECKOUT, PORTAL};
use crate::webhooks::eventually;

const CHECKOUT_DENIED: &str = "Checkout session creation is not allowed by payments.checkout_sessions RLS policies";
const PORTAL_DENIED: &str =
    "Customer portal session creation is not allowed by payments.customer_portal_sessions RLS policies";

fn portal_for(t: &str, i: &str) -> Value {
    json!({"subject": {"type": t, "id": i}})
}

/// Pays a checkout for `subject` created by a token granting it, so the subject gets a customer.
async fn map_subject(h: &Harness, price: &str, t: &str, i: &str) {
    let grant = format!("{t}:{i}");
    let buyer = Auth::Bearer(h.jwt_granting("authenticated", "buyer", &[grant.as_str()]));
    let r = h.request(Method::POST, CHECKOUT, Some(checkout_body("payment", price, Some((t, i)))), buyer).await;
    let stripe_cs = r.ok(201)["checkoutSession"]["stripeCheckoutSessionId"].as_str().unwrap().to_owned();
    complete(h, &stripe_cs).await;
    eventually(
        h,
        &format!("SELECT COUNT(*) FROM payments_customer_mappings WHERE subject_type = '{t}' AND subject_id = '{i}'"),
        1,
    )
    .await;
}

/// The rows and Stripe objects a refusal must not create.
async fn footprint(h: &Harness) -> (i64, i64, Option<usize>, Option<usize>) {
    (
        h.scalar_i64("SELECT COUNT(*) FROM payments_checkout_sessions").await,
        h.scalar_i64("SELECT COUNT(*) FROM payments_customer_portal_sessions").await,
        h.sandbox.count("checkout.session"),
        h.sandbox.count("billing_portal.session"),
    )
}

#[tokio::test]
async fn users_reach_only_their_own_subjects() {
    let h = Harness::start().await;
    let (_, once) = catalog(&h).await;
    map_subject(&h, &once, "team", "b").await;
    map_subject(&h, &once, "user", "u2").await;
    let before = footprint(&h).await;

    // User A is neither in team b nor user u2.
    let a = Auth::Bearer(h.jwt("authenticated", "u1"));
    h.request(Method::POST, PORTAL, Some(portal_for("team", "b")), a.clone()).await.err(
        403,
        "AUTH_UNAUTHORIZED",
        PORTAL_DENIED,
    );
    h.request(Method::POST, PORTAL, Some(portal_for("user", "u2")), a.clone()).await.err(
        403,
        "AUTH_UNAUTHORIZED",
        PORTAL_DENIED,
    );
    for subject in [("team", "b"), ("user", "u2")] {
        h.request(Method::POST, CHECKOUT, Some(checkout_body("payment", &once, Some(subject))), a.clone()).await.err(
            403,
            "AUTH_UNAUTHORIZED",
            CHECKOUT_DENIED,
        );
    }
    // A grant for another team, or for `b` under another type, is not a grant for team b.
    let near = Auth::Bearer(h.jwt_granting("authenticated", "u1", &["team:c", "organization:b", "team:b:x"]));
    h.request(Method::POST, PORTAL, Some(portal_for("team", "b")), near).await.err(
        403,
        "AUTH_UNAUTHORIZED",
        PORTAL_DENIED,
    );
    // The anon key names no subject, in either mode.
    let anon = Auth::Bearer(h.jwt("anon", "u2"));
    for (mode, subject) in [("payment", ("user", "u2")), ("subscription", ("team", "b"))] {
        h.request(Method::POST, CHECKOUT, Some(checkout_body(mode, &once, Some(subject))), anon.clone()).await.err(
            403,
            "AUTH_UNAUTHORIZED",
            CHECKOUT_DENIED,
        );
    }
    // Refusals wrote nothing and called no one.
    assert_eq!(footprint(&h).await, before);

    // What is allowed: the own user subject, a granted subject, anything for project_admin,
    // and the anon key without a subject.
    let u2 = Auth::Bearer(h.jwt("authenticated", "u2"));
    h.request(Method::POST, PORTAL, Some(portal_for("user", "u2")), u2).await.ok(201);
    let member = Auth::Bearer(h.jwt_granting("authenticated", "u1", &["team:b"]));
    let portal = h.request(Method::POST, PORTAL, Some(portal_for("team", "b")), member.clone()).await;
    assert_eq!(portal.ok(201)["customerPortalSession"]["status"], "created");
    let member_objects = Auth::Bearer(sign_claims(json!({
        "sub": "u1", "role": "authenticated", "exp": 4_102_444_800_i64,
        "billing_subjects": [{"type": "team", "id": "b"}],
    })));
    h.request(Method::POST, PORTAL, Some(portal_for("team", "b")), member_objects).await.ok(201);
    let admin = Auth::Bearer(h.jwt("project_admin", "root"));
    h.request(Method::POST, PORTAL, Some(portal_for("team", "b")), admin).await.ok(201);
    h.request(Method::POST, CHECKOUT, Some(checkout_body("payment", &once, None)), anon).await.ok(201);
}

fn sign_claims(claims: Value) -> String {
    payments_engine::sign_hs256(&claims, JWT_SECRET)
}

#[tokio::test]
async fn a_malformed_grant_claim_grants_nothing() {
    let h = Harness::start().await;
    let (_, once) = catalog(&h).await;
    for claim in [json!("team:b"), json!({"team": "b"}), json!([1, null, "b"])] {
        let token = sign_claims(json!({"sub": "u1", "role": "authenticated", "billing_subjects": claim}));
        h.request(
            Method::POST,
            CHECKOUT,
            Some(checkout_body("payment", &once, Some(("team", "b")))),
            Auth::Bearer(token),
        )
        .await
        .err(403, "AUTH_UNAUTHORIZED", CHECKOUT_DENIED);
    }
}

#[tokio::test]
async fn the_permissive_policy_restores_insforges_behaviour() {
    let h = Harness::start_with_subjects(SubjectPolicy::Permissive).await;
    let (_, once) = catalog(&h).await;
    let anon = Auth::Bearer(h.jwt("anon", "a"));
    h.request(Method::POST, CHECKOUT, Some(checkout_body("payment", &once, Some(("team", "b")))), anon).await.ok(201);
}

/// Who asked the authoriser, and what it answers: team `acme` for user `u1` only; team `slow`
/// never in time; team `boom` with a 500.
async fn start_authoriser() -> (String, Arc<AtomicUsize>) {
    let calls = Arc::new(AtomicUsize::new(0));
    let counter = calls.clone();
    let app = Router::new().route(
        "/allow",
        post(move |Json(body): Json<Value>| {
            let counter = counter.clone();
            async move {
                counter.fetch_add(1, Ordering::SeqCst);
                match body["subject"]["id"].as_str() {
                    Some("slow") => {
                        tokio::time::sleep(Duration::from_secs(10)).await;
                        StatusCode::NO_CONTENT
                    }
                    Some("boom") => StatusCode::INTERNAL_SERVER_ERROR,
                    Some("acme")
                        if body["user"] == "u1"
                            && body["email"] == "u1@example.com"
                            && body["subject"]["type"] == "team"
                            && body["environment"] == "test"
                            && body["action"] == "customer_portal_session" =>
                    {
                        StatusCode::NO_CONTENT
                    }
                    _ => StatusCode::FORBIDDEN,
                }
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/allow", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, calls)
}

#[tokio::test]
async fn an_operators_authoriser_decides_other_subjects_and_is_cached() {
    let (url, calls) = start_authoriser().await;
    let authoriser = SubjectAuthoriser::new(url.parse().unwrap()).unwrap();
    let h = Harness::start_with_subjects(SubjectPolicy::WithAuthoriser(Arc::new(authoriser))).await;
    let (_, once) = catalog(&h).await;
    map_subject(&h, &once, "team", "acme").await;
    let asked_while_mapping = calls.load(Ordering::SeqCst);
    assert_eq!(asked_while_mapping, 0, "a granted subject needs no question");

    let u1 = Auth::Bearer(h.jwt("authenticated", "u1"));
    for _ in 0..3 {
        h.request(Method::POST, PORTAL, Some(portal_for("team", "acme")), u1.clone()).await.ok(201);
    }
    assert_eq!(calls.load(Ordering::SeqCst), 1, "the answer is cached");
    // Another user: asked, denied.
    let u9 = Auth::Bearer(h.jwt("authenticated", "u9"));
    h.request(Method::POST, PORTAL, Some(portal_for("team", "acme")), u9).await.err(
        403,
        "AUTH_UNAUTHORIZED",
        PORTAL_DENIED,
    );
    // An error and a timeout deny.
    h.request(Method::POST, PORTAL, Some(portal_for("team", "boom")), u1.clone()).await.err(
        403,
        "AUTH_UNAUTHORIZED",
        PORTAL_DENIED,
    );
    h.request(Method::POST, PORTAL, Some(portal_for("team", "slow")), u1.clone()).await.err(
        403,
        "AUTH_UNAUTHORIZED",
        PORTAL_DENIED,
    );
    // Its own user subject is never put to the authoriser.
    let asked = calls.load(Ordering::SeqCst);
    h.request(Method::POST, CHECKOUT, Some(checkout_body("payment", &once, Some(("user", "u1")))), u1).await.ok(201);
    assert_eq!(calls.load(Ordering::SeqCst), asked);
}

#[tokio::test]
async fn a_checkout_made_elsewhere_never_maps_a_customer_to_a_subject() {
    let h = Harness::start().await;
    let (_, once) = catalog(&h).await;
    // Someone with access to the Stripe account creates a session naming team `victim`,
    // bypassing the engine and its subject policy.
    let form = [
        ("mode", "payment"),
        ("line_items[0][price]", once.as_str()),
        ("line_items[0][quantity]", "1"),
        ("success_url", "https://evil.example/s"),
        ("cancel_url", "https://evil.example/c"),
        ("customer_creation", "always"),
        ("metadata[insforge_checkout_mode]", "payment"),
        ("metadata[insforge_subject_type]", "team"),
        ("metadata[insforge_subject_id]", "victim"),
    ];
    let r = reqwest::Client::new()
        .post(format!("{}/v1/checkout/sessions", h.sandbox_base))
        .bearer_auth(TEST_KEY)
        .form(&form)
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{}", r.text().await.unwrap());
    let session: Value = r.json().await.unwrap();
    let stripe_cs = session["id"].as_str().unwrap().to_owned();
    complete(&h, &stripe_cs).await;
    // The payment itself is recorded (it happened), but team victim gets no customer.
    eventually(
        &h,
        &format!(
            "SELECT COUNT(*) FROM payments_payment_history WHERE stripe_checkout_session_id = '{stripe_cs}' AND status = 'succeeded'"
        ),
        1,
    )
    .await;
    eventually(
        &h,
        "SELECT COUNT(*) FROM payments_webhook_events WHERE event_type = 'checkout.session.completed' AND processing_status <> 'pending'",
        1,
    )
    .await;
    assert_eq!(h.scalar_i64("SELECT COUNT(*) FROM payments_customer_mappings WHERE subject_id = 'victim'").await, 0);
}

#[tokio::test]
async fn runtime_sessions_beyond_the_concurrency_bound_wait_then_get_429() {
    let h = Harness::start_engine_with(|c| {
        c.runtime_concurrency = 1;
        c.runtime_queue_wait = Duration::from_millis(300);
    })
    .await;
    let (_, once) = catalog(&h).await;
    // Stripe answers the next checkout creation after 3 s: that request holds the only slot.
    h.add_fault(json!({"path_prefix": "/v1/checkout/sessions", "method": "POST", "delay_ms": 3000})).await;
    let anon = Auth::Bearer(h.jwt("anon", "a"));
    let body = checkout_body("payment", &once, None);
    let slow = {
        let (base, body, anon) = (h.base.clone(), body.clone(), anon.clone());
        tokio::spawn(
            async move { request(&reqwest::Client::new(), &base, Method::POST, CHECKOUT, Some(body), anon).await },
        )
    };
    // Wait until the slow one is at Stripe (its local row exists), then ask for a second slot.
    eventually(&h, "SELECT COUNT(*) FROM payments_checkout_sessions", 1).await;
    h.request(Method::POST, CHECKOUT, Some(body.clone()), anon.clone()).await.err(
        429,
        "RATE_LIMITED",
        "Too many checkout or portal sessions are being created at once; retry shortly",
    );
    // The refused request wrote nothing; the slow one completes and frees the slot.
    assert_eq!(h.scalar_i64("SELECT COUNT(*) FROM payments_checkout_sessions").await, 1);
    slow.await.unwrap().ok(201);
    h.request(Method::POST, CHECKOUT, Some(body), anon).await.ok(201);
}
