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
        // The shell's loader (`ui/island_loader.js`) calls each island's export once this
        // returns, and then marks `<body data-hydrated>`.
        app::Hydration::Islands => leptos::mount::hydrate_islands(),
        // The app's chunk first (the page preloads it), then a page not found hydrates with
        // the router, and the route marks `<body data-hydrated>` when it is done (`ui/hydrated.rs`).
        app::Hydration::Full => {
            links_leave_the_app();
            wasm_bindgen_futures::spawn_local(app::hydrate_app());
        }
    }
}

/// A click on a link is a plain page load until the page has hydrated, and always when it leads
/// to a page of islands.
///
/// The router handles clicks on links as soon as it exists, while the page may still be
/// hydrating; a client-side navigation then would land in a frame whose links and handlers are
/// not hydrated yet (the navigation's `aria-current` stayed on the old section). And a page of
/// islands ([`app::Hydration`]) is not in the whole app's chunk at all: only the server renders
/// it. A listener on `window`'s capture phase runs before the router's (on `window`'s bubble
/// phase) and stops such a click there, which leaves the browser's own navigation to happen.
#[cfg(feature = "hydrate")]
fn links_leave_the_app() {
    use wasm_bindgen::{closure::Closure, JsCast};
    let guard = Closure::<dyn Fn(web_sys::Event)>::new(|ev: web_sys::Event| {
        let hydrated = leptos::prelude::document().body().is_some_and(|b| b.has_attribute("data-hydrated"));
        if !hydrated || leads_to_islands(&ev) {
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

/// Whether a click is on a link to a page of islands on this site (`/test/keys`, `/live/history?…`).
#[cfg(feature = "hydrate")]
fn leads_to_islands(ev: &web_sys::Event) -> bool {
    use wasm_bindgen::JsCast;
    let anchor = ev
        .target()
        .and_then(|target| target.dyn_into::<web_sys::Element>().ok())
        .and_then(|element| element.closest("a[href]").ok().flatten());
    let Some(href) = anchor.and_then(|a| a.get_attribute("href")) else {
        return false;
    };
    // The console's own links are paths; anything else is the router's business (it leaves other
    // sites to the browser).
    let path = href.split(['?', '#']).next().unwrap_or_default();
    path.starts_with('/') && !path.starts_with("//") && app::Hydration::for_path(path) == app::Hydration::Islands
}
