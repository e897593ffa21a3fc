//! Everything that runs only on the server: configuration, storage, sessions, the HTTP router and
//! the command line. Components never reach in here directly; server functions do, after their
//! role check.

pub mod api_keys;
pub mod assets;
pub mod audit;
pub mod cli;
pub mod crypto;
pub mod db;
pub mod errors;
pub mod export;
pub mod http;
pub mod ids;
pub mod metrics;
pub mod payments;
pub mod precompress;
pub mod sandbox;
pub mod secrets;
pub mod serve;
pub mod sessions;
pub mod settings;
pub mod state;
pub mod throttle;
pub mod users;

/// Seconds since the Unix epoch: the one time representation stored in the database, because
/// it means the same thing in SQLite and PostgreSQL.
pub fn now_unix() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0)
}
