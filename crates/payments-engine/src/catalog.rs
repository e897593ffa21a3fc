//! Catalog services (`contract/BEHAVIOUR.md` §2.3 (10)–(20)): reads come from the mirror only;
//! mutations go to Stripe first and are mirrored once Stripe accepted them (its §11.11).

use payments_model::TaxBehavior;
use stripe_client::{Form, RequestOptions};

use crate::engine::Engine;
use crate::environment::Environment;
use crate::error::{EngineError, EngineResult};
use crate::model::{
    ArchivedPrice, Catalog, CreatePrice, CreateProduct, DeletedProduct, Metadata, Price, Product, ProductWithPrices,
    UpdatePrice, UpdateProduct,
};
use crate::store::catalog;
use crate::stripe;
use crate::time::now_ms;

/// Adds `metadata[k]=v`. An empty map is omitted: sent as `metadata=` it would clear all keys.
fn with_metadata(form: Form, metadata: Option<&Metadata>) -> Form {
    match metadata {
        Some(m) if !m.is_empty() => form.set("metadata", m.clone()),
        _ => form,
    }
}

/// The Stripe options of a write: an `Idempotency-Key` scoped to the environment and the kind of
/// object (`insforge:<env>:<kind>:<key>`) when the caller gave one.
pub(crate) fn idempotency(env: Environment, kind: &str, key: Option<&str>) -> RequestOptions {
    match key {
        Some(k) => RequestOptions::idempotency_key(format!("insforge:{env}:{kind}:{k}")),
        None => RequestOptions::NONE,
    }
}

impl Engine {
    /// `GET /{env}/catalog`: every mirrored product and price of `env`.
    pub async fn list_catalog(&self, env: Environment) -> EngineResult<Catalog> {
        let mut conn = self.pool().acquire().await?;
        let products = catalog::list_products(&mut conn, env).await?;
        let prices = catalog::list_prices(&mut conn, env, None).await?;
        Ok(Catalog { products, prices })
    }

    /// `GET /{env}/catalog/products`, ordered by name then id.
    pub async fn list_products(&self, env: Environment) -> EngineResult<Vec<Product>> {
        let mut conn = self.pool().acquire().await?;
        catalog::list_products(&mut conn, env).await
    }

    /// `GET /{env}/catalog/products/{id}`: the product and its prices; 404 `PAYMENT_PRODUCT_NOT_FOUND`.
    pub async fn get_product(&self, env: Environment, id: &str) -> EngineResult<ProductWithPrices> {
        let mut conn = self.pool().acquire().await?;
        let product = catalog::get_product(&mut conn, env, id)
            .await?
            .ok_or_else(|| EngineError::ProductNotFound { env, id: id.to_owned() })?;
        let prices = catalog::list_prices(&mut conn, env, Some(id)).await?;
        Ok(ProductWithPrices { product, prices })
    }

    /// `GET /{env}/catalog/prices[?stripeProductId=]`, ordered by product id then price id.
    pub async fn list_prices(&self, env: Environment, product: Option<&str>) -> EngineResult<Vec<Price>> {
        let mut conn = self.pool().acquire().await?;
        catalog::list_prices(&mut conn, env, product).await
    }

    /// `GET /{env}/catalog/prices/{id}`; 404 `PAYMENT_PRICE_NOT_FOUND`.
    pub async fn get_price(&self, env: Environment, id: &str) -> EngineResult<Price> {
        let mut conn = self.pool().acquire().await?;
        catalog::get_price(&mut conn, env, id)
            .await?
            .ok_or_else(|| EngineError::PriceNotFound { env, id: id.to_owned() })
    }

    /// `POST /{env}/catalog/products`: Stripe `POST /v1/products`, then the mirror.
    pub async fn create_product(&self, env: Environment, input: CreateProduct) -> EngineResult<Product> {
        let form = Form::new()
            .set("name", input.name.as_str())
            .set_opt("description", input.description.as_deref())
            .set_opt("active", input.active);
        let form = with_metadata(form, input.metadata.as_ref());
        let opts = idempotency(env, "product", input.idempotency_key.as_deref());
        self.write_product(env, |client| async move { stripe::create_product(&client, &form, &opts).await }).await
    }

    /// `PATCH /{env}/catalog/products/{id}`: Stripe `POST /v1/products/{id}`, then the mirror.
    pub async fn update_product(&self, env: Environment, id: &str, input: UpdateProduct) -> EngineResult<Product> {
        let mut form = Form::new().set_opt("name", input.name.as_deref());
        if let Some(description) = &input.description {
            // null clears the description: Stripe is told so with an empty value.
            form = form.set("description", description.as_deref().unwrap_or(""));
        }
        let form = with_metadata(form.set_opt("active", input.active), input.metadata.as_ref());
        let id = id.to_owned();
        self.write_product(env, |client| async move { stripe::update_product(&client, &id, &form).await }).await
    }

