//! Runtime sessions (§8): Checkout Sessions (4) and Billing Portal Sessions (5).
//!
//! Section numbers (§) in this file are those of `contract/BEHAVIOUR.md`.
//!
//! Both keep a local row (`payments_checkout_sessions`, `payments_customer_portal_sessions`)
//! that records the attempt before Stripe is called and its outcome afterwards. The checkout
//! row is later completed by the `checkout.session.*` webhooks (see `webhook.rs`).

use serde::Serialize;
use serde_json::Value;
use sqlx::any::AnyRow;
use sqlx::pool::PoolConnection;
use sqlx::{Any, AnyConnection, Row};
use stripe_client::{Form, Method, RequestOptions};

use crate::engine::Engine;
use crate::environment::Environment;
use crate::error::{EngineError, EngineResult};
use crate::lock::EnvGuard;
use crate::model::Metadata;
use crate::store::{mirror, new_id};
use crate::stripe::{self, id_field, str_field};
use crate::subjects::RuntimeRoute;
use crate::time::{iso_ms, now_ms};

/// A connection for work under a checkout lock (see [`Engine::locked_conn`]).
enum LockedConn<'g> {
    /// The advisory lock's own session (PostgreSQL).
    Lock(&'g mut AnyConnection),
    /// A pooled connection (SQLite, where the lock is in-process).
    Pool(PoolConnection<Any>),
}

impl std::ops::Deref for LockedConn<'_> {
    type Target = AnyConnection;
    fn deref(&self) -> &AnyConnection {
        match self {
            LockedConn::Lock(c) => c,
            LockedConn::Pool(c) => c,
        }
    }
}

impl std::ops::DerefMut for LockedConn<'_> {
    fn deref_mut(&mut self) -> &mut AnyConnection {
        match self {
            LockedConn::Lock(c) => c,
            LockedConn::Pool(c) => c,
        }
    }
}

/// Records why a runtime session's Stripe step failed on its local row (`table` is one of the
/// two session tables, never input).
async fn mark_failed(conn: &mut AnyConnection, table: &'static str, id: &str, e: &EngineError) -> EngineResult<()> {
    sqlx::query(&format!("UPDATE {table} SET status = 'failed', last_error = $1, updated_at = $2 WHERE id = $3"))
        .bind(e.public_message())
        .bind(now_ms())
        .bind(id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Metadata key prefix reserved for the engine (§4).
pub const RESERVED_METADATA_PREFIX: &str = "insforge_";

/// A billing subject (§4): `{type, id}`, free text owned by the application.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct BillingSubject {
    /// `team`, `user`, `organization`…
    #[serde(rename = "type")]
    pub subject_type: String,
    /// The application's id of the subject.
    pub id: String,
}

/// One line of a checkout.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CheckoutLineItem {
    /// `price_…`.
    pub stripe_price_id: String,
    /// 1..999 (default 1).
    pub quantity: i64,
}

/// A validated `CreateCheckoutSessionBody`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckoutRequest {
    /// `payment` or `subscription` (validated: never `Unknown`).
    pub mode: CheckoutMode,
    /// 1..100 items.
    pub line_items: Vec<CheckoutLineItem>,
    /// Where Stripe sends the customer after paying.
    pub success_url: String,
    /// Where Stripe sends the customer on cancel.
    pub cancel_url: String,
    /// Required in subscription mode.
    pub subject: Option<BillingSubject>,
    /// Prefills Checkout when no customer is mapped to the subject.
    pub customer_email: Option<String>,
    /// Caller metadata (no `insforge_` keys).
    pub metadata: Metadata,
    /// Makes retries return the same session.
    pub idempotency_key: Option<String>,
}

/// A validated `CreateCustomerPortalSessionBody`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortalRequest {
    /// Whose portal.
    pub subject: BillingSubject,
    /// Where the portal's "return" link goes.
    pub return_url: Option<String>,
    /// A Stripe portal configuration (`bpc_…`).
    pub configuration: Option<String>,
}

/// The user a runtime session is created for (from the JWT: `sub`, `email`, `role`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuntimeUser {
    /// `sub`.
    pub id: String,
    /// `email`.
    pub email: Option<String>,
    /// `anon`, `authenticated` or `project_admin`.
    pub role: String,
    /// The subjects the token grants besides `user:<id>` (its `billing_subjects` claim, see
    /// [`crate::subjects`]).
    pub subjects: Vec<BillingSubject>,
}

// The sessions' shapes are the model's: the routes' envelopes and the clients share them.
use payments_model::{CheckoutMode, CheckoutSessionStatus};
pub use payments_model::{CheckoutSession, CustomerPortalSession};

