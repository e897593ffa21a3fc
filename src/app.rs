//! The application root: the HTML shell, the router and the route table.

use crate::pages::not_found::NotFound;
use crate::ui::islands::BundleScripts;
use crate::ui::layout::ConsoleLayout;
use leptos::prelude::*;
use leptos_meta::{provide_meta_context, MetaTags, Title};
use leptos_router::{
    components::{ParentRoute, Route, Router, Routes},
    path, SsrMode,
};

/// How the browser brings a page to life (issue #13).
///
/// Every page of the console hydrates only its islands (`#[island]`): the sign-in page, the
/// overview, the pages support staff read (lists, details, search, history, the audit log) and
/// the editing pages, whose body is the server's HTML with forms (the catalog, keys, sync, the
/// webhook log, copying the catalog, users, API keys, one's account;
/// `crate::pages::lazy::EditingIsland`). Everything else on those pages is server-rendered HTML
/// whose code never reaches the browser, so the main WebAssembly module holds no router and no
/// page: such a visit downloads Leptos's core and the small islands (the sign-in form, the
/// header's switches and search shortcut, a payment table's refund forms, the editing pages'
/// forms), and only the catalog's editor, when its address opens one, downloads more
/// (`crate::pages::catalog::editor`). Links are plain links and filters plain GET forms, which
/// need no code. A page that is not found hydrates the whole app from a lazily loaded chunk
/// ([`hydrate_app`]).
///
/// The server names the mode in `<html data-hydration>`, where `hydrate()` (`src/lib.rs`)
/// reads it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Hydration {
    /// Only the page's islands hydrate; links are plain page loads.
    Islands,
    /// The whole app hydrates, router included.
    Full,
}

/// The sections under `/:env` whose pages only read (and may hold islands): every page below
/// them too (`customers/cus_…`, `subjects/team/acme`).
const READING_SECTIONS: [&str; 6] = ["customers", "search", "subscriptions", "subjects", "history", "audit"];

impl Hydration {
    /// The mode of a page, by its path: islands for the sign-in page, an environment's overview
    /// and the reading sections, full hydration for everything else.
    pub fn for_path(path: &str) -> Self {
        let path = path.strip_suffix('/').filter(|p| !p.is_empty()).unwrap_or(path);
        if path == "/login" {
            return Hydration::Islands;
        }
        let env = path.strip_prefix('/').and_then(|rest| rest.split('/').next());
        let env = env.and_then(crate::environment::Environment::parse);
        let islands = match page_of(path) {
            None => true,
            Some(page) => {
                let mut parts = page.split('/');
                let section = parts.next().unwrap_or_default();
                (READING_SECTIONS.contains(&section) && parts.all(|part| !part.is_empty()))
                    || crate::pages::lazy::EditingPage::of(page).is_some()
            }
        };
        if env.is_some() && islands {
            Hydration::Islands
        } else {
            Hydration::Full
        }
    }

    /// The value of `<html data-hydration>`.
    pub fn as_str(self) -> &'static str {
        match self {
            Hydration::Islands => "islands",
            Hydration::Full => "full",
        }
    }

    /// The mode the server rendered this document in.
    #[cfg(feature = "hydrate")]
    pub fn of_document() -> Self {
        let islands = document()
            .document_element()
            .and_then(|html| html.get_attribute("data-hydration"))
            .is_some_and(|mode| mode == Hydration::Islands.as_str());
        if islands {
            Hydration::Islands
        } else {
            Hydration::Full
        }
    }

    /// The mode of the page being rendered, from the request's path.
    #[cfg(feature = "ssr")]
    fn of_request() -> Self {
        Hydration::for_path(&request_path())
    }
}

/// What a console path names below its first part (the environment): `catalog/copy` for
/// `/test/catalog/copy`, `None` for `/test`.
fn page_of(path: &str) -> Option<&str> {
    path.strip_prefix('/')?.split_once('/').map(|(_, page)| page)
}

/// The path of the request being rendered (empty outside a request, e.g. while Leptos lists
/// the routes).
#[cfg(feature = "ssr")]
fn request_path() -> String {
    use_context::<http::request::Parts>().map(|parts| parts.uri.path().to_owned()).unwrap_or_default()
}

