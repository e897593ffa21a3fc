//! The payments backend behind the server functions: one trait, [`PaymentsBackend`], with two
//! implementations that speak the same InsForge Payments v2 HTTP contract:
//!
//! * [`EmbeddedBackend`] hands each request to the engine's own router in this process
//!   (no socket), as an already-authenticated console user, so validation, error messages and
//!   the audit trail are exactly those of the public API;
//! * [`RemoteBackend`] sends it over HTTP to a remote InsForge backend with an `ik_…` key.
//!
//! The typed operations the pages use are written once, on `dyn PaymentsBackend`, on top of the
//! trait's single `send`.

use super::{ListQuery, PriceChanges, PriceDraft, ProductChanges, ProductDraft};
use crate::auth::CurrentUser;
use crate::environment::Environment;
use crate::server::secrets::SecretString;
use axum::body::Body;
use axum::Router;
use http::{Method, Request};
use payments_model::*;
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::{json, Value};
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;
use tower::ServiceExt;

/// A boxed future, so the trait can be used as `dyn PaymentsBackend`.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Why the backend could not answer.
#[derive(Debug, thiserror::Error)]
pub enum BackendError {
    /// The backend answered with an error of the contract (`error` code, message, status).
    #[error("{code}: {message}")]
    Api { status: u16, code: ErrorCode, message: String },
    /// The backend has no such route: a remote InsForge backend without the engine's
    /// additive routes (sync progress, event log, cursors).
    #[error("the payments backend does not offer {0}")]
    Unsupported(&'static str),
    /// The backend could not be reached or answered garbage; logged, never shown.
    #[error("payments backend unavailable: {0}")]
    Unavailable(String),
}

impl From<BackendError> for crate::error::AppError {
    /// The error as the console words it. A pure conversion: the status of the answer follows
    /// from the result ([`crate::error::AppError::status_code`]), so converting a failure that a
    /// successful answer only reports (a later step of a change that went through) is safe.
    fn from(e: BackendError) -> Self {
        use crate::error::AppError;
        match e {
            // Server-side failures of the backend carry no user-facing detail.
            BackendError::Api { status, .. } if status >= 500 => {
                tracing::error!(error = %e, "payments backend failed");
                AppError::BackendUnavailable
            }
            BackendError::Api { status: 404, code, message } if !code.is_payment() => {
                tracing::warn!(%code, %message, "payments backend: not found");
                AppError::NotFound
            }
            // A Stripe key the backend checked and Stripe refused (401/403 with a `PAYMENT_…`
            // code): about the key being set, and the message is for the user.
            BackendError::Api { status: 401 | 403, code, message } if code.is_payment() => {
                AppError::Rejected { status: 400, code, message }
            }
            BackendError::Api { status: 401, code, message } => {
                // The console's own credential to the backend was refused: an operator problem.
                tracing::error!(%code, %message, "payments backend refused the console's credential");
                AppError::BackendUnavailable
            }
            BackendError::Api { status: 403, .. } => AppError::Forbidden,
            BackendError::Api { status, code, message } => AppError::Rejected { status, code, message },
            BackendError::Unsupported(what) => AppError::Unsupported(format!(
                "The remote payments backend does not offer {what}; the embedded engine does."
            )),
            BackendError::Unavailable(cause) => {
                tracing::error!(%cause, "payments backend unavailable");
                AppError::BackendUnavailable
            }
        }
    }
}

/// Which implementation answers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BackendKind {
    /// The engine in this process.
    Embedded,
    /// A remote InsForge backend.
    Remote,
}

/// One request of the v2 contract, relative to `/api/payments`.
#[derive(Debug)]
pub struct ApiCall {
    pub method: Method,
    /// e.g. `/test/catalog/products/prod_1`.
    pub path: String,
    /// Query pairs, already non-empty.
    pub query: Vec<(String, String)>,
    pub body: Option<Value>,
    /// Names the route for [`BackendError::Unsupported`] when it is one of the additive ones.
    pub extension: Option<&'static str>,
}

