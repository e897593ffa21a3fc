//! The catalog: products with their prices. Everyone signed in can browse it; admins create,
//! edit, archive and delete.
//!
//! The page is the server's HTML (issue #13): the filters (`q`, `active`) and the expanded
//! product (`product`) live in the address, so a view survives reload and can be shared, and so
//! does the editor open (`edit`, `price`), which is the one part that hydrates, from a download of
//! its own that no other page needs ([`editor`]). A price's and a product's other controls
//! (archive, restore, activate, delete) are forms the page's one small island sends
//! (`crate::ui::enhance::PageForms`). Every write in live mode is confirmed by typing the
//! environment's name; destructive writes (delete, archive) are confirmed in both environments.

pub mod editor;
mod metadata;
mod prices;
mod products;

use crate::backend::{PriceChanges, PriceDraft, ProductChanges, ProductDraft};
use crate::environment::Environment;
use crate::error::AppError;
use crate::model::format::query_string;
use crate::pages::lazy::{EditingIsland, EditingPage};
pub use crate::services::catalog::AmountChange;
use crate::ui::enhance::{EnhancedForm, MaybeConfirmation, PageForms};
use crate::ui::error::ErrorPanel;
use crate::ui::islands::use_page_query;
use crate::ui::layout::{use_env, use_user};
use crate::ui::resource::resource;
use leptos::prelude::*;
use leptos::server_fn::codec::Json;
use leptos_meta::Title;
use payments_model::{ArchivedPrice, Catalog, DeletedProduct, Price, Product};
use serde::{Deserialize, Serialize};

/// What the page shows: the mirrored catalog of one environment.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CatalogView {
    pub catalog: Catalog,
    /// Whether the environment has a Stripe key; without one there is nothing to show or change.
    pub connected: bool,
    /// A fresh random prefix for the idempotency keys of the forms opened on this page.
    pub form_key: String,
}

/// The catalog of an environment. Any signed-in user.
#[server(prefix = "/api/console", endpoint = "catalog")]
pub async fn load_catalog(env: Environment) -> Result<CatalogView, AppError> {
    let user = crate::auth::ssr::require_reader()?;
    let state = crate::server::state::app_state();
    let connected = state.backend.status(&user).await?.iter().any(|c| c.environment == env && c.masked_key.is_some());
    let catalog =
        if connected { state.backend.catalog(&user, env).await? } else { Catalog { products: vec![], prices: vec![] } };
    Ok(CatalogView { catalog, connected, form_key: crate::server::ids::random_hex(8) })
}

/// Creates a product. Admins only.
#[server(prefix = "/api/console", endpoint = "catalog-add-product", input = Json)]
pub async fn add_product(env: Environment, draft: ProductDraft, form_key: Option<String>) -> Result<Product, AppError> {
    let user = crate::auth::ssr::require_admin()?;
    let mut draft = draft;
    draft.idempotency_key = None;
    draft.idempotency_key = Some(crate::services::catalog::idempotency_key(form_key, &draft));
    Ok(crate::server::state::app_state().backend.create_product(&user, env, &draft).await?)
}

/// Changes a product's name, description, active flag or metadata. Admins only.
#[server(prefix = "/api/console", endpoint = "catalog-edit-product", input = Json)]
pub async fn edit_product(env: Environment, id: String, changes: ProductChanges) -> Result<Product, AppError> {
    let user = crate::auth::ssr::require_admin()?;
    Ok(crate::server::state::app_state().backend.update_product(&user, env, &id, &changes).await?)
}

/// Deletes a product; Stripe refuses while it has prices (answered as `Rejected`). Admins only.
#[server(prefix = "/api/console", endpoint = "catalog-delete-product", input = Json)]
pub async fn remove_product(env: Environment, id: String) -> Result<DeletedProduct, AppError> {
    let user = crate::auth::ssr::require_admin()?;
    Ok(crate::server::state::app_state().backend.delete_product(&user, env, &id).await?)
}

