//! Webhooks on a machine Stripe cannot reach (issue #14), on the Keys and Webhooks pages: when
//! the public URL is loopback, private or a local name, a plain notice says Stripe cannot
//! deliver here, gives the exact `stripe listen --forward-to …` command for this console, and
//! lets an admin paste the `whsec_…` signing secret the Stripe CLI prints. The secret travels
//! once, from the password field to the server; the page only ever shows its masked hint.
//! Support staff see the notice and the hint, without the form (and the server refuses them).

use crate::backend::Connection;
use crate::environment::Environment;
use crate::error::AppError;
use crate::model::forwarding::ForwardingFacts;
use crate::ui::copy::CopyButton;
use crate::ui::enhance::{Confirmation, EnhancedForm, FormErrors};
use crate::ui::error::ErrorPanel;
use crate::ui::layout::{use_env, use_user};
use crate::ui::resource::resource;
use crate::ui::time::Time;
use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use payments_model::Unreachable;

/// Whether Stripe can deliver to this console, the command that forwards its events, and the
/// pasted secret's hint. Any signed-in user.
#[server(prefix = "/api/console", endpoint = "webhook-forwarding")]
pub async fn webhook_forwarding(environment: Environment) -> Result<ForwardingFacts, AppError> {
    let user = crate::auth::ssr::require_reader()?;
    let state = crate::server::state::app_state();
    crate::services::forwarding::webhook_forwarding(&state, &user, environment).await
}

/// Stores the signing secret pasted from the Stripe CLI (sealed by the engine, audited).
/// Answers the connection, which shows it masked only. Admins only.
#[server(prefix = "/api/console", endpoint = "webhook-forwarding-set")]
pub async fn set_forwarding_secret(environment: Environment, signing_secret: String) -> Result<Connection, AppError> {
    let user = crate::auth::ssr::require_admin()?;
    let secret = crate::server::secrets::SecretString::new(signing_secret);
    let state = crate::server::state::app_state();
    Ok(state.backend.set_forwarding_secret(&user, environment, &secret).await?)
}

/// Removes the pasted signing secret. Admins only.
#[server(prefix = "/api/console", endpoint = "webhook-forwarding-remove")]
pub async fn remove_forwarding_secret(environment: Environment) -> Result<Connection, AppError> {
    let user = crate::auth::ssr::require_admin()?;
    let state = crate::server::state::app_state();
    Ok(state.backend.remove_forwarding_secret(&user, environment).await?)
}

/// The forwarding card, for the Keys and Webhooks pages, as the server's HTML: an admin's paste
/// form and Remove button are forms the page's `crate::ui::enhance::PageForms` island confirms
/// and sends, after which the page is read again (so a key set or removed on Keys shows here
/// too).
#[component]
pub fn ForwardingPanel() -> impl IntoView {
    let env = use_env();
    let can_write = use_user().role.can_write();
    let info = resource(move || env.get(), webhook_forwarding);
    view! {
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                match info.await {
                    Ok(f) if f.shown() => view! { <ForwardingCard f can_write /> }.into_any(),
                    Ok(_) => ().into_any(),
                    Err(e) => view! { <ErrorPanel error=e /> }.into_any(),
                }
            })}
        </Transition>
    }
}

/// What saving a pasted secret does, for its confirmation.
fn set_message(env: Environment, current: Option<&str>) -> String {
    let mut message = format!(
        "The console stores the secret encrypted and accepts the {} events it signs, beside the managed endpoint's.",
        env.label().to_lowercase()
    );
    if let Some(masked) = current {
        message.push_str(&format!(" It replaces {masked}."));
    }
    message
}

#[component]
fn ForwardingCard(f: ForwardingFacts, can_write: bool) -> impl IntoView {
    let env = use_env();
    let env_name = env.get_untracked().label().to_lowercase();
    let reason = f.unreachable.map(Unreachable::reason);
    view! {
        <section class="card forwarding-card" aria-labelledby="forwarding-title" data-testid="forwarding">
            <h2 id="forwarding-title">"Webhooks through the Stripe CLI"</h2>
            {match reason {
                Some(reason) => view! {
                    <p class="notice" role="status" data-testid="forwarding-notice">
                        <strong>"Stripe cannot reach this console: "</strong>
                        {reason}
                        ". Stripe posts webhooks from the internet, so a managed endpoint here receives nothing. "
                        "Forward them with the Stripe CLI instead, from a machine that reaches "
                        <code>{f.forward_to.clone()}</code>
                        ", logged in (" <code>"stripe login"</code> ") to the account of the " {env_name.clone()} " key:"
                    </p>
                }
                .into_any(),
                None => view! {
                    <p class="muted" data-testid="forwarding-reachable">
                        "Stripe can reach this console at its public URL, so the managed endpoint receives its events. "
                        "A signing secret pasted from the Stripe CLI is still accepted until it is removed."
                    </p>
                }
                .into_any(),
            }}
            {(f.demo && f.unreachable.is_some() && env.get_untracked() == Environment::Test).then(|| view! {
                <p class="muted" data-testid="forwarding-demo">
                    "Demo mode: the offline sandbox delivers its events to this console itself. "
                    "The command is for a real Stripe account."
                </p>
            })}
            {if !f.supported {
                view! {
                    <div class="notice" role="status" data-testid="forwarding-unsupported">
                        <p>"Pasted signing secrets are not available with this payments backend: Stripe's webhooks go to the remote backend, which verifies them itself."</p>
                    </div>
                }
                .into_any()
            } else {
                view! {
                    {f.unreachable.is_some().then(|| view! {
                        <div class="forwarding-command">
                            <pre><code data-testid="forwarding-command">{f.command.clone()}</code></pre>
                            <CopyButton value=f.command.clone() class="button-secondary" label="Copy the stripe listen command" testid="copy-forwarding-command" />
                        </div>
                        <p class="field-hint">
                            "It prints " <code>"Your webhook signing secret is whsec_…"</code>
                            ", which stays the same each time it runs. Paste that secret here once."
                        </p>
                    })}
                    <dl class="forwarding-facts">
                        <dt>"Pasted signing secret"</dt>
                        <dd>
                            <code data-testid="forwarding-secret-hint">{f.secret_hint.clone().unwrap_or_else(|| "not set".into())}</code>
                            {f.secret_set_at.clone().map(|at| view! { <span class="muted">" set " <Time iso=at /></span> })}
                        </dd>
                    </dl>
                    {if can_write {
                        let hint = f.secret_hint.clone();
                        view! { <PasteForm env=env.get_untracked() has_key=f.has_key hint /> }.into_any()
                    } else {
                        view! { <p class="muted" data-testid="forwarding-admins-only">"Only admins can set or remove it."</p> }.into_any()
                    }}
                }
                .into_any()
            }}
        </section>
    }
}

