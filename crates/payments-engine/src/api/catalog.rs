//! Catalog routes (10)–(20).

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::{Extension, Json};
use serde_json::{json, Value};

use crate::api::auth::Caller;
use crate::api::errors::ApiError;
use crate::api::{detached, validation, ApiState};
use crate::environment::Environment;
use crate::error::EngineResult;

type Reply = Result<(StatusCode, Json<Value>), ApiError>;

fn ok(value: Value) -> Reply {
    Ok((StatusCode::OK, Json(value)))
}

fn created(value: Value) -> Reply {
    Ok((StatusCode::CREATED, Json(value)))
}

fn product_params(env: &str, id: &str) -> EngineResult<(Environment, String)> {
    validation::environment_and_id(env, id, "productId", "Stripe product id is required")
}

fn price_params(env: &str, id: &str) -> EngineResult<(Environment, String)> {
    validation::environment_and_id(env, id, "priceId", "Stripe price id is required")
}

pub(super) async fn list_catalog(State(st): State<ApiState>, Path(env): Path<String>) -> Reply {
    let env = validation::environment(&env)?;
    ok(json!(st.engine.list_catalog(env).await?))
}

pub(super) async fn list_products(State(st): State<ApiState>, Path(env): Path<String>) -> Reply {
    let env = validation::environment(&env)?;
    ok(json!({ "products": st.engine.list_products(env).await? }))
}

pub(super) async fn get_product(State(st): State<ApiState>, Path((env, id)): Path<(String, String)>) -> Reply {
    let (env, id) = product_params(&env, &id)?;
    ok(json!(st.engine.get_product(env, &id).await?))
}

pub(super) async fn create_product(
    State(st): State<ApiState>,
    Extension(caller): Extension<Caller>,
    Path(env): Path<String>,
    body: Bytes,
) -> Reply {
    let env = validation::environment(&env)?;
    let input = validation::create_product_body(&validation::json_body(&body)?)?;
    let engine = st.engine.clone();
    let actor = caller.actor();
    let product = detached(async move {
        engine
            .audited(&actor, "payments.catalog.product.create", Some(env), None, engine.create_product(env, input))
            .await
    })
    .await?;
    created(json!({ "product": product }))
}

pub(super) async fn update_product(
    State(st): State<ApiState>,
    Extension(caller): Extension<Caller>,
    Path((env, id)): Path<(String, String)>,
    body: Bytes,
) -> Reply {
    let (env, id) = product_params(&env, &id)?;
    let input = validation::update_product_body(&validation::json_body(&body)?)?;
    let engine = st.engine.clone();
    let actor = caller.actor();
    let product = detached(async move {
        engine
            .audited(
                &actor,
                "payments.catalog.product.update",
                Some(env),
                Some(&id),
                engine.update_product(env, &id, input),
            )
            .await
    })
    .await?;
    ok(json!({ "product": product }))
}

pub(super) async fn delete_product(
    State(st): State<ApiState>,
    Extension(caller): Extension<Caller>,
    Path((env, id)): Path<(String, String)>,
) -> Reply {
    let (env, id) = product_params(&env, &id)?;
    let engine = st.engine.clone();
    let actor = caller.actor();
    ok(json!(
        detached(async move {
            engine
                .audited(
                    &actor,
                    "payments.catalog.product.delete",
                    Some(env),
                    Some(&id),
                    engine.delete_product(env, &id),
                )
                .await
        })
        .await?
    ))
}

pub(super) async fn list_prices(
    State(st): State<ApiState>,
    Path(env): Path<String>,
    RawQuery(query): RawQuery,
) -> Reply {
    let env = validation::environment(&env)?;
    let product = validation::list_prices_query(&validation::query_object(query.as_deref()))?;
    ok(json!({ "prices": st.engine.list_prices(env, product.as_deref()).await? }))
}

pub(super) async fn get_price(State(st): State<ApiState>, Path((env, id)): Path<(String, String)>) -> Reply {
    let (env, id) = price_params(&env, &id)?;
    ok(json!({ "price": st.engine.get_price(env, &id).await? }))
}

pub(super) async fn create_price(
    State(st): State<ApiState>,
    Extension(caller): Extension<Caller>,
    Path(env): Path<String>,
    body: Bytes,
) -> Reply {
    let env = validation::environment(&env)?;
    let input = validation::create_price_body(&validation::json_body(&body)?)?;
    let engine = st.engine.clone();
    let actor = caller.actor();
    let price = detached(async move {
        engine.audited(&actor, "payments.catalog.price.create", Some(env), None, engine.create_price(env, input)).await
    })
    .await?;
    created(json!({ "price": price }))
}

pub(super) async fn update_price(
    State(st): State<ApiState>,
    Extension(caller): Extension<Caller>,
    Path((env, id)): Path<(String, String)>,
    body: Bytes,
) -> Reply {
    let (env, id) = price_params(&env, &id)?;
    let input = validation::update_price_body(&validation::json_body(&body)?)?;
    let engine = st.engine.clone();
    let actor = caller.actor();
    let price = detached(async move {
        engine
            .audited(
                &actor,
                "payments.catalog.price.update",
                Some(env),
                Some(&id),
                engine.update_price(env, &id, input),
            )
            .await
    })
    .await?;
    ok(json!({ "price": price }))
}

pub(super) async fn archive_price(
    State(st): State<ApiState>,
    Extension(caller): Extension<Caller>,
    Path((env, id)): Path<(String, String)>,
) -> Reply {
    let (env, id) = price_params(&env, &id)?;
    let engine = st.engine.clone();
    let actor = caller.actor();
    ok(json!(
        detached(async move {
            engine
                .audited(&actor, "payments.catalog.price.archive", Some(env), Some(&id), engine.archive_price(env, &id))
                .await
        })
        .await?
    ))
}
