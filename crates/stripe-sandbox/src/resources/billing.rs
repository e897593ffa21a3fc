//! Money movement: payment intents, charges, refunds, invoices and invoice
//! payments. Payment intents, charges and invoices are created by
//! subscriptions and checkouts (not by API calls); refunds are created via
//! `POST /v1/refunds`.

use axum::extract::{Path, State};
use axum::routing::{get, post};
use axum::Router;
use serde_json::{json, Value};

use super::respond;
use crate::error::{ApiError, ApiResult};
use crate::form::Params;
use crate::http::{ApiRequest, Reply};
use crate::store::{apply_metadata, metadata_from, new_id, now, random_token, Ctx, Kind, State as Db};
use crate::Sandbox;

pub(super) fn routes() -> Router<Sandbox> {
    Router::new()
        .route("/v1/payment_intents", get(list_payment_intents))
        .route("/v1/payment_intents/{id}", get(retrieve_payment_intent))
        .route("/v1/charges", get(list_charges))
        .route("/v1/charges/{id}", get(retrieve_charge))
        .route("/v1/refunds", post(create_refund).get(list_refunds))
        .route("/v1/refunds/{id}", get(retrieve_refund).post(update_refund))
        .route("/v1/invoices", get(list_invoices))
        .route("/v1/invoices/{id}", get(retrieve_invoice))
        .route("/v1/invoices/{id}/lines", get(invoice_lines))
        .route("/v1/invoices/{id}/pay", post(pay_invoice))
        .route("/v1/invoice_payments", get(list_invoice_payments))
        .route("/v1/invoice_payments/{id}", get(retrieve_invoice_payment))
}

fn retrieve_simple(sb: &Sandbox, kind: Kind, id: &str, req: &ApiRequest) -> Reply {
    respond(sb, req, |st, p, _| {
        p.check_known(&[], "")?;
        st.rendered(kind, id)
    })
}

async fn retrieve_payment_intent(State(sb): State<Sandbox>, Path(id): Path<String>, req: ApiRequest) -> Reply {
    retrieve_simple(&sb, Kind::PaymentIntent, &id, &req)
}

async fn retrieve_charge(State(sb): State<Sandbox>, Path(id): Path<String>, req: ApiRequest) -> Reply {
    retrieve_simple(&sb, Kind::Charge, &id, &req)
}

async fn retrieve_refund(State(sb): State<Sandbox>, Path(id): Path<String>, req: ApiRequest) -> Reply {
    retrieve_simple(&sb, Kind::Refund, &id, &req)
}

async fn retrieve_invoice(State(sb): State<Sandbox>, Path(id): Path<String>, req: ApiRequest) -> Reply {
    retrieve_simple(&sb, Kind::Invoice, &id, &req)
}

async fn retrieve_invoice_payment(State(sb): State<Sandbox>, Path(id): Path<String>, req: ApiRequest) -> Reply {
    retrieve_simple(&sb, Kind::InvoicePayment, &id, &req)
}

async fn list_payment_intents(State(sb): State<Sandbox>, req: ApiRequest) -> Reply {
    respond(&sb, &req, |st, p, _| {
        p.check_known(&["created", "customer", "ending_before", "limit", "starting_after"], "")?;
        let customer = p.opt_str("customer");
        st.list(Kind::PaymentIntent, p, "/v1/payment_intents", &|v: &Value| customer.is_none_or(|c| v["customer"] == c))
    })
}

async fn list_charges(State(sb): State<Sandbox>, req: ApiRequest) -> Reply {
    respond(&sb, &req, |st, p, _| {
        p.check_known(&["created", "customer", "ending_before", "limit", "payment_intent", "starting_after"], "")?;
        let customer = p.opt_str("customer");
        let pi = p.opt_str("payment_intent");
        st.list(Kind::Charge, p, "/v1/charges", &|v: &Value| {
            customer.is_none_or(|c| v["customer"] == c) && pi.is_none_or(|x| v["payment_intent"] == x)
        })
    })
}

async fn list_refunds(State(sb): State<Sandbox>, req: ApiRequest) -> Reply {
    respond(&sb, &req, |st, p, _| {
        p.check_known(&["charge", "created", "ending_before", "limit", "payment_intent", "starting_after"], "")?;
        let charge = p.opt_str("charge");
        let pi = p.opt_str("payment_intent");
        st.list(Kind::Refund, p, "/v1/refunds", &|v: &Value| {
            charge.is_none_or(|c| v["charge"] == c) && pi.is_none_or(|x| v["payment_intent"] == x)
        })
    })
}

