//! Refunding a payment from a history row (admins): the form, the server function behind it, and
//! the island that submits a table's forms in place.

use crate::environment::Environment;
use crate::error::AppError;
use crate::model::format::{money, plain_amount};
use crate::services::refunds::RefundForm;
use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use payments_model::{Refund, RefundReason};

/// Refunds all or part of a payment at Stripe. Admins only; in live mode the form must carry the
/// typed `live`. The history row changes when Stripe's event about the refund arrives.
#[server(prefix = "/api/console", endpoint = "admin-refund")]
pub async fn refund_payment(env: Environment, form: RefundForm) -> Result<Refund, AppError> {
    let user = crate::auth::ssr::require_admin()?;
    let refund = form.parse(env).map_err(AppError::Invalid)?;
    Ok(crate::server::state::app_state().backend.create_refund(&user, env, &refund).await?)
}

/// "Refund…" on a history row: a disclosure with the amount (what is left, by default), the
/// reason and, in live mode, the typed confirmation. Server-rendered HTML that works as a plain
/// form without JavaScript (the server makes the idempotency key then); once the table's
/// [`RefundForms`] has hydrated, it is submitted in place and says how it went.
#[component]
pub fn RefundControl(
    env: Environment,
    /// `pi_…` of the payment.
    payment_intent_id: String,
    currency: String,
    /// What is left to refund, in minor units.
    left: i64,
) -> impl IntoView {
    let up_to = money(left, &currency);
    view! {
        <details class="refund-control">
            <summary data-testid="refund-open">"Refund…"</summary>
            <form action=RefundPayment::url() method="post" class="refund-form" data-testid="refund-form">
                <input type="hidden" name="env" value=env.as_str() />
                <input type="hidden" name="form[payment_intent_id]" value=payment_intent_id />
                <input type="hidden" name="form[currency]" value=currency.clone() />
                <input type="hidden" name="form[idempotency_key]" value="" />
                <label>
                    {format!("Amount ({})", currency.to_uppercase())}
                    <input type="text" inputmode="decimal" name="form[amount]" value=plain_amount(left, &currency) data-testid="refund-amount" />
                    <span class="muted small">{format!("Up to {up_to}; empty refunds all that is left.")}</span>
                </label>
                <label>
                    "Reason"
                    <select name="form[reason]" data-testid="refund-reason">
                        {RefundReason::ALL.into_iter().map(|r| view! { <option value=r.as_str()>{r.label()}</option> }).collect_view()}
                    </select>
                </label>
                {(env == Environment::Live).then(|| view! {
                    <label>
                        <span>"This refunds real money. Type " <strong>"live"</strong> " to confirm."</span>
                        <input type="text" name="form[confirm]" autocomplete="off" data-testid="refund-confirm" />
                    </label>
                })}
                <button type="submit" class="button-danger" data-testid="refund-submit">"Refund"</button>
                <div class="refund-result" aria-live="polite"></div>
            </form>
        </details>
    }
}

/// The element around a table of payments with refund forms, and the island that submits them:
/// `scope` is true when the table has any ([`RefundControl`]).
///
/// One island per table that listens on the table's wrapper (event delegation), rather than an
/// island per row: the rows stay server-rendered HTML, and a page of 25 payments hydrates one
/// small handler from the main module instead of downloading a lazily loaded form and
/// hydrating it 25 times (issue #13; `README.md`, "What the browser downloads").
#[component]
pub fn RefundScope(scope: bool, children: Children) -> impl IntoView {
    view! {
        <div class="table-scroll" data-refund-forms=scope.then_some("")>
            {scope.then(|| view! { <RefundForms /> })}
            {children()}
        </div>
    }
}

/// Submits the refund forms of the element around it ([`RefundScope`]'s) with the server
/// function, shows the outcome in the form, and gives each form a fresh idempotency key when it
/// opens, so a double submit refunds once. Renders nothing visible: a hidden marker from which
/// it finds that element once hydrated.
#[island]
fn RefundForms() -> impl IntoView {
    let marker = NodeRef::<leptos::html::Span>::new();
    #[cfg(feature = "hydrate")]
    marker.on_load(|marker| delegate::listen(&marker));
    view! { <span hidden node_ref=marker></span> }
}

/// The browser's side of [`RefundForms`]: listeners on the table's wrapper, and the outcome
/// written into the form.
#[cfg(feature = "hydrate")]
mod delegate {
    use super::*;
    use leptos::form::FromFormData;
    use wasm_bindgen::{closure::Closure, JsCast};
    use web_sys::{Element, Event, HtmlButtonElement, HtmlDetailsElement, HtmlFormElement, HtmlInputElement};

    /// The element [`RefundScope`] renders around a table.
    const SCOPE: &str = "[data-refund-forms]";

    /// The hidden input that carries the idempotency key.
    const KEY_INPUT: &str = "input[name=\"form[idempotency_key]\"]";

