//! The overview: both environments' Stripe connections side by side, and what needs attention.

use crate::backend::Connection;
use crate::environment::Environment;
use crate::error::AppError;
use crate::ui::layout::{use_env, use_user};
use crate::ui::time::TimeOr;
use leptos::prelude::*;
use leptos_meta::Title;

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

/// Landing page of an environment.
#[component]
pub fn OverviewPage() -> impl IntoView {
    let env = use_env();
    let info = Resource::new(|| (), |_| instance_info());
    let status = Resource::new(|| (), |_| payments_status());
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
                    <div class="connection-cards">
                        {connections.into_iter().map(|c| view! { <ConnectionCard connection=c /> }).collect_view()}
                    </div>
                })
            })}
        </Suspense>
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
                <span class=status_class data-testid="connection-status">{connection.status.clone()}</span>
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
                    {connection.last_sync_status.clone().map(|s| { let class = format!("pill pill-{s}"); view! { " " <span class=class>{s}</span> } })}
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
