//! Sync from Stripe (admin): one or both environments, live progress per object type, the result table.
//!
//! The sync request blocks until the sync ends, so it runs as an action while the page polls the
//! backend's progress every 300 ms next to it.

use crate::environment::Environment;
use crate::error::AppError;
use crate::pages::lazy::{EditingIsland, EditingPage};
use crate::pages::overview::payments_status;
use crate::ui::confirm::ConfirmDialog;
use crate::ui::layout::use_env;
use crate::ui::resource::resource;
use crate::ui::time::TimeOr;
use crate::ui::toast::use_toasts;
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_meta::Title;
use payments_model::{ConnectionStatus, LastSyncStatus, SyncEnvironmentResult, SyncProgress, SyncResponse, SyncState};
use std::time::Duration;

/// The object types a sync handles, in the order it handles them.
/// The sync's object types, mirror then backfilled history then imported events.
const OBJECT_TYPES: [&str; 9] = payments_model::SYNC_OBJECT_TYPES;

/// Syncs `environment`, or both environments with `both`; answers when the sync has finished.
/// Per-environment failures are in the body (`lastSyncStatus == "failed"`). Admins only.
#[server(prefix = "/api/console", endpoint = "sync-run")]
pub async fn run_sync(environment: Environment, both: bool) -> Result<SyncResponse, AppError> {
    let user = crate::auth::ssr::require_admin()?;
    let state = crate::server::state::app_state();
    state.backend.sync(&user, (!both).then_some(environment)).await.map_err(AppError::from)
}

/// Progress of the running (or last) sync of `environment`, or of both. Admins only.
/// `AppError::Unsupported` when the backend does not report progress.
#[server(prefix = "/api/console", endpoint = "sync-progress")]
pub async fn fetch_sync_progress(environment: Environment, both: bool) -> Result<Vec<SyncProgress>, AppError> {
    let user = crate::auth::ssr::require_admin()?;
    let state = crate::server::state::app_state();
    let envs = if both { Environment::ALL.to_vec() } else { vec![environment] };
    let mut out = Vec::with_capacity(envs.len());
    for env in envs {
        out.push(state.backend.sync_progress(&user, env).await?);
    }
    Ok(out)
}

/// The page.
#[component]
pub fn SyncPage() -> impl IntoView {
    view! {
        <Title text="Sync" />
        <EditingIsland page=EditingPage::Sync />
    }
}

/// What the running sync covers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Scope {
    environment: Environment,
    both: bool,
}

