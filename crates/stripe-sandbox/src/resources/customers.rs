//! Customers (CRUD, list by email) and the test payment methods attached to them.

use axum::extract::{Path, State};
use axum::routing::{get, post};
use axum::Router;
use serde_json::{json, Value};

use super::{deleted, respond};
use crate::error::{ApiError, ApiResult};
use crate::form::Params;
use crate::http::{ApiRequest, Reply};
use crate::store::{apply_metadata, metadata_from, new_id, now, random_token, Ctx, Kind, State as Db};
use crate::Sandbox;

pub(super) fn routes() -> Router<Sandbox> {
    Router::new()
        .route("/v1/customers", post(create).get(list))
        .route("/v1/customers/{id}", get(retrieve).post(update).delete(remove))
        .route("/v1/payment_methods/{id}", get(retrieve_pm))
}

async fn create(State(sb): State<Sandbox>, req: ApiRequest) -> Reply {
    respond(&sb, &req, |st, p, ctx| st.create_customer(p, ctx))
}

async fn retrieve(State(sb): State<Sandbox>, Path(id): Path<String>, req: ApiRequest) -> Reply {
    respond(&sb, &req, |st, p, _| {
        p.check_known(&[], "")?;
        st.rendered(Kind::Customer, &id)
    })
}

async fn update(State(sb): State<Sandbox>, Path(id): Path<String>, req: ApiRequest) -> Reply {
    respond(&sb, &req, |st, p, ctx| st.update_customer(&id, p, ctx))
}

async fn remove(State(sb): State<Sandbox>, Path(id): Path<String>, req: ApiRequest) -> Reply {
    respond(&sb, &req, |st, p, ctx| st.delete_customer(&id, p, ctx))
}

async fn list(State(sb): State<Sandbox>, req: ApiRequest) -> Reply {
    respond(&sb, &req, |st, p, _| {
        p.check_known(&["created", "email", "ending_before", "limit", "starting_after", "test_clock"], "")?;
        let email = p.opt_str("email").map(str::to_owned);
        st.list(Kind::Customer, p, "/v1/customers", &|v: &Value| {
            v["deleted"] != true && email.as_deref().is_none_or(|e| v["email"] == e)
        })
    })
}

async fn retrieve_pm(State(sb): State<Sandbox>, Path(id): Path<String>, req: ApiRequest) -> Reply {
    respond(&sb, &req, |st, p, _| {
        p.check_known(&[], "")?;
        st.rendered(Kind::PaymentMethod, &id)
    })
}

const STRING_FIELDS: [&str; 4] = ["description", "email", "name", "phone"];

/// Stripe's test card tokens, and what charging them does.
pub(crate) struct TestCard {
    pub tokens: &'static [&'static str],
    pub brand: &'static str,
    pub last4: &'static str,
    /// `decline_code` when a charge is attempted, `None` when it succeeds.
    pub decline: Option<&'static str>,
}

static TEST_CARDS: [TestCard; 6] = [
    TestCard { tokens: &["pm_card_visa", "tok_visa"], brand: "visa", last4: "4242", decline: None },
    TestCard { tokens: &["pm_card_mastercard", "tok_mastercard"], brand: "mastercard", last4: "4444", decline: None },
    TestCard { tokens: &["pm_card_amex", "tok_amex"], brand: "amex", last4: "8431", decline: None },
    TestCard {
        tokens: &["pm_card_visa_chargeDeclined", "pm_card_chargeDeclined", "tok_chargeDeclined"],
        brand: "visa",
        last4: "0002",
        decline: Some("generic_decline"),
    },
    TestCard {
        tokens: &["pm_card_visa_chargeDeclinedInsufficientFunds", "pm_card_chargeDeclinedInsufficientFunds"],
        brand: "visa",
        last4: "9995",
        decline: Some("insufficient_funds"),
    },
    // Attaches fine, fails when charged: the classic "renewal fails" card.
    TestCard {
        tokens: &["pm_card_chargeCustomerFail"],
        brand: "visa",
        last4: "0341",
        decline: Some("generic_decline"),
    },
];

pub(crate) fn test_card(token: &str) -> Option<&'static TestCard> {
    TEST_CARDS.iter().find(|c| c.tokens.contains(&token))
}

