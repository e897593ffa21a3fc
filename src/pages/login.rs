//! The sign-in page and the server function behind it.

use crate::error::AppError;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

/// Signs in with email and password. Answers the console path to open next.
///
/// Anonymous by nature; throttled per email and per client address after repeated failures
/// ([`crate::services::sign_in`]). Without JavaScript the browser is redirected (to `next`, or
/// back to the login page with an error code).
#[server(prefix = "/api/console", endpoint = "login")]
pub async fn login(email: String, password: String, next: Option<String>) -> Result<String, AppError> {
    use crate::auth::{safe_next, ssr};
    let state = crate::server::state::app_state();
    let next = safe_next(next.as_deref());
    match crate::services::sign_in::sign_in(&state, &email, password.into(), ssr::client_address()).await {
        Ok(token) => {
            ssr::set_session_cookie(&state.settings, &token);
            ssr::navigate_after_form(&next);
            Ok(next)
        }
        Err(error) => {
            let code = match &error {
                AppError::Throttled { retry_after_secs } => {
                    ssr::set_retry_after(*retry_after_secs);
                    Some("throttled")
                }
                AppError::BadCredentials => Some("credentials"),
                AppError::Deactivated => Some("deactivated"),
                _ => None,
            };
            if let Some(code) = code {
                let back = format!("/login?error={code}&next={}", crate::model::format::url_encode(&next));
                ssr::navigate_after_form(&back);
            }
            Err(error)
        }
    }
}

/// Message for an error code in the URL (set by a sign-in without JavaScript): the error's own
/// words, except for throttling, whose wait the URL does not carry.
fn error_message(code: &str) -> Option<String> {
    match code {
        "credentials" => Some(AppError::BadCredentials.to_string()),
        "throttled" => Some("Too many failed sign-in attempts. Wait a few minutes and try again.".into()),
        "deactivated" => Some(AppError::Deactivated.to_string()),
        _ => None,
    }
}

/// The sign-in page. Server-rendered; only its form hydrates ([`LoginForm`]), so signing in
/// downloads no router and no console page (`crate::app`).
#[component]
pub fn LoginPage() -> impl IntoView {
    let query = use_query_map();
    let (next, error) = query.with_untracked(|q| (q.get("next").unwrap_or_default(), q.get("error")));
    // The message, not the code: the island's props are all the browser gets.
    let error = error.and_then(|code| error_message(&code));
    view! {
        <Title text="Sign in" />
        <main class="login-page">
            <div class="login-card">
                <h1>"Payments Console"</h1>
                <p class="muted">"Sign in to manage Stripe keys, the catalog and payments."</p>
                <LoginForm next error />
            </div>
        </main>
    }
}

/// The sign-in form: a plain form post without JavaScript, with it a server action that shows
/// a refusal in place.
#[island]
fn LoginForm(
    /// Where to go once signed in (the server checks it again).
    next: String,
    /// The refusal of a sign-in without JavaScript, from the URL.
    error: Option<String>,
) -> impl IntoView {
    let action = ServerAction::<Login>::new();
    // A full page load after signing in, so the console starts with the new session. The server
    // already answered a safe path; checking it again here keeps the browser from ever leaving
    // the console whatever the answer was.
    Effect::new(move |_| {
        if let Some(Ok(next)) = action.value().get() {
            #[cfg(feature = "hydrate")]
            let _ = window().location().set_href(&crate::auth::safe_next(Some(&next)));
            #[cfg(not(feature = "hydrate"))]
            let _ = next;
        }
    });
    let error = move || match action.value().get() {
        Some(Err(e)) => Some(e.to_string()),
        Some(Ok(_)) => None,
        None => error.clone(),
    };

    view! {
        <ActionForm action=action attr:class="form" attr:aria-describedby="login-error">
            <Show when={
                let error = error.clone();
                move || error().is_some()
            }>
                <p class="form-error" id="login-error" role="alert" data-testid="login-error">
                    {error.clone()}
                </p>
            </Show>
            <label for="email">"Email"</label>
            <input id="email" name="email" type="email" autocomplete="username" required autofocus />
            <label for="password">"Password"</label>
            <input id="password" name="password" type="password" autocomplete="current-password" required />
            <input type="hidden" name="next" value=next />
            <button type="submit" class="button-primary" disabled=move || action.pending().get()>
                {move || if action.pending().get() { "Signing in…" } else { "Sign in" }}
            </button>
        </ActionForm>
    }
}