/// Creates a one-time or recurring price. Admins only.
#[server(prefix = "/api/console", endpoint = "catalog-add-price", input = Json)]
pub async fn add_price(env: Environment, draft: PriceDraft, form_key: Option<String>) -> Result<Price, AppError> {
    let user = crate::auth::ssr::require_admin()?;
    let mut draft = draft;
    draft.idempotency_key = None;
    draft.idempotency_key = Some(crate::services::catalog::idempotency_key(form_key, &draft));
    Ok(crate::server::state::app_state().backend.create_price(&user, env, &draft).await?)
}

/// Changes a price's lookup key, tax behaviour, metadata or active flag. Admins only.
#[server(prefix = "/api/console", endpoint = "catalog-edit-price", input = Json)]
pub async fn edit_price(env: Environment, id: String, changes: PriceChanges) -> Result<Price, AppError> {
    let user = crate::auth::ssr::require_admin()?;
    Ok(crate::server::state::app_state().backend.update_price(&user, env, &id, &changes).await?)
}

/// Archives a price (Stripe prices cannot be deleted). Admins only.
#[server(prefix = "/api/console", endpoint = "catalog-archive-price", input = Json)]
pub async fn retire_price(env: Environment, id: String) -> Result<ArchivedPrice, AppError> {
    let user = crate::auth::ssr::require_admin()?;
    Ok(crate::server::state::app_state().backend.archive_price(&user, env, &id).await?)
}

/// "Change the amount" in one step: a new price with the new amount, the lookup key optionally
/// moved to it and the old price optionally archived (the steps and their compensation are in
/// [`crate::services::catalog`]). Admins only.
#[server(prefix = "/api/console", endpoint = "catalog-change-amount", input = Json)]
pub async fn change_amount(
    env: Environment,
    product_id: String,
    price_id: String,
    unit_amount: i64,
    move_lookup_key: bool,
    archive_old: bool,
    form_key: Option<String>,
) -> Result<AmountChange, AppError> {
    let user = crate::auth::ssr::require_admin()?;
    let backend = crate::server::state::app_state().backend;
    let request = crate::services::catalog::AmountChangeRequest {
        product_id,
        price_id,
        unit_amount,
        move_lookup_key,
        archive_old,
        form_key,
    };
    crate::services::catalog::change_amount(&backend, &user, env, request).await
}

// The forms of the page's rows, URL-encoded as a form posts them (`crate::ui::enhance`). Each
// answers what its JSON twin does; the page says the outcome with the form's own words.

/// [`retire_price`] for a price row's "Archive" form. Admins only.
#[server(prefix = "/api/console", endpoint = "catalog-archive-price-form")]
pub async fn archive_price_form(env: Environment, id: String) -> Result<ArchivedPrice, AppError> {
    retire_price(env, id).await
}

/// Makes an archived price active again: a price row's "Restore" form. Admins only.
#[server(prefix = "/api/console", endpoint = "catalog-restore-price-form")]
pub async fn restore_price_form(env: Environment, id: String) -> Result<Price, AppError> {
    edit_price(env, id, PriceChanges { active: Some(true), ..Default::default() }).await
}

/// Activates or deactivates a product: a product's "Activate" form, and its "Delete product"
/// form where Stripe would refuse the delete (it has prices). Admins only.
#[server(prefix = "/api/console", endpoint = "catalog-product-active-form")]
pub async fn product_active_form(env: Environment, id: String, active: bool) -> Result<Product, AppError> {
    edit_product(env, id, ProductChanges { active: Some(active), ..Default::default() }).await
}

/// [`remove_product`] for a product's "Delete product" form. Admins only.
#[server(prefix = "/api/console", endpoint = "catalog-delete-product-form")]
pub async fn delete_product_form(env: Environment, id: String) -> Result<DeletedProduct, AppError> {
    remove_product(env, id).await
}

/// The `active` filter.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) enum ActiveFilter {
    All,
    Active,
    Inactive,
}

impl ActiveFilter {
    fn parse(s: Option<&str>) -> Self {
        match s {
            Some("true") => ActiveFilter::Active,
            Some("false") => ActiveFilter::Inactive,
            _ => ActiveFilter::All,
        }
    }

    fn as_query(self) -> &'static str {
        match self {
            ActiveFilter::All => "all",
            ActiveFilter::Active => "true",
            ActiveFilter::Inactive => "false",
        }
    }

    fn admits(self, active: bool) -> bool {
        match self {
            ActiveFilter::All => true,
            ActiveFilter::Active => active,
            ActiveFilter::Inactive => !active,
        }
    }
}

