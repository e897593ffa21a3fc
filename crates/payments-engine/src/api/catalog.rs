//! Catalog routes (10)–(20).

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::{Extension, Json};
use payments_model::{PriceEnvelope, PricesEnvelope, ProductEnvelope, ProductsEnvelope};
use serde::Serialize;
use serde_json::Value;

use crate::api::auth::Caller;
use crate::api::errors::ApiError;
use crate::api::{audited_write, validation, wire, ApiState};
use crate::environment::Environment;
use crate::error::EngineResult;

type Reply = Result<(StatusCode, Json<Value>), ApiError>;

fn ok(body: impl Serialize) -> Reply {
    Ok((StatusCode::OK, wire(body)?))
}

fn created(body: impl Serialize) -> Reply {
    Ok((StatusCode::CREATED, wire(body)?))
}

fn product_params(env: &str, id: &str) -> EngineResult<(Environment, String)> {
    validation::environment_and_id(env, id, "productId", "Stripe product id is required")
}

fn price_params(env: &str, id: &str) -> EngineResult<(Environment, String)> {
    validation::environment_and_id(env, id, "priceId", "Stripe price id is required")
}

pub(super) async fn list_catalog(State(st): State<ApiState>, Path(env): Path<String>) -> Reply {
    let env = validation::environment(&env)?;
    ok(st.engine.list_catalog(env).await?)
}

pub(super) async fn list_products(State(st): State<ApiState>, Path(env): Path<String>) -> Reply {
    let env = validation::environment(&env)?;
    ok(ProductsEnvelope { products: st.engine.list_products(env).await? })
}

pub(super) async fn get_product(State(st): State<ApiState>, Path((env, id)): Path<(String, String)>) -> Reply {
    let (env, id) = product_params(&env, &id)?;
    ok(st.engine.get_product(env, &id).await?)
}

pub(super) async fn create_product(
    State(st): State<ApiState>,
    Extension(caller): Extension<Caller>,
    Path(env): Path<String>,
    body: Bytes,
) -> Reply {
    let env = validation::environment(&env)?;
    let input = validation::create_product_body(&validation::json_body(&body)?)?;
    let product =
        audited_write(&st.engine, &caller, "payments.catalog.product.create", env, None, move |e| async move {
            e.create_product(env, input).await
        })
        .await?;
    created(ProductEnvelope { product })
}

pub(super) async fn update_product(
    State(st): State<ApiState>,
    Extension(caller): Extension<Caller>,
    Path((env, id)): Path<(String, String)>,
    body: Bytes,
) -> Reply {
    let (env, id) = product_params(&env, &id)?;
    let input = validation::update_product_body(&validation::json_body(&body)?)?;
    let target = Some(id.clone());
    let product =
        audited_write(&st.engine, &caller, "payments.catalog.product.update", env, target, move |e| async move {
            e.update_product(env, &id, input).await
        })
        .await?;
    ok(ProductEnvelope { product })
}

pub(super) async fn delete_product(
    State(st): State<ApiState>,
    Extension(caller): Extension<Caller>,
    Path((env, id)): Path<(String, String)>,
) -> Reply {
    let (env, id) = product_params(&env, &id)?;
    let target = Some(id.clone());
    let deleted =
        audited_write(&st.engine, &caller, "payments.catalog.product.delete", env, target, move |e| async move {
            e.delete_product(env, &id).await
        })
        .await?;
    ok(deleted)
}

pub(super) async fn list_prices(
    State(st): State<ApiState>,
    Path(env): Path<String>,
    RawQuery(query): RawQuery,
) -> Reply {
    let env = validation::environment(&env)?;
    let product = validation::list_prices_query(&validation::query_object(query.as_deref()))?;
    ok(PricesEnvelope { prices: st.engine.list_prices(env, product.as_deref()).await? })
}

pub(super) async fn get_price(State(st): State<ApiState>, Path((env, id)): Path<(String, String)>) -> Reply {
    let (env, id) = price_params(&env, &id)?;
    ok(PriceEnvelope { price: st.engine.get_price(env, &id).await? })
}

pub(super) async fn create_price(
    State(st): State<ApiState>,
    Extension(caller): Extension<Caller>,
    Path(env): Path<String>,
    body: Bytes,
) -> Reply {
    let env = validation::environment(&env)?;
    let input = validation::create_price_body(&validation::json_body(&body)?)?;
    let price = audited_write(&st.engine, &caller, "payments.catalog.price.create", env, None, move |e| async move {
        e.create_price(env, input).await
    })
    .await?;
    created(PriceEnvelope { price })
}

pub(super) async fn update_price(
    State(st): State<ApiState>,
    Extension(caller): Extension<Caller>,
    Path((env, id)): Path<(String, String)>,
    body: Bytes,
) -> Reply {
    let (env, id) = price_params(&env, &id)?;
    let input = validation::update_price_body(&validation::json_body(&body)?)?;
    let target = Some(id.clone());
    let price = audited_write(&st.engine, &caller, "payments.catalog.price.update", env, target, move |e| async move {
        e.update_price(env, &id, input).await
    })
    .await?;
    ok(PriceEnvelope { price })
}

pub(super) async fn archive_price(
    State(st): State<ApiState>,
    Extension(caller): Extension<Caller>,
    Path((env, id)): Path<(String, String)>,
) -> Reply {
    let (env, id) = price_params(&env, &id)?;
    let target = Some(id.clone());
    let archived =
        audited_write(&st.engine, &caller, "payments.catalog.price.archive", env, target, move |e| async move {
            e.archive_price(env, &id).await
        })
        .await?;
    ok(archived)
}
