//! What the browser loads lazily, and which pages need it (issue #13).
//!
//! Built with `cargo leptos build --split` (see `scripts/build.sh`), each `#[lazy]` function's
//! code (a split point) leaves the main WebAssembly file. There are two:
//!
//! - the whole app (`crate::app::hydrate_app`): the router, the frame and the one page that
//!   hydrates with them, the catalog;
//! - the editing island's download ([`EditingIsland`]): the body of sync
//!   ([`STRIPE_PAGES_DOWNLOAD`]), whose progress and runs react as they go.
//!
//! The pages that list payments download nothing more: their refund forms are server-rendered,
//! and one small island per table in the main module submits them (`super::refund::RefundForms`).
//! As a lazily loaded island per row, it cost an admin's cold load of those pages 0.2 to 0.3 s
//! more than support staff's, who get no refund form (`README.md`, "What the browser downloads").
//! Nor do keys, the webhook log, copying the catalog, users, API keys and one's account: their
//! bodies are the server's HTML, and their controls are forms that the main module's
//! `crate::ui::enhance::PageForms` sends ([`EditingPage::hydrates_for`]).
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

use crate::auth::CurrentUser;
use crate::environment::Environment;
use crate::ui::guard::AdminOnly;
use crate::ui::islands::{IslandFrame, ServerOnly};
use crate::ui::layout::{use_env, use_user};
use leptos::prelude::*;
use leptos::tachys::html::islands::Island;
use serde::{Deserialize, Serialize};

/// The split point of the editing page about the Stripe connection that hydrates (sync), as
/// the build's manifest names it.
pub const STRIPE_PAGES_DOWNLOAD: &str = "hydrate_stripe_pages";

/// The lazily loaded code a page of islands hydrates, by its path below the environment, for a
/// user who may (`can_write`) or may not change things: support staff never run an admin's
/// editing page (they are shown that it is for admins), and the pages they may open are the
/// server's HTML ([`EditingPage::hydrates_for`]). Every other page of islands needs only the main
/// module.
pub fn islands_of(page: &str, can_write: bool) -> &'static [&'static str] {
    match EditingPage::of(page) {
        Some(editing) if editing.hydrates_for(can_write) => editing.download(),
        _ => &[],
    }
}

/// The pages whose body is an editing island.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum EditingPage {
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
    pub const ALL: [(EditingPage, &'static str); 7] = [
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

    /// The download the page's body is in. Deciding by name only: building a body here would
    /// pull its code into the main module.
    pub fn download(self) -> &'static [&'static str] {
        match self {
            EditingPage::Sync => &[STRIPE_PAGES_DOWNLOAD],
            // Never an island (`EditingPage::hydrates_for`).
            EditingPage::Keys
            | EditingPage::Webhooks
            | EditingPage::CatalogCopy
            | EditingPage::Users
            | EditingPage::ApiKeys
            | EditingPage::Account => &[],
        }
    }

    /// Whether only admins may open the page (`crate::ui::guard::AdminOnly`); support staff read
    /// the webhook log and change their own password.
    pub fn admin_only(self) -> bool {
        !matches!(self, EditingPage::Webhooks | EditingPage::Account)
    }

    /// Whether the page's body is an island for a viewer who may (`can_write`) or may not change
    /// things. Only sync is, for admins: its progress and runs react as they go. Every other
    /// editing page is the server's HTML for everyone, its controls forms that the main
    /// module's small island checks, confirms and sends (`crate::ui::enhance`), and its choices
    /// GET forms (the webhook log's filters, the products to copy), so they download and hydrate
    /// no more than a reading page.
    pub fn hydrates_for(self, can_write: bool) -> bool {
        self == EditingPage::Sync && can_write
    }

    /// The page's body: everything on it that reacts.
    fn body(self) -> AnyView {
        server_page_body(self).or_else(|| stripe_page_body(self)).unwrap_or_else(|| ().into_any())
    }
}

