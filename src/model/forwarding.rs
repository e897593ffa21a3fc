//! Webhooks on a machine Stripe cannot reach (issue #14): what the Keys and Webhooks pages show
//! (`crate::pages::forwarding`), as the service (`crate::services::forwarding`) works it out.

use crate::environment::Environment;
use payments_model::Unreachable;
use serde::{Deserialize, Serialize};

/// What the pages show about forwarded webhooks for one environment.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ForwardingFacts {
    /// Why Stripe cannot reach this console's public URL; `None` when nothing says it cannot.
    pub unreachable: Option<Unreachable>,
    /// Where the Stripe CLI should forward: `<this console>/api/webhooks/stripe/<env>`.
    pub forward_to: String,
    /// The whole `stripe listen …` command, ready to copy.
    pub command: String,
    /// The pasted secret, masked (`whsec_…abcd`), while one is set.
    pub secret_hint: Option<String>,
    /// When it was set (ISO 8601).
    pub secret_set_at: Option<String>,
    /// The environment has a Stripe key (a pasted secret needs one).
    pub has_key: bool,
    /// The payments backend offers pasted secrets (the embedded engine; not a remote InsForge).
    pub supported: bool,
    /// The console runs on the offline demo sandbox, which delivers to it whatever the URL.
    pub demo: bool,
}

impl ForwardingFacts {
    /// Whether the pages show the forwarding card at all: Stripe cannot reach the console, or
    /// a pasted secret is still set (so that it can be seen and removed).
    pub fn shown(&self) -> bool {
        self.unreachable.is_some() || self.secret_hint.is_some()
    }
}

/// The Stripe CLI command that forwards `env`'s events to `forward_to`, limited to `events`
/// (the managed endpoint's types, so the event log matches what the managed endpoint would
/// get). `--live` receives live-mode events (the CLI's default is test mode).
pub fn listen_command(env: Environment, forward_to: &str, events: &[&str]) -> String {
    let live = if env == Environment::Live { " --live" } else { "" };
    format!("stripe listen --forward-to {forward_to}{live} --events {}", events.join(","))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_command_forwards_this_environment_and_says_live() {
        let events = ["invoice.paid", "customer.updated"];
        let test = listen_command(Environment::Test, "http://127.0.0.1:3000/api/webhooks/stripe/test", &events);
        assert_eq!(
            test,
            "stripe listen --forward-to http://127.0.0.1:3000/api/webhooks/stripe/test --events invoice.paid,customer.updated"
        );
        let live = listen_command(Environment::Live, "http://127.0.0.1:3000/api/webhooks/stripe/live", &events);
        assert!(live
            .starts_with("stripe listen --forward-to http://127.0.0.1:3000/api/webhooks/stripe/live --live --events "));
    }
}
