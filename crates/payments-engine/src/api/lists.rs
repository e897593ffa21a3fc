//! List routes (21)–(23) and the additive webhook-events list.

use axum::extract::{Path, RawQuery, State};
use axum::Json;
use payments_model::{
    CustomersPage, HistorySummaryEnvelope, OverviewEnvelope, PaymentHistoryPage, StatusSummaryEnvelope,
    SubscriptionsPage, WebhookEventsPage,
};
use serde_json::Value;

use crate::api::errors::ApiError;
use crate::api::{validation, wire, ApiState};
use crate::environment::Environment;
use crate::lists::ListOptions;
use payments_model::{CustomerListFilters, EventListFilters, HistoryListFilters, SubscriptionListFilters};

/// The list's options, and whether the caller asked for pages (sent a `cursor`): only then does
/// the body carry `nextCursor`, which the contract does not have.
fn options<F>(o: ListOptions<F>) -> (ListOptions<F>, bool) {
    let paged = o.cursor.is_paged();
    (o, paged)
}

pub(super) async fn subscriptions(
    State(st): State<ApiState>,
    Path(env): Path<String>,
    RawQuery(q): RawQuery,
) -> Result<Json<Value>, ApiError> {
    let env = validation::environment(&env)?;
    let q = validation::list_query::<SubscriptionListFilters>(&validation::query_object(q.as_deref()), true)?;
    let (o, paged) = options(q);
    let page = st.engine.list_subscriptions(env, &o).await?;
    Ok(wire(SubscriptionsPage::new(page, paged))?)
}

/// The payment history's environment and query, as both of its routes take them.
fn history_options(
    env: &str,
    q: Option<&str>,
) -> Result<(Environment, ListOptions<HistoryListFilters>, bool), ApiError> {
    let env = validation::environment(env)?;
    let q = validation::list_query(&validation::query_object(q), true)?;
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
    Ok(wire(PaymentHistoryPage::new(page, paged))?)
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
    Ok(wire(HistorySummaryEnvelope { summary })?)
}

/// `GET /{env}/overview` (additive): the environment at a glance (`{"overview": …}`).
pub(super) async fn overview(State(st): State<ApiState>, Path(env): Path<String>) -> Result<Json<Value>, ApiError> {
    let env = validation::environment(&env)?;
    Ok(wire(OverviewEnvelope { overview: st.engine.overview(env).await? })?)
}

/// `GET /{env}/subscriptions/summary` (additive): subscriptions by status (`{"summary": […]}`).
pub(super) async fn subscription_statuses(
    State(st): State<ApiState>,
    Path(env): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let env = validation::environment(&env)?;
    Ok(wire(StatusSummaryEnvelope { summary: st.engine.subscription_statuses(env).await? })?)
}

pub(super) async fn customers(
    State(st): State<ApiState>,
    Path(env): Path<String>,
    RawQuery(q): RawQuery,
) -> Result<Json<Value>, ApiError> {
    let env = validation::environment(&env)?;
    let q = validation::list_query::<CustomerListFilters>(&validation::query_object(q.as_deref()), false)?;
    let (o, paged) = options(q);
    let page = st.engine.list_customers(env, &o).await?;
    Ok(wire(CustomersPage::new(page, paged))?)
}

pub(super) async fn webhook_events(
    State(st): State<ApiState>,
    Path(env): Path<String>,
    RawQuery(q): RawQuery,
) -> Result<Json<Value>, ApiError> {
    let env = validation::environment(&env)?;
    let o = validation::list_query::<EventListFilters>(&validation::query_object(q.as_deref()), false)?;
    let page = st.engine.list_webhook_events(env, &o).await?;
    Ok(wire(WebhookEventsPage::new(page, true))?)
}
