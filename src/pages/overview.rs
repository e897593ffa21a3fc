//! The overview: the environment's figures (MRR, payments, failures, subscriptions, stuck
//! events), both environments' Stripe connections side by side, and what needs attention.

use crate::backend::Connection;
use crate::environment::Environment;
use crate::error::AppError;
use crate::model::format::{count_up_to, money, query_string, thousands};
use crate::ui::chart::{DayBar, DayBars, MixPart, StatusMix};
use crate::ui::error::ErrorPanel;
use crate::ui::layout::{use_env, use_user};
use crate::ui::resource::resource;
use crate::ui::time::TimeOr;
use leptos::prelude::*;
use leptos_meta::Title;
use payments_model::{
    CurrencyAmount, Overview, PaymentKind, PaymentStatus, ProcessingStatus, SubscriptionStatus, EVENT_COUNT_LIMIT,
};

/// Facts about this console instance that any signed-in user may see.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct InstanceFacts {
    /// Base URL of the in-process Stripe sandbox when running with `--demo`.
    pub demo_sandbox_url: Option<String>,
    /// Base URL of the remote InsForge backend the console reads and writes through, when it
    /// is not the embedded engine.
    pub remote_backend: Option<String>,
    /// The console's version.
    pub version: String,
}

/// Facts about this console instance. Any signed-in user.
#[server(prefix = "/api/console", endpoint = "instance")]
pub async fn instance_info() -> Result<InstanceFacts, AppError> {
    crate::auth::ssr::require_reader()?;
    let state = crate::server::state::app_state();
    Ok(InstanceFacts {
        demo_sandbox_url: state.settings.demo_sandbox_url.clone(),
        remote_backend: state.settings.remote_backend.clone(),
        version: env!("CARGO_PKG_VERSION").to_string(),
    })
}

/// Both environments' Stripe connections, test first. Any signed-in user (masked keys only).
#[server(prefix = "/api/console", endpoint = "payments-status")]
pub async fn payments_status() -> Result<Vec<Connection>, AppError> {
    let user = crate::auth::ssr::require_reader()?;
    let state = crate::server::state::app_state();
    Ok(state.backend.status(&user).await?)
}

/// The environment's figures. Any signed-in user.
#[server(prefix = "/api/console", endpoint = "overview-figures")]
pub async fn overview_figures(environment: Environment) -> Result<Overview, AppError> {
    let user = crate::auth::ssr::require_reader()?;
    let state = crate::server::state::app_state();
    Ok(state.backend.overview(&user, environment).await?)
}

/// Landing page of an environment.
#[component]
pub fn OverviewPage() -> impl IntoView {
    let env = use_env();
    let info = resource(|| (), |_| instance_info());
    let status = resource(|| (), |_| payments_status());
    let figures = resource(move || env.get(), overview_figures);
    view! {
        <Title text="Overview" />
        <h1>{move || format!("{} environment", env.get().label())}</h1>
        <Suspense fallback=|| view! { <div class="cards-skeleton" aria-busy="true"></div> }>
            {move || Suspend::new(async move {
                let info = info.await.ok();
                let remote = info.as_ref().and_then(|i| i.remote_backend.clone()).map(|url| view! {
                    <div class="notice" data-testid="remote-notice">
                        <p>
                            <strong>"Remote backend."</strong>
                            " Payments data and changes go to the InsForge backend at "
                            <code>{url}</code>
                            ". Pages say so where it lacks this console's extensions (live sync progress, event log, filters)."
                        </p>
                    </div>
                });
                let demo = info.and_then(|i| i.demo_sandbox_url).map(|url| view! {
                    <div class="notice" data-testid="demo-notice">
                        <p>
                            <strong>"Demo mode."</strong>
                            " The test environment is connected to an offline Stripe sandbox with demo data, running inside this console at "
                            <code>{url}</code>
                            ". Set a real Stripe key to leave demo mode."
                        </p>
                    </div>
                });
                let connections = status.await?;
                Ok::<_, AppError>(view! {
                    {remote}
                    {demo}
                    <Attention connections=connections.clone() />
                    <Transition fallback=|| view! { <div class="kpi-grid skeleton" aria-busy="true"></div> }>
                        {move || Suspend::new(async move {
                            match figures.await {
                                Ok(figures) => view! { <Figures figures /> }.into_any(),
                                Err(AppError::Unsupported(message)) => view! {
                                    <p class="notice muted" data-testid="figures-unsupported">{message}</p>
                                }
                                .into_any(),
                                Err(e) => view! { <ErrorPanel error=e /> }.into_any(),
                            }
                        })}
                    </Transition>
                    <div class="connection-cards">
                        {connections.into_iter().map(|c| view! { <ConnectionCard connection=c /> }).collect_view()}
                    </div>
                })
            })}
        </Suspense>
    }
}

