//! Payment history: filters, keyset pagination, CSV export of the filtered view, chart and status breakdown.

use super::customers::{url_limit, ListNotice, Pager, TableSkeleton, DEFAULT_LIMIT};
use super::refund::{RefundControl, RefundScope};
use super::subscriptions::SubjectLink;
use crate::environment::Environment;
use crate::error::AppError;
use crate::model::format::{money, query_string};
use crate::model::history::HistoryFilters;
use crate::services::listing::Listing;
use crate::services::refunds::refundable;
use crate::ui::chart::{DayBar, DayBars};
use crate::ui::error::ErrorPanel;
use crate::ui::filters::{ApplyFilters, ClearFilters};
use crate::ui::layout::use_env;
use crate::ui::resource::resource;
use crate::ui::status::StatusBadge;
use crate::ui::time::Time;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;
use payments_model::{Cursor, DayCount, HistorySummary, PaymentHistory, PaymentKind, PaymentStatus, StatusCount};

/// A page of payment history matching the filters, after `cursor`. Any signed-in user.
#[server(prefix = "/api/console", endpoint = "support-history")]
pub async fn list_history(
    env: Environment,
    filters: HistoryFilters,
    cursor: Option<Cursor>,
    limit: u32,
) -> Result<Listing<PaymentHistory>, AppError> {
    let user = crate::auth::ssr::require_reader()?;
    let backend = crate::server::state::app_state().backend;
    let q = filters.list_query(limit, payments_model::Paging::from_cursor(cursor))?;
    crate::services::listing::list_with_fallback(q, |q| {
        let (backend, user) = (backend.clone(), user.clone());
        async move { backend.payment_history(&user, env, &q).await }
    })
    .await
}

/// The chart and status breakdown of the filtered view (its newest [`payments_model::HISTORY_SUMMARY_ROWS`]
/// rows). Any signed-in user.
#[server(prefix = "/api/console", endpoint = "support-history-summary")]
pub async fn load_history_summary(env: Environment, filters: HistoryFilters) -> Result<HistorySummary, AppError> {
    let user = crate::auth::ssr::require_reader()?;
    let backend = crate::server::state::app_state().backend;
    crate::services::history::summary(&backend, &user, env, &filters).await
}

/// The page.
#[component]
pub fn HistoryPage() -> impl IntoView {
    let env = use_env();
    let query = use_query_map();
    let filters = Memo::new(move |_| {
        let q = query.read();
        HistoryFilters::from_lookup(|k| q.get(k))
    });
    let cursor = Memo::new(move |_| query.read().get("cursor").and_then(Cursor::new));
    let limit = Memo::new(move |_| url_limit(query.read().get("limit")));
    let data = resource(
        move || (env.get(), filters.get(), cursor.get(), limit.get()),
        |(env, filters, cursor, limit)| list_history(env, filters, cursor, limit),
    );
    let summary = resource(move || (env.get(), filters.get()), |(env, filters)| load_history_summary(env, filters));
    let csv_href = move || {
        let pairs = filters.get().pairs();
        let refs: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        format!("/export/{}/payment-history.csv{}", env.get(), query_string(&refs))
    };
    let f = move || filters.get();
    view! {
        <Title text="Payment history" />
        <h1>"Payment history"</h1>
        <p class="muted">"Payments, invoices and refunds from Stripe: backfilled by each sync, kept current by its webhooks. Newest first."</p>
        <form method="get" class="filters" data-testid="history-filters">
            <label>"Subject type" <input type="text" name="subjectType" value=move || f().subject_type prop:value=move || f().subject_type placeholder="team" /></label>
            <label>"Subject id" <input type="text" name="subjectId" value=move || f().subject_id prop:value=move || f().subject_id placeholder="acme" /></label>
            <label>
                "Type"
                <select name="type">
                    <option value="" selected=move || f().kind.is_empty()>"Any"</option>
                    {PaymentKind::ALL
                        .iter()
                        .map(|k| {
                            let v = k.as_str();
                            view! { <option value=v selected=move || f().kind == v>{k.label().to_owned()}</option> }
                        })
                        .collect_view()}
                </select>
            </label>
            <label>
                "Status"
                <select name="status">
                    <option value="" selected=move || f().status.is_empty()>"Any"</option>
                    {PaymentStatus::ALL
                        .iter()
                        .map(|s| {
                            let s = s.as_str();
                            view! { <option value=s selected=move || f().status == s>{s}</option> }
                        })
                        .collect_view()}
                </select>
            </label>
            <label>"Customer" <input type="text" name="customer" value=move || f().customer prop:value=move || f().customer placeholder="cus_…" /></label>
            <label>"Stripe id" <input type="text" name="object" value=move || f().object prop:value=move || f().object placeholder="pi_… in_… re_…" /></label>
            <label>"From" <input type="date" name="from" value=move || f().from prop:value=move || f().from /></label>
            <label>"To" <input type="date" name="to" value=move || f().to prop:value=move || f().to /></label>
            {move || {
                (limit.get() != DEFAULT_LIMIT).then(|| view! { <input type="hidden" name="limit" value=limit.get().to_string() /> })
            }}
            <ApplyFilters />
            <ClearFilters href="?" />
            <a href=csv_href class="button-secondary" download data-testid="csv-export">"Export CSV"</a>
        </form>
        <Suspense fallback=|| view! { <div class="skeleton history-summary-skeleton" aria-busy="true"></div> }>
            {move || Suspend::new(async move {
                match summary.await {
                    Err(e) => view! { <ErrorPanel error=e /> }.into_any(),
                    Ok(s) => view! { <SummaryView summary=s /> }.into_any(),
                }
            })}
        </Suspense>
        <Suspense fallback=|| view! { <TableSkeleton /> }>
            {move || Suspend::new(async move {
                match data.await {
                    Err(e) => view! { <ErrorPanel error=e /> }.into_any(),
                    Ok(listing) => {
                        let mut pairs = filters.get_untracked().pairs();
                        if limit.get_untracked() != DEFAULT_LIMIT {
                            pairs.push(("limit".into(), limit.get_untracked().to_string()));
                        }
                        view! {
                            <ListNotice notice=listing.notice />
                            <HistoryTable env=env.get_untracked() rows=listing.page.items testid="history-table" />
                            <Pager pairs on_first=cursor.get_untracked().is_none() next=listing.page.next_cursor />
                        }
                        .into_any()
                    }
                }
            })}
        </Suspense>
    }
    .into_any()
}

