//! The managed Stripe webhook endpoint (admins configure, support reads) and the event log with re-processing.
//!
//! Filters and the page cursor live in the URL (`?status=failed&type=invoice.paid&cursor=…`), so a
//! view of the log survives a reload and can be pasted to a colleague.

use crate::backend::Connection;
use crate::environment::Environment;
use crate::error::AppError;
#[cfg(feature = "ssr")]
use crate::model::format::query_string;
use crate::pages::lazy::{EditingIsland, EditingPage};
use crate::ui::enhance::{Confirmation, EnhancedForm, PageForms};
#[cfg(feature = "ssr")]
use crate::ui::error::ErrorPanel;
use crate::ui::filters::{ApplyFilters, ClearFilters};
use crate::ui::islands::use_page_query;
use crate::ui::layout::{use_env, use_user};
use crate::ui::resource::resource;
#[cfg(feature = "ssr")]
use crate::ui::time::Time;
use crate::ui::time::TimeOr;
use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_meta::Title;
use payments_model::{Cursor, IgnoredReason, Page, ProcessingStatus, WebhookEvent, WebhookResponse};
use serde::{Deserialize, Serialize};

/// The managed endpoint of an environment.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EndpointDetails {
    /// The environment's connection (endpoint id, URL, configured at).
    pub connection: Option<Connection>,
    /// The event types the managed endpoint subscribes to.
    pub events: Vec<String>,
}

/// The environment's managed webhook endpoint. Any signed-in user.
#[server(prefix = "/api/console", endpoint = "webhook-endpoint")]
pub async fn webhook_endpoint_details(environment: Environment) -> Result<EndpointDetails, AppError> {
    let user = crate::auth::ssr::require_reader()?;
    let state = crate::server::state::app_state();
    let connections = state.backend.status(&user).await?;
    Ok(EndpointDetails {
        connection: connections.into_iter().find(|c| c.environment == environment),
        events: payments_engine::MANAGED_WEBHOOK_EVENTS.iter().map(|e| (*e).to_owned()).collect(),
    })
}

/// Creates (or recreates) the managed endpoint in Stripe. Admins only.
#[server(prefix = "/api/console", endpoint = "webhook-configure")]
pub async fn configure_managed_webhook(environment: Environment) -> Result<Connection, AppError> {
    let user = crate::auth::ssr::require_admin()?;
    let state = crate::server::state::app_state();
    Ok(state.backend.configure_webhook(&user, environment).await?.connection)
}

/// A page of received events, newest first. Any signed-in user.
#[server(prefix = "/api/console", endpoint = "webhook-events")]
pub async fn list_webhook_events(
    environment: Environment,
    status: Option<String>,
    event_type: Option<String>,
    cursor: Option<Cursor>,
    /// One event by its `evt_…` id (the search box's target).
    #[server(default)]
    event_id: Option<String>,
) -> Result<Page<WebhookEvent>, AppError> {
    let user = crate::auth::ssr::require_reader()?;
    let state = crate::server::state::app_state();
    let mut q = crate::backend::ListQuery::<payments_model::EventListFilters> {
        limit: Some(25),
        cursor: payments_model::Paging::from_cursor(cursor),
        ..Default::default()
    };
    q.filters.status = status.filter(|s| !s.trim().is_empty()).map(payments_model::ProcessingStatus::from);
    q.filters.event_type = event_type.filter(|t| !t.trim().is_empty());
    q.filters.id = event_id.filter(|id| !id.trim().is_empty()).map(|id| id.trim().to_owned());
    state.backend.webhook_events(&user, environment, &q).await.map_err(AppError::from)
}

/// Processes a stored event again. Admins only.
#[server(prefix = "/api/console", endpoint = "webhook-reprocess")]
pub async fn reprocess_webhook_event(environment: Environment, event_id: String) -> Result<WebhookResponse, AppError> {
    let user = crate::auth::ssr::require_admin()?;
    let state = crate::server::state::app_state();
    state.backend.reprocess_event(&user, environment, &event_id).await.map_err(AppError::from)
}

