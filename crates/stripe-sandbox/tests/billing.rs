//! Checkout, subscriptions, invoices, payments and refunds.

mod common;

use common::{start, Server};
use serde_json::{json, Value};

async fn checkout(s: &Server, mode: &str, price: &str, extra: &[(&str, &str)]) -> String {
    let mut p = vec![
        ("mode", mode),
        ("line_items[0][price]", price),
        ("line_items[0][quantity]", "2"),
        ("success_url", "https://app.test/ok?session_id={CHECKOUT_SESSION_ID}"),
        ("cancel_url", "https://app.test/cancel"),
    ];
    p.extend_from_slice(extra);
    let r = s.post("/v1/checkout/sessions", &p).await;
    let body = r.ok();
    assert_eq!(body["status"], "open");
    assert_eq!(body["payment_status"], "unpaid");
    assert!(body["url"].as_str().unwrap().contains(&r.id()));
    assert!(body["payment_intent"].is_null());
    r.id()
}

async fn complete(s: &Server, session: &str, outcome: &str) -> common::Resp {
    s.control(&format!("/_sandbox/checkout/sessions/{session}/complete"), json!({ "outcome": outcome })).await
}

fn count(types: &[String], t: &str) -> usize {
    types.iter().filter(|x| *x == t).count()
}

#[tokio::test]
async fn payment_mode_checkout_succeeds() {
    let s = start().await;
    let (_, price) = s.product_with_price("Credits", 1500, None).await;
    let session = checkout(
        &s,
        "payment",
        &price,
        &[
            ("customer_email", "buyer@x.test"),
            ("client_reference_id", "team:acme"),
            ("metadata[insforge_subject_id]", "acme"),
            ("payment_intent_data[metadata][order]", "42"),
            ("customer_creation", "always"),
        ],
    )
    .await;
    let created = s.get(&format!("/v1/checkout/sessions/{session}"), &[("expand[]", "line_items")]).await;
    assert_eq!(created.ok()["amount_total"], json!(3000));
    assert_eq!(created.body["line_items"]["data"][0]["quantity"], json!(2));
    assert_eq!(created.body["line_items"]["data"][0]["price"]["id"], price.as_str());

    let r = complete(&s, &session, "succeeded").await;
    let done = r.ok();
    assert_eq!(done["status"], "complete");
    assert_eq!(done["payment_status"], "paid");
    assert_eq!(done["client_reference_id"], "team:acme");
    assert_eq!(done["metadata"]["insforge_subject_id"], "acme");
    assert_eq!(done["customer_details"]["email"], "buyer@x.test");
    let customer = done["customer"].as_str().unwrap();
    let pi = s
        .get(
            &format!("/v1/payment_intents/{}", done["payment_intent"].as_str().unwrap()),
            &[("expand[]", "latest_charge")],
        )
        .await;
    let pi = pi.ok();
    assert_eq!(pi["status"], "succeeded");
    assert_eq!(pi["amount"], json!(3000));
    assert_eq!(pi["amount_received"], json!(3000));
    assert_eq!(pi["customer"], customer);
    assert_eq!(pi["metadata"], json!({"order": "42"}));
    assert_eq!(pi["latest_charge"]["status"], "succeeded");
    assert_eq!(pi["latest_charge"]["paid"], json!(true));
    assert_eq!(pi["latest_charge"]["payment_method_details"]["card"]["last4"], "4242");
    assert_eq!(s.get(&format!("/v1/customers/{customer}"), &[]).await.body["email"], "buyer@x.test");

    let types = s.event_types().await;
    for t in [
        "customer.created",
        "payment_intent.created",
        "charge.succeeded",
        "payment_intent.succeeded",
        "checkout.session.completed",
    ] {
        assert_eq!(count(&types, t), 1, "{t} in {types:?}");
    }
    let pos = |t: &str| types.iter().position(|x| x == t).unwrap();
    assert!(pos("payment_intent.succeeded") < pos("checkout.session.completed"));
    // Completed sessions cannot be completed again nor expired.
    assert_eq!(complete(&s, &session, "succeeded").await.status, 400);
    s.post(&format!("/v1/checkout/sessions/{session}/expire"), &[]).await.assert_error(
        400,
        "invalid_request_error",
        None,
    );
    let listed = s.get("/v1/checkout/sessions", &[("customer", customer)]).await;
    assert_eq!(listed.ok()["data"][0]["id"], session.as_str());
}