#[component]
pub(crate) fn SyncBody() -> impl IntoView {
    let env = use_env();
    let toasts = use_toasts();
    let run = ServerAction::<RunSync>::new();
    let scope = RwSignal::new(None::<Scope>);
    let progress = RwSignal::new(None::<Result<Vec<SyncProgress>, AppError>>);
    let in_flight = RwSignal::new(false);
    let requested = RwSignal::new(0u64);
    let applied = RwSignal::new(0u64);
    let interval = StoredValue::new(None::<IntervalHandle>);
    let confirm = RwSignal::new(false);
    let confirm_both = RwSignal::new(false);
    let last = resource(move || run.version().get(), |_| payments_status());

    let poll = move || {
        let Some(s) = scope.get_untracked() else { return };
        if in_flight.get_untracked() {
            return;
        }
        in_flight.set(true);
        let n = requested.get_untracked() + 1;
        requested.set(n);
        spawn_local(async move {
            let result = fetch_sync_progress(s.environment, s.both).await;
            in_flight.try_set(false);
            // An answer that arrives after a newer one (the final poll) is dropped.
            let newest = applied.try_update(|a| (n > *a).then(|| *a = n).is_some()).unwrap_or(false);
            if newest {
                progress.try_set(Some(result));
            }
        });
    };

    // Poll while the sync runs; one last time when it has ended, for the final numbers.
    Effect::new(move |_| {
        let pending = run.pending().get();
        if pending {
            poll();
            if interval.get_value().is_none() {
                if let Ok(handle) = set_interval_with_handle(poll, Duration::from_millis(300)) {
                    interval.set_value(Some(handle));
                }
            }
        } else if let Some(handle) = interval.get_value() {
            handle.clear();
            interval.set_value(None);
            in_flight.set(false);
            poll();
        }
    });
    on_cleanup(move || {
        if let Some(handle) = interval.try_get_value().flatten() {
            handle.clear();
        }
    });

    Effect::new(move |_| {
        let Some(result) = run.value().get() else { return };
        match result {
            Ok(response) => {
                let failed: Vec<String> = response
                    .results
                    .iter()
                    .filter(|r| r.connection.last_sync_status != Some(LastSyncStatus::Succeeded))
                    .map(|r| {
                        format!(
                            "{}: {}",
                            r.environment.label(),
                            r.connection.last_sync_error.clone().unwrap_or_else(|| r.connection.status.to_string())
                        )
                    })
                    .collect();
                if failed.is_empty() {
                    toasts.success("Sync finished.");
                } else {
                    toasts.error(format!("Sync did not complete for {}", failed.join("; ")));
                }
            }
            Err(e) => toasts.error(format!("The sync failed: {e}")),
        }
    });

    let start = move |both: bool| {
        if run.pending().get_untracked() {
            return;
        }
        let s = Scope { environment: env.get_untracked(), both };
        scope.set(Some(s));
        progress.set(None);
        run.dispatch(RunSync { environment: s.environment, both });
    };
    let ask = move |both: bool| {
        // Any write in live mode, and any sync that touches live, is confirmed first.
        if both || env.get_untracked() == Environment::Live {
            confirm_both.set(both);
            confirm.set(true);
        } else {
            start(both);
        }
    };
    let hydrated = RwSignal::new(false);
    Effect::new(move |_| hydrated.set(true));
    let busy = move || !hydrated.get() || run.pending().get();

    view! {
        <h1>"Sync"</h1>
        <p class="muted">
            "Fetches products, prices, customers and subscriptions from Stripe into the console's mirror. Webhooks keep it current afterwards; sync after setting a key or when something looks stale."
        </p>
        <div class="sync-actions">
            <button type="button" class="button-primary" data-testid="sync-env" disabled=busy on:click=move |_| ask(false)>
                {move || format!("Sync {}", env.get().label().to_lowercase())}
            </button>
            <button type="button" class="button-secondary" data-testid="sync-both" disabled=busy on:click=move |_| ask(true)>
                "Sync both environments"
            </button>
        </div>

        <section class="sync-progress" aria-label="Progress" aria-live="polite" data-testid="sync-progress">
            {move || {
                let pending = run.pending().get();
                match progress.get() {
                    None if pending => view! { <Indeterminate text="Starting the sync…".to_owned() /> }.into_any(),
                    None => ().into_any(),
                    Some(Err(AppError::Unsupported(_))) if pending => view! {
                        <Indeterminate text="Syncing. This payments backend does not report progress, so the result appears here when the sync ends.".to_owned() />
                    }
                    .into_any(),
                    Some(Err(AppError::Unsupported(_))) => ().into_any(),
                    Some(Err(e)) if pending => view! {
                        <Indeterminate text=format!("Syncing. Progress could not be read: {e}") />
                    }
                    .into_any(),
                    Some(Err(_)) => ().into_any(),
                    Some(Ok(list)) => list
                        .into_iter()
                        .map(|p| view! { <ProgressPanel progress=p /> })
                        .collect_view()
                        .into_any(),
                }
            }}
        </section>

        <section class="sync-results" aria-labelledby="sync-results-title">
            {move || {
                match run.value().get() {
                    Some(Ok(response)) => view! {
                        <h2 id="sync-results-title">"Result"</h2>
                        <ResultTable rows=response.results fresh=true />
                    }
                    .into_any(),
                    Some(Err(e)) => view! {
                        <h2 id="sync-results-title">"Result"</h2>
                        <p class="error-panel" role="alert" data-testid="sync-error">{e.to_string()}</p>
                    }
                    .into_any(),
                    None => view! {
                        <h2 id="sync-results-title">"Last sync"</h2>
                        <Transition fallback=|| view! { <div class="skeleton sync-table-skeleton" aria-busy="true"></div> }>
                            {move || Suspend::new(async move {
                                let connections = last.await?;
                                let rows = connections
                                    .into_iter()
                                    .map(|c| SyncEnvironmentResult { environment: c.environment, connection: c, subscriptions: None, history: None })
                                    .collect::<Vec<_>>();
                                Ok::<_, AppError>(view! { <ResultTable rows fresh=false /> })
                            })}
                        </Transition>
                    }
                    .into_any(),
                }
            }}
        </section>

        <ConfirmDialog
            open=confirm
            title=Signal::derive(move || {
                if confirm_both.get() {
                    "Sync both environments?".to_owned()
                } else {
                    format!("Sync the {} environment?", env.get().label().to_lowercase())
                }
            })
            message=Signal::derive(move || {
                let which = if confirm_both.get() { "test and live environments" } else { "live environment" };
                format!(
                    "The {which} will be re-read from Stripe; rows that no longer exist in Stripe are removed from the mirror."
                )
            })
            confirm_label="Sync"
            on_confirm=Callback::new(move |_| start(confirm_both.get_untracked()))
        />
    }
}

