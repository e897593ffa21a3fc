//! The two Stripe environments. Every console URL names one (`/test/...`, `/live/...`), so a link
//! pasted into a message always opens the environment its sender was looking at.

/// The engine's environment type, shared with the browser through the model crate.
pub use payments_model::Environment;

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