    async fn write_product<F, Fut>(&self, env: Environment, call: F) -> EngineResult<Product>
    where
        F: FnOnce(stripe_client::StripeClient) -> Fut,
        Fut: std::future::Future<Output = Result<serde_json::Value, stripe_client::StripeError>>,
    {
        let guard = self.lock(env).await?;
        let result = async {
            let client = self.configured_client(env).await?;
            let object = call(client).await?;
            let record = stripe::product_record(&object)?;
            let now = now_ms();
            let mut conn = self.pool().acquire().await?;
            catalog::upsert_product(&mut conn, env, &record, now).await?;
            Ok(record.to_model(env, now))
        }
        .await;
        guard.release().await;
        result
    }

    /// `DELETE /{env}/catalog/products/{id}`: Stripe `DELETE /v1/products/{id}` (refused by
    /// Stripe while the product has prices); when deleted, the mirror drops it and its prices.
    pub async fn delete_product(&self, env: Environment, id: &str) -> EngineResult<DeletedProduct> {
        let guard = self.lock(env).await?;
        let result = async {
            let client = self.configured_client(env).await?;
            let deleted = stripe::delete_product(&client, id).await?;
            if deleted {
                let mut conn = self.pool().acquire().await?;
                catalog::delete_product(&mut conn, env, id).await?;
            }
            Ok(DeletedProduct { stripe_product_id: id.to_owned(), deleted })
        }
        .await;
        guard.release().await;
        result
    }

    /// `POST /{env}/catalog/prices`: Stripe `POST /v1/prices`, then the mirror.
    pub async fn create_price(&self, env: Environment, input: CreatePrice) -> EngineResult<Price> {
        let mut form = Form::new()
            .set("product", input.stripe_product_id.as_str())
            .set("currency", input.currency.as_str())
            .set("unit_amount", input.unit_amount)
            .set_opt("lookup_key", input.lookup_key.as_deref())
            .set_opt("active", input.active);
        if let Some(r) = &input.recurring {
            form = form
                .set("recurring[interval]", r.interval.as_str())
                .set_opt("recurring[interval_count]", r.interval_count);
        }
        let form = with_metadata(
            form.set_opt("tax_behavior", input.tax_behavior.as_ref().map(TaxBehavior::as_str)),
            input.metadata.as_ref(),
        );
        let opts = idempotency(env, "price", input.idempotency_key.as_deref());
        self.write_price(env, |client| async move { stripe::create_price(&client, &form, &opts).await }).await
    }

    /// `PATCH /{env}/catalog/prices/{id}`: Stripe `POST /v1/prices/{id}`, then the mirror.
    pub async fn update_price(&self, env: Environment, id: &str, input: UpdatePrice) -> EngineResult<Price> {
        let mut form = Form::new().set_opt("active", input.active);
        if let Some(lookup_key) = &input.lookup_key {
            form = form.set("lookup_key", lookup_key.as_deref().unwrap_or(""));
        }
        let form = with_metadata(
            form.set_opt("tax_behavior", input.tax_behavior.as_ref().map(TaxBehavior::as_str)),
            input.metadata.as_ref(),
        );
        let id = id.to_owned();
        self.write_price(env, |client| async move { stripe::update_price(&client, &id, &form).await }).await
    }

    /// `DELETE /{env}/catalog/prices/{id}`: archives (`active=false`); the row is kept.
    pub async fn archive_price(&self, env: Environment, id: &str) -> EngineResult<ArchivedPrice> {
        let form = Form::new().set("active", false);
        let id = id.to_owned();
        let price =
            self.write_price(env, |client| async move { stripe::update_price(&client, &id, &form).await }).await?;
        Ok(ArchivedPrice { archived: !price.active, price })
    }

    async fn write_price<F, Fut>(&self, env: Environment, call: F) -> EngineResult<Price>
    where
        F: FnOnce(stripe_client::StripeClient) -> Fut,
        Fut: std::future::Future<Output = Result<serde_json::Value, stripe_client::StripeError>>,
    {
        let guard = self.lock(env).await?;
        let result = async {
            let client = self.configured_client(env).await?;
            let object = call(client).await?;
            let record = stripe::price_record(&object)?;
            let now = now_ms();
            let mut conn = self.pool().acquire().await?;
            catalog::upsert_price(&mut conn, env, &record, now).await?;
            Ok(record.to_model(env, now))
        }
        .await;
        guard.release().await;
        result
    }
}