/// A bar without a known end, with a sentence saying what is going on.
#[component]
fn Indeterminate(text: String) -> impl IntoView {
    view! {
        <div class="sync-indeterminate" data-testid="sync-indeterminate">
            <progress aria-label="Sync in progress"></progress>
            <p>{text}</p>
        </div>
    }
}

/// The badge class of a last sync's outcome (an unknown outcome is neither good nor bad).
fn sync_badge(status: &LastSyncStatus) -> &'static str {
    match status {
        LastSyncStatus::Succeeded => "badge badge-ok",
        LastSyncStatus::Failed => "badge badge-danger",
        LastSyncStatus::Unknown(_) => "badge badge-warn",
    }
}

/// The badge class of a connection's state, shown before any sync: only an error is bad.
fn connection_badge(status: &ConnectionStatus) -> &'static str {
    match status {
        ConnectionStatus::Error => "badge badge-danger",
        _ => "badge badge-warn",
    }
}

/// One environment's progress: a bar per object type and the Stripe request counters.
#[component]
fn ProgressPanel(progress: SyncProgress) -> impl IntoView {
    let env = progress.environment;
    let running = progress.state == SyncState::Running;
    let state = match (progress.state, progress.succeeded) {
        (SyncState::Running, _) => "running",
        (SyncState::Finished, Some(false)) => "failed",
        (SyncState::Finished, _) => "finished",
        (SyncState::Idle, _) => "not started",
    };
    let badge = match state {
        "running" => "badge badge-warn",
        "failed" => "badge badge-danger",
        "finished" => "badge badge-ok",
        _ => "badge",
    };
    let bars = OBJECT_TYPES
        .iter()
        .map(|ty| {
            let o = progress.objects.get(*ty).copied().unwrap_or_default();
            // A running type with nothing fetched yet has no known end.
            let (value, max) = if running && o.fetched == 0 {
                (None, "1".to_owned())
            } else if o.fetched == 0 {
                // Nothing of this type: a full bar when the sync succeeded, an empty one otherwise.
                let done = if progress.succeeded == Some(true) { "1" } else { "0" };
                (Some(done.to_owned()), "1".to_owned())
            } else {
                (Some(o.written.min(o.fetched).to_string()), o.fetched.to_string())
            };
            let label = format!("{} {ty}", env.label());
            view! {
                <div class="sync-bar" data-testid=format!("progress-{ty}")>
                    <span class="sync-bar-label">{ty.replace('_', " ")}</span>
                    <progress aria-label=label value=value max=max></progress>
                    <span class="sync-bar-counts" data-testid="counts">
                        {format!("{} fetched · {} written", o.fetched, o.written)}
                    </span>
                </div>
            }
        })
        .collect_view();
    view! {
        <article class="card sync-panel" data-testid=format!("progress-{env}")>
            <header class="sync-panel-head">
                <h2>{env.label()}</h2>
                <span class=badge data-testid="sync-state">{state}</span>
            </header>
            {bars}
            <p class="sync-stats">
                "Stripe requests: " <strong data-testid="stripe-requests">{progress.stripe_requests}</strong>
                " · Rate-limit back-offs: " <strong data-testid="rate-limit-backoffs">{progress.rate_limit_backoffs}</strong>
                " · Retries: " <strong data-testid="retries">{progress.retries}</strong>
            </p>
            {progress.error.clone().map(|e| view! { <p class="error-text" role="alert">{e}</p> })}
        </article>
    }
}

