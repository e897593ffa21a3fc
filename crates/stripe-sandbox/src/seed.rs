//! Seed data: a small realistic `demo` catalog driven through the same code
//! paths as the API (so it comes with its events), and a bulk loader for
//! benchmark-scale data that writes objects directly.

use serde_json::{json, Value};

use crate::error::ApiResult;
use crate::form::Params;
use crate::resources::{CheckoutOutcome, Outcome};
use crate::store::{new_id, now, random_token, Ctx, Kind, State};

fn params(pairs: &[(&str, &str)]) -> Params {
    Params::from_pairs(pairs.iter().copied())
}

fn id_of(v: &Value) -> String {
    v["id"].as_str().unwrap_or_default().to_owned()
}

/// One demo billing subject and what happens to it.
struct Subject {
    name: &'static str,
    email: &'static str,
    kind: &'static str,
    subject_id: &'static str,
    /// Price lookup key of its subscription, if any.
    plan: Option<&'static str>,
    story: Story,
}

#[derive(Clone, Copy, PartialEq)]
enum Story {
    /// Active, renewed once.
    Renewed,
    /// Active, first period.
    Active,
    /// In a 14-day trial.
    Trialing,
    /// Renewal failed (insufficient funds).
    PastDue,
    /// Canceled.
    Canceled,
    /// Cancels at the end of the period.
    CancelAtPeriodEnd,
    /// Collection paused.
    PausedCollection,
    /// No subscription, one-time purchases only.
    OneTimeOnly,
}

const SUBJECTS: [Subject; 8] = [
    Subject {
        name: "Acme Corp",
        email: "billing@acme.test",
        kind: "team",
        subject_id: "acme",
        plan: Some("pro_monthly"),
        story: Story::Renewed,
    },
    Subject {
        name: "Ada Lovelace",
        email: "ada@example.test",
        kind: "user",
        subject_id: "42",
        plan: Some("starter_monthly"),
        story: Story::Active,
    },
    Subject {
        name: "Globex",
        email: "finance@globex.test",
        kind: "team",
        subject_id: "globex",
        plan: Some("team_yearly"),
        story: Story::Trialing,
    },
    Subject {
        name: "Initech",
        email: "ap@initech.test",
        kind: "org",
        subject_id: "initech",
        plan: Some("pro_monthly"),
        story: Story::PastDue,
    },
    Subject {
        name: "Umbrella",
        email: "it@umbrella.test",
        kind: "team",
        subject_id: "umbrella",
        plan: Some("starter_monthly"),
        story: Story::Canceled,
    },
    Subject {
        name: "Grace Hopper",
        email: "grace@example.test",
        kind: "user",
        subject_id: "7",
        plan: Some("pro_yearly"),
        story: Story::CancelAtPeriodEnd,
    },
    Subject {
        name: "Hooli",
        email: "billing@hooli.test",
        kind: "org",
        subject_id: "hooli",
        plan: Some("team_monthly"),
        story: Story::PausedCollection,
    },
    Subject {
        name: "Linus T.",
        email: "linus@example.test",
        kind: "user",
        subject_id: "99",
        plan: None,
        story: Story::OneTimeOnly,
    },
];

/// A demo price: `(lookup_key, unit_amount, recurring interval)`.
type DemoPrice = (&'static str, i64, Option<&'static str>);

/// The catalog: `(product name, description, prices)`.
const CATALOG: [(&str, &str, &[DemoPrice]); 5] = [
    (
        "Starter",
        "For individuals getting started",
        &[("starter_monthly", 900, Some("month")), ("starter_yearly", 9000, Some("year"))],
    ),
    ("Pro", "For growing teams", &[("pro_monthly", 2900, Some("month")), ("pro_yearly", 29000, Some("year"))]),
    ("Team", "Collaboration at scale", &[("team_monthly", 9900, Some("month")), ("team_yearly", 99000, Some("year"))]),
    ("Credits pack", "1,000 usage credits", &[("credits_1000", 4900, None)]),
    ("Onboarding", "Guided onboarding session", &[("onboarding", 19900, None)]),
];

/// Loads the demo data set. Errors would be bugs in the seed itself.
pub(crate) fn demo(st: &mut State, ctx: &Ctx) {
    if let Err(e) = try_demo(st, ctx) {
        tracing::error!(error = %e, "demo seed failed");
    }
}

