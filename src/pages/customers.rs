//! Customers, server-side paginated and searchable, with spend, payment count and last payment.
//!
//! Also the pieces the support pages share: the list answer with its fallback notice, the
//! page-size parameter, the pager and the loading skeleton.

use crate::environment::Environment;
use crate::error::AppError;
use crate::model::format::{money, query_string};
use crate::services::listing::Listing;
use crate::ui::error::ErrorPanel;
use crate::ui::filters::{ApplyFilters, ClearFilters};
use crate::ui::layout::use_env;
use crate::ui::resource::resource;
use crate::ui::time::TimeOr;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;
use payments_model::{Cursor, CustomerListItem};

/// Rows per page when the URL does not say (`?limit=`, 1..=100).
pub const DEFAULT_LIMIT: u32 = 25;

/// The `limit` of the URL, clamped to what the backend accepts.
pub fn url_limit(raw: Option<String>) -> u32 {
    raw.and_then(|l| l.trim().parse::<u32>().ok()).map_or(DEFAULT_LIMIT, |l| l.clamp(1, 100))
}

/// A page of customers matching `search` (email, name or id), after `cursor`. Any signed-in user.
#[server(prefix = "/api/console", endpoint = "support-customers")]
pub async fn list_customers(
    env: Environment,
    search: String,
    cursor: Option<Cursor>,
    limit: u32,
) -> Result<Listing<CustomerListItem>, AppError> {
    use crate::backend::ListQuery;
    let user = crate::auth::ssr::require_reader()?;
    let backend = crate::server::state::app_state().backend;
    let mut q = ListQuery::<payments_model::CustomerListFilters> {
        limit: Some(limit.clamp(1, 100)),
        cursor: payments_model::Paging::from_cursor(cursor),
        ..Default::default()
    };
    if !search.trim().is_empty() {
        q.filters.search = Some(search.trim().to_owned());
    }
    crate::services::listing::list_with_fallback(q, |q| {
        let (backend, user) = (backend.clone(), user.clone());
        async move { backend.customers(&user, env, &q).await }
    })
    .await
}

/// Keeps the layout while a table loads.
#[component]
pub fn TableSkeleton() -> impl IntoView {
    view! { <div class="skeleton support-skeleton" aria-busy="true">"Loading…"</div> }
}

/// "Unsupported" and similar notices above a list.
#[component]
pub fn ListNotice(notice: Option<String>) -> impl IntoView {
    notice.map(|n| {
        view! {
            <div class="notice" role="status" data-testid="unsupported-notice">
                <p>{n}</p>
            </div>
        }
    })
}

/// First-page and next-page links that keep the filters (`pairs`) of the view.
#[component]
pub fn Pager(pairs: Vec<(String, String)>, on_first: bool, next: Option<Cursor>) -> impl IntoView {
    let link = move |cursor: Option<&str>| {
        let mut all: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        if let Some(c) = cursor {
            all.push(("cursor", c));
        }
        let qs = query_string(&all);
        if qs.is_empty() {
            "?".to_string()
        } else {
            qs
        }
    };
    view! {
        <nav class="pager" aria-label="Pages">
            {(!on_first).then(|| view! { <a href=link(None) data-testid="first-page">"← First page"</a> })}
            {next.map(|c| view! { <a href=link(Some(c.as_str())) rel="next" data-testid="next-page">"Next page →"</a> })}
        </nav>
    }
}

