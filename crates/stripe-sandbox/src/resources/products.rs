//! Products: create, retrieve, update, delete, list.

use axum::extract::{Path, State};
use axum::routing::{get, post};
use axum::Router;
use serde_json::{json, Value};

use super::{deleted, respond};
use crate::error::{ApiError, ApiResult};
use crate::form::Params;
use crate::http::{ApiRequest, Reply};
use crate::store::{apply_metadata, metadata_from, new_id, now, Ctx, Kind, State as Db};
use crate::Sandbox;

pub(super) fn routes() -> Router<Sandbox> {
    Router::new()
        .route("/v1/products", post(create).get(list))
        .route("/v1/products/{id}", get(retrieve).post(update).delete(remove))
}

async fn create(State(sb): State<Sandbox>, req: ApiRequest) -> Reply {
    respond(&sb, &req, |st, p, ctx| st.create_product(p, ctx))
}

async fn retrieve(State(sb): State<Sandbox>, Path(id): Path<String>, req: ApiRequest) -> Reply {
    respond(&sb, &req, |st, p, _| {
        p.check_known(&[], "")?;
        st.rendered(Kind::Product, &id)
    })
}

async fn update(State(sb): State<Sandbox>, Path(id): Path<String>, req: ApiRequest) -> Reply {
    respond(&sb, &req, |st, p, ctx| st.update_product(&id, p, ctx))
}

async fn remove(State(sb): State<Sandbox>, Path(id): Path<String>, req: ApiRequest) -> Reply {
    respond(&sb, &req, |st, p, ctx| st.delete_product(&id, p, ctx))
}

async fn list(State(sb): State<Sandbox>, req: ApiRequest) -> Reply {
    respond(&sb, &req, |st, p, _| {
        p.check_known(
            &["active", "created", "ending_before", "ids", "limit", "shippable", "starting_after", "url"],
            "",
        )?;
        let active = p.bool("active")?;
        let shippable = p.bool("shippable")?;
        let ids = p.strs("ids");
        let url = p.opt_str("url").map(str::to_owned);
        st.list(Kind::Product, p, "/v1/products", &|v: &Value| {
            active.is_none_or(|a| v["active"] == a)
                && shippable.is_none_or(|s| v["shippable"] == s)
                && (ids.is_empty() || ids.iter().any(|i| v["id"] == i.as_str()))
                && url.as_deref().is_none_or(|u| v["url"] == u)
        })
    })
}

const EDITABLE: [&str; 11] = [
    "active",
    "description",
    "images",
    "marketing_features",
    "metadata",
    "name",
    "package_dimensions",
    "shippable",
    "statement_descriptor",
    "tax_code",
    "unit_label",
];

impl Db {
    pub(crate) fn create_product(&mut self, p: &Params, ctx: &Ctx) -> ApiResult {
        let mut allowed = EDITABLE.to_vec();
        allowed.extend(["id", "default_price_data", "url"]);
        p.check_known(&allowed, "")?;
        let name = p.req_str("name")?.to_owned();
        let id = match p.opt_str("id") {
            Some(id) if self.get(Kind::Product, id).is_some() => {
                return Err(ApiError::invalid("id", "Product already exists.").code("resource_already_exists"))
            }
            Some(id) => id.to_owned(),
            None => new_id("prod"),
        };
        let now = now();
        let product = json!({
            "id": id,
            "object": "product",
            "active": p.bool("active")?.unwrap_or(true),
            "created": now,
            "default_price": null,
            "description": p.opt_str("description"),
            "images": p.strs("images"),
            "livemode": false,
            "marketing_features": marketing_features(p),
            "metadata": metadata_from(p)?,
            "name": name,
            "package_dimensions": null,
            "shippable": p.bool("shippable")?,
            "statement_descriptor": p.opt_str("statement_descriptor"),
            "tax_code": p.opt_str("tax_code"),
            "type": "service",
            "unit_label": p.opt_str("unit_label"),
            "updated": now,
            "url": p.opt_str("url"),
        });
        if let Some(dpd) = p.map("default_price_data") {
            dpd.check_known(
                &[
                    "currency",
                    "currency_options",
                    "recurring",
                    "tax_behavior",
                    "unit_amount",
                    "unit_amount_decimal",
                    "metadata",
                ],
                "default_price_data",
            )?;
            // Validate before anything is stored so a bad price leaves no product behind.
            dpd.req_str_named("currency", "default_price_data[currency]")?;
        }
        self.insert(Kind::Product, product);
        if let Some(dpd) = p.map("default_price_data") {
            let mut price_params = dpd.clone();
            price_params.merge(Params::from_pairs([("product", id.as_str())]));
            match self.create_price(&price_params, ctx) {
                Ok(price) => {
                    if let Some(stored) = self.get_mut(Kind::Product, &id) {
                        stored["default_price"] = price["id"].clone();
                    }
                }
                Err(e) => {
                    self.table_mut(Kind::Product).remove(&id);
                    return Err(e);
                }
            }
        }
        self.emit_created(Kind::Product, &id, "product.created", ctx);
        self.rendered(Kind::Product, &id)
    }