fn try_demo(st: &mut State, ctx: &Ctx) -> ApiResult<()> {
    let mut prices = std::collections::HashMap::new();
    for (name, description, price_list) in CATALOG {
        let product = st.create_product(
            &params(&[("name", name), ("description", description), ("metadata[catalog]", "demo")]),
            ctx,
        )?;
        let product_id = id_of(&product);
        for (i, (lookup_key, amount, interval)) in price_list.iter().enumerate() {
            let amount = amount.to_string();
            let mut p = vec![
                ("product", product_id.as_str()),
                ("currency", "usd"),
                ("unit_amount", amount.as_str()),
                ("lookup_key", lookup_key),
                ("nickname", lookup_key),
            ];
            if let Some(interval) = interval {
                p.push(("recurring[interval]", interval));
            }
            let price = st.create_price(&params(&p), ctx)?;
            if i == 0 {
                st.update_product(
                    &product_id,
                    &params(&[("default_price", price["id"].as_str().unwrap_or_default())]),
                    ctx,
                )?;
            }
            prices.insert(*lookup_key, id_of(&price));
        }
    }

    for s in &SUBJECTS {
        let customer = st.create_customer(
            &params(&[
                ("name", s.name),
                ("email", s.email),
                ("payment_method", "pm_card_visa"),
                ("invoice_settings[default_payment_method]", "pm_card_visa"),
                ("metadata[insforge_subject_type]", s.kind),
                ("metadata[insforge_subject_id]", s.subject_id),
            ]),
            ctx,
        )?;
        let customer_id = id_of(&customer);
        let Some(plan) = s.plan else {
            // One-time purchases through checkout; the onboarding one is refunded in full.
            let onboarding = buy_once(st, &customer_id, &prices["onboarding"], s, ctx)?;
            st.create_refund(&params(&[("payment_intent", &onboarding), ("reason", "requested_by_customer")]), ctx)?;
            buy_once(st, &customer_id, &prices["credits_1000"], s, ctx)?;
            continue;
        };
        let mut sub_params = vec![
            ("customer", customer_id.as_str()),
            ("items[0][price]", prices[plan].as_str()),
            ("metadata[insforge_subject_type]", s.kind),
            ("metadata[insforge_subject_id]", s.subject_id),
        ];
        if s.story == Story::Trialing {
            sub_params.push(("trial_period_days", "14"));
        }
        let spec_params = params(&sub_params);
        let sub = st.create_subscription_from_params(&spec_params, ctx)?;
        match s.story {
            Story::Renewed => {
                st.advance_subscription(&sub, Some(Outcome::Succeed), ctx)?;
                // A one-time add-on, partially refunded.
                let credits = buy_once(st, &customer_id, &prices["credits_1000"], s, ctx)?;
                st.create_refund(
                    &params(&[("payment_intent", &credits), ("amount", "1500"), ("reason", "requested_by_customer")]),
                    ctx,
                )?;
            }
            Story::PastDue => {
                st.advance_subscription(&sub, Some(Outcome::Decline("insufficient_funds")), ctx)?;
            }
            Story::Canceled => {
                st.cancel_subscription_now(&sub, "cancellation_requested", ctx)?;
            }
            Story::CancelAtPeriodEnd => {
                st.update_subscription(&sub, &params(&[("cancel_at_period_end", "true")]), ctx)?;
            }
            Story::PausedCollection => {
                st.update_subscription(&sub, &params(&[("pause_collection[behavior]", "void")]), ctx)?;
            }
            Story::Active | Story::Trialing | Story::OneTimeOnly => {}
        }
    }
    Ok(())
}

/// Buys a one-time price through a completed payment-mode checkout; returns
/// the payment intent id.
fn buy_once(st: &mut State, customer: &str, price: &str, s: &Subject, ctx: &Ctx) -> ApiResult<String> {
    let session = st.create_checkout_session(
        &params(&[
            ("mode", "payment"),
            ("customer", customer),
            ("line_items[0][price]", price),
            ("line_items[0][quantity]", "1"),
            ("success_url", "http://127.0.0.1:3000/billing/success?session_id={CHECKOUT_SESSION_ID}"),
            ("cancel_url", "http://127.0.0.1:3000/billing"),
            ("client_reference_id", &format!("{}:{}", s.kind, s.subject_id)),
            ("metadata[insforge_subject_type]", s.kind),
            ("metadata[insforge_subject_id]", s.subject_id),
            ("payment_intent_data[metadata][insforge_subject_type]", s.kind),
            ("payment_intent_data[metadata][insforge_subject_id]", s.subject_id),
        ]),
        ctx,
    )?;
    let done = st.complete_checkout(&id_of(&session), CheckoutOutcome::Succeeded, None, None, ctx)?;
    Ok(done["payment_intent"].as_str().unwrap_or_default().to_owned())
}

