//! Products: the list with its filters applied, a product's card with its prices, the product
//! form, and delete, which offers to deactivate instead where Stripe would refuse it.

use super::metadata::{self, MetaRows, MetadataEditor};
use super::prices::PriceTable;
use super::{
    catalog_query, edit_product, matches_search, remove_product, use_ctx, ActiveFilter, CatalogView, Ctx, Editor,
    FormError, FormModal, IdChip,
};
use crate::backend::{ProductChanges, ProductDraft};
use crate::environment::Environment;
use crate::error::AppError;
use leptos::prelude::*;
use leptos_router::hooks::use_location;
use payments_model::{Price, Product};

/// The products passing the filters, each with its prices.
#[component]
pub(super) fn ProductList(
    view: CatalogView,
    q: RwSignal<String>,
    active: Memo<ActiveFilter>,
    expanded: Memo<Option<String>>,
) -> impl IntoView {
    let ctx = use_ctx();
    let env = ctx.env;
    let CatalogView { catalog, connected, .. } = view;
    let total = catalog.products.len();
    let catalog = StoredValue::new(catalog);

    if !connected {
        return view! {
            <div class="notice catalog-empty" data-testid="catalog-not-connected">
                <p>
                    <strong>{move || format!("{} has no Stripe key.", env.get().label())}</strong>
                    " Products and prices appear here once a secret key is set and the catalog is synced."
                </p>
                {if ctx.can_write {
                    view! { <p><a href=move || format!("/{}/keys", env.get())>"Set a key →"</a></p> }.into_any()
                } else {
                    view! { <p class="muted">"Ask an admin to set one."</p> }.into_any()
                }}
            </div>
        }
        .into_any();
    }

    let shown = move || {
        let q = q.get();
        let active = active.get();
        catalog.with_value(|c| {
            c.products
                .iter()
                .filter(|p| active.admits(p.active))
                .filter_map(|p| {
                    let prices: Vec<&Price> = c
                        .prices
                        .iter()
                        .filter(|pr| pr.stripe_product_id.as_deref() == Some(&p.stripe_product_id))
                        .collect();
                    matches_search(p, &prices, &q).then(|| (p.clone(), prices.into_iter().cloned().collect::<Vec<_>>()))
                })
                .collect::<Vec<_>>()
        })
    };

    view! {
        <div class="catalog-toolbar">
            <span class="muted" data-testid="catalog-count">
                {move || {
                    let n = shown().len();
                    if n == total { format!("{total} products") } else { format!("{n} of {total} products") }
                }}
            </span>
            {ctx.can_write.then(|| view! {
                <span class="catalog-toolbar-actions">
                    // Copying goes from test to live: offered in test mode (to admins).
                    {move || (env.get() == Environment::Test).then(|| view! {
                        <a class="button-secondary" href="/test/catalog/copy" data-testid="copy-to-live">
                            "Copy to live…"
                        </a>
                    })}
                    <button
                        type="button"
                        class="button-primary"
                        data-testid="new-product"
                        on:click=move |_| ctx.open(Editor::NewProduct)
                    >
                        "New product"
                    </button>
                </span>
            })}
        </div>
        <div class="catalog-products" data-testid="catalog-products">
            {move || {
                let products = shown();
                if products.is_empty() {
                    let message = if total == 0 {
                        "No products yet."
                    } else {
                        "No products match these filters."
                    };
                    return view! { <p class="card catalog-empty" data-testid="catalog-empty">{message}</p> }.into_any();
                }
                products
                    .into_iter()
                    .map(|(product, prices)| {
                        let open = expanded.get().as_deref() == Some(product.stripe_product_id.as_str());
                        view! { <ProductCard product prices open q active /> }
                    })
                    .collect_view()
                    .into_any()
            }}
        </div>
    }
    .into_any()
}

