//! Sync from Stripe (admin): one or both environments, live progress per object type, the result table.

use crate::ui::guard::AdminOnly;
use leptos::prelude::*;

/// The page.
#[component]
pub fn SyncPage() -> impl IntoView {
    view! {
        <AdminOnly>
            <h1>"SyncPage"</h1>
        </AdminOnly>
    }
}