/// Whether a product matches the search: its name, description or id, or one of its prices'
/// ids or lookup keys, ignoring case.
fn matches_search(product: &Product, prices: &[&Price], q: &str) -> bool {
    let q = q.trim().to_lowercase();
    if q.is_empty() {
        return true;
    }
    let has = |s: &str| s.to_lowercase().contains(&q);
    has(&product.name)
        || product.description.as_deref().is_some_and(has)
        || has(&product.stripe_product_id)
        || prices.iter().any(|p| has(&p.stripe_price_id) || p.lookup_key.as_deref().is_some_and(has))
}

/// The page query for these filters (empty values and defaults left out).
fn catalog_query(q: &str, active: ActiveFilter, product: Option<&str>) -> String {
    let active = if active == ActiveFilter::All { "" } else { active.as_query() };
    query_string(&[("q", q.trim()), ("active", active), ("product", product.unwrap_or(""))])
}

/// The page: the server's HTML (`crate::pages::lazy::EditingPage::Catalog`), with the editor the
/// address names as an island of its own ([`editor`]).
#[component]
pub fn CatalogPage() -> impl IntoView {
    view! {
        <Title text="Catalog" />
        <EditingIsland page=EditingPage::Catalog />
    }
}

/// What the page's address asks for: the filters, the expanded product and the editor open.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct CatalogQuery {
    pub q: String,
    pub active: ActiveFilter,
    /// The expanded product's id.
    pub product: Option<String>,
    /// The editor open (`edit`), and the price it edits (`price`).
    pub edit: Option<EditTarget>,
}

/// The editor an address opens (`?edit=`): the product ones act on the expanded product, the
/// price ones on `?price=`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum EditTarget {
    NewProduct,
    EditProduct,
    NewPrice,
    EditPrice(String),
    ChangeAmount(String),
}

impl EditTarget {
    /// The `edit` value naming it.
    fn as_query(&self) -> &'static str {
        match self {
            EditTarget::NewProduct => "new-product",
            EditTarget::EditProduct => "product",
            EditTarget::NewPrice => "new-price",
            EditTarget::EditPrice(_) => "price",
            EditTarget::ChangeAmount(_) => "amount",
        }
    }
}

impl CatalogQuery {
    /// Reads the page's query; anything unknown is left out (an unknown `edit` opens nothing).
    pub fn parse(get: impl Fn(&str) -> Option<String>) -> Self {
        let product = get("product").filter(|p| !p.is_empty());
        let price = get("price").filter(|p| !p.is_empty());
        let edit = match (get("edit").as_deref(), price) {
            (Some("new-product"), _) => Some(EditTarget::NewProduct),
            (Some("product"), _) => Some(EditTarget::EditProduct),
            (Some("new-price"), _) => Some(EditTarget::NewPrice),
            (Some("price"), Some(id)) => Some(EditTarget::EditPrice(id)),
            (Some("amount"), Some(id)) => Some(EditTarget::ChangeAmount(id)),
            _ => None,
        };
        CatalogQuery {
            q: get("q").unwrap_or_default(),
            active: ActiveFilter::parse(get("active").as_deref()),
            product,
            edit,
        }
    }

    /// The page's query with another product expanded (`None`: none), and no editor.
    pub fn with_product(&self, product: Option<&str>) -> String {
        catalog_query(&self.q, self.active, product)
    }

    /// The page's query with `edit` open on the expanded product or `product`.
    pub fn editing(&self, product: Option<&str>, edit: EditTarget) -> String {
        let product = product.or(self.product.as_deref()).unwrap_or("");
        let active = if self.active == ActiveFilter::All { "" } else { self.active.as_query() };
        let price = match &edit {
            EditTarget::EditPrice(id) | EditTarget::ChangeAmount(id) => id.as_str(),
            _ => "",
        };
        query_string(&[
            ("q", self.q.trim()),
            ("active", active),
            ("product", product),
            ("edit", edit.as_query()),
            ("price", price),
        ])
    }
}

