//! Products: the list with its filters applied, a product's card with its prices, and its
//! controls, which are forms (`crate::ui::enhance`) or links that open an editor ([`super::editor`]);
//! delete offers to deactivate instead where Stripe would refuse it.

use super::prices::PriceTable;
use super::{
    matches_search, CatalogQuery, CatalogView, DeleteProductForm, EditTarget, IdChip, ObjectForm, ProductActiveForm,
};
use crate::environment::Environment;
use crate::ui::enhance::Confirmation;
use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use payments_model::{Price, Product};

/// The products passing the filters, each with its prices.
#[component]
pub(super) fn ProductList(view: CatalogView, query: CatalogQuery, can_write: bool, env: Environment) -> impl IntoView {
    let CatalogView { catalog, connected, .. } = view;
    if !connected {
        return view! {
            <div class="notice catalog-empty" data-testid="catalog-not-connected">
                <p>
                    <strong>{format!("{} has no Stripe key.", env.label())}</strong>
                    " Products and prices appear here once a secret key is set and the catalog is synced."
                </p>
                {if can_write {
                    view! { <p><a href=format!("/{env}/keys")>"Set a key →"</a></p> }.into_any()
                } else {
                    view! { <p class="muted">"Ask an admin to set one."</p> }.into_any()
                }}
            </div>
        }
        .into_any();
    }
    let total = catalog.products.len();
    let shown: Vec<(Product, Vec<Price>)> = catalog
        .products
        .iter()
        .filter(|p| query.active.admits(p.active))
        .filter_map(|p| {
            let prices: Vec<&Price> = catalog
                .prices
                .iter()
                .filter(|pr| pr.stripe_product_id.as_deref() == Some(&p.stripe_product_id))
                .collect();
            matches_search(p, &prices, &query.q).then(|| (p.clone(), prices.into_iter().cloned().collect()))
        })
        .collect();
    let count =
        if shown.len() == total { format!("{total} products") } else { format!("{} of {total} products", shown.len()) };
    let list = if shown.is_empty() {
        let message = if total == 0 { "No products yet." } else { "No products match these filters." };
        view! { <p class="card catalog-empty" data-testid="catalog-empty">{message}</p> }.into_any()
    } else {
        shown
            .into_iter()
            .map(|(product, prices)| {
                let open = query.product.as_deref() == Some(product.stripe_product_id.as_str());
                view! { <ProductCard product prices open query=query.clone() can_write env /> }
            })
            .collect_view()
            .into_any()
    };
    let new_product = format!("/{env}/catalog{}", query.editing(None, EditTarget::NewProduct));
    view! {
        <div class="catalog-toolbar">
            <span class="muted" data-testid="catalog-count">{count}</span>
            {can_write.then(|| view! {
                <span class="catalog-toolbar-actions">
                    // Copying goes from test to live: offered in test mode (to admins).
                    {(env == Environment::Test).then(|| view! {
                        <a class="button-secondary" href="/test/catalog/copy" data-testid="copy-to-live">
                            "Copy to live…"
                        </a>
                    })}
                    <a class="button-primary" href=new_product data-testid="new-product">"New product"</a>
                </span>
            })}
        </div>
        <div class="catalog-products" data-testid="catalog-products">{list}</div>
    }
    .into_any()
}

