//! The console's own data shapes and pure functions, compiled for both the server and the
//! browser. Pages, services, the backend and the server code all import from here; this module
//! imports nothing above `backend` and `error` (a test, `tests/integration/layers.rs`, keeps
//! the lower layers from importing pages or `ui`). The InsForge contract's shapes are in
//! `crates/payments-model`.

pub mod audit;
pub mod format;
pub mod forwarding;
pub mod history;
