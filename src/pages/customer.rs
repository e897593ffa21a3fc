//! One customer (`/test/customers/cus_…`): identity, billing subjects, subscriptions, payments,
//! refunds, the card on file, recent events and links to Stripe's own page.

use super::customers::TableSkeleton;
use super::history::HistoryTable;
use super::subject::EventsTable;
use super::subscriptions::SubscriptionsTable;
use crate::environment::Environment;
use crate::error::AppError;
use crate::model::format::{money, query_string, url_encode};
use crate::services::customer::CustomerData;
use crate::ui::error::ErrorPanel;
use crate::ui::layout::use_env;
use crate::ui::resource::resource;
use crate::ui::time::TimeOr;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;
use payments_model::CustomerListItem;

/// Everything about one customer. Any signed-in user.
#[server(prefix = "/api/console", endpoint = "support-customer")]
pub async fn load_customer(env: Environment, id: String) -> Result<CustomerData, AppError> {
    let user = crate::auth::ssr::require_reader()?;
    let id = id.trim();
    if !id.starts_with("cus_") {
        return Err(AppError::Invalid("A customer id starts with cus_.".into()));
    }
    crate::services::customer::load(&crate::server::state::app_state().backend, &user, env, id).await
}

/// The console's page of a customer.
pub fn customer_path(env: Environment, id: &str) -> String {
    format!("/{env}/customers/{}", url_encode(id))
}

/// A customer id linking to its page, labelled with `label` (its email, say) or the id.
#[component]
pub fn CustomerLink(env: Environment, id: String, #[prop(optional_no_strip)] label: Option<String>) -> impl IntoView {
    let href = customer_path(env, &id);
    match label {
        Some(label) => view! { <a href=href data-testid="customer-link" title=id>{label}</a> }.into_any(),
        None => view! { <a href=href data-testid="customer-link"><code>{id}</code></a> }.into_any(),
    }
}

/// Stripe Dashboard's page of an object (`customers`, `subscriptions`, `payments`…).
pub fn stripe_dashboard_url(env: Environment, collection: &str, id: &str) -> String {
    let mode = match env {
        Environment::Test => "test/",
        Environment::Live => "",
    };
    format!("https://dashboard.stripe.com/{mode}{collection}/{}", url_encode(id))
}

/// The page.
#[component]
pub fn CustomerPage() -> impl IntoView {
    let env = use_env();
    let params = use_params_map();
    let id = Memo::new(move |_| params.read().get("id").unwrap_or_default());
    let data = resource(move || (env.get(), id.get()), |(env, id)| load_customer(env, id));
    view! {
        <Title text=move || format!("Customer {}", id.try_get().unwrap_or_default()) />
        <p class="breadcrumbs"><a href=move || format!("/{}/customers", env.get())>"← Customers"</a></p>
        <Suspense fallback=|| view! { <TableSkeleton /> }>
            {move || Suspend::new(async move {
                match data.await {
                    Err(e) => view! { <h1>"Customer " <code>{id.get_untracked()}</code></h1> <ErrorPanel error=e /> }.into_any(),
                    Ok(d) => view! { <CustomerBody env=env.get_untracked() id=id.get_untracked() data=d /> }.into_any(),
                }
            })}
        </Suspense>
    }
    .into_any()
}

