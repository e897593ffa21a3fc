//! Sync from Stripe (admin): one or both environments, live progress per object type, the result table.
//!
//! The page is the server's HTML (issue #13): its two buttons are forms that the main module's
//! `crate::ui::enhance::PageForms` confirms and sends. The sync request answers once the sync has
//! ended, so while it is out the island reads the page's progress section again every 300 ms
//! (`data-watch`), which the server renders from the backend's progress; then it reads the page
//! in place and shows this run's result from the answer ([`SyncReportView`]). A page opened while
//! a sync runs (from another tab, the CLI) follows it the same way (`data-running`).

use crate::environment::Environment;
use crate::error::AppError;
use crate::pages::lazy::{EditingIsland, EditingPage};
use crate::pages::overview::payments_status;
use crate::ui::enhance::{Confirmation, EnhancedForm, PageForms, Reveal};
use crate::ui::layout::use_env;
use crate::ui::resource::resource;
use crate::ui::time::TimeOr;
use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_meta::Title;
use payments_model::{ConnectionStatus, LastSyncStatus, SyncEnvironmentResult, SyncProgress, SyncResponse, SyncState};
use serde::{Deserialize, Serialize};

/// The object types a sync handles, in the order it handles them.
/// The sync's object types, mirror then backfilled history then imported events.
const OBJECT_TYPES: [&str; 9] = payments_model::SYNC_OBJECT_TYPES;

/// The id of the progress section, which the sync forms read again while they are out.
const PROGRESS_ID: &str = "sync-progress";

/// Syncs `environment`, or both environments with `both`; answers when the sync has finished.
/// Per-environment failures are in the body (`lastSyncStatus == "failed"`). Admins only.
#[server(prefix = "/api/console", endpoint = "sync-run")]
pub async fn run_sync(environment: Environment, both: bool) -> Result<SyncResponse, AppError> {
    let user = crate::auth::ssr::require_admin()?;
    let state = crate::server::state::app_state();
    state.backend.sync(&user, (!both).then_some(environment)).await.map_err(AppError::from)
}

/// [`run_sync`] for the page's forms: the same sync, answered as the page shows its result
/// ([`SyncReportView`]). Admins only.
#[server(prefix = "/api/console", endpoint = "sync-run-form")]
pub async fn run_sync_form(environment: Environment, both: bool) -> Result<SyncReportView, AppError> {
    run_sync(environment, both).await.map(SyncReportView::from)
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

/// A sync's result as the page shows it: a row per environment, and what went wrong, said as
/// the toast in place of "Sync finished." (`problem`, which `PageForms` reads).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncReportView {
    /// The environments whose sync did not succeed, with why; `None` when all did.
    pub problem: Option<String>,
    pub rows: Vec<SyncRowView>,
}

impl From<SyncResponse> for SyncReportView {
    fn from(response: SyncResponse) -> Self {
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
        let problem = (!failed.is_empty()).then(|| format!("Sync did not complete for {}", failed.join("; ")));
        SyncReportView { problem, rows: response.results.iter().map(|r| SyncRowView::new(r, true)).collect() }
    }
}

/// One environment's row of the result table, in the page's words: the server's table and the
/// template of a fresh result (`ResultTemplate`) show the same fields.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncRowView {
    /// The row's test id, `sync-row-test`.
    pub testid: String,
    pub environment: String,
    /// The last sync's outcome, or the connection's state before any.
    pub status: String,
    /// The status badge's kind (`badge-ok`, `badge-danger`, `badge-warn`).
    pub badge: String,
    /// When it last synced (ISO), if ever.
    pub synced_at: Option<String>,
    /// The same in words: `2026-12-07 16:00 UTC`, or "never synced".
    pub when: String,
    pub products: String,
    pub prices: String,
    pub customers: String,
    pub subscriptions: String,
    pub unmapped: String,
    pub deleted: String,
    pub error: String,
}

