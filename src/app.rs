//! The application root: the HTML shell, the router and the route table.

use crate::pages::{
    lazy::{
        AccountRoute, ApiKeysRoute, AuditRoute, CatalogCopyRoute, CatalogRoute, CustomerRoute, CustomersRoute,
        HistoryRoute, KeysRoute, SearchRoute, SubjectRoute, SubscriptionDetailRoute, SubscriptionsRoute, SyncRoute,
        UsersRoute, WebhooksRoute,
    },
    login::LoginPage,
    not_found::NotFound,
    overview::OverviewPage,
};
use crate::ui::layout::ConsoleLayout;
use leptos::prelude::*;
use leptos_meta::{provide_meta_context, MetaTags, Title};
use leptos_router::{
    components::{ParentRoute, Route, Router, Routes},
    path, Lazy, SsrMode,
};

/// How the browser brings a page to life (issue #13).
///
/// The sign-in page, the overview and the pages support staff read (lists, details, search,
/// history, the audit log) hydrate only their islands (`#[island]`: the sign-in form, the
/// header's switches and search shortcut, a history row's refund form). Everything else on those
/// pages is server-rendered HTML whose code never reaches the browser, so the main WebAssembly
/// module holds no router and no page: such a visit downloads the islands and Leptos's core.
/// Their filters are plain GET forms and their links plain links, which need no code. The
/// pages that edit (keys, sync, catalog, users, API keys, webhooks, one's account) hydrate the
/// whole app from a lazily loaded chunk ([`hydrate_app`]); there the router takes over links
/// and forms.
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
        let mut parts = path.strip_prefix('/').unwrap_or_default().split('/');
        let env = parts.next().and_then(crate::environment::Environment::parse);
        let section = parts.next();
        let reading = match section {
            None => true,
            Some(section) => READING_SECTIONS.contains(&section) && parts.all(|part| !part.is_empty()),
        };
        if env.is_some() && reading {
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
        use_context::<http::request::Parts>().map_or(Hydration::Full, |parts| Hydration::for_path(parts.uri.path()))
    }
}

/// Hydrates the whole app: the router, the frame and the route on screen.
///
/// A split point (`cargo leptos build --split`, see `src/pages/lazy.rs`), so that the router and
/// every page leave the main module: a page in [`Hydration::Islands`] never downloads them.
#[leptos::lazy]
pub fn hydrate_app() {
    #[cfg(feature = "hydrate")]
    leptos::mount::hydrate_lazy(App);
}

/// Names the chunks of [`hydrate_app`] in the page's `<link rel=preload>`s, so that the browser
/// fetches them beside the main module instead of after it has run.
///
/// On the server a `#[lazy]` function's only work is to register its chunks when called; this
/// one finishes in its first poll.
#[cfg(feature = "ssr")]
fn preload_app_chunks() {
    use std::future::Future;
    let mut register = std::pin::pin!(hydrate_app());
    let _ = register.as_mut().poll(&mut std::task::Context::from_waker(std::task::Waker::noop()));
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
    let hydration = Hydration::of_request();
    #[cfg(not(feature = "ssr"))]
    let hydration = Hydration::Full;
    #[cfg(feature = "ssr")]
    if hydration == Hydration::Full {
        preload_app_chunks();
    }
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
                <HydrationScripts options islands=hydration == Hydration::Islands />
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
                <Route path=path!("/login") view=LoginPage ssr=SsrMode::Async />
                <ParentRoute path=path!("/:env") view=ConsoleLayout ssr=SsrMode::Async>
                    <Route path=path!("") view=OverviewPage ssr=SsrMode::Async />
                    <Route path=path!("keys") view={Lazy::<KeysRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("sync") view={Lazy::<SyncRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("catalog") view={Lazy::<CatalogRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("catalog/copy") view={Lazy::<CatalogCopyRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("customers") view={Lazy::<CustomersRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("customers/:id") view={Lazy::<CustomerRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("search") view={Lazy::<SearchRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("subscriptions") view={Lazy::<SubscriptionsRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("subscriptions/:id") view={Lazy::<SubscriptionDetailRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("subjects/:subject_type/:subject_id") view={Lazy::<SubjectRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("history") view={Lazy::<HistoryRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("webhooks") view={Lazy::<WebhooksRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("audit") view={Lazy::<AuditRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("users") view={Lazy::<UsersRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("api-keys") view={Lazy::<ApiKeysRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("account") view={Lazy::<AccountRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("*any") view=NotFound ssr=SsrMode::Async />
                </ParentRoute>
            </Routes>
        </Router>
    }
}

#[cfg(test)]
mod tests {
    use super::Hydration;

    #[test]
    fn the_sign_in_page_the_overviews_and_the_reading_pages_hydrate_as_islands() {
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
        ] {
            assert_eq!(Hydration::for_path(path), Hydration::Islands, "{path}");
        }
        for path in [
            "/",
            "",
            "/test/keys",
            "/live/sync",
            "/test/catalog",
            "/test/catalog/copy",
            "/test/webhooks",
            "/test/users",
            "/test/api-keys",
            "/test/account",
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