/// The body of an editing page that is the server's HTML only ([`EditingPage::hydrates_for`]):
/// none of its code joins a download. `None` for sync, which hydrates.
#[cfg(feature = "ssr")]
fn server_page_body(page: EditingPage) -> Option<AnyView> {
    match page {
        EditingPage::Keys => Some(super::keys::KeysBody().into_any()),
        EditingPage::Webhooks => Some(super::webhooks::WebhooksBody().into_any()),
        EditingPage::Users => Some(super::users::UsersBody().into_any()),
        EditingPage::ApiKeys => Some(super::api_keys::ApiKeysBody().into_any()),
        EditingPage::Account => Some(super::users::AccountBody().into_any()),
        EditingPage::CatalogCopy => Some(super::catalog_copy::CopyBody().into_any()),
        EditingPage::Sync => None,
    }
}

/// In the browser no body is the server's HTML only: it never builds one.
#[cfg(not(feature = "ssr"))]
fn server_page_body(_page: EditingPage) -> Option<AnyView> {
    None
}

/// The body of sync, the editing page that hydrates; `None` for the others (as
/// [`EditingPage::download`] says).
fn stripe_page_body(page: EditingPage) -> Option<AnyView> {
    (page == EditingPage::Sync).then(|| super::sync::SyncBody().into_any())
}

/// What the island's element carries to the browser: the page, and what the frame would have
/// provided (`crate::ui::islands`).
#[derive(Clone, Debug, Serialize, Deserialize)]
struct EditingProps {
    page: EditingPage,
    env: Environment,
    user: CurrentUser,
    /// The page's query parameters (`crate::ui::islands::PageQuery`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    query: Vec<(String, String)>,
}

/// The island's name in its element's `data-component`: the export the loader calls.
const STRIPE_PAGES_ISLAND: &str = "StripePagesIsland";

/// An editing page's body as an island of its own, hydrated from one of two downloads
/// ([`EditingPage::download`]); for an admin-only page, support staff are told it is for admins
/// instead ([`AdminOnly`]), and the shell preloads nothing for them ([`islands_of`]). A page with
/// nothing for the viewer to change is the same body as the server's HTML, with no island
/// ([`EditingPage::hydrates_for`]).
///
/// Written by hand rather than with `#[island(lazy)]`, which would make a split point per page
/// (and so dozens of shared chunks per page, see the module's notes). It does what that macro
/// does: the same view on the server and in the browser, under an owner of its own whose
/// resources the page sends with its data, in a `<leptos-island>` element with the props.
#[component]
pub fn EditingIsland(page: EditingPage) -> impl IntoView {
    let body = move || {
        if page.hydrates_for(use_user().role.can_write()) {
            editing_island(page).into_any()
        } else {
            server_body(page).into_any()
        }
    };
    if page.admin_only() {
        view! { <AdminOnly>{body}</AdminOnly> }.into_any()
    } else {
        body()
    }
}

/// What the island's element carries for this request.
fn editing_props(page: EditingPage) -> EditingProps {
    let query = leptos_router::hooks::use_query_map().get_untracked();
    let query = query.into_iter().map(|(key, value)| (key.into_owned(), value)).collect();
    EditingProps { page, env: use_env().get_untracked(), user: use_user(), query }
}

/// The page's body as the island would render it, but the server's HTML only: no island element,
/// so the browser hydrates none of it ([`EditingPage::hydrates_for`]).
fn server_body(page: EditingPage) -> impl IntoView {
    let EditingProps { page, env, user, query } = editing_props(page);
    provide_context(ServerOnly);
    view! { <IslandFrame env user query>{EditingPage::body(page)}</IslandFrame> }
}

/// The island's element, with its props and the body rendered inside.
fn editing_island(page: EditingPage) -> impl IntoView {
    let props = editing_props(page);
    // Enums, strings and a bool: serialising them cannot fail.
    let json = serde_json::to_string(&props).unwrap_or_default();
    Island::new(STRIPE_PAGES_ISLAND, island_view(props, EditingPage::body)).with_props(json)
}

