//! The audit hook: every write the engine performs on behalf of someone (key set/remove,
//! catalog writes, sync, webhook configuration, event re-processing) is reported to an
//! [`AuditSink`] the console implements, with the Stripe request ids and idempotency keys of
//! the Stripe calls it made.
//!
//! Stripe calls made while an operation runs inside [`Engine::audited`] are collected through a
//! task-local, so the services themselves need no extra parameters.

use std::sync::{Arc, Mutex};

use serde::Serialize;

use crate::engine::Engine;
use crate::environment::Environment;
use crate::error::EngineResult;

/// One Stripe call made by an audited operation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StripeCall {
    /// `POST /v1/products` …
    pub endpoint: String,
    /// Stripe's `Request-Id`.
    pub request_id: Option<String>,
    /// The `Idempotency-Key` sent (writes only).
    pub idempotency_key: Option<String>,
}

/// What the audit log is told about one operation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AuditRecord {
    /// Who: [`crate::Caller::actor`] (`api_key`, `jwt:project_admin:<sub>`…), or `system`.
    pub actor: String,
    /// What: `payments.config.set`, `payments.catalog.product.create`, `payments.sync`,
    /// `payments.webhook.configure`, `payments.webhook_event.reprocess`…
    pub action: String,
    /// Which environment, when the operation has one.
    pub environment: Option<Environment>,
    /// The object acted on (product id, event id…), when there is one.
    pub target: Option<String>,
    /// `None` on success, else the caller-facing error message.
    pub error: Option<String>,
    /// Stripe calls made (in order), with their request ids and idempotency keys.
    pub stripe_calls: Vec<StripeCall>,
}

impl AuditRecord {
    /// The first Stripe request id, for one-line audit entries.
    pub fn stripe_request_id(&self) -> Option<&str> {
        self.stripe_calls.iter().rev().find_map(|c| c.request_id.as_deref())
    }

    /// The idempotency key of the last Stripe write.
    pub fn idempotency_key(&self) -> Option<&str> {
        self.stripe_calls.iter().rev().find_map(|c| c.idempotency_key.as_deref())
    }
}

/// Receives audit records. The default implementation drops them.
pub trait AuditSink: Send + Sync {
    /// Called once per audited operation, after it finished (successfully or not).
    fn record(&self, record: AuditRecord) {
        let _ = record;
    }
}

/// The default sink: records nothing.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoAudit;

impl AuditSink for NoAudit {}

tokio::task_local! {
    static CALLS: Arc<Mutex<Vec<StripeCall>>>;
}

/// Notes a Stripe call if an audited operation is running on this task.
pub(crate) fn note_stripe_call(endpoint: String, request_id: Option<String>, idempotency_key: Option<String>) {
    let _ = CALLS.try_with(|calls| {
        if let Ok(mut calls) = calls.lock() {
            calls.push(StripeCall { endpoint, request_id, idempotency_key });
        }
    });
}

impl Engine {
    /// Runs `op` and reports it to the audit sink as `action` by `actor`, with the Stripe
    /// calls it made. The console's server functions use this around direct service calls; the
    /// HTTP API does it for every write.
    pub async fn audited<T, F>(
        &self,
        actor: &str,
        action: &str,
        environment: Option<Environment>,
        target: Option<&str>,
        op: F,
    ) -> EngineResult<T>
    where
        F: std::future::Future<Output = EngineResult<T>>,
    {
        let calls = Arc::new(Mutex::new(Vec::new()));
        let result = CALLS.scope(calls.clone(), op).await;
        let stripe_calls = calls.lock().map(|c| c.clone()).unwrap_or_default();
        self.inner.audit.record(AuditRecord {
            actor: actor.to_owned(),
            action: action.to_owned(),
            environment,
            target: target.map(str::to_owned),
            error: result.as_ref().err().map(|e| e.public_message()),
            stripe_calls,
        });
        result
    }
}
