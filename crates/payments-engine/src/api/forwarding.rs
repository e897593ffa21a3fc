//! `PUT` and `DELETE /api/payments/{env}/webhook/forwarding-secret` (additive, issue #14): the
//! signing secret an admin pasted from the Stripe CLI, for a console Stripe cannot reach.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::{Extension, Json};

use crate::api::auth::Caller;
use crate::api::errors::ApiError;
use crate::api::{audited_write, validation, ApiState};
use crate::model::ConfiguredWebhook;

pub(super) async fn put_forwarding_secret(
    State(st): State<ApiState>,
    Extension(caller): Extension<Caller>,
    Path(env): Path<String>,
    body: Bytes,
) -> Result<Json<ConfiguredWebhook>, ApiError> {
    let env = validation::environment(&env)?;
    let secret = zeroize::Zeroizing::new(validation::forwarding_secret_body(&validation::json_body(&body)?)?);
    let action = "payments.webhook.forwarding_secret.set";
    let done = audited_write(&st.engine, &caller, action, env, None, move |e| async move {
        e.set_forwarding_secret(env, &secret).await
    })
    .await?;
    Ok(Json(done))
}

pub(super) async fn delete_forwarding_secret(
    State(st): State<ApiState>,
    Extension(caller): Extension<Caller>,
    Path(env): Path<String>,
) -> Result<Json<ConfiguredWebhook>, ApiError> {
    let env = validation::environment(&env)?;
    let action = "payments.webhook.forwarding_secret.remove";
    let done =
        audited_write(
            &st.engine,
            &caller,
            action,
            env,
            None,
            move |e| async move { e.remove_forwarding_secret(env).await },
        )
        .await?;
    Ok(Json(done))
}
