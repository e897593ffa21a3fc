//! The `data-hydrated` mark on `<body>`: from then on, the page's handlers are attached.
//!
//! Tests and the time-to-interactive benchmark wait for it, and CSS may use it. Where the whole
//! app hydrates (a page not found), the route's view carries this component, and its
//! effect, which runs only in the browser and only after the view around it has hydrated, sets
//! the mark.
//!
//! A page hydrated as islands (`crate::app::Hydration::Islands`) runs no route view in the
//! browser; the shell's loader (`src/ui/island_loader.js`) sets the mark there, once the last
//! island, lazily loaded ones included, has hydrated.

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