impl ApiCall {
    fn new(method: Method, path: String) -> Self {
        ApiCall { method, path, query: Vec::new(), body: None, extension: None }
    }
    fn body(mut self, body: Value) -> Self {
        self.body = Some(body);
        self
    }
    fn extension(mut self, what: &'static str) -> Self {
        self.extension = Some(what);
        self
    }
    fn query(mut self, query: Vec<(String, String)>) -> Self {
        self.query = query;
        self
    }
    fn uri(&self) -> String {
        let mut uri = format!("/api/payments{}", self.path);
        if !self.query.is_empty() {
            let pairs: Vec<String> = self
                .query
                .iter()
                .map(|(k, v)| {
                    format!("{}={}", crate::model::format::url_encode(k), crate::model::format::url_encode(v))
                })
                .collect();
            uri.push('?');
            uri.push_str(&pairs.join("&"));
        }
        uri
    }
}

/// What the console needs from a payments backend: send one contract request on behalf of a
/// console user and return the JSON body of a 2xx answer.
pub trait PaymentsBackend: Send + Sync {
    /// Which implementation this is (the pages say when a remote backend lacks an extension).
    fn kind(&self) -> BackendKind;

    /// Sends `call` as `user`; a non-2xx answer becomes [`BackendError::Api`].
    fn send<'a>(&'a self, user: &'a CurrentUser, call: ApiCall) -> BoxFuture<'a, Result<Value, BackendError>>;
}

/// Reads a contract error envelope ([`ErrorBody`]). The HTTP status is the one that counts;
/// a body that is not the envelope (a proxy's error page) still makes an error.
fn api_error(status: u16, body: &Value, call: &ApiCall) -> BackendError {
    let (code, message) = match ErrorBody::deserialize(body) {
        Ok(body) => (body.error, body.message),
        Err(_) => (
            ErrorCode::Unknown("UNKNOWN".to_owned()),
            body.get("message").and_then(Value::as_str).unwrap_or_default().to_owned(),
        ),
    };
    let message = if message.is_empty() { "The payments backend refused the request.".to_owned() } else { message };
    // An additive route the backend does not have answers the generic 404.
    if status == 404 && !code.is_payment() {
        if let Some(what) = call.extension {
            return BackendError::Unsupported(what);
        }
    }
    BackendError::Api { status, code, message }
}

/// The engine in this process, called through its own router.
pub struct EmbeddedBackend {
    router: Router,
}

impl EmbeddedBackend {
    /// Wraps the engine's API router (the same one served at `/api/payments`).
    pub fn new(router: Router) -> Self {
        EmbeddedBackend { router }
    }
}

impl PaymentsBackend for EmbeddedBackend {
    fn kind(&self) -> BackendKind {
        BackendKind::Embedded
    }

    fn send<'a>(&'a self, user: &'a CurrentUser, call: ApiCall) -> BoxFuture<'a, Result<Value, BackendError>> {
        Box::pin(async move {
            let caller = crate::auth::ssr::engine_caller(user);
            let body = match &call.body {
                Some(v) => Body::from(serde_json::to_vec(v).map_err(|e| BackendError::Unavailable(e.to_string()))?),
                None => Body::empty(),
            };
            let mut request = Request::builder()
                .method(call.method.clone())
                .uri(call.uri())
                .header(http::header::CONTENT_TYPE, "application/json")
                .body(body)
                .map_err(|e| BackendError::Unavailable(e.to_string()))?;
            request.extensions_mut().insert(payments_engine::InProcessCaller(caller));
            let response = self.router.clone().oneshot(request).await.map_err(|e| match e {})?;
            let status = response.status().as_u16();
            let bytes = axum::body::to_bytes(response.into_body(), 64 * 1024 * 1024)
                .await
                .map_err(|e| BackendError::Unavailable(e.to_string()))?;
            let json: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
            if (200..300).contains(&status) {
                Ok(json)
            } else {
                Err(api_error(status, &json, &call))
            }
        })
    }
}

