//! The catalog: products with their prices. Everyone signed in can browse it; admins create,
//! edit, archive and delete.
//!
//! Filters (`q`, `active`) and the expanded product (`product`) live in the URL, so a view
//! survives reload and can be shared. Every write in live mode goes through
//! [`ConfirmDialog`], which makes the user type the environment's name; destructive writes
//! (delete, archive) are confirmed in both environments.

mod metadata;
mod prices;
mod products;

use crate::backend::{PriceChanges, PriceDraft, ProductChanges, ProductDraft};
use crate::environment::Environment;
use crate::error::AppError;
use crate::model::format::query_string;
pub use crate::services::catalog::AmountChange;
use crate::ui::confirm::ConfirmDialog;
use crate::ui::layout::{use_env, use_user};
use crate::ui::resource::{resource, JsonCodec};
use crate::ui::toast::{use_toasts, Toasts};
use leptos::prelude::*;
use leptos::server_fn::codec::Json;
use leptos_meta::Title;
use leptos_router::hooks::{use_location, use_navigate, use_query_map};
use leptos_router::NavigateOptions;
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

/// Which form is open.
#[derive(Clone, Debug)]
enum Editor {
    NewProduct,
    EditProduct(Product),
    NewPrice(Product),
    EditPrice(Price),
    ChangeAmount(Price),
}

/// Asks before a write: always for destructive ones, and for every write in live mode, where
/// [`ConfirmDialog`] also makes the user type the environment's name.
#[derive(Clone, Copy)]
struct Confirmer {
    plain: RwSignal<bool>,
    danger: RwSignal<bool>,
    title: RwSignal<String>,
    message: RwSignal<String>,
    label: RwSignal<String>,
    pending: StoredValue<Option<Callback<()>>>,
}

impl Confirmer {
    fn new() -> Self {
        Confirmer {
            plain: RwSignal::new(false),
            danger: RwSignal::new(false),
            title: RwSignal::new(String::new()),
            message: RwSignal::new(String::new()),
            label: RwSignal::new(String::new()),
            pending: StoredValue::new(None),
        }
    }

    /// Opens the confirmation; `run` runs once confirmed.
    fn ask(
        &self,
        title: impl Into<String>,
        message: impl Into<String>,
        label: impl Into<String>,
        destructive: bool,
        run: impl Fn() + Send + Sync + 'static,
    ) {
        self.title.set(title.into());
        self.message.set(message.into());
        self.label.set(label.into());
        self.pending.set_value(Some(Callback::new(move |_| run())));
        if destructive {
            self.danger.set(true);
        } else {
            self.plain.set(true);
        }
    }

    fn confirmed(&self) {
        if let Some(run) = self.pending.get_value() {
            self.pending.set_value(None);
            run.run(());
        }
    }
}

/// What the page's parts share.
#[derive(Clone, Copy)]
struct Ctx {
    env: Memo<Environment>,
    can_write: bool,
    data: Resource<Result<CatalogView, AppError>, JsonCodec>,
    editor: RwSignal<Option<Editor>>,
    confirmer: Confirmer,
    toasts: Toasts,
    /// Set to a product id to expand it (after creating it).
    expand: RwSignal<Option<String>>,
    forms_opened: StoredValue<u64>,
}

impl Ctx {
    fn live(&self) -> bool {
        self.env.get_untracked() == Environment::Live
    }

    /// Runs a write: at once in test mode, after the typed confirmation in live mode.
    fn write(&self, title: String, message: String, label: String, run: impl Fn() + Send + Sync + 'static) {
        if self.live() {
            self.confirmer.ask(title, message, label, false, run);
        } else {
            run();
        }
    }

    /// A new idempotency key prefix for a form being opened.
    fn form_key(&self) -> Option<String> {
        let n = self.forms_opened.get_value() + 1;
        self.forms_opened.set_value(n);
        self.data.with_untracked(|d| d.as_ref().and_then(|d| d.as_ref().ok()).map(|v| format!("{}-{n}", v.form_key)))
    }

    /// Opens a form.
    fn open(&self, editor: Editor) {
        self.editor.set(Some(editor));
    }

