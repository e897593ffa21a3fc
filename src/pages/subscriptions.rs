//! Subscriptions filtered by billing subject, status and customer, keyset-paginated, with a detail page.

use super::customers::{url_limit, ListNotice, Pager, TableSkeleton, DEFAULT_LIMIT};
use super::history::HistoryTable;
use crate::environment::Environment;
use crate::error::AppError;
use crate::model::format::{query_string, url_encode};
use crate::services::subscriptions::{SubscriptionFilters, SubscriptionInfo, SubscriptionList};
use crate::ui::chart::{MixPart, StatusMix};
use crate::ui::error::ErrorPanel;
use crate::ui::filters::{ApplyFilters, ClearFilters};
use crate::ui::layout::use_env;
use crate::ui::resource::resource;
use crate::ui::status::StatusBadge;
use crate::ui::time::{Time, TimeOr};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};
use payments_model::{Cursor, Subscription, SubscriptionStatus};
use std::collections::BTreeMap;

/// A page of subscriptions matching the filters, after `cursor`. Any signed-in user.
#[server(prefix = "/api/console", endpoint = "support-subscriptions")]
pub async fn list_subscriptions(
    env: Environment,
    filters: SubscriptionFilters,
    cursor: Option<Cursor>,
    limit: u32,
) -> Result<SubscriptionList, AppError> {
    let user = crate::auth::ssr::require_reader()?;
    let backend = crate::server::state::app_state().backend;
    crate::services::subscriptions::list(&backend, &user, env, &filters, cursor, limit).await
}

/// A link to the subject page, or a dash.
#[component]
pub fn SubjectLink(env: Environment, subject_type: Option<String>, subject_id: Option<String>) -> impl IntoView {
    match (subject_type, subject_id) {
        (Some(t), Some(i)) => {
            let href = format!("/{env}/subjects/{}/{}", url_encode(&t), url_encode(&i));
            view! { <a href=href data-testid="subject-link">{format!("{t}:{i}")}</a> }.into_any()
        }
        _ => view! { <span class="muted">"—"</span> }.into_any(),
    }
}

/// The page.
/// Subscriptions by status, for the page's mix. Any signed-in user.
#[server(prefix = "/api/console", endpoint = "subscription-mix")]
pub async fn subscription_mix(
    environment: Environment,
) -> Result<Vec<payments_model::StatusCount<SubscriptionStatus>>, AppError> {
    let user = crate::auth::ssr::require_reader()?;
    let state = crate::server::state::app_state();
    Ok(state.backend.subscription_statuses(&user, environment).await?)
}

