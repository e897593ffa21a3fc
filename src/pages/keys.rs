//! Stripe secret keys of an environment (admin): set with validation, masked display, removal with confirmation.
//!
//! The key travels once, from the password field to the server, and is never sent back: the page
//! only ever shows the backend's masked form (`sk_test_****1234`).

use crate::backend::Connection;
use crate::environment::Environment;
use crate::error::AppError;
use crate::pages::lazy::{EditingIsland, EditingPage};
use crate::pages::overview::{instance_info, payments_status};
use crate::ui::enhance::{Confirmation, EnhancedForm, FormErrors, PageForms};
use crate::ui::layout::use_env;
use crate::ui::resource::resource;
use leptos::prelude::*;
use leptos::server_fn::ServerFn;
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

/// The page's body, the server's HTML (`crate::pages::lazy::EditingPage`): the key
/// card and the form are forms that the page's one small island checks, confirms and sends
/// ([`PageForms`]), after which the page is read again with the outcome as a toast. The Save
/// button works only with that island, so the key never leaves as a plain form post (issue #13).
#[component]
pub(crate) fn KeysBody() -> impl IntoView {
    let env = use_env().get_untracked();
    let status = resource(move || env, |_| payments_status());
    let info = resource(|| (), |_| instance_info());
    view! {
        <h1>"Keys"</h1>
        <p class="muted">
            "The Stripe secret key of the " {env.label().to_lowercase()}
            " environment. The console stores it encrypted and only ever shows its masked form."
        </p>
        <Transition fallback=|| view! { <div class="skeleton key-card-skeleton" aria-busy="true"></div> }>
            {move || Suspend::new(async move {
                let connections = status.await?;
                // Demo mode (the offline sandbox) is said plainly wherever Stripe would otherwise be named.
                let demo = info.await.is_ok_and(|i| i.demo_sandbox_url.is_some());
                let connection = connections.into_iter().find(|c| c.environment == env);
                let current = connection.as_ref().and_then(|c| c.masked_key.clone());
                Ok::<_, AppError>(view! {
                    <KeyCard connection env />
                    <KeyForm env demo current />
                })
            })}
        </Transition>
        <crate::pages::forwarding::ForwardingPanel />
        <PageForms />
    }
}

/// The form that sets the environment's key: checked in the browser for its prefix, then
/// confirmed with what saving it does, then checked by Stripe (or the sandbox).
#[component]
fn KeyForm(env: Environment, demo: bool, current: Option<String>) -> impl IntoView {
    let label = env.label();
    let confirm = Confirmation {
        title: format!("{} the {} key?", if current.is_some() { "Replace" } else { "Set" }, label.to_lowercase()),
        message: set_key_message(env, demo, current.as_deref()),
        label: "Set key".to_owned(),
        destructive: false,
    };
    let by = if demo { "the offline sandbox accepted it" } else { "Stripe accepted it" };
    // What the browser says for a key of the wrong environment (any text without the prefix).
    let wrong_prefix = check_key(env, "?").err().unwrap_or_default();
    view! {
        <section class="card key-form" aria-labelledby="set-key-title">
            <h2 id="set-key-title">"Set a secret key"</h2>
            <EnhancedForm
                action=SetStripeKey::url()
                done=format!("{label} key saved and shown masked above: {by}.")
                failed="The key was not saved"
                confirm
            >
                <input type="hidden" name="environment" value=env.as_str() />
                <div class="field">
                    <label for="secret-key">"Secret key"</label>
                    <input
                        id="secret-key"
                        name="key"
                        type="password"
                        autocomplete="off"
                        spellcheck="false"
                        autocapitalize="off"
                        data-testid="secret-key"
                        placeholder=format!("{}…", env.key_prefix())
                        aria-invalid="false"
                        aria-describedby="secret-key-hint secret-key-error"
                        data-required="Enter the secret key."
                        data-prefix=env.key_prefix()
                        data-prefix-message=wrong_prefix
                    />
                    <div class="field-hint key-hint" id="secret-key-hint">
                        <p>"Starts with " <code>{env.key_prefix()}</code> ". Saving it, after a confirmation:"</p>
                        {(demo && env == Environment::Test).then(|| view! {
                            <p class="notice" data-testid="demo-key-notice">
                                <strong>"Demo mode."</strong>
                                " The offline sandbox accepts any " <code>"sk_test_"</code>
                                " key: nothing is checked against a real Stripe account."
                            </p>
                        })}
                        <ol class="key-steps" data-testid="key-steps">
                            {set_key_steps(env, demo).into_iter().map(|step| view! { <li>{step}</li> }).collect_view()}
                        </ol>
                    </div>
                    <FormErrors id="secret-key-error" class="key-errors" client="key-client-error" server="key-server-error" />
                </div>
                <button
                    type="submit"
                    class="button-primary"
                    data-testid="save-key"
                    disabled=true
                    data-needs-js=""
                    data-pending-label=if demo { "Checking with the sandbox…" } else { "Checking with Stripe…" }
                >
                    "Save key"
                </button>
            </EnhancedForm>
        </section>
    }
}

/// The environment's key (masked) and Stripe connection, with the form that removes the key.
#[component]
fn KeyCard(connection: Option<Connection>, env: Environment) -> impl IntoView {
    let Some(c) = connection else {
        return view! { <div class="card key-card" data-testid="key-card"><p>"No connection recorded."</p></div> }
            .into_any();
    };
    let has_key = c.masked_key.is_some();
    let status_class = format!("pill pill-{}", c.status);
    let remove = Confirmation {
        title: format!("Remove the {} key?", env.label().to_lowercase()),
        message: removal_message(env),
        label: "Remove key".to_owned(),
        destructive: true,
    };
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
                <EnhancedForm
                    action=RemoveStripeKey::url()
                    done=format!("{} key removed.", env.label())
                    failed="The key was not removed"
                    confirm=remove
                >
                    <input type="hidden" name="environment" value=env.as_str() />
                    <button type="submit" class="button-danger" data-testid="remove-key" disabled=true data-needs-js="">
                        "Remove key"
                    </button>
                </EnhancedForm>
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
