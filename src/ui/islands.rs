//! Pages of islands (issue #13): the loader the shell writes for them, and what an editing page's
//! island provides itself.
//!
//! Every page hydrates only its islands (`crate::app`): the frame is server-rendered HTML, and its
//! contexts (the environment, the signed-in user, the toasts) never reach the browser. An editing
//! page's body (`crate::pages::lazy::EditingIsland`) is rendered inside [`IslandFrame`], which
//! provides the environment, the user and the page's query again, so the body's components read
//! them as they would under the frame.

use super::layout::CurrentEnv;
use super::toast::ToastRegion;
use crate::auth::CurrentUser;
use crate::environment::Environment;
use leptos::prelude::*;
use leptos_router::params::ParamsMap;

/// Provided around an editing page's body, the server's HTML (`crate::pages::lazy::EditingPage`):
/// no island, so nothing in it ever runs in the browser, and a control that needs the
/// WebAssembly leaves itself out rather than show a button that does nothing ([`server_only`]).
#[derive(Clone, Copy, Debug)]
pub struct ServerOnly;

/// Whether the component being rendered will never hydrate ([`ServerOnly`]).
pub fn server_only() -> bool {
    use_context::<ServerOnly>().is_some()
}

/// The page's query parameters inside an editing page's body, which reads them without the
/// router: [`IslandFrame`] provides them. A new query is a new page load there (filters and
/// choices are plain GET forms), so they never change under the body.
#[derive(Clone, Debug, Default)]
pub struct PageQuery(pub ParamsMap);

/// The page's query parameters (see [`PageQuery`]).
pub fn use_page_query() -> PageQuery {
    use_context::<PageQuery>().unwrap_or_default()
}

/// Around an editing page's body: what the frame provides the pages below it, and the toasts'
/// region.
#[component]
pub fn IslandFrame(
    env: Environment,
    user: CurrentUser,
    /// The page's query parameters, in their order.
    query: Vec<(String, String)>,
    children: Children,
) -> impl IntoView {
    provide_context(CurrentEnv(Memo::new(move |_| env)));
    provide_context(user);
    provide_context(PageQuery(query.into_iter().collect()));
    view! {
        {children()}
        <ToastRegion />
    }
}

/// The bundle's scripts, in place of Leptos's `HydrationScripts`: its preloads and
/// `island_loader.js`, as a classic script in the head that starts compiling the WebAssembly
/// while the page is still arriving, then hydrates the page's islands and marks
/// `<body data-hydrated>`. (Module scripts, Leptos's and an `async` one alike, ran only once the
/// page had been parsed.)
#[component]
pub fn BundleScripts(options: LeptosOptions) -> impl IntoView {
    #[cfg(feature = "ssr")]
    {
        // What renders outside islands never runs in the browser: its resources must not take
        // the ids the islands' resources are read back by (Leptos's islands script does the same).
        if let Some(context) = Owner::current_shared_context() {
            context.set_is_hydrating(false);
        }
        let (glue, wasm) = crate::server::assets::bundle_hrefs(&options);
        let script = format!("{}({glue:?}, {wasm:?});", loader_source());
        view! {
            <link rel="modulepreload" href=glue crossorigin="anonymous" />
            <link rel="preload" href=wasm r#as="fetch" r#type="application/wasm" crossorigin="anonymous" />
            <script nonce=leptos::nonce::use_nonce()>{script}</script>
        }
        .into_any()
    }
    #[cfg(not(feature = "ssr"))]
    {
        let _ = options;
        ().into_any()
    }
}

/// `island_loader.js` without its comment lines, which every page would otherwise carry.
#[cfg(feature = "ssr")]
fn loader_source() -> &'static str {
    static SOURCE: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    SOURCE.get_or_init(|| {
        include_str!("island_loader.js")
            .lines()
            .map(str::trim)
            .filter(|line| !line.is_empty() && !line.starts_with("//"))
            .collect::<Vec<_>>()
            .join("\n")
    })
}

#[cfg(all(test, feature = "ssr"))]
mod tests {
    /// The loader is written into a `<script>` as text: nothing in it may need escaping there,
    /// and it must still be the function the shell calls.
    #[test]
    fn the_loader_is_plain_script_text() {
        let source = super::loader_source();
        assert!(source.starts_with("(async (glue, wasm) => {") && source.ends_with("})"), "{source}");
        assert!(!source.contains('<') && !source.contains('&') && !source.contains("//"), "{source}");
        assert!(source.contains("data-hydrated"));
    }
}
