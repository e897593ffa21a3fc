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
    view! {
        <Title text="Overview" />
        <h1>{move || format!("{} environment", env.get().label())}</h1>
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
