//! The catalog as pages use it: the labels other pages show, and the catalog page's writes that
//! take more than one backend call ("change the amount").
//!
//! The data types are shared with the browser (the server functions return them); the functions
//! run on the server only.

use payments_model::Price;
use serde::{Deserialize, Serialize};

/// "Change the amount" as asked: which price of which product, the new amount and what to do
/// with the old price.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AmountChangeRequest {
    pub product_id: String,
    pub price_id: String,
    /// In the currency's minor units; negative amounts are refused.
    pub unit_amount: i64,
    /// Move the old price's lookup key to the new price.
    pub move_lookup_key: bool,
    /// Archive the old price once the new one exists.
    pub archive_old: bool,
    /// The form's random key, for the new price's idempotency key.
    pub form_key: Option<String>,
}

/// The result of "change the amount": the new price exists; the rest may have failed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AmountChange {
    pub new_price: Price,
    /// The lookup key that now belongs to the new price.
    pub moved_key: Option<String>,
    /// Whether the old price was archived.
    pub archived_old: bool,
    /// What went wrong after the new price was created, in words for the user.
    pub problems: Vec<String>,
}

#[cfg(feature = "ssr")]
mod ssr {
    use super::*;
    use crate::auth::CurrentUser;
    use crate::backend::ssr::PaymentsBackend;
    use crate::backend::{PriceChanges, PriceDraft, RecurringDraft};
    use crate::environment::Environment;
    use crate::error::AppError;
    use std::collections::BTreeMap;
    use std::sync::Arc;

    /// Labels of the catalog's products (`Pro`) and prices (`Pro · $29.00 / month`), for the
    /// subscription items of the support pages; best-effort (an unreachable catalog gives none).
    pub async fn labels(
        backend: &Arc<dyn PaymentsBackend>,
        user: &CurrentUser,
        env: Environment,
    ) -> BTreeMap<String, String> {
        let Ok(catalog) = backend.catalog(user, env).await else { return BTreeMap::new() };
        let mut labels: BTreeMap<String, String> =
            catalog.products.iter().map(|p| (p.stripe_product_id.clone(), p.name.clone())).collect();
        for price in &catalog.prices {
            let product = price.stripe_product_id.as_ref().and_then(|p| labels.get(p)).cloned().unwrap_or_default();
            let amount = price.unit_amount.map(|a| crate::model::format::money(a, &price.currency)).unwrap_or_default();
            let every = match (price.recurring_interval.as_ref(), price.recurring_interval_count) {
                (Some(i), Some(n)) if n > 1 => format!(" / {n} {i}s"),
                (Some(i), _) => format!(" / {i}"),
                _ => String::new(),
            };
            let label = [product, format!("{amount}{every}")].into_iter().filter(|s| !s.is_empty()).collect::<Vec<_>>();
            labels.insert(price.stripe_price_id.clone(), label.join(" · "));
        }
        labels
    }

    /// The idempotency key of a create: the form's key (random per form opening) with a digest of
    /// what is sent, so a double submit creates one object while a corrected resubmit is a new
    /// request. Without a usable form key, a random one.
    pub fn idempotency_key(form_key: Option<String>, body: &impl Serialize) -> String {
        use crate::server::ids::{random_hex, token_digest};
        let usable =
            |k: &String| !k.is_empty() && k.len() <= 64 && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
        match form_key.filter(usable) {
            Some(key) => {
                let digest = token_digest(&serde_json::to_string(body).unwrap_or_default());
                format!("console-{key}-{}", &digest[..16])
            }
            None => format!("console-{}", random_hex(16)),
        }
    }