/// A remote InsForge backend over HTTP, authenticated with an `ik_…` API key.
pub struct RemoteBackend {
    base: url::Url,
    api_key: SecretString,
    client: reqwest::Client,
}

impl RemoteBackend {
    /// `base` is the backend's origin (`https://x.insforge.app`); `/api/payments` is appended.
    pub fn new(base: url::Url, api_key: SecretString) -> anyhow::Result<Self> {
        let client = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5))
            // A sync of a large account takes a while; everything else is quick.
            .timeout(Duration::from_secs(300))
            .build()?;
        Ok(RemoteBackend { base, api_key, client })
    }
}

impl PaymentsBackend for RemoteBackend {
    fn kind(&self) -> BackendKind {
        BackendKind::Remote
    }

    fn send<'a>(&'a self, _user: &'a CurrentUser, call: ApiCall) -> BoxFuture<'a, Result<Value, BackendError>> {
        Box::pin(async move {
            // The console authorised the user already; the remote knows the console by its key.
            let url = self
                .base
                .join(call.uri().trim_start_matches('/'))
                .map_err(|e| BackendError::Unavailable(e.to_string()))?;
            let mut request = self.client.request(call.method.clone(), url).header("x-api-key", self.api_key.expose());
            if let Some(body) = &call.body {
                request = request.json(body);
            }
            let response = request.send().await.map_err(|e| BackendError::Unavailable(e.without_url().to_string()))?;
            let status = response.status().as_u16();
            let bytes = response.bytes().await.map_err(|e| BackendError::Unavailable(e.without_url().to_string()))?;
            let json: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
            if (200..300).contains(&status) {
                Ok(json)
            } else {
                Err(api_error(status, &json, &call))
            }
        })
    }
}

/// Decodes a 2xx body as the route's answer: a contract shape, or the envelope
/// (`payments_model::envelopes`) that wraps it; a body that does not fit is garbage.
fn decode<T: DeserializeOwned>(body: Value) -> Result<T, BackendError> {
    serde_json::from_value(body)
        .map_err(|e| BackendError::Unavailable(format!("unexpected answer ({}): {e}", std::any::type_name::<T>())))
}

/// What a backend without the forwarded-secret routes is said not to offer.
pub const FORWARDING_EXTENSION: &str = "signing secrets pasted from the Stripe CLI";

fn env_path(env: Environment, rest: &str) -> String {
    format!("/{env}{rest}")
}

/// The typed operations, written once for both implementations.
impl dyn PaymentsBackend {
    /// Both environments' connections, test first.
    pub async fn status(&self, user: &CurrentUser) -> Result<Vec<StripeConnection>, BackendError> {
        let body = self.send(user, ApiCall::new(Method::GET, "/status".into())).await?;
        Ok(decode::<PaymentsStatus>(body)?.connections)
    }

    /// Both environments' key configuration (masked).
    pub async fn config(&self, user: &CurrentUser) -> Result<PaymentsConfig, BackendError> {
        decode(self.send(user, ApiCall::new(Method::GET, "/config".into())).await?)
    }

    /// Sets the secret key: the backend checks it against Stripe, creates the webhook endpoint
    /// and runs a first sync.
    pub async fn set_secret_key(
        &self,
        user: &CurrentUser,
        env: Environment,
        key: &SecretString,
    ) -> Result<PaymentsConfig, BackendError> {
        let call = ApiCall::new(Method::PUT, env_path(env, "/config")).body(json!({ "secretKey": key.expose() }));
        decode(self.send(user, call).await?)
    }

    /// Removes the secret key (and with it the mirror's connection).
    pub async fn remove_secret_key(
        &self,
        user: &CurrentUser,
        env: Environment,
    ) -> Result<PaymentsConfig, BackendError> {
        decode(self.send(user, ApiCall::new(Method::DELETE, env_path(env, "/config"))).await?)
    }

    /// Syncs one environment, or both with `None`.
    pub async fn sync(&self, user: &CurrentUser, env: Option<Environment>) -> Result<SyncResponse, BackendError> {
        let call = match env {
            Some(env) => ApiCall::new(Method::POST, env_path(env, "/sync")).body(json!({})),
            None => ApiCall::new(Method::POST, "/sync".into()).body(json!({ "environment": "all" })),
        };
        decode(self.send(user, call).await?)
    }

