//! The console's sections, in navigation order: the one list the navigation, the route guard
//! and the tests read.

/// A section of the console.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Section {
    /// The path after the environment (`""` is the overview).
    pub slug: &'static str,
    pub label: &'static str,
    /// Hidden from, and refused to, support users.
    pub admin_only: bool,
}

/// Every section, in the order the navigation shows them.
pub const SECTIONS: &[Section] = &[
    Section { slug: "", label: "Overview", admin_only: false },
    Section { slug: "keys", label: "Keys", admin_only: true },
    Section { slug: "sync", label: "Sync", admin_only: true },
    Section { slug: "catalog", label: "Catalog", admin_only: false },
    Section { slug: "customers", label: "Customers", admin_only: false },
    Section { slug: "subscriptions", label: "Subscriptions", admin_only: false },
    Section { slug: "history", label: "Payment history", admin_only: false },
    Section { slug: "webhooks", label: "Webhooks", admin_only: false },
    Section { slug: "users", label: "Users", admin_only: true },
    Section { slug: "api-keys", label: "API keys", admin_only: true },
    Section { slug: "audit", label: "Audit log", admin_only: true },
];

/// The section a console path belongs to (`/test/catalog/x` → Catalog).
pub fn section_of(path: &str) -> Option<&'static Section> {
    let mut parts = path.trim_start_matches('/').split('/');
    let _env = parts.next();
    let slug = parts.next().unwrap_or("");
    SECTIONS.iter().find(|s| s.slug == slug)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_map_to_sections() {
        assert_eq!(section_of("/test").map(|s| s.label), Some("Overview"));
        assert_eq!(section_of("/live/keys").map(|s| s.admin_only), Some(true));
        assert_eq!(section_of("/test/history").map(|s| s.label), Some("Payment history"));
        assert_eq!(section_of("/test/nope"), None);
    }
}
