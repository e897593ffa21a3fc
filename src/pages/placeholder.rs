//! Sections whose pages are not built yet. Each says so plainly, and what it will do, instead
//! of showing an empty screen that looks broken.

use crate::ui::layout::{use_env, use_user};
use crate::ui::nav::SECTIONS;
use leptos::prelude::*;
use leptos_meta::Title;

/// A section that only admins may open; support users are told so and shown nothing else.
#[component]
pub fn AdminOnly(children: ChildrenFn) -> impl IntoView {
    let user = use_user();
    move || {
        if user.role.can_write() {
            children().into_any()
        } else {
            view! {
                <div class="notice notice-forbidden" role="alert" data-testid="forbidden">
                    <h1>"Admins only"</h1>
                    <p>"Your role (support) can read customers, subscriptions, payments and webhook events, but not this section."</p>
                </div>
            }
            .into_any()
        }
    }
}

/// The body of a section that is not built yet.
#[component]
fn Upcoming(slug: &'static str, issue: u32, what: &'static str) -> impl IntoView {
    let env = use_env();
    let label = SECTIONS.iter().find(|s| s.slug == slug).map_or(slug, |s| s.label);
    view! {
        <Title text=label />
        <h1>{label}</h1>
        <div class="notice" data-testid="placeholder">
            <p>
                <strong>"Not built yet."</strong>
                {format!(" This page arrives with issue #{issue}. It will {what}.")}
            </p>
            <p class="muted">{move || format!("Environment: {}", env.get().label())}</p>
        </div>
    }
}

/// Stripe keys (admin).
#[component]
pub fn KeysPage() -> impl IntoView {
    view! {
        <AdminOnly>
            <Upcoming slug="keys" issue=5 what="set and remove the Stripe secret key of this environment, showing it masked" />
        </AdminOnly>
    }
}

/// Sync from Stripe (admin).
#[component]
pub fn SyncPage() -> impl IntoView {
    view! {
        <AdminOnly>
            <Upcoming slug="sync" issue=5 what="sync this environment from Stripe with a live progress bar per object type" />
        </AdminOnly>
    }
}

/// Products and prices.
#[component]
pub fn CatalogPage() -> impl IntoView {
    view! { <Upcoming slug="catalog" issue=5 what="list, create and edit products and their one-time and recurring prices" /> }
}

/// Customers.
#[component]
pub fn CustomersPage() -> impl IntoView {
    view! { <Upcoming slug="customers" issue=5 what="search customers by email, name or id, with their spend and payments" /> }
}

/// Subscriptions.
#[component]
pub fn SubscriptionsPage() -> impl IntoView {
    view! { <Upcoming slug="subscriptions" issue=5 what="filter subscriptions by billing subject, status and customer" /> }
}

/// Payment history.
#[component]
pub fn HistoryPage() -> impl IntoView {
    view! { <Upcoming slug="history" issue=5 what="filter payments and refunds, chart them over time and export them as CSV" /> }
}

/// Webhook endpoint and event log.
#[component]
pub fn WebhooksPage() -> impl IntoView {
    view! { <Upcoming slug="webhooks" issue=5 what="show the managed Stripe webhook endpoint and the event log, with re-processing" /> }
}
