//! Prices: the table of a product's prices, its rows' controls (links to their editors,
//! [`super::editor`], and the archive and restore forms), and how a price reads.

use super::products::status_badge;
use super::{ArchivePriceForm, CatalogQuery, EditTarget, IdChip, ObjectForm, RestorePriceForm};
use crate::environment::Environment;
use crate::model::format::money;
use crate::ui::enhance::Confirmation;
use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use payments_model::{BillingScheme, Price, PriceType, Product, RecurringInterval};

/// "month", "3 months", …
fn every(interval: &str, count: i64) -> String {
    if count == 1 {
        interval.to_owned()
    } else {
        format!("{count} {interval}s")
    }
}

/// How often a price bills: `None` for one-time, `Some("/ month")`, `Some("every 3 months")`.
pub(super) fn recurrence(interval: Option<&str>, count: Option<i64>) -> Option<String> {
    let interval = interval?;
    Some(match count.unwrap_or(1) {
        1 => format!("/ {interval}"),
        n => format!("every {}", every(interval, n)),
    })
}

/// The amount with its recurrence: `$12.00 / month`, `$29.00 every 3 months`, `€9.00`.
pub(super) fn price_label(price: &Price) -> String {
    let amount = match (price.unit_amount, &price.unit_amount_decimal) {
        (Some(a), _) => money(a, &price.currency),
        (None, Some(d)) => format!("{d} (minor units) {}", price.currency.to_uppercase()),
        (None, None) => "—".to_owned(),
    };
    match recurrence(price.recurring_interval.as_ref().map(RecurringInterval::as_str), price.recurring_interval_count) {
        Some(r) => format!("{amount} {r}"),
        None => amount,
    }
}

/// Whether a price's amount can be changed ("Change amount"): a fixed amount, not tiers.
pub(super) fn has_fixed_amount(price: &Price) -> bool {
    price.unit_amount.is_some() && price.billing_scheme != Some(BillingScheme::Tiered)
}

/// A product's prices, active ones first.
#[component]
pub(super) fn PriceTable(
    product: Product,
    prices: Vec<Price>,
    query: CatalogQuery,
    can_write: bool,
    env: Environment,
) -> impl IntoView {
    let mut prices = prices;
    prices.sort_by_key(|p| !p.active);
    let default_price = product.default_price_id.clone();
    let columns = if can_write { 5 } else { 4 };
    let id = product.stripe_product_id.clone();
    let add = format!("/{env}/catalog{}", query.editing(Some(&id), EditTarget::NewPrice));
    view! {
        <section class="catalog-prices" aria-label=format!("Prices of {}", product.name)>
            <div class="catalog-prices-head">
                <h3>"Prices"</h3>
                {can_write.then(|| view! {
                    <a class="button-primary" href=add data-testid="add-price">"Add price"</a>
                })}
            </div>
            <div class="catalog-table-wrap">
                <table class="data-table catalog-price-table" data-testid="price-table">
                    <thead>
                        <tr>
                            <th scope="col">"Price"</th>
                            <th scope="col">"Lookup key"</th>
                            <th scope="col">"Tax behaviour"</th>
                            <th scope="col">"Status"</th>
                            {can_write.then(|| view! { <th scope="col"><span class="catalog-sr-only">"Actions"</span></th> })}
                        </tr>
                    </thead>
                    <tbody>
                        {prices.is_empty().then(|| view! {
                            <tr><td colspan=columns class="empty">"No prices yet."</td></tr>
                        })}
                        {prices
                            .into_iter()
                            .map(|price| {
                                let is_default = default_price.as_deref() == Some(price.stripe_price_id.as_str());
                                view! { <PriceRow price is_default product_id=id.clone() query=query.clone() can_write env /> }
                            })
                            .collect_view()}
                    </tbody>
                </table>
            </div>
        </section>
    }
    .into_any()
}

