//! `POST /{environment}/refunds` (additive): an admin refunds a payment.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::{Extension, Json};
use payments_model::RefundEnvelope;
use serde_json::Value;

use crate::api::auth::Caller;
use crate::api::errors::ApiError;
use crate::api::{audited_write, validation, wire, ApiState};

/// 201 `{ "refund": … }`; audited with the PaymentIntent as its target and Stripe's request id.
pub(super) async fn create_refund(
    State(st): State<ApiState>,
    Extension(caller): Extension<Caller>,
    Path(env): Path<String>,
    body: Bytes,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let env = validation::environment(&env)?;
    let input = validation::refund_body(&validation::json_body(&body)?)?;
    let target = Some(input.payment_intent_id.clone());
    let refund = audited_write(&st.engine, &caller, "payments.refund.create", env, target, move |e| async move {
        e.create_refund(env, input).await
    })
    .await?;
    Ok((StatusCode::CREATED, wire(RefundEnvelope { refund })?))
}
