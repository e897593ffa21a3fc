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

/// Entry point of the WebAssembly bundle: the reactive owner the page's islands hydrate under.
/// The shell's loader (`ui/island_loader.js`) calls each island's export once this returns, and
/// then marks `<body data-hydrated>`.
#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_islands();
}
