//! The data shapes of the InsForge Payments v2 API (camelCase JSON, ISO timestamps) and of the
//! embedded engine's additive routes. Plain serde types, shared by the engine that serves them,
//! the console's remote backend that reads them over HTTP, and the console's pages in the browser.

#![warn(missing_docs)]

pub mod calendar;
pub mod contract;
pub mod envelopes;
pub mod environment;
pub mod filters;
pub mod forwarding;
pub mod lists;
pub mod overview;
pub mod paging;
pub mod progress;
pub mod refunds;
pub mod sessions;
pub mod values;

pub use contract::*;
pub use envelopes::*;
pub use environment::Environment;
pub use filters::*;
pub use forwarding::*;
pub use lists::*;
pub use overview::*;
pub use paging::{Cursor, Paging};
pub use progress::*;
pub use refunds::*;
pub use sessions::*;
pub use values::*;