    fn close(&self) {
        self.editor.set(None);
    }

    fn reload(&self) {
        self.data.refetch();
    }
}

fn use_ctx() -> Ctx {
    expect_context::<Ctx>()
}

/// The `active` filter.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ActiveFilter {
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

/// The page.
#[component]
pub fn CatalogPage() -> impl IntoView {
    let env = use_env();
    let can_write = use_user().role.can_write();
    let query = use_query_map();
    let location = use_location();
    let navigate = use_navigate();
    let q = Memo::new(move |_| query.read().get("q").unwrap_or_default());
    let active = Memo::new(move |_| ActiveFilter::parse(query.read().get("active").as_deref()));
    let expanded = Memo::new(move |_| query.read().get("product").filter(|p| !p.is_empty()));
    let data = resource(move || env.get(), load_catalog);
    let ctx = Ctx {
        env,
        can_write,
        data,
        editor: RwSignal::new(None),
        confirmer: Confirmer::new(),
        toasts: use_toasts(),
        expand: RwSignal::new(None),
        forms_opened: StoredValue::new(0),
    };
    provide_context(ctx);

    // What is typed in the search box goes to the URL as it is typed (replacing the history
    // entry), so a reload shows the same view.
    let search = RwSignal::new(q.get_untracked());
    let go = {
        let navigate = navigate.clone();
        move |query: String, replace: bool| {
            let path = location.pathname.get_untracked();
            navigate(&format!("{path}{query}"), NavigateOptions { replace, scroll: false, ..Default::default() });
        }
    };
    Effect::new({
        let go = go.clone();
        move |_| {
            if let Some(id) = ctx.expand.get() {
                ctx.expand.set(None);
                go(catalog_query(&q.get_untracked(), active.get_untracked(), Some(&id)), false);
            }
        }
    });
    // Back and forward change the URL under the search box; the URL changes the box made itself
    // (which may arrive after more has been typed) are not written back into it.
    let pushed = StoredValue::new(Vec::<String>::new());
    Effect::new(move |_| {
        let from_url = q.get();
        let ours = pushed
            .try_update_value(|p| match p.iter().position(|v| v.as_str() == from_url.trim()) {
                Some(i) => {
                    p.drain(..=i);
                    true
                }
                None => false,
            })
            .unwrap_or(false);
        if !ours && from_url.trim() != search.get_untracked().trim() {
            search.set(from_url);
        }
    });
    let on_search = {
        let go = go.clone();
        move |ev| {
            let value = event_target_value(&ev);
            search.set(value.clone());
            pushed.update_value(|p| p.push(value.trim().to_owned()));
            go(catalog_query(&value, active.get_untracked(), expanded.get_untracked().as_deref()), true);
        }
    };
    let on_active = move |ev| {
        let value = ActiveFilter::parse(Some(event_target_value(&ev).as_str()));
        go(catalog_query(&search.get_untracked(), value, expanded.get_untracked().as_deref()), false);
    };
    let refreshing = RwSignal::new(false);
    let confirmer = ctx.confirmer;

    view! {
        <Title text="Catalog" />
        <div class="catalog-page">
            <h1>"Catalog"</h1>
            <p class="muted">
                "Products and their prices in Stripe. Amounts are in each currency's own units; prices cannot change amount, so a new price replaces the old one."
            </p>
            <form class="filters catalog-filters" role="search" on:submit=|ev| ev.prevent_default()>
                <label>
                    <span>"Search"</span>
                    <input
                        type="search"
                        name="q"
                        placeholder="Name, id or lookup key"
                        data-testid="catalog-search"
                        prop:value=move || search.get()
                        on:input=on_search
                    />
                </label>
                <label>
                    <span>"Status"</span>
                    <select name="active" data-testid="catalog-active" on:change=on_active>
                        {[(ActiveFilter::All, "All"), (ActiveFilter::Active, "Active"), (ActiveFilter::Inactive, "Inactive")]
                            .into_iter()
                            .map(|(f, label)| {
                                view! {
                                    <option value=f.as_query() selected=move || active.get() == f>
                                        {label}
                                    </option>
                                }
                            })
                            .collect_view()}
                    </select>
                </label>
                <span class="catalog-refreshing muted" aria-live="polite">
                    {move || refreshing.get().then_some("Updating…")}
                </span>
            </form>
            <Transition
                fallback=|| view! { <div class="skeleton catalog-skeleton" aria-busy="true">"Loading the catalog…"</div> }
                set_pending=refreshing.write_only()
            >
                {move || Suspend::new(async move {
                    match data.await {
                        Ok(view) => view! { <products::ProductList view q=search active expanded /> }.into_any(),
                        Err(e) => {
                            // A panel of its own (with a retry), so the page status is set here.
                            crate::ui::error::set_page_status(&e);
                            view! {
                                <div class="error-panel" role="alert" data-testid="catalog-error">
                                    <p>{format!("The catalog could not be loaded: {e}")}</p>
                                    <button type="button" class="button-secondary" on:click=move |_| data.refetch()>
                                        "Try again"
                                    </button>
                                </div>
                            }
                                .into_any()
                        }
                    }
                })}
            </Transition>
            {move || {
                ctx.editor
                    .get()
                    .map(|editor| match editor {
                        Editor::NewProduct => view! { <products::ProductForm existing=None /> }.into_any(),
                        Editor::EditProduct(p) => view! { <products::ProductForm existing=Some(p) /> }.into_any(),
                        Editor::NewPrice(p) => view! { <prices::PriceForm product=p /> }.into_any(),
                        Editor::EditPrice(p) => view! { <prices::PriceEditForm price=p /> }.into_any(),
                        Editor::ChangeAmount(p) => view! { <prices::ChangeAmountForm price=p /> }.into_any(),
                    })
            }}
            <ConfirmDialog
                open=confirmer.plain
                title=confirmer.title
                message=confirmer.message
                confirm_label=confirmer.label
                on_confirm=Callback::new(move |_| confirmer.confirmed())
            />
            <ConfirmDialog
                open=confirmer.danger
                title=confirmer.title
                message=confirmer.message
                confirm_label=confirmer.label
                on_confirm=Callback::new(move |_| confirmer.confirmed())
                destructive=true
            />
        </div>
    }
}

