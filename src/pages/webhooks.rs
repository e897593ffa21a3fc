//! The managed Stripe webhook endpoint (admins configure, support reads) and the event log with re-processing.

use leptos::prelude::*;

/// The page.
#[component]
pub fn WebhooksPage() -> impl IntoView {
    view! { <h1>"WebhooksPage"</h1> }
}
