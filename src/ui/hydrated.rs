//! The `data-hydrated` mark on `<body>`: from then on, the page's handlers are attached.
//!
//! Tests and the time-to-interactive benchmark wait for it, and CSS may use it. It cannot be set
//! when `hydrate_body` returns: a lazily loaded route (`pages/lazy.rs`) hydrates only once its
//! chunk has arrived, later. So every route's view carries this component, and its effect, which
//! runs only in the browser and only after the view around it has hydrated, sets the mark.
//!
//! A page hydrated as islands (`crate::app::Hydration::Islands`) runs no route view in the
//! browser; [`mark_after_islands`] sets the mark there.

use leptos::prelude::*;

/// Marks `<body data-hydrated="true">` once the route around it has hydrated.
#[component]
pub fn HydratedMark() -> impl IntoView {
    Effect::new(move |_| mark());
}

fn mark() {
    if let Some(body) = document().body() {
        let _ = body.set_attribute("data-hydrated", "true");
    }
}

/// Marks `<body>` once every island of the page has hydrated.
///
/// Called from `hydrate()`, just before Leptos's islands script walks the page and calls each
/// island's export. That walk awaits each call, but the islands here are synchronous (none is
/// `#[island(lazy)]`), so the whole walk and the effects it creates run as microtasks; a timer
/// of 0 ms fires only after the microtask queue has drained, so after the last island.
#[cfg(feature = "hydrate")]
pub fn mark_after_islands() {
    set_timeout(mark, std::time::Duration::ZERO);
}
