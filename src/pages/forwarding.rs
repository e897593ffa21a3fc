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
use crate::ui::confirm::ConfirmDialog;
use crate::ui::copy::CopyButton;
use crate::ui::enhance::{Confirmation, EnhancedForm};
use crate::ui::error::ErrorPanel;
use crate::ui::layout::{use_env, use_user};
use crate::ui::resource::resource;
use crate::ui::time::Time;
use crate::ui::toast::use_toasts;
use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use payments_model::{check_signing_secret, Unreachable};

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

/// The forwarding card, for the Keys and Webhooks pages. `refresh` changes when the page
/// changed something it depends on (a key set or removed).
#[component]
pub fn ForwardingPanel(#[prop(into)] refresh: Signal<u32>) -> impl IntoView {
    let env = use_env();
    let can_write = use_user().role.can_write();
    let toasts = use_toasts();
    let version = RwSignal::new(0u32);
    let info = resource(move || (env.get(), refresh.get(), version.get()), |(e, _, _)| webhook_forwarding(e));
    let hint = move || info.get().and_then(Result::ok).and_then(|f| f.secret_hint);

    let secret = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    // The form works once hydrated only, so the secret never leaves as a plain form post.
    let hydrated = RwSignal::new(false);
    Effect::new(move |_| hydrated.set(true));
    let set = ServerAction::<SetForwardingSecret>::new();
    let remove = ServerAction::<RemoveForwardingSecret>::new();
    let confirm_set = RwSignal::new(false);
    let confirm_remove = RwSignal::new(false);

    // Another environment: forget what was typed.
    Effect::new(move |_| {
        env.track();
        secret.set(String::new());
        error.set(None);
    });
    Effect::new(move |_| {
        let Some(result) = set.value().get() else { return };
        match result {
            Ok(c) => {
                secret.set(String::new());
                error.set(None);
                let masked = c.forwarding_secret_hint.unwrap_or_default();
                toasts.success(format!(
                    "Signing secret saved ({masked}): events the Stripe CLI forwards to the {} environment are accepted.",
                    env.get_untracked().label().to_lowercase()
                ));
                version.update(|v| *v += 1);
            }
            Err(e) => {
                toasts.error(format!("The signing secret was not saved: {e}"));
                error.set(Some(e.to_string()));
            }
        }
    });
    Effect::new(move |_| {
        let Some(result) = remove.value().get() else { return };
        match result {
            Ok(_) => {
                toasts.success("Signing secret removed: events the Stripe CLI forwards are refused from now on.");
                version.update(|v| *v += 1);
            }
            Err(e) => toasts.error(format!("The signing secret was not removed: {e}")),
        }
    });
    let submit = Callback::new(move |()| {
        if set.pending().get_untracked() {
            return;
        }
        match check_signing_secret(&secret.get_untracked()) {
            Err(e) => error.set(Some(e.message())),
            Ok(_) => {
                error.set(None);
                confirm_set.set(true);
            }
        }
    });
    let form = FormState { secret, error, hydrated, pending: set.pending().into(), submit };

    view! {
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                match info.await {
                    Ok(f) if f.shown() => {
                        view! {
                            <ForwardingCard
                                f
                                can_write
                                form
                                on_remove=Callback::new(move |()| confirm_remove.set(true))
                            />
                        }
                        .into_any()
                    }
                    Ok(_) => ().into_any(),
                    Err(e) => view! { <ErrorPanel error=e /> }.into_any(),
                }
            })}
        </Transition>
        <ConfirmDialog
            open=confirm_set
            title=Signal::derive(move || {
                let verb = if hint().is_some() { "Replace" } else { "Save" };
                format!("{verb} the {} forwarding secret?", env.get().label().to_lowercase())
            })
            message=Signal::derive(move || set_message(env.get(), hint().as_deref()))
            confirm_label="Save secret"
            on_confirm=Callback::new(move |()| {
                set.dispatch(SetForwardingSecret {
                    environment: env.get_untracked(),
                    signing_secret: secret.get_untracked().trim().to_owned(),
                });
            })
        />
        <ConfirmDialog
            open=confirm_remove
            title=Signal::derive(move || format!("Remove the {} forwarding secret?", env.get().label().to_lowercase()))
            message="Events the Stripe CLI forwards with this secret are refused from the next one on. The managed endpoint is not affected."
            confirm_label="Remove secret"
            on_confirm=Callback::new(move |()| {
                remove.dispatch(RemoveForwardingSecret { environment: env.get_untracked() });
            })
            destructive=true
        />
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