impl SyncRowView {
    /// The row of `r`; `fresh`: the answer of a sync just run, which counts the subscriptions it
    /// mapped, where the last sync's counts are the connection's.
    fn new(r: &SyncEnvironmentResult, fresh: bool) -> Self {
        let c = &r.connection;
        let count = |k: &str| c.last_sync_counts.get(k).map(|n| n.to_string()).unwrap_or_else(|| "—".into());
        // The last sync's outcome; before any, the connection's state when there is no key (why
        // nothing can sync), else that it never ran.
        let (status, badge) = match (&c.last_sync_status, c.masked_key.is_none()) {
            (Some(s), _) => (s.to_string(), sync_badge(s)),
            (None, true) => (c.status.to_string(), connection_badge(&c.status)),
            (None, false) => ("never synced".to_owned(), "badge-warn"),
        };
        let subs = r.subscriptions.as_ref();
        let sub = |n: Option<i64>| n.map(|n| n.to_string()).unwrap_or_else(|| "—".into());
        let subscriptions = if subs.is_none() && !fresh { count("subscriptions") } else { sub(subs.map(|s| s.synced)) };
        SyncRowView {
            testid: format!("sync-row-{}", r.environment),
            environment: r.environment.label().to_owned(),
            status,
            badge: badge.to_owned(),
            synced_at: c.last_synced_at.clone(),
            when: c.last_synced_at.as_deref().map(crate::model::format::iso_short).unwrap_or_else(|| NEVER.to_owned()),
            products: count("products"),
            prices: count("prices"),
            customers: count("customers"),
            subscriptions,
            unmapped: sub(subs.map(|s| s.unmapped)),
            deleted: sub(subs.map(|s| s.deleted)),
            error: c.last_sync_error.clone().unwrap_or_default(),
        }
    }
}

/// What the table says of an environment that never synced.
const NEVER: &str = "never synced";

/// The page.
#[component]
pub fn SyncPage() -> impl IntoView {
    view! {
        <Title text="Sync" />
        <EditingIsland page=EditingPage::Sync />
    }
}

/// The page's body, the server's HTML (`crate::pages::lazy::EditingPage`): the two sync forms,
/// the progress of the running or last sync, and the last sync's result.
#[component]
pub(crate) fn SyncBody() -> impl IntoView {
    let env = use_env().get_untracked();
    let progress = resource(move || env, |env| fetch_sync_progress(env, true));
    let last = resource(move || env, |_| payments_status());
    view! {
        <h1>"Sync"</h1>
        <p class="muted">
            "Fetches products, prices, customers and subscriptions from Stripe into the console's mirror. Webhooks keep it current afterwards; sync after setting a key or when something looks stale."
        </p>
        <div class="sync-actions">
            <SyncForm env both=false />
            <SyncForm env both=true />
        </div>

        <section id=PROGRESS_ID class="sync-progress" aria-label="Progress" aria-live="polite" data-testid="sync-progress" data-watched="">
            <Transition fallback=|| ()>
                {move || Suspend::new(async move { view! { <ProgressPanels env progress=progress.await /> } })}
            </Transition>
        </section>

        <section class="sync-results" aria-label="Sync results">
            <ResultTemplate />
            <div class="sync-last">
                <h2>"Last sync"</h2>
                <Transition fallback=|| view! { <div class="skeleton sync-table-skeleton" aria-busy="true"></div> }>
                    {move || Suspend::new(async move {
                        let connections = last.await?;
                        let rows = connections
                            .into_iter()
                            .map(|c| {
                                let r = SyncEnvironmentResult { environment: c.environment, connection: c, subscriptions: None, history: None };
                                SyncRowView::new(&r, false)
                            })
                            .collect::<Vec<_>>();
                        Ok::<_, AppError>(view! { <ResultTable rows /> })
                    })}
                </Transition>
            </div>
        </section>
        <PageForms />
    }
}

/// A form that syncs the page's environment, or both (`both`); a sync touching live is
/// confirmed first, by typing `live` in live mode.
#[component]
fn SyncForm(env: Environment, both: bool) -> impl IntoView {
    let label = if both { "Sync both environments".to_owned() } else { format!("Sync {}", env.label().to_lowercase()) };
    let (testid, class) = if both { ("sync-both", "button-secondary") } else { ("sync-env", "button-primary") };
    // Any sync that touches live is confirmed first.
    let confirm = (both || env == Environment::Live).then(|| {
        let which = if both { "test and live environments" } else { "live environment" };
        Confirmation {
            title: if both {
                "Sync both environments?".to_owned()
            } else {
                format!("Sync the {} environment?", env.label().to_lowercase())
            },
            message: format!(
                "The {which} will be re-read from Stripe; rows that no longer exist in Stripe are removed from the mirror."
            ),
            label: "Sync".to_owned(),
            destructive: false,
        }
    });
    view! {
        <EnhancedForm action=RunSyncForm::url() done="Sync finished." failed="The sync failed" confirm reveal="sync-result" watch=PROGRESS_ID>
            <input type="hidden" name="environment" value=env.as_str() />
            <input type="hidden" name="both" value=both.to_string() />
            // It needs the island: as a plain post it would answer with JSON once the sync ended.
            <button type="submit" class=class data-testid=testid disabled=true data-needs-js="" data-pending-label="Syncing…">
                {label}
            </button>
        </EnhancedForm>
    }
}