async fn list_invoices(State(sb): State<Sandbox>, req: ApiRequest) -> Reply {
    respond(&sb, &req, |st, p, _| {
        p.check_known(
            &[
                "collection_method",
                "created",
                "customer",
                "due_date",
                "ending_before",
                "limit",
                "starting_after",
                "status",
                "subscription",
            ],
            "",
        )?;
        let customer = p.opt_str("customer");
        let subscription = p.opt_str("subscription");
        let status = p.one_of("status", &["draft", "open", "paid", "uncollectible", "void"])?;
        let method = p.one_of("collection_method", &["charge_automatically", "send_invoice"])?;
        st.list(Kind::Invoice, p, "/v1/invoices", &|v: &Value| {
            customer.is_none_or(|c| v["customer"] == c)
                && subscription.is_none_or(|s| v["parent"]["subscription_details"]["subscription"] == s)
                && status.is_none_or(|s| v["status"] == s)
                && method.is_none_or(|m| v["collection_method"] == m)
        })
    })
}

async fn invoice_lines(State(sb): State<Sandbox>, Path(id): Path<String>, req: ApiRequest) -> Reply {
    respond(&sb, &req, |st, p, _| {
        p.check_known(&["ending_before", "limit", "starting_after"], "")?;
        let invoice = st.get_or_404(Kind::Invoice, &id)?;
        Ok(invoice["lines"].clone())
    })
}

async fn list_invoice_payments(State(sb): State<Sandbox>, req: ApiRequest) -> Reply {
    respond(&sb, &req, |st, p, _| {
        p.check_known(&["ending_before", "invoice", "limit", "payment", "starting_after", "status"], "")?;
        let invoice = p.opt_str("invoice");
        let status = p.one_of("status", &["canceled", "open", "paid"])?;
        let pi = p.map("payment").and_then(|m| m.opt_str("payment_intent").map(str::to_owned));
        st.list(Kind::InvoicePayment, p, "/v1/invoice_payments", &|v: &Value| {
            invoice.is_none_or(|i| v["invoice"] == i)
                && status.is_none_or(|s| v["status"] == s)
                && pi.as_deref().is_none_or(|x| v["payment"]["payment_intent"] == x)
        })
    })
}

async fn create_refund(State(sb): State<Sandbox>, req: ApiRequest) -> Reply {
    respond(&sb, &req, |st, p, ctx| st.create_refund(p, ctx))
}

async fn update_refund(State(sb): State<Sandbox>, Path(id): Path<String>, req: ApiRequest) -> Reply {
    respond(&sb, &req, |st, p, ctx| {
        p.check_known(&["metadata"], "")?;
        let before = st.snapshot(Kind::Refund, &id);
        let refund = st.get_mut_or_404(Kind::Refund, &id)?;
        apply_metadata(&mut refund["metadata"], p.get("metadata"))?;
        st.emit_updated(Kind::Refund, &id, &before, "refund.updated", ctx);
        st.rendered(Kind::Refund, &id)
    })
}

async fn pay_invoice(State(sb): State<Sandbox>, Path(id): Path<String>, req: ApiRequest) -> Reply {
    respond(&sb, &req, |st, p, ctx| {
        p.check_known(&["forgive", "mandate", "off_session", "paid_out_of_band", "payment_method", "source"], "")?;
        let invoice = st.get_or_404(Kind::Invoice, &id)?;
        match invoice["status"].as_str() {
            Some("open") => {}
            Some("paid") => return Err(ApiError::bad_request("Invoice is already paid.").code("invoice_already_paid")),
            _ => {
                return Err(
                    ApiError::bad_request("You can only pay an invoice that is open.").code("invoice_not_editable")
                )
            }
        }
        let customer = invoice["customer"].as_str().unwrap_or_default().to_owned();
        if p.bool("paid_out_of_band")? == Some(true) {
            st.mark_invoice_paid(&id, None, ctx);
        } else {
            let pm = match p.opt_str("payment_method") {
                Some(pm) => Some(st.attach_payment_method(pm, &customer, "payment_method", ctx)?),
                None => st.default_payment_method(&customer, None),
            };
            let paid = st.pay_invoice(&id, pm.as_deref(), None, ctx)?;
            if !paid {
                let invoice = st.rendered(Kind::Invoice, &id)?;
                st.after_invoice_outcome(&id, false, ctx);
                let mut err = ApiError::card_declined(
                    st.last_decline_code(&id).as_deref().unwrap_or("generic_decline"),
                    "Your card was declined.",
                );
                err.extra.insert("invoice".into(), invoice["id"].clone());
                return Err(err);
            }
        }
        st.after_invoice_outcome(&id, true, ctx);
        st.rendered(Kind::Invoice, &id)
    })
}