#[tokio::test]
async fn guest_payment_has_no_customer() {
    let s = start().await;
    let (_, price) = s.product_with_price("Credits", 1000, None).await;
    let session = checkout(&s, "payment", &price, &[]).await;
    let done = complete(&s, &session, "succeeded").await;
    assert!(done.ok()["customer"].is_null(), "if_required creates no customer");
    assert_eq!(s.get("/v1/customers", &[]).await.body["data"].as_array().unwrap().len(), 0);
}

#[tokio::test]
async fn declined_card_keeps_session_open_with_402() {
    let s = start().await;
    let (_, price) = s.product_with_price("Credits", 1000, None).await;
    let session = checkout(&s, "payment", &price, &[]).await;
    let r = s
        .control(
            &format!("/_sandbox/checkout/sessions/{session}/complete"),
            json!({"outcome": "declined", "decline_code": "insufficient_funds"}),
        )
        .await;
    let err = r.assert_error(402, "card_error", Some("card_declined"));
    assert_eq!(err["decline_code"], "insufficient_funds");
    assert_eq!(err["payment_intent"]["status"], "requires_payment_method");
    assert_eq!(err["payment_intent"]["last_payment_error"]["decline_code"], "insufficient_funds");
    let sess = s.get(&format!("/v1/checkout/sessions/{session}"), &[]).await;
    assert_eq!(sess.ok()["status"], "open");
    let types = s.event_types().await;
    assert_eq!(count(&types, "payment_intent.payment_failed"), 1);
    assert_eq!(count(&types, "checkout.session.completed"), 0);
    // The customer retries with a good card.
    assert_eq!(complete(&s, &session, "succeeded").await.ok()["payment_status"], "paid");
}

#[tokio::test]
async fn subscription_mode_checkout_creates_everything() {
    let s = start().await;
    let (product, price) = s.product_with_price("Pro", 2900, Some("month")).await;
    let session = checkout(
        &s,
        "subscription",
        &price,
        &[
            ("customer_email", "team@acme.test"),
            ("subscription_data[metadata][insforge_subject_type]", "team"),
            ("subscription_data[metadata][insforge_subject_id]", "acme"),
        ],
    )
    .await;
    let done = complete(&s, &session, "succeeded").await;
    let done = done.ok().clone();
    assert_eq!(done["payment_status"], "paid");
    let sub_id = done["subscription"].as_str().unwrap();
    let sub = s
        .get(
            &format!("/v1/subscriptions/{sub_id}"),
            &[("expand[]", "latest_invoice"), ("expand[]", "customer"), ("expand[]", "items.data.price.product")],
        )
        .await;
    let sub = sub.ok();
    assert_eq!(sub["status"], "active");
    assert_eq!(sub["metadata"], json!({"insforge_subject_type": "team", "insforge_subject_id": "acme"}));
    assert_eq!(sub["customer"]["email"], "team@acme.test");
    assert_eq!(sub["customer"]["id"], done["customer"]);
    assert_eq!(sub["latest_invoice"]["status"], "paid");
    assert_eq!(sub["latest_invoice"]["id"], done["invoice"]);
    assert_eq!(sub["latest_invoice"]["amount_paid"], json!(5800));
    assert_eq!(sub["latest_invoice"]["billing_reason"], "subscription_create");
    assert_eq!(sub["latest_invoice"]["parent"]["subscription_details"]["subscription"], sub_id);
    let item = &sub["items"]["data"][0];
    assert_eq!(item["object"], "subscription_item");
    assert_eq!(item["quantity"], json!(2));
    assert_eq!(item["price"]["product"]["id"], product.as_str());
    let (start, end) = (item["current_period_start"].as_i64().unwrap(), item["current_period_end"].as_i64().unwrap());
    assert!((28..=31).contains(&((end - start) / 86_400)), "monthly period");
    assert!(sub.get("current_period_end").is_none(), "periods live on items in this API version");
    assert!(sub["default_payment_method"].as_str().unwrap().starts_with("pm_"));

    let invoices = s.get("/v1/invoices", &[("subscription", sub_id)]).await;
    assert_eq!(invoices.ok()["data"].as_array().unwrap().len(), 1);
    let payments = s.get("/v1/invoice_payments", &[("invoice", done["invoice"].as_str().unwrap())]).await;
    assert_eq!(payments.ok()["data"][0]["status"], "paid");
    let pi = payments.body["data"][0]["payment"]["payment_intent"].as_str().unwrap();
    assert_eq!(s.get(&format!("/v1/payment_intents/{pi}"), &[]).await.body["amount"], json!(5800));

    let types = s.event_types().await;
    for t in [
        "customer.created",
        "customer.subscription.created",
        "invoice.created",
        "invoice.finalized",
        "invoice.paid",
        "payment_intent.succeeded",
        "charge.succeeded",
        "checkout.session.completed",
    ] {
        assert_eq!(count(&types, t), 1, "{t} in {types:?}");
    }
    let items = s.get("/v1/subscription_items", &[("subscription", sub_id)]).await;
    assert_eq!(items.ok()["data"][0]["id"], item["id"]);
    let one = s.get(&format!("/v1/subscription_items/{}", item["id"].as_str().unwrap()), &[]).await;
    assert_eq!(one.ok()["price"]["id"], price.as_str());
    s.get("/v1/subscription_items", &[]).await.assert_error(400, "invalid_request_error", Some("parameter_missing"));
}

