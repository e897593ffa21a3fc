//! Subscriptions and subscription items.
//!
//! Shapes follow the current API: billing periods live on the items
//! (`items.data[].current_period_start/end`), not on the subscription.

use axum::extract::{Path, State};
use axum::routing::{get, post};
use axum::Router;
use serde_json::{json, Value};

use super::billing::Outcome;
use super::respond;
use crate::error::{ApiError, ApiResult};
use crate::form::{Param, Params};
use crate::http::{ApiRequest, Reply};
use crate::store::{apply_metadata, new_id, now, Ctx, Kind, State as Db};
use crate::Sandbox;

pub(super) fn routes() -> Router<Sandbox> {
    Router::new()
        .route("/v1/subscriptions", post(create).get(list))
        .route("/v1/subscriptions/{id}", get(retrieve).post(update).delete(cancel))
        .route("/v1/subscriptions/{id}/resume", post(resume))
        .route("/v1/subscription_items", get(list_items))
        .route("/v1/subscription_items/{id}", get(retrieve_item))
}

const STATUSES: [&str; 10] = [
    "active",
    "all",
    "canceled",
    "ended",
    "incomplete",
    "incomplete_expired",
    "past_due",
    "paused",
    "trialing",
    "unpaid",
];

async fn create(State(sb): State<Sandbox>, req: ApiRequest) -> Reply {
    respond(&sb, &req, |st, p, ctx| {
        let id = st.create_subscription_from_params(p, ctx)?;
        st.rendered(Kind::Subscription, &id)
    })
}

async fn retrieve(State(sb): State<Sandbox>, Path(id): Path<String>, req: ApiRequest) -> Reply {
    respond(&sb, &req, |st, p, _| {
        p.check_known(&[], "")?;
        st.rendered(Kind::Subscription, &id)
    })
}

async fn update(State(sb): State<Sandbox>, Path(id): Path<String>, req: ApiRequest) -> Reply {
    respond(&sb, &req, |st, p, ctx| st.update_subscription(&id, p, ctx))
}

async fn cancel(State(sb): State<Sandbox>, Path(id): Path<String>, req: ApiRequest) -> Reply {
    respond(&sb, &req, |st, p, ctx| {
        p.check_known(&["cancellation_details", "invoice_now", "prorate"], "")?;
        p.bool("invoice_now")?;
        p.bool("prorate")?;
        let sub = st.get_or_404(Kind::Subscription, &id)?;
        if sub["status"] == "canceled" || sub["status"] == "incomplete_expired" {
            return Err(ApiError::bad_request(format!(
                "A canceled subscription can only update its cancellation_details and metadata. Subscription {id} is already canceled."
            )));
        }
        if let Some(details) = p.map("cancellation_details") {
            details.check_known(&["comment", "feedback"], "cancellation_details")?;
            let comment = details.opt_str("comment").map(str::to_owned);
            let feedback = details.opt_str("feedback").map(str::to_owned);
            if let Some(sub) = st.get_mut(Kind::Subscription, &id) {
                sub["cancellation_details"]["comment"] = json!(comment);
                sub["cancellation_details"]["feedback"] = json!(feedback);
            }
        }
        st.cancel_subscription_now(&id, "cancellation_requested", ctx)?;
        st.rendered(Kind::Subscription, &id)
    })
}

async fn resume(State(sb): State<Sandbox>, Path(id): Path<String>, req: ApiRequest) -> Reply {
    respond(&sb, &req, |st, p, ctx| {
        p.check_known(&["billing_cycle_anchor", "proration_behavior", "proration_date"], "")?;
        st.resume_subscription(&id, ctx)?;
        st.rendered(Kind::Subscription, &id)
    })
}

async fn list(State(sb): State<Sandbox>, req: ApiRequest) -> Reply {
    respond(&sb, &req, |st, p, _| {
        p.check_known(
            &[
                "automatic_tax",
                "collection_method",
                "created",
                "current_period_end",
                "current_period_start",
                "customer",
                "ending_before",
                "limit",
                "price",
                "starting_after",
                "status",
                "test_clock",
            ],
            "",
        )?;
        let status = p.one_of("status", &STATUSES)?.map(str::to_owned);
        let customer = p.opt_str("customer");
        let price = p.opt_str("price");
        let method = p.one_of("collection_method", &["charge_automatically", "send_invoice"])?;
        st.list(Kind::Subscription, p, "/v1/subscriptions", &|v: &Value| {
            let s = v["status"].as_str().unwrap_or_default();
            let status_ok = match status.as_deref() {
                // Stripe's default hides canceled subscriptions.
                None => s != "canceled",
                Some("all") => true,
                Some("ended") => s == "canceled" || s == "incomplete_expired",
                Some(want) => s == want,
            };
            status_ok
                && customer.is_none_or(|c| v["customer"] == c)
                && method.is_none_or(|m| v["collection_method"] == m)
                && price.is_none_or(|pr| st.subscription_has_price(v["id"].as_str().unwrap_or_default(), pr))
        })
    })
}