    /// Progress of the running or last sync (additive route).
    pub async fn sync_progress(&self, user: &CurrentUser, env: Environment) -> Result<SyncProgress, BackendError> {
        let call = ApiCall::new(Method::GET, env_path(env, "/sync/progress")).extension("live sync progress");
        decode(self.send(user, call).await?)
    }

    /// Creates (or recreates) the managed webhook endpoint.
    pub async fn configure_webhook(
        &self,
        user: &CurrentUser,
        env: Environment,
    ) -> Result<ConfiguredWebhook, BackendError> {
        decode(self.send(user, ApiCall::new(Method::POST, env_path(env, "/webhook")).body(json!({}))).await?)
    }

    /// Stores the signing secret an admin pasted from the Stripe CLI (additive route, issue
    /// #14); answers the connection, which shows it masked only.
    pub async fn set_forwarding_secret(
        &self,
        user: &CurrentUser,
        env: Environment,
        secret: &SecretString,
    ) -> Result<StripeConnection, BackendError> {
        let call = ApiCall::new(Method::PUT, env_path(env, "/webhook/forwarding-secret"))
            .body(json!({ "signingSecret": secret.expose() }))
            .extension(FORWARDING_EXTENSION);
        Ok(decode::<ConfiguredWebhook>(self.send(user, call).await?)?.connection)
    }

    /// Removes the pasted signing secret (additive route).
    pub async fn remove_forwarding_secret(
        &self,
        user: &CurrentUser,
        env: Environment,
    ) -> Result<StripeConnection, BackendError> {
        let call =
            ApiCall::new(Method::DELETE, env_path(env, "/webhook/forwarding-secret")).extension(FORWARDING_EXTENSION);
        Ok(decode::<ConfiguredWebhook>(self.send(user, call).await?)?.connection)
    }

    /// The whole mirrored catalog.
    pub async fn catalog(&self, user: &CurrentUser, env: Environment) -> Result<Catalog, BackendError> {
        decode(self.send(user, ApiCall::new(Method::GET, env_path(env, "/catalog"))).await?)
    }

    /// One product with its prices.
    pub async fn product(
        &self,
        user: &CurrentUser,
        env: Environment,
        id: &str,
    ) -> Result<ProductWithPrices, BackendError> {
        let path = env_path(env, &format!("/catalog/products/{}", crate::model::format::url_encode(id)));
        decode(self.send(user, ApiCall::new(Method::GET, path)).await?)
    }

    /// Creates a product in Stripe and the mirror.
    pub async fn create_product(
        &self,
        user: &CurrentUser,
        env: Environment,
        draft: &ProductDraft,
    ) -> Result<Product, BackendError> {
        let call = ApiCall::new(Method::POST, env_path(env, "/catalog/products")).body(json!(draft));
        Ok(decode::<ProductEnvelope>(self.send(user, call).await?)?.product)
    }

    /// Updates a product (only the fields set).
    pub async fn update_product(
        &self,
        user: &CurrentUser,
        env: Environment,
        id: &str,
        changes: &ProductChanges,
    ) -> Result<Product, BackendError> {
        let path = env_path(env, &format!("/catalog/products/{}", crate::model::format::url_encode(id)));
        let call = ApiCall::new(Method::PATCH, path).body(json!(changes));
        Ok(decode::<ProductEnvelope>(self.send(user, call).await?)?.product)
    }

    /// Deletes a product; Stripe refuses while it has prices.
    pub async fn delete_product(
        &self,
        user: &CurrentUser,
        env: Environment,
        id: &str,
    ) -> Result<DeletedProduct, BackendError> {
        let path = env_path(env, &format!("/catalog/products/{}", crate::model::format::url_encode(id)));
        decode(self.send(user, ApiCall::new(Method::DELETE, path)).await?)
    }