#[tokio::test]
async fn async_payments_succeed_or_fail_later() {
    let s = start().await;
    let (_, one_time) = s.product_with_price("Credits", 1000, None).await;
    let (_, monthly) = s.product_with_price("Pro", 2000, Some("month")).await;

    let ok = checkout(&s, "payment", &one_time, &[]).await;
    let r = complete(&s, &ok, "async_succeeded").await;
    assert_eq!(r.ok()["payment_status"], "paid");
    let pi = s.get(&format!("/v1/payment_intents/{}", r.body["payment_intent"].as_str().unwrap()), &[]).await;
    assert_eq!(pi.body["status"], "succeeded");

    let bad = checkout(&s, "subscription", &monthly, &[]).await;
    let r = complete(&s, &bad, "async_failed").await;
    assert_eq!(r.ok()["status"], "complete");
    assert_eq!(r.body["payment_status"], "unpaid");
    let sub = s.get(&format!("/v1/subscriptions/{}", r.body["subscription"].as_str().unwrap()), &[]).await;
    assert_eq!(sub.ok()["status"], "past_due");

    let types = s.event_types().await;
    assert_eq!(count(&types, "checkout.session.completed"), 2);
    assert_eq!(count(&types, "checkout.session.async_payment_succeeded"), 1);
    assert_eq!(count(&types, "checkout.session.async_payment_failed"), 1);
    assert_eq!(count(&types, "invoice.payment_failed"), 1);
    let pos_completed = types.iter().rposition(|t| t == "checkout.session.completed").unwrap();
    let pos_failed = types.iter().position(|t| t == "checkout.session.async_payment_failed").unwrap();
    assert!(pos_completed < pos_failed, "completion precedes the async outcome");
}