/// What happens when the sandbox tries to collect a payment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// The card is charged.
    Succeed,
    /// The card is declined with this `decline_code`.
    Decline(&'static str),
    /// An asynchronous method (e.g. a bank debit): the payment stays
    /// `processing` until settled.
    Processing,
}

/// Formats minor units the way Stripe's messages do: `$10.00`, `€5.50`.
pub(crate) fn money(amount: i64, currency: &str) -> String {
    let symbol = match currency {
        "usd" | "cad" | "aud" => "$",
        "eur" => "€",
        "gbp" => "£",
        _ => "",
    };
    let body = format!("{}.{:02}", amount / 100, amount % 100);
    if symbol.is_empty() {
        format!("{body} {}", currency.to_uppercase())
    } else {
        format!("{symbol}{body}")
    }
}

/// Inputs of one payment attempt.
pub(crate) struct PaymentRequest<'a> {
    pub customer: Option<&'a str>,
    pub payment_method: Option<&'a str>,
    pub amount: i64,
    pub currency: &'a str,
    pub description: Option<String>,
    pub metadata: Value,
    pub outcome: Outcome,
}

impl Db {
    /// Creates a payment intent and its charge, applying `outcome`, and emits
    /// the events Stripe would. Returns the payment intent id.
    pub(crate) fn collect_payment(&mut self, req: PaymentRequest<'_>, ctx: &Ctx) -> String {
        let pm = match req.payment_method {
            Some(pm) => pm.to_owned(),
            None => self.payment_method_for("pm_card_visa", req.customer, ctx),
        };
        let pi_id = new_id("pi");
        let created = now();
        let pi = json!({
            "id": pi_id,
            "object": "payment_intent",
            "amount": req.amount,
            "amount_capturable": 0,
            "amount_details": { "tip": {} },
            "amount_received": 0,
            "application": null,
            "application_fee_amount": null,
            "automatic_payment_methods": null,
            "canceled_at": null,
            "cancellation_reason": null,
            "capture_method": "automatic",
            "client_secret": format!("{pi_id}_secret_{}", random_token(25)),
            "confirmation_method": "automatic",
            "created": created,
            "currency": req.currency,
            "customer": req.customer,
            "description": req.description,
            "last_payment_error": null,
            "latest_charge": null,
            "livemode": false,
            "metadata": req.metadata,
            "next_action": null,
            "on_behalf_of": null,
            "payment_method": pm,
            "payment_method_options": { "card": { "request_three_d_secure": "automatic" } },
            "payment_method_types": ["card"],
            "receipt_email": null,
            "setup_future_usage": null,
            "shipping": null,
            "statement_descriptor": null,
            "status": "requires_payment_method",
            "transfer_data": null,
        });
        self.insert(Kind::PaymentIntent, pi);
        self.emit_created(Kind::PaymentIntent, &pi_id, "payment_intent.created", ctx);

        let pm_value = self.get(Kind::PaymentMethod, &pm).cloned().unwrap_or(Value::Null);
        let ch_id = new_id("ch");
        let charge = json!({
            "id": ch_id,
            "object": "charge",
            "amount": req.amount,
            "amount_captured": 0,
            "amount_refunded": 0,
            "application_fee_amount": null,
            "balance_transaction": null,
            "billing_details": pm_value["billing_details"],
            "calculated_statement_descriptor": "SANDBOX",
            "captured": false,
            "created": created,
            "currency": req.currency,
            "customer": req.customer,
            "description": req.description,
            "disputed": false,
            "failure_code": null,
            "failure_message": null,
            "fraud_details": {},
            "livemode": false,
            "metadata": req.metadata,
            "outcome": null,
            "paid": false,
            "payment_intent": pi_id,
            "payment_method": pm,
            "payment_method_details": { "card": pm_value["card"], "type": "card" },
            "receipt_email": null,
            "receipt_url": format!("{}/_sandbox/pages/receipts/{ch_id}", self.config.public_url),
            "refunded": false,
            "review": null,
            "status": "pending",
        });
        self.insert(Kind::Charge, charge);
        if let Some(pi) = self.get_mut(Kind::PaymentIntent, &pi_id) {
            pi["latest_charge"] = json!(ch_id);
        }
        match req.outcome {
            Outcome::Processing => {
                if let Some(pi) = self.get_mut(Kind::PaymentIntent, &pi_id) {
                    pi["status"] = json!("processing");
                }
                self.emit_created(Kind::Charge, &ch_id, "charge.pending", ctx);
                self.emit_created(Kind::PaymentIntent, &pi_id, "payment_intent.processing", ctx);
            }
            Outcome::Succeed => self.settle_payment(&pi_id, None, ctx),
            Outcome::Decline(code) => self.settle_payment(&pi_id, Some(code), ctx),
        }
        pi_id
    }

