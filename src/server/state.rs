//! The state every handler and server function shares.

use super::api_keys::ApiKeyStore;
use super::audit::AuditLog;
use super::crypto::MasterKey;
use super::db::Db;
use super::payments::ConsoleAuthenticator;
use super::sessions::SessionStore;
use super::settings::Settings;
use super::throttle::LoginThrottle;
use super::users::UserStore;
use crate::backend::ssr::{EmbeddedBackend, PaymentsBackend};
use axum::extract::FromRef;
use leptos::config::LeptosOptions;
use std::sync::Arc;

/// Handles to the stores and settings; cheap to clone (everything inside is shared).
#[derive(Clone)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    pub db: Db,
    pub users: UserStore,
    pub sessions: SessionStore,
    pub throttle: LoginThrottle,
    pub api_keys: ApiKeyStore,
    pub audit: AuditLog,
    pub settings: Arc<Settings>,
    pub master_key: Arc<MasterKey>,
    /// The embedded payments engine (InsForge Payments v2), which also serves `/api/payments`.
    pub engine: payments_engine::Engine,
    /// What the server functions call for payments data: the engine above, or a remote
    /// InsForge backend (`--backend URL`).
    pub backend: Arc<dyn PaymentsBackend>,
    /// The engine's `/api/payments` routes with the console's authenticator, built once: the
    /// HTTP router serves it and the embedded backend calls it in process.
    pub payments_api: axum::Router,
    /// The site's stylesheet, read when the server starts, which every page carries inline; `None`
    /// when pages link it (`super::assets::read_inline_stylesheet` says when and why).
    pub stylesheet: Option<Arc<str>>,
}

impl AppState {
    /// Wires the stores to one database.
    pub fn new(
        leptos_options: LeptosOptions,
        db: Db,
        settings: Settings,
        master_key: Arc<MasterKey>,
        engine: payments_engine::Engine,
        remote: Option<Arc<dyn PaymentsBackend>>,
    ) -> Self {
        let settings = Arc::new(settings);
        let payments_api = engine.router(Arc::new(ConsoleAuthenticator::new(&db, &settings)));
        let backend = remote.unwrap_or_else(|| Arc::new(EmbeddedBackend::new(payments_api.clone())));
        AppState {
            stylesheet: super::assets::read_inline_stylesheet(&leptos_options),
            backend,
            engine,
            leptos_options,
            users: UserStore::new(db.clone()),
            sessions: SessionStore::new(db.clone(), settings.session_idle_timeout_secs),
            throttle: LoginThrottle::new(db.clone()),
            api_keys: ApiKeyStore::new(db.clone()),
            audit: AuditLog::new(db.clone()),
            db,
            settings,
            payments_api,
            master_key,
        }
    }
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos_options.clone()
    }
}

/// The state, from inside a server function (provided by the router for every request).
pub fn app_state() -> AppState {
    leptos::prelude::expect_context::<AppState>()
}