#[tokio::test]
async fn checkout_validation_and_expiry() {
    let s = start().await;
    let (_, one_time) = s.product_with_price("Credits", 1000, None).await;
    let (_, monthly) = s.product_with_price("Pro", 2000, Some("month")).await;
    let r =
        s.post("/v1/checkout/sessions", &[("line_items[0][price]", &one_time), ("line_items[0][quantity]", "1")]).await;
    assert_eq!(r.assert_error(400, "invalid_request_error", Some("parameter_missing"))["param"], "mode");
    let r = s
        .post(
            "/v1/checkout/sessions",
            &[("mode", "payment"), ("line_items[0][price]", &monthly), ("line_items[0][quantity]", "1")],
        )
        .await;
    r.assert_error(400, "invalid_request_error", None);
    let r = s
        .post(
            "/v1/checkout/sessions",
            &[("mode", "subscription"), ("line_items[0][price]", &one_time), ("line_items[0][quantity]", "1")],
        )
        .await;
    r.assert_error(400, "invalid_request_error", None);
    let r = s.post("/v1/checkout/sessions", &[("mode", "payment"), ("line_items[0][price]", &one_time)]).await;
    assert_eq!(
        r.assert_error(400, "invalid_request_error", Some("parameter_missing"))["param"],
        "line_items[0][quantity]"
    );

    let session = checkout(&s, "payment", &one_time, &[]).await;
    let r = s.post(&format!("/v1/checkout/sessions/{session}/expire"), &[]).await;
    assert_eq!(r.ok()["status"], "expired");
    assert!(r.body["url"].is_null());
    assert_eq!(complete(&s, &session, "succeeded").await.status, 400);
    assert_eq!(
        s.event_types().await,
        vec!["product.created", "price.created", "product.created", "price.created", "checkout.session.expired"]
    );
}

#[tokio::test]
async fn refunds_full_partial_and_over_refund() {
    let s = start().await;
    let (_, price) = s.product_with_price("Credits", 5000, None).await;
    let session = checkout(&s, "payment", &price, &[]).await; // 2 × 50.00
    let pi = complete(&s, &session, "succeeded").await.ok()["payment_intent"].as_str().unwrap().to_owned();
    let charge =
        s.get(&format!("/v1/payment_intents/{pi}"), &[]).await.body["latest_charge"].as_str().unwrap().to_owned();

    let over = s.post("/v1/refunds", &[("charge", &charge), ("amount", "15000")]).await;
    let err = over.assert_error(400, "invalid_request_error", Some("amount_too_large"));
    assert_eq!(err["message"], "Refund amount ($150.00) is greater than charge amount ($100.00)");

    let partial = s
        .post(
            "/v1/refunds",
            &[
                ("payment_intent", &pi),
                ("amount", "3000"),
                ("reason", "requested_by_customer"),
                ("metadata[ticket]", "T-1"),
            ],
        )
        .await;
    let refund = partial.ok().clone();
    assert_eq!(refund["object"], "refund");
    assert_eq!(refund["status"], "succeeded");
    assert_eq!(refund["amount"], json!(3000));
    assert_eq!(refund["charge"], charge.as_str());
    assert_eq!(refund["payment_intent"], pi.as_str());
    let ch = s.get(&format!("/v1/charges/{charge}"), &[("expand[]", "refunds")]).await;
    assert_eq!(ch.ok()["amount_refunded"], json!(3000));
    assert_eq!(ch.body["refunded"], json!(false));
    assert_eq!(ch.body["refunds"]["data"][0]["id"], refund["id"]);

    let over = s.post("/v1/refunds", &[("charge", &charge), ("amount", "8000")]).await;
    let err = over.assert_error(400, "invalid_request_error", Some("amount_too_large"));
    assert_eq!(err["message"], "Refund amount ($80.00) is greater than unrefunded amount on charge ($70.00)");

    // No amount: refund the rest.
    let rest = s.post("/v1/refunds", &[("charge", &charge)]).await;
    assert_eq!(rest.ok()["amount"], json!(7000));
    let ch = s.get(&format!("/v1/charges/{charge}"), &[]).await;
    assert_eq!(ch.body["refunded"], json!(true));
    assert_eq!(ch.body["amount_refunded"], json!(10000));
    let again = s.post("/v1/refunds", &[("charge", &charge), ("amount", "1")]).await;
    again.assert_error(400, "invalid_request_error", Some("charge_already_refunded"));

    let listed = s.get("/v1/refunds", &[("charge", &charge)]).await;
    assert_eq!(listed.ok()["data"].as_array().unwrap().len(), 2);
    let upd = s.post(&format!("/v1/refunds/{}", rest.id()), &[("metadata[note]", "done")]).await;
    assert_eq!(upd.ok()["metadata"]["note"], "done");

    let types = s.event_types().await;
    assert_eq!(count(&types, "refund.created"), 2);
    assert_eq!(count(&types, "charge.refunded"), 2);
    assert_eq!(count(&types, "refund.updated"), 1);
    let ev = s.get("/v1/events", &[("type", "charge.refunded"), ("limit", "1")]).await;
    assert_eq!(ev.body["data"][0]["data"]["previous_attributes"]["amount_refunded"], json!(3000));
    assert_eq!(ev.body["data"][0]["data"]["object"]["refunded"], json!(true));
}