/// The badge class of a processing status.
#[cfg(feature = "ssr")]
fn status_badge(status: &ProcessingStatus) -> &'static str {
    match status {
        ProcessingStatus::Processed => "badge badge-ok",
        ProcessingStatus::Failed => "badge badge-danger",
        ProcessingStatus::Pending => "badge badge-warn",
        ProcessingStatus::Ignored | ProcessingStatus::Unknown(_) => "badge",
    }
}

/// Why an ignored event changed nothing, in words for support staff: "ignored" alone reads like a
/// failure, while most such events are handled through another event of the same payment.
pub fn ignored_reason_text(reason: Option<IgnoredReason>) -> &'static str {
    match reason {
        Some(IgnoredReason::HandledElsewhere) => {
            "Handled through invoice.paid or checkout.session.completed: the console records this payment from its invoice or checkout session."
        }
        Some(IgnoredReason::NothingToChange) => {
            "Nothing to change: the console already had this state or a newer one, or does not keep this object."
        }
        Some(IgnoredReason::NoObject) => "Nothing to record: the event carries no object.",
        Some(IgnoredReason::UnhandledType) => "Not needed: the console does not record this event type.",
        None => "Changed nothing; no reason was recorded for this event.",
    }
}

/// The reason under an ignored event's status badge (nothing for other statuses).
#[component]
pub fn IgnoredReasonNote(event: WebhookEvent) -> impl IntoView {
    (event.processing_status == ProcessingStatus::Ignored).then(|| {
        view! { <div class="muted small event-reason" data-testid="event-reason">{ignored_reason_text(event.ignored_reason)}</div> }
    })
}

/// The page.
#[component]
pub fn WebhooksPage() -> impl IntoView {
    view! {
        <Title text="Webhooks" />
        <EditingIsland page=EditingPage::Webhooks />
    }
}

/// The page's body, the server's HTML for everyone (`crate::pages::lazy::EditingPage`):
/// its filters are a GET form and its pager links, and an admin's controls (configure the
/// endpoint, paste a signing secret, re-process an event) are forms that the page's one small
/// island confirms and sends ([`PageForms`]), after which the page is read again. So the page
/// downloads and hydrates no more than a reading page (issue #13).
#[component]
pub(crate) fn WebhooksBody() -> impl IntoView {
    let env = use_env().get_untracked();
    let can_write = use_user().role.can_write();
    let query = use_page_query().0;
    let status = query.get("status").unwrap_or_default();
    let event_type = query.get("type").unwrap_or_default();
    let cursor = query.get("cursor").and_then(Cursor::new);
    let event_id = query.get("id").unwrap_or_default();
    let endpoint = resource(move || env, webhook_endpoint_details);
    let filtered = !status.is_empty() || !event_type.is_empty();

    view! {
        <h1>"Webhooks"</h1>
        <p class="muted">
            "Stripe sends changes to the console's managed endpoint; every event received is logged below with how it was processed."
        </p>

        <Transition fallback=|| view! { <div class="skeleton endpoint-skeleton" aria-busy="true"></div> }>
            {move || Suspend::new(async move {
                let details = endpoint.await?;
                Ok::<_, AppError>(view! { <EndpointCard details can_write env /> })
            })}
        </Transition>

        <crate::pages::forwarding::ForwardingPanel />

        <section class="event-log" aria-labelledby="event-log-title">
            <h2 id="event-log-title">"Event log"</h2>
            {(!event_id.is_empty()).then(|| view! {
                <p class="notice" role="status" data-testid="event-id-filter">
                    "Showing event " <code>{event_id.clone()}</code> " only · "
                    <a href=format!("/{env}/webhooks")>"Show all events"</a>
                </p>
            })}
            // A plain GET without JavaScript; with it, empty filters stay out of the address.
            <form class="filters" method="get" data-drop-empty="" data-testid="event-filters">
                <div class="filter">
                    <label for="event-filter-status">"Status"</label>
                    <select id="event-filter-status" name="status" autocomplete="off" data-testid="filter-status">
                        <option value="" selected=status.is_empty()>"Any"</option>
                        {ProcessingStatus::ALL
                            .iter()
                            .map(|s| {
                                let s = s.as_str();
                                view! { <option value=s selected=status == s>{s}</option> }
                            })
                            .collect_view()}
                    </select>
                </div>
                <div class="filter">
                    <label for="event-filter-type">"Event type"</label>
                    <input
                        id="event-filter-type"
                        type="text"
                        name="type"
                        placeholder="invoice.paid"
                        autocomplete="off"
                        data-testid="filter-type"
                        value=event_type.clone()
                    />
                </div>
                <ApplyFilters />
                {filtered.then(|| view! { <ClearFilters href=Signal::stored(format!("/{env}/webhooks")) /> })}
            </form>
            <div class="event-log-rows">
                <ServerRows env status event_type cursor event_id can_write />
            </div>
        </section>
        <PageForms />
    }
}

