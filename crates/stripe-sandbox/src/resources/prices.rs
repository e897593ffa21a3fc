//! Prices: one-time and recurring; create, retrieve, update, list.
//!
//! Amount, currency and recurrence are immutable: the update endpoint does not
//! know those parameters, so Stripe (and the sandbox) answer
//! `parameter_unknown` for them.

use axum::extract::{Path, State};
use axum::routing::{get, post};
use axum::Router;
use serde_json::{json, Value};

use super::respond;
use crate::error::{ApiError, ApiResult};
use crate::form::Params;
use crate::http::{ApiRequest, Reply};
use crate::store::{apply_metadata, metadata_from, new_id, now, Ctx, Kind, State as Db};
use crate::Sandbox;

pub(super) fn routes() -> Router<Sandbox> {
    Router::new().route("/v1/prices", post(create).get(list)).route("/v1/prices/{id}", get(retrieve).post(update))
}

async fn create(State(sb): State<Sandbox>, req: ApiRequest) -> Reply {
    respond(&sb, &req, |st, p, ctx| st.create_price(p, ctx))
}

async fn retrieve(State(sb): State<Sandbox>, Path(id): Path<String>, req: ApiRequest) -> Reply {
    respond(&sb, &req, |st, p, _| {
        p.check_known(&[], "")?;
        st.rendered(Kind::Price, &id)
    })
}

async fn update(State(sb): State<Sandbox>, Path(id): Path<String>, req: ApiRequest) -> Reply {
    respond(&sb, &req, |st, p, ctx| st.update_price(&id, p, ctx))
}

async fn list(State(sb): State<Sandbox>, req: ApiRequest) -> Reply {
    respond(&sb, &req, |st, p, _| {
        p.check_known(
            &[
                "active",
                "created",
                "currency",
                "ending_before",
                "limit",
                "lookup_keys",
                "product",
                "recurring",
                "starting_after",
                "type",
            ],
            "",
        )?;
        let active = p.bool("active")?;
        let currency = p.opt_str("currency").map(str::to_lowercase);
        let product = p.opt_str("product");
        let kind = p.one_of("type", &["one_time", "recurring"])?;
        let lookup_keys = p.strs("lookup_keys");
        if lookup_keys.len() > 10 {
            return Err(ApiError::invalid("lookup_keys", "You may pass at most 10 lookup keys."));
        }
        let interval = match p.map("recurring") {
            Some(r) => {
                r.check_known(&["interval", "meter", "usage_type"], "recurring")?;
                r.opt_str("interval").map(str::to_owned)
            }
            None => None,
        };
        st.list(Kind::Price, p, "/v1/prices", &|v: &Value| {
            active.is_none_or(|a| v["active"] == a)
                && currency.as_deref().is_none_or(|c| v["currency"] == c)
                && product.is_none_or(|pr| v["product"] == pr)
                && kind.is_none_or(|t| v["type"] == t)
                && (lookup_keys.is_empty() || lookup_keys.iter().any(|k| v["lookup_key"] == k.as_str()))
                && interval.as_deref().is_none_or(|i| v["recurring"]["interval"] == i)
        })
    })
}