#[component]
fn PriceRow(
    price: Price,
    is_default: bool,
    product_id: String,
    query: CatalogQuery,
    can_write: bool,
    env: Environment,
) -> impl IntoView {
    let label = price_label(&price);
    // Anything not recurring reads as one-time, as it always has (an unknown type included).
    let shown = if price.price_type == PriceType::Recurring { PriceType::Recurring } else { PriceType::OneTime };
    let kind = shown.label().to_owned();
    let id = price.stripe_price_id.clone();
    let actions = can_write.then(|| {
        let fixed = has_fixed_amount(&price);
        let href = |edit| format!("/{env}/catalog{}", query.editing(Some(&product_id), edit));
        let edit = href(EditTarget::EditPrice(id.clone()));
        let change = href(EditTarget::ChangeAmount(id.clone()));
        view! {
            <td class="catalog-row-actions">
                <div class="catalog-row-buttons">
                    <a class="button-secondary" href=edit data-testid="edit-price">"Edit"</a>
                    {fixed.then(|| view! {
                        <a class="button-secondary" href=change data-testid="change-amount">"Change amount"</a>
                    })}
                    {if price.active {
                        view! { <ArchiveForm env id=id.clone() label=label.clone() /> }.into_any()
                    } else {
                        view! { <RestoreForm env id=id.clone() label=label.clone() /> }.into_any()
                    }}
                </div>
            </td>
        }
    });
    view! {
        <tr data-testid="price" data-price-id=id.clone() class:catalog-archived=!price.active>
            <td>
                <div class="catalog-amount" data-testid="price-amount">
                    {label.clone()}
                    {is_default.then(|| view! { " " <span class="badge" title="The product's default price">"default"</span> })}
                </div>
                <div class="catalog-price-sub">
                    <span data-testid="price-type">{kind}</span>
                    <IdChip id=id.clone() />
                </div>
            </td>
            <td data-testid="price-lookup-key">
                {match price.lookup_key.clone() {
                    Some(k) => view! { <code>{k}</code> }.into_any(),
                    None => view! { <span class="muted">"—"</span> }.into_any(),
                }}
            </td>
            <td data-testid="price-tax">{price.tax().to_string()}</td>
            <td data-testid="price-status">{status_badge(price.active, "Active", "Archived")}</td>
            {actions}
        </tr>
    }
    .into_any()
}

/// "Archive", confirmed first (it stops new purchases).
#[component]
fn ArchiveForm(env: Environment, id: String, label: String) -> impl IntoView {
    let confirm = Confirmation {
        title: format!("Archive {label}?"),
        message: format!(
            "The price {id} can no longer be used for new purchases. Existing subscriptions keep it. You can restore it later."
        ),
        label: "Archive price".to_owned(),
        destructive: true,
    };
    let (action, done) = (ArchivePriceForm::url(), format!("Price {label} archived."));
    view! {
        <ObjectForm env id action done failed="The price was not archived" confirm class="button-danger" testid="archive-price" label="Archive" />
    }
}

/// "Restore" for an archived price (confirmed by typing `live` in live mode).
#[component]
fn RestoreForm(env: Environment, id: String, label: String) -> impl IntoView {
    let confirm = (env == Environment::Live).then(|| Confirmation {
        title: format!("Restore {label}?"),
        message: format!("The price {id} can be used for new purchases again."),
        label: "Restore price".to_owned(),
        destructive: false,
    });
    let (action, done) = (RestorePriceForm::url(), format!("Price {label} restored."));
    view! {
        <ObjectForm env id action done failed="The price was not restored" confirm class="button-secondary" testid="restore-price" label="Restore" />
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recurrence_reads_naturally() {
        assert_eq!(recurrence(None, None), None);
        assert_eq!(recurrence(Some("month"), Some(1)).as_deref(), Some("/ month"));
        assert_eq!(recurrence(Some("month"), None).as_deref(), Some("/ month"));
        assert_eq!(recurrence(Some("month"), Some(3)).as_deref(), Some("every 3 months"));
        assert_eq!(recurrence(Some("week"), Some(2)).as_deref(), Some("every 2 weeks"));
    }
}
