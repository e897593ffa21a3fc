//! `GET /api/payments/status`.

use axum::extract::State;
use axum::Json;

use crate::api::errors::ApiError;
use crate::api::ApiState;
use crate::model::PaymentsStatus;

pub(super) async fn status(State(st): State<ApiState>) -> Result<Json<PaymentsStatus>, ApiError> {
    Ok(Json(st.engine.status().await?))
}