impl Db {
    pub(crate) fn create_price(&mut self, p: &Params, ctx: &Ctx) -> ApiResult {
        p.check_known(
            &[
                "active",
                "billing_scheme",
                "currency",
                "currency_options",
                "custom_unit_amount",
                "lookup_key",
                "metadata",
                "nickname",
                "product",
                "product_data",
                "recurring",
                "tax_behavior",
                "transfer_lookup_key",
                "unit_amount",
                "unit_amount_decimal",
            ],
            "",
        )?;
        let currency = p.req_str("currency")?.to_lowercase();
        if currency.len() != 3 || !currency.chars().all(|c| c.is_ascii_alphabetic()) {
            return Err(ApiError::invalid("currency", format!("Invalid currency: {currency}.")));
        }
        let unit_amount = match (p.int("unit_amount")?, p.opt_str("unit_amount_decimal")) {
            (Some(a), _) if a < 0 => {
                return Err(ApiError::invalid("unit_amount", "This value must be greater than or equal to 0."))
            }
            (Some(a), _) => a,
            (None, Some(d)) => d
                .split('.')
                .next()
                .and_then(|whole| whole.parse::<i64>().ok())
                .ok_or_else(|| ApiError::invalid("unit_amount_decimal", format!("Invalid decimal: {d}")))?,
            (None, None) => return Err(ApiError::missing_param("unit_amount")),
        };
        let recurring = match p.map("recurring") {
            None => Value::Null,
            Some(r) => {
                r.check_known(
                    &["interval", "interval_count", "meter", "usage_type", "trial_period_days"],
                    "recurring",
                )?;
                let interval = r.req_str_named("interval", "recurring[interval]")?;
                if !["day", "week", "month", "year"].contains(&interval) {
                    return Err(ApiError::invalid(
                        "recurring[interval]",
                        "Invalid recurring[interval]: must be one of day, month, week, or year",
                    ));
                }
                let count = r.int_named("interval_count", "recurring[interval_count]")?.unwrap_or(1);
                let max = match interval {
                    "day" => 1095,
                    "week" => 156,
                    "month" => 36,
                    _ => 3,
                };
                if count < 1 || count > max {
                    return Err(ApiError::invalid(
                        "recurring[interval_count]",
                        "The maximum billing frequency is three years (1095 days, 156 weeks, or 36 months).",
                    ));
                }
                json!({
                    "interval": interval,
                    "interval_count": count,
                    "meter": r.opt_str("meter"),
                    "trial_period_days": r.int_named("trial_period_days", "recurring[trial_period_days]")?,
                    "usage_type": r.one_of("usage_type", &["licensed", "metered"])?.unwrap_or("licensed"),
                })
            }
        };
        let tax_behavior =
            p.one_of("tax_behavior", &["exclusive", "inclusive", "unspecified"])?.unwrap_or("unspecified");
        let product = match (p.opt_str("product"), p.map("product_data")) {
            (Some(id), _) => {
                self.get_ref(Kind::Product, id, "product")?;
                id.to_owned()
            }
            (None, Some(data)) => {
                data.check_known(
                    &["active", "id", "metadata", "name", "statement_descriptor", "tax_code", "unit_label"],
                    "product_data",
                )?;
                data.req_str_named("name", "product_data[name]")?;
                let product = self.create_product(data, ctx)?;
                product["id"].as_str().unwrap_or_default().to_owned()
            }
            (None, None) => return Err(ApiError::missing_param("product")),
        };
        let lookup_key = p.opt_str("lookup_key").map(str::to_owned);
        if let Some(key) = &lookup_key {
            self.check_lookup_key(key, p.bool("transfer_lookup_key")?.unwrap_or(false))?;
        }
        let id = new_id("price");
        let price = json!({
            "id": id,
            "object": "price",
            "active": p.bool("active")?.unwrap_or(true),
            "billing_scheme": p.one_of("billing_scheme", &["per_unit", "tiered"])?.unwrap_or("per_unit"),
            "created": now(),
            "currency": currency,
            "custom_unit_amount": null,
            "livemode": false,
            "lookup_key": lookup_key,
            "metadata": metadata_from(p)?,
            "nickname": p.opt_str("nickname"),
            "product": product,
            "recurring": recurring,
            "tax_behavior": tax_behavior,
            "tiers_mode": null,
            "transform_quantity": null,
            "type": if recurring.is_null() { "one_time" } else { "recurring" },
            "unit_amount": unit_amount,
            "unit_amount_decimal": p.opt_str("unit_amount_decimal").map(str::to_owned).unwrap_or(unit_amount.to_string()),
        });
        self.insert(Kind::Price, price);
        if let Some(key) = lookup_key {
            self.move_lookup_key(&key, &id, ctx);
        }
        self.emit_created(Kind::Price, &id, "price.created", ctx);
        self.rendered(Kind::Price, &id)
    }

