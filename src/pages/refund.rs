//! Refunding a payment from a history row (admins): the link that opens a row's form, the form,
//! the server function behind it, and the island that opens and submits a table's forms in place.

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

/// What a refund form is for: the payment and what is left of it, as the form shows them.
#[derive(Clone, Debug, Default)]
struct RefundTarget {
    /// `pi_…` of the payment.
    payment_intent_id: String,
    currency: String,
    /// What is left to refund, as typed into the amount field (`12.50`).
    amount: String,
    /// The same, as money (`$12.50`).
    up_to: String,
}

/// "Refund…" on a history row: a link to the page with this row's refund form open
/// (`?refund=pi_…`), and that form when the address names it. Without JavaScript the link opens
/// the form by a page load and the form posts as a plain form (the server makes the idempotency
/// key then). Once the table's [`RefundForms`] has hydrated, the link opens and closes the form
/// in place, made from the table's one `<template>` ([`RefundScope`]) with what the link carries,
/// and the form is submitted in place.
///
/// A link rather than a form per row (in a `<details>`, as before): a page of payments with a
/// form in each refundable row cost the browser about 200 ms more of a CPU slowed 4x before it
/// had parsed the page (the history, 9 forms of 7 fields each; `README.md`, "What the slowest
/// pages waited for"): browsers style, lay out and look through every form once it is parsed.
#[component]
pub fn RefundControl(
    env: Environment,
    /// `pi_…` of the payment.
    payment_intent_id: String,
    currency: String,
    /// What is left to refund, in minor units.
    left: i64,
    /// The page's address with this row's form open.
    open_href: String,
    /// The page's address without a form open.
    close_href: String,
    /// Whether the address names this row (`?refund=pi_…`): the form is then part of the page.
    open: bool,
) -> impl IntoView {
    let target = RefundTarget {
        amount: plain_amount(left, &currency),
        up_to: money(left, &currency),
        payment_intent_id,
        currency,
    };
    view! {
        <a
            href=open_href
            class="refund-open"
            aria-expanded=if open { "true" } else { "false" }
            data-testid="refund-open"
            data-pi=target.payment_intent_id.clone()
            data-currency=target.currency.clone()
            data-amount=target.amount.clone()
            data-up-to=target.up_to.clone()
        >
            "Refund…"
        </a>
        {open.then(|| view! { <RefundFormView env target close_href /> })}
    }
}

/// The refund form: the amount (what is left, by default), the reason and, in live mode, the
/// typed confirmation. `target` is empty in the table's template, which the island fills.
#[component]
fn RefundFormView(env: Environment, target: RefundTarget, close_href: String) -> impl IntoView {
    view! {
        <form action=RefundPayment::url() method="post" class="refund-form" data-testid="refund-form">
            <input type="hidden" name="env" value=env.as_str() />
            <input type="hidden" name="form[payment_intent_id]" value=target.payment_intent_id />
            <input type="hidden" name="form[currency]" value=target.currency.clone() />
            <input type="hidden" name="form[idempotency_key]" value="" />
            <label>
                <span>"Amount (" <span class="refund-currency">{target.currency.to_ascii_uppercase()}</span> ")"</span>
                <input type="text" inputmode="decimal" name="form[amount]" value=target.amount data-testid="refund-amount" />
                <span class="muted small">"Up to " <span class="refund-up-to">{target.up_to}</span> "; empty refunds all that is left."</span>
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
            <div class="refund-actions">
                <button type="submit" class="button-danger" data-testid="refund-submit">"Refund"</button>
                <a href=close_href class="refund-cancel" data-testid="refund-cancel">"Cancel"</a>
            </div>
            <div class="refund-result" aria-live="polite"></div>
        </form>
    }
}

/// The element around a table of payments with refund controls, the table's one form as a
/// `<template>`, and the island that opens and submits its forms: `scope` is true when the table
/// has any ([`RefundControl`]). `close_href` is the page's address without a form open.
///
/// One island per table that listens on the table's wrapper (event delegation), rather than an
/// island per row: the rows stay server-rendered HTML, and a page of 25 payments hydrates one
/// small handler from the main module instead of downloading a lazily loaded form and
/// hydrating it 25 times (issue #13; `README.md`, "What the browser downloads"). A template's
/// content is parsed but never styled, laid out or looked through as a form.
#[component]
pub fn RefundScope(env: Environment, scope: bool, close_href: String, children: Children) -> impl IntoView {
    view! {
        <div class="table-scroll" data-refund-forms=scope.then_some("")>
            {scope.then(|| view! {
                <template data-refund-template="">
                    <RefundFormView env target=RefundTarget::default() close_href />
                </template>
                <RefundForms />
            })}
            {children()}
        </div>
    }
}