/// The page's body: the filters, the products and, for admins, the editor the address opens,
/// all the server's HTML but the editor; the page's one small island sends its other forms
/// (archive, restore, activate, delete: `crate::ui::enhance::PageForms`).
#[component]
pub(crate) fn CatalogBody() -> impl IntoView {
    let env = use_env().get_untracked();
    let can_write = use_user().role.can_write();
    let page_query = use_page_query().0;
    let query = CatalogQuery::parse(|key| page_query.get(key));
    let data = resource(move || env, load_catalog);
    let filters = query.clone();
    view! {
        <div class="catalog-page">
            <h1>"Catalog"</h1>
            <p class="muted">
                "Products and their prices in Stripe. Amounts are in each currency's own units; prices cannot change amount, so a new price replaces the old one."
            </p>
            <Filters query=filters />
            <Suspense fallback=|| view! { <div class="skeleton catalog-skeleton" aria-busy="true">"Loading the catalog…"</div> }>
                {move || {
                    let query = query.clone();
                    Suspend::new(async move {
                        match data.await {
                            Ok(view) => {
                                let editor = can_write.then(|| editor::for_query(env, &view, &query)).flatten();
                                view! {
                                    <products::ProductList view=view.clone() query can_write env />
                                    {editor}
                                }
                                .into_any()
                            }
                            Err(e) => view! { <ErrorPanel error=e testid="catalog-error" /> }.into_any(),
                        }
                    })
                }}
            </Suspense>
            <PageForms />
        </div>
    }
}

/// The search and status filters: a GET form that the page's island applies as it is typed or
/// chosen, reading the list again in place (`data-instant`); without it, Enter or the button
/// sends it.
#[component]
fn Filters(query: CatalogQuery) -> impl IntoView {
    view! {
        <form class="filters catalog-filters" role="search" method="get" data-drop-empty="" data-instant="">
            <label>
                <span>"Search"</span>
                <input
                    type="search"
                    name="q"
                    placeholder="Name, id or lookup key"
                    data-testid="catalog-search"
                    value=query.q.clone()
                />
            </label>
            <label>
                <span>"Status"</span>
                <select name="active" data-testid="catalog-active">
                    {[(ActiveFilter::All, "All"), (ActiveFilter::Active, "Active"), (ActiveFilter::Inactive, "Inactive")]
                        .into_iter()
                        .map(|(f, label)| {
                            // "All" is the default, left out of the address.
                            let value = if f == ActiveFilter::All { "" } else { f.as_query() };
                            view! { <option value=value selected=query.active == f>{label}</option> }
                        })
                        .collect_view()}
                </select>
            </label>
            <input type="hidden" name="product" value=query.product.clone().unwrap_or_default() />
            <noscript>
                <button type="submit" class="button-secondary">"Filter"</button>
            </noscript>
        </form>
    }
}

/// A control of a price or a product as a form: the environment and the object's `id` (with
/// `active` where it sets that flag) posted to `action`, which the page's island confirms and
/// sends (`crate::ui::enhance`). Its one button needs the island: as a plain post the function
/// would answer JSON.
#[component]
fn ObjectForm(
    env: Environment,
    #[prop(into)] id: String,
    action: &'static str,
    #[prop(into)] done: String,
    #[prop(into)] failed: String,
    #[prop(optional, into)] confirm: MaybeConfirmation,
    /// The `active` field's value, for the forms that set it.
    #[prop(optional_no_strip)]
    active: Option<bool>,
    /// The button's class, test id, words and `data-delete-plan`.
    class: &'static str,
    testid: &'static str,
    label: &'static str,
    #[prop(optional)] plan: Option<&'static str>,
) -> impl IntoView {
    view! {
        <EnhancedForm action done failed confirm>
            <input type="hidden" name="env" value=env.as_str() />
            <input type="hidden" name="id" value=id />
            {active.map(|a| view! { <input type="hidden" name="active" value=a.to_string() /> })}
            <button type="submit" class=class data-testid=testid data-delete-plan=plan disabled=true data-needs-js="">
                {label}
            </button>
        </EnhancedForm>
    }
}

