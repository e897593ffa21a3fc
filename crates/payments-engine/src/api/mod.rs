//! The InsForge Payments v2 HTTP API (admin part): `/api/payments/...`.
//!
//! Route order follows the reference (`contract/BEHAVIOUR.md` §2.1): the admin guard runs first on
//! every route (and on unknown paths under `/api/payments`, which then answer the reference's
//! `NOT_FOUND`), then the path parameters are validated, then the body. Writes run on a spawned
//! task so that a client hanging up cannot cancel an operation half-way between Stripe and the
//! mirror.

pub mod auth;
mod catalog;
mod config;
pub mod errors;
mod forwarding;
mod lists;
mod refunds;
mod runtime;
mod status;
mod sync;
pub(crate) mod validation;

use std::future::Future;
use std::sync::Arc;

use axum::extract::{OriginalUri, Request};
use axum::middleware;
use axum::routing::{post, MethodRouter};
use axum::{Json, Router};
use serde::Serialize;
use serde_json::Value;

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

/// A typed body (`payments_model`'s envelopes and shapes) as these routes have always sent it:
/// through `serde_json::Value`, whose maps sort their keys. The InsForge CLI and SDK read these
/// bytes, so the order stays alphabetical rather than the structs' (the model's wire tests pin it).
pub(crate) fn wire<T: Serialize>(body: T) -> EngineResult<Json<Value>> {
    // The contract's shapes have string keys only, so this does not fail; if a shape ever made
    // it fail, the caller gets a 500, not a panic in the handler.
    serde_json::to_value(body).map(Json).map_err(|e| EngineError::Internal(format!("serialising a response: {e}")))
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

/// One route of the payments API: a method and a path in axum's syntax.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RouteSpec {
    /// Lower-case HTTP method (`get`, `post`, ...), as axum's routing functions are named.
    pub method: &'static str,
    /// The full path, e.g. `/api/payments/{environment}/catalog`.
    pub path: &'static str,
}

/// Declares the routes under `/api/payments` once, and derives from that one list both the router
/// ([`payments_routes`]) and the table of its routes ([`ROUTES`]), so that a route cannot be
/// served without being listed: the role-matrix test (`tests/hardening/role_matrix.rs`) calls
/// every listed route as every kind of caller and fails on a route it has no decision for.
macro_rules! payments_api {
    ($($path:literal => $first:ident($handler:path) $(.$method:ident($more:path))* ;)+) => {
        /// Every route under `/api/payments` (see [`payments_api!`]), plus [`WEBHOOK_PATH`].
        pub const ROUTES: &[RouteSpec] = &[
            $(
                RouteSpec { method: stringify!($first), path: concat!("/api/payments", $path) },
                $( RouteSpec { method: stringify!($method), path: concat!("/api/payments", $path) }, )*
            )+
            RouteSpec { method: "post", path: WEBHOOK_PATH },
        ];

        /// The routes of [`ROUTES`] under `/api/payments`, without their guard.
        fn payments_routes() -> Router<ApiState> {
            Router::new()
                $( .route($path, route(axum::routing::$first($handler) $(.$method($more))*)) )+
        }
    };
}

payments_api! {
    "/status" => get(status::status);
    "/config" => get(config::get_config);
    "/sync" => post(sync::sync_all);
    "/{environment}/checkout-sessions" => post(runtime::create_checkout_session);
    "/{environment}/customer-portal-sessions" => post(runtime::create_customer_portal_session);
    "/{environment}/config" => put(config::put_config).delete(config::delete_config);
    "/{environment}/sync" => post(sync::sync_env);
    "/{environment}/sync/progress" => get(sync::sync_progress);
    "/{environment}/webhook" => post(sync::configure_webhook);
    "/{environment}/webhook/forwarding-secret" =>
        put(forwarding::put_forwarding_secret).delete(forwarding::delete_forwarding_secret);
    "/{environment}/subscriptions" => get(lists::subscriptions);
    "/{environment}/payment-history" => get(lists::payment_history);
    "/{environment}/payment-history/summary" => get(lists::payment_history_summary);
    "/{environment}/customers" => get(lists::customers);
    "/{environment}/overview" => get(lists::overview);
    "/{environment}/subscriptions/summary" => get(lists::subscription_statuses);
    "/{environment}/webhook-events" => get(lists::webhook_events);
    "/{environment}/webhook-events/{eventId}/reprocess" => post(sync::reprocess_event);
    "/{environment}/refunds" => post(refunds::create_refund);
    "/{environment}/catalog" => get(catalog::list_catalog);
    "/{environment}/catalog/products" => get(catalog::list_products).post(catalog::create_product);
    "/{environment}/catalog/products/{productId}" =>
        get(catalog::get_product).patch(catalog::update_product).delete(catalog::delete_product);
    "/{environment}/catalog/prices" => get(catalog::list_prices).post(catalog::create_price);
    "/{environment}/catalog/prices/{priceId}" =>
        get(catalog::get_price).patch(catalog::update_price).delete(catalog::archive_price);
}

/// Where Stripe delivers an environment's events (authenticated by their signature, not a caller).
pub const WEBHOOK_PATH: &str = "/api/webhooks/stripe/{environment}";

/// The payments admin API, to merge into the console's router. `auth` decides who calls.
pub fn router(engine: Engine, auth: Arc<dyn Authenticator>) -> Router {
    let state = ApiState { engine, auth };
    let payments = payments_routes()
        .fallback(endpoint_not_found)
        .layer(middleware::from_fn_with_state(state.clone(), auth::require_admin))
        .with_state(state.clone());
    let webhooks = Router::new().route(WEBHOOK_PATH, route(post(sync::receive))).with_state(state);
    Router::new().nest("/api/payments", payments).merge(webhooks)
}

impl Engine {
    /// [`router`] for this engine.
    pub fn router(&self, auth: Arc<dyn Authenticator>) -> Router {
        router(self.clone(), auth)
    }
}
