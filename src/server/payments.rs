//! The embedded payments engine, wired to the console: its secrets sealed with the console's
//! master key, its API authenticated with the console's API keys, sessions and JWT secret.

use super::api_keys::ApiKeyStore;
use super::crypto::MasterKey;
use super::http::cookie;
use super::secrets::SecretString;
use super::sessions::{SessionStore, SESSION_COOKIE};
use axum::http::HeaderMap;
use payments_engine::api::auth::BoxFuture;
use payments_engine::{
    caller_from_claims, verify_hs256, AuthError, Authenticator, Caller, Credential, SealError, Sealer,
};
use std::sync::Arc;
use zeroize::Zeroizing;

impl Sealer for MasterKey {
    fn seal(&self, plaintext: &str) -> String {
        MasterKey::seal(self, plaintext)
    }

    fn open(&self, sealed: &str) -> Result<Zeroizing<String>, SealError> {
        MasterKey::open(self, sealed).map_err(|e| SealError(e.to_string()))
    }
}

/// Who may call `/api/payments/...`: an `ik_…` API key (admin), a console session (admin, or
/// read-only for support staff) or, when a JWT secret is configured, an HS256 bearer token with
/// the contract's role rules.
pub struct ConsoleAuthenticator {
    pub api_keys: ApiKeyStore,
    pub sessions: SessionStore,
    pub jwt_secret: Option<SecretString>,
}

impl ConsoleAuthenticator {
    /// The authenticator of a console's database and settings.
    pub fn new(db: &super::db::Db, settings: &super::settings::Settings) -> Self {
        ConsoleAuthenticator {
            api_keys: ApiKeyStore::new(db.clone()),
            sessions: SessionStore::new(db.clone(), settings.session_idle_timeout_secs),
            jwt_secret: settings.jwt_secret.clone(),
        }
    }

    async fn identify(&self, headers: &HeaderMap) -> Result<Caller, AuthError> {
        match Credential::from_headers(headers) {
            Some(Credential::ApiKey(key)) => match self.api_keys.authenticate(&key).await {
                Ok(Some(record)) => Ok(Caller::Admin { actor: format!("api_key:{}", record.name) }),
                Ok(None) => Err(AuthError::InvalidApiKey),
                Err(e) => {
                    tracing::error!(error = %e, "API key lookup failed");
                    Err(AuthError::InvalidApiKey)
                }
            },
            Some(Credential::Jwt(token)) => match &self.jwt_secret {
                Some(secret) => verify_hs256(&token, secret.expose().as_bytes())
                    .map(caller_from_claims)
                    .map_err(|_| AuthError::InvalidToken),
                None => Err(AuthError::InvalidToken),
            },
            None => self.from_session(headers).await,
        }
    }

    /// The browser's console session, for the console's own pages calling the API.
    async fn from_session(&self, headers: &HeaderMap) -> Result<Caller, AuthError> {
        let Some(token) = cookie(headers, SESSION_COOKIE) else { return Err(AuthError::MissingCredentials) };
        match self.sessions.lookup(&token).await {
            Ok(Some(session)) if session.user.must_change_password => {
                Err(AuthError::Forbidden("Choose your own password first (Account page).".into()))
            }
            Ok(Some(session)) => Ok(crate::auth::ssr::engine_caller(&session.user)),
            Ok(None) => Err(AuthError::MissingCredentials),
            Err(e) => {
                tracing::error!(error = %e, "session lookup failed");
                Err(AuthError::MissingCredentials)
            }
        }
    }
}

impl Authenticator for ConsoleAuthenticator {
    fn authenticate<'a>(&'a self, headers: &'a HeaderMap) -> BoxFuture<'a, Result<Caller, AuthError>> {
        Box::pin(self.identify(headers))
    }
}

/// Shares the master key with the engine without copying it.
pub fn sealer(master_key: &Arc<MasterKey>) -> Arc<dyn Sealer> {
    master_key.clone()
}

/// Writes the engine's audit records into the console's audit log, so writes made through the
/// payments API (CLI, SDK, console) appear on the Audit log page with their Stripe request ids.
pub struct ConsoleAudit {
    pub log: super::audit::AuditLog,
}

impl payments_engine::AuditSink for ConsoleAudit {
    fn record(&self, record: payments_engine::AuditRecord) {
        let log = self.log.clone();
        // The engine reports synchronously after the operation; the write must not hold it up.
        tokio::spawn(async move {
            let environment = record.environment.map(|e| e.to_string());
            let detail = match &record.error {
                Some(error) => Some(format!("failed: {error}")),
                None if record.stripe_calls.is_empty() => None,
                None => Some(record.stripe_calls.iter().map(|c| c.endpoint.as_str()).collect::<Vec<_>>().join(", ")),
            };
            let entry = super::audit::NewAuditEntry {
                actor: &record.actor,
                action: &record.action,
                environment: environment.as_deref(),
                target: record.target.as_deref(),
                detail: detail.as_deref(),
                stripe_request_id: record.stripe_request_id(),
                idempotency_key: record.idempotency_key(),
            };
            if let Err(e) = log.record(entry).await {
                tracing::error!(error = %e, action = %record.action, "could not write an audit entry");
            }
        });
    }
}