/// The query of the request being rendered, without its `?` (empty when it has none).
#[cfg(feature = "ssr")]
fn request_query() -> String {
    use_context::<http::request::Parts>().and_then(|parts| parts.uri.query().map(str::to_owned)).unwrap_or_default()
}

/// Hydrates the whole app: the router, the frame and the page on screen (a page not found).
///
/// A split point (`cargo leptos build --split`, see `src/pages/lazy.rs`), so that the router and
/// those pages leave the main module: a page in [`Hydration::Islands`] never downloads them.
#[leptos::lazy]
pub fn hydrate_app() {
    #[cfg(feature = "hydrate")]
    leptos::mount::hydrate_body(App);
}

/// The split point of the whole app ([`hydrate_app`]), as its files and preloads name it.
pub const APP_DOWNLOAD: &str = "hydrate_app";

/// The downloads (split points, see `src/pages/lazy.rs`) a page needs before it can hydrate, by
/// its path and query (`?edit=new-product`, or empty), for a viewer who may (`can_write`) or may
/// not change things: none for a page of islands, whose islands are all in the main module, but
/// for the catalog with an editor open (`edit`) for an admin, which needs the editors' (support
/// staff get no editor); the app's chunk where the whole app hydrates. The shell names their
/// files in `<link rel=preload>`, so that the browser fetches them beside the main module instead
/// of one after the other as each runs.
pub fn downloads_for_path(path: &str, query: &str, can_write: bool) -> Vec<&'static str> {
    match Hydration::for_path(path) {
        Hydration::Islands => {
            let catalog = page_of(path.strip_suffix('/').unwrap_or(path)) == Some("catalog");
            let editing = query
                .trim_start_matches('?')
                .split('&')
                .any(|pair| pair.strip_prefix("edit=").is_some_and(|value| !value.is_empty()));
            if catalog && editing && can_write {
                vec![crate::pages::catalog::editor::EDITOR_DOWNLOAD]
            } else {
                Vec::new()
            }
        }
        Hydration::Full => vec![APP_DOWNLOAD],
    }
}

