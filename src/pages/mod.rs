//! The console's pages, one module each, with the server functions they call beside them.

pub mod audit;
pub mod login;
pub mod not_found;
pub mod overview;
pub mod placeholder;
