//! List routes (21)–(23) and the additive webhook-events list.

use axum::extract::{Path, RawQuery, State};
use axum::Json;
use serde_json::{json, Value};

use crate::api::errors::ApiError;
use crate::api::{validation, ApiState};
use crate::environment::Environment;
use crate::lists::ListOptions;

fn options(q: validation::ListQuery) -> (ListOptions, bool) {
    let paged = q.cursor.is_some();
    (ListOptions { limit: q.limit, subject: q.subject, cursor: q.cursor, filters: q.filters }, paged)
}

/// The contract's body, plus `nextCursor` when the caller asked for pages (additive).
fn reply(key: &str, items: Value, next: Option<String>, paged: bool) -> Json<Value> {
    let mut body = json!({ key: items });
    if paged {
        body["nextCursor"] = json!(next);
    }
    Json(body)
}

pub(super) async fn subscriptions(
    State(st): State<ApiState>,
    Path(env): Path<String>,
    RawQuery(q): RawQuery,
) -> Result<Json<Value>, ApiError> {
    let env = validation::environment(&env)?;
    let q = validation::list_query(
        &validation::query_object(q.as_deref()),
        true,
        &["status", "customer", "id", "from", "to"],
    )?;
    let (o, paged) = options(q);
    let page = st.engine.list_subscriptions(env, &o).await?;
    Ok(reply("subscriptions", json!(page.items), page.next_cursor, paged))
}

/// The payment history's environment and query, as both of its routes take them.
fn history_options(env: &str, q: Option<&str>) -> Result<(Environment, ListOptions, bool), ApiError> {
    let env = validation::environment(env)?;
    let q = validation::list_query(
        &validation::query_object(q),
        true,
        &["status", "type", "customer", "object", "from", "to"],
    )?;
    let (o, paged) = options(q);
    Ok((env, o, paged))
}

pub(super) async fn payment_history(
    State(st): State<ApiState>,
    Path(env): Path<String>,
    RawQuery(q): RawQuery,
) -> Result<Json<Value>, ApiError> {
    let (env, o, paged) = history_options(&env, q.as_deref())?;
    let page = st.engine.list_payment_history(env, &o).await?;
    Ok(reply("paymentHistory", json!(page.items), page.next_cursor, paged))
}

/// `GET /{env}/payment-history/summary` (additive): the history page's chart and status counts,
/// with the list's filters (it accepts and ignores `limit` and `cursor`: it counts a bounded view).
pub(super) async fn payment_history_summary(
    State(st): State<ApiState>,
    Path(env): Path<String>,
    RawQuery(q): RawQuery,
) -> Result<Json<Value>, ApiError> {
    let (env, o, _) = history_options(&env, q.as_deref())?;
    let summary = st.engine.payment_history_summary(env, &o).await?;
    Ok(Json(json!({ "summary": summary })))
}

/// `GET /{env}/overview` (additive): the environment at a glance (`{"overview": …}`).
pub(super) async fn overview(State(st): State<ApiState>, Path(env): Path<String>) -> Result<Json<Value>, ApiError> {
    let env = validation::environment(&env)?;
    Ok(Json(json!({ "overview": st.engine.overview(env).await? })))
}

/// `GET /{env}/subscriptions/summary` (additive): subscriptions by status (`{"summary": […]}`).
pub(super) async fn subscription_statuses(
    State(st): State<ApiState>,
    Path(env): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let env = validation::environment(&env)?;
    Ok(Json(json!({ "summary": st.engine.subscription_statuses(env).await? })))
}

pub(super) async fn customers(
    State(st): State<ApiState>,
    Path(env): Path<String>,
    RawQuery(q): RawQuery,
) -> Result<Json<Value>, ApiError> {
    let env = validation::environment(&env)?;
    let q = validation::list_query(&validation::query_object(q.as_deref()), false, &["search", "ids", "from", "to"])?;
    let (o, paged) = options(q);
    let page = st.engine.list_customers(env, &o).await?;
    Ok(reply("customers", json!(page.items), page.next_cursor, paged))
}

pub(super) async fn webhook_events(
    State(st): State<ApiState>,
    Path(env): Path<String>,
    RawQuery(q): RawQuery,
) -> Result<Json<Value>, ApiError> {
    let env = validation::environment(&env)?;
    let q = validation::list_query(
        &validation::query_object(q.as_deref()),
        false,
        &["status", "type", "objectId", "id", "from", "to"],
    )?;
    let (o, _) = options(q);
    let page = st.engine.list_webhook_events(env, &o).await?;
    Ok(reply("webhookEvents", json!(page.items), page.next_cursor, true))
}