async fn list_items(State(sb): State<Sandbox>, req: ApiRequest) -> Reply {
    respond(&sb, &req, |st, p, _| {
        p.check_known(&["ending_before", "limit", "starting_after", "subscription"], "")?;
        let sub = p.req_str("subscription")?.to_owned();
        st.get_ref(Kind::Subscription, &sub, "subscription")?;
        let url = format!("/v1/subscription_items?subscription={sub}");
        st.list(Kind::SubscriptionItem, p, &url, &|v: &Value| v["subscription"] == sub.as_str())
    })
}

async fn retrieve_item(State(sb): State<Sandbox>, Path(id): Path<String>, req: ApiRequest) -> Reply {
    respond(&sb, &req, |st, p, _| {
        p.check_known(&[], "")?;
        st.rendered(Kind::SubscriptionItem, &id)
    })
}

/// Everything needed to start a subscription, from the API or a checkout.
pub(crate) struct SubscriptionSpec {
    pub customer: String,
    /// `(price, quantity, metadata)` per item.
    pub items: Vec<(String, i64, Value)>,
    pub metadata: Value,
    pub trial_end: Option<i64>,
    pub cancel_at_period_end: bool,
    pub collection_method: String,
    pub days_until_due: Option<i64>,
    pub default_payment_method: Option<String>,
    pub description: Option<String>,
    pub payment_behavior: String,
    /// What happens when the first invoice is charged (checkout drives this).
    pub outcome: Option<Outcome>,
    pub missing_payment_method: String,
}

impl SubscriptionSpec {
    /// A spec with defaults for `customer` and the given items.
    pub(crate) fn new(customer: &str, items: Vec<(String, i64, Value)>) -> Self {
        Self {
            customer: customer.to_owned(),
            items,
            metadata: json!({}),
            trial_end: None,
            cancel_at_period_end: false,
            collection_method: "charge_automatically".to_owned(),
            days_until_due: None,
            default_payment_method: None,
            description: None,
            payment_behavior: "allow_incomplete".to_owned(),
            outcome: None,
            missing_payment_method: "create_invoice".to_owned(),
        }
    }

    fn from_params(st: &mut Db, p: &Params) -> ApiResult<Self> {
        p.check_known(
            &[
                "add_invoice_items",
                "automatic_tax",
                "backdate_start_date",
                "billing_cycle_anchor",
                "cancel_at",
                "cancel_at_period_end",
                "collection_method",
                "currency",
                "customer",
                "days_until_due",
                "default_payment_method",
                "description",
                "items",
                "metadata",
                "off_session",
                "payment_behavior",
                "payment_settings",
                "proration_behavior",
                "trial_end",
                "trial_from_plan",
                "trial_period_days",
                "trial_settings",
            ],
            "",
        )?;
        let customer = p.req_str("customer")?.to_owned();
        st.live_customer(&customer, "customer")?;
        let items = parse_items(p)?;
        if items.is_empty() {
            return Err(ApiError::missing_param("items"));
        }
        let mut spec = SubscriptionSpec::new(
            &customer,
            items.into_iter().map(|i| (i.price.unwrap_or_default(), i.quantity.unwrap_or(1), i.metadata)).collect(),
        );
        apply_metadata(&mut spec.metadata, p.get("metadata"))?;
        spec.trial_end = match (p.int("trial_period_days")?, p.opt_str("trial_end")) {
            (Some(days), _) if days > 0 => Some(now() + days * 86_400),
            (_, Some("now")) => None,
            (_, Some(_)) => p.int("trial_end")?,
            _ => None,
        };
        spec.cancel_at_period_end = p.bool("cancel_at_period_end")?.unwrap_or(false);
        if let Some(m) = p.one_of("collection_method", &["charge_automatically", "send_invoice"])? {
            spec.collection_method = m.to_owned();
        }
        spec.days_until_due = p.int("days_until_due")?;
        if spec.collection_method == "send_invoice" && spec.days_until_due.is_none() {
            spec.days_until_due = Some(30);
        }
        if let Some(pm) = p.opt_str("default_payment_method") {
            spec.default_payment_method =
                Some(st.attach_payment_method(pm, &customer, "default_payment_method", &Ctx::automatic())?);
        }
        spec.description = p.opt_str("description").map(str::to_owned);
        if let Some(b) = p.one_of(
            "payment_behavior",
            &["allow_incomplete", "default_incomplete", "error_if_incomplete", "pending_if_incomplete"],
        )? {
            spec.payment_behavior = b.to_owned();
        }
        if let Some(ts) = p.map("trial_settings") {
            if let Some(b) = ts.map("end_behavior").and_then(|e| e.opt_str("missing_payment_method")) {
                if !["cancel", "create_invoice", "pause"].contains(&b) {
                    return Err(ApiError::invalid(
                        "trial_settings[end_behavior][missing_payment_method]",
                        "Invalid missing_payment_method: must be one of cancel, create_invoice, or pause",
                    ));
                }
                spec.missing_payment_method = b.to_owned();
            }
        }
        Ok(spec)
    }
}