#[component]
pub fn SubscriptionsPage() -> impl IntoView {
    let env = use_env();
    let query = use_query_map();
    let filters = Memo::new(move |_| {
        let q = query.read();
        SubscriptionFilters {
            subject_type: q.get("subjectType").unwrap_or_default(),
            subject_id: q.get("subjectId").unwrap_or_default(),
            status: q.get("status").unwrap_or_default(),
            customer: q.get("customer").unwrap_or_default(),
        }
    });
    let cursor = Memo::new(move |_| query.read().get("cursor").and_then(Cursor::new));
    let limit = Memo::new(move |_| url_limit(query.read().get("limit")));
    let data = resource(
        move || (env.get(), filters.get(), cursor.get(), limit.get()),
        |(env, filters, cursor, limit)| list_subscriptions(env, filters, cursor, limit),
    );
    // The environment's status mix (nothing on a backend without it).
    let mix = resource(move || env.get(), subscription_mix);
    view! {
        <Title text="Subscriptions" />
        <h1>"Subscriptions"</h1>
        <p class="muted">"Newest change first. Filter by billing subject, status or customer; open a row for its items."</p>
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                mix.await.ok().map(|statuses| {
                    let env = env.get_untracked();
                    let parts: Vec<MixPart> = statuses
                        .into_iter()
                        .map(|s| MixPart { href: format!("/{env}/subscriptions?status={}", s.status), status: s.status.into(), count: s.rows })
                        .collect();
                    view! { <div class="card"><StatusMix parts testid="subscription-mix" /></div> }
                })
            })}
        </Transition>
        <form method="get" class="filters" data-testid="subscription-filters">
            <label>
                "Subject type"
                <input type="text" name="subjectType" value=move || filters.get().subject_type prop:value=move || filters.get().subject_type placeholder="team" />
            </label>
            <label>
                "Subject id"
                <input type="text" name="subjectId" value=move || filters.get().subject_id prop:value=move || filters.get().subject_id placeholder="acme" />
            </label>
            <label>
                "Status"
                <select name="status">
                    <option value="" selected=move || filters.get().status.is_empty()>"Any"</option>
                    {SubscriptionStatus::ALL
                        .iter()
                        .map(|s| {
                            let s = s.as_str();
                            view! { <option value=s selected=move || filters.get().status == s>{s}</option> }
                        })
                        .collect_view()}
                </select>
            </label>
            <label>
                "Customer"
                <input type="text" name="customer" value=move || filters.get().customer prop:value=move || filters.get().customer placeholder="cus_…" />
            </label>
            {move || {
                (limit.get() != DEFAULT_LIMIT).then(|| view! { <input type="hidden" name="limit" value=limit.get().to_string() /> })
            }}
            <ApplyFilters />
            <ClearFilters href="?" />
        </form>
        <Suspense fallback=|| view! { <TableSkeleton /> }>
            {move || Suspend::new(async move {
                match data.await {
                    Err(e) => view! { <ErrorPanel error=e /> }.into_any(),
                    Ok(list) => {
                        let mut pairs = filters.get_untracked().pairs();
                        if limit.get_untracked() != DEFAULT_LIMIT {
                            pairs.push(("limit".into(), limit.get_untracked().to_string()));
                        }
                        view! {
                            <ListNotice notice=list.listing.notice />
                            <SubscriptionsTable env=env.get_untracked() rows=list.listing.page.items labels=list.labels />
                            <Pager pairs on_first=cursor.get_untracked().is_none() next=list.listing.page.next_cursor />
                        }
                        .into_any()
                    }
                }
            })}
        </Suspense>
    }
    .into_any()
}

/// Subscriptions, each row expandable to its items.
#[component]
pub fn SubscriptionsTable(
    env: Environment,
    rows: Vec<Subscription>,
    labels: BTreeMap<String, String>,
) -> impl IntoView {
    let empty = rows.is_empty();
    view! {
        <div class="table-scroll">
            <table class="data-table" data-testid="subscriptions-table">
                <thead>
                    <tr>
                        <th scope="col">"Subscription"</th>
                        <th scope="col">"Subject"</th>
                        <th scope="col">"Customer"</th>
                        <th scope="col">"Status"</th>
                        <th scope="col">"Current period ends"</th>
                    </tr>
                </thead>
                {empty.then(|| view! { <tbody><tr><td colspan="5" class="empty">"No subscriptions match."</td></tr></tbody> })}
                {rows
                        .into_iter()
                        .map(|s| {
                            let detail = format!("/{env}/subscriptions/{}", url_encode(&s.stripe_subscription_id));
                            let count = s.items.len();
                            let first = s
                                .items
                                .first()
                                .and_then(|i| i.stripe_price_id.as_ref())
                                .and_then(|p| labels.get(p))
                                .map(|l| format!(" · {l}"))
                                .unwrap_or_default();
                            let summary = format!("{count} item{}{first}", if count == 1 { "" } else { "s" });
                            // One group per subscription: its row, then its expandable items.
                            view! {
                                <tbody class="subscription-group" data-testid="subscription-row" data-id=s.stripe_subscription_id.clone()>
                                <tr class="subscription-main">
                                    <td><a href=detail data-testid="subscription-link"><code>{s.stripe_subscription_id.clone()}</code></a></td>
                                    <td><SubjectLink env subject_type=s.subject_type.clone() subject_id=s.subject_id.clone() /></td>
                                    <td><super::customer::CustomerLink env id=s.stripe_customer_id.clone() /></td>
                                    <td>
                                        <StatusBadge status=&s.status />
                                        {s.cancel_at_period_end.then(|| view! { " " <span class="badge badge-warn">"cancels at period end"</span> })}
                                    </td>
                                    <td class="nowrap"><TimeOr iso=s.current_period_end.clone() none="—" /></td>
                                </tr>
                                <tr class="subscription-items-row">
                                    <td colspan="5">
                                        <details class="sub-items" data-testid="subscription-items">
                                            <summary>{summary}</summary>
                                            <ItemsList items=s.items labels=labels.clone() />
                                        </details>
                                    </td>
                                </tr>
                                </tbody>
                            }
                        })
                        .collect_view()}
            </table>
        </div>
    }
    .into_any()
}