/// The managed endpoint's details, with the (re)configure button for admins.
#[component]
fn EndpointCard(details: EndpointDetails, can_write: bool, env: Environment) -> impl IntoView {
    let c = details.connection;
    let id = c.as_ref().and_then(|c| c.webhook_endpoint_id.clone());
    let configured = id.is_some();
    let has_key = c.as_ref().is_some_and(|c| c.masked_key.is_some());
    let url = c.as_ref().and_then(|c| c.webhook_endpoint_url.clone());
    let at = c.as_ref().and_then(|c| c.webhook_configured_at.clone());
    let events = details.events;
    let count = events.len();
    view! {
        <section class="card endpoint-card" aria-label="Managed endpoint" data-testid="endpoint-card">
            <dl class="endpoint-facts">
                <dt>"Endpoint"</dt>
                <dd>
                    <code data-testid="endpoint-id">{id.unwrap_or_else(|| "not configured".into())}</code>
                    // A space, not only the badge's margin: otherwise the id and the badge read
                    // (and copy) as one word.
                    " "
                    {if configured {
                        view! { <span class="badge badge-ok endpoint-badge">"configured"</span> }.into_any()
                    } else {
                        view! { <span class="badge badge-danger endpoint-badge">"missing"</span> }.into_any()
                    }}
                </dd>
                <dt>"URL"</dt>
                <dd data-testid="endpoint-url">{url.unwrap_or_else(|| "—".into())}</dd>
                <dt>"Configured at"</dt>
                <dd data-testid="endpoint-configured-at"><TimeOr iso=at none="—" /></dd>
                <dt>"Events"</dt>
                <dd>
                    <details>
                        <summary>{format!("The managed set ({count} event types)")}</summary>
                        <ul class="event-types">
                            {events.into_iter().map(|e| view! { <li><code>{e}</code></li> }).collect_view()}
                        </ul>
                    </details>
                </dd>
            </dl>
            {(!configured).then(|| view! {
                <p class="field-hint">"Without an endpoint, changes made in Stripe do not reach the console."</p>
            })}
            {can_write.then(|| {
                let confirm = Confirmation {
                    title: format!("Configure the {} webhook endpoint?", env.label().to_lowercase()),
                    message: format!(
                        "The console creates its managed endpoint in the {} Stripe account (replacing the previous one) with a new signing secret. Events Stripe sends in between may need a re-sync.",
                        env.label().to_lowercase()
                    ),
                    label: "Configure endpoint".to_owned(),
                    destructive: false,
                };
                view! {
                    <EnhancedForm
                        action=ConfigureManagedWebhook::url()
                        done="Webhook endpoint configured: Stripe now sends the managed set of events to it."
                        failed="The webhook endpoint was not configured"
                        confirm
                    >
                        <input type="hidden" name="environment" value=env.as_str() />
                        <button
                            type="submit"
                            class="button-primary"
                            data-testid="configure-webhook"
                            // Enabled by the page's island, which asks first; never without a key.
                            disabled=true
                            data-needs-js=has_key.then_some("")
                            title=(!has_key).then_some("Set a secret key first")
                        >
                            {if configured { "Reconfigure endpoint" } else { "Configure endpoint" }}
                        </button>
                    </EnhancedForm>
                }
            })}
        </section>
    }
}

