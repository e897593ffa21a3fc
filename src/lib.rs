//! Payments Console: an admin console for Stripe-backed payments.
//!
//! The crate is built twice by cargo-leptos: with `ssr` as the axum server binary, and with
//! `hydrate` as the WebAssembly bundle that makes the server-rendered pages interactive.
//! Modules that only make sense on the server live behind `#[cfg(feature = "ssr")]`.

// Leptos views are nested types; the console's frame (header, navigation, page, toasts) is
// deeper than the default limit when the WASM build lays out its hydration future.
#![recursion_limit = "256"]

pub mod app;
pub mod auth;
pub mod backend;
pub mod environment;
pub mod error;
pub mod model;
pub mod pages;
pub mod services;
pub mod ui;

#[cfg(feature = "ssr")]
pub mod server;

/// Entry point of the WebAssembly bundle: attaches to the server-rendered DOM, in the mode the
/// server rendered it in ([`app::Hydration`]).
#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    match app::Hydration::of_document() {
        // Leptos's islands script calls each island's export once this returns.
        app::Hydration::Islands => {
            leptos::mount::hydrate_islands();
            ui::hydrated::mark_after_islands();
        }
        // The app's chunk first (the page preloads it), then `hydrate_lazy`: the router hydrates
        // a lazily loaded route (`pages/lazy.rs`) once its chunk has arrived, so hydration is
        // asynchronous, and each route marks `<body data-hydrated>` when it is done
        // (`ui/hydrated.rs`).
        app::Hydration::Full => {
            links_wait_for_hydration();
            wasm_bindgen_futures::spawn_local(app::hydrate_app());
        }
    }
}

/// Until the route has hydrated, a click on a link is a plain page load.
///
/// The router starts handling clicks as soon as it exists, while the rest of the page may still
/// be waiting for its route's chunk; a client-side navigation then would land in a frame whose
/// links and handlers are not hydrated yet (the navigation's `aria-current` stayed on the old
/// section). A listener on `window`'s capture phase runs before the router's (on `window`'s
/// bubble phase) and stops the click there, which leaves the browser's own navigation to happen.
#[cfg(feature = "hydrate")]
fn links_wait_for_hydration() {
    use wasm_bindgen::{closure::Closure, JsCast};
    let guard = Closure::<dyn Fn(web_sys::Event)>::new(|ev: web_sys::Event| {
        let hydrated = leptos::prelude::document().body().is_some_and(|b| b.has_attribute("data-hydrated"));
        if !hydrated {
            ev.stop_propagation();
        }
    });
    let capture = true;
    let _ = leptos::prelude::window().add_event_listener_with_callback_and_bool(
        "click",
        guard.as_ref().unchecked_ref(),
        capture,
    );
    // Lives as long as the page.
    guard.forget();
}