    /// Creates a one-time or recurring price.
    pub async fn create_price(
        &self,
        user: &CurrentUser,
        env: Environment,
        draft: &PriceDraft,
    ) -> Result<Price, BackendError> {
        let call = ApiCall::new(Method::POST, env_path(env, "/catalog/prices")).body(json!(draft));
        Ok(decode::<PriceEnvelope>(self.send(user, call).await?)?.price)
    }

    /// Updates a price's mutable fields.
    pub async fn update_price(
        &self,
        user: &CurrentUser,
        env: Environment,
        id: &str,
        changes: &PriceChanges,
    ) -> Result<Price, BackendError> {
        let path = env_path(env, &format!("/catalog/prices/{}", crate::model::format::url_encode(id)));
        let call = ApiCall::new(Method::PATCH, path).body(json!(changes));
        Ok(decode::<PriceEnvelope>(self.send(user, call).await?)?.price)
    }

    /// Archives a price (Stripe prices cannot be deleted).
    pub async fn archive_price(
        &self,
        user: &CurrentUser,
        env: Environment,
        id: &str,
    ) -> Result<ArchivedPrice, BackendError> {
        let path = env_path(env, &format!("/catalog/prices/{}", crate::model::format::url_encode(id)));
        decode(self.send(user, ApiCall::new(Method::DELETE, path)).await?)
    }

    /// A page of subscriptions.
    pub async fn subscriptions(
        &self,
        user: &CurrentUser,
        env: Environment,
        q: &ListQuery<SubscriptionListFilters>,
    ) -> Result<Page<Subscription>, BackendError> {
        let call = ApiCall::new(Method::GET, env_path(env, "/subscriptions")).query(q.pairs());
        let call = if q.uses_extensions() { call.extension("filters and pagination") } else { call };
        Ok(decode::<SubscriptionsPage>(self.send(user, call).await?)?.into())
    }

    /// A page of payment history.
    pub async fn payment_history(
        &self,
        user: &CurrentUser,
        env: Environment,
        q: &ListQuery<HistoryListFilters>,
    ) -> Result<Page<PaymentHistory>, BackendError> {
        let call = ApiCall::new(Method::GET, env_path(env, "/payment-history")).query(q.pairs());
        let call = if q.uses_extensions() { call.extension("filters and pagination") } else { call };
        Ok(decode::<PaymentHistoryPage>(self.send(user, call).await?)?.into())
    }

    /// The chart and status counts of a filtered history view (additive route).
    pub async fn payment_history_summary(
        &self,
        user: &CurrentUser,
        env: Environment,
        q: &ListQuery<HistoryListFilters>,
    ) -> Result<HistorySummary, BackendError> {
        let mut pairs = q.pairs();
        // The summary counts a bounded number of rows itself; a page size means nothing to it.
        pairs.retain(|(k, _)| k != "limit" && k != "cursor");
        let call = ApiCall::new(Method::GET, env_path(env, "/payment-history/summary"))
            .query(pairs)
            .extension("the payment-history summary");
        Ok(decode::<HistorySummaryEnvelope>(self.send(user, call).await?)?.summary)
    }

    /// The environment at a glance: MRR, recent payments, failures, subscription and event
    /// counts (additive route).
    pub async fn overview(&self, user: &CurrentUser, env: Environment) -> Result<Overview, BackendError> {
        let call = ApiCall::new(Method::GET, env_path(env, "/overview")).extension("the overview's figures");
        Ok(decode::<OverviewEnvelope>(self.send(user, call).await?)?.overview)
    }

    /// Subscriptions by status (additive route).
    pub async fn subscription_statuses(
        &self,
        user: &CurrentUser,
        env: Environment,
    ) -> Result<Vec<StatusCount<SubscriptionStatus>>, BackendError> {
        let call = ApiCall::new(Method::GET, env_path(env, "/subscriptions/summary")).extension("the status mix");
        Ok(decode::<StatusSummaryEnvelope>(self.send(user, call).await?)?.summary)
    }