/// One product: its name, status and id; expanded, its details, actions and prices. Its toggle
/// is a link to the address with it expanded (or not), read in place (`data-in-place`).
#[component]
fn ProductCard(
    product: Product,
    prices: Vec<Price>,
    open: bool,
    query: CatalogQuery,
    can_write: bool,
    env: Environment,
) -> impl IntoView {
    let id = product.stripe_product_id.clone();
    let toggle_href = format!("/{env}/catalog{}", query.with_product((!open).then_some(id.as_str())));
    let price_count = prices.len();
    let active_prices = prices.iter().filter(|p| p.active).count();
    let panel_id = format!("product-panel-{id}");
    let details = open.then(|| {
        view! {
            <ProductDetails product=product.clone() prices=prices.clone() panel_id=panel_id.clone() query can_write env />
        }
    });
    view! {
        <article
            class="card catalog-product"
            class:catalog-product-open=open
            class:catalog-product-inactive=!product.active
            data-testid="product"
            data-product-id=id.clone()
        >
            <header class="catalog-product-head">
                <a
                    class="catalog-toggle"
                    id=format!("toggle-{id}")
                    href=toggle_href
                    data-in-place=""
                    aria-expanded=if open { "true" } else { "false" }
                    aria-controls=panel_id
                    data-testid="product-toggle"
                >
                    <span class="catalog-caret" aria-hidden="true">{if open { "▾" } else { "▸" }}</span>
                    <span class="catalog-product-name" data-testid="product-name">{product.name.clone()}</span>
                </a>
                {sale_badge(product.active, price_count, active_prices)}
                <span class="muted catalog-price-count">
                    {match price_count {
                        0 => "no prices".to_string(),
                        1 => "1 price".to_string(),
                        n if active_prices == n => format!("{n} prices"),
                        n => format!("{n} prices, {active_prices} active"),
                    }}
                </span>
                <IdChip id=id.clone() />
            </header>
            {product.description.clone().filter(|d| !d.is_empty()).map(|d| {
                view! { <p class="catalog-description" data-testid="product-description">{d}</p> }
            })}
            {details}
        </article>
    }
    .into_any()
}

/// A green or grey status badge.
/// Whether a product can be bought, as its badge says it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SaleState {
    /// Active, with at least one active price.
    ForSale,
    /// Active, but no active price: no checkout can buy it.
    NoActivePrice,
    /// Archived.
    Inactive,
}

impl SaleState {
    fn of(active: bool, active_prices: usize) -> Self {
        match (active, active_prices) {
            (false, _) => SaleState::Inactive,
            (true, 0) => SaleState::NoActivePrice,
            (true, _) => SaleState::ForSale,
        }
    }
}

/// The product's badge: green only when it can be bought; an active product whose prices are
/// all archived (or that has none) says so instead (issue #15, defect 3).
fn sale_badge(active: bool, prices: usize, active_prices: usize) -> impl IntoView {
    let (class, text, title) = match SaleState::of(active, active_prices) {
        SaleState::ForSale => ("badge badge-ok", "Active", ""),
        SaleState::NoActivePrice if prices == 0 => {
            ("badge badge-warn", "Not for sale", "Active, but it has no price: no checkout can buy it.")
        }
        SaleState::NoActivePrice => {
            ("badge badge-warn", "Not for sale", "Active, but all its prices are archived: no checkout can buy it.")
        }
        SaleState::Inactive => ("badge", "Inactive", ""),
    };
    view! { <span class=class title=title data-testid="status-badge">{text}</span> }
}

pub(super) fn status_badge(on: bool, yes: &'static str, no: &'static str) -> impl IntoView {
    view! {
        <span class=if on { "badge badge-ok" } else { "badge" } data-testid="status-badge">
            {if on { yes } else { no }}
        </span>
    }
}

/// What "Delete product" can do, known before anything is sent: Stripe refuses to delete a
/// product that has prices (they cannot be deleted either), so the dialog offers what can be
/// done instead of a delete that can only fail.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum DeletePlan {
    /// No prices: a real delete.
    Delete,
    /// Prices, still active: deactivate it instead (it stays in Stripe, but cannot be bought).
    Deactivate,
    /// Prices, already inactive: there is nothing left to do.
    Impossible,
}

impl DeletePlan {
    fn of(active: bool, has_prices: bool) -> Self {
        match (has_prices, active) {
            (false, _) => DeletePlan::Delete,
            (true, true) => DeletePlan::Deactivate,
            (true, false) => DeletePlan::Impossible,
        }
    }

    /// The `data-delete-plan` of the delete button (for tests and styling).
    fn as_str(self) -> &'static str {
        match self {
            DeletePlan::Delete => "delete",
            DeletePlan::Deactivate => "deactivate",
            DeletePlan::Impossible => "impossible",
        }
    }
}

/// Why a product with prices cannot be deleted.
const HAS_PRICES: &str = "Stripe does not delete a product that has prices (prices cannot be deleted either).";