    pub(crate) fn update_product(&mut self, id: &str, p: &Params, ctx: &Ctx) -> ApiResult {
        let mut allowed = EDITABLE.to_vec();
        allowed.extend(["default_price", "url"]);
        p.check_known(&allowed, "")?;
        let before = self.snapshot(Kind::Product, id);
        if before.is_null() {
            return Err(ApiError::not_found("product", id));
        }
        if let Some(price_id) = p.opt_str("default_price") {
            let price = self.get_ref(Kind::Price, price_id, "default_price")?;
            if price["product"] != id {
                return Err(ApiError::invalid(
                    "default_price",
                    format!("The price `{price_id}` does not belong to product `{id}`."),
                ));
            }
            if price["active"] != true {
                return Err(ApiError::invalid("default_price", "The default price must be active."));
            }
        }
        if p.has("name") {
            p.req_str("name")?;
        }
        let active = p.bool("active")?;
        let shippable = p.bool("shippable")?;
        let product = self.get_mut_or_404(Kind::Product, id)?;
        if let Some(a) = active {
            product["active"] = json!(a);
        }
        if let Some(s) = shippable {
            product["shippable"] = json!(s);
        }
        for key in ["name", "description", "statement_descriptor", "tax_code", "unit_label", "url"] {
            if let Some(v) = p.str(key) {
                // Stripe unsets optional strings when given an empty value.
                product[key] = if v.is_empty() { Value::Null } else { json!(v) };
            }
        }
        if p.has("default_price") {
            product["default_price"] = json!(p.opt_str("default_price"));
        }
        if p.has("images") {
            product["images"] = json!(p.strs("images"));
        }
        if p.has("marketing_features") {
            product["marketing_features"] = marketing_features(p);
        }
        apply_metadata(&mut product["metadata"], p.get("metadata"))?;
        product["updated"] = json!(now());
        self.emit_updated(Kind::Product, id, &before, "product.updated", ctx);
        self.rendered(Kind::Product, id)
    }

    pub(crate) fn delete_product(&mut self, id: &str, p: &Params, ctx: &Ctx) -> ApiResult {
        p.check_known(&[], "")?;
        let snapshot = self.snapshot(Kind::Product, id);
        if snapshot.is_null() {
            return Err(ApiError::not_found("product", id));
        }
        if self.table(Kind::Price).iter_newest().any(|price| price["product"] == id) {
            return Err(ApiError::bad_request(
                "This product cannot be deleted because it has one or more user-created prices.",
            ));
        }
        self.table_mut(Kind::Product).remove(id);
        self.emit("product.deleted", snapshot, None, ctx);
        Ok(deleted(id, "product"))
    }
}

fn marketing_features(p: &Params) -> Value {
    let features: Vec<Value> = p
        .list("marketing_features")
        .into_iter()
        .filter_map(|f| match f {
            crate::form::Param::Map(m) => Some(json!({ "name": m.opt_str("name") })),
            crate::form::Param::Str(_) => None,
        })
        .collect();
    json!(features)
}