/// One product: its name, status and id; expanded, its details, actions and prices.
#[component]
fn ProductCard(
    product: Product,
    prices: Vec<Price>,
    open: bool,
    q: RwSignal<String>,
    active: Memo<ActiveFilter>,
) -> impl IntoView {
    let location = use_location();
    let id = product.stripe_product_id.clone();
    let toggle_href = {
        let id = id.clone();
        move || {
            let target = if open { None } else { Some(id.as_str()) };
            format!("{}{}", location.pathname.get(), catalog_query(&q.get(), active.get(), target))
        }
    };
    let price_count = prices.len();
    let active_prices = prices.iter().filter(|p| p.active).count();
    let panel_id = format!("product-panel-{id}");
    let details = open.then(|| {
        view! {
            <ProductDetails product=product.clone() prices=prices.clone() panel_id=panel_id.clone() />
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
                    href=toggle_href
                    data-noscroll=""
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
fn ProductDetails(product: Product, prices: Vec<Price>, panel_id: String) -> impl IntoView {
    let ctx = use_ctx();
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
    let actions = ctx.can_write.then(|| {
        let edit = product.clone();
        let delete = product.clone();
        let plan = DeletePlan::of(product.active, !prices.is_empty());
        let delete_action = match plan {
            DeletePlan::Impossible => view! {
                <p class="muted catalog-delete-note" data-testid="delete-impossible">
                    {HAS_PRICES} " It is already inactive, so it can no longer be bought."
                </p>
            }
            .into_any(),
            _ => view! {
                <button
                    type="button"
                    class="button-danger"
                    data-testid="delete-product"
                    data-delete-plan=plan.as_str()
                    on:click=move |_| ask_delete(ctx, &delete, plan)
                >
                    "Delete product"
                </button>
            }
            .into_any(),
        };
        view! {
            <div class="catalog-actions">
                <button
                    type="button"
                    class="button-secondary"
                    data-testid="edit-product"
                    on:click=move |_| ctx.open(Editor::EditProduct(edit.clone()))
                >
                    "Edit product"
                </button>
                {if product.active {
                    None
                } else {
                    let reactivate = product.clone();
                    Some(view! {
                        <button
                            type="button"
                            class="button-secondary"
                            data-testid="activate-product"
                            on:click=move |_| set_active(ctx, &reactivate, true)
                        >
                            "Activate"
                        </button>
                    })
                }}
                {delete_action}
            </div>
        }
    });
    view! {
        <div class="catalog-product-body" id=panel_id>
            {metadata}
            {actions}
            <PriceTable product=product.clone() prices />
        </div>
    }
    .into_any()
}

/// Asks, then deletes a product or, where it has prices, deactivates it instead. Each outcome
/// is one toast.
fn ask_delete(ctx: Ctx, product: &Product, plan: DeletePlan) {
    let id = product.stripe_product_id.clone();
    let name = product.name.clone();
    match plan {
        DeletePlan::Delete => {
            let message = format!("“{name}” ({id}) will be deleted from Stripe. This cannot be undone.");
            ctx.confirmer.ask(format!("Delete {name}?"), message, "Delete product", true, move || {
                let id = id.clone();
                let name = name.clone();
                let env = ctx.env.get_untracked();
                leptos::task::spawn_local(async move {
                    match remove_product(env, id).await {
                        Ok(_) => ctx.toasts.success(format!("Product “{name}” deleted.")),
                        // Prices were added since the page loaded: reloaded, the card offers
                        // to deactivate it instead.
                        Err(AppError::Rejected { message, .. }) => {
                            ctx.toasts.error(format!("Stripe refused to delete “{name}”: {message}"))
                        }
                        Err(e) => ctx.toasts.error(format!("“{name}” was not deleted: {e}")),
                    }
                    ctx.reload();
                });
            });
        }
        DeletePlan::Deactivate => {
            let message = format!(
                "{HAS_PRICES} Deactivate “{name}” ({id}) instead: it stays in Stripe with its prices, but can no longer be bought."
            );
            // The dialog is the confirmation (with the typed one in live mode): no second ask.
            ctx.confirmer.ask(format!("Deactivate {name} instead?"), message, "Deactivate product", false, move || {
                apply_active(ctx, id.clone(), name.clone(), false)
            });
        }
        // No button offers it.
        DeletePlan::Impossible => {}
    }
}

/// Activates or deactivates a product (after the typed confirmation in live mode).
fn set_active(ctx: Ctx, product: &Product, active: bool) {
    let id = product.stripe_product_id.clone();
    let name = product.name.clone();
    let title = if active { "Activate" } else { "Deactivate" };
    ctx.write(
        format!("{title} {name}?"),
        if active {
            format!("“{name}” can be bought again.")
        } else {
            format!("“{name}” stays in Stripe with its prices but can no longer be bought.")
        },
        format!("{title} product"),
        move || apply_active(ctx, id.clone(), name.clone(), active),
    );
}

/// Sends the change of a product's active flag; one toast says how it went.
fn apply_active(ctx: Ctx, id: String, name: String, active: bool) {
    let verb = if active { "activated" } else { "deactivated" };
    let env = ctx.env.get_untracked();
    leptos::task::spawn_local(async move {
        let changes = ProductChanges { active: Some(active), ..Default::default() };
        match edit_product(env, id, changes).await {
            Ok(_) => {
                ctx.toasts.success(format!("Product “{name}” {verb}."));
                ctx.reload();
            }
            Err(e) => ctx.toasts.error(format!("“{name}” was not {verb}: {e}")),
        }
    });
}

/// Creates a product (`existing: None`) or edits one.
#[component]
pub(super) fn ProductForm(existing: Option<Product>) -> impl IntoView {
    let ctx = use_ctx();
    let form_key = ctx.form_key();
    let original = existing.clone();
    let name = RwSignal::new(existing.as_ref().map(|p| p.name.clone()).unwrap_or_default());
    let description = RwSignal::new(existing.as_ref().and_then(|p| p.description.clone()).unwrap_or_default());
    let active = RwSignal::new(existing.as_ref().is_none_or(|p| p.active));
    let rows = MetaRows::new(existing.as_ref().map(|p| &p.metadata).unwrap_or(&Default::default()));
    let error = RwSignal::new(None::<String>);
    let name_error = RwSignal::new(None::<String>);
    let pending = RwSignal::new(false);
    let editing = existing.is_some();

    let submit = move |_| {
        error.set(None);
        let typed_name = name.get_untracked().trim().to_owned();
        if typed_name.is_empty() {
            name_error.set(Some("Enter a name.".into()));
            return;
        }
        name_error.set(None);
        let pairs = rows.pairs();
        if let Err(e) = metadata::check(&pairs) {
            error.set(Some(e));
            return;
        }
        let typed_description = description.get_untracked().trim().to_owned();
        let env = ctx.env.get_untracked();
        match original.clone() {
            None => {
                let draft = ProductDraft {
                    name: typed_name.clone(),
                    description: (!typed_description.is_empty()).then_some(typed_description),
                    active: Some(active.get_untracked()),
                    metadata: metadata::for_create(&pairs),
                    idempotency_key: None,
                };
                let form_key = form_key.clone();
                ctx.write(
                    format!("Create {typed_name}?"),
                    format!("A new product “{typed_name}” will be created in Stripe."),
                    "Create product".into(),
                    move || {
                        let draft = draft.clone();
                        let form_key = form_key.clone();
                        pending.set(true);
                        leptos::task::spawn_local(async move {
                            let name = draft.name.clone();
                            match super::add_product(env, draft, form_key).await {
                                Ok(p) => {
                                    ctx.toasts.success(format!("Product “{name}” created."));
                                    ctx.reload();
                                    ctx.expand.set(Some(p.stripe_product_id));
                                    ctx.close();
                                }
                                Err(e) => {
                                    pending.try_set(false);
                                    error.try_set(Some(e.to_string()));
                                }
                            }
                        });
                    },
                );
            }
            Some(p) => {
                let changes = ProductChanges {
                    name: (typed_name != p.name).then(|| typed_name.clone()),
                    description: (typed_description != p.description.clone().unwrap_or_default())
                        .then(|| (!typed_description.is_empty()).then_some(typed_description)),
                    active: (active.get_untracked() != p.active).then(|| active.get_untracked()),
                    metadata: metadata::changes(&p.metadata, &pairs),
                };
                if changes == ProductChanges::default() {
                    error.set(Some("Nothing has changed.".into()));
                    return;
                }
                let id = p.stripe_product_id.clone();
                ctx.write(
                    format!("Save {}?", p.name),
                    format!("The changes to “{}” will be saved in Stripe.", p.name),
                    "Save changes".into(),
                    move || {
                        let changes = changes.clone();
                        let id = id.clone();
                        pending.set(true);
                        leptos::task::spawn_local(async move {
                            match edit_product(env, id, changes).await {
                                Ok(p) => {
                                    ctx.toasts.success(format!("Product “{}” saved.", p.name));
                                    ctx.reload();
                                    ctx.close();
                                }
                                Err(e) => {
                                    pending.try_set(false);
                                    error.try_set(Some(e.to_string()));
                                }
                            }
                        });
                    },
                );
            }
        }
    };

    let title = match &existing {
        Some(p) => format!("Edit {}", p.name),
        None => "New product".to_string(),
    };
    view! {
        <FormModal title testid="product-form" on_submit=Callback::new(submit)>
            {existing.as_ref().map(|p| view! { <p class="muted">"Product " <IdChip id=p.stripe_product_id.clone() /></p> })}
            <label class="field">
                <span>"Name"</span>
                <input
                    type="text"
                    name="name"
                    required=true
                    maxlength="250"
                    aria-invalid=move || name_error.get().is_some().then_some("true")
                    prop:value=move || name.get()
                    on:input=move |ev| name.set(event_target_value(&ev))
                />
                {move || name_error.get().map(|e| view! { <span class="field-error">{e}</span> })}
            </label>
            <label class="field">
                <span>"Description"</span>
                <textarea
                    name="description"
                    rows="2"
                    prop:value=move || description.get()
                    on:input=move |ev| description.set(event_target_value(&ev))
                ></textarea>
                <span class="field-hint">"Shown to customers at checkout. Leave empty for none."</span>
            </label>
            <label class="catalog-check">
                <input
                    type="checkbox"
                    name="active"
                    prop:checked=move || active.get()
                    on:change=move |ev| active.set(event_target_checked(&ev))
                />
                <span>"Active (can be bought)"</span>
            </label>
            <MetadataEditor rows />
            <FormError error />
            <div class="modal-actions">
                <button type="button" class="button-secondary" on:click=move |_| ctx.close()>
                    "Cancel"
                </button>
                <button type="submit" class="button-primary" data-testid="save-product" disabled=move || pending.get()>
                    {move || match (pending.get(), editing) {
                        (true, _) => "Saving…",
                        (false, true) => "Save changes",
                        (false, false) => "Create product",
                    }}
                </button>
            </div>
            {move || (ctx.env.get() == Environment::Live).then(|| view! {
                <p class="field-hint">"Live mode: you will be asked to type “live” to confirm."</p>
            })}
        </FormModal>
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