/// One `items[n]` entry of a create or update request.
struct ItemParam {
    id: Option<String>,
    price: Option<String>,
    quantity: Option<i64>,
    deleted: bool,
    metadata: Value,
    metadata_param: Option<Param>,
}

fn parse_items(p: &Params) -> ApiResult<Vec<ItemParam>> {
    let mut out = Vec::new();
    for (i, item) in p.list("items").into_iter().enumerate() {
        let Param::Map(m) = item else {
            return Err(ApiError::invalid(&format!("items[{i}]"), "Invalid object"));
        };
        m.check_known(
            &[
                "billing_thresholds",
                "clear_usage",
                "deleted",
                "discounts",
                "id",
                "metadata",
                "price",
                "price_data",
                "quantity",
                "tax_rates",
            ],
            &format!("items[{i}]"),
        )?;
        let quantity = m.int_named("quantity", &format!("items[{i}][quantity]"))?;
        if quantity.is_some_and(|q| q < 0) {
            return Err(ApiError::invalid(&format!("items[{i}][quantity]"), "Invalid non-negative integer"));
        }
        let mut metadata = json!({});
        apply_metadata(&mut metadata, m.get("metadata"))?;
        let parsed = ItemParam {
            id: m.opt_str("id").map(str::to_owned),
            price: m.opt_str("price").map(str::to_owned),
            quantity,
            deleted: m.bool("deleted")?.unwrap_or(false),
            metadata,
            metadata_param: m.get("metadata").cloned(),
        };
        if parsed.id.is_none() && parsed.price.is_none() {
            return Err(ApiError::missing_param(&format!("items[{i}][price]")));
        }
        out.push(parsed);
    }
    Ok(out)
}

/// Adds `count` intervals to a unix timestamp, with calendar months
/// (clamping the day, e.g. Jan 31 + 1 month = Feb 28/29) like Stripe.
pub(crate) fn add_interval(ts: i64, interval: &str, count: i64) -> i64 {
    match interval {
        "day" => ts + 86_400 * count,
        "week" => ts + 7 * 86_400 * count,
        "month" | "year" => {
            let months = if interval == "year" { 12 * count } else { count };
            let days = ts.div_euclid(86_400);
            let secs = ts.rem_euclid(86_400);
            let (y, m, d) = civil_from_days(days);
            let total = y * 12 + (m as i64 - 1) + months;
            let (ny, nm) = (total.div_euclid(12), (total.rem_euclid(12) + 1) as u32);
            let nd = d.min(days_in_month(ny, nm));
            days_from_civil(ny, nm, nd) * 86_400 + secs
        }
        _ => ts,
    }
}

fn is_leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

fn days_in_month(y: i64, m: u32) -> u32 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if is_leap(y) => 29,
        _ => 28,
    }
}

// Proleptic Gregorian conversions (Howard Hinnant's algorithms).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + if m <= 2 { 1 } else { 0 };
    (y, m, d)
}

fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = if m > 2 { m - 3 } else { m + 9 } as i64;
    let doy = (153 * mp + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

impl Db {
    /// `POST /v1/subscriptions` without the response rendering.
    pub(crate) fn create_subscription_from_params(&mut self, p: &Params, ctx: &Ctx) -> ApiResult<String> {
        let spec = SubscriptionSpec::from_params(self, p)?;
        self.start_subscription(spec, ctx)
    }

    pub(crate) fn subscription_has_price(&self, sub: &str, price: &str) -> bool {
        self.sub_items.get(sub).is_some_and(|items| {
            items.iter().any(|si| self.get(Kind::SubscriptionItem, si).is_some_and(|i| i["price"] == price))
        })
    }

    /// Validates that a price can be subscribed to and returns its
    /// `(currency, interval, interval_count)`.
    fn recurring_price(&self, price: &str, param: &str) -> ApiResult<(String, String, i64)> {
        let pr = self.get_ref(Kind::Price, price, param)?;
        if pr["type"] != "recurring" {
            return Err(ApiError::invalid(
                param,
                format!("The price specified is set to `type=one_time` but this field only accepts prices with `type=recurring`. ({price})"),
            ));
        }
        if pr["active"] != true {
            return Err(ApiError::invalid(
                param,
                format!("The price specified is inactive. This field only accepts active prices. ({price})"),
            ));
        }
        Ok((
            pr["currency"].as_str().unwrap_or("usd").to_owned(),
            pr["recurring"]["interval"].as_str().unwrap_or("month").to_owned(),
            pr["recurring"]["interval_count"].as_i64().unwrap_or(1),
        ))
    }

    fn new_item(&mut self, sub_id: &str, price: &str, quantity: i64, metadata: Value, period: (i64, i64)) -> String {
        let id = new_id("si");
        self.insert(
            Kind::SubscriptionItem,
            json!({
                "id": id,
                "object": "subscription_item",
                "billing_thresholds": null,
                "created": now(),
                "current_period_end": period.1,
                "current_period_start": period.0,
                "discounts": [],
                "metadata": metadata,
                "price": price,
                "quantity": quantity,
                "subscription": sub_id,
                "tax_rates": [],
            }),
        );
        self.sub_items.entry(sub_id.to_owned()).or_default().push(id.clone());
        id
    }

    /// Creates a subscription, its first invoice and (depending on payment
    /// method and behaviour) its first payment. Returns the subscription id.
    pub(crate) fn start_subscription(&mut self, spec: SubscriptionSpec, ctx: &Ctx) -> ApiResult<String> {
        let mut shape: Option<(String, String, i64)> = None;
        for (i, (price, quantity, _)) in spec.items.iter().enumerate() {
            let param = format!("items[{i}][price]");
            let this = self.recurring_price(price, &param)?;
            if *quantity < 0 {
                return Err(ApiError::invalid(&format!("items[{i}][quantity]"), "Invalid non-negative integer"));
            }
            match &shape {
                None => shape = Some(this),
                Some(first) if first.0 != this.0 => {
                    return Err(ApiError::invalid(&param, "All prices on a subscription must have the same `currency`."))
                }
                Some(first) if (first.1.as_str(), first.2) != (this.1.as_str(), this.2) => {
                    return Err(ApiError::invalid(&param, "All prices on a subscription must have the same `recurring.interval` and `recurring.interval_count`."))
                }
                _ => {}
            }
        }
        let (currency, interval, count) = shape.ok_or_else(|| ApiError::missing_param("items"))?;
        let start = now();
        let trial_end = spec.trial_end.filter(|t| *t > start);
        let period = match trial_end {
            Some(t) => (start, t),
            None => (start, add_interval(start, &interval, count)),
        };
        let id = new_id("sub");
        let sub = json!({
            "id": id,
            "object": "subscription",
            "application": null,
            "application_fee_percent": null,
            "automatic_tax": { "disabled_reason": null, "enabled": false, "liability": null },
            "billing_cycle_anchor": if trial_end.is_some() { period.1 } else { start },
            "billing_cycle_anchor_config": null,
            "billing_thresholds": null,
            "cancel_at": if spec.cancel_at_period_end { json!(period.1) } else { Value::Null },
            "cancel_at_period_end": spec.cancel_at_period_end,
            "canceled_at": null,
            "cancellation_details": { "comment": null, "feedback": null, "reason": null },
            "collection_method": spec.collection_method,
            "created": start,
            "currency": currency,
            "customer": spec.customer,
            "days_until_due": spec.days_until_due,
            "default_payment_method": spec.default_payment_method,
            "default_source": null,
            "default_tax_rates": [],
            "description": spec.description,
            "discounts": [],
            "ended_at": null,
            "invoice_settings": { "account_tax_ids": null, "issuer": { "type": "self" } },
            "latest_invoice": null,
            "livemode": false,
            "metadata": spec.metadata,
            "next_pending_invoice_item_invoice": null,
            "on_behalf_of": null,
            "pause_collection": null,
            "payment_settings": { "payment_method_options": null, "payment_method_types": null, "save_default_payment_method": "off" },
            "pending_invoice_item_interval": null,
            "pending_setup_intent": null,
            "pending_update": null,
            "schedule": null,
            "start_date": start,
            "status": "incomplete",
            "test_clock": null,
            "transfer_data": null,
            "trial_end": trial_end,
            "trial_settings": { "end_behavior": { "missing_payment_method": spec.missing_payment_method } },
            "trial_start": trial_end.map(|_| start),
        });
        self.insert(Kind::Subscription, sub);
        for (price, quantity, metadata) in &spec.items {
            self.new_item(&id, price, *quantity, metadata.clone(), period);
        }
        let invoice = self.create_subscription_invoice(&id, "subscription_create", period, trial_end.is_some(), ctx);
        let pm = self.default_payment_method(&spec.customer, spec.default_payment_method.as_deref());
        let status = if trial_end.is_some() {
            self.pay_invoice(&invoice, None, None, ctx)?;
            "trialing"
        } else if spec.collection_method == "send_invoice" {
            "active"
        } else if spec.payment_behavior == "default_incomplete" {
            "incomplete"
        } else {
            let paid = self.pay_invoice(&invoice, pm.as_deref(), spec.outcome, ctx)?;
            let processing = self.get(Kind::Invoice, &invoice).is_some_and(|inv| inv["status"] == "open")
                && spec.outcome == Some(Outcome::Processing);
            if paid || processing {
                "active"
            } else {
                "incomplete"
            }
        };
        if let Some(sub) = self.get_mut(Kind::Subscription, &id) {
            sub["status"] = json!(status);
            sub["latest_invoice"] = json!(invoice);
        }
        self.emit_created(Kind::Subscription, &id, "customer.subscription.created", ctx);
        Ok(id)
    }

    pub(crate) fn update_subscription(&mut self, id: &str, p: &Params, ctx: &Ctx) -> ApiResult {
        p.check_known(
            &[
                "add_invoice_items",
                "automatic_tax",
                "billing_cycle_anchor",
                "cancel_at",
                "cancel_at_period_end",
                "cancellation_details",
                "collection_method",
                "days_until_due",
                "default_payment_method",
                "description",
                "items",
                "metadata",
                "off_session",
                "pause_collection",
                "payment_behavior",
                "payment_settings",
                "proration_behavior",
                "proration_date",
                "trial_end",
                "trial_settings",
            ],
            "",
        )?;
        let before = self.snapshot(Kind::Subscription, id);
        if before.is_null() {
            return Err(ApiError::not_found("subscription", id));
        }
        let status = before["status"].as_str().unwrap_or_default().to_owned();
        if status == "canceled" || status == "incomplete_expired" {
            let only_allowed = p.keys().all(|k| ["metadata", "cancellation_details", "expand"].contains(&k));
            if !only_allowed {
                return Err(ApiError::bad_request(
                    "A canceled subscription can only update its cancellation_details and metadata.",
                ));
            }
        }
        p.one_of("proration_behavior", &["always_invoice", "create_prorations", "none"])?;
        let customer = before["customer"].as_str().unwrap_or_default().to_owned();
        let period_end = before["items"]["data"][0]["current_period_end"].as_i64().unwrap_or_else(now);
        let period_start = before["items"]["data"][0]["current_period_start"].as_i64().unwrap_or_else(now);

        // Validate everything before mutating, so a bad request changes nothing.
        let items = parse_items(p)?;
        let existing: Vec<String> = self.sub_items.get(id).cloned().unwrap_or_default();
        let shape = before["items"]["data"][0]["price"]["recurring"].clone();
        for (i, item) in items.iter().enumerate() {
            if let Some(si) = &item.id {
                if !existing.contains(si) {
                    return Err(ApiError::missing_ref("subscription_item", si, &format!("items[{i}][id]")));
                }
            }
            if let Some(price) = &item.price {
                let param = format!("items[{i}][price]");
                let (currency, interval, count) = self.recurring_price(price, &param)?;
                if currency != before["currency"].as_str().unwrap_or_default()
                    || shape["interval"] != interval.as_str()
                    || shape["interval_count"] != count
                {
                    return Err(ApiError::invalid(&param, "All prices on a subscription must have the same `currency`, `recurring.interval` and `recurring.interval_count`."));
                }
            }
        }
        let remaining = existing.len() - items.iter().filter(|i| i.deleted && i.id.is_some()).count()
            + items.iter().filter(|i| i.id.is_none()).count();
        if remaining == 0 {
            return Err(ApiError::invalid("items", "A subscription must have at least one active plan."));
        }
        let pause = match p.get("pause_collection") {
            None => None,
            Some(Param::Str(s)) if s.is_empty() => Some(Value::Null),
            Some(Param::Str(_)) => return Err(ApiError::invalid("pause_collection", "Invalid object")),
            Some(Param::Map(m)) => {
                m.check_known(&["behavior", "resumes_at"], "pause_collection")?;
                let behavior = m.req_str_named("behavior", "pause_collection[behavior]")?;
                if !["keep_as_draft", "mark_uncollectible", "void"].contains(&behavior) {
                    return Err(ApiError::invalid(
                        "pause_collection[behavior]",
                        "Invalid pause_collection[behavior]: must be one of keep_as_draft, mark_uncollectible, or void",
                    ));
                }
                Some(
                    json!({ "behavior": behavior, "resumes_at": m.int_named("resumes_at", "pause_collection[resumes_at]")? }),
                )
            }
        };
        let cancel_at_period_end = p.bool("cancel_at_period_end")?;
        let cancel_at = match p.str("cancel_at") {
            None => None,
            Some("") => Some(Value::Null),
            Some("max_period_end" | "min_period_end") => Some(json!(period_end)),
            Some(_) => Some(json!(p.int("cancel_at")?)),
        };
        let default_pm = match p.str("default_payment_method") {
            None => None,
            Some("") => Some(Value::Null),
            Some(pm) => Some(json!(self.attach_payment_method(pm, &customer, "default_payment_method", ctx)?)),
        };
        let trial_end_now = p.str("trial_end") == Some("now");
        let collection_method =
            p.one_of("collection_method", &["charge_automatically", "send_invoice"])?.map(str::to_owned);
        let days_until_due = p.int("days_until_due")?;

        for item in &items {
            match (&item.id, item.deleted) {
                (Some(si), true) => {
                    self.table_mut(Kind::SubscriptionItem).remove(si);
                    if let Some(list) = self.sub_items.get_mut(id) {
                        list.retain(|x| x != si);
                    }
                }
                (Some(si), false) => {
                    if let Some(stored) = self.get_mut(Kind::SubscriptionItem, si) {
                        if let Some(price) = &item.price {
                            stored["price"] = json!(price);
                        }
                        if let Some(q) = item.quantity {
                            stored["quantity"] = json!(q);
                        }
                        apply_metadata(&mut stored["metadata"], item.metadata_param.as_ref())?;
                    }
                }
                (None, _) => {
                    let price = item.price.clone().unwrap_or_default();
                    self.new_item(
                        id,
                        &price,
                        item.quantity.unwrap_or(1),
                        item.metadata.clone(),
                        (period_start, period_end),
                    );
                }
            }
        }
        let sub = self.get_mut_or_404(Kind::Subscription, id)?;
        if let Some(flag) = cancel_at_period_end {
            sub["cancel_at_period_end"] = json!(flag);
            sub["cancel_at"] = if flag { json!(period_end) } else { Value::Null };
        }
        if let Some(at) = cancel_at {
            sub["cancel_at_period_end"] = json!(at.as_i64() == Some(period_end));
            sub["cancel_at"] = at;
        }
        if let Some(pause) = pause {
            sub["pause_collection"] = pause;
        }
        if let Some(pm) = default_pm {
            sub["default_payment_method"] = pm;
        }
        if let Some(d) = p.str("description") {
            sub["description"] = if d.is_empty() { Value::Null } else { json!(d) };
        }
        if let Some(m) = collection_method {
            sub["collection_method"] = json!(m);
        }
        if let Some(d) = days_until_due {
            sub["days_until_due"] = json!(d);
        }
        if let Some(details) = p.map("cancellation_details") {
            details.check_known(&["comment", "feedback"], "cancellation_details")?;
            sub["cancellation_details"]["comment"] = json!(details.opt_str("comment"));
            sub["cancellation_details"]["feedback"] = json!(details.opt_str("feedback"));
        }
        apply_metadata(&mut sub["metadata"], p.get("metadata"))?;
        if trial_end_now && status == "trialing" {
            self.end_trial(id, None, ctx)?;
        }
        self.emit_updated(Kind::Subscription, id, &before, "customer.subscription.updated", ctx);
        self.rendered(Kind::Subscription, id)
    }

    /// Cancels immediately (emits `customer.subscription.deleted`).
    pub(crate) fn cancel_subscription_now(&mut self, id: &str, reason: &str, ctx: &Ctx) -> ApiResult<()> {
        let at = now();
        let sub = self.get_mut_or_404(Kind::Subscription, id)?;
        sub["status"] = json!("canceled");
        sub["canceled_at"] = json!(at);
        sub["ended_at"] = json!(at);
        sub["cancel_at_period_end"] = json!(false);
        sub["cancellation_details"]["reason"] = json!(reason);
        let snapshot = self.snapshot(Kind::Subscription, id);
        self.emit("customer.subscription.deleted", snapshot, None, ctx);
        Ok(())
    }

    /// Resumes a `paused` subscription: a new period starts now and is invoiced.
    pub(crate) fn resume_subscription(&mut self, id: &str, ctx: &Ctx) -> ApiResult<()> {
        let before = self.snapshot(Kind::Subscription, id);
        if before.is_null() {
            return Err(ApiError::not_found("subscription", id));
        }
        if before["status"] != "paused" {
            return Err(ApiError::bad_request("Only a subscription with `status=paused` can be resumed."));
        }
        let start = now();
        self.start_new_period(id, start, ctx)?;
        let invoice = self.latest_invoice(id);
        let customer = before["customer"].as_str().unwrap_or_default().to_owned();
        let pm = self.default_payment_method(&customer, before["default_payment_method"].as_str());
        let paid = self.pay_invoice(&invoice, pm.as_deref(), None, ctx)?;
        if let Some(sub) = self.get_mut(Kind::Subscription, id) {
            sub["status"] = json!(if paid { "active" } else { "past_due" });
            sub["pause_collection"] = Value::Null;
        }
        let after = self.snapshot(Kind::Subscription, id);
        let prev = crate::store::previous_attributes(&before, &after);
        self.emit("customer.subscription.resumed", after, None, ctx);
        self.emit("customer.subscription.updated", self.snapshot(Kind::Subscription, id), Some(prev), ctx);
        Ok(())
    }

    fn latest_invoice(&self, sub: &str) -> String {
        self.get(Kind::Subscription, sub).and_then(|s| s["latest_invoice"].as_str()).unwrap_or_default().to_owned()
    }

    /// Moves every item to the period starting at `start` and invoices it
    /// (`billing_reason: subscription_cycle`).
    fn start_new_period(&mut self, id: &str, start: i64, ctx: &Ctx) -> ApiResult<()> {
        let sub = self.rendered(Kind::Subscription, id)?;
        let recurring = &sub["items"]["data"][0]["price"]["recurring"];
        let end = add_interval(
            start,
            recurring["interval"].as_str().unwrap_or("month"),
            recurring["interval_count"].as_i64().unwrap_or(1),
        );
        for si in self.sub_items.get(id).cloned().unwrap_or_default() {
            if let Some(item) = self.get_mut(Kind::SubscriptionItem, &si) {
                item["current_period_start"] = json!(start);
                item["current_period_end"] = json!(end);
            }
        }
        let invoice = self.create_subscription_invoice(id, "subscription_cycle", (start, end), false, ctx);
        if let Some(s) = self.get_mut(Kind::Subscription, id) {
            s["latest_invoice"] = json!(invoice);
        }
        Ok(())
    }

    /// Ends a trial now: pauses or cancels when there is no payment method
    /// and `trial_settings` say so, otherwise starts a paid period.
    fn end_trial(&mut self, id: &str, outcome: Option<Outcome>, ctx: &Ctx) -> ApiResult<&'static str> {
        let sub = self.snapshot(Kind::Subscription, id);
        let customer = sub["customer"].as_str().unwrap_or_default().to_owned();
        let pm = self.default_payment_method(&customer, sub["default_payment_method"].as_str());
        let start = now();
        if pm.is_none() && outcome.is_none() {
            match sub["trial_settings"]["end_behavior"]["missing_payment_method"].as_str() {
                Some("pause") => {
                    if let Some(s) = self.get_mut(Kind::Subscription, id) {
                        s["status"] = json!("paused");
                        s["trial_end"] = json!(start);
                    }
                    let snap = self.snapshot(Kind::Subscription, id);
                    self.emit("customer.subscription.paused", snap, None, ctx);
                    return Ok("paused");
                }
                Some("cancel") => {
                    self.cancel_subscription_now(id, "cancellation_requested", ctx)?;
                    return Ok("canceled");
                }
                _ => {}
            }
        }
        if let Some(s) = self.get_mut(Kind::Subscription, id) {
            s["trial_end"] = json!(start);
        }
        self.start_new_period(id, start, ctx)?;
        let invoice = self.latest_invoice(id);
        let paid = self.pay_invoice(&invoice, pm.as_deref(), outcome, ctx)?;
        let status = if paid { "active" } else { "past_due" };
        if let Some(s) = self.get_mut(Kind::Subscription, id) {
            s["status"] = json!(status);
        }
        Ok(status)
    }

    /// Sandbox clock: moves a subscription to its next billing period and
    /// invoices it. `outcome` forces the payment result; by default the
    /// customer's payment method decides.
    pub(crate) fn advance_subscription(&mut self, id: &str, outcome: Option<Outcome>, ctx: &Ctx) -> ApiResult {
        let before = self.snapshot(Kind::Subscription, id);
        if before.is_null() {
            return Err(ApiError::not_found("subscription", id));
        }
        let period_end = before["items"]["data"][0]["current_period_end"].as_i64().unwrap_or_else(now);
        match before["status"].as_str().unwrap_or_default() {
            "canceled" | "incomplete_expired" => {
                return Err(ApiError::bad_request("A canceled subscription cannot be advanced."))
            }
            "paused" => {
                return Err(ApiError::bad_request(
                    "This subscription is paused; resume it first (POST /v1/subscriptions/{id}/resume).",
                ))
            }
            "incomplete" => {
                // Stripe expires an unpaid first invoice after 23 hours.
                if let Some(s) = self.get_mut(Kind::Subscription, id) {
                    s["status"] = json!("incomplete_expired");
                    s["ended_at"] = json!(now());
                }
                let invoice = self.latest_invoice(id);
                if let Some(inv) = self.get_mut(Kind::Invoice, &invoice) {
                    inv["status"] = json!("void");
                    inv["status_transitions"]["voided_at"] = json!(now());
                }
                self.emit_updated(Kind::Subscription, id, &before, "customer.subscription.updated", ctx);
                return self.rendered(Kind::Subscription, id);
            }
            "trialing" => {
                self.end_trial(id, outcome, ctx)?;
                self.emit_transition(id, &before, ctx);
                return self.rendered(Kind::Subscription, id);
            }
            _ => {}
        }
        let cancel_at = before["cancel_at"].as_i64();
        if before["cancel_at_period_end"] == true || cancel_at.is_some_and(|c| c <= period_end) {
            self.cancel_subscription_now(id, "cancellation_requested", ctx)?;
            return self.rendered(Kind::Subscription, id);
        }
        self.start_new_period(id, period_end, ctx)?;
        let invoice = self.latest_invoice(id);
        let status = if let Some(behavior) = before["pause_collection"]["behavior"].as_str() {
            // Collection is paused: the invoice is not charged.
            let (status, event) = match behavior {
                "void" => ("void", "invoice.voided"),
                "mark_uncollectible" => ("uncollectible", "invoice.marked_uncollectible"),
                _ => ("draft", ""),
            };
            if let Some(inv) = self.get_mut(Kind::Invoice, &invoice) {
                inv["status"] = json!(status);
                if status == "void" {
                    inv["status_transitions"]["voided_at"] = json!(now());
                }
            }
            if !event.is_empty() {
                let snap = self.snapshot(Kind::Invoice, &invoice);
                self.emit(event, snap, None, ctx);
            }
            before["status"].as_str().unwrap_or("active").to_owned()
        } else if before["collection_method"] == "send_invoice" {
            before["status"].as_str().unwrap_or("active").to_owned()
        } else {
            let customer = before["customer"].as_str().unwrap_or_default().to_owned();
            let pm = self.default_payment_method(&customer, before["default_payment_method"].as_str());
            let paid = self.pay_invoice(&invoice, pm.as_deref(), outcome, ctx)?;
            if paid { "active" } else { "past_due" }.to_owned()
        };
        if let Some(s) = self.get_mut(Kind::Subscription, id) {
            s["status"] = json!(status);
        }
        self.emit_transition(id, &before, ctx);
        self.rendered(Kind::Subscription, id)
    }

    fn emit_transition(&mut self, id: &str, before: &Value, ctx: &Ctx) {
        if self.get(Kind::Subscription, id).is_some_and(|s| s["status"] != "canceled") {
            self.emit_updated(Kind::Subscription, id, before, "customer.subscription.updated", ctx);
        }
    }

    /// Reflects an invoice payment result on its subscription (a paid
    /// invoice reactivates a `past_due` subscription; a failed renewal makes
    /// an active one `past_due`).
    pub(crate) fn after_invoice_outcome(&mut self, invoice: &str, paid: bool, ctx: &Ctx) {
        let Some(sub_id) = self
            .get(Kind::Invoice, invoice)
            .and_then(|i| i["parent"]["subscription_details"]["subscription"].as_str())
            .map(str::to_owned)
        else {
            return;
        };
        let before = self.snapshot(Kind::Subscription, &sub_id);
        let status = before["status"].as_str().unwrap_or_default();
        let new_status = match (paid, status) {
            (true, "past_due" | "unpaid" | "incomplete") => "active",
            (false, "active") => "past_due",
            _ => return,
        };
        if let Some(s) = self.get_mut(Kind::Subscription, &sub_id) {
            s["status"] = json!(new_status);
        }
        self.emit_updated(Kind::Subscription, &sub_id, &before, "customer.subscription.updated", ctx);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calendar_months_clamp_days() {
        // 2024-01-31T10:00:00Z + 1 month = 2024-02-29T10:00:00Z (leap year).
        let jan31 = days_from_civil(2024, 1, 31) * 86_400 + 36_000;
        let feb = add_interval(jan31, "month", 1);
        assert_eq!(civil_from_days(feb.div_euclid(86_400)), (2024, 2, 29));
        assert_eq!(feb.rem_euclid(86_400), 36_000);
        let next_year = add_interval(jan31, "year", 1);
        assert_eq!(civil_from_days(next_year.div_euclid(86_400)), (2025, 1, 31));
        assert_eq!(add_interval(0, "week", 2), 14 * 86_400);
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        let dec = days_from_civil(2025, 12, 15) * 86_400;
        assert_eq!(civil_from_days(add_interval(dec, "month", 1) / 86_400), (2026, 1, 15));
    }
}
