//! The InsForge Payments v2 HTTP API (admin part): `/api/payments/...`.
//!
//! Route order follows the reference (§2.1): the admin guard runs first on every route (and on
//! unknown paths under `/api/payments`, which then answer the reference's `NOT_FOUND`), then the
//! path parameters are validated, then the body. Writes run on a spawned task so that a client
//! hanging up cannot cancel an operation half-way between Stripe and the mirror.

pub mod auth;
mod catalog;
mod config;
pub mod errors;
mod lists;
mod runtime;
mod status;
mod sync;
pub(crate) mod validation;

use std::future::Future;
use std::sync::Arc;

use axum::extract::{OriginalUri, Request};
use axum::middleware;
use axum::routing::{get, post, put, MethodRouter};
use axum::Router;

use crate::engine::Engine;
use crate::error::{EngineError, EngineResult};
use auth::Authenticator;
use errors::ApiError;

/// Shared state of the handlers.
#[derive(Clone)]
pub(crate) struct ApiState {
    pub engine: Engine,
    pub auth: Arc<dyn Authenticator>,
}

/// Unknown endpoint (or method) under `/api/payments`: the reference's JSON 404.
async fn endpoint_not_found(OriginalUri(uri): OriginalUri, _req: Request) -> ApiError {
    ApiError::endpoint_not_found(&uri.to_string())
}

/// Wrong methods answer like unknown endpoints (Express has no 405).
fn route(m: MethodRouter<ApiState>) -> MethodRouter<ApiState> {
    m.fallback(endpoint_not_found)
}

/// Runs a write to completion even if the request is dropped.
pub(crate) async fn detached<T: Send + 'static>(
    fut: impl Future<Output = EngineResult<T>> + Send + 'static,
) -> EngineResult<T> {
    tokio::spawn(fut).await.map_err(|e| EngineError::Internal(format!("payments task failed: {e}")))?
}

/// Runs an admin write for `caller` to completion (see [`detached`]) inside
/// [`Engine::audited`], so every write route reports who did what, with its Stripe calls.
pub(crate) async fn audited_write<T, Fut>(
    engine: &Engine,
    caller: &auth::Caller,
    action: &'static str,
    env: crate::environment::Environment,
    target: Option<String>,
    op: impl FnOnce(Engine) -> Fut + Send + 'static,
) -> EngineResult<T>
where
    T: Send + 'static,
    Fut: Future<Output = EngineResult<T>> + Send + 'static,
{
    let engine = engine.clone();
    let actor = caller.actor();
    detached(async move {
        let work = op(engine.clone());
        engine.audited(&actor, action, Some(env), target.as_deref(), work).await
    })
    .await
}

/// The payments admin API, to merge into the console's router. `auth` decides who calls.
pub fn router(engine: Engine, auth: Arc<dyn Authenticator>) -> Router {
    let state = ApiState { engine, auth };
    let payments = Router::new()
        .route("/status", route(get(status::status)))
        .route("/config", route(get(config::get_config)))
        .route("/sync", route(post(sync::sync_all)))
        .route("/{environment}/checkout-sessions", route(post(runtime::create_checkout_session)))
        .route("/{environment}/customer-portal-sessions", route(post(runtime::create_customer_portal_session)))
        .route("/{environment}/config", route(put(config::put_config).delete(config::delete_config)))
        .route("/{environment}/sync", route(post(sync::sync_env)))
        .route("/{environment}/sync/progress", route(get(sync::sync_progress)))
        .route("/{environment}/webhook", route(post(sync::configure_webhook)))
        .route("/{environment}/subscriptions", route(get(lists::subscriptions)))
        .route("/{environment}/payment-history", route(get(lists::payment_history)))
        .route("/{environment}/payment-history/summary", route(get(lists::payment_history_summary)))
        .route("/{environment}/customers", route(get(lists::customers)))
        .route("/{environment}/webhook-events", route(get(lists::webhook_events)))
        .route("/{environment}/webhook-events/{eventId}/reprocess", route(post(sync::reprocess_event)))
        .route("/{environment}/catalog", route(get(catalog::list_catalog)))
        .route("/{environment}/catalog/products", route(get(catalog::list_products).post(catalog::create_product)))
        .route(
            "/{environment}/catalog/products/{productId}",
            route(get(catalog::get_product).patch(catalog::update_product).delete(catalog::delete_product)),
        )
        .route("/{environment}/catalog/prices", route(get(catalog::list_prices).post(catalog::create_price)))
        .route(
            "/{environment}/catalog/prices/{priceId}",
            route(get(catalog::get_price).patch(catalog::update_price).delete(catalog::archive_price)),
        )
        .fallback(endpoint_not_found)
        .layer(middleware::from_fn_with_state(state.clone(), auth::require_admin))
        .with_state(state.clone());
    let webhooks =
        Router::new().route("/api/webhooks/stripe/{environment}", route(post(sync::receive))).with_state(state);
    Router::new().nest("/api/payments", payments).merge(webhooks)
}

impl Engine {
    /// [`router`] for this engine.
    pub fn router(&self, auth: Arc<dyn Authenticator>) -> Router {
        router(self.clone(), auth)
    }
}