/// A modal form: labelled by its heading, closed with Escape or Cancel, focus on the first
/// field when it opens.
#[component]
fn FormModal(
    /// Heading.
    #[prop(into)]
    title: String,
    /// `data-testid` of the dialog.
    testid: &'static str,
    /// Runs on submit (the default is prevented).
    on_submit: Callback<()>,
    children: Children,
) -> impl IntoView {
    let ctx = use_ctx();
    let form_ref = NodeRef::<leptos::html::Form>::new();
    Effect::new(move |_| {
        if let Some(form) = form_ref.get() {
            if let Ok(Some(first)) = form.query_selector("input:not([type=hidden]), select, textarea") {
                use leptos::wasm_bindgen::JsCast;
                if let Some(el) = first.dyn_ref::<leptos::web_sys::HtmlElement>() {
                    let _ = el.focus();
                }
            }
        }
    });
    view! {
        <div class="modal-backdrop catalog-modal-backdrop">
            <div
                class="modal catalog-modal"
                role="dialog"
                aria-modal="true"
                aria-labelledby="catalog-form-title"
                data-testid=testid
                on:keydown=move |ev| {
                    if ev.key() == "Escape" {
                        ctx.close();
                    }
                }
            >
                <h2 id="catalog-form-title">{title}</h2>
                <form
                    node_ref=form_ref
                    novalidate=true
                    on:submit=move |ev| {
                        ev.prevent_default();
                        on_submit.run(());
                    }
                >
                    {children()}
                </form>
            </div>
        </div>
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

/// The inline error of a form.
#[component]
fn FormError(error: RwSignal<Option<String>>) -> impl IntoView {
    move || {
        error.get().map(|e| {
            view! {
                <p class="form-error" role="alert" data-testid="form-error">
                    {e}
                </p>
            }
        })
    }
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
}