/// A page of the event log, rendered on the server only: nothing of it is sent to the browser
/// but its HTML. The time-zone switch rewrites its times as on any server-rendered page.
#[component]
fn ServerRows(
    env: Environment,
    status: String,
    event_type: String,
    cursor: Option<Cursor>,
    event_id: String,
    can_write: bool,
) -> impl IntoView {
    #[cfg(feature = "ssr")]
    {
        let paged = cursor.is_some();
        let (s, t) = (status.clone(), event_type.clone());
        // A task rather than a resource: nothing of it is sent to the browser. It must run as a
        // task of its own, as a resource's does: a future polled in place by the `Suspend` is
        // polled once in the render's first pass, which starts its wait for a database
        // connection, and then not until the page's other resources are in, so concurrent loads
        // held connections each other needed (084658a; `hardening.rs`'s forty-loads test).
        // `ScopedFuture` keeps the page's owner, whose context the server function reads.
        let read = tokio::spawn(leptos::reactive::computed::ScopedFuture::new(list_webhook_events(
            env,
            Some(s),
            Some(t),
            cursor,
            Some(event_id),
        )));
        let rows = Suspend::new(async move {
            let page = read
                .await
                .unwrap_or_else(|e| Err(crate::server::errors::internal(format!("reading the webhook log: {e}"))));
            event_log(page, can_write, status, event_type, paged)
        });
        view! {
            <Suspense fallback=|| view! { <div class="skeleton event-table-skeleton" aria-busy="true"></div> }>
                {rows}
            </Suspense>
        }
        .into_any()
    }
    #[cfg(not(feature = "ssr"))]
    {
        let _ = (env, status, event_type, cursor, event_id, can_write);
        ().into_any()
    }
}

/// A page of the log, or why there is none.
#[cfg(feature = "ssr")]
fn event_log(
    page: Result<Page<WebhookEvent>, AppError>,
    can_write: bool,
    status: String,
    event_type: String,
    paged: bool,
) -> AnyView {
    match page {
        Err(AppError::Unsupported(message)) => view! {
            <div class="notice" role="status" data-testid="events-unsupported">
                <p>"The event log is not available with this payments backend."</p>
                <p class="muted">{message}</p>
            </div>
        }
        .into_any(),
        Err(e) => view! { <ErrorPanel error=e testid="events-error" /> }.into_any(),
        Ok(page) => view! { <EventTable page can_write status event_type paged /> }.into_any(),
    }
}

