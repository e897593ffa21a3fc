//! The two Stripe environments and the names derived from them.

use std::fmt;

/// A Stripe environment: `test` or `live`. Each has its own key, account, mirror and lock.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Environment {
    /// Test mode (`sk_test_…` keys).
    Test,
    /// Live mode (`sk_live_…` keys).
    Live,
}

impl Environment {
    /// Both environments, test first: the order every list in the API uses.
    pub const ALL: [Environment; 2] = [Environment::Test, Environment::Live];

    /// `"test"` / `"live"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Environment::Test => "test",
            Environment::Live => "live",
        }
    }

    /// Parses `"test"` / `"live"` (exact, lower-case).
    pub fn parse(s: &str) -> Option<Environment> {
        match s {
            "test" => Some(Environment::Test),
            "live" => Some(Environment::Live),
            _ => None,
        }
    }

    /// The other environment, for the console's test/live switch.
    pub fn other(self) -> Self {
        match self {
            Environment::Test => Environment::Live,
            Environment::Live => Environment::Test,
        }
    }

    /// Human label, as the console shows it.
    pub fn label(self) -> &'static str {
        match self {
            Environment::Test => "Test",
            Environment::Live => "Live",
        }
    }

    /// The prefix a secret key of this environment must have.
    pub fn key_prefix(self) -> &'static str {
        match self {
            Environment::Test => "sk_test_",
            Environment::Live => "sk_live_",
        }
    }

    /// The secret-store name of the Stripe secret key (`STRIPE_TEST_SECRET_KEY`); also used in messages.
    pub fn secret_key_name(self) -> &'static str {
        match self {
            Environment::Test => "STRIPE_TEST_SECRET_KEY",
            Environment::Live => "STRIPE_LIVE_SECRET_KEY",
        }
    }

    /// The secret-store name of the managed webhook's signing secret.
    pub fn webhook_secret_name(self) -> &'static str {
        match self {
            Environment::Test => "STRIPE_TEST_WEBHOOK_SECRET",
            Environment::Live => "STRIPE_LIVE_WEBHOOK_SECRET",
        }
    }

    /// The secret-store name of the signing secret an admin pasted from the Stripe CLI
    /// (`stripe listen`), accepted beside the managed webhook's.
    pub fn forwarding_secret_name(self) -> &'static str {
        match self {
            Environment::Test => "STRIPE_TEST_WEBHOOK_FORWARDING_SECRET",
            Environment::Live => "STRIPE_LIVE_WEBHOOK_FORWARDING_SECRET",
        }
    }
}

impl fmt::Display for Environment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
