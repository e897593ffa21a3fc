//! The search box's answer (`/test/search?q=…`): ids, emails and subjects jump to their page,
//! other text lists the matching customers and products.

use super::customer::CustomerLink;
use super::customers::TableSkeleton;
use crate::environment::Environment;
use crate::error::AppError;
use crate::model::format::{money, query_string};
use crate::services::search::{SearchMatches, SearchOutcome};
use crate::ui::error::ErrorPanel;
use crate::ui::layout::use_env;
use crate::ui::resource::resource;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::Redirect;
use leptos_router::hooks::use_query_map;

/// Where a query leads. Any signed-in user.
#[server(prefix = "/api/console", endpoint = "support-search")]
pub async fn search(env: Environment, q: String) -> Result<SearchOutcome, AppError> {
    let user = crate::auth::ssr::require_reader()?;
    if q.len() > 500 {
        return Err(AppError::Invalid("Search for 500 characters at most.".into()));
    }
    crate::services::search::search(&crate::server::state::app_state().backend, &user, env, &q).await
}

/// A Stripe id, linked to the console page that shows its object (a customer's page, a
/// subscription, the history rows of a payment…) when there is one; plain otherwise.
#[component]
pub fn ObjectLink(env: Environment, id: String) -> impl IntoView {
    use crate::services::search::{direct_path, SearchQuery};
    match direct_path(env, &SearchQuery::classify(&id)) {
        Some(href) => view! { <a href=href data-testid="object-link"><code>{id}</code></a> }.into_any(),
        None => view! { <code>{id}</code> }.into_any(),
    }
}

/// The page.
#[component]
pub fn SearchPage() -> impl IntoView {
    let env = use_env();
    let query = use_query_map();
    let q = Memo::new(move |_| query.read().get("q").unwrap_or_default());
    let outcome = resource(move || (env.get(), q.get()), |(env, q)| search(env, q));
    view! {
        <Title text=move || format!("Search: {}", q.try_get().unwrap_or_default()) />
        <h1>"Search"</h1>
        <Suspense fallback=|| view! { <TableSkeleton /> }>
            {move || Suspend::new(async move {
                match outcome.await {
                    Err(e) => view! { <ErrorPanel error=e /> }.into_any(),
                    // On the server this answers with a redirect; after a client-side
                    // navigation, the router navigates.
                    Ok(SearchOutcome::Go(path)) => view! { <Redirect path /> }.into_any(),
                    Ok(SearchOutcome::Matches(m)) => {
                        view! { <Matches env=env.get_untracked() q=q.get_untracked() matches=m /> }.into_any()
                    }
                }
            })}
        </Suspense>
    }
    .into_any()
}

#[component]
fn Matches(env: Environment, q: String, matches: SearchMatches) -> impl IntoView {
    if q.trim().is_empty() {
        return view! {
            <p class="muted" data-testid="search-help">
                "Type an id (cus_, sub_, pi_, in_, ch_, re_, cs_, prod_, price_, evt_), an email, a subject like team:acme, or a name."
            </p>
        }
        .into_any();
    }
    let nothing = matches.customers.is_empty() && matches.products.is_empty();
    let all_customers = format!("/{env}/customers{}", query_string(&[("search", q.trim())]));
    view! {
        {matches.notice.map(|n| view! { <div class="notice" role="status"><p>{n}</p></div> })}
        {nothing.then(|| view! { <p data-testid="search-nothing">{format!("Nothing in {env} matches “{}”.", q.trim())}</p> })}
        {(!matches.customers.is_empty()).then(|| view! {
            <section class="subject-section" aria-labelledby="search-customers">
                <h2 id="search-customers">"Customers"</h2>
                <ul class="search-results" data-testid="search-customers">
                    {matches.customers.into_iter().map(|c| {
                        let label = c.email.clone().or(c.name.clone());
                        let spend = c.total_spend.zip(c.total_spend_currency.clone()).map(|(t, cur)| money(t, &cur));
                        view! {
                            <li>
                                <CustomerLink env id=c.stripe_customer_id.clone() label />
                                " " <code class="muted">{c.stripe_customer_id.clone()}</code>
                                {c.name.clone().filter(|_| c.email.is_some()).map(|n| view! { " · " {n} })}
                                {spend.map(|s| view! { " · " {s} })}
                            </li>
                        }
                    }).collect_view()}
                </ul>
                {matches.more_customers.then(|| view! { <p><a href=all_customers>"All matching customers →"</a></p> })}
            </section>
        })}
        {(!matches.products.is_empty()).then(|| view! {
            <section class="subject-section" aria-labelledby="search-products">
                <h2 id="search-products">"Products"</h2>
                <ul class="search-results" data-testid="search-products">
                    {matches.products.into_iter().map(|p| {
                        let href = format!("/{env}/catalog{}", query_string(&[("product", &p.stripe_product_id)]));
                        view! { <li><a href=href>{p.name.clone()}</a> " " <code class="muted">{p.stripe_product_id.clone()}</code></li> }
                    }).collect_view()}
                </ul>
            </section>
        })}
    }
    .into_any()
}
