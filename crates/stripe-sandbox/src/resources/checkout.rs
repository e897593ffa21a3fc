//! Checkout sessions (payment and subscription mode) and billing-portal
//! sessions. Completing a session is a customer action, so it lives behind
//! the sandbox-only route that calls [`State::complete_checkout`].

use axum::extract::{Path, State};
use axum::routing::{get, post};
use axum::Router;
use serde_json::{json, Value};

use super::billing::{Outcome, PaymentRequest};
use super::respond;
use super::subscriptions::SubscriptionSpec;
use crate::error::{ApiError, ApiResult};
use crate::form::{Param, Params};
use crate::http::{ApiRequest, Reply};
use crate::store::{apply_metadata, metadata_from, new_id, now, random_token, Ctx, Kind, State as Db};
use crate::Sandbox;

pub(super) fn routes() -> Router<Sandbox> {
    Router::new()
        .route("/v1/checkout/sessions", post(create).get(list))
        .route("/v1/checkout/sessions/{id}", get(retrieve).post(update))
        .route("/v1/checkout/sessions/{id}/expire", post(expire))
        .route("/v1/checkout/sessions/{id}/line_items", get(line_items))
        .route("/v1/billing_portal/sessions", post(create_portal_session))
}

async fn create(State(sb): State<Sandbox>, req: ApiRequest) -> Reply {
    respond(&sb, &req, |st, p, ctx| st.create_checkout_session(p, ctx))
}

async fn retrieve(State(sb): State<Sandbox>, Path(id): Path<String>, req: ApiRequest) -> Reply {
    respond(&sb, &req, |st, p, _| {
        p.check_known(&[], "")?;
        st.rendered(Kind::CheckoutSession, &id)
    })
}

async fn update(State(sb): State<Sandbox>, Path(id): Path<String>, req: ApiRequest) -> Reply {
    respond(&sb, &req, |st, p, _| {
        p.check_known(&["metadata"], "")?;
        let session = st.get_mut_or_404(Kind::CheckoutSession, &id)?;
        apply_metadata(&mut session["metadata"], p.get("metadata"))?;
        st.rendered(Kind::CheckoutSession, &id)
    })
}

async fn expire(State(sb): State<Sandbox>, Path(id): Path<String>, req: ApiRequest) -> Reply {
    respond(&sb, &req, |st, p, ctx| {
        p.check_known(&[], "")?;
        let session = st.get_or_404(Kind::CheckoutSession, &id)?;
        if session["status"] != "open" {
            return Err(ApiError::bad_request(format!(
                "Only Checkout Sessions with a status in [\"open\"] can be expired. This Checkout Session has a status of \"{}\".",
                session["status"].as_str().unwrap_or_default()
            )));
        }
        let session = st.get_mut_or_404(Kind::CheckoutSession, &id)?;
        session["status"] = json!("expired");
        session["url"] = Value::Null;
        st.emit_created(Kind::CheckoutSession, &id, "checkout.session.expired", ctx);
        st.rendered(Kind::CheckoutSession, &id)
    })
}

async fn line_items(State(sb): State<Sandbox>, Path(id): Path<String>, req: ApiRequest) -> Reply {
    respond(&sb, &req, |st, p, _| {
        p.check_known(&["ending_before", "limit", "starting_after"], "")?;
        st.get_or_404(Kind::CheckoutSession, &id)?;
        let data = st.session_lines.get(&id).cloned().unwrap_or_default();
        Ok(json!({
            "object": "list", "data": data, "has_more": false,
            "url": format!("/v1/checkout/sessions/{id}/line_items"),
        }))
    })
}

