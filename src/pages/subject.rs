//! Everything about one billing subject (`/test/subjects/team/acme`): mapping, subscriptions, payments, events.

use super::customers::{ListNotice, TableSkeleton};
use super::history::HistoryTable;
use super::subscriptions::SubscriptionsTable;
use super::webhooks::IgnoredReasonNote;
use crate::environment::Environment;
use crate::error::AppError;
use crate::model::format::{money, query_string};
pub use crate::services::subject::{MappedCustomer, SubjectData};
use crate::ui::error::ErrorPanel;
use crate::ui::layout::use_env;
use crate::ui::resource::resource;
use crate::ui::status::StatusBadge;
use crate::ui::time::Time;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;
use payments_model::WebhookEvent;

/// Everything about one billing subject. Any signed-in user.
#[server(prefix = "/api/console", endpoint = "support-subject")]
pub async fn load_subject(env: Environment, subject_type: String, subject_id: String) -> Result<SubjectData, AppError> {
    let user = crate::auth::ssr::require_reader()?;
    let backend = crate::server::state::app_state().backend;
    crate::services::subject::subject(&backend, &user, env, &subject_type, &subject_id).await
}

/// The page.
#[component]
pub fn SubjectPage() -> impl IntoView {
    let env = use_env();
    let params = use_params_map();
    let subject = Memo::new(move |_| {
        let p = params.read();
        (p.get("subject_type").unwrap_or_default(), p.get("subject_id").unwrap_or_default())
    });
    let data = resource(move || (env.get(), subject.get()), |(env, (t, i))| load_subject(env, t, i));
    let label = move || {
        let (t, i) = subject.get();
        format!("{t}:{i}")
    };
    view! {
        <Title text=move || format!("Subject {}", subject.try_get().map(|(t, i)| format!("{t}:{i}")).unwrap_or_default()) />
        <p class="breadcrumbs"><a href=move || format!("/{}/subscriptions", env.get())>"← Subscriptions"</a></p>
        <h1>"Subject " <code data-testid="subject-label">{label}</code></h1>
        <Suspense fallback=|| view! { <TableSkeleton /> }>
            {move || Suspend::new(async move {
                match data.await {
                    Err(e) => view! { <ErrorPanel error=e /> }.into_any(),
                    Ok(d) => {
                        let (t, i) = subject.get_untracked();
                        view! { <SubjectBody env=env.get_untracked() subject_type=t subject_id=i data=d /> }.into_any()
                    }
                }
            })}
        </Suspense>
    }
    .into_any()
}

#[component]
fn SubjectBody(env: Environment, subject_type: String, subject_id: String, data: SubjectData) -> impl IntoView {
    let filter = [("subjectType", subject_type.as_str()), ("subjectId", subject_id.as_str())];
    let subs_href = format!("/{env}/subscriptions{}", query_string(&filter));
    let history_href = format!("/{env}/history{}", query_string(&filter));
    let nothing = data.subscriptions.is_empty() && data.payments.is_empty() && data.refunds.is_empty();
    view! {
        <ListNotice notice=data.notice />
        {nothing.then(|| view! {
            <div class="notice" role="status"><p>"Nothing is recorded for this subject in this environment."</p></div>
        })}
        <section class="subject-section" aria-labelledby="subject-customers">
            <h2 id="subject-customers">"Customers"</h2>
            <CustomerMapping env customers=data.customers />
        </section>
        <section class="subject-section" aria-labelledby="subject-subscriptions">
            <h2 id="subject-subscriptions">"Subscriptions"</h2>
            <SubscriptionsTable env rows=data.subscriptions labels=data.labels />
            {data.subscriptions_more.then(|| view! { <p><a href=subs_href.clone()>"All subscriptions of this subject →"</a></p> })}
        </section>
        <section class="subject-section" aria-labelledby="subject-payments">
            <h2 id="subject-payments">"Payments"</h2>
            <HistoryTable env rows=data.payments testid="subject-payments" empty_text="No payments recorded for this subject." />
        </section>
        <section class="subject-section" aria-labelledby="subject-refunds">
            <h2 id="subject-refunds">"Refunds"</h2>
            <HistoryTable env rows=data.refunds testid="subject-refunds" empty_text="No refunds." />
            <p><a href=history_href>"Full payment history of this subject →"</a></p>
        </section>
        <section class="subject-section" aria-labelledby="subject-events">
            <h2 id="subject-events">"Recent webhook events"</h2>
            <EventsTable env events=data.events />
        </section>
    }
    .into_any()
}