/// The items of one subscription, compact, for an expanded row: price, product, quantity.
#[component]
fn ItemsList(items: Vec<payments_model::SubscriptionItem>, labels: BTreeMap<String, String>) -> impl IntoView {
    let label = move |id: &Option<String>| match id {
        Some(id) => {
            let name = labels.get(id).filter(|l| !l.is_empty()).cloned();
            view! { {name.map(|n| view! { <span>{n}</span> " " })} <code class="muted small">{id.clone()}</code> }
                .into_any()
        }
        None => view! { "—" }.into_any(),
    };
    view! {
        <ul class="items-list">
            {items
                .into_iter()
                .map(|i| {
                    view! {
                        <li data-testid="item-row">
                            <dl>
                                <dt>"Price"</dt>
                                <dd>{label(&i.stripe_price_id)}</dd>
                                <dt>"Product"</dt>
                                <dd>{label(&i.stripe_product_id)}</dd>
                                <dt>"Quantity"</dt>
                                <dd>{i.quantity.map(|q| q.to_string()).unwrap_or_else(|| "—".into())}</dd>
                            </dl>
                        </li>
                    }
                })
                .collect_view()}
        </ul>
    }
    .into_any()
}

/// The items of one subscription: price, product, quantity.
#[component]
fn ItemsTable(items: Vec<payments_model::SubscriptionItem>, labels: BTreeMap<String, String>) -> impl IntoView {
    let label = move |id: &Option<String>| match id {
        Some(id) => match labels.get(id) {
            Some(l) if !l.is_empty() => view! { {l.clone()} " " <code class="muted">{id.clone()}</code> }.into_any(),
            _ => view! { <code>{id.clone()}</code> }.into_any(),
        },
        None => view! { "—" }.into_any(),
    };
    view! {
        <table class="items-table">
            <thead>
                <tr>
                    <th scope="col">"Price"</th>
                    <th scope="col">"Product"</th>
                    <th scope="col" class="num">"Quantity"</th>
                </tr>
            </thead>
            <tbody>
                {items
                    .into_iter()
                    .map(|i| {
                        view! {
                            <tr data-testid="item-row">
                                <td>{label(&i.stripe_price_id)}</td>
                                <td>{label(&i.stripe_product_id)}</td>
                                <td class="num">{i.quantity.map(|q| q.to_string()).unwrap_or_else(|| "—".into())}</td>
                            </tr>
                        }
                    })
                    .collect_view()}
            </tbody>
        </table>
    }
    .into_any()
}

/// One subscription (through the list filtered by id: the contract has no single-item route)
/// with its payments. Any signed-in user.
#[server(prefix = "/api/console", endpoint = "support-subscription")]
pub async fn subscription_detail(env: Environment, id: String) -> Result<SubscriptionInfo, AppError> {
    let user = crate::auth::ssr::require_reader()?;
    let backend = crate::server::state::app_state().backend;
    crate::services::subscriptions::detail(&backend, &user, env, &id).await
}