/// The paste form's state, owned by [`ForwardingPanel`] so it survives the card's re-renders.
#[derive(Clone, Copy)]
struct FormState {
    secret: RwSignal<String>,
    error: RwSignal<Option<String>>,
    hydrated: RwSignal<bool>,
    pending: Signal<bool>,
    submit: Callback<()>,
}

#[component]
fn ForwardingCard(f: ForwardingFacts, can_write: bool, form: FormState, on_remove: Callback<()>) -> impl IntoView {
    let env = use_env();
    let env_name = env.get_untracked().label().to_lowercase();
    let reason = f.unreachable.map(Unreachable::reason);
    let set = f.secret_hint.is_some();
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
                    {if can_write && crate::ui::islands::server_only() {
                        let hint = f.secret_hint.clone();
                        view! { <ServerPasteForm env=env.get_untracked() has_key=f.has_key hint /> }.into_any()
                    } else if can_write {
                        view! { <PasteForm form has_key=f.has_key set on_remove /> }.into_any()
                    } else {
                        view! { <p class="muted" data-testid="forwarding-admins-only">"Only admins can set or remove it."</p> }.into_any()
                    }}
                }
                .into_any()
            }}
        </section>
    }
}

/// The admin's paste form and Remove button.
#[component]
fn PasteForm(form: FormState, has_key: bool, set: bool, on_remove: Callback<()>) -> impl IntoView {
    let FormState { secret, error, hydrated, pending, submit } = form;
    view! {
        <form
            method="post"
            novalidate=true
            data-testid="forwarding-form"
            on:submit=move |ev: leptos::ev::SubmitEvent| {
                ev.prevent_default();
                submit.run(());
            }
        >
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
                    aria-invalid=move || error.get().is_some().to_string()
                    aria-describedby="forwarding-secret-error"
                    prop:value=move || secret.get()
                    on:input=move |ev| {
                        secret.set(event_target_value(&ev));
                        error.set(None);
                    }
                />
                <div id="forwarding-secret-error" aria-live="polite">
                    {move || error.get().map(|e| view! { <p class="field-error" data-testid="forwarding-error">{e}</p> })}
                </div>
                {(!has_key).then(|| view! { <p class="field-hint">"Set a secret key first: without one, every event is refused."</p> })}
            </div>
            <button
                type="submit"
                class="button-primary"
                data-testid="save-forwarding-secret"
                disabled=move || !hydrated.get() || pending.get() || !has_key
                aria-busy=move || pending.get().to_string()
            >
                "Save secret"
            </button>
            " "
            {set.then(|| view! {
                <button type="button" class="button-danger" data-testid="remove-forwarding-secret" on:click=move |_| on_remove.run(())>
                    "Remove"
                </button>
            })}
        </form>
    }
}

/// The paste form and Remove button as the server's HTML, on a page no island renders
/// (`crate::ui::islands::ServerOnly`): forms the page's [`PageForms`] island confirms and sends,
/// after which the page is read again. The secret is checked by the server (as it is after the
/// island's own check), and the Save button works only with the island, so the secret never
/// leaves as a plain form post.
#[component]
fn ServerPasteForm(env: Environment, has_key: bool, hint: Option<String>) -> impl IntoView {
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
                />
                {(!has_key).then(|| view! { <p class="field-hint">"Set a secret key first: without one, every event is refused."</p> })}
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