    /// Listens for the forms' `toggle` and `submit` events on the element around `marker`.
    pub(super) fn listen(marker: &web_sys::HtmlSpanElement) {
        let Some(scope) = marker.closest(SCOPE).ok().flatten() else {
            leptos::logging::error!("The refund forms' island found no table around it.");
            return;
        };
        // `toggle` does not bubble, so it is caught on its way down (capture).
        let on_toggle = Closure::<dyn Fn(Event)>::new(on_toggle);
        let on_submit = Closure::<dyn Fn(Event)>::new(on_submit);
        let _ = scope.add_event_listener_with_callback_and_bool("toggle", on_toggle.as_ref().unchecked_ref(), true);
        let _ = scope.add_event_listener_with_callback("submit", on_submit.as_ref().unchecked_ref());
        // The table lives as long as the page: so do its listeners.
        on_toggle.forget();
        on_submit.forget();
    }

    /// A fresh key each time a form opens: the refund it submits is made once at Stripe, however
    /// often it is sent.
    fn on_toggle(ev: Event) {
        let details = ev.target().and_then(|t| t.dyn_into::<HtmlDetailsElement>().ok());
        let Some(details) = details.filter(|d| d.open() && d.class_list().contains("refund-control")) else { return };
        if let Some(key) = key_input(&details) {
            key.set_value(&new_key());
        }
    }

    /// A refund form's submit: in place, one request at a time, the outcome in the form.
    fn on_submit(ev: Event) {
        let form = ev.target().and_then(|t| t.dyn_into::<HtmlFormElement>().ok());
        let Some(form) = form.filter(|f| f.class_list().contains("refund-form")) else { return };
        ev.prevent_default();
        let button = form.query_selector("button[type=submit]").ok().flatten();
        let Some(button) = button.and_then(|b| b.dyn_into::<HtmlButtonElement>().ok()) else { return };
        // One request at a time per form.
        if button.disabled() {
            return;
        }
        // A form opened before the island hydrated has no key yet.
        if let Some(key) = key_input(&form).filter(|k| k.value().is_empty()) {
            key.set_value(&new_key());
        }
        let slot = form.query_selector(".refund-result").ok().flatten();
        let args = match RefundPayment::from_event(&ev) {
            Ok(args) => args,
            Err(e) => {
                show(slot.as_ref(), Err(format!("The form could not be read: {e}")));
                return;
            }
        };
        button.set_disabled(true);
        button.set_text_content(Some("Refunding…"));
        leptos::task::spawn_local(async move {
            let RefundPayment { env, form } = args;
            let history =
                format!("/{env}/history{}", crate::model::format::query_string(&[("object", &form.payment_intent_id)]));
            let outcome = refund_payment(env, form).await;
            button.set_disabled(false);
            button.set_text_content(Some("Refund"));
            show(slot.as_ref(), outcome.map(|refund| (refund, history)).map_err(|e| e.to_string()));
        });
    }

    /// The form's idempotency key input, below `el`.
    fn key_input(el: &Element) -> Option<HtmlInputElement> {
        el.query_selector(KEY_INPUT).ok().flatten().and_then(|k| k.dyn_into::<HtmlInputElement>().ok())
    }

    /// A fresh idempotency key; none outside a secure context (plain HTTP to another host),
    /// where `crypto.randomUUID` does not exist and calling it would throw out of the handler:
    /// the server then makes the key, as for a form posted without JavaScript.
    fn new_key() -> String {
        let window = window();
        if !window.is_secure_context() {
            return String::new();
        }
        window.crypto().map(|c| c.random_uuid()).unwrap_or_default()
    }

    /// Replaces what the form's result slot says: the refund made (and a link to the payment's
    /// history, where Stripe's event will show it) or the error.
    fn show(slot: Option<&Element>, outcome: Result<(Refund, String), String>) {
        let (Some(slot), Ok(p)) = (slot, document().create_element("p")) else { return };
        match outcome {
            Ok((refund, history)) => {
                let _ = p.set_attribute("class", "ok-text small");
                let _ = p.set_attribute("role", "status");
                let _ = p.set_attribute("data-testid", "refund-done");
                p.set_text_content(Some(&format!(
                    "Refunded {} ({}, {}). The row updates when Stripe's event arrives: ",
                    money(refund.amount, &refund.currency),
                    refund.stripe_refund_id,
                    refund.status
                )));
                if let Ok(link) = document().create_element("a") {
                    let _ = link.set_attribute("href", &history);
                    link.set_text_content(Some("this payment's history"));
                    let _ = p.append_child(&link);
                }
            }
            Err(message) => {
                let _ = p.set_attribute("class", "error-text small");
                let _ = p.set_attribute("role", "alert");
                let _ = p.set_attribute("data-testid", "refund-error");
                p.set_text_content(Some(&message));
            }
        }
        slot.replace_children_with_node_1(&p);
    }
}