    /// A payment method from a test token, attached to `customer` or, for
    /// guests, to nobody.
    pub(crate) fn payment_method_for(&mut self, token: &str, customer: Option<&str>, ctx: &Ctx) -> String {
        let pm =
            self.attach_payment_method(token, customer.unwrap_or_default(), "payment_method", ctx).unwrap_or_default();
        if customer.is_none() {
            if let Some(v) = self.get_mut(Kind::PaymentMethod, &pm) {
                v["customer"] = Value::Null;
            }
        }
        pm
    }

    /// Finishes a payment: `decline = None` succeeds it, `Some(code)` fails it.
    pub(crate) fn settle_payment(&mut self, pi_id: &str, decline: Option<&str>, ctx: &Ctx) {
        let Some(ch_id) =
            self.get(Kind::PaymentIntent, pi_id).and_then(|pi| pi["latest_charge"].as_str()).map(str::to_owned)
        else {
            return;
        };
        let amount = self.get(Kind::PaymentIntent, pi_id).and_then(|pi| pi["amount"].as_i64()).unwrap_or(0);
        match decline {
            None => {
                if let Some(ch) = self.get_mut(Kind::Charge, &ch_id) {
                    ch["status"] = json!("succeeded");
                    ch["paid"] = json!(true);
                    ch["captured"] = json!(true);
                    ch["amount_captured"] = json!(amount);
                    ch["balance_transaction"] = json!(new_id("txn"));
                    ch["outcome"] = json!({
                        "network_status": "approved_by_network", "reason": null, "risk_level": "normal",
                        "risk_score": 32, "seller_message": "Payment complete.", "type": "authorized",
                    });
                }
                if let Some(pi) = self.get_mut(Kind::PaymentIntent, pi_id) {
                    pi["status"] = json!("succeeded");
                    pi["amount_received"] = json!(amount);
                }
                self.emit_created(Kind::Charge, &ch_id, "charge.succeeded", ctx);
                self.emit_created(Kind::PaymentIntent, pi_id, "payment_intent.succeeded", ctx);
            }
            Some(code) => {
                let message = match code {
                    "insufficient_funds" => "Your card has insufficient funds.",
                    _ => "Your card was declined.",
                };
                let pm =
                    self.get(Kind::PaymentIntent, pi_id).map(|pi| pi["payment_method"].clone()).unwrap_or_default();
                let pm_obj = pm.as_str().and_then(|id| self.get(Kind::PaymentMethod, id)).cloned();
                if let Some(ch) = self.get_mut(Kind::Charge, &ch_id) {
                    ch["status"] = json!("failed");
                    ch["failure_code"] = json!("card_declined");
                    ch["failure_message"] = json!(message);
                    ch["outcome"] = json!({
                        "network_status": "declined_by_network", "reason": code, "risk_level": "normal",
                        "risk_score": 40, "seller_message": "The bank did not return any further details with this decline.",
                        "type": "issuer_declined",
                    });
                }
                if let Some(pi) = self.get_mut(Kind::PaymentIntent, pi_id) {
                    pi["status"] = json!("requires_payment_method");
                    pi["last_payment_error"] = json!({
                        "charge": ch_id, "code": "card_declined", "decline_code": code,
                        "doc_url": "https://docs.stripe.com/error-codes/card-declined",
                        "message": message, "payment_method": pm_obj, "type": "card_error",
                    });
                }
                self.emit_created(Kind::Charge, &ch_id, "charge.failed", ctx);
                self.emit_created(Kind::PaymentIntent, pi_id, "payment_intent.payment_failed", ctx);
            }
        }
    }