/// Opens the refund forms of the element around it ([`RefundScope`]'s) in place, submits them
/// with the server function, shows the outcome in the form, and gives each form a fresh
/// idempotency key when it opens, so a double submit refunds once. Renders nothing visible: a
/// hidden marker from which it finds that element once hydrated.
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
    use web_sys::{
        Element, Event, HtmlButtonElement, HtmlElement, HtmlFormElement, HtmlInputElement, HtmlTemplateElement,
        MouseEvent,
    };

    /// The element [`RefundScope`] renders around a table.
    const SCOPE: &str = "[data-refund-forms]";

    /// The table's form, which the island copies for each row it opens.
    const TEMPLATE: &str = "template[data-refund-template]";

    /// A form's amount field.
    const AMOUNT_INPUT: &str = "input[name=\"form[amount]\"]";

    /// The hidden input that carries the idempotency key.
    const KEY_INPUT: &str = "input[name=\"form[idempotency_key]\"]";

    /// Listens for the links' and the forms' `click` and `submit` events on the element around
    /// `marker`.
    pub(super) fn listen(marker: &web_sys::HtmlSpanElement) {
        let Some(scope) = marker.closest(SCOPE).ok().flatten() else {
            leptos::logging::error!("The refund forms' island found no table around it.");
            return;
        };
        let on_click = {
            let scope = scope.clone();
            Closure::<dyn Fn(MouseEvent)>::new(move |ev: MouseEvent| on_click(&scope, ev))
        };
        let on_submit = Closure::<dyn Fn(Event)>::new(on_submit);
        let _ = scope.add_event_listener_with_callback("click", on_click.as_ref().unchecked_ref());
        let _ = scope.add_event_listener_with_callback("submit", on_submit.as_ref().unchecked_ref());
        // The table lives as long as the page: so do its listeners.
        on_click.forget();
        on_submit.forget();
    }

    /// "Refund…" opens or closes its row's form in place, and "Cancel" closes it. A click that
    /// asks for a new tab or window (a modifier key, another button) is left to the browser,
    /// which opens the link's address: the page with that form open.
    fn on_click(scope: &Element, ev: MouseEvent) {
        if ev.button() != 0 || ev.ctrl_key() || ev.meta_key() || ev.shift_key() || ev.alt_key() {
            return;
        }
        let Some(target) = ev.target().and_then(|t| t.dyn_into::<Element>().ok()) else { return };
        if let Some(link) = target.closest("a.refund-open").ok().flatten() {
            ev.prevent_default();
            match form_after(&link) {
                Some(form) if !form.hidden() => close(&link, &form),
                Some(form) => open(&link, &form),
                None => {
                    if let Some(form) = from_template(scope, &link) {
                        let _ = link.after_with_node_1(&form);
                        open(&link, &form);
                    }
                }
            }
        } else if let Some(cancel) = target.closest("a.refund-cancel").ok().flatten() {
            let form = cancel.closest("form.refund-form").ok().flatten();
            let Some(form) = form.and_then(|f| f.dyn_into::<HtmlElement>().ok()) else { return };
            let Some(link) = form.previous_element_sibling().filter(|l| l.class_list().contains("refund-open")) else {
                return;
            };
            ev.prevent_default();
            close(&link, &form);
            if let Some(link) = link.dyn_ref::<HtmlElement>() {
                let _ = link.focus();
            }
        }
    }

    /// The form a "Refund…" link opened, if it has been opened (by the island or the address).
    fn form_after(link: &Element) -> Option<HtmlElement> {
        link.next_element_sibling()
            .filter(|f| f.class_list().contains("refund-form"))
            .and_then(|f| f.dyn_into::<HtmlElement>().ok())
    }

    /// A new form from the table's template, for the payment the link names.
    fn from_template(scope: &Element, link: &Element) -> Option<HtmlElement> {
        let template = scope.query_selector(TEMPLATE).ok().flatten()?.dyn_into::<HtmlTemplateElement>().ok()?;
        let form = template.content().first_element_child()?.clone_node_with_deep(true).ok()?;
        let form = form.dyn_into::<HtmlElement>().ok()?;
        let data = |name: &str| link.get_attribute(name).unwrap_or_default();
        let set_value = |selector: &str, value: &str| {
            if let Some(input) =
                form.query_selector(selector).ok().flatten().and_then(|i| i.dyn_into::<HtmlInputElement>().ok())
            {
                input.set_value(value);
                // The attribute too: a form reset goes back to it, as to the server's value.
                let _ = input.set_attribute("value", value);
            }
        };
        set_value("input[name=\"form[payment_intent_id]\"]", &data("data-pi"));
        set_value("input[name=\"form[currency]\"]", &data("data-currency"));
        set_value(AMOUNT_INPUT, &data("data-amount"));
        let set_text = |selector: &str, text: &str| {
            if let Some(el) = form.query_selector(selector).ok().flatten() {
                el.set_text_content(Some(text));
            }
        };
        // ASCII: a currency code is; and `to_uppercase` would bring Unicode's case tables into the
        // main module.
        set_text(".refund-currency", &data("data-currency").to_ascii_uppercase());
        set_text(".refund-up-to", &data("data-up-to"));
        // Its Cancel link is the table's already: the page's address without a form open.
        Some(form)
    }

    /// Shows a row's form with a fresh idempotency key: the refund it submits is made once at
    /// Stripe however often it is sent, and a form opened again is a new request.
    fn open(link: &Element, form: &HtmlElement) {
        form.set_hidden(false);
        let _ = link.set_attribute("aria-expanded", "true");
        if let Some(key) = key_input(form) {
            key.set_value(&new_key());
        }
        if let Some(amount) =
            form.query_selector(AMOUNT_INPUT).ok().flatten().and_then(|a| a.dyn_into::<HtmlElement>().ok())
        {
            let _ = amount.focus();
        }
    }

    /// Hides a row's form; what it said stays, should it be opened again.
    fn close(link: &Element, form: &HtmlElement) {
        form.set_hidden(true);
        let _ = link.set_attribute("aria-expanded", "false");
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