/// The island's view, built alike on both sides, with the page's body from `body`.
fn island_view(props: EditingProps, body: fn(EditingPage) -> AnyView) -> impl IntoView {
    let EditingProps { page, env, user, query } = props;
    untrack(move || {
        Owner::new().with(|| {
            Owner::with_hydration(move || {
                leptos::tachys::reactive_graph::OwnedView::new(view! {
                    <IslandFrame env user query>{body(page)}</IslandFrame>
                })
            })
        })
    })
}

/// The export of the pages about the Stripe connection, which the shell's loader calls with the
/// island's element (`src/ui/island_loader.js`): it resolves once their download is in and the
/// body has hydrated.
#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen(js_name = StripePagesIsland)]
pub async fn stripe_pages_island(el: web_sys::HtmlElement) {
    hydrate_stripe_pages(el).await
}

/// The split point of the pages about the Stripe connection.
#[cfg(feature = "hydrate")]
#[leptos::lazy]
fn hydrate_stripe_pages(el: web_sys::HtmlElement) {
    hydrate_island(el, STRIPE_PAGES_ISLAND, |page| stripe_page_body(page).unwrap_or_else(|| ().into_any()));
}

/// Hydrates the island `name` into the element the server rendered, from its props.
#[cfg(feature = "hydrate")]
fn hydrate_island(el: web_sys::HtmlElement, name: &'static str, body: fn(EditingPage) -> AnyView) {
    use leptos::tachys::view::{Position, RenderHtml};
    let props = el.dataset().get("props").and_then(|json| serde_json::from_str::<EditingProps>(&json).ok());
    let Some(props) = props else {
        leptos::logging::error!("The editing island's props are missing or unreadable.");
        return;
    };
    let island = Island::new(name, island_view(props, body));
    // The view stays mounted for the page's life, as `#[island]`'s do.
    std::mem::forget(island.hydrate_from_position::<true>(&el, Position::Current));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_editing_page_is_found_by_its_path_and_only_it() {
        for (page, path) in EditingPage::ALL {
            assert_eq!(EditingPage::of(path), Some(page));
            assert_eq!(islands_of(path, true), page.download());
        }
        for other in ["catalog", "keys/x", "", "webhooks/x", "history", "customers"] {
            assert_eq!(EditingPage::of(other), None, "{other}");
        }
    }

    #[test]
    fn only_sync_hydrates_and_only_for_admins() {
        for (page, path) in EditingPage::ALL {
            // Support staff download nothing more on any editing page.
            assert!(islands_of(path, false).is_empty(), "{path}");
            assert!(!page.hydrates_for(false), "support: {path}");
            let island = page == EditingPage::Sync;
            assert_eq!(page.hydrates_for(true), island, "admins: {path}");
            // The others are the server's HTML with forms (`crate::ui::enhance`): nothing to download.
            assert_eq!(islands_of(path, true).is_empty(), !island, "admins: {path}");
        }
        assert_eq!(islands_of("sync", true), [STRIPE_PAGES_DOWNLOAD]);
        assert!(!EditingPage::Webhooks.admin_only() && !EditingPage::Account.admin_only());
        assert!(EditingPage::Keys.admin_only() && EditingPage::Users.admin_only());
    }

    #[test]
    fn the_pages_that_list_payments_need_only_the_main_module_refund_forms_included() {
        for page in ["history", "subjects/team/acme", "customers/cus_1", "subscriptions/sub_1"] {
            for can_write in [true, false] {
                assert!(islands_of(page, can_write).is_empty(), "{page}, admin: {can_write}");
            }
        }
        for page in ["customers", "subscriptions", "search", "audit", ""] {
            assert!(islands_of(page, true).is_empty(), "{page}");
        }
    }
}
