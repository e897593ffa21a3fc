//! The overview of one environment.

use crate::ui::layout::{use_env, use_user};
use crate::ui::nav::SECTIONS;
use leptos::prelude::*;
use leptos_meta::Title;

/// Landing page of an environment: where things stand and where to go.
#[component]
pub fn OverviewPage() -> impl IntoView {
    let env = use_env();
    let user = use_user();
    let can_write = user.role.can_write();
    let info = Resource::new(|| (), |_| instance_info());
    view! {
        <Title text="Overview" />
        <h1>{move || format!("{} environment", env.get().label())}</h1>
        <Suspense>
            {move || Suspend::new(async move {
                info.await.ok().and_then(|i| i.demo_sandbox_url).map(|url| view! {
                    <div class="notice" data-testid="demo-notice">
                        <p>
                            <strong>"Demo mode."</strong>
                            " An offline Stripe sandbox with demo data runs inside this console at "
                            <code>{url}</code>
                            ". Configure a real Stripe key to leave demo mode."
                        </p>
                    </div>
                })
            })}
        </Suspense>
        <div class="notice" data-testid="placeholder">
            <p>
                <strong>"Stripe is not connected yet."</strong>
                " Connection status, account, masked key, webhook endpoint, last sync and attention items arrive with issues #4 and #5."
            </p>
        </div>
        <h2>"Sections"</h2>
        <ul class="section-cards">
            {SECTIONS
                .iter()
                .filter(|s| !s.slug.is_empty() && (can_write || !s.admin_only))
                .map(|s| {
                    let slug = s.slug;
                    view! {
                        <li>
                            <a href=move || format!("/{}/{slug}", env.get())>{s.label}</a>
                        </li>
                    }
                })
                .collect_view()}
        </ul>
    }
}

/// Facts about this console instance that any signed-in user may see.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct InstanceFacts {
    /// Base URL of the in-process Stripe sandbox when running with `--demo`.
    pub demo_sandbox_url: Option<String>,
    /// The console's version.
    pub version: String,
}

/// Facts about this console instance. Any signed-in user.
#[server(prefix = "/api/console", endpoint = "instance")]
pub async fn instance_info() -> Result<InstanceFacts, crate::error::AppError> {
    crate::auth::ssr::require_reader()?;
    let state = crate::server::state::app_state();
    Ok(InstanceFacts {
        demo_sandbox_url: state.settings.demo_sandbox_url.clone(),
        version: env!("CARGO_PKG_VERSION").to_string(),
    })
}
