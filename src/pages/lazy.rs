//! The pages a first visit does not need, as lazily loaded routes (issue #13).
//!
//! Built with `cargo leptos build --split` (see `scripts/build.sh`), each page's code leaves the
//! main WebAssembly file for a chunk of its own that the browser fetches when the route is first
//! shown, so signing in and the overview download only the frame and those two pages.
//!
//! Every build of the bundle needs `--split`, debug ones too (`cargo leptos build --split`,
//! `cargo leptos watch --split`): without it the WASM still imports the chunks' loader, which only
//! the split step writes, and no page hydrates.
//!
//! A page's data still starts loading with its view: each page creates its own resources, and on a
//! first visit the server has rendered and serialised them already, so the chunk is the only extra
//! wait, and it is one round trip that can run while the other chunks load.

use crate::ui::hydrated::HydratedMark;
use leptos::prelude::*;
use leptos_router::{lazy_route, LazyRoute};

/// Declares `$route` as a lazily loaded route whose view is the page component `$page`.
macro_rules! lazy_page {
    ($(#[$doc:meta])* $route:ident => $page:path) => {
        $(#[$doc])*
        pub struct $route;

        #[lazy_route]
        impl LazyRoute for $route {
            fn data() -> Self {
                Self
            }

            fn view(_this: Self) -> AnyView {
                view! { {$page()} <HydratedMark /> }.into_any()
            }
        }
    };
}

lazy_page!(
    /// The Keys page.
    KeysRoute => super::keys::KeysPage
);
lazy_page!(
    /// The Sync page.
    SyncRoute => super::sync::SyncPage
);
lazy_page!(
    /// The catalog.
    CatalogRoute => super::catalog::CatalogPage
);
lazy_page!(
    /// Copying the catalog from test to live.
    CatalogCopyRoute => super::catalog_copy::CatalogCopyPage
);
lazy_page!(
    /// The customer list.
    CustomersRoute => super::customers::CustomersPage
);
lazy_page!(
    /// One customer.
    CustomerRoute => super::customer::CustomerPage
);
lazy_page!(
    /// Support's search.
    SearchRoute => super::search::SearchPage
);
lazy_page!(
    /// The subscription list.
    SubscriptionsRoute => super::subscriptions::SubscriptionsPage
);
lazy_page!(
    /// One subscription.
    SubscriptionDetailRoute => super::subscriptions::SubscriptionDetailPage
);
lazy_page!(
    /// A billing subject.
    SubjectRoute => super::subject::SubjectPage
);
lazy_page!(
    /// Payment history.
    HistoryRoute => super::history::HistoryPage
);
lazy_page!(
    /// Webhook events.
    WebhooksRoute => super::webhooks::WebhooksPage
);
lazy_page!(
    /// The audit log.
    AuditRoute => super::audit::AuditPage
);
lazy_page!(
    /// Users.
    UsersRoute => super::users::UsersPage
);
lazy_page!(
    /// API keys.
    ApiKeysRoute => super::api_keys::ApiKeysPage
);
lazy_page!(
    /// One's own account.
    AccountRoute => super::users::AccountPage
);