/// Amounts per currency, one line each; a dash when there are none.
fn amounts(all: &[CurrencyAmount]) -> impl IntoView {
    if all.is_empty() {
        return view! { <p class="kpi-value">"—"</p> }.into_any();
    }
    all.iter()
        .map(|a| view! { <p class="kpi-value" data-currency=a.currency.clone()>{money(a.amount, &a.currency)}</p> })
        .collect_view()
        .into_any()
}

/// The environment's figures: what is earned and paid, what failed, what needs a look.
#[component]
fn Figures(figures: Overview) -> impl IntoView {
    let env = use_env().get_untracked();
    let link = |page: &str, pairs: &[(&str, &str)]| format!("/{env}/{page}{}", query_string(pairs));
    let count =
        |status: SubscriptionStatus| figures.subscriptions.iter().find(|s| s.status == status).map_or(0, |s| s.rows);
    let (active, trialing, past_due) =
        (count(SubscriptionStatus::Active), count(SubscriptionStatus::Trialing), count(SubscriptionStatus::PastDue));
    // The filter values the figures' links carry.
    let (failed_event, failed_payment, refund, past_due_status) = (
        ProcessingStatus::Failed.as_str(),
        PaymentStatus::Failed.as_str(),
        PaymentKind::Refund.as_str(),
        SubscriptionStatus::PastDue.as_str(),
    );
    // The first day of each window, so that a figure's link lists the rows it counted.
    let since = |days: usize| {
        let first = figures.days.len().saturating_sub(days);
        figures.days.get(first).map_or_else(String::new, |d| d.date.clone())
    };
    let (since_30, since_7) = (since(30), since(7));
    // Figures that want someone to look, each linking to the rows.
    let mut attention: Vec<(String, String)> = Vec::new();
    if figures.events_failed > 0 {
        let what = match figures.events_failed {
            n if n > EVENT_COUNT_LIMIT => {
                format!("More than {} webhook events failed to process.", thousands(EVENT_COUNT_LIMIT.into()))
            }
            n => format!("{} webhook events failed to process.", thousands(n.into())),
        };
        attention.push((what, link("webhooks", &[("status", failed_event)])));
    }
    if past_due > 0 {
        attention.push((
            format!("{past_due} subscriptions are past due."),
            link("subscriptions", &[("status", past_due_status)]),
        ));
    }
    if figures.failed_7d > 0 {
        let what = format!("{} payments failed in the last 7 days.", figures.failed_7d);
        attention.push((what, link("history", &[("status", failed_payment), ("from", &since_7)])));
    }
    let days: Vec<DayBar> =
        figures.days.iter().map(|d| DayBar { date: d.date.clone(), first: d.succeeded, second: d.failed }).collect();
    let mix: Vec<MixPart> = figures
        .subscriptions
        .iter()
        .map(|s| MixPart {
            status: s.status.to_string(),
            count: s.rows,
            href: link("subscriptions", &[("status", s.status.as_str())]),
        })
        .collect();
    let uncounted = (figures.mrr_uncounted_items > 0).then(|| {
        view! {
            <p class="muted" data-testid="mrr-uncounted">
                {format!("{} items with tiered, metered or unsynced prices are not counted.", figures.mrr_uncounted_items)}
            </p>
        }
    });
    view! {
        {(!attention.is_empty()).then(|| view! {
            <section class="attention" aria-label="Figures that need a look" data-testid="figures-attention">
                <ul>
                    {attention.into_iter().map(|(what, href)| view! { <li>{what} " " <a href=href>"Show them →"</a></li> }).collect_view()}
                </ul>
            </section>
        })}
        <section class="kpi-grid" aria-label="Figures" data-testid="figures">
            <article class="card kpi" data-testid="kpi-mrr">
                <h2>"Monthly recurring revenue"</h2>
                {amounts(&figures.mrr)}
                <p class="muted">"Active and past-due subscriptions, prices normalised to a month, before discounts."</p>
                {uncounted}
            </article>
            <article class="card kpi" data-testid="kpi-subscriptions">
                <h2>"Subscriptions"</h2>
                <p class="kpi-value">{active} " active"</p>
                <p class="kpi-value">{trialing} " trialing"</p>
                <p class="muted"><a href=link("subscriptions", &[("status", "active")])>"Active subscriptions →"</a></p>
            </article>
            <article class="card kpi" data-testid="kpi-payments">
                <h2>"Payments, last 30 days"</h2>
                <p class="kpi-value">{figures.payments_30d}</p>
                {amounts(&figures.volume_30d)}
                <p class="muted"><a href=link("history", &[("from", &since_30)])>"These payments →"</a></p>
            </article>
            <article class="card kpi" data-testid="kpi-failed">
                <h2>"Failed payments, last 7 days"</h2>
                <p class="kpi-value">{figures.failed_7d}</p>
                <p class="muted"><a href=link("history", &[("status", failed_payment), ("from", &since_7)])>"Failed payments →"</a></p>
            </article>
            <article class="card kpi" data-testid="kpi-refunds">
                <h2>"Refunds, last 7 days"</h2>
                <p class="kpi-value">{figures.refunds_7d}</p>
                <p class="muted"><a href=link("history", &[("type", refund), ("from", &since_7)])>"Refunds →"</a></p>
            </article>
            <article class="card kpi" data-testid="kpi-events">
                <h2>"Webhook events"</h2>
                <p class="kpi-value">{count_up_to(figures.events_failed, EVENT_COUNT_LIMIT)} " failed"</p>
                <p class="kpi-value">{count_up_to(figures.events_pending, EVENT_COUNT_LIMIT)} " pending"</p>
                <p class="muted"><a href=link("webhooks", &[("status", failed_event)])>"Failed events →"</a></p>
            </article>
        </section>
        <section class="overview-charts">
            <div class="card">
                <h2>"Payments per day, last 30 days"</h2>
                <DayBars
                    days
                    names=("payments", "failed payments")
                    legend=("Went through", "Failed")
                    testid="overview-chart"
                    empty="No payments in the last 30 days."
                />
            </div>
            <div class="card">
                <h2>"Subscriptions by status"</h2>
                <StatusMix parts=mix testid="subscription-mix" />
            </div>
        </section>
    }
}