    /// A page of customers with their payment aggregates.
    pub async fn customers(
        &self,
        user: &CurrentUser,
        env: Environment,
        q: &ListQuery<CustomerListFilters>,
    ) -> Result<Page<CustomerListItem>, BackendError> {
        let call = ApiCall::new(Method::GET, env_path(env, "/customers")).query(q.pairs());
        let call = if q.uses_extensions() { call.extension("search and pagination") } else { call };
        Ok(decode::<CustomersPage>(self.send(user, call).await?)?.into())
    }

    /// A page of received Stripe events (additive route).
    pub async fn webhook_events(
        &self,
        user: &CurrentUser,
        env: Environment,
        q: &ListQuery<EventListFilters>,
    ) -> Result<Page<WebhookEvent>, BackendError> {
        let call = ApiCall::new(Method::GET, env_path(env, "/webhook-events"))
            .query(q.pairs())
            .extension("the webhook event log");
        Ok(decode::<WebhookEventsPage>(self.send(user, call).await?)?.into())
    }

    /// Refunds all or part of a payment (additive route); the history changes when Stripe's
    /// events arrive.
    pub async fn create_refund(
        &self,
        user: &CurrentUser,
        env: Environment,
        refund: &CreateRefund,
    ) -> Result<Refund, BackendError> {
        let call = ApiCall::new(Method::POST, env_path(env, "/refunds")).body(json!(refund)).extension("refunds");
        Ok(decode::<RefundEnvelope>(self.send(user, call).await?)?.refund)
    }

    /// Re-processes a stored event (additive route).
    pub async fn reprocess_event(
        &self,
        user: &CurrentUser,
        env: Environment,
        id: &str,
    ) -> Result<WebhookResponse, BackendError> {
        let path = env_path(env, &format!("/webhook-events/{}/reprocess", crate::model::format::url_encode(id)));
        let call = ApiCall::new(Method::POST, path).body(json!({})).extension("re-processing of webhook events");
        decode(self.send(user, call).await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(status: u16, body: Value, extension: Option<&'static str>) -> BackendError {
        let call = ApiCall { extension, ..ApiCall::new(Method::GET, "/test/overview".to_owned()) };
        api_error(status, &body, &call)
    }

    /// The envelope reads into its typed code; a 404 with a payment code is the contract's
    /// answer, a 404 without one on an additive route means the backend lacks the route.
    #[test]
    fn error_envelopes_read_typed_and_tell_a_missing_route_from_a_missing_thing() {
        let missing =
            json!({"error": "PAYMENT_PRODUCT_NOT_FOUND", "message": "Product prod_1 not found", "statusCode": 404});
        match read(404, missing, Some("the overview")) {
            BackendError::Api { status: 404, code: ErrorCode::PaymentProductNotFound, message } => {
                assert_eq!(message, "Product prod_1 not found")
            }
            other => panic!("{other:?}"),
        }
        let no_route = json!({"error": "NOT_FOUND", "message": "Endpoint /x not found", "statusCode": 404,
                              "nextActions": "Please check the API documentation for available endpoints"});
        assert!(matches!(read(404, no_route.clone(), Some("the overview")), BackendError::Unsupported("the overview")));
        assert!(matches!(read(404, no_route, None), BackendError::Api { code: ErrorCode::NotFound, .. }));
    }

    /// A body that is not the envelope, or lacks its message, still gives an error with a
    /// message for people; an unknown code is kept as sent.
    #[test]
    fn odd_error_bodies_still_make_an_error() {
        for (body, code, message) in [
            (json!(null), "UNKNOWN", "The payments backend refused the request."),
            (json!({"error": 7, "message": "odd"}), "UNKNOWN", "odd"),
            (json!({"error": "TEAPOT"}), "TEAPOT", "The payments backend refused the request."),
        ] {
            match read(418, body.clone(), None) {
                BackendError::Api { status: 418, code: c, message: m } => {
                    assert_eq!((c.as_str(), m.as_str()), (code, message), "{body}")
                }
                other => panic!("{body}: {other:?}"),
            }
        }
    }
}