#[tokio::test]
async fn api_subscriptions_lifecycle() {
    let s = start().await;
    let (_, price) = s.product_with_price("Pro", 2000, Some("month")).await;
    let (_, other) = s.product_with_price("Team", 5000, Some("month")).await;
    let (_, yearly) = s.product_with_price("Yearly", 20000, Some("year")).await;
    let payer = s.customer("payer@x.test", Some("pm_card_visa")).await;
    let no_pm = s.customer("nopm@x.test", None).await;

    let r = s
        .post(
            "/v1/subscriptions",
            &[("customer", &payer), ("items[0][price]", &price), ("metadata[insforge_subject_id]", "42")],
        )
        .await;
    let sub = r.id();
    assert_eq!(r.ok()["status"], "active");
    assert!(r.body["latest_invoice"].as_str().unwrap().starts_with("in_"));
    let r = s.post("/v1/subscriptions", &[("customer", &no_pm), ("items[0][price]", &price)]).await;
    assert_eq!(r.ok()["status"], "incomplete", "no payment method → incomplete");
    let incomplete = r.id();
    let r = s
        .post("/v1/subscriptions", &[("customer", &payer), ("items[0][price]", &price), ("items[1][price]", &yearly)])
        .await;
    r.assert_error(400, "invalid_request_error", None);
    let r = s.post("/v1/subscriptions", &[("customer", &payer)]).await;
    r.assert_error(400, "invalid_request_error", Some("parameter_missing"));
    let r = s.post("/v1/subscriptions", &[("customer", "cus_nope"), ("items[0][price]", &price)]).await;
    r.assert_error(400, "invalid_request_error", Some("resource_missing"));
    let trial = s
        .post("/v1/subscriptions", &[("customer", &no_pm), ("items[0][price]", &price), ("trial_period_days", "7")])
        .await;
    assert_eq!(trial.ok()["status"], "trialing");
    assert_eq!(trial.body["trial_end"].as_i64().unwrap() - trial.body["trial_start"].as_i64().unwrap(), 7 * 86_400);

    // Updates: cancel at period end, pause collection, swap price.
    let r = s.post(&format!("/v1/subscriptions/{sub}"), &[("cancel_at_period_end", "true")]).await;
    assert_eq!(r.ok()["cancel_at_period_end"], json!(true));
    assert_eq!(r.body["cancel_at"], r.body["items"]["data"][0]["current_period_end"]);
    let r = s
        .post(
            &format!("/v1/subscriptions/{sub}"),
            &[("cancel_at_period_end", "false"), ("pause_collection[behavior]", "void")],
        )
        .await;
    assert_eq!(r.ok()["pause_collection"]["behavior"], "void");
    assert!(r.body["cancel_at"].is_null());
    let r = s.post(&format!("/v1/subscriptions/{sub}"), &[("pause_collection", "")]).await;
    assert!(r.ok()["pause_collection"].is_null());
    let item = r.body["items"]["data"][0]["id"].as_str().unwrap().to_owned();
    let r = s
        .post(
            &format!("/v1/subscriptions/{sub}"),
            &[("items[0][id]", &item), ("items[0][price]", &other), ("items[0][quantity]", "3")],
        )
        .await;
    assert_eq!(r.ok()["items"]["data"][0]["price"]["id"], other.as_str());
    assert_eq!(r.body["items"]["data"][0]["quantity"], json!(3));
    let r = s.post(&format!("/v1/subscriptions/{sub}"), &[("items[0][id]", &item), ("items[0][price]", &yearly)]).await;
    r.assert_error(400, "invalid_request_error", None);

    let ev = s.get("/v1/events", &[("type", "customer.subscription.updated"), ("limit", "1")]).await;
    let prev = &ev.ok()["data"][0]["data"]["previous_attributes"];
    assert_eq!(prev["items"]["data"][0]["price"]["id"], price.as_str(), "previous_attributes carries the old items");

    // Listing: canceled hidden by default, visible with status=all / canceled.
    let r = s.delete(&format!("/v1/subscriptions/{incomplete}")).await;
    assert_eq!(r.ok()["status"], "canceled");
    assert!(r.body["canceled_at"].is_i64());
    assert_eq!(r.body["cancellation_details"]["reason"], "cancellation_requested");
    let default = s.get("/v1/subscriptions", &[]).await;
    let ids: Vec<&str> = default.ok()["data"].as_array().unwrap().iter().map(|x| x["id"].as_str().unwrap()).collect();
    assert!(!ids.contains(&incomplete.as_str()) && ids.contains(&sub.as_str()));
    assert_eq!(s.get("/v1/subscriptions", &[("status", "all")]).await.body["data"].as_array().unwrap().len(), 3);
    assert_eq!(s.get("/v1/subscriptions", &[("status", "canceled")]).await.body["data"][0]["id"], incomplete.as_str());
    assert_eq!(s.get("/v1/subscriptions", &[("customer", &payer)]).await.body["data"].as_array().unwrap().len(), 1);
    assert_eq!(s.get("/v1/subscriptions", &[("price", &other)]).await.body["data"][0]["id"], sub.as_str());
    assert_eq!(s.get("/v1/subscriptions", &[("price", &price)]).await.body["data"].as_array().unwrap().len(), 1);
    let r = s.post(&format!("/v1/subscriptions/{incomplete}"), &[("cancel_at_period_end", "true")]).await;
    r.assert_error(400, "invalid_request_error", None);

    let types = s.event_types().await;
    assert_eq!(count(&types, "customer.subscription.created"), 3);
    assert_eq!(count(&types, "customer.subscription.deleted"), 1);
    let listed: Vec<Value> =
        s.get("/v1/invoices", &[("customer", &payer)]).await.body["data"].as_array().unwrap().clone();
    assert_eq!(listed.len(), 1);
}

