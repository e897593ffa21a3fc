//! Stripe secret keys of an environment (admin): set with validation, masked display, removal with confirmation.

use crate::ui::guard::AdminOnly;
use leptos::prelude::*;

/// The page.
#[component]
pub fn KeysPage() -> impl IntoView {
    view! {
        <AdminOnly>
            <h1>"KeysPage"</h1>
        </AdminOnly>
    }
}
