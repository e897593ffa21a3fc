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

/// Entry point of the WebAssembly bundle: attaches to the server-rendered DOM.
#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_body(app::App);
    // A marker for tests and for CSS: from here on, the page is interactive.
    if let Some(body) = leptos::prelude::document().body() {
        let _ = body.set_attribute("data-hydrated", "true");
    }
}