#[tokio::test]
async fn advancing_periods_pays_or_goes_past_due() {
    let s = start().await;
    let (_, price) = s.product_with_price("Pro", 2000, Some("month")).await;
    let good = s.customer("good@x.test", Some("pm_card_visa")).await;
    let flaky = s.customer("flaky@x.test", Some("pm_card_chargeCustomerFail")).await;
    let sub_good = s.post("/v1/subscriptions", &[("customer", &good), ("items[0][price]", &price)]).await;
    let first_end = sub_good.ok()["items"]["data"][0]["current_period_end"].as_i64().unwrap();
    let sub_good = sub_good.id();

    let r = s.control(&format!("/_sandbox/subscriptions/{sub_good}/advance"), json!({})).await;
    assert_eq!(r.ok()["status"], "active");
    assert_eq!(r.body["items"]["data"][0]["current_period_start"], json!(first_end));
    let invoices = s.get("/v1/invoices", &[("subscription", &sub_good)]).await;
    let data = invoices.ok()["data"].as_array().unwrap();
    assert_eq!(data.len(), 2);
    assert_eq!(data[0]["billing_reason"], "subscription_cycle");
    assert_eq!(data[0]["status"], "paid");
    assert_eq!(data[0]["period_start"], json!(first_end));

    // The chargeCustomerFail card attaches but fails when charged: the first
    // invoice fails and the subscription starts incomplete.
    let r = s.post("/v1/subscriptions", &[("customer", &flaky), ("items[0][price]", &price)]).await;
    assert_eq!(r.ok()["status"], "incomplete");

    // A forced failure on renewal: past_due, then paying the invoice recovers.
    let r = s
        .control(
            &format!("/_sandbox/subscriptions/{sub_good}/advance"),
            json!({"outcome": "failed", "decline_code": "insufficient_funds"}),
        )
        .await;
    assert_eq!(r.ok()["status"], "past_due");
    let invoice = r.body["latest_invoice"].as_str().unwrap().to_owned();
    let inv = s.get(&format!("/v1/invoices/{invoice}"), &[]).await;
    assert_eq!(inv.ok()["status"], "open");
    assert_eq!(inv.body["attempt_count"], json!(1));
    let paid = s.post(&format!("/v1/invoices/{invoice}/pay"), &[]).await;
    assert_eq!(paid.ok()["status"], "paid");
    assert_eq!(s.get(&format!("/v1/subscriptions/{sub_good}"), &[]).await.body["status"], "active");

    // Cancel at period end takes effect on the next advance.
    s.post(&format!("/v1/subscriptions/{sub_good}"), &[("cancel_at_period_end", "true")]).await.ok();
    let r = s.control(&format!("/_sandbox/subscriptions/{sub_good}/advance"), json!({})).await;
    assert_eq!(r.ok()["status"], "canceled");
    let r = s.control(&format!("/_sandbox/subscriptions/{sub_good}/advance"), json!({})).await;
    assert_eq!(r.status, 400);

    let types = s.event_types().await;
    assert_eq!(count(&types, "invoice.payment_failed"), 2);
    assert!(count(&types, "payment_intent.payment_failed") >= 2);
    assert_eq!(count(&types, "customer.subscription.deleted"), 1);
}

