//! Everything about one billing subject (`/test/subjects/team/acme`): mapping, subscriptions, payments, events.

use leptos::prelude::*;

/// The page.
#[component]
pub fn SubjectPage() -> impl IntoView {
    view! { <h1>"SubjectPage"</h1> }
}
