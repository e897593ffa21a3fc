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

/// How the browser brings a page to life (issue #13): every page hydrates only its islands
/// (`#[island]`), the sign-in page, the overview, the pages support staff read (lists, details,
/// search, history, the audit log), the editing pages, whose body is the server's HTML with forms
/// (the catalog, keys, sync, the webhook log, copying the catalog, users, API keys, one's account;
/// `crate::pages::lazy::EditingIsland`), and a page not found. Everything else on a page is
/// server-rendered HTML whose code never reaches the browser, so the WebAssembly holds no router
/// and no page: a visit downloads Leptos's core and the small islands (the sign-in form, the
/// header's switches and search shortcut, a payment table's refund forms, the editing pages'
/// forms), and only the catalog's editor, when its address opens one, downloads more
/// (`crate::pages::catalog::editor`). Links are plain links and filters plain GET forms, which
/// need no code.
///
/// Until 2026-12-07 the catalog, then a page not found, hydrated the whole app (the router, the
/// frame and the page) from a download of their own; the router's links then had to be kept from
/// navigating to pages of islands, which only the server renders.
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

/// The downloads (split points, see `src/pages/lazy.rs`) a page needs before it can hydrate, by
/// its path and query (`?edit=new-product`, or empty), for a viewer who may (`can_write`) or may
/// not change things: none, every island being in the main module, but for the catalog with an
/// editor open (`edit`) for an admin, which needs the editors' (support staff get no editor).
/// The shell names their files in `<link rel=preload>`, so that the browser fetches them beside
/// the main module instead of one after the other as each runs.
pub fn downloads_for_path(path: &str, query: &str, can_write: bool) -> Vec<&'static str> {
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
    // In the shell, not in `App`: the stylesheet (or its name, which carries the build's content
    // hash) only the server knows, and the shell is never hydrated.
    #[cfg(feature = "ssr")]
    let stylesheet = match use_context::<crate::server::state::AppState>().and_then(|state| state.stylesheet) {
        // Written into the page: nothing to fetch before the first paint, and nothing for the
        // inline scripts below to wait for (`read_inline_stylesheet` says why).
        Some(css) => view! { <style nonce=leptos::nonce::use_nonce() inner_html=css.to_string()></style> }.into_any(),
        None => {
            let href = crate::server::assets::stylesheet_href(&options);
            view! { <link rel="stylesheet" id="leptos" href=href /> }.into_any()
        }
    };
    #[cfg(not(feature = "ssr"))]
    let stylesheet = ();
    #[cfg(feature = "ssr")]
    let (loader_preload, chunk_preloads) = {
        // Leptos's own preloads of lazy routes come and go (`split_preloads` says why), and on a
        // page of islands they would fetch chunks nothing runs: a registry of their own, which
        // Leptos never reads, keeps them out of the page.
        provide_context(leptos::PrefetchLazyFn::default());
        let path = request_path();
        let can_write = crate::auth::ssr::require_reader().is_ok_and(|user| user.role.can_write());
        let downloads = downloads_for_path(&path, &request_query(), can_write);
        preload_links(crate::server::assets::split_preloads(&options, &downloads))
    };
    #[cfg(not(feature = "ssr"))]
    let (loader_preload, chunk_preloads) = (().into_any(), ().into_any());
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <meta name="color-scheme" content="light dark" />
                <link rel="icon" href="/favicon.svg" type="image/svg+xml" />
                {stylesheet}
                // Applies the saved theme before the first paint, so a dark-mode user never sees a
                // white flash while the WASM loads.
                <script nonce=leptos::nonce::use_nonce()>
                    "try{var t=localStorage.getItem('pc-theme');if(t)document.documentElement.dataset.theme=t}catch(e){}"
                </script>
                <AutoReload options=options.clone() />
                {loader_preload}
                <BundleScripts options />
                {chunk_preloads}
                <MetaTags />
            </head>
            <body>
                <App />
            </body>
        </html>
    }
}

/// The console: login page, the environment-scoped sections, and a 404 for everything else.
///
/// Routes render in `SsrMode::Async`: the server answers with complete HTML, so every page can
/// be read without JavaScript; its islands then make it interactive. Only the server renders the
/// app: the browser hydrates the islands alone, so none of this reaches the WebAssembly.
#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    view! {
        <Title formatter=|text: String| if text.is_empty() { "Payments Console".to_string() } else { format!("{text} · Payments Console") } />
        <Router>
            <Routes fallback=|| view! { <NotFound /> }>
                <Route path=path!("/login") view=crate::pages::login::LoginPage ssr=SsrMode::Async />
                <ParentRoute path=path!("/:env") view=ConsoleLayout ssr=SsrMode::Async>
                    <Route path=path!("") view=crate::pages::overview::OverviewPage ssr=SsrMode::Async />
                    <Route path=path!("keys") view=crate::pages::keys::KeysPage ssr=SsrMode::Async />
                    <Route path=path!("sync") view=crate::pages::sync::SyncPage ssr=SsrMode::Async />
                    <Route path=path!("catalog") view=crate::pages::catalog::CatalogPage ssr=SsrMode::Async />
                    <Route path=path!("catalog/copy") view=crate::pages::catalog_copy::CatalogCopyPage ssr=SsrMode::Async />
                    <Route path=path!("customers") view=crate::pages::customers::CustomersPage ssr=SsrMode::Async />
                    <Route path=path!("customers/:id") view=crate::pages::customer::CustomerPage ssr=SsrMode::Async />
                    <Route path=path!("search") view=crate::pages::search::SearchPage ssr=SsrMode::Async />
                    <Route path=path!("subscriptions") view=crate::pages::subscriptions::SubscriptionsPage ssr=SsrMode::Async />
                    <Route path=path!("subscriptions/:id") view=crate::pages::subscriptions::SubscriptionDetailPage ssr=SsrMode::Async />
                    <Route path=path!("subjects/:subject_type/:subject_id") view=crate::pages::subject::SubjectPage ssr=SsrMode::Async />
                    <Route path=path!("history") view=crate::pages::history::HistoryPage ssr=SsrMode::Async />
                    <Route path=path!("webhooks") view=crate::pages::webhooks::WebhooksPage ssr=SsrMode::Async />
                    <Route path=path!("audit") view=crate::pages::audit::AuditPage ssr=SsrMode::Async />
                    <Route path=path!("users") view=crate::pages::users::UsersPage ssr=SsrMode::Async />
                    <Route path=path!("api-keys") view=crate::pages::api_keys::ApiKeysPage ssr=SsrMode::Async />
                    <Route path=path!("account") view=crate::pages::users::AccountPage ssr=SsrMode::Async />
                    <Route path=path!("*any") view=NotFound ssr=SsrMode::Async />
                </ParentRoute>
            </Routes>
        </Router>
    }
}

#[cfg(test)]
mod tests {
    use super::downloads_for_path;

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
        for path in ["/test/catalog/copy", "/test/users", "/test/catalog/x", "/test/no-such-section"] {
            assert!(downloads_for_path(path, "edit=new-product", true).is_empty(), "{path}");
        }
    }

    #[test]
    fn every_other_page_preloads_nothing() {
        // The pages that list payments have their refund forms' island in the main module
        // (`crate::pages::refund`); the editing pages are the server's HTML with forms
        // (`crate::ui::enhance`), sync's progress included; a page not found has the frame's.
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
            "/test/no-such-section",
            "/demo",
            "/",
        ] {
            assert!(downloads_for_path(none, "", true).is_empty(), "{none}");
        }
    }
}