#[component]
fn CustomerBody(env: Environment, id: String, data: CustomerData) -> impl IntoView {
    let stripe_href = stripe_dashboard_url(env, "customers", &id);
    let history_href = format!("/{env}/history{}", query_string(&[("customer", &id)]));
    let subs_href = format!("/{env}/subscriptions{}", query_string(&[("customer", &id)]));
    let heading = data
        .customer
        .as_ref()
        .and_then(|c| c.name.clone().or(c.email.clone()))
        .unwrap_or_else(|| "Customer".to_owned());
    let missing = data.customer.is_none().then(|| {
        view! {
            <div class="notice" role="status" data-testid="customer-missing">
                <p>{format!("No customer {id} is mirrored in {env}. It may belong to the other environment, or the last sync predates it.")}</p>
            </div>
        }
    });
    let unsupported = (data.subscriptions.is_none() || data.payments.is_none()).then(|| {
        view! {
            <div class="notice" role="status" data-testid="unsupported-notice">
                <p>"Unsupported: the remote payments backend cannot filter subscriptions and payments by customer."</p>
            </div>
        }
    });
    view! {
        <h1 data-testid="customer-heading">{heading} " " <code class="muted">{id.clone()}</code></h1>
        <p><a href=stripe_href target="_blank" rel="noopener noreferrer" data-testid="stripe-link">"Open in Stripe ↗"</a></p>
        {missing}
        {unsupported}
        {data.customer.map(|c| view! { <Identity customer=c /> })}
        <section class="subject-section" aria-labelledby="customer-subjects">
            <h2 id="customer-subjects">"Billing subjects"</h2>
            {if data.subjects.is_empty() {
                view! { <p class="muted">"No billing subject is recorded on its subscriptions or payments."</p> }.into_any()
            } else {
                view! {
                    <ul class="chips" data-testid="customer-subjects">
                        {data.subjects.into_iter().map(|s| {
                            let href = format!("/{env}/subjects/{}/{}", url_encode(&s.subject_type), url_encode(&s.subject_id));
                            view! { <li><a href=href data-testid="subject-link">{format!("{}:{}", s.subject_type, s.subject_id)}</a></li> }
                        }).collect_view()}
                    </ul>
                }.into_any()
            }}
        </section>
        <section class="subject-section" aria-labelledby="customer-subscriptions">
            <h2 id="customer-subscriptions">"Subscriptions"</h2>
            {data.subscriptions.map(|rows| view! { <SubscriptionsTable env rows labels=data.labels /> })}
            {data.subscriptions_more.then(|| view! { <p><a href=subs_href.clone()>"All subscriptions of this customer →"</a></p> })}
        </section>
        <section class="subject-section" aria-labelledby="customer-payments">
            <h2 id="customer-payments">"Payments and invoices"</h2>
            {data.payments.map(|rows| view! {
                <HistoryTable env rows testid="customer-payments" empty_text="No payments recorded for this customer." />
            })}
        </section>
        <section class="subject-section" aria-labelledby="customer-refunds">
            <h2 id="customer-refunds">"Refunds"</h2>
            <HistoryTable env rows=data.refunds testid="customer-refunds" empty_text="No refunds." />
            <p>
                <a href=history_href>{if data.history_more { "Full payment history of this customer →" } else { "Payment history of this customer →" }}</a>
            </p>
        </section>
        <section class="subject-section" aria-labelledby="customer-events">
            <h2 id="customer-events">"Recent webhook events"</h2>
            <EventsTable env events=data.events empty_text="No events received about this customer or its objects." />
        </section>
    }
    .into_any()
}

/// Who the customer is, the card on file and what they have paid.
#[component]
fn Identity(customer: CustomerListItem) -> impl IntoView {
    let dash = || "—".to_owned();
    let card = match (&customer.payment_method_brand, &customer.payment_method_last4) {
        (Some(brand), Some(last4)) => {
            let expiry = customer
                .payment_method_exp_month
                .zip(customer.payment_method_exp_year)
                .map(|(m, y)| format!(", expires {m:02}/{y}"))
                .unwrap_or_default();
            format!("{} •••• {last4}{expiry}", capitalise(brand))
        }
        _ => "None on file".to_owned(),
    };
    let spend = match (customer.total_spend, &customer.total_spend_currency) {
        (Some(total), Some(currency)) => money(total, currency),
        (Some(0), None) => "Nothing yet".to_owned(),
        _ => "Several currencies".to_owned(),
    };
    view! {
        <dl class="detail-list" data-testid="customer-identity">
            <dt>"Email"</dt><dd>{customer.email.clone().unwrap_or_else(dash)}</dd>
            <dt>"Name"</dt><dd>{customer.name.clone().unwrap_or_else(dash)}</dd>
            <dt>"Phone"</dt><dd>{customer.phone.clone().unwrap_or_else(dash)}</dd>
            <dt>"Country"</dt><dd>{customer.country_code.clone().unwrap_or_else(dash)}</dd>
            <dt>"Default payment method"</dt><dd data-testid="customer-card">{card}</dd>
            <dt>"Total spend"</dt><dd>{spend} {format!(" · {} payments", customer.payments_count)}</dd>
            <dt>"Last payment"</dt><dd><TimeOr iso=customer.last_payment_at.clone() none="—" /></dd>
            <dt>"Created in Stripe"</dt><dd><TimeOr iso=customer.stripe_created_at.clone() none="—" /></dd>
            <dt>"Status"</dt>
            <dd>{if customer.deleted {
                view! { <span class="badge badge-danger">"deleted in Stripe"</span> }.into_any()
            } else {
                view! { <span class="badge badge-ok">"active"</span> }.into_any()
            }}</dd>
            {(!customer.metadata.is_empty()).then(|| view! {
                <dt>"Metadata"</dt>
                <dd>{customer.metadata.iter().map(|(k, v)| view! { <div><code>{k.clone()}</code>" = "{v.clone()}</div> }).collect_view()}</dd>
            })}
        </dl>
    }
}

/// `visa` → `Visa`.
fn capitalise(s: &str) -> String {
    let mut chars = s.chars();
    chars.next().map(|c| c.to_uppercase().chain(chars).collect()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stripe_links_follow_the_environment() {
        assert_eq!(
            stripe_dashboard_url(Environment::Test, "customers", "cus_1"),
            "https://dashboard.stripe.com/test/customers/cus_1"
        );
        assert_eq!(
            stripe_dashboard_url(Environment::Live, "payments", "pi_1"),
            "https://dashboard.stripe.com/payments/pi_1"
        );
        assert_eq!(capitalise("visa"), "Visa");
    }
}
