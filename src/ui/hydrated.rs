//! The `data-hydrated` mark on `<body>`: from then on, the page's handlers are attached.
//!
//! Tests and the time-to-interactive benchmark wait for it, and CSS may use it. It cannot be set
//! when `hydrate_body` returns: a lazily loaded route (`pages/lazy.rs`) hydrates only once its
//! chunk has arrived, later. So every route's view carries this component, and its effect, which
//! runs only in the browser and only after the view around it has hydrated, sets the mark.

use leptos::prelude::*;

/// Marks `<body data-hydrated="true">` once the route around it has hydrated.
#[component]
pub fn HydratedMark() -> impl IntoView {
    Effect::new(move |_| {
        if let Some(body) = document().body() {
            let _ = body.set_attribute("data-hydrated", "true");
        }
    });
}
