//! Stripe secret keys of an environment (admin): set with validation, masked display, removal with confirmation.
//!
//! The key travels once, from the password field to the server, and is never sent back: the page
//! only ever shows the backend's masked form (`sk_test_****1234`).

use crate::backend::Connection;
use crate::environment::Environment;
use crate::error::AppError;
use crate::pages::lazy::{EditingIsland, EditingPage};
use crate::pages::overview::{instance_info, payments_status};
use crate::ui::confirm::ConfirmDialog;
use crate::ui::layout::use_env;
use crate::ui::resource::resource;
use crate::ui::toast::use_toasts;
use leptos::prelude::*;
use leptos_meta::Title;
use payments_model::PaymentsConfig;

/// Sets the environment's Stripe secret key; the backend checks it with Stripe, (re)creates the
/// webhook endpoint and runs a first sync. Answers with the masked configuration only. Admins only.
#[server(prefix = "/api/console", endpoint = "keys-set")]
pub async fn set_stripe_key(environment: Environment, key: String) -> Result<PaymentsConfig, AppError> {
    let user = crate::auth::ssr::require_admin()?;
    let key = crate::server::secrets::SecretString::new(key);
    let state = crate::server::state::app_state();
    state.backend.set_secret_key(&user, environment, &key).await.map_err(AppError::from)
}

/// Removes the environment's Stripe secret key. Admins only.
#[server(prefix = "/api/console", endpoint = "keys-remove")]
pub async fn remove_stripe_key(environment: Environment) -> Result<PaymentsConfig, AppError> {
    let user = crate::auth::ssr::require_admin()?;
    let state = crate::server::state::app_state();
    state.backend.remove_secret_key(&user, environment).await.map_err(AppError::from)
}

/// The browser's check before anything is sent: the key must have the environment's prefix.
pub fn check_key(env: Environment, key: &str) -> Result<(), String> {
    let key = key.trim();
    if key.is_empty() {
        return Err("Enter the secret key.".to_owned());
    }
    if !key.starts_with(env.key_prefix()) {
        return Err(format!(
            "A {} secret key starts with {} (find it in the Stripe dashboard under Developers → API keys).",
            env.label().to_lowercase(),
            env.key_prefix()
        ));
    }
    Ok(())
}

/// What setting a key of `env` does, step by step: the form lists it and the confirmation asks
/// for it. `demo`: the console runs on the offline sandbox (`--demo`), which checks nothing
/// against a real Stripe account, so the first step says so instead of claiming Stripe did.
pub fn set_key_steps(env: Environment, demo: bool) -> [String; 3] {
    let check = match (demo, env) {
        (true, Environment::Test) => {
            "Demo mode: the offline sandbox accepts any sk_test_ key and answers for its own demo account; no real Stripe account is checked.".to_owned()
        }
        (true, Environment::Live) => {
            "Demo mode: live calls go to a second, empty offline sandbox, which accepts any sk_live_ key; no real Stripe account is checked.".to_owned()
        }
        (false, _) => "Stripe checks the key and names its account; restricted keys (rk_…) are refused.".to_owned(),
    };
    [
        check,
        "The console creates its webhook endpoint in that account, replacing the previous one.".to_owned(),
        format!(
            "A first sync copies the {} catalog, customers and subscriptions into the console.",
            env.label().to_lowercase()
        ),
    ]
}

/// The confirmation of a key change: the steps, and what a key already set means.
fn set_key_message(env: Environment, demo: bool, current: Option<&str>) -> String {
    let [check, endpoint, sync] = set_key_steps(env, demo);
    let mut message = format!("Saving the key: 1. {check} 2. {endpoint} 3. {sync}");
    if let Some(masked) = current {
        message.push_str(&format!(
            " It replaces {masked}; a key of another Stripe account replaces the mirrored catalog, customers and subscriptions."
        ));
    }
    message
}

/// What stops working when the key of `env` is removed.
fn removal_message(env: Environment) -> String {
    format!(
        "Checkout, the customer portal, sync and webhooks of the {} environment stop working until a key is set again. \
         The mirrored catalog, customers and subscriptions stay until a key for another Stripe account is set.",
        env.label().to_lowercase()
    )
}

/// The page.
#[component]
pub fn KeysPage() -> impl IntoView {
    view! {
        <Title text="Keys" />
        <EditingIsland page=EditingPage::Keys />
    }
}

