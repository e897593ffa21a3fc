//! The console's integration tests, as one test binary: each suite used to be its own binary,
//! and each linked the whole server again (about 0.8 GB and half a minute of linking apiece).
//! Every suite boots its own servers on loopback with a fresh database (see `support`).

mod support;

mod admin_pages;
mod assets;
mod backend;
mod build_stamp;
mod catalog_pages;
mod cli;
mod console;
mod error_statuses;
mod hardening;
mod layers;
mod payments_api;
mod processes;
mod support_pages;