/// Writes `n` each of products, prices, customers and subscriptions (with
/// one item each) straight into the tables: no events, no invoices.
pub(crate) fn bulk(st: &mut State, n: usize) {
    let created = now();
    let period_end = crate::resources::add_interval(created, "month", 1);
    for i in 0..n {
        let product_id = new_id("prod");
        let price_id = new_id("price");
        let customer_id = new_id("cus");
        let sub_id = new_id("sub");
        let item_id = new_id("si");
        st.insert(
            Kind::Product,
            json!({
                "id": product_id, "object": "product", "active": true, "created": created,
                "default_price": price_id, "description": null, "images": [], "livemode": false,
                "marketing_features": [], "metadata": { "bulk": "true" }, "name": format!("Bulk product {i}"),
                "package_dimensions": null, "shippable": null, "statement_descriptor": null, "tax_code": null,
                "type": "service", "unit_label": null, "updated": created, "url": null,
            }),
        );
        st.insert(
            Kind::Price,
            json!({
                "id": price_id, "object": "price", "active": true, "billing_scheme": "per_unit", "created": created,
                "currency": "usd", "custom_unit_amount": null, "livemode": false, "lookup_key": null, "metadata": {},
                "nickname": null, "product": product_id,
                "recurring": { "interval": "month", "interval_count": 1, "meter": null, "trial_period_days": null, "usage_type": "licensed" },
                "tax_behavior": "unspecified", "tiers_mode": null, "transform_quantity": null, "type": "recurring",
                "unit_amount": 100 + (i % 100) as i64 * 100, "unit_amount_decimal": (100 + (i % 100) * 100).to_string(),
            }),
        );
        st.insert(
            Kind::Customer,
            json!({
                "id": customer_id, "object": "customer", "address": null, "balance": 0, "created": created,
                "currency": "usd", "default_source": null, "delinquent": false, "description": null, "discount": null,
                "email": format!("bulk{i}@example.test"), "invoice_prefix": random_token(8).to_uppercase(),
                "invoice_settings": { "custom_fields": null, "default_payment_method": null, "footer": null, "rendering_options": null },
                "livemode": false, "metadata": { "insforge_subject_type": "user", "insforge_subject_id": i.to_string() },
                "name": format!("Bulk customer {i}"), "next_invoice_sequence": 1, "phone": null, "preferred_locales": [],
                "shipping": null, "tax_exempt": "none", "test_clock": null,
            }),
        );
        st.insert(
            Kind::SubscriptionItem,
            json!({
                "id": item_id, "object": "subscription_item", "billing_thresholds": null, "created": created,
                "current_period_end": period_end, "current_period_start": created, "discounts": [], "metadata": {},
                "price": price_id, "quantity": 1, "subscription": sub_id, "tax_rates": [],
            }),
        );
        st.sub_items.insert(sub_id.clone(), vec![item_id]);
        st.insert(
            Kind::Subscription,
            json!({
                "id": sub_id, "object": "subscription", "application": null, "application_fee_percent": null,
                "automatic_tax": { "disabled_reason": null, "enabled": false, "liability": null },
                "billing_cycle_anchor": created, "billing_cycle_anchor_config": null, "billing_thresholds": null,
                "cancel_at": null, "cancel_at_period_end": false, "canceled_at": null,
                "cancellation_details": { "comment": null, "feedback": null, "reason": null },
                "collection_method": "charge_automatically", "created": created, "currency": "usd",
                "customer": customer_id, "days_until_due": null, "default_payment_method": null, "default_source": null,
                "default_tax_rates": [], "description": null, "discounts": [], "ended_at": null,
                "invoice_settings": { "account_tax_ids": null, "issuer": { "type": "self" } },
                "latest_invoice": null, "livemode": false,
                "metadata": { "insforge_subject_type": "user", "insforge_subject_id": i.to_string() },
                "next_pending_invoice_item_invoice": null, "on_behalf_of": null, "pause_collection": null,
                "payment_settings": { "payment_method_options": null, "payment_method_types": null, "save_default_payment_method": "off" },
                "pending_invoice_item_interval": null, "pending_setup_intent": null, "pending_update": null,
                "schedule": null, "start_date": created, "status": "active", "test_clock": null, "transfer_data": null,
                "trial_end": null, "trial_settings": { "end_behavior": { "missing_payment_method": "create_invoice" } },
                "trial_start": null,
            }),
        );
    }
}