async fn list(State(sb): State<Sandbox>, req: ApiRequest) -> Reply {
    respond(&sb, &req, |st, p, _| {
        p.check_known(
            &[
                "created",
                "customer",
                "customer_details",
                "ending_before",
                "limit",
                "payment_intent",
                "payment_link",
                "starting_after",
                "status",
                "subscription",
            ],
            "",
        )?;
        let customer = p.opt_str("customer");
        let pi = p.opt_str("payment_intent");
        let sub = p.opt_str("subscription");
        let status = p.one_of("status", &["complete", "expired", "open"])?;
        let email = p.map("customer_details").and_then(|d| d.opt_str("email").map(str::to_owned));
        st.list(Kind::CheckoutSession, p, "/v1/checkout/sessions", &|v: &Value| {
            customer.is_none_or(|c| v["customer"] == c)
                && pi.is_none_or(|x| v["payment_intent"] == x)
                && sub.is_none_or(|x| v["subscription"] == x)
                && status.is_none_or(|s| v["status"] == s)
                && email.as_deref().is_none_or(|e| v["customer_details"]["email"] == e)
        })
    })
}

async fn create_portal_session(State(sb): State<Sandbox>, req: ApiRequest) -> Reply {
    respond(&sb, &req, |st, p, _| {
        p.check_known(&["configuration", "customer", "flow_data", "locale", "on_behalf_of", "return_url"], "")?;
        let customer = p.req_str("customer")?;
        st.live_customer(customer, "customer")?;
        let id = new_id("bps");
        let session = json!({
            "id": id,
            "object": "billing_portal.session",
            "configuration": p.opt_str("configuration").unwrap_or("bpc_sandbox_default"),
            "created": now(),
            "customer": customer,
            "flow": null,
            "livemode": false,
            "locale": p.opt_str("locale"),
            "on_behalf_of": p.opt_str("on_behalf_of"),
            "return_url": p.opt_str("return_url"),
            "url": format!("{}/_sandbox/pages/portal/{id}", st.config.public_url),
        });
        st.insert(Kind::PortalSession, session.clone());
        Ok(session)
    })
}

/// How the paying customer's attempt at a checkout session ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CheckoutOutcome {
    /// The card is charged.
    Succeeded,
    /// The card is declined with this `decline_code` (`generic_decline` or
    /// `insufficient_funds`); the session stays open.
    Declined(&'static str),
    /// A delayed payment method that later succeeds.
    AsyncSucceeded,
    /// A delayed payment method that later fails.
    AsyncFailed,
}

