//! The frame around every console page: header with the environment switch, the live-mode
//! banner, the section navigation (filtered by role) and the page itself inside an error
//! boundary.

use super::error::set_page_status;
use super::nav::SECTIONS;
use super::theme::ThemeToggle;
use crate::auth::{CurrentUser, Logout, Role};
use crate::environment::{switch_path, Environment};
use crate::error::AppError;
use crate::pages::not_found::NotFound;
use leptos::prelude::*;
use leptos_router::components::{Outlet, Redirect, A};
use leptos_router::hooks::{use_location, use_params_map, use_query_map};

/// The environment of the current page, for the pages below the layout.
#[derive(Clone, Copy)]
pub struct CurrentEnv(pub Memo<Environment>);

/// The environment the page is showing (`test` or `live`).
pub fn use_env() -> Memo<Environment> {
    expect_context::<CurrentEnv>().0
}

/// The signed-in user, for pages that adapt to the role.
pub fn use_user() -> CurrentUser {
    expect_context::<CurrentUser>()
}

/// Layout of the environment-scoped pages (`/:env/...`).
///
/// The signed-in user is known before anything renders (the server has read the session and
/// redirects without one), so the frame and the page are built once, with no `Suspense` around
/// them: a server-side `Suspense` walks its children more than once before rendering them
/// (`dry_resolve`), and each walk built the router's outlet, and so the page, anew. Every page's
/// data then loaded three times, and an island's HTML could come from another read than the copy
/// the browser hydrates it from (the webhook log's mismatch when events arrived meanwhile, issue
/// #13; `end2end/tests/hydration.spec.ts`).
#[component]
pub fn ConsoleLayout() -> impl IntoView {
    let params = use_params_map();
    let parsed = Memo::new(move |_| params.read().get("env").and_then(|e| Environment::parse(&e)));
    let env = Memo::new(move |_| parsed.get().unwrap_or(Environment::Test));
    provide_context(CurrentEnv(env));
    // Read from the request: only the server renders the layout (every page hydrates only its
    // islands), so nothing of it needs sending to the browser.
    let user = signed_in_user();

    view! {
        <Show when=move || parsed.get().is_some() fallback=|| view! { <NotFound /> }>
            {match user.clone() {
                Some(user) => view! { <Frame user env /> }.into_any(),
                // The server redirects before rendering a page without a signed-in user.
                None => view! { <Redirect path="/login" /> }.into_any(),
            }}
        </Show>
    }
}

/// The signed-in user of the request being rendered.
#[cfg(feature = "ssr")]
fn signed_in_user() -> Option<CurrentUser> {
    crate::auth::ssr::current_session().map(|session| session.user)
}

/// The layout is never rendered in the browser (see [`ConsoleLayout`]).
#[cfg(not(feature = "ssr"))]
fn signed_in_user() -> Option<CurrentUser> {
    None
}

#[component]
fn Frame(user: CurrentUser, env: Memo<Environment>) -> impl IntoView {
    provide_context(user.clone());
    let location = use_location();
    let switch_href = move || {
        let search = location.search.get();
        let path = location.pathname.get();
        let target = switch_path(&path, env.get().other());
        if search.is_empty() {
            target
        } else {
            format!("{target}?{}", search.trim_start_matches('?'))
        }
    };
    let is_admin = user.role == Role::Admin;
    let must_change = user.must_change_password;
    let nav_items = SECTIONS
        .iter()
        .filter(|s| is_admin || !s.admin_only)
        .map(|s| {
            let slug = s.slug;
            let href =
                move || if slug.is_empty() { format!("/{}", env.get()) } else { format!("/{}/{slug}", env.get()) };
            view! {
                <li>
                    <A href=href exact=slug.is_empty()>{s.label}</A>
                </li>
            }
        })
        .collect_view();

    // Built apart and type-erased: the frame's whole view type is deeper than the compiler's
    // query depth allows in the WASM build.
    let header = view! {
        <header class="topbar">
            <a class="brand" href=move || format!("/{}", env.get())>"Payments Console"</a>
            <nav class="env-switch" aria-label="Environment">
                {Environment::ALL
                    .into_iter()
                    .map(|e| {
                        view! {
                            <a
                                href=move || if env.get() == e { location.pathname.get() } else { switch_href() }
                                class="env-option"
                                class:selected=move || env.get() == e
                                class:env-live=e == Environment::Live
                                aria-current=move || (env.get() == e).then_some("true")
                                data-testid=format!("env-{}", e.as_str())
                            >
                                {e.label()}
                            </a>
                        }
                    })
                    .collect_view()}
            </nav>
            <SearchBox env />
            <div class="topbar-right">
                <ThemeToggle />
                <a class="user-chip" title="Your account" href=move || format!("/{}/account", env.get()) data-testid="account-link">
                    {user.email.clone()}
                    <span class="role-badge" data-testid="role-badge">{user.role.as_str()}</span>
                </a>
                <LogoutButton />
            </div>
        </header>
    }
    .into_any();
    view! {
        <div class="console" class:live=move || env.get() == Environment::Live>
            <Show when=move || env.get() == Environment::Live>
                <div class="live-banner" role="alert" data-testid="live-banner">
                    <strong>"LIVE MODE"</strong>
                    " · You are working with real customers and real money. Changes here take effect immediately."
                </div>
            </Show>
            {header}
            <div class="body">
                <nav class="sidebar" aria-label="Sections">
                    <ul>{nav_items}</ul>
                </nav>
                <main class="content" id="main">
                    // A password set for them: the Account page first (the server refuses
                    // everything else until it is changed).
                    {must_change.then(|| view! {
                        <Show when=move || !location.pathname.get().ends_with("/account")>
                            <Redirect path=format!("/{}/account", env.get_untracked()) />
                        </Show>
                    })}
                    <ErrorBoundary fallback=|errors| {
                        // What a page returned as `Err` (`?` on its data) lands here: the page
                        // answers with the status of the error it shows.
                        for (_, e) in errors.get_untracked().into_iter() {
                            if let Some(e) = e.downcast_ref::<AppError>() {
                                set_page_status(e);
                            }
                        }
                        view! {
                            <div class="error-panel" role="alert">
                                <h2>"This page could not be shown"</h2>
                                <ul>
                                    {move || {
                                        errors
                                            .get()
                                            .into_iter()
                                            .map(|(_, e)| view! { <li>{e.to_string()}</li> })
                                            .collect_view()
                                    }}
                                </ul>
                            </div>
                        }
                    }>
                        <Outlet />
                    </ErrorBoundary>
                </main>
            </div>
        </div>
    }
}