    /// The decline code of a payment intent's last failure.
    pub(crate) fn pi_decline_code(&self, pi_id: &str) -> Option<String> {
        self.get(Kind::PaymentIntent, pi_id)?["last_payment_error"]["decline_code"].as_str().map(str::to_owned)
    }

    /// The payment method to charge for a customer: an explicit one, else
    /// the customer's invoice default.
    pub(crate) fn default_payment_method(&self, customer: &str, explicit: Option<&str>) -> Option<String> {
        explicit.map(str::to_owned).or_else(|| {
            self.get(Kind::Customer, customer)?["invoice_settings"]["default_payment_method"]
                .as_str()
                .map(str::to_owned)
        })
    }

    /// Issues a refund; see Stripe's rules on over-refunds.
    pub(crate) fn create_refund(&mut self, p: &Params, ctx: &Ctx) -> ApiResult {
        p.check_known(
            &[
                "amount",
                "charge",
                "instructions_email",
                "metadata",
                "origin",
                "payment_intent",
                "reason",
                "refund_application_fee",
                "reverse_transfer",
            ],
            "",
        )?;
        let reason = p.one_of("reason", &["duplicate", "fraudulent", "requested_by_customer"])?;
        let charge_id = match (p.opt_str("charge"), p.opt_str("payment_intent")) {
            (Some(ch), _) => {
                self.get_ref(Kind::Charge, ch, "charge")?;
                ch.to_owned()
            }
            (None, Some(pi)) => {
                let pi_obj = self.get_ref(Kind::PaymentIntent, pi, "payment_intent")?;
                match (pi_obj["status"].as_str(), pi_obj["latest_charge"].as_str()) {
                    (Some("succeeded"), Some(ch)) => ch.to_owned(),
                    _ => {
                        return Err(ApiError::invalid(
                            "payment_intent",
                            format!("This PaymentIntent ({pi}) does not have a successful charge to refund."),
                        ))
                    }
                }
            }
            (None, None) => {
                return Err(ApiError::bad_request(
                    "One of the following params should be provided for this request: payment_intent or charge.",
                )
                .code("parameter_missing"))
            }
        };
        let charge = self.get(Kind::Charge, &charge_id).cloned().unwrap_or_default();
        if charge["status"] != "succeeded" {
            return Err(ApiError::invalid(
                "charge",
                format!("Charge {charge_id} has not succeeded and cannot be refunded."),
            ));
        }
        let total = charge["amount"].as_i64().unwrap_or(0);
        let refunded = charge["amount_refunded"].as_i64().unwrap_or(0);
        let currency = charge["currency"].as_str().unwrap_or("usd").to_owned();
        if charge["refunded"] == true || refunded >= total {
            return Err(ApiError::invalid("charge", format!("Charge {charge_id} has already been refunded."))
                .code("charge_already_refunded"));
        }
        let remaining = total - refunded;
        let amount = match p.int("amount")? {
            None => remaining,
            Some(a) if a < 1 => return Err(ApiError::invalid("amount", "Invalid positive integer")),
            Some(a) if a > remaining => {
                let message = if refunded == 0 {
                    format!(
                        "Refund amount ({}) is greater than charge amount ({})",
                        money(a, &currency),
                        money(total, &currency)
                    )
                } else {
                    format!(
                        "Refund amount ({}) is greater than unrefunded amount on charge ({})",
                        money(a, &currency),
                        money(remaining, &currency)
                    )
                };
                return Err(ApiError::invalid("amount", message).code("amount_too_large"));
            }
            Some(a) => a,
        };
        let id = new_id("re");
        let refund = json!({
            "id": id,
            "object": "refund",
            "amount": amount,
            "balance_transaction": new_id("txn"),
            "charge": charge_id,
            "created": now(),
            "currency": currency,
            "destination_details": { "card": { "reference_status": "pending", "reference_type": "acquirer_reference_number", "type": "refund" }, "type": "card" },
            "metadata": metadata_from(p)?,
            "payment_intent": charge["payment_intent"],
            "reason": reason,
            "receipt_number": null,
            "source_transfer_reversal": null,
            "status": "succeeded",
            "transfer_reversal": null,
        });
        let before = self.snapshot(Kind::Charge, &charge_id);
        self.insert(Kind::Refund, refund);
        if let Some(ch) = self.get_mut(Kind::Charge, &charge_id) {
            ch["amount_refunded"] = json!(refunded + amount);
            ch["refunded"] = json!(refunded + amount == total);
        }
        self.emit_created(Kind::Refund, &id, "refund.created", ctx);
        let after = self.snapshot(Kind::Charge, &charge_id);
        let prev = crate::store::previous_attributes(&before, &after);
        self.emit("charge.refunded", after, Some(prev), ctx);
        self.rendered(Kind::Refund, &id)
    }