/// `modulepreload` for the chunks' loader, and `<link rel=preload>` for each chunk, to be written
/// before and after the bundle's own preloads. The loader is small but the JS glue imports it,
/// so it goes first: behind the chunks it waited for one of HTTP/1.1's six connections to free
/// up, and the bundle could not start before it (on a slow link, about 300 ms). It fetches a chunk
/// with `fetch()` (CORS mode, same-origin credentials), which `crossorigin="anonymous"` matches,
/// so the browser uses the preloaded response.
#[cfg(feature = "ssr")]
fn preload_links(preloads: crate::server::assets::SplitPreloads) -> (AnyView, AnyView) {
    let loader = preloads.loader.map(|href| view! { <link rel="modulepreload" href=href crossorigin="anonymous" /> });
    let chunks = preloads
        .chunks
        .into_iter()
        .map(|href| view! { <link rel="preload" href=href r#as="fetch" r#type="application/wasm" crossorigin="anonymous" /> })
        .collect_view();
    (loader.into_any(), chunks.into_any())
}

/// The HTML document around the app, rendered on the server only.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    // The Content-Security-Policy header names this response's nonce, which every inline script
    // below (and Leptos's own) carries.
    #[cfg(feature = "ssr")]
    crate::server::http::send_page_policy();
    // In the shell, not in `App`: the name carries the build's content hash, which only the
    // server knows (it is never hydrated).
    #[cfg(feature = "ssr")]
    let stylesheet = crate::server::assets::stylesheet_href(&options);
    #[cfg(not(feature = "ssr"))]
    let stylesheet = format!("/{}/{}.css", options.site_pkg_dir, options.output_name);
    #[cfg(feature = "ssr")]
    let (hydration, (loader_preload, chunk_preloads)) = {
        // Leptos's own preloads of lazy routes come and go (`split_preloads` says why), and on a
        // page of islands they would fetch chunks nothing runs: a registry of their own, which
        // Leptos never reads, keeps them out of the page.
        provide_context(leptos::PrefetchLazyFn::default());
        let path = request_path();
        let can_write = crate::auth::ssr::require_reader().is_ok_and(|user| user.role.can_write());
        let downloads = downloads_for_path(&path, &request_query(), can_write);
        let preloads = crate::server::assets::split_preloads(&options, &downloads);
        (Hydration::for_path(&path), preload_links(preloads))
    };
    #[cfg(not(feature = "ssr"))]
    let (hydration, (loader_preload, chunk_preloads)) = (Hydration::Full, (().into_any(), ().into_any()));
    view! {
        <!DOCTYPE html>
        <html lang="en" data-hydration=hydration.as_str()>
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <meta name="color-scheme" content="light dark" />
                <link rel="icon" href="/favicon.svg" type="image/svg+xml" />
                <link rel="stylesheet" id="leptos" href=stylesheet />
                // Applies the saved theme before the first paint, so a dark-mode user never sees a
                // white flash while the WASM loads.
                <script nonce=leptos::nonce::use_nonce()>
                    "try{var t=localStorage.getItem('pc-theme');if(t)document.documentElement.dataset.theme=t}catch(e){}"
                </script>
                <AutoReload options=options.clone() />
                {loader_preload}
                <BundleScripts options islands=hydration == Hydration::Islands />
                {chunk_preloads}
                <MetaTags />
            </head>
            <body>
                <App />
            </body>
        </html>
    }
}

/// A page of islands in the route table: the page itself on the server. In the browser the
/// whole app never shows one (a link to it is a page load: `links_leave_the_app`, `src/lib.rs`),
/// so there its route shows nothing, and none of its code joins the app's chunk.
macro_rules! islands_page {
    ($page:path) => {{
        #[cfg(feature = "ssr")]
        let view = $page;
        #[cfg(not(feature = "ssr"))]
        let view = || ();
        view
    }};
}

/// The console: login page, the environment-scoped sections, and a 404 for everything else.
///
/// Routes render in `SsrMode::Async`: the server answers with complete HTML, so every page can
/// be read without JavaScript; hydration then makes it interactive.
#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    // An island keeps its `<leptos-island>` element only where it hydrates on its own. Where the
    // whole app hydrates, an island is an ordinary part of the view: with the element, the
    // hydrating cursor would step into it after hydrating it, and the island's next sibling
    // would not be found (a panic in tachys' `failed_to_cast_element`). Leptos leaves the
    // element out below this context, on the server and in the browser alike.
    #[cfg(feature = "ssr")]
    let whole_app = Hydration::of_request() == Hydration::Full;
    #[cfg(not(feature = "ssr"))]
    let whole_app = true;
    if whole_app {
        provide_context(leptos::reactive::owner::IsHydrating(true));
    }
    view! {
        <Title formatter=|text: String| if text.is_empty() { "Payments Console".to_string() } else { format!("{text} · Payments Console") } />
        <Router>
            <Routes fallback=|| view! { <NotFound /> }>
                <Route path=path!("/login") view=islands_page!(crate::pages::login::LoginPage) ssr=SsrMode::Async />
                <ParentRoute path=path!("/:env") view=ConsoleLayout ssr=SsrMode::Async>
                    <Route path=path!("") view=islands_page!(crate::pages::overview::OverviewPage) ssr=SsrMode::Async />
                    <Route path=path!("keys") view=islands_page!(crate::pages::keys::KeysPage) ssr=SsrMode::Async />
                    <Route path=path!("sync") view=islands_page!(crate::pages::sync::SyncPage) ssr=SsrMode::Async />
                    <Route path=path!("catalog") view=islands_page!(crate::pages::catalog::CatalogPage) ssr=SsrMode::Async />
                    <Route path=path!("catalog/copy") view=islands_page!(crate::pages::catalog_copy::CatalogCopyPage) ssr=SsrMode::Async />
                    <Route path=path!("customers") view=islands_page!(crate::pages::customers::CustomersPage) ssr=SsrMode::Async />
                    <Route path=path!("customers/:id") view=islands_page!(crate::pages::customer::CustomerPage) ssr=SsrMode::Async />
                    <Route path=path!("search") view=islands_page!(crate::pages::search::SearchPage) ssr=SsrMode::Async />
                    <Route path=path!("subscriptions") view=islands_page!(crate::pages::subscriptions::SubscriptionsPage) ssr=SsrMode::Async />
                    <Route path=path!("subscriptions/:id") view=islands_page!(crate::pages::subscriptions::SubscriptionDetailPage) ssr=SsrMode::Async />
                    <Route path=path!("subjects/:subject_type/:subject_id") view=islands_page!(crate::pages::subject::SubjectPage) ssr=SsrMode::Async />
                    <Route path=path!("history") view=islands_page!(crate::pages::history::HistoryPage) ssr=SsrMode::Async />
                    <Route path=path!("webhooks") view=islands_page!(crate::pages::webhooks::WebhooksPage) ssr=SsrMode::Async />
                    <Route path=path!("audit") view=islands_page!(crate::pages::audit::AuditPage) ssr=SsrMode::Async />
                    <Route path=path!("users") view=islands_page!(crate::pages::users::UsersPage) ssr=SsrMode::Async />
                    <Route path=path!("api-keys") view=islands_page!(crate::pages::api_keys::ApiKeysPage) ssr=SsrMode::Async />
                    <Route path=path!("account") view=islands_page!(crate::pages::users::AccountPage) ssr=SsrMode::Async />
                    <Route path=path!("*any") view=NotFound ssr=SsrMode::Async />
                </ParentRoute>
            </Routes>
        </Router>
    }
}

