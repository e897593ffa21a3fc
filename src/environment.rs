//! The two Stripe environments. Every console URL names one (`/test/...`, `/live/...`), so a link
//! pasted into a message always opens the environment its sender was looking at.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A Stripe environment: test-mode or live-mode keys and data.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Environment {
    Test,
    Live,
}

impl Environment {
    /// Both environments, in the order the console lists them.
    pub const ALL: [Environment; 2] = [Environment::Test, Environment::Live];

    /// The URL segment and API spelling of the environment.
    pub fn as_str(self) -> &'static str {
        match self {
            Environment::Test => "test",
            Environment::Live => "live",
        }
    }

    /// Parses a URL segment; anything but `test` or `live` is not an environment.
    pub fn parse(segment: &str) -> Option<Self> {
        match segment {
            "test" => Some(Environment::Test),
            "live" => Some(Environment::Live),
            _ => None,
        }
    }

    /// The other environment, for the test/live switch.
    pub fn other(self) -> Self {
        match self {
            Environment::Test => Environment::Live,
            Environment::Live => Environment::Test,
        }
    }

    /// Human label, as shown in the header switch.
    pub fn label(self) -> &'static str {
        match self {
            Environment::Test => "Test",
            Environment::Live => "Live",
        }
    }
}

impl fmt::Display for Environment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Rewrites a console path to the same page in another environment: `/test/catalog?x=1` becomes
/// `/live/catalog?x=1`. Paths that do not start with an environment go to its overview.
pub fn switch_path(path: &str, to: Environment) -> String {
    let rest = path.trim_start_matches('/');
    let (first, tail) = rest.split_once('/').map_or((rest, ""), |(a, b)| (a, b));
    match Environment::parse(first) {
        Some(_) if tail.is_empty() => format!("/{to}"),
        Some(_) => format!("/{to}/{tail}"),
        None => format!("/{to}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_only_the_two_environments() {
        assert_eq!(Environment::parse("test"), Some(Environment::Test));
        assert_eq!(Environment::parse("live"), Some(Environment::Live));
        assert_eq!(Environment::parse("Live"), None);
        assert_eq!(Environment::parse("prod"), None);
    }

    #[test]
    fn switching_keeps_the_page_and_query() {
        assert_eq!(switch_path("/test/catalog?active=true", Environment::Live), "/live/catalog?active=true");
        assert_eq!(switch_path("/live", Environment::Test), "/test");
        assert_eq!(switch_path("/live/", Environment::Test), "/test");
        assert_eq!(switch_path("/test/subjects/team/acme", Environment::Live), "/live/subjects/team/acme");
        assert_eq!(switch_path("/", Environment::Live), "/live");
    }
}