/// The progress of the page's environment's running or last sync since the server started, and
/// of the other environment's while it runs (syncing both), marked `data-running` while one
/// runs. Where the backend reports no progress (a remote one without the engine's extensions),
/// a bar without a known end, shown only while this page's form is out (`data-while-sending`),
/// and nothing to read again (`data-unwatchable`).
#[component]
fn ProgressPanels(env: Environment, progress: Result<Vec<SyncProgress>, AppError>) -> impl IntoView {
    match progress {
        Ok(list) => {
            let running = list.iter().any(|p| p.state == SyncState::Running);
            let panels = list
                .into_iter()
                .filter(|p| p.state == SyncState::Running || (p.environment == env && p.state != SyncState::Idle))
                .map(|p| view! { <ProgressPanel progress=p /> })
                .collect_view();
            view! { <div class="sync-panels" data-running=running.then_some("")>{panels}</div> }.into_any()
        }
        Err(AppError::Unsupported(_)) => view! {
            <div class="sync-indeterminate" data-testid="sync-indeterminate" data-while-sending="" data-unwatchable="" hidden>
                <progress aria-label="Sync in progress"></progress>
                <p>"Syncing. This payments backend does not report progress, so the result appears below when the sync ends."</p>
            </div>
        }
        .into_any(),
        Err(e) => view! { <p class="muted">{format!("Progress could not be read: {e}")}</p> }.into_any(),
    }
}

/// The badge kind of a last sync's outcome (an unknown outcome is neither good nor bad).
fn sync_badge(status: &LastSyncStatus) -> &'static str {
    match status {
        LastSyncStatus::Succeeded => "badge-ok",
        LastSyncStatus::Failed => "badge-danger",
        LastSyncStatus::Unknown(_) => "badge-warn",
    }
}