#[component]
pub(crate) fn KeysBody() -> impl IntoView {
    let env = use_env();
    let toasts = use_toasts();
    let version = RwSignal::new(0u32);
    let status = resource(move || (version.get(), env.get()), |_| payments_status());
    let info = resource(|| (), |_| instance_info());
    // Demo mode (the offline sandbox) is said plainly wherever Stripe would otherwise be named.
    let demo = move || info.get().and_then(Result::ok).is_some_and(|i| i.demo_sandbox_url.is_some());
    // The key of the environment on screen, masked, while one is set.
    let current_key = move || {
        status
            .get()
            .and_then(Result::ok)
            .and_then(|list| list.into_iter().find(|c| c.environment == env.get()))
            .and_then(|c| c.masked_key)
    };

    let key = RwSignal::new(String::new());
    let client_error = RwSignal::new(None::<String>);
    let server_error = RwSignal::new(None::<String>);
    // The form only works once the page has hydrated: before that the button stays disabled, so
    // the key can never leave the page as a plain form submission.
    let hydrated = RwSignal::new(false);
    Effect::new(move |_| hydrated.set(true));

    let set_key = ServerAction::<SetStripeKey>::new();
    let remove_key = ServerAction::<RemoveStripeKey>::new();
    let confirm_set = RwSignal::new(false);
    let confirm_remove = RwSignal::new(false);

    // Another environment, another key: forget what was typed and said.
    Effect::new(move |_| {
        env.track();
        key.set(String::new());
        client_error.set(None);
        server_error.set(None);
    });

    let send = move || {
        set_key.dispatch(SetStripeKey { environment: env.get_untracked(), key: key.get_untracked().trim().to_owned() });
    };
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if set_key.pending().get_untracked() {
            return;
        }
        server_error.set(None);
        let current = env.get_untracked();
        match check_key(current, &key.get_untracked()) {
            Err(message) => client_error.set(Some(message)),
            Ok(()) => {
                client_error.set(None);
                // Every key change is confirmed, a first key too: it checks the account, creates
                // a webhook endpoint in it and runs a sync, which the confirmation spells out.
                confirm_set.set(true);
            }
        }
    };

    Effect::new(move |_| {
        let Some(result) = set_key.value().get() else { return };
        let current = env.get_untracked();
        match result {
            Ok(config) => {
                let masked = config
                    .keys
                    .iter()
                    .find(|k| k.environment == current)
                    .and_then(|k| k.masked_key.clone())
                    .unwrap_or_default();
                key.set(String::new());
                server_error.set(None);
                let by = if demo() { "the offline sandbox accepted it" } else { "Stripe accepted it" };
                toasts.success(format!("{} key saved ({masked}): {by}.", current.label()));
                version.update(|v| *v += 1);
            }
            Err(e) => {
                let message = e.to_string();
                toasts.error(format!("The key was not saved: {message}"));
                server_error.set(Some(message));
            }
        }
    });
    Effect::new(move |_| {
        let Some(result) = remove_key.value().get() else { return };
        match result {
            Ok(_) => {
                toasts.success(format!("{} key removed.", env.get_untracked().label()));
                version.update(|v| *v += 1);
            }
            Err(e) => toasts.error(format!("The key was not removed: {e}")),
        }
    });

    let open_remove = Callback::new(move |_| confirm_remove.set(true));
    let invalid = move || client_error.get().is_some() || server_error.get().is_some();

    view! {
        <h1>"Keys"</h1>
        <p class="muted">
            "The Stripe secret key of the " {move || env.get().label().to_lowercase()}
            " environment. The console stores it encrypted and only ever shows its masked form."
        </p>
        <Transition fallback=|| view! { <div class="skeleton key-card-skeleton" aria-busy="true"></div> }>
            {move || {
                let current = env.get();
                Suspend::new(async move {
                    let connections = status.await?;
                    let connection = connections.into_iter().find(|c| c.environment == current);
                    Ok::<_, AppError>(view! { <KeyCard connection on_remove=open_remove /> })
                })
            }}
        </Transition>

        <section class="card key-form" aria-labelledby="set-key-title">
            <h2 id="set-key-title">"Set a secret key"</h2>
            <form method="post" on:submit=submit novalidate=true>
                <div class="field">
                    <label for="secret-key">"Secret key"</label>
                    <input
                        id="secret-key"
                        name="secret-key"
                        type="password"
                        autocomplete="off"
                        spellcheck="false"
                        autocapitalize="off"
                        data-testid="secret-key"
                        placeholder=move || format!("{}…", env.get().key_prefix())
                        aria-invalid=move || invalid().to_string()
                        aria-describedby="secret-key-hint secret-key-error"
                        prop:value=move || key.get()
                        on:input=move |ev| {
                            key.set(event_target_value(&ev));
                            client_error.set(None);
                        }
                    />
                    <div class="field-hint key-hint" id="secret-key-hint">
                        <p>"Starts with " <code>{move || env.get().key_prefix()}</code> ". Saving it, after a confirmation:"</p>
                        <Transition fallback=|| ()>
                            {move || Suspend::new(async move {
                                let demo = info.await.is_ok_and(|i| i.demo_sandbox_url.is_some());
                                let current = env.get();
                                view! {
                                    {(demo && current == Environment::Test).then(|| view! {
                                        <p class="notice" data-testid="demo-key-notice">
                                            <strong>"Demo mode."</strong>
                                            " The offline sandbox accepts any " <code>"sk_test_"</code>
                                            " key: nothing is checked against a real Stripe account."
                                        </p>
                                    })}
                                    <ol class="key-steps" data-testid="key-steps">
                                        {set_key_steps(current, demo).into_iter().map(|step| view! { <li>{step}</li> }).collect_view()}
                                    </ol>
                                }
                            })}
                        </Transition>
                    </div>
                    <div id="secret-key-error" class="key-errors" aria-live="polite">
                        {move || client_error.get().map(|e| view! { <p class="field-error" data-testid="key-client-error">{e}</p> })}
                        {move || server_error.get().map(|e| view! { <p class="field-error" data-testid="key-server-error">{e}</p> })}
                    </div>
                </div>
                <button
                    type="submit"
                    class="button-primary"
                    data-testid="save-key"
                    disabled=move || !hydrated.get() || set_key.pending().get()
                    aria-busy=move || set_key.pending().get().to_string()
                >
                    {move || {
                        if !set_key.pending().get() {
                            "Save key"
                        } else if demo() {
                            "Checking with the sandbox…"
                        } else {
                            "Checking with Stripe…"
                        }
                    }}
                </button>
            </form>
        </section>

        <crate::pages::forwarding::ForwardingPanel refresh=version />

        <ConfirmDialog
            open=confirm_set
            title=Signal::derive(move || {
                let verb = if current_key().is_some() { "Replace" } else { "Set" };
                format!("{verb} the {} key?", env.get().label().to_lowercase())
            })
            message=Signal::derive(move || set_key_message(env.get(), demo(), current_key().as_deref()))
            confirm_label="Set key"
            on_confirm=Callback::new(move |_| send())
        />
        <ConfirmDialog
            open=confirm_remove
            title=Signal::derive(move || format!("Remove the {} key?", env.get().label().to_lowercase()))
            message=Signal::derive(move || removal_message(env.get()))
            confirm_label="Remove key"
            on_confirm=Callback::new(move |_| {
                remove_key.dispatch(RemoveStripeKey { environment: env.get_untracked() });
            })
            destructive=true
        />
    }
}

