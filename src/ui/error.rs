//! How a page shows an error, and the page's HTTP status that goes with it.
//!
//! During server-side rendering, server functions are called directly, so nothing answers them
//! with a status of their own; the page's status is set here instead, where the page shows the
//! error, so that it says what the body says (a 404 page for a subscription that does not
//! exist). An error a page handles otherwise (a notice that the backend lacks a feature, a
//! figure left out) leaves the status alone.

use crate::error::AppError;
use leptos::prelude::*;

/// Gives the page being rendered on the server the status of `error` (a no-op in the browser).
/// Called where a page shows an error: [`ErrorPanel`], the layout's error boundary, and a page
/// with a panel of its own (the catalog's, which has a retry button).
pub fn set_page_status(error: &AppError) {
    #[cfg(feature = "ssr")]
    if let Some(res) = use_context::<leptos_axum::ResponseOptions>() {
        res.set_status(crate::server::errors::status_of(error));
    }
    #[cfg(not(feature = "ssr"))]
    let _ = error;
}

/// An error shown in place of what could not be loaded, keeping the page around it; the page
/// answers with the error's status.
#[component]
pub fn ErrorPanel(error: AppError, #[prop(optional)] testid: Option<&'static str>) -> impl IntoView {
    set_page_status(&error);
    view! { <p class="error-panel" role="alert" data-testid=testid>{error.to_string()}</p> }
}