/// Per environment: what the (last) sync wrote, or why it failed.
#[component]
fn ResultTable(rows: Vec<SyncEnvironmentResult>, fresh: bool) -> impl IntoView {
    let count = |c: &payments_model::StripeConnection, k: &str| {
        c.last_sync_counts.get(k).map(|n| n.to_string()).unwrap_or_else(|| "—".into())
    };
    // Nine columns do not fit beside the sidebar at laptop widths: the table scrolls sideways in
    // its own box (focusable, so the keyboard can scroll it too) rather than pushing the error
    // column off the page.
    view! {
        <div class="table-scroll sync-table-scroll" role="region" aria-label="Sync results" tabindex="0">
            <table class="data-table sync-table" data-testid=if fresh { "sync-result" } else { "sync-last" }>
                <thead>
                    <tr>
                        <th scope="col">"Environment"</th>
                        <th scope="col">"Status"</th>
                        <th scope="col" class="num">"Products"</th>
                        <th scope="col" class="num">"Prices"</th>
                        <th scope="col" class="num">"Customers"</th>
                        <th scope="col" class="num">"Subscriptions"</th>
                        <th scope="col" class="num">"Unmapped"</th>
                        <th scope="col" class="num">"Deleted"</th>
                        <th scope="col">"Error"</th>
                    </tr>
                </thead>
                <tbody>
                    {rows
                        .into_iter()
                        .map(|r| {
                            let c = &r.connection;
                            // The last sync's outcome; before any, the connection's state when there is
                            // no key (why nothing can sync), else that it never ran.
                            let (status, badge) = match (&c.last_sync_status, c.masked_key.is_none()) {
                                (Some(s), _) => (s.to_string(), sync_badge(s)),
                                (None, true) => (c.status.to_string(), connection_badge(&c.status)),
                                (None, false) => ("never synced".to_owned(), "badge badge-warn"),
                            };
                            let subs = r.subscriptions.as_ref();
                            let sub = |n: Option<i64>| n.map(|n| n.to_string()).unwrap_or_else(|| "—".into());
                            let subscriptions = sub(subs.map(|s| s.synced)).to_string();
                            let subscriptions = if subs.is_none() && !fresh { count(c, "subscriptions") } else { subscriptions };
                            view! {
                                <tr data-testid=format!("sync-row-{}", r.environment)>
                                    <th scope="row">{r.environment.label()}</th>
                                    <td>
                                        <span class=badge data-testid="sync-status">{status}</span>
                                        <div class="muted sync-when">
                                            <TimeOr iso=c.last_synced_at.clone() none="never synced" />
                                        </div>
                                    </td>
                                    <td class="num" data-testid="count-products">{count(c, "products")}</td>
                                    <td class="num" data-testid="count-prices">{count(c, "prices")}</td>
                                    <td class="num" data-testid="count-customers">{count(c, "customers")}</td>
                                    <td class="num" data-testid="count-subscriptions">{subscriptions}</td>
                                    <td class="num" data-testid="count-unmapped">{sub(subs.map(|s| s.unmapped))}</td>
                                    <td class="num" data-testid="count-deleted">{sub(subs.map(|s| s.deleted))}</td>
                                    <td class="error-text" data-testid="sync-row-error">{c.last_sync_error.clone().unwrap_or_default()}</td>
                                </tr>
                            }
                        })
                        .collect_view()}
                </tbody>
            </table>
        </div>
    }
}
