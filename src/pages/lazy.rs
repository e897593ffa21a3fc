//! What the browser loads lazily, and which pages need it (issue #13).
//!
//! Built with `cargo leptos build --split` (see `scripts/build.sh`), each `#[lazy]` function's
//! code (a split point) leaves the main WebAssembly file. There are three:
//!
//! - the whole app (`crate::app::hydrate_app`): the router, the frame and the two pages that
//!   hydrate with them, the catalog and the webhook events;
//! - the editing pages' island ([`EditingIsland`]): the bodies of keys, sync, copying the catalog,
//!   users, API keys and one's account;
//! - a history row's refund form (`super::refund::RefundControl`, `#[island(lazy)]`).
//!
//! Few split points, because the split step gives every set of split points that shares code a
//! chunk of its own: with one per page, a page needed 30 to 136 files, and on a slow link their
//! round trips cost more than the bytes saved (a cold load of the catalog took 2.0 s against
//! 1.3 s for the whole bundle).
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
use crate::ui::islands::IslandFrame;
use crate::ui::layout::{use_env, use_user};
use leptos::prelude::*;
use leptos::tachys::html::islands::Island;
use serde::{Deserialize, Serialize};

/// The split point of the editing pages' island, as the build's manifest names it.
pub const EDITING_DOWNLOAD: &str = "hydrate_editing_island";

/// The split point of the refund form's island (`#[island(lazy)]` names it `<island>_loader`).
pub const REFUND_DOWNLOAD: &str = "refund_control_loader";

/// The lazily loaded code a page of islands may hydrate, by its path below the environment.
pub fn islands_of(page: &str) -> &'static [&'static str] {
    if EditingPage::of(page).is_some() {
        return &[EDITING_DOWNLOAD];
    }
    // A payment's row offers a refund to an admin wherever payments are listed
    // (`super::history::HistoryTable`): the history and one subject, customer or subscription.
    let lists_payments =
        page == "history" || ["subjects/", "customers/", "subscriptions/"].iter().any(|p| page.starts_with(p));
    if lists_payments {
        &[REFUND_DOWNLOAD]
    } else {
        &[]
    }
}

/// The pages whose body is the editing island.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum EditingPage {
    Keys,
    Sync,
    CatalogCopy,
    Users,
    ApiKeys,
    Account,
}

impl EditingPage {
    /// Every editing page, with its path below the environment.
    pub const ALL: [(EditingPage, &'static str); 6] = [
        (EditingPage::Keys, "keys"),
        (EditingPage::Sync, "sync"),
        (EditingPage::CatalogCopy, "catalog/copy"),
        (EditingPage::Users, "users"),
        (EditingPage::ApiKeys, "api-keys"),
        (EditingPage::Account, "account"),
    ];

    /// The editing page at `page`, a path below the environment.
    pub fn of(page: &str) -> Option<EditingPage> {
        EditingPage::ALL.into_iter().find(|(_, path)| *path == page).map(|(kind, _)| kind)
    }

    /// The page's body: everything on it that reacts.
    fn body(self) -> AnyView {
        match self {
            EditingPage::Keys => super::keys::KeysBody().into_any(),
            EditingPage::Sync => super::sync::SyncBody().into_any(),
            EditingPage::CatalogCopy => super::catalog_copy::CopyBody().into_any(),
            EditingPage::Users => super::users::UsersBody().into_any(),
            EditingPage::ApiKeys => super::api_keys::ApiKeysBody().into_any(),
            EditingPage::Account => super::users::AccountBody().into_any(),
        }
    }
}

/// What the island's element carries to the browser: the page, and what the frame would have
/// provided (`crate::ui::islands`).
#[derive(Clone, Debug, Serialize, Deserialize)]
struct EditingProps {
    page: EditingPage,
    env: Environment,
    user: CurrentUser,
}

/// The island's name in its element's `data-component`: the export the loader calls.
const EDITING_ISLAND: &str = "EditingIsland";

/// An editing page's body as an island of its own, hydrated from one download shared by every
/// editing page ([`EDITING_DOWNLOAD`]).
///
/// Written by hand rather than with `#[island(lazy)]`, which would make a split point per page
/// (and so dozens of shared chunks per page, see the module's notes). It does what that macro
/// does: the same view on the server and in the browser, under an owner of its own whose
/// resources the page sends with its data, in a `<leptos-island>` element with the props.
#[component]
pub fn EditingIsland(page: EditingPage) -> impl IntoView {
    let props = EditingProps { page, env: use_env().get_untracked(), user: use_user() };
    // Enums, a string and a bool: serialising them cannot fail.
    let json = serde_json::to_string(&props).unwrap_or_default();
    Island::new(EDITING_ISLAND, island_view(props)).with_props(json)
}

/// The island's view, built alike on both sides.
fn island_view(props: EditingProps) -> impl IntoView {
    let EditingProps { page, env, user } = props;
    untrack(move || {
        Owner::new().with(|| {
            Owner::with_hydration(move || {
                leptos::tachys::reactive_graph::OwnedView::new(view! {
                    <IslandFrame env user>{page.body()}</IslandFrame>
                })
            })
        })
    })
}

/// The island's export, which the shell's loader calls with its element
/// (`src/ui/island_loader.js`): it resolves once the download is in and the body has hydrated.
#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen(js_name = EditingIsland)]
pub async fn editing_island_export(el: web_sys::HtmlElement) {
    hydrate_editing_island(el).await
}

/// The split point: every editing page's body, hydrated into the element the server rendered.
#[cfg(feature = "hydrate")]
#[leptos::lazy]
fn hydrate_editing_island(el: web_sys::HtmlElement) {
    use leptos::tachys::view::{Position, RenderHtml};
    let props = el.dataset().get("props").and_then(|json| serde_json::from_str::<EditingProps>(&json).ok());
    let Some(props) = props else {
        leptos::logging::error!("The editing island's props are missing or unreadable.");
        return;
    };
    let island = Island::new(EDITING_ISLAND, island_view(props));
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
            assert_eq!(islands_of(path), [EDITING_DOWNLOAD]);
        }
        for other in ["catalog", "keys/x", "", "webhooks", "history", "customers"] {
            assert_eq!(EditingPage::of(other), None, "{other}");
        }
    }

    #[test]
    fn the_refund_form_is_loaded_where_payments_are_listed() {
        for page in ["history", "subjects/team/acme", "customers/cus_1", "subscriptions/sub_1"] {
            assert_eq!(islands_of(page), [REFUND_DOWNLOAD], "{page}");
        }
        for page in ["customers", "subscriptions", "search", "audit", ""] {
            assert!(islands_of(page).is_empty(), "{page}");
        }
    }
}
