//! Signing in: the throttle, the password check, the new session and its audit entry, in the
//! order that keeps guessing expensive. The sign-in page's server function adds what is HTTP
//! about it (the cookie, the redirect without JavaScript, `Retry-After`).

use std::net::IpAddr;

use crate::error::AppError;
use crate::server::audit::NewAuditEntry;
use crate::server::errors::internal;
use crate::server::secrets::SecretString;
use crate::server::state::AppState;

/// Signs `email` in from `client` and answers the new session's token; or refuses with
/// [`AppError::Throttled`] (after repeated failures per email or per address, see
/// `crate::server::throttle`), [`AppError::BadCredentials`] or [`AppError::Deactivated`].
///
/// The attempt is counted before its password is checked, so that parallel guesses cannot all
/// get past the throttle; a refused attempt stays counted as a failure.
pub async fn sign_in(
    state: &AppState,
    email: &str,
    password: SecretString,
    client: Option<IpAddr>,
) -> Result<String, AppError> {
    let reservation = match state.throttle.reserve(email, client).await.map_err(internal)? {
        Ok(reservation) => reservation,
        Err(retry_after_secs) => {
            tracing::info!("throttled sign-in attempt");
            return Err(AppError::Throttled { retry_after_secs });
        }
    };
    let Some(user) = state.users.verify(email, password).await.map_err(internal)? else {
        // The reservation stays behind as the failure.
        drop(reservation);
        tracing::info!("failed sign-in attempt");
        return Err(AppError::BadCredentials);
    };
    if !user.is_active() {
        // Only someone who knows the password learns this; it stays counted as a failure.
        drop(reservation);
        tracing::info!("sign-in attempt to a deactivated account");
        return Err(AppError::Deactivated);
    }
    state.throttle.succeeded(reservation).await.map_err(internal)?;
    let token = state.sessions.create(&user.id).await.map_err(internal)?;
    state.users.signed_in(&user.id).await.map_err(internal)?;
    state
        .audit
        .record(NewAuditEntry { actor: &user.email, action: "session.sign_in", ..Default::default() })
        .await
        .map_err(internal)?;
    Ok(token)
}
