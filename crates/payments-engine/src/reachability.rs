//! Whether Stripe can deliver webhooks to the console's public URL (issue #14).
//!
//! Stripe's servers post from the internet: a loopback, private, link-local or unique-local
//! address, or a name only a local network resolves, never receives them. The console then
//! shows the Stripe CLI's `stripe listen --forward-to …` instead of pretending the managed
//! endpoint works. Only the URL is looked at (no DNS lookup, no connection): a public name that
//! resolves to a private address, or a firewall, is not detected.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use payments_model::Unreachable;
use url::{Host, Url};

/// Why Stripe cannot reach `public_url`, or `None` when nothing in it says so.
pub fn stripe_cannot_reach(public_url: Option<&Url>) -> Option<Unreachable> {
    let Some(url) = public_url else { return Some(Unreachable::NoPublicUrl) };
    match url.host()? {
        Host::Ipv4(ip) => ipv4(ip),
        Host::Ipv6(ip) => ipv6(ip),
        Host::Domain(name) => domain(name),
    }
}

fn ipv4(ip: Ipv4Addr) -> Option<Unreachable> {
    let [a, b, ..] = ip.octets();
    if ip.is_loopback() {
        Some(Unreachable::Loopback)
    } else if ip.is_unspecified() {
        Some(Unreachable::Unspecified)
    } else if ip.is_link_local() {
        Some(Unreachable::LinkLocal)
    } else if ip.is_private() || (a == 100 && (64..128).contains(&b)) {
        // RFC 1918, and RFC 6598's shared space behind carrier-grade NAT.
        Some(Unreachable::PrivateAddress)
    } else {
        None
    }
}

fn ipv6(ip: Ipv6Addr) -> Option<Unreachable> {
    if let Some(v4) = ip.to_ipv4_mapped() {
        return ipv4(v4);
    }
    let first = ip.segments()[0];
    if ip.is_loopback() {
        Some(Unreachable::Loopback)
    } else if ip.is_unspecified() {
        Some(Unreachable::Unspecified)
    } else if first & 0xffc0 == 0xfe80 {
        Some(Unreachable::LinkLocal)
    } else if first & 0xfe00 == 0xfc00 {
        Some(Unreachable::UniqueLocal)
    } else {
        None
    }
}

fn domain(name: &str) -> Option<Unreachable> {
    let name = name.trim_end_matches('.').to_ascii_lowercase();
    if name == "localhost" || name.ends_with(".localhost") {
        return Some(Unreachable::Loopback);
    }
    // An IP literal `url` left as a name (it normalises IPv4 forms, so this is a safety net).
    if let Ok(ip) = name.parse::<IpAddr>() {
        return match ip {
            IpAddr::V4(v4) => ipv4(v4),
            IpAddr::V6(v6) => ipv6(v6),
        };
    }
    let local_suffix = [".local", ".internal", ".home.arpa"].iter().any(|s| name.ends_with(s));
    if local_suffix || !name.contains('.') {
        return Some(Unreachable::LocalName);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_stripe_cannot_reach_are_named_with_their_reason() {
        use Unreachable::*;
        let cases: &[(&str, Option<Unreachable>)] = &[
            ("http://127.0.0.1:3000", Some(Loopback)),
            ("http://127.8.9.10", Some(Loopback)),
            ("http://127.1:3000", Some(Loopback)),
            ("http://[::1]:3000", Some(Loopback)),
            ("http://localhost:3000", Some(Loopback)),
            ("http://LOCALHOST.:3000", Some(Loopback)),
            ("http://console.localhost", Some(Loopback)),
            ("http://10.0.0.5", Some(PrivateAddress)),
            ("http://172.16.0.1", Some(PrivateAddress)),
            ("http://172.31.255.255", Some(PrivateAddress)),
            ("http://192.168.1.20:8080", Some(PrivateAddress)),
            ("http://100.64.0.1", Some(PrivateAddress)),
            ("http://[::ffff:192.168.1.2]", Some(PrivateAddress)),
            ("http://169.254.10.10", Some(LinkLocal)),
            ("http://[fe80::1]", Some(LinkLocal)),
            ("http://[febf::1]", Some(LinkLocal)),
            ("http://[fc00::1]", Some(UniqueLocal)),
            ("http://[fd12:3456::1]", Some(UniqueLocal)),
            ("http://0.0.0.0:3000", Some(Unspecified)),
            ("http://[::]:3000", Some(Unspecified)),
            ("http://payments.local", Some(LocalName)),
            ("http://Payments.LOCAL.", Some(LocalName)),
            ("http://console.internal:8080", Some(LocalName)),
            ("http://router.home.arpa", Some(LocalName)),
            ("http://console:3000", Some(LocalName)),
            // Reachable as far as the URL tells.
            ("https://pay.example.com", None),
            ("https://pay.example.com/base/", None),
            ("http://172.15.255.255", None),
            ("http://172.32.0.1", None),
            ("http://100.128.0.1", None),
            ("http://8.8.8.8", None),
            ("http://[2001:db8::1]", None),
            ("http://[fec0::1]", None),
            ("https://local.example.com", None),
            ("https://example.localdomain.com", None),
        ];
        for (url, want) in cases {
            let parsed: Url = url.parse().unwrap();
            assert_eq!(stripe_cannot_reach(Some(&parsed)), *want, "{url}");
        }
        assert_eq!(stripe_cannot_reach(None), Some(NoPublicUrl));
    }
}