    /// Next invoice number for a customer (`PREFIX-0001`).
    fn next_invoice_number(&mut self, customer: &str) -> String {
        let prefix = self
            .get(Kind::Customer, customer)
            .and_then(|c| c["invoice_prefix"].as_str())
            .unwrap_or("SANDBOX")
            .to_owned();
        let n = self.invoice_counters.entry(prefix.clone()).or_insert(0);
        *n += 1;
        let n = *n;
        if let Some(c) = self.get_mut(Kind::Customer, customer) {
            c["next_invoice_sequence"] = json!(n + 1);
        }
        format!("{prefix}-{n:04}")
    }

    /// Creates and finalizes a subscription invoice covering one period.
    /// Emits `invoice.created` and `invoice.finalized`; returns its id.
    pub(crate) fn create_subscription_invoice(
        &mut self,
        sub_id: &str,
        billing_reason: &str,
        period: (i64, i64),
        trial: bool,
        ctx: &Ctx,
    ) -> String {
        let sub = self.get(Kind::Subscription, sub_id).cloned().unwrap_or_default();
        let customer_id = sub["customer"].as_str().unwrap_or_default().to_owned();
        let customer = self.get(Kind::Customer, &customer_id).cloned().unwrap_or_default();
        let id = new_id("in");
        let created = now();
        let mut lines = Vec::new();
        let mut total = 0;
        for si_id in self.sub_items.get(sub_id).cloned().unwrap_or_default() {
            let Some(item) = self.get(Kind::SubscriptionItem, &si_id) else { continue };
            let price = self.get(Kind::Price, item["price"].as_str().unwrap_or_default()).cloned().unwrap_or_default();
            let product =
                self.get(Kind::Product, price["product"].as_str().unwrap_or_default()).cloned().unwrap_or_default();
            let quantity = item["quantity"].as_i64().unwrap_or(1);
            let unit = price["unit_amount"].as_i64().unwrap_or(0);
            let amount = if trial { 0 } else { unit * quantity };
            total += amount;
            let name = product["name"].as_str().unwrap_or("Subscription");
            let description = if trial {
                format!("Trial period for {name}")
            } else {
                format!(
                    "{quantity} × {name} (at {} / {})",
                    money(unit, price["currency"].as_str().unwrap_or("usd")),
                    price["recurring"]["interval"].as_str().unwrap_or("month")
                )
            };
            lines.push(json!({
                "id": new_id("il"),
                "object": "line_item",
                "amount": amount,
                "currency": price["currency"],
                "description": description,
                "discount_amounts": [],
                "discountable": true,
                "discounts": [],
                "invoice": id,
                "livemode": false,
                "metadata": {},
                "parent": {
                    "invoice_item_details": null,
                    "subscription_item_details": {
                        "invoice_item": null, "proration": false, "proration_details": { "credited_items": null },
                        "subscription": sub_id, "subscription_item": si_id,
                    },
                    "type": "subscription_item_details",
                },
                "period": { "end": period.1, "start": period.0 },
                "pricing": {
                    "price_details": { "price": price["id"], "product": price["product"] },
                    "type": "price_details",
                    "unit_amount_decimal": price["unit_amount_decimal"],
                },
                "quantity": quantity,
                "taxes": [],
            }));
        }
        let line_count = lines.len();
        let base = self.config.public_url.clone();
        let invoice = json!({
            "id": id,
            "object": "invoice",
            "account_country": "US",
            "account_name": self.config.account_name,
            "amount_due": total,
            "amount_overpaid": 0,
            "amount_paid": 0,
            "amount_remaining": total,
            "amount_shipping": 0,
            "attempt_count": 0,
            "attempted": false,
            "auto_advance": true,
            "automatic_tax": { "disabled_reason": null, "enabled": false, "liability": null, "provider": null, "status": null },
            "billing_reason": billing_reason,
            "collection_method": sub["collection_method"],
            "created": created,
            "currency": sub["currency"],
            "customer": customer_id,
            "customer_address": customer["address"],
            "customer_email": customer["email"],
            "customer_name": customer["name"],
            "customer_phone": customer["phone"],
            "default_payment_method": null,
            "description": null,
            "discounts": [],
            "due_date": if sub["collection_method"] == "send_invoice" {
                json!(created + 86_400 * sub["days_until_due"].as_i64().unwrap_or(30))
            } else { Value::Null },
            "effective_at": null,
            "ending_balance": null,
            "hosted_invoice_url": null,
            "invoice_pdf": null,
            "last_finalization_error": null,
            "lines": {
                "object": "list", "data": lines, "has_more": false, "total_count": line_count,
                "url": format!("/v1/invoices/{id}/lines"),
            },
            "livemode": false,
            "metadata": {},
            "next_payment_attempt": null,
            "number": null,
            "parent": {
                "quote_details": null,
                "subscription_details": { "metadata": sub["metadata"], "subscription": sub_id },
                "type": "subscription_details",
            },
            "period_end": period.1,
            "period_start": period.0,
            "starting_balance": 0,
            "status": "draft",
            "status_transitions": { "finalized_at": null, "marked_uncollectible_at": null, "paid_at": null, "voided_at": null },
            "subtotal": total,
            "subtotal_excluding_tax": total,
            "total": total,
            "total_discount_amounts": [],
            "total_excluding_tax": total,
            "total_taxes": [],
            "webhooks_delivered_at": null,
        });
        self.insert(Kind::Invoice, invoice);
        self.emit_created(Kind::Invoice, &id, "invoice.created", ctx);
        let number = self.next_invoice_number(&customer_id);
        if let Some(inv) = self.get_mut(Kind::Invoice, &id) {
            inv["status"] = json!("open");
            inv["number"] = json!(number);
            inv["effective_at"] = json!(created);
            inv["ending_balance"] = json!(0);
            inv["status_transitions"]["finalized_at"] = json!(created);
            inv["hosted_invoice_url"] = json!(format!("{base}/_sandbox/pages/invoices/{id}"));
            inv["invoice_pdf"] = json!(format!("{base}/_sandbox/pages/invoices/{id}/pdf"));
        }
        self.emit_created(Kind::Invoice, &id, "invoice.finalized", ctx);
        id
    }