/// The attention items of the environment on screen, each linking to where it is fixed.
#[component]
fn Attention(connections: Vec<Connection>) -> impl IntoView {
    let env = use_env();
    let can_write = use_user().role.can_write();
    move || {
        let current = env.get();
        let items =
            connections.iter().find(|c| c.environment == current).map(crate::backend::attention).unwrap_or_default();
        (!items.is_empty()).then(|| {
            view! {
                <section class="attention" aria-label="Needs attention" data-testid="attention">
                    <h2>"Needs attention"</h2>
                    <ul>
                        {items
                            .into_iter()
                            .map(|item| {
                                let href = format!("/{current}/{}", item.section());
                                view! {
                                    <li>
                                        {item.message()} " "
                                        {(can_write || item.section() == "webhooks").then(|| view! { <a href=href>"Fix it →"</a> })}
                                    </li>
                                }
                            })
                            .collect_view()}
                    </ul>
                </section>
            }
        })
    }
}

/// One environment's connection.
#[component]
fn ConnectionCard(connection: Connection) -> impl IntoView {
    let env = use_env();
    let this = connection.environment;
    let counts = if connection.last_sync_counts.is_empty() {
        "—".to_string()
    } else {
        connection.last_sync_counts.iter().map(|(k, v)| format!("{v} {k}")).collect::<Vec<_>>().join(", ")
    };
    let status_class = format!("pill pill-{}", connection.status);
    view! {
        <article
            class="connection-card"
            class:current=move || env.get() == this
            class:card-live=this == Environment::Live
            data-testid=format!("connection-{this}")
        >
            <header>
                <h2>{this.label()}</h2>
                <span class=status_class data-testid="connection-status">{connection.status.to_string()}</span>
            </header>
            <dl>
                <dt>"Account"</dt>
                <dd>{connection.stripe_account_id.clone().unwrap_or_else(|| "—".into())}
                    {connection.stripe_account_email.clone().map(|e| view! { <span class="muted">{format!(" ({e})")}</span> })}
                </dd>
                <dt>"Secret key"</dt>
                <dd><code data-testid="masked-key">{connection.masked_key.clone().unwrap_or_else(|| "not set".into())}</code></dd>
                <dt>"Webhook endpoint"</dt>
                <dd>{connection.webhook_endpoint_url.clone().unwrap_or_else(|| "none".into())}</dd>
                <dt>"Last sync"</dt>
                <dd>
                    <TimeOr iso=connection.last_synced_at.clone() none="never" />
                    {connection.last_sync_status.as_ref().map(|s| { let s = s.to_string(); let class = format!("pill pill-{s}"); view! { " " <span class=class>{s}</span> } })}
                </dd>
                <dt>"Synced"</dt>
                <dd data-testid="sync-counts">{counts}</dd>
                {connection.last_sync_error.clone().map(|e| view! {
                    <dt>"Sync error"</dt>
                    <dd class="error-text">{e}</dd>
                })}
            </dl>
        </article>
    }
}
