//! The buttons of the list pages' filter forms, so every form applies and clears its filters
//! with the same words (the pages used to say "Filter", "Search" and "Apply filters").

use leptos::prelude::*;

/// The label of every filter form's submit button.
pub const APPLY_FILTERS: &str = "Apply filters";

/// The label of the link that clears a filter form.
pub const CLEAR_FILTERS: &str = "Clear filters";

/// The submit button of a filter form.
#[component]
pub fn ApplyFilters() -> impl IntoView {
    view! {
        <button type="submit" class="button-primary" data-testid="apply-filters">
            {APPLY_FILTERS}
        </button>
    }
}

/// The link that clears a filter form: the page without its filters.
#[component]
pub fn ClearFilters(
    /// The page's address without filters (`?` for the current page).
    #[prop(into)]
    href: Signal<String>,
) -> impl IntoView {
    view! {
        <a href=move || href.get() class="button-link" data-testid="clear-filters">
            {CLEAR_FILTERS}
        </a>
    }
}
