//! Toasts: short result messages ("Product created", "Stripe refused: …") in one polite live
//! region, so screen readers announce them and nothing shifts the page layout.
//!
//! Every page is the server's HTML (`crate::app`), so the region is rendered empty, and the
//! page's `crate::ui::enhance::PageForms` island writes each toast into it (its `toast`: a
//! success leaves after six seconds, an error stays until dismissed).

use leptos::prelude::*;

/// Where the toasts appear (bottom right).
#[component]
pub fn ToastRegion() -> impl IntoView {
    view! { <div class="toasts" role="status" aria-live="polite" data-testid="toasts"></div> }
}