#[component]
fn CustomerMapping(env: Environment, customers: Vec<MappedCustomer>) -> impl IntoView {
    if customers.is_empty() {
        return view! { <p class="muted">"No customer is mapped to this subject."</p> }.into_any();
    }
    view! {
        <table class="data-table" data-testid="subject-customers">
            <thead>
                <tr>
                    <th scope="col">"Customer"</th>
                    <th scope="col">"Email"</th>
                    <th scope="col">"Name"</th>
                    <th scope="col" class="num">"Total spend"</th>
                    <th scope="col">"Seen on"</th>
                </tr>
            </thead>
            <tbody>
                {customers
                    .into_iter()
                    .map(|c| {
                        let href = super::customer::customer_path(env, &c.id);
                        let seen = match (c.via_subscriptions, c.via_payments) {
                            (true, true) => "subscriptions, payments",
                            (true, false) => "subscriptions",
                            _ => "payments",
                        };
                        let d = c.details.clone();
                        let spend = d
                            .as_ref()
                            .and_then(|d| d.total_spend.zip(d.total_spend_currency.clone()))
                            .map(|(t, cur)| money(t, &cur))
                            .unwrap_or_else(|| "—".into());
                        view! {
                            <tr data-testid="subject-customer">
                                <td>
                                    <a href=href><code>{c.id.clone()}</code></a>
                                    {d.as_ref().is_some_and(|d| d.deleted).then(|| view! { " " <span class="badge badge-danger">"deleted"</span> })}
                                </td>
                                <td>{d.as_ref().and_then(|d| d.email.clone()).unwrap_or_else(|| "—".into())}</td>
                                <td>{d.as_ref().and_then(|d| d.name.clone()).unwrap_or_else(|| "—".into())}</td>
                                <td class="num">{spend}</td>
                                <td>{seen}</td>
                            </tr>
                        }
                    })
                    .collect_view()}
            </tbody>
        </table>
    }
    .into_any()
}

/// Recent webhook events about a page's objects; a notice when the backend keeps no log.
#[component]
pub fn EventsTable(
    env: Environment,
    events: Option<Vec<WebhookEvent>>,
    /// What an empty list says.
    #[prop(default = "No events received about this subject's subscriptions or customers.")]
    empty_text: &'static str,
) -> impl IntoView {
    let Some(events) = events else {
        return view! {
            <div class="notice" role="status" data-testid="events-unsupported">
                <p>"Unsupported: the remote payments backend keeps no webhook event log, so events cannot be shown here."</p>
            </div>
        }
        .into_any();
    };
    if events.is_empty() {
        return view! { <p class="muted" data-testid="subject-events">{empty_text}</p> }.into_any();
    }
    view! {
        <table class="data-table" data-testid="subject-events">
            <thead>
                <tr>
                    <th scope="col">"Received"</th>
                    <th scope="col">"Event"</th>
                    <th scope="col">"Object"</th>
                    <th scope="col">"Processing"</th>
                </tr>
            </thead>
            <tbody>
                {events
                    .into_iter()
                    .map(|e| {
                        view! {
                            <tr>
                                <td class="nowrap"><Time iso=e.received_at.clone() /></td>
                                <td><code>{e.event_type.clone()}</code> <div class="muted small">{e.stripe_event_id.clone()}</div></td>
                                <td>{e.object_id.clone().map(|id| view! { <super::search::ObjectLink env id /> })}</td>
                                <td>
                                    <StatusBadge status=&e.processing_status />
                                    {e.last_error.clone().map(|m| view! { <div class="error-text small">{m}</div> })}
                                    <IgnoredReasonNote event=e />
                                </td>
                            </tr>
                        }
                    })
                    .collect_view()}
            </tbody>
        </table>
    }
    .into_any()
}
