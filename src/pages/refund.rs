//! Refunding a payment from a history row (admins): the form, and the server function behind it.

use crate::environment::Environment;
use crate::error::AppError;
use crate::model::format::{money, plain_amount, query_string};
use crate::services::refunds::RefundForm;
use leptos::prelude::*;
use payments_model::{Refund, RefundReason};

/// Refunds all or part of a payment at Stripe. Admins only; in live mode the form must carry the
/// typed `live`. The history row changes when Stripe's event about the refund arrives.
#[server(prefix = "/api/console", endpoint = "admin-refund")]
pub async fn refund_payment(env: Environment, form: RefundForm) -> Result<Refund, AppError> {
    let user = crate::auth::ssr::require_admin()?;
    let refund = form.parse(env).map_err(AppError::Invalid)?;
    Ok(crate::server::state::app_state().backend.create_refund(&user, env, &refund).await?)
}

/// A fresh idempotency key, made when the form opens (in the browser; the server makes one
/// for forms posted without JavaScript).
fn new_key() -> String {
    #[cfg(feature = "hydrate")]
    if let Some(uuid) = web_sys::window().and_then(|w| w.crypto().ok()).map(|c| c.random_uuid()) {
        return uuid;
    }
    String::new()
}

/// "Refund…" on a history row: a disclosure with the amount (what is left, by default), the
/// reason and, in live mode, the typed confirmation. Works as a plain form without JavaScript.
/// An island: the history page around it hydrates nothing else (`crate::app::Hydration`). A lazily
/// loaded one, so only the pages that show it download its code (`crate::pages::lazy`).
#[island(lazy)]
pub fn RefundControl(
    env: Environment,
    /// `pi_…` of the payment.
    payment_intent_id: String,
    currency: String,
    /// What is left to refund, in minor units.
    left: i64,
) -> impl IntoView {
    let action = ServerAction::<RefundPayment>::new();
    let key = RwSignal::new(String::new());
    let live = env == Environment::Live;
    let history_href = format!("/{env}/history{}", query_string(&[("object", &payment_intent_id)]));
    let up_to = money(left, &currency);
    let result = move || {
        action.value().get().map(|r| match r {
            Ok(refund) => view! {
                <p class="ok-text small" role="status" data-testid="refund-done">
                    {format!("Refunded {} ({}, {}). ", money(refund.amount, &refund.currency), refund.stripe_refund_id, refund.status)}
                    "The row updates when Stripe's event arrives: "
                    <a href=history_href.clone()>"this payment's history"</a>
                </p>
            }
            .into_any(),
            Err(e) => view! { <p class="error-text small" role="alert" data-testid="refund-error">{e.to_string()}</p> }.into_any(),
        })
    };
    view! {
        <details class="refund-control" on:toggle=move |_| key.set(new_key())>
            <summary data-testid="refund-open">"Refund…"</summary>
            <ActionForm action attr:class="refund-form" attr:data-testid="refund-form">
                <input type="hidden" name="env" value=env.as_str() />
                <input type="hidden" name="form[payment_intent_id]" value=payment_intent_id.clone() />
                <input type="hidden" name="form[currency]" value=currency.clone() />
                <input type="hidden" name="form[idempotency_key]" prop:value=move || key.get() />
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
                {live.then(|| view! {
                    <label>
                        <span>"This refunds real money. Type " <strong>"live"</strong> " to confirm."</span>
                        <input type="text" name="form[confirm]" autocomplete="off" data-testid="refund-confirm" />
                    </label>
                })}
                <button type="submit" class="button-danger" data-testid="refund-submit" disabled=move || action.pending().get()>
                    {move || if action.pending().get() { "Refunding…" } else { "Refund" }}
                </button>
                {result}
            </ActionForm>
        </details>
    }
    .into_any()
}