impl Db {
    pub(crate) fn create_checkout_session(&mut self, p: &Params, ctx: &Ctx) -> ApiResult {
        let _ = ctx;
        p.check_known(
            &[
                "after_expiration",
                "allow_promotion_codes",
                "automatic_tax",
                "billing_address_collection",
                "cancel_url",
                "client_reference_id",
                "consent_collection",
                "currency",
                "custom_fields",
                "custom_text",
                "customer",
                "customer_creation",
                "customer_email",
                "customer_update",
                "discounts",
                "expires_at",
                "invoice_creation",
                "line_items",
                "locale",
                "metadata",
                "mode",
                "payment_intent_data",
                "payment_method_collection",
                "payment_method_types",
                "phone_number_collection",
                "redirect_on_completion",
                "return_url",
                "saved_payment_method_options",
                "shipping_address_collection",
                "submit_type",
                "subscription_data",
                "success_url",
                "tax_id_collection",
                "ui_mode",
            ],
            "",
        )?;
        let mode = p.req_str("mode")?;
        if !["payment", "setup", "subscription"].contains(&mode) {
            return Err(ApiError::invalid("mode", "Invalid mode: must be one of payment, setup, or subscription"));
        }
        if mode == "setup" {
            return Err(ApiError::invalid("mode", "The sandbox does not support `mode=setup` Checkout Sessions."));
        }
        let ui_mode = p.one_of("ui_mode", &["custom", "embedded", "hosted"])?.unwrap_or("hosted");
        if let (Some(_), Some(_)) = (p.opt_str("customer"), p.opt_str("customer_email")) {
            return Err(ApiError::bad_request(
                "You may only specify one of these parameters: customer, customer_email.",
            ));
        }
        if let Some(c) = p.opt_str("customer") {
            self.live_customer(c, "customer")?;
        }
        let customer_creation = p.one_of("customer_creation", &["always", "if_required"])?;
        if customer_creation.is_some() && mode != "payment" {
            return Err(ApiError::invalid(
                "customer_creation",
                "`customer_creation` can only be used in `payment` mode.",
            ));
        }
        // Line items: validated fully before anything is stored.
        let items = p.list("line_items");
        if items.is_empty() {
            return Err(ApiError::missing_param("line_items"));
        }
        let mut lines = Vec::new();
        let mut currency: Option<String> = None;
        let mut subtotal = 0i64;
        let mut has_recurring = false;
        for (i, item) in items.into_iter().enumerate() {
            let Param::Map(m) = item else {
                return Err(ApiError::invalid(&format!("line_items[{i}]"), "Invalid object"));
            };
            m.check_known(
                &["adjustable_quantity", "dynamic_tax_rates", "price", "price_data", "quantity", "tax_rates"],
                &format!("line_items[{i}]"),
            )?;
            let price_id = m.req_str_named("price", &format!("line_items[{i}][price]"))?;
            let price = self.get_ref(Kind::Price, price_id, &format!("line_items[{i}][price]"))?.clone();
            if price["active"] != true {
                return Err(ApiError::invalid(
                    &format!("line_items[{i}][price]"),
                    format!("The price `{price_id}` is not active."),
                ));
            }
            let quantity = m
                .int_named("quantity", &format!("line_items[{i}][quantity]"))?
                .ok_or_else(|| ApiError::missing_param(&format!("line_items[{i}][quantity]")))?;
            if quantity < 1 {
                return Err(ApiError::invalid(
                    &format!("line_items[{i}][quantity]"),
                    "This value must be greater than or equal to 1.",
                ));
            }
            let recurring = price["type"] == "recurring";
            if recurring && mode == "payment" {
                return Err(ApiError::invalid(
                    &format!("line_items[{i}][price]"),
                    "You specified `payment` mode but passed a recurring price. Either switch to `subscription` mode or use only one-time prices.",
                ));
            }
            has_recurring |= recurring;
            let price_currency = price["currency"].as_str().unwrap_or("usd").to_owned();
            if currency.as_ref().is_some_and(|c| *c != price_currency) {
                return Err(ApiError::invalid(
                    &format!("line_items[{i}][price]"),
                    "All prices must be in the same currency.",
                ));
            }
            currency = Some(price_currency.clone());
            let amount = price["unit_amount"].as_i64().unwrap_or(0) * quantity;
            subtotal += amount;
            let product_name = self
                .get(Kind::Product, price["product"].as_str().unwrap_or_default())
                .and_then(|pr| pr["name"].as_str())
                .unwrap_or_default()
                .to_owned();
            lines.push(json!({
                "id": new_id("li"),
                "object": "item",
                "amount_discount": 0,
                "amount_subtotal": amount,
                "amount_tax": 0,
                "amount_total": amount,
                "currency": price_currency,
                "description": product_name,
                "metadata": {},
                "price": price,
                "quantity": quantity,
            }));
        }
        if mode == "subscription" && !has_recurring {
            return Err(ApiError::invalid(
                "line_items",
                "You must provide at least one recurring price in `subscription` mode when using prices.",
            ));
        }
        let now = now();
        let expires_at = match p.int("expires_at")? {
            Some(t) if t < now + 1800 || t > now + 86_400 => return Err(ApiError::invalid(
                "expires_at",
                "The `expires_at` timestamp must be between 30 minutes and 24 hours from Checkout Session creation.",
            )),
            Some(t) => t,
            None => now + 86_400,
        };
        let mut private = json!({ "subscription_data": {}, "payment_intent_data": {} });
        if let Some(sd) = p.map("subscription_data") {
            if mode != "subscription" {
                return Err(ApiError::invalid(
                    "subscription_data",
                    "`subscription_data` can only be used in `subscription` mode.",
                ));
            }
            sd.check_known(
                &[
                    "application_fee_percent",
                    "billing_cycle_anchor",
                    "default_tax_rates",
                    "description",
                    "metadata",
                    "trial_end",
                    "trial_period_days",
                    "trial_settings",
                ],
                "subscription_data",
            )?;
            private["subscription_data"] = json!({
                "metadata": metadata_from(sd)?,
                "trial_period_days": sd.int_named("trial_period_days", "subscription_data[trial_period_days]")?,
                "description": sd.opt_str("description"),
            });
        }
        if let Some(pd) = p.map("payment_intent_data") {
            if mode != "payment" {
                return Err(ApiError::invalid(
                    "payment_intent_data",
                    "`payment_intent_data` can only be used in `payment` mode.",
                ));
            }
            pd.check_known(
                &[
                    "application_fee_amount",
                    "capture_method",
                    "description",
                    "metadata",
                    "receipt_email",
                    "setup_future_usage",
                    "shipping",
                    "statement_descriptor",
                    "statement_descriptor_suffix",
                    "transfer_data",
                ],
                "payment_intent_data",
            )?;
            private["payment_intent_data"] = json!({
                "metadata": metadata_from(pd)?,
                "description": pd.opt_str("description"),
            });
        }
        let id = format!("cs_test_{}", random_token(58));
        let url = (ui_mode == "hosted").then(|| format!("{}/_sandbox/pages/checkout/{id}", self.config.public_url));
        let session = json!({
            "id": id,
            "object": "checkout.session",
            "adaptive_pricing": { "enabled": false },
            "after_expiration": null,
            "allow_promotion_codes": p.bool("allow_promotion_codes")?,
            "amount_subtotal": subtotal,
            "amount_total": subtotal,
            "automatic_tax": { "enabled": false, "liability": null, "provider": null, "status": null },
            "billing_address_collection": p.opt_str("billing_address_collection"),
            "cancel_url": p.opt_str("cancel_url"),
            "client_reference_id": p.opt_str("client_reference_id"),
            "client_secret": if ui_mode == "hosted" { Value::Null } else { json!(format!("{id}_secret_{}", random_token(24))) },
            "collected_information": null,
            "consent": null,
            "consent_collection": null,
            "created": now,
            "currency": currency,
            "custom_fields": [],
            "custom_text": { "after_submit": null, "shipping_address": null, "submit": null, "terms_of_service_acceptance": null },
            "customer": p.opt_str("customer"),
            "customer_creation": if mode == "payment" { json!(customer_creation.unwrap_or("if_required")) } else { Value::Null },
            "customer_details": null,
            "customer_email": p.opt_str("customer_email"),
            "discounts": [],
            "expires_at": expires_at,
            "invoice": null,
            "invoice_creation": if mode == "payment" {
                json!({ "enabled": false, "invoice_data": { "account_tax_ids": null, "custom_fields": null, "description": null, "footer": null, "issuer": null, "metadata": {}, "rendering_options": null } })
            } else { Value::Null },
            "livemode": false,
            "locale": p.opt_str("locale"),
            "metadata": metadata_from(p)?,
            "mode": mode,
            "payment_intent": null,
            "payment_link": null,
            "payment_method_collection": "always",
            "payment_method_configuration_details": null,
            "payment_method_options": { "card": { "request_three_d_secure": "automatic" } },
            "payment_method_types": ["card"],
            "payment_status": "unpaid",
            "phone_number_collection": { "enabled": false },
            "recovered_from": null,
            "return_url": p.opt_str("return_url"),
            "saved_payment_method_options": null,
            "setup_intent": null,
            "shipping_address_collection": null,
            "shipping_cost": null,
            "shipping_options": [],
            "status": "open",
            "submit_type": p.opt_str("submit_type"),
            "subscription": null,
            "success_url": p.opt_str("success_url"),
            "total_details": { "amount_discount": 0, "amount_shipping": 0, "amount_tax": 0 },
            "ui_mode": ui_mode,
            "url": url,
            "wallet_options": null,
        });
        self.insert(Kind::CheckoutSession, session);
        self.session_lines.insert(id.clone(), lines);
        self.session_private.insert(id.clone(), private);
        self.rendered(Kind::CheckoutSession, &id)
    }