/// A payment history for the newest `n` bulk subscriptions (see [`bulk`]): one paid invoice
/// each; for every 5th customer a one-time payment through a completed payment-mode Checkout
/// Session with its PaymentIntent (InsForge's checkout metadata on both), and for every 10th a
/// partial refund of it. Written straight into the tables: no events.
pub(crate) fn bulk_history(st: &mut State, n: usize) {
    let created = now();
    let subscriptions: Vec<Value> = st.table(Kind::Subscription).iter_newest().take(n).cloned().collect();
    for (i, sub) in subscriptions.iter().enumerate() {
        let (sub_id, customer) = (id_of(sub), sub["customer"].as_str().unwrap_or_default().to_owned());
        let metadata = sub["metadata"].clone();
        let item =
            st.sub_items.get(&sub_id).and_then(|items| items.first()).and_then(|si| st.get(Kind::SubscriptionItem, si));
        let price = item.map(|si| si["price"].clone()).unwrap_or(Value::Null);
        let price_object = price.as_str().and_then(|p| st.get(Kind::Price, p));
        let product = price_object.map(|p| p["product"].clone()).unwrap_or(Value::Null);
        let amount = price_object.and_then(|p| p["unit_amount"].as_i64()).unwrap_or(100);
        let email = st.get(Kind::Customer, &customer).map(|c| c["email"].clone()).unwrap_or(Value::Null);
        st.insert(
            Kind::Invoice,
            json!({
                "id": new_id("in"), "object": "invoice", "amount_due": amount, "amount_paid": amount, "amount_remaining": 0,
                "attempt_count": 1, "attempted": true, "billing_reason": "subscription_create", "collection_method": "charge_automatically",
                "created": created, "currency": "usd", "customer": customer, "customer_email": email, "description": null,
                "livemode": false, "metadata": {}, "number": format!("BULK-{i}"),
                "parent": { "type": "subscription_details", "quote_details": null,
                    "subscription_details": { "metadata": metadata, "subscription": sub_id } },
                "lines": { "object": "list", "has_more": false, "data": [{
                    "id": new_id("il"), "object": "line_item", "amount": amount, "currency": "usd", "quantity": 1,
                    "pricing": { "type": "price_details", "price_details": { "price": price, "product": product } },
                    "parent": { "type": "subscription_item_details", "subscription_item_details": { "subscription": sub_id } },
                }] },
                "status": "paid", "status_transitions": { "finalized_at": created, "paid_at": created, "voided_at": null },
                "total": amount,
            }),
        );
        if i % 5 != 0 {
            continue;
        }
        let (pi_id, charge_id) = (new_id("pi"), new_id("ch"));
        let mut checkout = metadata.clone();
        checkout["insforge_checkout_mode"] = json!("payment");
        st.insert(
            Kind::PaymentIntent,
            json!({
                "id": pi_id, "object": "payment_intent", "amount": 4900, "amount_received": 4900, "created": created,
                "currency": "usd", "customer": customer, "description": null, "last_payment_error": null,
                "latest_charge": charge_id, "livemode": false, "metadata": checkout, "receipt_email": email,
                "status": "succeeded",
            }),
        );
        st.insert(
            Kind::CheckoutSession,
            json!({
                "id": new_id("cs_test"), "object": "checkout.session", "amount_subtotal": 4900, "amount_total": 4900,
                "client_reference_id": null, "created": created, "currency": "usd", "customer": customer,
                "customer_details": { "email": email }, "livemode": false, "metadata": metadata, "mode": "payment",
                "payment_intent": pi_id, "payment_status": "paid", "status": "complete", "subscription": null, "url": null,
            }),
        );
        if i % 10 == 0 {
            st.insert(
                Kind::Refund,
                json!({
                    "id": new_id("re"), "object": "refund", "amount": 1000, "charge": charge_id, "created": created,
                    "currency": "usd", "description": null, "metadata": {}, "payment_intent": pi_id,
                    "reason": "requested_by_customer", "status": "succeeded",
                }),
            );
        }
    }
}