    /// "Change the amount" in one step. Stripe prices are immutable in amount, so: a new price
    /// on the same product with the same currency, recurrence, tax behaviour and metadata; the
    /// lookup key optionally moved to it (taken off the old price first, as the contract cannot
    /// ask Stripe to transfer it, and put back if the new price cannot be created); the old
    /// price optionally archived. Failures after the new price exists are reported in
    /// [`AmountChange::problems`]; failures before it are errors and leave the old price as it was.
    pub async fn change_amount(
        backend: &Arc<dyn PaymentsBackend>,
        user: &CurrentUser,
        env: Environment,
        request: AmountChangeRequest,
    ) -> Result<AmountChange, AppError> {
        let AmountChangeRequest { product_id, price_id, unit_amount, move_lookup_key, archive_old, form_key } = request;
        if unit_amount < 0 {
            return Err(AppError::Invalid("The amount cannot be negative.".into()));
        }
        let product = backend.product(user, env, &product_id).await?;
        let old = product.prices.into_iter().find(|p| p.stripe_price_id == price_id).ok_or(AppError::NotFound)?;
        if old.unit_amount.is_none() || old.billing_scheme == Some(payments_model::BillingScheme::Tiered) {
            return Err(AppError::Invalid("Only prices with a fixed amount per unit can be changed here.".into()));
        }
        if old.unit_amount == Some(unit_amount) {
            return Err(AppError::Invalid("That is already the price's amount.".into()));
        }
        let key = if move_lookup_key { old.lookup_key.clone() } else { None };
        let mut draft = PriceDraft {
            stripe_product_id: product_id.clone(),
            currency: old.currency.clone(),
            unit_amount,
            lookup_key: None,
            active: Some(true),
            recurring: old.recurring_interval.clone().map(|interval| RecurringDraft {
                interval: interval.into(),
                interval_count: old.recurring_interval_count,
            }),
            tax_behavior: old.tax_behavior.clone(),
            metadata: (!old.metadata.is_empty()).then(|| old.metadata.clone()),
            idempotency_key: None,
        };
        draft.idempotency_key =
            Some(idempotency_key(form_key, &(&price_id, unit_amount, move_lookup_key, archive_old, &key)));
        draft.lookup_key = key.clone();

        // 1. Free the lookup key: Stripe refuses a key another price holds.
        if let Some(key) = &key {
            let clear = PriceChanges { lookup_key: Some(None), ..Default::default() };
            backend.update_price(user, env, &price_id, &clear).await.map_err(|e| {
                AppError::Invalid(format!(
                    "Nothing was changed: the lookup key “{key}” could not be taken off the old price: {}",
                    AppError::from(e)
                ))
            })?;
        }
        // 2. The new price.
        let new_price = match backend.create_price(user, env, &draft).await {
            Ok(price) => price,
            Err(e) => {
                let cause = AppError::from(e);
                let mut message = format!("The new price was not created: {cause}");
                if let Some(key) = &key {
                    let restore = PriceChanges { lookup_key: Some(Some(key.clone())), ..Default::default() };
                    match backend.update_price(user, env, &price_id, &restore).await {
                        Ok(_) => message.push_str(&format!(" The lookup key “{key}” stays on the old price.")),
                        Err(e) => message.push_str(&format!(
                            " The lookup key “{key}” was taken off the old price and could not be put back ({}): set it again on {price_id}.",
                            AppError::from(e)
                        )),
                    }
                }
                return Err(AppError::Invalid(message));
            }
        };
        // 3. The old price.
        let mut problems = Vec::new();
        let mut archived_old = false;
        if archive_old && old.active {
            match backend.archive_price(user, env, &price_id).await {
                Ok(_) => archived_old = true,
                Err(e) => problems.push(format!(
                    "The new price {} was created, but the old price {price_id} could not be archived: {}",
                    new_price.stripe_price_id,
                    // Worded, not failed: the answer is a success (the new price exists).
                    AppError::from(e)
                )),
            }
        }
        Ok(AmountChange { new_price, moved_key: key, archived_old, problems })
    }
}

#[cfg(feature = "ssr")]
pub use ssr::{change_amount, idempotency_key, labels};
