//! Payment history: filters, keyset pagination, CSV export of the filtered view, chart and status breakdown.

use leptos::prelude::*;

/// The page.
#[component]
pub fn HistoryPage() -> impl IntoView {
    view! { <h1>"HistoryPage"</h1> }
}
