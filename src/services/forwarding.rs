//! Webhooks on a machine Stripe cannot reach (issue #14): whether Stripe can deliver to this
//! console, the Stripe CLI command that forwards its events instead, and the pasted signing
//! secret's masked hint. The page shows it on the Keys and Webhooks pages
//! (`crate::pages::forwarding`).

use crate::auth::CurrentUser;
use crate::backend::ssr::BackendKind;
use crate::environment::Environment;
use crate::error::AppError;
use crate::model::forwarding::{listen_command, ForwardingFacts};
use crate::server::state::AppState;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use url::Url;

/// What the pages show about forwarding for `env`.
pub async fn webhook_forwarding(
    state: &AppState,
    user: &CurrentUser,
    env: Environment,
) -> Result<ForwardingFacts, AppError> {
    let public_url = state.settings.public_url.as_ref();
    let base = forward_base(public_url, state.leptos_options.site_addr);
    let forward_to = format!("{base}/api/webhooks/stripe/{env}");
    let connection = state.backend.status(user).await?.into_iter().find(|c| c.environment == env);
    Ok(ForwardingFacts {
        unreachable: payments_engine::stripe_cannot_reach(public_url),
        command: listen_command(env, &forward_to, &payments_engine::MANAGED_WEBHOOK_EVENTS),
        forward_to,
        secret_hint: connection.as_ref().and_then(|c| c.forwarding_secret_hint.clone()),
        secret_set_at: connection.as_ref().and_then(|c| c.forwarding_secret_set_at.clone()),
        has_key: connection.as_ref().is_some_and(|c| c.masked_key.is_some()),
        supported: state.backend.kind() == BackendKind::Embedded,
        demo: state.settings.demo_sandbox_url.is_some(),
    })
}

/// Where `stripe listen` forwards to: the public URL when one is set (the CLI runs where it
/// resolves), else the address the console listens on, with an unspecified address (0.0.0.0,
/// ::) replaced by loopback, since the CLI usually runs on the same machine.
fn forward_base(public_url: Option<&Url>, listening: SocketAddr) -> String {
    if let Some(url) = public_url {
        return url.as_str().trim_end_matches('/').to_owned();
    }
    let ip = match listening.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        ip => ip,
    };
    format!("http://{}", SocketAddr::new(ip, listening.port()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forwarding_goes_to_the_public_url_or_to_where_the_console_listens() {
        let public: Url = "https://pay.example.com/base/".parse().unwrap();
        let addr: SocketAddr = "0.0.0.0:3000".parse().unwrap();
        assert_eq!(forward_base(Some(&public), addr), "https://pay.example.com/base");
        assert_eq!(forward_base(None, addr), "http://127.0.0.1:3000");
        assert_eq!(forward_base(None, "[::]:8080".parse().unwrap()), "http://[::1]:8080");
        assert_eq!(forward_base(None, "192.168.1.5:3000".parse().unwrap()), "http://192.168.1.5:3000");
    }
}