/// The page.
#[component]
pub fn CustomersPage() -> impl IntoView {
    let env = use_env();
    let query = use_query_map();
    let search = Memo::new(move |_| query.read().get("search").unwrap_or_default());
    let cursor = Memo::new(move |_| query.read().get("cursor").and_then(Cursor::new));
    let limit = Memo::new(move |_| url_limit(query.read().get("limit")));
    let data = resource(
        move || (env.get(), search.get(), cursor.get(), limit.get()),
        |(env, search, cursor, limit)| list_customers(env, search, cursor, limit),
    );
    view! {
        <Title text="Customers" />
        <h1>"Customers"</h1>
        <p class="muted">"Customers mirrored from Stripe, with what they have paid. Search by email, name or customer id."</p>
        <form method="get" class="filters" role="search" data-testid="customer-filters">
            <label>
                "Search"
                <input type="search" name="search" value=move || search.get() prop:value=move || search.get() placeholder="email, name or cus_…" />
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
                    Ok(listing) => {
                        let mut pairs = vec![("search".to_string(), search.get_untracked())];
                        if limit.get_untracked() != DEFAULT_LIMIT {
                            pairs.push(("limit".into(), limit.get_untracked().to_string()));
                        }
                        let env = env.get_untracked();
                        view! {
                            <ListNotice notice=listing.notice />
                            <CustomersTable env rows=listing.page.items />
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

#[component]
fn CustomersTable(env: Environment, rows: Vec<CustomerListItem>) -> impl IntoView {
    let empty = rows.is_empty();
    view! {
        <div class="table-scroll">
            <table class="data-table" data-testid="customers-table">
                <thead>
                    <tr>
                        <th scope="col">"Customer"</th>
                        <th scope="col">"Email"</th>
                        <th scope="col">"Name"</th>
                        <th scope="col" class="num">"Total spend"</th>
                        <th scope="col" class="num">"Payments"</th>
                        <th scope="col">"Last payment"</th>
                        <th scope="col">"Card"</th>
                        <th scope="col">"Links"</th>
                    </tr>
                </thead>
                <tbody>
                    {empty.then(|| view! { <tr><td colspan="8" class="empty">"No customers match."</td></tr> })}
                    {rows
                        .into_iter()
                        .map(|c| {
                            let spend = match (c.total_spend, c.total_spend_currency.as_deref()) {
                                (Some(0), None) => "—".to_string(),
                                (Some(total), Some(cur)) => money(total, cur),
                                (Some(total), None) => total.to_string(),
                                (None, _) => "mixed currencies".to_string(),
                            };
                            let card = match (&c.payment_method_brand, &c.payment_method_last4) {
                                (Some(b), Some(l)) => format!("{b} ···· {l}"),
                                _ => "—".into(),
                            };
                            let subs = format!("/{env}/subscriptions{}", query_string(&[("customer", &c.stripe_customer_id)]));
                            let payments = format!("/{env}/history{}", query_string(&[("customer", &c.stripe_customer_id)]));
                            view! {
                                <tr class:deleted-row=c.deleted data-testid="customer-row">
                                    <td>
                                        <super::customer::CustomerLink env id=c.stripe_customer_id.clone() />
                                        {c.deleted.then(|| view! { " " <span class="badge badge-danger">"deleted"</span> })}
                                    </td>
                                    <td>{c.email.clone().unwrap_or_else(|| "—".into())}</td>
                                    <td>{c.name.clone().unwrap_or_else(|| "—".into())}</td>
                                    <td class="num" data-testid="customer-spend">{spend}</td>
                                    <td class="num">{c.payments_count}</td>
                                    <td class="nowrap"><TimeOr iso=c.last_payment_at.clone() none="—" /></td>
                                    <td class="nowrap">{card}</td>
                                    <td class="nowrap">
                                        <a href=subs>"Subscriptions"</a>
                                        " · "
                                        <a href=payments>"Payments"</a>
                                    </td>
                                </tr>
                            }
                        })
                        .collect_view()}
                </tbody>
            </table>
        </div>
    }
    .into_any()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_are_clamped() {
        assert_eq!(url_limit(None), DEFAULT_LIMIT);
        assert_eq!(url_limit(Some("2".into())), 2);
        assert_eq!(url_limit(Some("500".into())), 100);
        assert_eq!(url_limit(Some("0".into())), 1);
        assert_eq!(url_limit(Some("x".into())), DEFAULT_LIMIT);
    }
}