const CHECKOUT_COLUMNS: &str = "id, environment, mode, status, payment_status, subject_type, subject_id, \
     customer_email, line_items, success_url, cancel_url, metadata, stripe_checkout_session_id, stripe_customer_id, \
     stripe_payment_intent_id, stripe_subscription_id, url, last_error, created_at, updated_at";

const PORTAL_COLUMNS: &str = "id, environment, status, subject_type, subject_id, stripe_customer_id, return_url, \
     configuration_id, url, last_error, created_at, updated_at";

fn env_of(r: &AnyRow) -> EngineResult<Environment> {
    let env: String = r.try_get("environment")?;
    Environment::parse(&env).ok_or_else(|| EngineError::Internal(format!("bad environment in a row: {env}")))
}

fn checkout_from_row(r: &AnyRow) -> EngineResult<CheckoutSession> {
    Ok(CheckoutSession {
        id: r.try_get("id")?,
        environment: env_of(r)?,
        mode: r.try_get::<String, _>("mode")?.into(),
        status: r.try_get::<String, _>("status")?.into(),
        payment_status: r.try_get::<Option<String>, _>("payment_status")?.map(Into::into),
        subject_type: r.try_get("subject_type")?,
        subject_id: r.try_get("subject_id")?,
        customer_email: r.try_get("customer_email")?,
        stripe_checkout_session_id: r.try_get("stripe_checkout_session_id")?,
        stripe_customer_id: r.try_get("stripe_customer_id")?,
        stripe_payment_intent_id: r.try_get("stripe_payment_intent_id")?,
        stripe_subscription_id: r.try_get("stripe_subscription_id")?,
        url: r.try_get("url")?,
        last_error: r.try_get("last_error")?,
        created_at: iso_ms(r.try_get("created_at")?),
        updated_at: iso_ms(r.try_get("updated_at")?),
    })
}

fn portal_from_row(r: &AnyRow) -> EngineResult<CustomerPortalSession> {
    Ok(CustomerPortalSession {
        id: r.try_get("id")?,
        environment: env_of(r)?,
        status: r.try_get::<String, _>("status")?.into(),
        subject_type: r.try_get("subject_type")?,
        subject_id: r.try_get("subject_id")?,
        stripe_customer_id: r.try_get("stripe_customer_id")?,
        return_url: r.try_get("return_url")?,
        configuration: r.try_get("configuration_id")?,
        url: r.try_get("url")?,
        last_error: r.try_get("last_error")?,
        created_at: iso_ms(r.try_get("created_at")?),
        updated_at: iso_ms(r.try_get("updated_at")?),
    })
}

async fn load_checkout(conn: &mut AnyConnection, id: &str) -> EngineResult<CheckoutSession> {
    let row = sqlx::query(&format!("SELECT {CHECKOUT_COLUMNS} FROM payments_checkout_sessions WHERE id = $1"))
        .bind(id)
        .fetch_one(&mut *conn)
        .await?;
    checkout_from_row(&row)
}

async fn load_portal(conn: &mut AnyConnection, id: &str) -> EngineResult<CustomerPortalSession> {
    let row = sqlx::query(&format!("SELECT {PORTAL_COLUMNS} FROM payments_customer_portal_sessions WHERE id = $1"))
        .bind(id)
        .fetch_one(&mut *conn)
        .await?;
    portal_from_row(&row)
}

fn json_eq(stored: Option<String>, wanted: &Value) -> bool {
    stored.and_then(|s| serde_json::from_str::<Value>(&s).ok()).is_some_and(|v| &v == wanted)
}

/// The stored metadata without the key added once Stripe accepted the session, so that it
/// compares with the request's base metadata.
fn base_metadata_of(stored: Option<String>) -> Option<String> {
    let mut v: Value = serde_json::from_str(&stored?).ok()?;
    if let Some(m) = v.as_object_mut() {
        m.remove("insforge_checkout_session_id");
    }
    Some(v.to_string())
}

/// The role rule of the checkout route (§2.3 (4)).
fn check_checkout_role(user: &RuntimeUser) -> EngineResult<()> {
    if ["anon", "authenticated", "project_admin"].contains(&user.role.as_str()) {
        Ok(())
    } else {
        Err(EngineError::Auth { status: 403, code: "AUTH_UNAUTHORIZED", message: "Unsupported checkout role".into() })
    }
}

