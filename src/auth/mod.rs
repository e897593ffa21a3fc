//! Who is calling: the signed-in user, their role, and the server functions that start and end a
//! session. Enforcement lives on the server ([`ssr`]); the UI only hides what a role cannot use.

use crate::error::AppError;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

#[cfg(feature = "ssr")]
pub mod ssr;

/// What a console user may do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Everything: keys, sync, catalog edits, webhook configuration, audit log.
    Admin,
    /// Read-only: overview, catalog, customers, subscriptions, payment history, webhook events.
    Support,
}

impl Role {
    /// The spelling stored in the database and accepted on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Support => "support",
        }
    }

    /// Parses the stored spelling.
    pub fn parse(s: &str) -> Option<Role> {
        match s {
            "admin" => Some(Role::Admin),
            "support" => Some(Role::Support),
            _ => None,
        }
    }

    /// Whether this role may change anything (keys, catalog, sync, webhooks).
    pub fn can_write(self) -> bool {
        matches!(self, Role::Admin)
    }
}

/// The signed-in user, as the browser sees it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CurrentUser {
    pub email: String,
    pub role: Role,
}

/// The signed-in user, or `None` for an anonymous visitor.
#[server(prefix = "/api/console", endpoint = "me")]
pub async fn who_am_i() -> Result<Option<CurrentUser>, AppError> {
    Ok(ssr::current_session().map(|s| s.user))
}

/// Ends the current session and clears its cookie. Answers the path to go to next.
#[server(prefix = "/api/console", endpoint = "logout")]
pub async fn logout() -> Result<String, AppError> {
    let session = ssr::require_session()?;
    let state = crate::server::state::app_state();
    state.sessions.revoke(&session.token_hash).await.map_err(crate::server::errors::internal)?;
    ssr::clear_session_cookie(&state.settings);
    ssr::navigate_after_form("/login");
    Ok("/login".to_string())
}

/// Makes sure a post-login destination is a path of this console, never another site: an
/// attacker-supplied `next=//evil.example` must not turn the login page into an open redirect.
pub fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n) if n.starts_with('/') && !n.starts_with("//") && !n.contains('\\') && n != "/login" => n.to_string(),
        _ => "/test".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_must_be_a_local_path() {
        assert_eq!(safe_next(Some("/live/catalog?active=true")), "/live/catalog?active=true");
        assert_eq!(safe_next(Some("//evil.example/x")), "/test");
        assert_eq!(safe_next(Some("https://evil.example")), "/test");
        assert_eq!(safe_next(Some("/\\evil.example")), "/test");
        assert_eq!(safe_next(Some("/login")), "/test");
        assert_eq!(safe_next(None), "/test");
    }

    #[test]
    fn only_admins_write() {
        assert!(Role::Admin.can_write());
        assert!(!Role::Support.can_write());
        assert_eq!(Role::parse(Role::Support.as_str()), Some(Role::Support));
        assert_eq!(Role::parse("root"), None);
    }
}