#[tokio::test]
async fn trial_without_payment_method_pauses_and_resumes() {
    let s = start().await;
    let (_, price) = s.product_with_price("Pro", 2000, Some("month")).await;
    let c = s.customer("trial@x.test", None).await;
    let sub = s
        .post(
            "/v1/subscriptions",
            &[
                ("customer", &c),
                ("items[0][price]", &price),
                ("trial_period_days", "14"),
                ("trial_settings[end_behavior][missing_payment_method]", "pause"),
            ],
        )
        .await
        .id();
    let r = s.control(&format!("/_sandbox/subscriptions/{sub}/advance"), json!({})).await;
    assert_eq!(r.ok()["status"], "paused");
    s.post(&format!("/v1/customers/{c}"), &[("invoice_settings[default_payment_method]", "pm_card_visa")]).await.ok();
    let r = s.post(&format!("/v1/subscriptions/{sub}/resume"), &[]).await;
    assert_eq!(r.ok()["status"], "active");
    let r = s.post(&format!("/v1/subscriptions/{sub}/resume"), &[]).await;
    r.assert_error(400, "invalid_request_error", None);
    let types = s.event_types().await;
    assert_eq!(count(&types, "customer.subscription.paused"), 1);
    assert_eq!(count(&types, "customer.subscription.resumed"), 1);
}

#[tokio::test]
async fn portal_session_and_customer_delete_cancels_subscriptions() {
    let s = start().await;
    let (_, price) = s.product_with_price("Pro", 2000, Some("month")).await;
    let c = s.customer("p@x.test", Some("pm_card_visa")).await;
    let sub = s.post("/v1/subscriptions", &[("customer", &c), ("items[0][price]", &price)]).await.id();
    let r =
        s.post("/v1/billing_portal/sessions", &[("customer", &c), ("return_url", "https://app.test/billing")]).await;
    assert_eq!(r.ok()["object"], "billing_portal.session");
    assert_eq!(r.body["return_url"], "https://app.test/billing");
    let url = r.body["url"].as_str().unwrap();
    assert!(url.starts_with("http"));
    s.post("/v1/billing_portal/sessions", &[]).await.assert_error(
        400,
        "invalid_request_error",
        Some("parameter_missing"),
    );

    s.delete(&format!("/v1/customers/{c}")).await.ok();
    assert_eq!(s.get(&format!("/v1/subscriptions/{sub}"), &[]).await.body["status"], "canceled");
}
