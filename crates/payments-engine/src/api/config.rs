//! `GET /api/payments/config`, `PUT` and `DELETE /api/payments/{env}/config`.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::{Extension, Json};

use crate::api::auth::Caller;
use crate::api::errors::ApiError;
use crate::api::{audited_write, validation, ApiState};
use crate::model::PaymentsConfig;

pub(super) async fn get_config(State(st): State<ApiState>) -> Result<Json<PaymentsConfig>, ApiError> {
    Ok(Json(st.engine.config().await?))
}

pub(super) async fn put_config(
    State(st): State<ApiState>,
    Extension(caller): Extension<Caller>,
    Path(env): Path<String>,
    body: Bytes,
) -> Result<Json<PaymentsConfig>, ApiError> {
    let env = validation::environment(&env)?;
    let key = zeroize::Zeroizing::new(validation::secret_key_body(&validation::json_body(&body)?)?);
    let config = audited_write(&st.engine, &caller, "payments.config.set", env, None, move |e| async move {
        e.set_secret_key(env, &key).await
    })
    .await?;
    Ok(Json(config))
}

pub(super) async fn delete_config(
    State(st): State<ApiState>,
    Extension(caller): Extension<Caller>,
    Path(env): Path<String>,
) -> Result<Json<PaymentsConfig>, ApiError> {
    let env = validation::environment(&env)?;
    let config = audited_write(&st.engine, &caller, "payments.config.remove", env, None, move |e| async move {
        e.remove_secret_key(env).await
    })
    .await?;
    Ok(Json(config))
}