    /// Plays the paying customer on an open session. Declines answer a 402
    /// card error and leave the session open, as Stripe's hosted page would.
    pub(crate) fn complete_checkout(
        &mut self,
        id: &str,
        outcome: CheckoutOutcome,
        email: Option<&str>,
        name: Option<&str>,
        ctx: &Ctx,
    ) -> ApiResult {
        let session = self.get_or_404(Kind::CheckoutSession, id)?.clone();
        if session["status"] != "open" {
            return Err(ApiError::bad_request(format!(
                "This Checkout Session is no longer open (status: {}).",
                session["status"].as_str().unwrap_or_default()
            )));
        }
        if session["expires_at"].as_i64().is_some_and(|t| t <= now()) {
            return Err(ApiError::bad_request("This Checkout Session has expired."));
        }
        let mode = session["mode"].as_str().unwrap_or("payment").to_owned();
        let private = self.session_private.get(id).cloned().unwrap_or_default();
        let existing_customer = session["customer"].as_str().map(str::to_owned);
        let email = email
            .map(str::to_owned)
            .or_else(|| session["customer_email"].as_str().map(str::to_owned))
            .or_else(|| {
                existing_customer
                    .as_deref()
                    .and_then(|c| self.get(Kind::Customer, c))
                    .and_then(|c| c["email"].as_str().map(str::to_owned))
            })
            .unwrap_or_else(|| "customer@example.com".to_owned());
        let name = name.map(str::to_owned).unwrap_or_else(|| "Sandbox Customer".to_owned());
        let token = match outcome {
            CheckoutOutcome::Declined("insufficient_funds") => "pm_card_chargeDeclinedInsufficientFunds",
            CheckoutOutcome::Declined(_) => "pm_card_chargeDeclined",
            _ => "pm_card_visa",
        };
        let payment_outcome = match outcome {
            CheckoutOutcome::Succeeded => Outcome::Succeed,
            CheckoutOutcome::Declined(code) => Outcome::Decline(code),
            CheckoutOutcome::AsyncSucceeded | CheckoutOutcome::AsyncFailed => Outcome::Processing,
        };
        let pi_metadata = match &private["payment_intent_data"]["metadata"] {
            m @ Value::Object(_) => m.clone(),
            _ => json!({}),
        };
        let amount = session["amount_total"].as_i64().unwrap_or(0);
        let currency = session["currency"].as_str().unwrap_or("usd").to_owned();

        if let CheckoutOutcome::Declined(code) = outcome {
            let mut err = ApiError::card_declined(
                code,
                if code == "insufficient_funds" {
                    "Your card has insufficient funds."
                } else {
                    "Your card was declined."
                },
            );
            if mode == "payment" {
                // The attempt is recorded on a payment intent; the session stays open.
                let pm = self.payment_method_for(token, existing_customer.as_deref(), ctx);
                let pi = self.collect_payment(
                    PaymentRequest {
                        customer: existing_customer.as_deref(),
                        payment_method: Some(&pm),
                        amount,
                        currency: &currency,
                        description: None,
                        metadata: pi_metadata.clone(),
                        outcome: payment_outcome,
                    },
                    ctx,
                );
                if let Some(s) = self.get_mut(Kind::CheckoutSession, id) {
                    s["payment_intent"] = json!(pi);
                }
                err.extra.insert("payment_intent".into(), self.snapshot(Kind::PaymentIntent, &pi));
            }
            return Err(err);
        }

        let needs_customer = mode == "subscription" || session["customer_creation"] == "always";
        let customer = match existing_customer {
            Some(c) => Some(c),
            None if needs_customer => {
                let params = Params::from_pairs([("email", email.as_str()), ("name", name.as_str())]);
                let created = self.create_customer(&params, ctx)?;
                created["id"].as_str().map(str::to_owned)
            }
            None => None,
        };
        let pm = Some(self.payment_method_for(token, customer.as_deref(), ctx));
        let mut payment_intent = None;
        let mut subscription = None;
        let mut invoice = None;
        if mode == "payment" {
            let pi = self.collect_payment(
                PaymentRequest {
                    customer: customer.as_deref(),
                    payment_method: pm.as_deref(),
                    amount,
                    currency: &currency,
                    description: private["payment_intent_data"]["description"].as_str().map(str::to_owned),
                    metadata: pi_metadata,
                    outcome: payment_outcome,
                },
                ctx,
            );
            payment_intent = Some(pi);
        } else {
            let lines = self.session_lines.get(id).cloned().unwrap_or_default();
            let items = lines
                .iter()
                .filter(|l| l["price"]["type"] == "recurring")
                .map(|l| {
                    (
                        l["price"]["id"].as_str().unwrap_or_default().to_owned(),
                        l["quantity"].as_i64().unwrap_or(1),
                        json!({}),
                    )
                })
                .collect();
            let customer_id = customer.clone().unwrap_or_default();
            let mut spec = SubscriptionSpec::new(&customer_id, items);
            if private["subscription_data"]["metadata"].is_object() {
                spec.metadata = private["subscription_data"]["metadata"].clone();
            }
            spec.trial_end = private["subscription_data"]["trial_period_days"].as_i64().map(|d| now() + d * 86_400);
            spec.description = private["subscription_data"]["description"].as_str().map(str::to_owned);
            spec.default_payment_method = pm.clone();
            spec.outcome = Some(payment_outcome);
            let sub = self.start_subscription(spec, ctx)?;
            invoice = self.get(Kind::Subscription, &sub).and_then(|s| s["latest_invoice"].as_str()).map(str::to_owned);
            subscription = Some(sub);
        }
        let paid = match (&payment_intent, &invoice) {
            (Some(pi), _) => self.get(Kind::PaymentIntent, pi).is_some_and(|p| p["status"] == "succeeded"),
            (None, Some(inv)) => self.get(Kind::Invoice, inv).is_some_and(|i| i["status"] == "paid"),
            _ => false,
        };
        let customer_details = json!({
            "address": null, "email": email, "name": name, "phone": null,
            "tax_exempt": "none", "tax_ids": [],
        });
        if let Some(s) = self.get_mut(Kind::CheckoutSession, id) {
            s["status"] = json!("complete");
            s["url"] = Value::Null;
            s["customer"] = json!(customer);
            s["customer_details"] = customer_details;
            s["payment_intent"] = json!(payment_intent);
            s["subscription"] = json!(subscription);
            s["invoice"] = json!(invoice);
            s["payment_status"] = json!(if paid {
                "paid"
            } else if amount == 0 {
                "no_payment_required"
            } else {
                "unpaid"
            });
            s["collected_information"] =
                json!({ "business_name": null, "individual_name": null, "shipping_details": null });
        }
        self.emit_created(Kind::CheckoutSession, id, "checkout.session.completed", ctx);

        if matches!(outcome, CheckoutOutcome::AsyncSucceeded | CheckoutOutcome::AsyncFailed) {
            let success = outcome == CheckoutOutcome::AsyncSucceeded;
            match (&payment_intent, &invoice) {
                (Some(pi), _) => self.settle_payment(pi, (!success).then_some("generic_decline"), ctx),
                (None, Some(inv)) => {
                    self.settle_invoice_payment(inv, success, ctx);
                    self.after_invoice_outcome(inv, success, ctx);
                }
                _ => {}
            }
            if success {
                if let Some(s) = self.get_mut(Kind::CheckoutSession, id) {
                    s["payment_status"] = json!("paid");
                }
            }
            let event = if success {
                "checkout.session.async_payment_succeeded"
            } else {
                "checkout.session.async_payment_failed"
            };
            self.emit_created(Kind::CheckoutSession, id, event, ctx);
        }
        self.rendered(Kind::CheckoutSession, id)
    }
}