/// The chart of payments and refunds per day, and the counts per status.
#[component]
fn SummaryView(summary: HistorySummary) -> impl IntoView {
    let note = summary.truncated.then(|| {
        view! { <p class="muted">{format!("Counted the newest {} matching rows only.", summary.rows)}</p> }
    });
    view! {
        <section class="history-summary" aria-label="Summary">
            <div class="card chart-card">
                <h2>"Payments and refunds per day"</h2>
                <DayChart days=summary.days />
                {note}
            </div>
            <div class="card status-card">
                <h2>"By status"</h2>
                <table class="status-breakdown" data-testid="status-breakdown">
                    <tbody>
                        {summary.statuses.is_empty().then(|| view! { <tr><td class="muted">"No rows."</td></tr> })}
                        {summary
                            .statuses
                            .into_iter()
                            .map(|StatusCount { status: s, rows: n }| {
                                let key = s.to_string();
                                view! {
                                <tr data-status=key>
                                    <th scope="row"><StatusBadge status=&s /></th>
                                    <td class="num">{n}</td>
                                </tr>
                            }})
                            .collect_view()}
                    </tbody>
                </table>
            </div>
        </section>
    }
    .into_any()
}

/// Payments and refunds per day (the newest 60 days that have rows).
#[component]
fn DayChart(days: Vec<DayCount>) -> impl IntoView {
    let days = days.into_iter().map(|d| DayBar { date: d.date, first: d.payments, second: d.refunds }).collect();
    view! {
        <DayBars
            days
            names=("payments", "refunds")
            legend=("Payments and invoices", "Refunds")
            testid="history-chart"
            empty="No payments in this view."
        />
    }
}