/// The decline code a stored payment method produces, from its card number.
pub(crate) fn decline_for(pm: &Value) -> Option<&'static str> {
    let last4 = pm["card"]["last4"].as_str()?;
    TEST_CARDS.iter().find(|c| c.last4 == last4).and_then(|c| c.decline)
}

impl Db {
    pub(crate) fn create_customer(&mut self, p: &Params, ctx: &Ctx) -> ApiResult {
        p.check_known(
            &[
                "address",
                "balance",
                "description",
                "email",
                "invoice_prefix",
                "invoice_settings",
                "metadata",
                "name",
                "payment_method",
                "phone",
                "preferred_locales",
                "shipping",
                "tax_exempt",
                "test_clock",
            ],
            "",
        )?;
        let id = new_id("cus");
        let mut customer = json!({
            "id": id,
            "object": "customer",
            "address": p.map("address").map(Params::to_json),
            "balance": p.int("balance")?.unwrap_or(0),
            "created": now(),
            "currency": null,
            "default_source": null,
            "delinquent": false,
            "description": p.opt_str("description"),
            "discount": null,
            "email": p.opt_str("email"),
            "invoice_prefix": p.opt_str("invoice_prefix").map(str::to_owned)
                .unwrap_or_else(|| random_token(8).to_uppercase()),
            "invoice_settings": {
                "custom_fields": null, "default_payment_method": null, "footer": null, "rendering_options": null,
            },
            "livemode": false,
            "metadata": metadata_from(p)?,
            "name": p.opt_str("name"),
            "next_invoice_sequence": 1,
            "phone": p.opt_str("phone"),
            "preferred_locales": p.strs("preferred_locales"),
            "shipping": p.map("shipping").map(Params::to_json),
            "tax_exempt": p.one_of("tax_exempt", &["exempt", "none", "reverse"])?.unwrap_or("none"),
            "test_clock": null,
        });
        let pm = match p.opt_str("payment_method") {
            Some(token) => Some(self.attach_payment_method(token, &id, "payment_method", ctx)?),
            None => None,
        };
        if let Some(settings) = p.map("invoice_settings") {
            settings.check_known(
                &["custom_fields", "default_payment_method", "footer", "rendering_options"],
                "invoice_settings",
            )?;
            if let Some(dpm) = settings.opt_str("default_payment_method") {
                let resolved = match &pm {
                    Some(pm) if dpm == p.opt_str("payment_method").unwrap_or_default() => pm.clone(),
                    _ => self.attach_payment_method(dpm, &id, "invoice_settings[default_payment_method]", ctx)?,
                };
                customer["invoice_settings"]["default_payment_method"] = json!(resolved);
            }
            if let Some(footer) = settings.opt_str("footer") {
                customer["invoice_settings"]["footer"] = json!(footer);
            }
        }
        self.insert(Kind::Customer, customer);
        self.emit_created(Kind::Customer, &id, "customer.created", ctx);
        self.rendered(Kind::Customer, &id)
    }

    /// Resolves a test token (`pm_card_visa`…) or an existing `pm_…` id to a
    /// payment method attached to `customer`, returning its id.
    pub(crate) fn attach_payment_method(
        &mut self,
        token: &str,
        customer: &str,
        param: &str,
        ctx: &Ctx,
    ) -> ApiResult<String> {
        if let Some(existing) = self.get(Kind::PaymentMethod, token) {
            if existing["customer"].is_null() || existing["customer"] == customer {
                let id = token.to_owned();
                if let Some(pm) = self.get_mut(Kind::PaymentMethod, &id) {
                    pm["customer"] = json!(customer);
                }
                return Ok(id);
            }
            return Err(ApiError::invalid(
                param,
                "The payment method you provided has already been attached to a customer.",
            ));
        }
        let card = test_card(token).ok_or_else(|| ApiError::missing_ref("PaymentMethod", token, param))?;
        let id = new_id("pm");
        let pm = json!({
            "id": id,
            "object": "payment_method",
            "allow_redisplay": "unspecified",
            "billing_details": { "address": null, "email": null, "name": null, "phone": null },
            "card": {
                "brand": card.brand,
                "checks": { "address_line1_check": null, "address_postal_code_check": null, "cvc_check": "pass" },
                "country": "US",
                "display_brand": card.brand,
                "exp_month": 12,
                "exp_year": 2034,
                "fingerprint": random_token(16),
                "funding": "credit",
                "last4": card.last4,
                "networks": { "available": [card.brand], "preferred": null },
                "wallet": null,
            },
            "created": now(),
            "customer": customer,
            "livemode": false,
            "metadata": {},
            "type": "card",
        });
        self.insert(Kind::PaymentMethod, pm);
        if !customer.is_empty() {
            self.emit_created(Kind::PaymentMethod, &id, "payment_method.attached", ctx);
        }
        Ok(id)
    }