    /// Tries to collect an open invoice. Zero-amount invoices are paid
    /// outright. Returns whether the invoice is now paid.
    pub(crate) fn pay_invoice(
        &mut self,
        id: &str,
        payment_method: Option<&str>,
        forced: Option<Outcome>,
        ctx: &Ctx,
    ) -> ApiResult<bool> {
        let invoice = self.get_or_404(Kind::Invoice, id)?.clone();
        let amount = invoice["amount_remaining"].as_i64().unwrap_or(0);
        if amount == 0 {
            self.mark_invoice_paid(id, None, ctx);
            return Ok(true);
        }
        let customer = invoice["customer"].as_str().unwrap_or_default().to_owned();
        let outcome = match (forced, payment_method) {
            (Some(o), _) => o,
            (None, Some(pm)) => match self.get(Kind::PaymentMethod, pm).and_then(super::customers::decline_for) {
                Some(code) => Outcome::Decline(code),
                None => Outcome::Succeed,
            },
            // Nothing to charge: Stripe leaves the invoice open.
            (None, None) => return Ok(false),
        };
        let pi_id = self.collect_payment(
            PaymentRequest {
                customer: Some(&customer),
                payment_method,
                amount,
                currency: invoice["currency"].as_str().unwrap_or("usd"),
                description: Some(match invoice["billing_reason"].as_str() {
                    Some("subscription_create") => "Subscription creation".to_owned(),
                    _ => "Subscription update".to_owned(),
                }),
                metadata: json!({}),
                outcome,
            },
            ctx,
        );
        let payment_id = new_id("inpay");
        let status = self.get(Kind::PaymentIntent, &pi_id).map(|pi| pi["status"].clone()).unwrap_or_default();
        self.insert(
            Kind::InvoicePayment,
            json!({
                "id": payment_id,
                "object": "invoice_payment",
                "amount_paid": null,
                "amount_requested": amount,
                "created": now(),
                "currency": invoice["currency"],
                "invoice": id,
                "is_default": true,
                "livemode": false,
                "payment": { "payment_intent": pi_id, "type": "payment_intent" },
                "status": "open",
                "status_transitions": { "canceled_at": null, "paid_at": null },
            }),
        );
        let before = self.snapshot(Kind::Invoice, id);
        if let Some(inv) = self.get_mut(Kind::Invoice, id) {
            inv["attempted"] = json!(true);
            inv["attempt_count"] = json!(inv["attempt_count"].as_i64().unwrap_or(0) + 1);
        }
        match status.as_str() {
            Some("succeeded") => {
                self.mark_invoice_paid(id, Some(&payment_id), ctx);
                Ok(true)
            }
            Some("processing") => Ok(false),
            _ => {
                if let Some(inv) = self.get_mut(Kind::Invoice, id) {
                    inv["next_payment_attempt"] = json!(now() + 3 * 86_400);
                }
                let after = self.snapshot(Kind::Invoice, id);
                let prev = crate::store::previous_attributes(&before, &after);
                self.emit("invoice.payment_failed", after, Some(prev), ctx);
                Ok(false)
            }
        }
    }