/// An expanded product: metadata, admin actions and the prices.
#[component]
fn ProductDetails(
    product: Product,
    prices: Vec<Price>,
    panel_id: String,
    query: CatalogQuery,
    can_write: bool,
    env: Environment,
) -> impl IntoView {
    let metadata = (!product.metadata.is_empty()).then(|| {
        view! {
            <dl class="catalog-meta" data-testid="product-metadata">
                {product
                    .metadata
                    .iter()
                    .map(|(k, v)| view! { <dt><code>{k.clone()}</code></dt><dd>{v.clone()}</dd> })
                    .collect_view()}
            </dl>
        }
    });
    let id = product.stripe_product_id.clone();
    let actions = can_write.then(|| {
        let plan = DeletePlan::of(product.active, !prices.is_empty());
        let delete_action = match plan {
            DeletePlan::Impossible => view! {
                <p class="muted catalog-delete-note" data-testid="delete-impossible">
                    {HAS_PRICES} " It is already inactive, so it can no longer be bought."
                </p>
            }
            .into_any(),
            _ => view! { <DeleteForm env plan id=id.clone() name=product.name.clone() /> }.into_any(),
        };
        let edit = format!("/{env}/catalog{}", query.editing(Some(&id), EditTarget::EditProduct));
        view! {
            <div class="catalog-actions">
                <a class="button-secondary" href=edit data-testid="edit-product">"Edit product"</a>
                {(!product.active).then(|| view! {
                    <ActivateForm env id=id.clone() name=product.name.clone() />
                })}
                {delete_action}
            </div>
        }
    });
    view! {
        <div class="catalog-product-body" id=panel_id>
            {metadata}
            {actions}
            <PriceTable product=product.clone() prices query can_write env />
        </div>
    }
    .into_any()
}

/// "Delete product": a delete where Stripe allows it, otherwise (the product has prices) an offer
/// to deactivate it instead, in the dialog itself; each outcome is one toast.
#[component]
fn DeleteForm(env: Environment, plan: DeletePlan, id: String, name: String) -> impl IntoView {
    let (action, done, failed, confirm, active) = match plan {
        DeletePlan::Deactivate => (
            ProductActiveForm::url(),
            format!("Product “{name}” deactivated."),
            format!("“{name}” was not deactivated"),
            Confirmation {
                title: format!("Deactivate {name} instead?"),
                message: format!(
                    "{HAS_PRICES} Deactivate “{name}” ({id}) instead: it stays in Stripe with its prices, but can no longer be bought."
                ),
                label: "Deactivate product".to_owned(),
                destructive: false,
            },
            Some(false),
        ),
        // Prices were added since the page was read: the refusal says so, and the page read
        // again offers to deactivate it instead.
        _ => (
            DeleteProductForm::url(),
            format!("Product “{name}” deleted."),
            format!("“{name}” was not deleted"),
            Confirmation {
                title: format!("Delete {name}?"),
                message: format!("“{name}” ({id}) will be deleted from Stripe. This cannot be undone."),
                label: "Delete product".to_owned(),
                destructive: true,
            },
            None,
        ),
    };
    view! {
        <ObjectForm env id action done failed confirm active class="button-danger" testid="delete-product" label="Delete product" plan=plan.as_str() />
    }
}

/// "Activate" for an inactive product (confirmed by typing `live` in live mode).
#[component]
fn ActivateForm(env: Environment, id: String, name: String) -> impl IntoView {
    let confirm = (env == Environment::Live).then(|| Confirmation {
        title: format!("Activate {name}?"),
        message: format!("“{name}” can be bought again."),
        label: "Activate product".to_owned(),
        destructive: false,
    });
    let (done, failed) = (format!("Product “{name}” activated."), format!("“{name}” was not activated"));
    view! {
        <ObjectForm env id action=ProductActiveForm::url() done failed confirm active=Some(true) class="button-secondary" testid="activate-product" label="Activate" />
    }
}

#[cfg(test)]
mod tests {
    use super::{DeletePlan, SaleState};

    #[test]
    fn only_a_product_without_prices_is_offered_a_delete() {
        assert_eq!(DeletePlan::of(true, false), DeletePlan::Delete);
        assert_eq!(DeletePlan::of(false, false), DeletePlan::Delete);
        assert_eq!(DeletePlan::of(true, true), DeletePlan::Deactivate);
        assert_eq!(DeletePlan::of(false, true), DeletePlan::Impossible);
    }

    #[test]
    fn only_a_product_with_an_active_price_is_for_sale() {
        assert_eq!(SaleState::of(true, 1), SaleState::ForSale);
        assert_eq!(SaleState::of(true, 0), SaleState::NoActivePrice);
        assert_eq!(SaleState::of(false, 2), SaleState::Inactive);
    }
}