/// The role rules of the portal route (§2.3 (5)).
fn check_portal_role(user: &RuntimeUser) -> EngineResult<()> {
    match user.role.as_str() {
        "authenticated" | "project_admin" => Ok(()),
        "anon" => Err(EngineError::Auth {
            status: 401,
            code: "AUTH_INVALID_CREDENTIALS",
            message: "Customer portal sessions require an authenticated user".into(),
        }),
        _ => Err(EngineError::Auth {
            status: 403,
            code: "AUTH_UNAUTHORIZED",
            message: "Unsupported customer portal role".into(),
        }),
    }
}

/// Stripe's checkout status as the local row's (§8.1 step 6).
fn local_checkout_status(stripe_status: Option<&str>) -> CheckoutSessionStatus {
    // Stripe's `open` / `complete` / `expired`, which is not the local row's spelling.
    match stripe_status {
        Some("expired") => CheckoutSessionStatus::Expired,
        Some("complete") => CheckoutSessionStatus::Completed,
        _ => CheckoutSessionStatus::Open,
    }
}

impl Engine {
    /// `POST /{env}/checkout-sessions` (§8.1): records the attempt, creates the Stripe Checkout
    /// Session (reusing the subject's customer) and returns the local row with its `url`.
    pub async fn create_checkout_session(
        &self,
        env: Environment,
        user: &RuntimeUser,
        req: CheckoutRequest,
    ) -> EngineResult<CheckoutSession> {
        check_checkout_role(user)?;
        // Before the lock and the local row: a refusal writes nothing and calls no one.
        self.inner.subjects.authorise(env, RuntimeRoute::Checkout, user, req.subject.as_ref()).await?;
        let _slot = self.runtime_slot().await?;
        let mut guard = self.lock_checkout(env, req.idempotency_key.as_deref()).await?;
        let result = self.create_checkout_locked(env, &mut guard, req).await;
        guard.release().await;
        result
    }

