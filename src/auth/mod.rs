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
    /// Their password was set for them: the console sends them to the Account page to choose
    /// their own, and refuses everything else until they have.
    #[serde(default)]
    pub must_change_password: bool,
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

/// Where to go after signing in when `next` is missing or refused.
pub const DEFAULT_NEXT: &str = "/test";

/// Makes sure a post-login destination is a path of this console, never another site: an
/// attacker-supplied `next=//evil.example` must not turn the login page into an open redirect.
///
/// Browsers are lenient with URLs: they drop tabs, CR and LF anywhere, trim leading spaces and
/// control characters, and read `\` as `/`, so `/\t/evil.example` or `/\evil.example` lands on
/// another host. Rather than model those rules, anything but a plain path is refused: control
/// characters, whitespace and backslashes anywhere, and any percent-decoded form (decoded again
/// and again, in case something on the way decodes once more) that starts with `//` or `/\` or
/// holds a control character or backslash. Refused or missing destinations become
/// [`DEFAULT_NEXT`]. Queries and fragments of ordinary paths are kept.
pub fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n) if is_local_destination(n) => n.to_string(),
        _ => DEFAULT_NEXT.to_string(),
    }
}

/// How many rounds of percent-decoding [`safe_next`] looks through before giving up (and
/// refusing): real console paths need one at most.
const MAX_DECODE_ROUNDS: usize = 4;

/// Longer destinations are refused: no console path comes near, and a bound keeps the work small.
const MAX_NEXT_LEN: usize = 2048;

fn is_local_destination(next: &str) -> bool {
    let raw_ok = next.len() <= MAX_NEXT_LEN
        && next.starts_with('/')
        && !next.chars().any(|c| c == '\\' || c.is_control() || c.is_whitespace());
    if !raw_ok || is_login_path(next) {
        return false;
    }
    let mut current = next.to_string();
    for _ in 0..=MAX_DECODE_ROUNDS {
        if current.starts_with("//")
            || current.starts_with("/\\")
            || current.chars().any(|c| c == '\\' || c.is_control())
        {
            return false;
        }
        match percent_decode(&current) {
            // Stable: nothing more is hidden behind escapes.
            Some(decoded) if decoded == current => return !is_login_path(&decoded),
            Some(decoded) => current = decoded,
            // Escapes that decode to invalid UTF-8 are no console path.
            None => return false,
        }
    }
    false
}

/// The login page itself (with any query) as a destination would only loop back here.
fn is_login_path(path: &str) -> bool {
    let path = path.split(['?', '#']).next().unwrap_or_default();
    path == "/login" || path == "/login/"
}

/// Decodes `%XX` escapes (malformed ones are kept as they are); `None` when the result is not
/// UTF-8.
fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let (Some(hi), Some(lo)) = (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                out.push((hi * 16 + lo) as u8);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8(out).ok()
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

    /// Forms that a browser (or a proxy that decodes once more) turns into another host, or
    /// that could not be put in a `Location` header at all.
    #[test]
    fn next_refuses_every_disguised_external_destination() {
        let hostile = [
            "/\t/evil.example",
            "/\n/evil.example",
            "/\r\n/evil.example",
            "\t//evil.example",
            " //evil.example",
            "/ /evil.example",
            "/\u{0}/evil.example",
            "/\u{7f}/evil.example",
            "/\u{85}/evil.example",
            "/\u{a0}/evil.example",
            "/\u{3000}/evil.example",
            "/%09/evil.example",
            "/%0a/evil.example",
            "/%0D%0A/evil.example",
            "/%00/evil.example",
            "/%5Cevil.example",
            "/%5cevil.example",
            "/%2F/evil.example",
            "/%2f%2fevil.example",
            "%2F%2Fevil.example",
            "/%252F/evil.example",
            "/%25252F/evil.example",
            "/%2525252525252F/evil.example",
            "/%5C%5Cevil.example",
            "/test%5C..%5C..%5Cevil",
            "/x/%0d%0aSet-Cookie:%20a=b",
            "/%ff%fe",
            "\\evil.example",
            "\\/evil.example",
            "/\\/evil.example",
            "//evil.example",
            "///evil.example",
            "https:evil.example",
            "javascript:alert(1)",
            "evil.example",
            "",
            "/login?next=//evil.example",
            "/%6Cogin",
        ];
        for next in hostile {
            assert_eq!(safe_next(Some(next)), DEFAULT_NEXT, "{next:?} was accepted");
        }
        assert_eq!(safe_next(Some(&format!("/{}", "a".repeat(4096)))), DEFAULT_NEXT, "overlong");
    }

    #[test]
    fn next_keeps_ordinary_console_paths() {
        for next in [
            "/test",
            "/live/catalog?active=true",
            "/test/customers?q=ada%40example.com&page=2",
            "/test/history?q=100%25",
            "/test/subjects/user%2042#events",
            "/live/catalog/prod_123",
            "/test/customers?q=caf%C3%A9",
        ] {
            assert_eq!(safe_next(Some(next)), next);
        }
    }

    #[test]
    fn only_admins_write() {
        assert!(Role::Admin.can_write());
        assert!(!Role::Support.can_write());
        assert_eq!(Role::parse(Role::Support.as_str()), Some(Role::Support));
        assert_eq!(Role::parse("root"), None);
    }
}
