//! Refunds by admins (additive: `POST /api/payments/{environment}/refunds`).
//!
//! The engine asks Stripe and answers with the refund Stripe created; it does not touch the
//! payment history itself. The history learns of the refund the way it learns of every other
//! one, from Stripe's `charge.refunded` / `refund.*` events, so a refund made here and one made
//! in Stripe's Dashboard end up as the same rows.

use serde_json::Value;
use stripe_client::{Form, Method};

use crate::catalog::idempotency;
use crate::engine::Engine;
use crate::environment::Environment;
use crate::error::{EngineError, EngineResult};
use crate::time::iso_opt;
use payments_model::{CreateRefund, Refund, RefundReason, RefundStatus};

impl Engine {
    /// Refunds all or part of a payment: Stripe `POST /v1/refunds`. Stripe's refusals (already
    /// refunded, more than is left, not succeeded) come back with Stripe's message.
    pub async fn create_refund(&self, env: Environment, input: CreateRefund) -> EngineResult<Refund> {
        let client = self.configured_client(env).await?;
        let form = Form::new()
            .set("payment_intent", input.payment_intent_id.as_str())
            .set_opt("amount", input.amount)
            .set_opt("reason", input.reason.as_ref().map(RefundReason::as_str));
        let opts = idempotency(env, "refund", input.idempotency_key.as_deref());
        let object = crate::stripe::request(&client, Method::POST, "/v1/refunds", &form, &opts).await?;
        refund_of(env, &object)
    }
}

/// The [`Refund`] of Stripe's refund object.
fn refund_of(env: Environment, r: &Value) -> EngineResult<Refund> {
    let text = |key: &str| r.get(key).and_then(Value::as_str).map(str::to_owned);
    let id = text("id").ok_or_else(|| EngineError::Internal("Stripe's refund has no id".into()))?;
    Ok(Refund {
        environment: env,
        stripe_refund_id: id,
        stripe_payment_intent_id: text("payment_intent"),
        stripe_charge_id: text("charge"),
        amount: r.get("amount").and_then(Value::as_i64).unwrap_or(0),
        currency: text("currency").unwrap_or_default(),
        status: text("status").map_or(RefundStatus::Pending, RefundStatus::from),
        reason: text("reason").map(RefundReason::from),
        // Stripe's `created` is in seconds.
        created_at: iso_opt(r.get("created").and_then(Value::as_i64).map(|s| s.saturating_mul(1000))),
    })
}