/// One subscription.
#[component]
pub fn SubscriptionDetailPage() -> impl IntoView {
    let env = use_env();
    let params = use_params_map();
    let id = Memo::new(move |_| params.read().get("id").unwrap_or_default());
    let data = resource(move || (env.get(), id.get()), |(env, id)| subscription_detail(env, id));
    view! {
        <Title text=move || format!("Subscription {}", id.try_get().unwrap_or_default()) />
        <p class="breadcrumbs"><a href=move || format!("/{}/subscriptions", env.get())>"← Subscriptions"</a></p>
        <h1>"Subscription " <code>{move || id.get()}</code></h1>
        <Suspense fallback=|| view! { <TableSkeleton /> }>
            {move || Suspend::new(async move {
                match data.await {
                    Err(e) => view! { <ErrorPanel error=e /> }.into_any(),
                    Ok(d) => view! { <DetailBody env=env.get_untracked() detail=d /> }.into_any(),
                }
            })}
        </Suspense>
    }
    .into_any()
}

#[component]
fn DetailBody(env: Environment, detail: SubscriptionInfo) -> impl IntoView {
    let s = detail.subscription;
    let when = |v: &Option<String>| view! { <TimeOr iso=v.clone() none="—" /> };
    let period = view! { {when(&s.current_period_start)} " → " {when(&s.current_period_end)} };
    let trial = match (&s.trial_start, &s.trial_end) {
        (None, None) => "none".into_any(),
        _ => view! { {when(&s.trial_start)} " → " {when(&s.trial_end)} }.into_any(),
    };
    let customer_href = super::customer::customer_path(env, &s.stripe_customer_id);
    let history_href = format!("/{env}/history{}", query_string(&[("customer", &s.stripe_customer_id)]));
    let own_id = s.stripe_subscription_id.clone();
    let (own, other): (Vec<_>, Vec<_>) =
        detail.payments.into_iter().partition(|p| p.stripe_subscription_id.as_deref() == Some(own_id.as_str()));
    let metadata = s.metadata.clone();
    view! {
        <ListNotice notice=detail.notice />
        <section class="card detail-card" data-testid="subscription-detail">
            <dl class="detail-grid">
                <dt>"Status"</dt>
                <dd><StatusBadge status=&s.status /></dd>
                <dt>"Subject"</dt>
                <dd><SubjectLink env subject_type=s.subject_type.clone() subject_id=s.subject_id.clone() /></dd>
                <dt>"Customer"</dt>
                <dd><a href=customer_href><code>{s.stripe_customer_id.clone()}</code></a> " · " <a href=history_href>"payments"</a></dd>
                <dt>"Current period"</dt>
                <dd>{period}</dd>
                <dt>"Cancel at period end"</dt>
                <dd data-testid="cancel-at-period-end">{if s.cancel_at_period_end { "yes" } else { "no" }}</dd>
                <dt>"Cancels at"</dt>
                <dd>{when(&s.cancel_at)}</dd>
                <dt>"Canceled at"</dt>
                <dd>{when(&s.canceled_at)}</dd>
                <dt>"Trial"</dt>
                <dd>{trial}</dd>
                <dt>"Latest invoice"</dt>
                <dd><code>{s.latest_invoice_id.clone().unwrap_or_else(|| "—".into())}</code></dd>
                <dt>"Created"</dt>
                <dd><Time iso=s.created_at.clone() /></dd>
                <dt>"Last synced"</dt>
                <dd><Time iso=s.synced_at.clone() /></dd>
            </dl>
        </section>
        <h2>"Metadata"</h2>
        {if metadata.is_empty() {
            view! { <p class="muted">"No metadata."</p> }.into_any()
        } else {
            view! {
                <table class="data-table metadata-table" data-testid="subscription-metadata">
                    <tbody>
                        {metadata
                            .into_iter()
                            .map(|(k, v)| view! { <tr><th scope="row"><code>{k}</code></th><td>{v}</td></tr> })
                            .collect_view()}
                    </tbody>
                </table>
            }
            .into_any()
        }}
        <h2>"Items"</h2>
        <ItemsTable items=s.items labels=detail.labels />
        <h2>"Payments of this subscription"</h2>
        <HistoryTable env rows=own testid="subscription-payments" empty_text="No payments of this subscription recorded yet." />
        {(!other.is_empty()).then(|| {
            view! {
                <h2>"Other payments of the same subject or customer"</h2>
                <HistoryTable env rows=other testid="related-payments" />
            }
        })}
    }
    .into_any()
}