/// An id in monospace with a copy button.
#[component]
fn IdChip(#[prop(into)] id: String) -> impl IntoView {
    view! {
        <span class="catalog-id">
            <code data-testid="object-id">{id.clone()}</code>
            <crate::ui::copy::CopyButton value=id.clone() class="catalog-copy" label=format!("Copy {id}") />
        </span>
    }
    .into_any()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn product(name: &str, active: bool) -> Product {
        serde_json::from_value(serde_json::json!({
            "environment": "test", "stripeProductId": format!("prod_{name}"), "name": name, "description": "Nice",
            "active": active, "defaultPriceId": null, "metadata": {}, "syncedAt": "2026-11-25T10:00:00.000Z"
        }))
        .unwrap()
    }

    #[test]
    fn filters_by_status_and_search() {
        assert!(ActiveFilter::parse(Some("true")).admits(true));
        assert!(!ActiveFilter::parse(Some("true")).admits(false));
        assert!(ActiveFilter::parse(Some("false")).admits(false));
        assert!(ActiveFilter::parse(None).admits(false) && ActiveFilter::parse(Some("all")).admits(true));
        let p = product("Starter", true);
        assert!(matches_search(&p, &[], "  star "));
        assert!(matches_search(&p, &[], "PROD_starter"));
        assert!(matches_search(&p, &[], "nice"));
        assert!(!matches_search(&p, &[], "team"));
    }

    #[test]
    fn the_query_leaves_defaults_out() {
        assert_eq!(catalog_query("", ActiveFilter::All, None), "");
        assert_eq!(
            catalog_query(" pro ", ActiveFilter::Inactive, Some("prod_1")),
            "?q=pro&active=false&product=prod_1"
        );
        assert_eq!(catalog_query("a b", ActiveFilter::Active, None), "?q=a%20b&active=true");
    }

    fn query(pairs: &[(&str, &str)]) -> CatalogQuery {
        CatalogQuery::parse(|key| pairs.iter().find(|(k, _)| *k == key).map(|(_, v)| v.to_string()))
    }

    #[test]
    fn the_address_names_the_editor_and_what_it_edits() {
        let plain = query(&[("q", "pro"), ("active", "false"), ("product", "prod_1")]);
        assert_eq!(plain.edit, None);
        assert_eq!(plain.product.as_deref(), Some("prod_1"));
        assert_eq!(query(&[("edit", "new-product")]).edit, Some(EditTarget::NewProduct));
        assert_eq!(query(&[("edit", "product")]).edit, Some(EditTarget::EditProduct));
        assert_eq!(query(&[("edit", "new-price")]).edit, Some(EditTarget::NewPrice));
        assert_eq!(
            query(&[("edit", "price"), ("price", "price_1")]).edit,
            Some(EditTarget::EditPrice("price_1".into()))
        );
        assert_eq!(
            query(&[("edit", "amount"), ("price", "price_1")]).edit,
            Some(EditTarget::ChangeAmount("price_1".into()))
        );
        // A price editor without its price, or an unknown one, opens nothing.
        assert_eq!(query(&[("edit", "price")]).edit, None);
        assert_eq!(query(&[("edit", "amount"), ("price", "")]).edit, None);
        assert_eq!(query(&[("edit", "everything")]).edit, None);
        assert_eq!(query(&[("product", "")]).product, None);
    }

    #[test]
    fn an_editors_address_keeps_the_filters_and_its_own_is_read_back() {
        let page = query(&[("q", " pro "), ("active", "true"), ("product", "prod_1")]);
        assert_eq!(page.with_product(None), "?q=pro&active=true");
        assert_eq!(page.editing(None, EditTarget::NewProduct), "?q=pro&active=true&product=prod_1&edit=new-product");
        let edit = page.editing(Some("prod_2"), EditTarget::ChangeAmount("price_9".into()));
        assert_eq!(edit, "?q=pro&active=true&product=prod_2&edit=amount&price=price_9");
        let pairs: Vec<(String, String)> = edit
            .trim_start_matches('?')
            .split('&')
            .filter_map(|p| p.split_once('=').map(|(k, v)| (k.to_owned(), v.to_owned())))
            .collect();
        let back = CatalogQuery::parse(|key| pairs.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone()));
        assert_eq!(back.edit, Some(EditTarget::ChangeAmount("price_9".into())));
        assert_eq!(back.product.as_deref(), Some("prod_2"));
        assert_eq!((back.q.as_str(), back.active), ("pro", ActiveFilter::Active));
    }
}
