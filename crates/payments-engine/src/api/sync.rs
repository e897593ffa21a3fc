//! Sync (3)/(8), its progress, webhook configuration (9), the Stripe receiver (24) and the
//! re-processing of stored events.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::{Extension, Json};
use serde_json::Value;

use crate::api::auth::Caller;
use crate::api::errors::ApiError;
use crate::api::{detached, validation, wire, ApiState};
use crate::environment::Environment;
use crate::error::EngineError;
use crate::metrics::WebhookOutcome;
use crate::model::{ConfiguredWebhook, SyncEnvironmentResult, SyncResponse, WebhookResponse};
use payments_model::SyncProgress;

pub(super) async fn sync_all(
    State(st): State<ApiState>,
    Extension(caller): Extension<Caller>,
) -> Result<Json<SyncResponse>, ApiError> {
    let engine = st.engine.clone();
    let actor = caller.actor();
    Ok(Json(
        detached(async move { engine.audited(&actor, "payments.sync", None, None, engine.sync_all()).await }).await?,
    ))
}

pub(super) async fn sync_env(
    State(st): State<ApiState>,
    Extension(caller): Extension<Caller>,
    Path(env): Path<String>,
) -> Result<Json<SyncEnvironmentWrapper>, ApiError> {
    let env = validation::environment(&env)?;
    let engine = st.engine.clone();
    let actor = caller.actor();
    let result = detached(async move {
        engine.audited(&actor, "payments.sync", Some(env), None, engine.sync_environment(env)).await
    })
    .await?;
    Ok(Json(SyncEnvironmentWrapper { results: vec![result] }))
}

/// `{results: [one]}`.
#[derive(serde::Serialize)]
pub(super) struct SyncEnvironmentWrapper {
    results: Vec<SyncEnvironmentResult>,
}

pub(super) async fn sync_progress(
    State(st): State<ApiState>,
    Path(env): Path<String>,
) -> Result<Json<SyncProgress>, ApiError> {
    let env = validation::environment(&env)?;
    Ok(Json(st.engine.sync_progress(env)))
}

pub(super) async fn configure_webhook(
    State(st): State<ApiState>,
    Extension(caller): Extension<Caller>,
    Path(env): Path<String>,
) -> Result<Json<ConfiguredWebhook>, ApiError> {
    let env = validation::environment(&env)?;
    let engine = st.engine.clone();
    let actor = caller.actor();
    Ok(Json(
        detached(async move {
            engine.audited(&actor, "payments.webhook.configure", Some(env), None, engine.configure_webhook(env)).await
        })
        .await?,
    ))
}

pub(super) async fn reprocess_event(
    State(st): State<ApiState>,
    Extension(caller): Extension<Caller>,
    Path((env, id)): Path<(String, String)>,
) -> Result<Json<WebhookResponse>, ApiError> {
    let (env, id) = validation::environment_and_id(&env, &id, "eventId", "Stripe event id is required")?;
    let engine = st.engine.clone();
    let actor = caller.actor();
    Ok(Json(
        detached(async move {
            engine
                .audited(
                    &actor,
                    "payments.webhook_event.reprocess",
                    Some(env),
                    Some(&id),
                    engine.reprocess_webhook_event(env, &id),
                )
                .await
        })
        .await?,
    ))
}

/// `POST /api/webhooks/stripe/{env}`: the raw body is verified before anything is parsed.
pub(super) async fn receive(
    State(st): State<ApiState>,
    Path(env): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let started = std::time::Instant::now();
    let Some(env) = Environment::parse(&env) else {
        return Err(EngineError::InvalidInput("Invalid Stripe environment".into()).into());
    };
    // Deliveries refused here never reach the engine's own count (`Engine::receive_webhook`).
    let refused = |outcome| crate::metrics::webhook_event(env, outcome, started.elapsed());
    let Some(signature) = headers.get("stripe-signature").and_then(|v| v.to_str().ok()).map(str::to_owned) else {
        refused(WebhookOutcome::RefusedSignature);
        return Err(ApiError::new(401, "AUTH_UNAUTHORIZED", "Missing stripe-signature header"));
    };
    let is_json = headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.split(';').next().is_some_and(|m| m.trim().eq_ignore_ascii_case("application/json")));
    if !is_json {
        refused(WebhookOutcome::Invalid);
        return Err(EngineError::InvalidInput("Stripe webhook requires raw request body".into()).into());
    }
    let engine = st.engine.clone();
    let response = detached(async move { engine.receive_webhook(env, &body, &signature).await }).await?;
    Ok(wire(response)?)
}
