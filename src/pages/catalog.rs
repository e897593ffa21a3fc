//! The catalog: products with their prices; admins create, edit, archive and delete.

use leptos::prelude::*;

/// The page.
#[component]
pub fn CatalogPage() -> impl IntoView {
    view! { <h1>"CatalogPage"</h1> }
}
