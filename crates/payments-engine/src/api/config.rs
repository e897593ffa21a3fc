//! `GET /api/payments/config`, `PUT` and `DELETE /api/payments/{env}/config`.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::{Extension, Json};

use crate::api::auth::Caller;
use crate::api::errors::ApiError;
use crate::api::{detached, validation, ApiState};
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
    let engine = st.engine.clone();
    let actor = caller.actor();
    Ok(Json(
        detached(async move {
            engine.audited(&actor, "payments.config.set", Some(env), None, engine.set_secret_key(env, &key)).await
        })
        .await?,
    ))
}

pub(super) async fn delete_config(
    State(st): State<ApiState>,
    Extension(caller): Extension<Caller>,
    Path(env): Path<String>,
) -> Result<Json<PaymentsConfig>, ApiError> {
    let env = validation::environment(&env)?;
    let engine = st.engine.clone();
    let actor = caller.actor();
    Ok(Json(
        detached(async move {
            engine.audited(&actor, "payments.config.remove", Some(env), None, engine.remove_secret_key(env)).await
        })
        .await?,
    ))
}
