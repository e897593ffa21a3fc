//! The runtime routes (4) and (5): Checkout and Billing Portal Sessions for application users
//! (`contract/BEHAVIOUR.md` §8). The user guard (its §1.2 `verifyUser`) runs in
//! `auth::require_admin`; the environment and the body are validated next, then the caller must be
//! a user token with an allowed role.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::{Extension, Json};
use payments_model::{CheckoutSessionEnvelope, CustomerPortalSessionEnvelope};
use serde_json::Value;

use crate::api::auth::Caller;
use crate::api::errors::ApiError;
use crate::api::{detached, validation, wire, ApiState};
use crate::checkout::RuntimeUser;

type Reply = Result<(StatusCode, Json<Value>), ApiError>;

/// The JWT user, or 401 `AUTH_INVALID_CREDENTIALS` with `message` (API keys and console
/// sessions carry no user).
fn user_of(caller: &Caller, message: &str) -> Result<RuntimeUser, ApiError> {
    match caller {
        Caller::User { id, email, role, subjects } => {
            Ok(RuntimeUser { id: id.clone(), email: email.clone(), role: role.clone(), subjects: subjects.clone() })
        }
        _ => Err(ApiError::new(401, "AUTH_INVALID_CREDENTIALS", message)),
    }
}

pub(super) async fn create_checkout_session(
    State(st): State<ApiState>,
    Extension(caller): Extension<Caller>,
    Path(env): Path<String>,
    body: Bytes,
) -> Reply {
    let env = validation::environment(&env)?;
    let input = validation::checkout_body(&validation::json_body(&body)?)?;
    let user = user_of(&caller, "Checkout session creation requires a user token")?;
    let engine = st.engine.clone();
    let actor = caller.actor();
    let session = detached(async move {
        engine
            .audited(
                &actor,
                "payments.checkout_session.create",
                Some(env),
                None,
                engine.create_checkout_session(env, &user, input),
            )
            .await
    })
    .await?;
    Ok((StatusCode::CREATED, wire(CheckoutSessionEnvelope { checkout_session: session })?))
}

pub(super) async fn create_customer_portal_session(
    State(st): State<ApiState>,
    Extension(caller): Extension<Caller>,
    Path(env): Path<String>,
    body: Bytes,
) -> Reply {
    let env = validation::environment(&env)?;
    let input = validation::portal_body(&validation::json_body(&body)?)?;
    let user = user_of(&caller, "Customer portal session creation requires a user token")?;
    let engine = st.engine.clone();
    let actor = caller.actor();
    let session = detached(async move {
        engine
            .audited(
                &actor,
                "payments.customer_portal_session.create",
                Some(env),
                None,
                engine.create_customer_portal_session(env, &user, input),
            )
            .await
    })
    .await?;
    Ok((StatusCode::CREATED, wire(CustomerPortalSessionEnvelope { customer_portal_session: session })?))
}