    /// A connection for work under `guard`: the lock's own on PostgreSQL (one connection per
    /// request, never two), a pooled one otherwise, returned as soon as it is dropped.
    async fn locked_conn<'g>(&self, guard: &'g mut EnvGuard) -> EngineResult<LockedConn<'g>> {
        Ok(match guard.connection() {
            Some(conn) => LockedConn::Lock(conn),
            None => LockedConn::Pool(self.pool().acquire().await?),
        })
    }

    async fn create_checkout_locked(
        &self,
        env: Environment,
        guard: &mut EnvGuard,
        req: CheckoutRequest,
    ) -> EngineResult<CheckoutSession> {
        let mut base = req.metadata.clone();
        base.insert("insforge_checkout_mode".into(), req.mode.to_string());
        if let Some(s) = &req.subject {
            base.insert("insforge_subject_type".into(), s.subject_type.clone());
            base.insert("insforge_subject_id".into(), s.id.clone());
        }
        let line_items = serde_json::to_value(&req.line_items).map_err(|e| EngineError::Internal(e.to_string()))?;
        let base_json = serde_json::to_value(&base).map_err(|e| EngineError::Internal(e.to_string()))?;
        let (subject_type, subject_id) = match &req.subject {
            Some(s) => (Some(s.subject_type.clone()), Some(s.id.clone())),
            None => (None, None),
        };
        // A pooled connection is held only between Stripe calls (never across one), so that a
        // slow Stripe cannot drain the pool that sign-ins, webhooks and probes need.
        let mut conn = self.locked_conn(guard).await?;

        // Step 2: the local row, or the one an earlier request with this idempotency key made.
        let mut id = None;
        if let Some(key) = &req.idempotency_key {
            let existing = sqlx::query(&format!(
                "SELECT {CHECKOUT_COLUMNS} FROM payments_checkout_sessions WHERE environment = $1 AND idempotency_key = $2"
            ))
            .bind(env.as_str())
            .bind(key)
            .fetch_optional(&mut *conn)
            .await?;
            if let Some(row) = existing {
                let same = CheckoutMode::from(row.try_get::<String, _>("mode")?) == req.mode
                    && row.try_get::<Option<String>, _>("subject_type")? == subject_type
                    && row.try_get::<Option<String>, _>("subject_id")? == subject_id
                    && row.try_get::<Option<String>, _>("customer_email")? == req.customer_email
                    && json_eq(row.try_get("line_items")?, &line_items)
                    && row.try_get::<String, _>("success_url")? == req.success_url
                    && row.try_get::<String, _>("cancel_url")? == req.cancel_url
                    && json_eq(base_metadata_of(row.try_get("metadata")?), &base_json);
                if !same {
                    return Err(EngineError::CheckoutAlreadyExists);
                }
                let session = checkout_from_row(&row)?;
                if session.stripe_checkout_session_id.is_some() && session.url.is_some() {
                    return Ok(session);
                }
                id = Some(session.id);
            }
        }
        let id = match id {
            Some(id) => id,
            None => {
                let id = new_id();
                let now = now_ms();
                sqlx::query(
                    "INSERT INTO payments_checkout_sessions (id, environment, mode, status, subject_type, subject_id,
                         customer_email, line_items, success_url, cancel_url, idempotency_key, metadata, raw,
                         created_at, updated_at)
                     VALUES ($1, $2, $3, 'initialized', $4, $5, $6, $7, $8, $9, $10, $11, '{}', $12, $12)",
                )
                .bind(&id)
                .bind(env.as_str())
                .bind(req.mode.as_str())
                .bind(subject_type.as_deref())
                .bind(subject_id.as_deref())
                .bind(req.customer_email.as_deref())
                .bind(line_items.to_string())
                .bind(&req.success_url)
                .bind(&req.cancel_url)
                .bind(req.idempotency_key.as_deref())
                .bind(base_json.to_string())
                .bind(now)
                .execute(&mut *conn)
                .await?;
                id
            }
        };

        let customer = match &req.subject {
            Some(s) => mirror::customer_of_subject(&mut conn, env, &s.subject_type, &s.id).await?,
            None => None,
        };
        drop(conn);
        match self.create_stripe_checkout(env, guard, &id, &req, base, customer).await {
            Ok(()) => load_checkout(&mut *self.locked_conn(guard).await?, &id).await,
            Err(e) => {
                let marked = match self.locked_conn(guard).await {
                    Ok(mut conn) => mark_failed(&mut conn, "payments_checkout_sessions", &id, &e).await,
                    Err(db) => Err(db),
                };
                if let Err(db) = marked {
                    tracing::warn!(error = %db, "could not mark a checkout session as failed");
                }
                Err(e)
            }
        }
    }

    /// Steps 3–6 of §8.1 for the local row `id`; `customer` is the subject's mapped customer.
    async fn create_stripe_checkout(
        &self,
        env: Environment,
        guard: &mut EnvGuard,
        id: &str,
        req: &CheckoutRequest,
        mut metadata: Metadata,
        customer: Option<String>,
    ) -> EngineResult<()> {
        metadata.insert("insforge_checkout_session_id".into(), id.to_owned());
        let client = self.configured_client(env).await?;
        let items: Vec<Form> = req
            .line_items
            .iter()
            .map(|l| Form::new().set("price", l.stripe_price_id.as_str()).set("quantity", l.quantity))
            .collect();
        let mut form = Form::new()
            .set("mode", req.mode.as_str())
            .set("line_items", items)
            .set("success_url", req.success_url.as_str())
            .set("cancel_url", req.cancel_url.as_str())
            .set("metadata", metadata.clone())
            .set("client_reference_id", id);
        match (&customer, &req.customer_email) {
            (Some(c), _) => form = form.set("customer", c.as_str()),
            (None, Some(email)) => form = form.set("customer_email", email.as_str()),
            (None, None) => {}
        }
        if req.mode == CheckoutMode::Payment && req.subject.is_some() && customer.is_none() {
            form = form.set("customer_creation", "always");
        }
        let nested = Form::new().set("metadata", metadata.clone());
        form = if req.mode == CheckoutMode::Subscription {
            form.set("subscription_data", nested)
        } else {
            form.set("payment_intent_data", nested)
        };
        let key = format!("insforge:{env}:checkout_session:{}", req.idempotency_key.as_deref().unwrap_or(id));
        let session = stripe::request(
            &client,
            Method::POST,
            "/v1/checkout/sessions",
            &form,
            &RequestOptions::idempotency_key(key),
        )
        .await?;
        let mut conn = self.locked_conn(guard).await?;
        sqlx::query(
            "UPDATE payments_checkout_sessions SET status = $1, payment_status = $2, stripe_checkout_session_id = $3,
                 stripe_customer_id = $4, stripe_payment_intent_id = $5, stripe_subscription_id = $6, url = $7,
                 metadata = $8, raw = $9, last_error = NULL, updated_at = $10
             WHERE id = $11",
        )
        .bind(local_checkout_status(session.get("status").and_then(Value::as_str)).as_str())
        .bind(str_field(&session, "payment_status"))
        .bind(str_field(&session, "id"))
        .bind(id_field(&session, "customer"))
        .bind(id_field(&session, "payment_intent"))
        .bind(id_field(&session, "subscription"))
        .bind(str_field(&session, "url"))
        .bind(serde_json::to_string(&metadata).unwrap_or_else(|_| "{}".into()))
        .bind(session.to_string())
        .bind(now_ms())
        .bind(id)
        .execute(&mut *conn)
        .await?;
        Ok(())
    }

    /// `POST /{env}/customer-portal-sessions` (§8.2): a Billing Portal Session for the customer
    /// mapped to the subject; 404 `PAYMENT_NOT_FOUND` when none is.
    pub async fn create_customer_portal_session(
        &self,
        env: Environment,
        user: &RuntimeUser,
        req: PortalRequest,
    ) -> EngineResult<CustomerPortalSession> {
        check_portal_role(user)?;
        self.inner.subjects.authorise(env, RuntimeRoute::Portal, user, Some(&req.subject)).await?;
        let _slot = self.runtime_slot().await?;
        let id = new_id();
        let mut conn = self.pool().acquire().await?;
        sqlx::query(
            "INSERT INTO payments_customer_portal_sessions (id, environment, status, subject_type, subject_id,
                 return_url, configuration_id, raw, created_at, updated_at)
             VALUES ($1, $2, 'initialized', $3, $4, $5, $6, '{}', $7, $7)",
        )
        .bind(&id)
        .bind(env.as_str())
        .bind(&req.subject.subject_type)
        .bind(&req.subject.id)
        .bind(req.return_url.as_deref())
        .bind(req.configuration.as_deref())
        .bind(now_ms())
        .execute(&mut *conn)
        .await?;
        let customer = mirror::customer_of_subject(&mut conn, env, &req.subject.subject_type, &req.subject.id).await?;
        // Not held across the Stripe call (see `create_checkout_locked`).
        drop(conn);
        match self.create_stripe_portal(env, &id, &req, customer).await {
            Ok(()) => load_portal(&mut *self.pool().acquire().await?, &id).await,
            Err(e) => {
                let marked = match self.pool().acquire().await {
                    Ok(mut conn) => mark_failed(&mut conn, "payments_customer_portal_sessions", &id, &e).await,
                    Err(db) => Err(db.into()),
                };
                if let Err(db) = marked {
                    tracing::warn!(error = %db, "could not mark a customer portal session as failed");
                }
                Err(e)
            }
        }
    }

    async fn create_stripe_portal(
        &self,
        env: Environment,
        id: &str,
        req: &PortalRequest,
        customer: Option<String>,
    ) -> EngineResult<()> {
        let customer = customer.ok_or_else(|| {
            EngineError::PaymentNotFound("No Stripe customer is mapped to this billing subject".into())
        })?;
        let client = self.configured_client(env).await?;
        let form = Form::new()
            .set("customer", customer.as_str())
            .set_opt("return_url", req.return_url.as_deref())
            .set_opt("configuration", req.configuration.as_deref());
        let key = format!("insforge:{env}:customer_portal_session:{id}");
        let session = stripe::request(
            &client,
            Method::POST,
            "/v1/billing_portal/sessions",
            &form,
            &RequestOptions::idempotency_key(key),
        )
        .await?;
        let Some(url) = str_field(&session, "url") else {
            return Err(EngineError::ServerMessage("Stripe did not return a customer portal URL".into()));
        };
        let mut conn = self.pool().acquire().await?;
        sqlx::query(
            "UPDATE payments_customer_portal_sessions SET status = 'created', stripe_customer_id = $1, url = $2,
                 raw = $3, last_error = NULL, updated_at = $4
             WHERE id = $5",
        )
        .bind(&customer)
        .bind(&url)
        .bind(session.to_string())
        .bind(now_ms())
        .bind(id)
        .execute(&mut *conn)
        .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_follow_the_contract() {
        let u = |role: &str| RuntimeUser { id: "u".into(), email: None, role: role.into(), subjects: vec![] };
        assert!(check_checkout_role(&u("anon")).is_ok());
        assert_eq!(check_checkout_role(&u("service")).unwrap_err().to_string(), "Unsupported checkout role");
        let e = check_portal_role(&u("anon")).unwrap_err();
        assert_eq!((e.status(), e.code()), (401, "AUTH_INVALID_CREDENTIALS"));
        assert_eq!(check_portal_role(&u("x")).unwrap_err().status(), 403);
        assert!(check_portal_role(&u("authenticated")).is_ok());
        assert_eq!(local_checkout_status(Some("complete")), CheckoutSessionStatus::Completed);
        assert_eq!(local_checkout_status(None), CheckoutSessionStatus::Open);
    }
}
