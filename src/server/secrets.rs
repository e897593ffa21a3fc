//! Typed secrets: values that must never be printed. `Debug` shows `[redacted]`, and the memory
//! is wiped on drop.

use std::fmt;
use zeroize::Zeroizing;

/// A secret string (password, API key, Stripe key). Read it only with [`SecretString::expose`].
#[derive(Clone)]
pub struct SecretString(Zeroizing<String>);

impl SecretString {
    /// Wraps a secret value.
    pub fn new(value: String) -> Self {
        SecretString(Zeroizing::new(value))
    }

    /// The secret itself: call only where it is used, never to log or display it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for SecretString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretString([redacted])")
    }
}

impl From<String> for SecretString {
    fn from(value: String) -> Self {
        SecretString::new(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_value() {
        let s = SecretString::new("sk_live_very_secret".into());
        assert!(!format!("{s:?}").contains("very_secret"));
        assert_eq!(s.expose(), "sk_live_very_secret");
    }
}
