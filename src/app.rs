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
    view! {
        <!DOCTYPE html>
        <html lang="en">
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
                <HydrationScripts options />
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