/// The environment's key (masked) and Stripe connection.
#[component]
fn KeyCard(connection: Option<Connection>, on_remove: Callback<()>) -> impl IntoView {
    let Some(c) = connection else {
        return view! { <div class="card key-card" data-testid="key-card"><p>"No connection recorded."</p></div> }
            .into_any();
    };
    let has_key = c.masked_key.is_some();
    let status_class = format!("pill pill-{}", c.status);
    view! {
        <section class="card key-card" aria-label="Current key" data-testid="key-card">
            <dl class="key-facts">
                <dt>"Secret key"</dt>
                <dd><code data-testid="masked-key">{c.masked_key.clone().unwrap_or_else(|| "not set".into())}</code></dd>
                <dt>"Status"</dt>
                <dd><span class=status_class data-testid="connection-status">{c.status.to_string()}</span></dd>
                // Without a key the account is only the one last connected (its mirrored data
                // stays until a key of another account is set): never shown as if connected.
                <dt>{if has_key { "Stripe account" } else { "Last connected account" }}</dt>
                <dd data-testid="account-id">
                    {c.stripe_account_id.clone().unwrap_or_else(|| "—".into())}
                    {c.stripe_account_email.clone().map(|e| view! { <span class="muted">{format!(" ({e})")}</span> })}
                    {(!has_key && c.stripe_account_id.is_some()).then(|| view! {
                        <p class="muted" data-testid="account-disconnected">
                            "Not connected: no key is set. Its mirrored data stays until a key of another Stripe account is set."
                        </p>
                    })}
                </dd>
            </dl>
            {has_key.then(|| view! {
                <button type="button" class="button-danger" data-testid="remove-key" on:click=move |_| on_remove.run(())>
                    "Remove key"
                </button>
            })}
        </section>
    }
    .into_any()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_must_match_the_environment() {
        assert!(check_key(Environment::Test, " sk_test_abc ").is_ok());
        assert!(check_key(Environment::Live, "sk_live_abc").is_ok());
        assert!(check_key(Environment::Test, "sk_live_abc").unwrap_err().contains("sk_test_"));
        assert!(check_key(Environment::Live, "sk_test_abc").unwrap_err().contains("sk_live_"));
        assert!(check_key(Environment::Test, "rk_test_abc").is_err());
        assert_eq!(check_key(Environment::Test, "  ").unwrap_err(), "Enter the secret key.");
    }

    #[test]
    fn a_key_change_says_what_it_does_and_what_demo_mode_checks() {
        let real = set_key_message(Environment::Test, false, None);
        assert!(
            real.contains("Stripe checks the key") && real.contains("webhook endpoint") && real.contains("first sync")
        );
        assert!(!real.contains("replaces"), "{real}");
        let demo = set_key_message(Environment::Test, true, Some("sk_test_****dbox"));
        assert!(demo.contains("accepts any sk_test_ key") && !demo.contains("Stripe checks"), "{demo}");
        assert!(demo.contains("It replaces sk_test_****dbox") && demo.contains("another Stripe account"), "{demo}");
        assert!(set_key_steps(Environment::Live, true)[0].contains("accepts any sk_live_ key"));
    }

    #[test]
    fn removal_says_what_stops() {
        let m = removal_message(Environment::Live);
        assert!(m.contains("Checkout") && m.contains("sync") && m.contains("webhooks") && m.contains("live"));
    }
}