#[cfg(test)]
mod tests {
    use super::{downloads_for_path, Hydration};

    #[test]
    fn a_page_of_the_whole_app_preloads_the_app() {
        for path in ["/test/no-such-section", "/demo", "/test/catalog/x"] {
            assert_eq!(downloads_for_path(path, "", true), ["hydrate_app"], "{path}");
        }
    }

    #[test]
    fn the_catalog_preloads_the_editors_only_with_one_open() {
        for query in ["edit=new-product", "q=pro&product=prod_1&edit=price&price=price_1", "?edit=product"] {
            for path in ["/test/catalog", "/live/catalog/"] {
                assert_eq!(downloads_for_path(path, query, true), ["hydrate_catalog_editor"], "{path}?{query}");
                // Support staff get no editor (`crate::pages::catalog::CatalogBody`).
                assert!(downloads_for_path(path, query, false).is_empty(), "support: {path}?{query}");
            }
        }
        for query in ["", "q=edit", "product=prod_1", "edit=", "reedit=product"] {
            assert!(downloads_for_path("/test/catalog", query, true).is_empty(), "{query}");
        }
        // Only the catalog has editors.
        assert!(downloads_for_path("/test/catalog/copy", "edit=new-product", true).is_empty());
        assert!(downloads_for_path("/test/users", "edit=new-product", true).is_empty());
    }

    #[test]
    fn a_page_of_islands_preloads_nothing() {
        // The pages that list payments have their refund forms' island in the main module
        // (`crate::pages::refund`); the editing pages are the server's HTML with forms
        // (`crate::ui::enhance`), sync's progress included.
        for none in [
            "/live/sync",
            "/test/sync/",
            "/live/history",
            "/test/subjects/team/acme",
            "/test/customers/cus_1",
            "/test/subscriptions/sub_1",
            "/live/catalog/copy",
            "/test/catalog/copy/",
            "/test/users",
            "/test/api-keys",
            "/test/account/",
            "/login",
            "/test",
            "/test/customers",
            "/test/subscriptions",
            "/test/audit",
            "/test/search",
            "/test/keys",
            "/test/webhooks",
        ] {
            assert!(downloads_for_path(none, "", true).is_empty(), "{none}");
        }
    }

    #[test]
    fn every_page_of_the_console_hydrates_as_islands() {
        for path in [
            "/login",
            "/login/",
            "/test",
            "/test/",
            "/live",
            "/test/customers",
            "/live/customers/cus_123",
            "/test/search",
            "/test/subscriptions/sub_1",
            "/test/subjects/team/acme",
            "/test/history",
            "/live/audit",
            "/test/keys",
            "/live/sync",
            "/test/catalog",
            "/live/catalog/",
            "/test/catalog/copy",
            "/test/users/",
            "/test/api-keys",
            "/test/account",
            "/test/webhooks",
        ] {
            assert_eq!(Hydration::for_path(path), Hydration::Islands, "{path}");
        }
        for path in [
            "/",
            "",
            "/test/webhooks/x",
            "/test/keys/x",
            "/test/catalog/copy/x",
            "/test/no-such-section",
            "/demo",
            "/demo/customers",
            "/login/x",
            "/testing",
            "/test//",
            "/test/customers//x",
        ] {
            assert_eq!(Hydration::for_path(path), Hydration::Full, "{path}");
        }
    }
}
