//! What the browser loads lazily, and which pages need it (issue #13).
//!
//! Built with `cargo leptos build --split` (see `scripts/build.sh`), each `#[lazy]` function's
//! code (a split point) leaves the main WebAssembly file. There is one: the catalog's editors
//! (`crate::pages::catalog::editor`), which only an admin's catalog address with an editor open
//! (`?edit=`) downloads. The whole app (the router, the frame and the page) was the other, for the
//! catalog and a page not found, until both hydrated only their islands (2026-12-07).
//!
//! Every other page downloads nothing more. The pages that list payments have server-rendered
//! refund forms, which one small island per table in the main module submits
//! (`super::refund::RefundForms`): as a lazily loaded island per row, it cost an admin's cold load
//! of those pages 0.2 to 0.3 s more than support staff's, who get no refund form (`README.md`,
//! "What the browser downloads"). The editing pages ([`EditingPage`]: the catalog, keys, sync,
//! the webhook log, copying the catalog, users, API keys and one's account) are the server's
//! HTML, their controls forms that the main module's `crate::ui::enhance::PageForms` checks,
//! confirms and sends. The catalog was the last of them to hydrate more: the whole app, from a
//! download of 1.10 MB (308 KB brotli).
//!
//! Few split points, because the split step gives every set of split points that shares code a
//! chunk of its own: with one per page, a page needed 30 to 136 files (57 to 78 with one
//! `#[island(lazy)]` per editing page), and on a slow link their round trips cost more than the
//! bytes saved (a cold load of the catalog took 2.0 s against 1.3 s for the whole bundle).
//!
//! Every build of the bundle needs `--split`, debug ones too (`cargo leptos build --split`,
//! `cargo leptos watch --split`): without it the WASM still imports the chunks' loader, which only
//! the split step writes, and no page hydrates.
//!
//! A page's data does not wait for its code: the server has rendered the page and serialised its
//! data already, and names the chunks the page needs in `<link rel=preload>`
//! (`crate::app::downloads_for_path`), so the browser fetches them beside the main module.

use crate::ui::guard::AdminOnly;
use crate::ui::islands::{IslandFrame, ServerOnly};
use crate::ui::layout::{use_env, use_user};
use leptos::prelude::*;

/// The editing pages: their bodies are the server's HTML with forms.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EditingPage {
    Catalog,
    Keys,
    Sync,
    CatalogCopy,
    Users,
    ApiKeys,
    Account,
    Webhooks,
}

impl EditingPage {
    /// Every editing page, with its path below the environment.
    pub const ALL: [(EditingPage, &'static str); 8] = [
        (EditingPage::Catalog, "catalog"),
        (EditingPage::Keys, "keys"),
        (EditingPage::Sync, "sync"),
        (EditingPage::CatalogCopy, "catalog/copy"),
        (EditingPage::Users, "users"),
        (EditingPage::ApiKeys, "api-keys"),
        (EditingPage::Account, "account"),
        (EditingPage::Webhooks, "webhooks"),
    ];

    /// The editing page at `page`, a path below the environment.
    pub fn of(page: &str) -> Option<EditingPage> {
        EditingPage::ALL.into_iter().find(|(_, path)| *path == page).map(|(kind, _)| kind)
    }

    /// Whether only admins may open the page (`crate::ui::guard::AdminOnly`); support staff read
    /// the catalog and the webhook log, and change their own password.
    pub fn admin_only(self) -> bool {
        !matches!(self, EditingPage::Catalog | EditingPage::Webhooks | EditingPage::Account)
    }
}

/// The body of an editing page: the server's HTML only, so none of its code joins the browser's
/// bundle.
#[cfg(feature = "ssr")]
fn page_body(page: EditingPage) -> AnyView {
    match page {
        EditingPage::Catalog => super::catalog::CatalogBody().into_any(),
        EditingPage::Keys => super::keys::KeysBody().into_any(),
        EditingPage::Sync => super::sync::SyncBody().into_any(),
        EditingPage::Webhooks => super::webhooks::WebhooksBody().into_any(),
        EditingPage::Users => super::users::UsersBody().into_any(),
        EditingPage::ApiKeys => super::api_keys::ApiKeysBody().into_any(),
        EditingPage::Account => super::users::AccountBody().into_any(),
        EditingPage::CatalogCopy => super::catalog_copy::CopyBody().into_any(),
    }
}

/// In the browser no editing page's body is ever built.
#[cfg(not(feature = "ssr"))]
fn page_body(_page: EditingPage) -> AnyView {
    ().into_any()
}

/// An editing page's body, the server's HTML inside the frame an island would have had (the
/// environment, the user and the page's query, `crate::ui::islands`), with no island element, so
/// the browser hydrates none of it; for an admin-only page, support staff are told it is for
/// admins instead ([`AdminOnly`]).
#[component]
pub fn EditingIsland(page: EditingPage) -> impl IntoView {
    let body = move || {
        let query = leptos_router::hooks::use_query_map().get_untracked();
        let query = query.into_iter().map(|(key, value)| (key.into_owned(), value)).collect::<Vec<_>>();
        let (env, user) = (use_env().get_untracked(), use_user());
        provide_context(ServerOnly);
        view! { <IslandFrame env user query>{page_body(page)}</IslandFrame> }
    };
    if page.admin_only() {
        view! { <AdminOnly>{body}</AdminOnly> }.into_any()
    } else {
        body().into_any()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_editing_page_is_found_by_its_path_and_only_it() {
        for (page, path) in EditingPage::ALL {
            assert_eq!(EditingPage::of(path), Some(page));
        }
        for other in ["catalog/x", "keys/x", "", "webhooks/x", "history", "customers"] {
            assert_eq!(EditingPage::of(other), None, "{other}");
        }
        assert!(!EditingPage::Webhooks.admin_only() && !EditingPage::Account.admin_only());
        assert!(!EditingPage::Catalog.admin_only());
        assert!(EditingPage::Keys.admin_only() && EditingPage::Users.admin_only() && EditingPage::Sync.admin_only());
    }
}