/// Signs out. A plain form post without JavaScript; with it, the page reloads at the login page
/// so nothing of the session stays in memory.
#[component]
fn LogoutButton() -> impl IntoView {
    let logout = ServerAction::<Logout>::new();
    Effect::new(move |_| {
        if let Some(Ok(next)) = logout.value().get() {
            #[cfg(feature = "hydrate")]
            let _ = window().location().set_href(&next);
            #[cfg(not(feature = "hydrate"))]
            let _ = next;
        }
    });
    view! {
        <ActionForm action=logout attr:class="logout-form">
            <button type="submit" class="button-secondary" data-testid="logout">"Sign out"</button>
        </ActionForm>
    }
}

/// The search box in the header: a plain GET form (it works before the WASM has loaded), which
/// `/` or Ctrl-K (⌘K) focuses from anywhere on the page ([`SearchShortcut`]).
#[component]
fn SearchBox(env: Memo<Environment>) -> impl IntoView {
    let location = use_location();
    let query = use_query_map();
    // The query of the search page, so the box shows what was searched for.
    let current = move || {
        let on_search = location.pathname.get().ends_with("/search");
        on_search.then(|| query.read().get("q")).flatten().unwrap_or_default()
    };
    view! {
        <form method="get" action=move || format!("/{}/search", env.get()) class="topbar-search" role="search">
            <label class="visually-hidden" for=SEARCH_INPUT_ID>"Find by id, email or subject"</label>
            <input
                id=SEARCH_INPUT_ID
                type="search"
                name="q"
                value=current
                placeholder="Search ids, emails, subjects…  /"
                aria-keyshortcuts="/ Control+K Meta+K"
                autocomplete="off"
                data-testid="console-search"
            />
        </form>
        <SearchShortcut />
    }
}

/// The `id` of the header's search input.
const SEARCH_INPUT_ID: &str = "console-search";

/// `/` (outside a text field) or Ctrl-K (⌘K) focuses the header's search input. An island, so
/// the shortcut works on pages that hydrate only their islands (`crate::app`);
/// it renders nothing of its own.
#[island]
fn SearchShortcut() -> impl IntoView {
    let handle = window_event_listener(leptos::ev::keydown, move |ev| {
        let typing = document().active_element().is_some_and(|el| {
            matches!(el.tag_name().as_str(), "INPUT" | "TEXTAREA" | "SELECT") || el.has_attribute("contenteditable")
        });
        let shortcut =
            (ev.key() == "/" && !typing) || (ev.key().eq_ignore_ascii_case("k") && (ev.ctrl_key() || ev.meta_key()));
        if !shortcut {
            return;
        }
        #[cfg(feature = "hydrate")]
        {
            use wasm_bindgen::JsCast;
            let input = document()
                .get_element_by_id(SEARCH_INPUT_ID)
                .and_then(|el| el.dyn_into::<leptos::web_sys::HtmlInputElement>().ok());
            if let Some(input) = input {
                ev.prevent_default();
                let _ = input.focus();
                input.select();
            }
        }
    });
    on_cleanup(move || handle.remove());
}