/// Payment history rows.
#[component]
pub fn HistoryTable(
    env: Environment,
    rows: Vec<PaymentHistory>,
    testid: &'static str,
    /// What an empty table says.
    #[prop(default = "No payments match.")]
    empty_text: &'static str,
) -> impl IntoView {
    let empty = rows.is_empty();
    // Admins refund from the row; support sees no control (and the server refuses them).
    let admin = crate::ui::layout::use_user().role.can_write();
    let columns = if admin { "9" } else { "8" };
    let refunds = admin && rows.iter().any(|p| refundable(p).is_some() && p.stripe_payment_intent_id.is_some());
    // A row's refund form is opened by the page's address (`?refund=pi_…`): the links keep the
    // rest of it (filters, page), so a page loaded to open a form shows the same rows.
    let location = leptos_router::hooks::use_location();
    let path = location.pathname.get_untracked();
    let mut opened = None;
    let mut kept: Vec<(String, String)> = Vec::new();
    for (key, value) in location.query.get_untracked() {
        match key.as_ref() {
            "refund" => opened = Some(value),
            _ => kept.push((key.into_owned(), value)),
        }
    }
    let href = move |refund: Option<&str>| {
        let mut pairs: Vec<(&str, &str)> = kept.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        pairs.extend(refund.map(|pi| ("refund", pi)));
        format!("{path}{}", query_string(&pairs))
    };
    let close_href = href(None);
    let open_href = move |pi: &str| href(Some(pi));
    view! {
        <RefundScope env scope=refunds close_href=close_href.clone()>
            <table class="data-table" data-testid=testid>
                <thead>
                    <tr>
                        <th scope="col">"Date"</th>
                        <th scope="col">"Type"</th>
                        <th scope="col">"Status"</th>
                        <th scope="col" class="num">"Amount"</th>
                        <th scope="col" class="num">"Refunded"</th>
                        <th scope="col">"Customer"</th>
                        <th scope="col">"Subject"</th>
                        <th scope="col">"Reference"</th>
                        {admin.then(|| view! { <th scope="col"><span class="visually-hidden">"Actions"</span></th> })}
                    </tr>
                </thead>
                <tbody>
                    {empty.then(|| view! { <tr><td colspan=columns class="empty">{empty_text}</td></tr> })}
                    {rows
                        .into_iter()
                        .map(|p| {
                            let currency = p.currency.clone().unwrap_or_default();
                            let amount = p.amount.map(|a| money(a, &currency)).unwrap_or_else(|| "—".into());
                            let refunded = p
                                .amount_refunded
                                .filter(|a| *a > 0)
                                .map(|a| money(a, &currency))
                                .unwrap_or_else(|| "—".into());
                            let at = p.stripe_created_at.clone().unwrap_or_else(|| p.created_at.clone());
                            let kind = p.kind.label().to_owned();
                            let reference = p
                                .stripe_refund_id
                                .clone()
                                .or(p.stripe_invoice_id.clone())
                                .or(p.stripe_payment_intent_id.clone())
                                .or(p.stripe_checkout_session_id.clone())
                                .unwrap_or_default();
                            // The customer's page when the row names one; a guest's email otherwise.
                            let customer = match (p.stripe_customer_id.clone(), p.customer_email_snapshot.clone()) {
                                (Some(id), label) => view! { <super::customer::CustomerLink env id label /> }.into_any(),
                                (None, Some(email)) => view! { <span>{email}</span> }.into_any(),
                                (None, None) => view! { <span class="muted">"—"</span> }.into_any(),
                            };
                            view! {
                                <tr data-testid="history-row" data-type=p.kind.to_string() data-status=p.status.to_string()>
                                    <td class="nowrap"><Time iso=at /></td>
                                    <td>{kind}</td>
                                    <td><StatusBadge status=&p.status /></td>
                                    <td class="num">{amount}</td>
                                    <td class="num">{refunded}</td>
                                    <td>{customer}</td>
                                    <td><SubjectLink env subject_type=p.subject_type.clone() subject_id=p.subject_id.clone() /></td>
                                    <td><code>{reference}</code>
                                        {p.description.clone().map(|d| view! { <div class="muted small">{d}</div> })}
                                    </td>
                                    {admin.then(|| view! {
                                        <td>
                                            {refundable(&p).zip(p.stripe_payment_intent_id.clone()).map(|(left, pi)| {
                                                let open = opened.as_deref() == Some(pi.as_str());
                                                view! {
                                                    <RefundControl
                                                        env
                                                        open_href=open_href(&pi)
                                                        close_href=close_href.clone()
                                                        open
                                                        payment_intent_id=pi
                                                        currency=currency.clone()
                                                        left
                                                    />
                                                }
                                            })}
                                        </td>
                                    })}
                                </tr>
                            }
                            // Erased: the row's full view type is deeper than the compiler's
                            // query depth allows in the WASM build.
                            .into_any()
                        })
                        .collect_view()}
                </tbody>
            </table>
        </RefundScope>
    }
    .into_any()
}