/// The badge kind of a connection's state, shown before any sync: only an error is bad.
fn connection_badge(status: &ConnectionStatus) -> &'static str {
    match status {
        ConnectionStatus::Error => "badge-danger",
        _ => "badge-warn",
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

/// The columns of the result table, the server's and the template's.
#[component]
fn ResultHead() -> impl IntoView {
    view! {
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
    }
}

/// Per environment: what the last sync wrote, or why it failed.
#[component]
fn ResultTable(rows: Vec<SyncRowView>) -> impl IntoView {
    // Nine columns do not fit beside the sidebar at laptop widths: the table scrolls sideways in
    // its own box (focusable, so the keyboard can scroll it too) rather than pushing the error
    // column off the page.
    view! {
        <div class="table-scroll sync-table-scroll" role="region" aria-label="Last sync" tabindex="0">
            <table class="data-table sync-table" data-testid="sync-last">
                <ResultHead />
                <tbody>
                    {rows
                        .into_iter()
                        .map(|r| {
                            view! {
                                <tr data-testid=r.testid>
                                    <th scope="row">{r.environment}</th>
                                    <td>
                                        <span class=format!("badge {}", r.badge) data-testid="sync-status">{r.status}</span>
                                        <div class="muted sync-when">
                                            <TimeOr iso=r.synced_at none=NEVER />
                                        </div>
                                    </td>
                                    <td class="num" data-testid="count-products">{r.products}</td>
                                    <td class="num" data-testid="count-prices">{r.prices}</td>
                                    <td class="num" data-testid="count-customers">{r.customers}</td>
                                    <td class="num" data-testid="count-subscriptions">{r.subscriptions}</td>
                                    <td class="num" data-testid="count-unmapped">{r.unmapped}</td>
                                    <td class="num" data-testid="count-deleted">{r.deleted}</td>
                                    <td class="error-text" data-testid="sync-row-error">{r.error}</td>
                                </tr>
                            }
                        })
                        .collect_view()}
                </tbody>
            </table>
        </div>
    }
}

/// Where a sync's result is shown once it is done ([`Reveal`], filled from a
/// [`SyncReportView`]): the table of this run, above the last sync's, which it then hides (the
/// stylesheet's `.sync-results [data-revealed] ~ .sync-last`).
#[component]
fn ResultTemplate() -> impl IntoView {
    view! {
        <Reveal id="sync-result" testid="sync-result-card" class="sync-result">
            <h2>"Result"</h2>
            <div class="table-scroll sync-table-scroll" role="region" aria-label="Sync result" tabindex="0">
                <table class="data-table sync-table" data-testid="sync-result">
                    <ResultHead />
                    <tbody>
                        <tr data-reveal-each="rows" data-reveal-attrs="data-testid=testid">
                            <th scope="row" data-reveal-field="environment"></th>
                            <td>
                                <span class="badge" data-testid="sync-status" data-reveal-field="status" data-reveal-class="badge"></span>
                                <div class="muted sync-when" data-reveal-field="when"></div>
                            </td>
                            <td class="num" data-testid="count-products" data-reveal-field="products"></td>
                            <td class="num" data-testid="count-prices" data-reveal-field="prices"></td>
                            <td class="num" data-testid="count-customers" data-reveal-field="customers"></td>
                            <td class="num" data-testid="count-subscriptions" data-reveal-field="subscriptions"></td>
                            <td class="num" data-testid="count-unmapped" data-reveal-field="unmapped"></td>
                            <td class="num" data-testid="count-deleted" data-reveal-field="deleted"></td>
                            <td class="error-text" data-testid="sync-row-error" data-reveal-field="error"></td>
                        </tr>
                    </tbody>
                </table>
            </div>
        </Reveal>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn progress(environment: Environment, state: SyncState) -> SyncProgress {
        SyncProgress { state, ..SyncProgress::idle(environment) }
    }

    fn panels(env: Environment, progress: Result<Vec<SyncProgress>, AppError>) -> String {
        Owner::new().with(|| view! { <ProgressPanels env progress /> }.to_html())
    }

    #[test]
    fn the_progress_shows_the_pages_environment_and_the_other_only_while_it_runs() {
        let both = |test, live| Ok(vec![progress(Environment::Test, test), progress(Environment::Live, live)]);
        let html = panels(Environment::Test, both(SyncState::Finished, SyncState::Finished));
        assert!(html.contains(r#"data-testid="progress-test""#) && !html.contains("progress-live"), "{html}");
        assert!(!html.contains("data-running"), "{html}");
        // Syncing both: live runs after test, and the test page follows it.
        let html = panels(Environment::Test, both(SyncState::Finished, SyncState::Running));
        assert!(html.contains("progress-test") && html.contains("progress-live"), "{html}");
        assert!(html.contains("data-running"), "{html}");
        // Before any sync: nothing.
        let html = panels(Environment::Live, both(SyncState::Idle, SyncState::Idle));
        assert!(!html.contains("<article") && !html.contains("data-running"), "{html}");
    }

    #[test]
    fn a_backend_without_progress_shows_a_bar_only_while_the_form_is_out_and_nothing_to_follow() {
        let html = panels(Environment::Test, Err(AppError::Unsupported("no progress".into())));
        for attr in [r#"data-testid="sync-indeterminate""#, "data-while-sending", "data-unwatchable", "hidden"] {
            assert!(html.contains(attr), "{attr}: {html}");
        }
        assert!(!html.contains("data-running"), "{html}");
        // Any other failure to read it is said.
        let html = panels(Environment::Test, Err(AppError::Transport("refused".into())));
        assert!(html.contains("Progress could not be read") && !html.contains("data-while-sending"), "{html}");
    }

    /// What the two rules the page relies on say; without them the bar never shows and a fresh
    /// result sits above a second table of the same sync.
    #[test]
    fn the_stylesheet_shows_the_bar_while_sending_and_one_table_of_a_sync() {
        let css = include_str!("../../style/main.css");
        assert!(
            css.contains("[data-sending] [data-while-sending][hidden] { display: block; }"),
            "the bar is never shown"
        );
        assert!(css.contains(".sync-results [data-revealed] ~ .sync-last { display: none; }"));
    }
}
