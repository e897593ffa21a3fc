//! Stripe's `/v1` resources. Each module adds its business logic as methods
//! on [`State`] (so seeds and sandbox-only routes reuse it) and its routes.

mod account;
mod billing;
mod checkout;
mod customers;
mod events_api;
mod prices;
mod products;
mod subscriptions;
mod webhook_endpoints;

use axum::Json;
use axum::Router;

pub(crate) use billing::{money, Outcome};
pub use checkout::CheckoutOutcome;
pub(crate) use subscriptions::add_interval;

use crate::error::ApiResult;
use crate::form::Params;
use crate::http::{ApiRequest, Reply};
use crate::store::{Ctx, State};
use crate::Sandbox;

/// All Stripe routes.
pub(crate) fn routes() -> Router<Sandbox> {
    Router::new()
        .merge(account::routes())
        .merge(products::routes())
        .merge(prices::routes())
        .merge(customers::routes())
        .merge(subscriptions::routes())
        .merge(billing::routes())
        .merge(checkout::routes())
        .merge(webhook_endpoints::routes())
        .merge(events_api::routes())
}

/// Runs `f` under the state lock, applies `expand[]` and answers JSON.
pub(crate) fn respond(sb: &Sandbox, req: &ApiRequest, f: impl FnOnce(&mut State, &Params, &Ctx) -> ApiResult) -> Reply {
    sb.write(|st| {
        let v = f(st, &req.params, &req.ctx)?;
        st.expand(v, &req.params)
    })
    .map(Json)
}

/// `{"id": …, "object": …, "deleted": true}`.
pub(crate) fn deleted(id: &str, object: &str) -> serde_json::Value {
    serde_json::json!({ "id": id, "object": object, "deleted": true })
}
