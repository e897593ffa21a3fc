//! The pages a first visit does not need, as lazily loaded routes (issue #13).
//!
//! Built with `cargo leptos build --split` (see `scripts/build.sh`), these pages' code leaves the
//! main WebAssembly file. Signing in and the overview hydrate only their islands
//! (`crate::app::Hydration`) and need none of it; a page that hydrates the whole app loads the
//! app's chunk (`crate::app::hydrate_app`) and then the download its route is in.
//!
//! The pages come in two downloads, not one per page. The split step gives every set of split
//! points that shares code a chunk of its own: with one split point per page, a page needed 30 to
//! 136 files, and on a slow link their round trips cost more than the bytes saved (a cold load of
//! the catalog took 2.0 s against 1.3 s for the whole bundle). Two split points make at most three
//! chunks, and they follow who uses what: the pages support staff work in, and the
//! administration pages only admins open.
//!
//! Every build of the bundle needs `--split`, debug ones too (`cargo leptos build --split`,
//! `cargo leptos watch --split`): without it the WASM still imports the chunks' loader, which only
//! the split step writes, and no page hydrates.
//!
//! A page's data does not wait for its code: on a first visit the server has rendered the page
//! and serialised its data already, and names the chunks the route needs in `<link rel=preload>`
//! so the browser fetches them beside the main module.

use crate::ui::hydrated::HydratedMark;
use leptos::lazy;
use leptos::prelude::*;
use leptos_router::LazyRoute;

/// The pages support staff work in (an admin opens them too).
#[derive(Clone, Copy, Debug)]
enum SupportPage {
    Customers,
    Customer,
    Search,
    Subscriptions,
    SubscriptionDetail,
    Subject,
    History,
    Webhooks,
    Account,
}

/// The administration pages, for admins only.
#[derive(Clone, Copy, Debug)]
enum AdminPage {
    Keys,
    Sync,
    Catalog,
    CatalogCopy,
    Users,
    ApiKeys,
    Audit,
}

/// The download a section's pages are in: the name of its `#[lazy]` function below, as the split
/// build's manifest names it. The shell preloads it with the app's chunk for a page that
/// hydrates the whole app (`crate::app::downloads_for_path`).
pub fn download_of(section: &str) -> Option<&'static str> {
    match section {
        "keys" | "sync" | "catalog" | "users" | "api-keys" | "audit" => Some("admin_page"),
        "customers" | "search" | "subscriptions" | "subjects" | "history" | "webhooks" | "account" => {
            Some("support_page")
        }
        _ => None,
    }
}

/// The support pages' download: one split point for all of them.
#[lazy]
fn support_page(page: SupportPage) -> AnyView {
    let view = match page {
        SupportPage::Customers => super::customers::CustomersPage().into_any(),
        SupportPage::Customer => super::customer::CustomerPage().into_any(),
        SupportPage::Search => super::search::SearchPage().into_any(),
        SupportPage::Subscriptions => super::subscriptions::SubscriptionsPage().into_any(),
        SupportPage::SubscriptionDetail => super::subscriptions::SubscriptionDetailPage().into_any(),
        SupportPage::Subject => super::subject::SubjectPage().into_any(),
        SupportPage::History => super::history::HistoryPage().into_any(),
        SupportPage::Webhooks => super::webhooks::WebhooksPage().into_any(),
        SupportPage::Account => super::users::AccountPage().into_any(),
    };
    marked(view)
}

/// The administration pages' download: one split point for all of them.
#[lazy]
fn admin_page(page: AdminPage) -> AnyView {
    let view = match page {
        AdminPage::Keys => super::keys::KeysPage().into_any(),
        AdminPage::Sync => super::sync::SyncPage().into_any(),
        AdminPage::Catalog => super::catalog::CatalogPage().into_any(),
        AdminPage::CatalogCopy => super::catalog_copy::CatalogCopyPage().into_any(),
        AdminPage::Users => super::users::UsersPage().into_any(),
        AdminPage::ApiKeys => super::api_keys::ApiKeysPage().into_any(),
        AdminPage::Audit => super::audit::AuditPage().into_any(),
    };
    marked(view)
}

/// Declares `$route`, a lazily loaded route showing `$page` from the download `$group`, whose
/// chunks `$preload` fetches (the function `#[lazy]` writes beside `$group`).
///
/// The router awaits `preload` before it hydrates or renders the route, so that `view` finds
/// the chunk loaded and returns at once: a view still waiting for its chunk while the page
/// hydrates would not match the server's HTML.
macro_rules! lazy_page {
    ($(#[$doc:meta])* $route:ident => $group:ident($page:expr), $preload:ident) => {
        $(#[$doc])*
        pub struct $route;

        impl LazyRoute for $route {
            fn data() -> Self {
                Self
            }

            async fn view(_this: Self) -> AnyView {
                $group($page).await
            }

            async fn preload() {
                // Only the WASM build has chunks (and `#[lazy]` writes the preloader only there).
                #[cfg(feature = "hydrate")]
                $preload().await;
            }
        }
    };
}

lazy_page!(
    /// The Keys page.
    KeysRoute => admin_page(AdminPage::Keys), __preload_admin_page
);
lazy_page!(
    /// The Sync page.
    SyncRoute => admin_page(AdminPage::Sync), __preload_admin_page
);
lazy_page!(
    /// The catalog (support may read it; it is mostly the admins' editing page).
    CatalogRoute => admin_page(AdminPage::Catalog), __preload_admin_page
);
lazy_page!(
    /// Copying the catalog from test to live.
    CatalogCopyRoute => admin_page(AdminPage::CatalogCopy), __preload_admin_page
);
lazy_page!(
    /// Users.
    UsersRoute => admin_page(AdminPage::Users), __preload_admin_page
);
lazy_page!(
    /// API keys.
    ApiKeysRoute => admin_page(AdminPage::ApiKeys), __preload_admin_page
);
lazy_page!(
    /// The audit log.
    AuditRoute => admin_page(AdminPage::Audit), __preload_admin_page
);
lazy_page!(
    /// The customer list.
    CustomersRoute => support_page(SupportPage::Customers), __preload_support_page
);
lazy_page!(
    /// One customer.
    CustomerRoute => support_page(SupportPage::Customer), __preload_support_page
);
lazy_page!(
    /// Support's search.
    SearchRoute => support_page(SupportPage::Search), __preload_support_page
);
lazy_page!(
    /// The subscription list.
    SubscriptionsRoute => support_page(SupportPage::Subscriptions), __preload_support_page
);
lazy_page!(
    /// One subscription.
    SubscriptionDetailRoute => support_page(SupportPage::SubscriptionDetail), __preload_support_page
);
lazy_page!(
    /// A billing subject.
    SubjectRoute => support_page(SupportPage::Subject), __preload_support_page
);
lazy_page!(
    /// Payment history.
    HistoryRoute => support_page(SupportPage::History), __preload_support_page
);
lazy_page!(
    /// Webhook events.
    WebhooksRoute => support_page(SupportPage::Webhooks), __preload_support_page
);
lazy_page!(
    /// One's own account.
    AccountRoute => support_page(SupportPage::Account), __preload_support_page
);

/// A lazily loaded page with the mark that says it has hydrated (`ui/hydrated.rs`).
fn marked(page: AnyView) -> AnyView {
    view! { {page} <HydratedMark /> }.into_any()
}