/// A page of events, with the pager; for admins, each row's Re-process form.
#[cfg(feature = "ssr")]
#[component]
fn EventTable(
    page: Page<WebhookEvent>,
    can_write: bool,
    status: String,
    event_type: String,
    paged: bool,
) -> impl IntoView {
    let env = use_env();
    let columns = if can_write { "8" } else { "7" };
    let filtered = !status.is_empty() || !event_type.is_empty();
    let first_href = {
        let qs = query_string(&[("status", status.as_str()), ("type", event_type.as_str())]);
        format!("/{}/webhooks{qs}", env.get_untracked())
    };
    let next_href = page.next_cursor.as_ref().map(|c| {
        let qs = query_string(&[("status", status.as_str()), ("type", event_type.as_str()), ("cursor", c.as_str())]);
        format!("/{}/webhooks{qs}", env.get_untracked())
    });
    let empty = if filtered { "No events match these filters." } else { "No events received yet." };
    view! {
        <table class="data-table event-table" data-testid="event-table">
            <thead>
                <tr>
                    <th scope="col">"Type"</th>
                    <th scope="col">"Object"</th>
                    <th scope="col">"Status"</th>
                    <th scope="col" class="num">"Attempts"</th>
                    <th scope="col">"Last error"</th>
                    <th scope="col">"Received"</th>
                    <th scope="col">"Processed"</th>
                    {can_write.then(|| view! { <th scope="col"><span class="visually-hidden">"Actions"</span></th> })}
                </tr>
            </thead>
            <tbody>
                {page.items.is_empty().then(|| view! {
                    <tr><td colspan=columns class="empty" data-testid="events-empty">{empty}</td></tr>
                })}
                {page
                    .items
                    .into_iter()
                    .map(|e| {
                        let id = e.stripe_event_id.clone();
                        let object_type = e.object_type.clone().unwrap_or_else(|| "—".into());
                        let object_id = e.object_id.clone();
                        let form_id = id.clone();
                        view! {
                            <tr data-testid="event-row" data-event-id=id.clone()>
                                <td>
                                    <code data-testid="event-type">{e.event_type.clone()}</code>
                                    <div class="muted event-id">{id.clone()}</div>
                                </td>
                                <td class="event-object" data-testid="event-object">
                                    {object_type}
                                    {object_id.map(|i| view! { <div class="muted event-id"><super::search::ObjectLink env=env.get_untracked() id=i /></div> })}
                                </td>
                                <td>
                                    <span class=status_badge(&e.processing_status) data-testid="event-status">
                                        {e.processing_status.to_string()}
                                    </span>
                                    <IgnoredReasonNote event=e.clone() />
                                </td>
                                <td class="num" data-testid="event-attempts">{e.attempt_count}</td>
                                <td class="error-text">{e.last_error.clone().unwrap_or_default()}</td>
                                <td class="event-time"><Time iso=e.received_at.clone() /></td>
                                <td class="event-time"><TimeOr iso=e.processed_at.clone() none="—" /></td>
                                {can_write.then(move || {
                                    let label = format!("Re-process {form_id}");
                                    let confirm = Confirmation {
                                        title: format!("Re-process {form_id}?"),
                                        message: "The stored event is applied to the mirror again, as if Stripe had just sent it.".to_owned(),
                                        label: "Re-process".to_owned(),
                                        destructive: false,
                                    };
                                    view! {
                                        <td>
                                            <EnhancedForm
                                                action=ReprocessWebhookEvent::url()
                                                done=format!("Event {form_id} re-processed: its row shows how.")
                                                failed=format!("Event {form_id} could not be re-processed")
                                                confirm
                                            >
                                                <input type="hidden" name="environment" value=env.get_untracked().as_str() />
                                                <input type="hidden" name="event_id" value=form_id.clone() />
                                                <button
                                                    type="submit"
                                                    class="button-secondary nowrap"
                                                    data-testid="reprocess"
                                                    aria-label=label
                                                    disabled=true
                                                    data-needs-js=""
                                                >
                                                    "Re-process"
                                                </button>
                                            </EnhancedForm>
                                        </td>
                                    }
                                })}
                            </tr>
                        }
                    })
                    .collect_view()}
            </tbody>
        </table>
        <nav class="pager" aria-label="Pages">
            {paged.then(|| view! { <a href=first_href data-testid="events-newest">"Newest"</a> })}
            {next_href.map(|href| view! { <a href=href rel="next" data-testid="events-older">"Older →"</a> })}
        </nav>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_have_badges() {
        assert_eq!(status_badge(&ProcessingStatus::Failed), "badge badge-danger");
        assert_eq!(status_badge(&ProcessingStatus::Processed), "badge badge-ok");
        assert_eq!(status_badge(&ProcessingStatus::Ignored), "badge");
    }
}