    /// Refuses a lookup key already held by another price unless the caller
    /// asked to transfer it.
    fn check_lookup_key(&self, key: &str, transfer: bool) -> ApiResult<()> {
        if key.chars().count() > 200 {
            return Err(ApiError::invalid("lookup_key", "Lookup keys can have a maximum length of 200 characters."));
        }
        match self.lookup_keys.get(key) {
            Some(holder) if !transfer => Err(ApiError::invalid(
                "lookup_key",
                format!(
                    "A price (`{holder}`) already uses that lookup key. Pass `transfer_lookup_key=true` to move it to this price."
                ),
            )),
            _ => Ok(()),
        }
    }

    /// Gives `key` to `price_id`, taking it from its previous holder (which
    /// gets a `price.updated` event).
    fn move_lookup_key(&mut self, key: &str, price_id: &str, ctx: &Ctx) {
        if let Some(old) = self.lookup_keys.insert(key.to_owned(), price_id.to_owned()) {
            if old != price_id {
                let before = self.snapshot(Kind::Price, &old);
                if let Some(old_price) = self.get_mut(Kind::Price, &old) {
                    old_price["lookup_key"] = Value::Null;
                }
                self.emit_updated(Kind::Price, &old, &before, "price.updated", ctx);
            }
        }
    }

    pub(crate) fn update_price(&mut self, id: &str, p: &Params, ctx: &Ctx) -> ApiResult {
        p.check_known(
            &[
                "active",
                "currency_options",
                "lookup_key",
                "metadata",
                "nickname",
                "tax_behavior",
                "transfer_lookup_key",
            ],
            "",
        )?;
        let before = self.snapshot(Kind::Price, id);
        if before.is_null() {
            return Err(ApiError::not_found("price", id));
        }
        let active = p.bool("active")?;
        let tax_behavior = p.one_of("tax_behavior", &["exclusive", "inclusive", "unspecified"])?;
        if let Some(tb) = tax_behavior {
            if before["tax_behavior"] != "unspecified" && before["tax_behavior"] != tb {
                return Err(ApiError::invalid(
                    "tax_behavior",
                    "tax_behavior cannot be changed once it has been set to inclusive or exclusive.",
                ));
            }
        }
        let new_key = p.str("lookup_key").map(str::to_owned);
        if let Some(key) = new_key.as_deref().filter(|k| !k.is_empty()) {
            if self.lookup_keys.get(key).is_some_and(|holder| holder != id) {
                self.check_lookup_key(key, p.bool("transfer_lookup_key")?.unwrap_or(false))?;
            }
        }
        {
            let price = self.get_mut_or_404(Kind::Price, id)?;
            if let Some(a) = active {
                price["active"] = json!(a);
            }
            if let Some(tb) = tax_behavior {
                price["tax_behavior"] = json!(tb);
            }
            if let Some(n) = p.str("nickname") {
                price["nickname"] = if n.is_empty() { Value::Null } else { json!(n) };
            }
            apply_metadata(&mut price["metadata"], p.get("metadata"))?;
        }
        if let Some(key) = new_key {
            let old_key = before["lookup_key"].as_str().map(str::to_owned);
            if let Some(old) = old_key.filter(|old| *old != key) {
                self.lookup_keys.remove(&old);
            }
            if let Some(price) = self.get_mut(Kind::Price, id) {
                price["lookup_key"] = if key.is_empty() { Value::Null } else { json!(key) };
            }
            if !key.is_empty() {
                self.move_lookup_key(&key, id, ctx);
            }
        }
        self.emit_updated(Kind::Price, id, &before, "price.updated", ctx);
        self.rendered(Kind::Price, id)
    }
}