    /// The decline code of the most recent payment attempt on an invoice.
    pub(crate) fn last_decline_code(&self, invoice: &str) -> Option<String> {
        let pi = self.table(Kind::InvoicePayment).iter_newest().find(|p| p["invoice"] == invoice)?["payment"]
            ["payment_intent"]
            .as_str()?
            .to_owned();
        self.pi_decline_code(&pi)
    }

    /// Marks an invoice paid (emits `invoice.paid` and `invoice.payment_succeeded`).
    pub(crate) fn mark_invoice_paid(&mut self, id: &str, payment: Option<&str>, ctx: &Ctx) {
        let at = now();
        let before = self.snapshot(Kind::Invoice, id);
        if let Some(inv) = self.get_mut(Kind::Invoice, id) {
            let due = inv["amount_due"].clone();
            inv["status"] = json!("paid");
            inv["amount_paid"] = due;
            inv["amount_remaining"] = json!(0);
            inv["attempted"] = json!(true);
            inv["next_payment_attempt"] = Value::Null;
            inv["status_transitions"]["paid_at"] = json!(at);
        }
        if let Some(pay) = payment.and_then(|p| self.get_mut(Kind::InvoicePayment, p)) {
            pay["status"] = json!("paid");
            pay["amount_paid"] = pay["amount_requested"].clone();
            pay["status_transitions"]["paid_at"] = json!(at);
        }
        // Since API version 2025-03-31 an invoice no longer names the PaymentIntent that paid it;
        // Stripe says so with this event (the InvoicePayment), sent with the invoice's own.
        if let Some(p) = payment {
            let paid = self.snapshot(Kind::InvoicePayment, p);
            self.emit("invoice_payment.paid", paid, None, ctx);
        }
        let after = self.snapshot(Kind::Invoice, id);
        let prev = crate::store::previous_attributes(&before, &after);
        self.emit("invoice.paid", after.clone(), Some(prev.clone()), ctx);
        self.emit("invoice.payment_succeeded", after, Some(prev), ctx);
    }

    /// Settles the `processing` payment of an invoice (async payment methods).
    pub(crate) fn settle_invoice_payment(&mut self, invoice: &str, success: bool, ctx: &Ctx) -> bool {
        let found = self
            .table(Kind::InvoicePayment)
            .iter_newest()
            .find(|p| p["invoice"] == invoice && p["status"] == "open")
            .map(|p| {
                (
                    p["id"].as_str().unwrap_or_default().to_owned(),
                    p["payment"]["payment_intent"].as_str().unwrap_or_default().to_owned(),
                )
            });
        let Some((payment_id, pi)) = found else { return false };
        if success {
            self.settle_payment(&pi, None, ctx);
            self.mark_invoice_paid(invoice, Some(&payment_id), ctx);
        } else {
            self.settle_payment(&pi, Some("generic_decline"), ctx);
            let after = self.snapshot(Kind::Invoice, invoice);
            self.emit("invoice.payment_failed", after, None, ctx);
        }
        success
    }
}