/// The admin's paste form and Remove button: forms the page's `PageForms` island confirms and
/// sends, after which the page is read again. The browser checks that a secret was pasted and
/// starts as one does, the server checks the rest of its shape, and either says what is wrong
/// under the field; the Save button works only with the island, so the secret never leaves as a
/// plain form post.
#[component]
fn PasteForm(env: Environment, has_key: bool, hint: Option<String>) -> impl IntoView {
    let name = env.label().to_lowercase();
    let set = hint.is_some();
    let save = Confirmation {
        title: format!("{} the {name} forwarding secret?", if set { "Replace" } else { "Save" }),
        message: set_message(env, hint.as_deref()),
        label: "Save secret".to_owned(),
        destructive: false,
    };
    let remove = Confirmation {
        title: format!("Remove the {name} forwarding secret?"),
        message: "Events the Stripe CLI forwards with this secret are refused from the next one on. The managed endpoint is not affected.".to_owned(),
        label: "Remove secret".to_owned(),
        destructive: true,
    };
    view! {
        <EnhancedForm
            action=SetForwardingSecret::url()
            done=format!("Signing secret saved: events the Stripe CLI forwards to the {name} environment are accepted.")
            failed="The signing secret was not saved"
            confirm=save
            testid="forwarding-form"
        >
            <input type="hidden" name="environment" value=env.as_str() />
            <div class="field">
                <label for="forwarding-secret">{if set { "Replace the signing secret" } else { "Signing secret" }}</label>
                <input
                    id="forwarding-secret"
                    name="signing_secret"
                    type="password"
                    autocomplete="off"
                    spellcheck="false"
                    autocapitalize="off"
                    placeholder="whsec_…"
                    data-testid="forwarding-secret"
                    aria-invalid="false"
                    aria-describedby="forwarding-secret-error"
                    data-required="Paste the signing secret the Stripe CLI printed (whsec_…)."
                    data-prefix="whsec_"
                    data-prefix-message="A signing secret starts with whsec_: paste the one the Stripe CLI printed, not an API key."
                />
                {(!has_key).then(|| view! { <p class="field-hint">"Set a secret key first: without one, every event is refused."</p> })}
                <FormErrors
                    id="forwarding-secret-error"
                    class="key-errors"
                    client="forwarding-client-error"
                    server="forwarding-server-error"
                />
            </div>
            <button
                type="submit"
                class="button-primary"
                data-testid="save-forwarding-secret"
                disabled=true
                data-needs-js=has_key.then_some("")
            >
                "Save secret"
            </button>
        </EnhancedForm>
        {set.then(|| view! {
            <EnhancedForm
                action=RemoveForwardingSecret::url()
                done="Signing secret removed: events the Stripe CLI forwards are refused from now on."
                failed="The signing secret was not removed"
                confirm=remove
            >
                <input type="hidden" name="environment" value=env.as_str() />
                <button type="submit" class="button-danger" data-testid="remove-forwarding-secret" disabled=true data-needs-js="">
                    "Remove"
                </button>
            </EnhancedForm>
        })}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_card_shows_where_stripe_cannot_reach_or_a_secret_is_set() {
        let mut f = ForwardingFacts {
            unreachable: None,
            forward_to: String::new(),
            command: String::new(),
            secret_hint: None,
            secret_set_at: None,
            has_key: true,
            supported: true,
            demo: false,
        };
        assert!(!f.shown());
        f.secret_hint = Some("whsec_…abcd".into());
        assert!(f.shown());
        f.secret_hint = None;
        f.unreachable = Some(Unreachable::Loopback);
        assert!(f.shown());
        assert!(set_message(Environment::Test, Some("whsec_…abcd")).contains("It replaces whsec_…abcd"));
    }
}