    pub(crate) fn update_customer(&mut self, id: &str, p: &Params, ctx: &Ctx) -> ApiResult {
        p.check_known(
            &[
                "address",
                "balance",
                "default_source",
                "description",
                "email",
                "invoice_prefix",
                "invoice_settings",
                "metadata",
                "name",
                "phone",
                "preferred_locales",
                "shipping",
                "tax_exempt",
            ],
            "",
        )?;
        let before = self.snapshot(Kind::Customer, id);
        if before.is_null() || before["deleted"] == true {
            return Err(ApiError::not_found("customer", id));
        }
        let default_pm = match p.map("invoice_settings") {
            Some(settings) => {
                settings.check_known(
                    &["custom_fields", "default_payment_method", "footer", "rendering_options"],
                    "invoice_settings",
                )?;
                match settings.str("default_payment_method") {
                    Some("") => Some(Value::Null),
                    Some(pm) => Some(json!(self.attach_payment_method(
                        pm,
                        id,
                        "invoice_settings[default_payment_method]",
                        ctx
                    )?)),
                    None => None,
                }
            }
            None => None,
        };
        let balance = p.int("balance")?;
        let tax_exempt = p.one_of("tax_exempt", &["exempt", "none", "reverse"])?;
        let customer = self.get_mut_or_404(Kind::Customer, id)?;
        for key in STRING_FIELDS {
            if let Some(v) = p.str(key) {
                customer[key] = if v.is_empty() { Value::Null } else { json!(v) };
            }
        }
        if let Some(b) = balance {
            customer["balance"] = json!(b);
        }
        if let Some(t) = tax_exempt {
            customer["tax_exempt"] = json!(t);
        }
        if let Some(prefix) = p.opt_str("invoice_prefix") {
            customer["invoice_prefix"] = json!(prefix);
        }
        if p.has("address") {
            customer["address"] = p.map("address").map(Params::to_json).into();
        }
        if p.has("shipping") {
            customer["shipping"] = p.map("shipping").map(Params::to_json).into();
        }
        if p.has("preferred_locales") {
            customer["preferred_locales"] = json!(p.strs("preferred_locales"));
        }
        if let Some(pm) = default_pm {
            customer["invoice_settings"]["default_payment_method"] = pm;
        }
        apply_metadata(&mut customer["metadata"], p.get("metadata"))?;
        self.emit_updated(Kind::Customer, id, &before, "customer.updated", ctx);
        self.rendered(Kind::Customer, id)
    }

    /// Deletes a customer: its live subscriptions are canceled immediately and
    /// a tombstone (`deleted: true`) stays retrievable, as on Stripe.
    pub(crate) fn delete_customer(&mut self, id: &str, p: &Params, ctx: &Ctx) -> ApiResult {
        p.check_known(&[], "")?;
        let snapshot = self.snapshot(Kind::Customer, id);
        if snapshot.is_null() || snapshot["deleted"] == true {
            return Err(ApiError::not_found("customer", id));
        }
        let subs: Vec<String> = self
            .table(Kind::Subscription)
            .iter_newest()
            .filter(|s| s["customer"] == id && s["status"] != "canceled" && s["status"] != "incomplete_expired")
            .filter_map(|s| s["id"].as_str().map(str::to_owned))
            .collect();
        for sub in subs {
            self.cancel_subscription_now(&sub, "cancellation_requested", ctx)?;
        }
        let tombstone = deleted(id, "customer");
        if let Some(c) = self.get_mut(Kind::Customer, id) {
            *c = tombstone.clone();
        }
        self.emit("customer.deleted", snapshot, None, ctx);
        Ok(tombstone)
    }

    /// A live (non-deleted) customer referenced by parameter `param`.
    pub(crate) fn live_customer(&self, id: &str, param: &str) -> ApiResult<&Value> {
        match self.get(Kind::Customer, id) {
            Some(c) if c["deleted"] != true => Ok(c),
            _ => Err(ApiError::missing_ref("customer", id, param)),
        }
    }
}
