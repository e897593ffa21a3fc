//! Server-side enforcement for server functions: every one of them starts with
//! [`require_session`], [`require_reader`] or [`require_admin`] (or, for the login itself,
//! nothing), so no data leaves the server without a role check.

use super::{CurrentUser, Role};
use crate::error::AppError;
use crate::server::sessions::{Session, SESSION_COOKIE};
use crate::server::settings::Settings;
use http::{header, request::Parts, HeaderValue};
use leptos::prelude::*;
use leptos_axum::ResponseOptions;
use std::net::{IpAddr, SocketAddr};

/// The session the request arrived with, as resolved by the session middleware.
pub fn current_session() -> Option<Session> {
    use_context::<Parts>().and_then(|parts| parts.extensions.get::<Session>().cloned())
}

/// The caller's session, or 401.
pub fn require_session() -> Result<Session, AppError> {
    current_session().ok_or(AppError::Unauthenticated)
}

/// Any signed-in user may read (admin or support), once they have chosen their own password.
pub fn require_reader() -> Result<CurrentUser, AppError> {
    let user = require_session()?.user;
    if user.must_change_password {
        return Err(AppError::PasswordChangeRequired);
    }
    Ok(user)
}

/// Only admins: 401 for anonymous callers, 403 for support.
pub fn require_admin() -> Result<CurrentUser, AppError> {
    let user = require_reader()?;
    if user.role == Role::Admin {
        Ok(user)
    } else {
        Err(AppError::Forbidden)
    }
}

/// The address of the peer the request came from (the TCP connection's, which the server records
/// because it is served with connect info). Deliberately not `X-Forwarded-For`: any client can
/// write that header, and trusting it would let one machine appear as many. `None` only when the
/// router is served without connect info.
pub fn client_address() -> Option<IpAddr> {
    let address = use_context::<Parts>()
        .and_then(|parts| parts.extensions.get::<axum::extract::ConnectInfo<SocketAddr>>().map(|info| info.0.ip()));
    if address.is_none() {
        static WARNED: std::sync::Once = std::sync::Once::new();
        WARNED.call_once(|| tracing::warn!("client address unknown: sign-ins are throttled per email only"));
    }
    address
}

/// Tells the client how many seconds to wait before trying again (with a 429).
pub fn set_retry_after(seconds: u64) {
    if let Some(res) = use_context::<ResponseOptions>() {
        res.insert_header(header::RETRY_AFTER, HeaderValue::from(seconds));
    }
}

/// Whether the request is a plain HTML form post (no JavaScript), which expects a redirect
/// rather than a serialized result.
pub fn is_plain_form_post() -> bool {
    use_context::<Parts>()
        .and_then(|parts| {
            parts.headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()).map(|v| v.contains("text/html"))
        })
        .unwrap_or(false)
}

/// After a form post without JavaScript, send the browser to `path`. With JavaScript the page
/// navigates itself (a full load, so the shell picks up the new session).
pub fn navigate_after_form(path: &str) {
    if is_plain_form_post() {
        leptos_axum::redirect(path);
    }
}

/// Sets the session cookie: HttpOnly (no script can read it), SameSite=Strict (never sent on
/// cross-site requests), Secure when the console is served over HTTPS.
pub fn set_session_cookie(settings: &Settings, token: &str) {
    append_cookie(session_cookie(settings, Some(token)));
}

/// Expires the session cookie in the browser.
pub fn clear_session_cookie(settings: &Settings) {
    append_cookie(session_cookie(settings, None));
}

/// Who a signed-in console user is to the payments engine: an admin writes, support staff
/// only read. The actor (`user:<email>`) is what the engine's audit records. One mapping for
/// the embedded backend's in-process calls and the browser's session on `/api/payments`.
pub fn engine_caller(user: &CurrentUser) -> payments_engine::Caller {
    let actor = format!("user:{}", user.email);
    match user.role {
        Role::Admin => payments_engine::Caller::Admin { actor },
        Role::Support => payments_engine::Caller::ReadOnly { actor },
    }
}

/// The session cookie's `Set-Cookie` value, carrying `token`, or expiring the cookie for `None`.
/// The one spelling of its attributes, so that the cookie a sign-in sets and the ones sign-out
/// and the session middleware clear cannot drift apart (the middleware's copy once lacked
/// `Secure`).
pub fn session_cookie(settings: &Settings, token: Option<&str>) -> String {
    let (value, expiry) = match token {
        Some(token) => (token, ""),
        None => ("", "; Max-Age=0"),
    };
    let secure = if settings.secure_cookies { "; Secure" } else { "" };
    format!("{SESSION_COOKIE}={value}; Path=/; HttpOnly; SameSite=Strict{expiry}{secure}")
}

fn append_cookie(cookie: String) {
    if let (Some(res), Ok(value)) = (use_context::<ResponseOptions>(), HeaderValue::from_str(&cookie)) {
        res.append_header(header::SET_COOKIE, value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(secure_cookies: bool) -> Settings {
        Settings {
            secure_cookies,
            public_url: None,
            session_idle_timeout_secs: 3600,
            demo_sandbox_url: None,
            demo_live_sandbox_url: None,
            remote_backend: None,
            stripe_api_base: url::Url::parse("https://api.stripe.com").unwrap(),
            jwt_secret: None,
            metrics_token: None,
        }
    }

    /// Setting and clearing spell the same attributes; `Secure` follows the settings for both.
    #[test]
    fn the_session_cookie_is_set_and_cleared_with_the_same_attributes() {
        for secure in [false, true] {
            let s = settings(secure);
            let set = session_cookie(&s, Some("tok"));
            let cleared = session_cookie(&s, None);
            assert!(set.starts_with(&format!("{SESSION_COOKIE}=tok; ")), "{set}");
            assert!(
                cleared.starts_with(&format!("{SESSION_COOKIE}=; ")) && cleared.contains("; Max-Age=0"),
                "{cleared}"
            );
            for attribute in ["Path=/", "HttpOnly", "SameSite=Strict"] {
                assert!(set.contains(attribute) && cleared.contains(attribute), "{attribute}");
            }
            assert_eq!((set.ends_with("; Secure"), cleared.ends_with("; Secure")), (secure, secure));
        }
    }
}
