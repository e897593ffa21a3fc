//! The catalog's editors: a product's form, a new price, a price's edit and "change the amount".
//!
//! The page is the server's HTML (`super::CatalogBody`); the editor the address opens (`?edit=`)
//! is the one part that hydrates, as an island of its own whose code is a split point
//! (`cargo leptos build --split`, `src/pages/lazy.rs`), so that no page downloads it until an
//! editor is opened: it checks amounts as they are typed, previews the price, adds and removes
//! metadata rows and asks before a write, which plain forms could not. Once the server function
//! has succeeded it leaves for the catalog's address with the outcome waiting as a toast
//! (`crate::ui::enhance`), so the page shows everything the change touched as the server now has
//! it; Cancel is a link back, Escape follows it.
//!
//! Written by hand rather than with `#[island(lazy)]`, as the editing pages' island was
//! (`git show 11c617a:src/pages/lazy.rs`): the same view on the server and in the browser, under
//! an owner of its own, in a `<leptos-island>` element with its props.

use super::metadata::{self, MetaRows, MetadataEditor};
use super::prices::{has_fixed_amount, price_label, recurrence};
use super::{add_price, add_product, catalog_query, change_amount, edit_price, edit_product, ActiveFilter};
use super::{CatalogQuery, CatalogView, EditTarget, IdChip};
use crate::backend::{PriceChanges, PriceDraft, ProductChanges, ProductDraft, RecurringDraft};
use crate::environment::Environment;
use crate::model::format::{money, parse_amount};
use crate::ui::confirm::ConfirmDialog;
use crate::ui::layout::CurrentEnv;
use leptos::prelude::*;
use leptos::tachys::html::islands::Island;
use payments_model::{Price, Product, RecurringInterval, TaxBehavior};
use serde::{Deserialize, Serialize};

/// Currencies offered in the select; any other 3-letter code can be typed.
const CURRENCIES: [&str; 7] = ["usd", "eur", "gbp", "jpy", "chf", "cad", "aud"];
/// The tax behaviours in the order the select offers them: a new price's default first.
static TAX_BEHAVIORS: [TaxBehavior; 3] = [TaxBehavior::Unspecified, TaxBehavior::Exclusive, TaxBehavior::Inclusive];

/// The split point of the editors, as the build's files and the shell's preloads name it.
pub const EDITOR_DOWNLOAD: &str = "hydrate_catalog_editor";

/// The island's name in its element's `data-component`: the export the loader calls.
const EDITOR_ISLAND: &str = "CatalogEditorIsland";

/// Which editor is open, with what it edits.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Editor {
    NewProduct,
    EditProduct(Product),
    NewPrice(Product),
    EditPrice(Price),
    ChangeAmount(Price),
}

/// What the island's element carries to the browser: the editor, and the page's address to go
/// back to.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EditorProps {
    env: Environment,
    editor: Editor,
    /// The idempotency key prefix of this page's forms (`CatalogView::form_key`).
    form_key: String,
    q: String,
    active: ActiveFilter,
    /// The expanded product.
    product: Option<String>,
}

impl EditorProps {
    /// The catalog's address with these filters and `product` expanded.
    fn page(&self, product: Option<&str>) -> String {
        format!("/{}/catalog{}", self.env, catalog_query(&self.q, self.active, product))
    }
}

/// The editor the page's address opens, for an admin: the island, or a notice where what it
/// would edit is no longer in the catalog (deleted since the link was made). `None` where the
/// address opens none.
pub(super) fn for_query(env: Environment, view: &CatalogView, query: &CatalogQuery) -> Option<AnyView> {
    let target = query.edit.as_ref()?;
    if !view.connected {
        return None;
    }
    let catalog = &view.catalog;
    let product = || catalog.products.iter().find(|p| query.product.as_deref() == Some(&p.stripe_product_id)).cloned();
    let price = |id: &str| catalog.prices.iter().find(|p| p.stripe_price_id == id).cloned();
    let editor = match target {
        EditTarget::NewProduct => Some(Editor::NewProduct),
        EditTarget::EditProduct => product().map(Editor::EditProduct),
        EditTarget::NewPrice => product().map(Editor::NewPrice),
        EditTarget::EditPrice(id) => price(id).map(Editor::EditPrice),
        EditTarget::ChangeAmount(id) => price(id).filter(has_fixed_amount).map(Editor::ChangeAmount),
    };
    let Some(editor) = editor else {
        return Some(
            view! {
                <p class="notice" role="alert" data-testid="editor-gone">
                    "What this link edits is no longer in the catalog. "
                    <a href=format!("/{env}/catalog{}", query.with_product(query.product.as_deref()))>"Back to the catalog"</a>
                </p>
            }
            .into_any(),
        );
    };
    let props = EditorProps {
        env,
        editor,
        form_key: view.form_key.clone(),
        q: query.q.clone(),
        active: query.active,
        product: query.product.clone(),
    };
    // Enums, strings and the catalog's own objects: serialising them cannot fail.
    let json = serde_json::to_string(&props).unwrap_or_default();
    Some(Island::new(EDITOR_ISLAND, island_view(props)).with_props(json).into_any())
}

/// The island's view, built alike on both sides.
fn island_view(props: EditorProps) -> impl IntoView {
    untrack(move || {
        Owner::new().with(|| {
            Owner::with_hydration(move || {
                leptos::tachys::reactive_graph::OwnedView::new(view! { <EditorBody props /> })
            })
        })
    })
}

/// The export the shell's loader calls with the island's element (`src/ui/island_loader.js`): it
/// resolves once the editors' download is in and the editor has hydrated.
#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen(js_name = CatalogEditorIsland)]
pub async fn catalog_editor_island(el: web_sys::HtmlElement) {
    hydrate_catalog_editor(el).await
}

/// The editors' split point ([`EDITOR_DOWNLOAD`]).
#[cfg(feature = "hydrate")]
#[leptos::lazy]
fn hydrate_catalog_editor(el: web_sys::HtmlElement) {
    use leptos::tachys::view::{Position, RenderHtml};
    let props = el.dataset().get("props").and_then(|json| serde_json::from_str::<EditorProps>(&json).ok());
    let Some(props) = props else {
        leptos::logging::error!("The catalog editor's props are missing or unreadable.");
        return;
    };
    let island = Island::new(EDITOR_ISLAND, island_view(props));
    // The view stays mounted for the page's life, as `#[island]`'s do.
    std::mem::forget(island.hydrate_from_position::<true>(&el, Position::Current));
}

/// Asks before a write: for every write in live mode, where [`ConfirmDialog`] also makes the user
/// type the environment's name.
#[derive(Clone, Copy)]
struct Confirmer {
    open: RwSignal<bool>,
    title: RwSignal<String>,
    message: RwSignal<String>,
    label: RwSignal<String>,
    pending: StoredValue<Option<Callback<()>>>,
}

impl Confirmer {
    fn new() -> Self {
        Confirmer {
            open: RwSignal::new(false),
            title: RwSignal::new(String::new()),
            message: RwSignal::new(String::new()),
            label: RwSignal::new(String::new()),
            pending: StoredValue::new(None),
        }
    }

    /// Opens the confirmation; `run` runs once confirmed.
    fn ask(&self, title: String, message: String, label: String, run: impl Fn() + Send + Sync + 'static) {
        self.title.set(title);
        self.message.set(message);
        self.label.set(label);
        self.pending.set_value(Some(Callback::new(move |_| run())));
        self.open.set(true);
    }

    fn confirmed(&self) {
        if let Some(run) = self.pending.get_value() {
            self.pending.set_value(None);
            run.run(());
        }
    }
}

/// What the editor's parts share.
#[derive(Clone, Copy)]
struct Ctx {
    env: Environment,
    confirmer: Confirmer,
    props: StoredValue<EditorProps>,
    /// Set once the island has hydrated: the buttons are disabled until then.
    mounted: RwSignal<bool>,
}

impl Ctx {
    fn live(&self) -> bool {
        self.env == Environment::Live
    }

    /// Runs a write: at once in test mode, after the typed confirmation in live mode.
    fn write(&self, title: String, message: String, label: String, run: impl Fn() + Send + Sync + 'static) {
        if self.live() {
            self.confirmer.ask(title, message, label, run);
        } else {
            run();
        }
    }

    /// The idempotency key prefix of the form.
    fn form_key(&self) -> Option<String> {
        Some(self.props.with_value(|p| p.form_key.clone()))
    }

    /// The catalog without the editor.
    fn close_href(&self) -> String {
        self.props.with_value(|p| p.page(p.product.as_deref()))
    }

    /// Leaves for the catalog without the editor.
    fn close(&self) {
        go(&self.close_href(), None, &[]);
    }

    /// The write has succeeded: the catalog, with `product` expanded (or the one that was), says
    /// `message`, and each of `problems` as an error.
    fn done(&self, message: String, problems: Vec<String>, product: Option<String>) {
        let href = self.props.with_value(|p| p.page(product.as_deref().or(p.product.as_deref())));
        go(&href, Some(&message), &problems);
    }
}

/// Leaves for `href`, with `done` and `problems` waiting there as toasts.
fn go(href: &str, done: Option<&str>, problems: &[String]) {
    #[cfg(feature = "hydrate")]
    crate::ui::enhance::go_with_toasts(href, done, problems);
    #[cfg(not(feature = "hydrate"))]
    let _ = (href, done, problems);
}

fn use_ctx() -> Ctx {
    expect_context::<Ctx>()
}

/// The open editor, with the environment the dialogs read and the live confirmation.
#[component]
fn EditorBody(props: EditorProps) -> impl IntoView {
    let env = props.env;
    provide_context(CurrentEnv(Memo::new(move |_| env)));
    let editor = props.editor.clone();
    let ctx = Ctx { env, confirmer: Confirmer::new(), props: StoredValue::new(props), mounted: RwSignal::new(false) };
    provide_context(ctx);
    // Effects run only in the browser, once the island has hydrated.
    Effect::new(move |_| ctx.mounted.set(true));
    let confirmer = ctx.confirmer;
    let form = match editor {
        Editor::NewProduct => view! { <ProductForm existing=None /> }.into_any(),
        Editor::EditProduct(p) => view! { <ProductForm existing=Some(p) /> }.into_any(),
        Editor::NewPrice(p) => view! { <PriceForm product=p /> }.into_any(),
        Editor::EditPrice(p) => view! { <PriceEditForm price=p /> }.into_any(),
        Editor::ChangeAmount(p) => view! { <ChangeAmountForm price=p /> }.into_any(),
    };
    view! {
        {form}
        <ConfirmDialog
            open=confirmer.open
            title=confirmer.title
            message=confirmer.message
            confirm_label=confirmer.label
            on_confirm=Callback::new(move |_| confirmer.confirmed())
        />
    }
}

/// A modal form: labelled by its heading, closed with Escape or Cancel, focus on the first
/// field once it can be used.
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

/// Creates a product (`existing: None`) or edits one.
#[component]
fn ProductForm(existing: Option<Product>) -> impl IntoView {
    let ctx = use_ctx();
    let form_key = ctx.form_key();
    let original = existing.clone();
    let name = RwSignal::new(existing.as_ref().map(|p| p.name.clone()).unwrap_or_default());
    let description = RwSignal::new(existing.as_ref().and_then(|p| p.description.clone()).unwrap_or_default());
    let active = RwSignal::new(existing.as_ref().is_none_or(|p| p.active));
    // The first values as attributes too, so that the server's HTML shows them before the island
    // has hydrated (`prop:` sets the live value only in the browser).
    let (first_name, first_description, first_active) =
        (name.get_untracked(), description.get_untracked(), active.get_untracked());
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
        let env = ctx.env;
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
                            match add_product(env, draft, form_key).await {
                                Ok(p) => ctx.done(
                                    format!("Product “{name}” created."),
                                    Vec::new(),
                                    Some(p.stripe_product_id),
                                ),
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
                                Ok(p) => ctx.done(format!("Product “{}” saved.", p.name), Vec::new(), None),
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
                    value=first_name
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
                >
                    {first_description}
                </textarea>
                <span class="field-hint">"Shown to customers at checkout. Leave empty for none."</span>
            </label>
            <label class="catalog-check">
                <input
                    type="checkbox"
                    name="active"
                    checked=first_active
                    prop:checked=move || active.get()
                    on:change=move |ev| active.set(event_target_checked(&ev))
                />
                <span>"Active (can be bought)"</span>
            </label>
            <MetadataEditor rows />
            <FormError error />
            <div class="modal-actions">
                <a class="button-secondary" href=ctx.close_href()>"Cancel"</a>
                <button
                    type="submit"
                    class="button-primary"
                    data-testid="save-product"
                    disabled=move || pending.get() || !ctx.mounted.get()
                >
                    {move || match (pending.get(), editing) {
                        (true, _) => "Saving…",
                        (false, true) => "Save changes",
                        (false, false) => "Create product",
                    }}
                </button>
            </div>
            {ctx.live().then(|| view! {
                <p class="field-hint">"Live mode: you will be asked to type “live” to confirm."</p>
            })}
        </FormModal>
    }
}

/// The currency of a form: one of [`CURRENCIES`] or a typed code.
fn currency_of(choice: &str, other: &str) -> Result<String, String> {
    let code = if choice == "other" { other.trim().to_ascii_lowercase() } else { choice.to_owned() };
    if code.len() == 3 && code.chars().all(|c| c.is_ascii_alphabetic()) {
        Ok(code)
    } else {
        Err("Enter a three-letter currency code, like usd.".into())
    }
}

/// A new one-time or recurring price on a product.
#[component]
fn PriceForm(product: Product) -> impl IntoView {
    let ctx = use_ctx();
    let form_key = ctx.form_key();
    let amount = RwSignal::new(String::new());
    let currency = RwSignal::new("usd".to_string());
    let other_currency = RwSignal::new(String::new());
    let recurring = RwSignal::new(false);
    let interval = RwSignal::new(RecurringInterval::Month.to_string());
    let interval_count = RwSignal::new("1".to_string());
    let lookup_key = RwSignal::new(String::new());
    let tax = RwSignal::new(TaxBehavior::Unspecified);
    let rows = MetaRows::new(&Default::default());
    let tried = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);
    let pending = RwSignal::new(false);

    let currency_code = move || currency_of(&currency.get(), &other_currency.get());
    let parsed_amount = move || {
        let code = currency_code().unwrap_or_else(|_| "usd".into());
        parse_amount(&amount.get(), &code)
    };
    let parsed_count = move || match interval_count.get().trim().parse::<i64>() {
        Ok(n) if n >= 1 => Ok(n),
        _ => Err("Enter a whole number of at least 1.".to_string()),
    };
    let amount_error = move || {
        let typed = !amount.get().trim().is_empty();
        (tried.get() || typed).then(|| parsed_amount().err()).flatten()
    };
    let preview = move || {
        let (Ok(code), Ok(minor)) = (currency_code(), parsed_amount()) else { return None };
        let every = if recurring.get() {
            match parsed_count() {
                Ok(n) => recurrence(Some(&interval.get()), Some(n)),
                Err(_) => return None,
            }
        } else {
            None
        };
        Some(match every {
            Some(r) => format!("Customers pay {} {r}.", money(minor, &code)),
            None => format!("Customers pay {} once.", money(minor, &code)),
        })
    };
    let product_id = product.stripe_product_id.clone();
    let product_name = product.name.clone();

    let submit = move |_| {
        tried.set(true);
        error.set(None);
        let code = match currency_code() {
            Ok(c) => c,
            Err(e) => return error.set(Some(e)),
        };
        let Ok(unit_amount) = parsed_amount() else { return };
        let recurring_draft = if recurring.get_untracked() {
            match parsed_count() {
                Ok(n) => Some(RecurringDraft { interval: interval.get_untracked(), interval_count: Some(n) }),
                Err(e) => return error.set(Some(format!("Interval count: {e}"))),
            }
        } else {
            None
        };
        let pairs = rows.pairs();
        if let Err(e) = metadata::check(&pairs) {
            return error.set(Some(e));
        }
        let key = lookup_key.get_untracked().trim().to_owned();
        let draft = PriceDraft {
            stripe_product_id: product_id.clone(),
            currency: code,
            unit_amount,
            lookup_key: (!key.is_empty()).then_some(key),
            active: Some(true),
            recurring: recurring_draft,
            tax_behavior: Some(tax.get_untracked()),
            metadata: metadata::for_create(&pairs),
            idempotency_key: None,
        };
        let form_key = form_key.clone();
        let env = ctx.env;
        let label = preview().unwrap_or_default();
        ctx.write(
            format!("Add a price to {product_name}?"),
            format!("A new price will be created in Stripe. {label}"),
            "Create price".into(),
            move || {
                let draft = draft.clone();
                let form_key = form_key.clone();
                pending.set(true);
                leptos::task::spawn_local(async move {
                    match add_price(env, draft, form_key).await {
                        Ok(p) => ctx.done(format!("Price {} created.", price_label(&p)), Vec::new(), None),
                        Err(e) => {
                            pending.try_set(false);
                            error.try_set(Some(e.to_string()));
                        }
                    }
                });
            },
        );
    };

    view! {
        <FormModal title=format!("New price for {}", product.name) testid="price-form" on_submit=Callback::new(submit)>
            <div class="catalog-form-row">
                <label class="field catalog-amount-field">
                    <span>"Amount"</span>
                    <input
                        type="text"
                        name="amount"
                        inputmode="decimal"
                        autocomplete="off"
                        placeholder="12.00"
                        aria-invalid=move || amount_error().is_some().then_some("true")
                        aria-describedby="price-amount-error"
                        prop:value=move || amount.get()
                        on:input=move |ev| amount.set(event_target_value(&ev))
                    />
                    <span class="field-error" id="price-amount-error" data-testid="amount-error">{amount_error}</span>
                </label>
                <label class="field">
                    <span>"Currency"</span>
                    <select name="currency" on:change=move |ev| currency.set(event_target_value(&ev))>
                        {CURRENCIES
                            .into_iter()
                            .map(|c| view! { <option value=c selected=move || currency.get() == c>{c.to_uppercase()}</option> })
                            .collect_view()}
                        <option value="other" selected=move || currency.get() == "other">"Other…"</option>
                    </select>
                </label>
                <Show when=move || currency.get() == "other">
                    <label class="field">
                        <span>"Currency code"</span>
                        <input
                            type="text"
                            name="currency_code"
                            maxlength="3"
                            size="4"
                            placeholder="sek"
                            prop:value=move || other_currency.get()
                            on:input=move |ev| other_currency.set(event_target_value(&ev))
                        />
                    </label>
                </Show>
            </div>
            <fieldset class="catalog-radio">
                <legend>"Type"</legend>
                <label>
                    <input
                        type="radio"
                        name="price_type"
                        value="one_time"
                        checked=true
                        prop:checked=move || !recurring.get()
                        on:change=move |_| recurring.set(false)
                    />
                    " One-time"
                </label>
                <label>
                    <input
                        type="radio"
                        name="price_type"
                        value="recurring"
                        prop:checked=move || recurring.get()
                        on:change=move |_| recurring.set(true)
                    />
                    " Recurring"
                </label>
            </fieldset>
            <Show when=move || recurring.get()>
                <div class="catalog-form-row">
                    <label class="field">
                        <span>"Bill every"</span>
                        <input
                            type="number"
                            name="interval_count"
                            min="1"
                            max="1095"
                            prop:value=move || interval_count.get()
                            on:input=move |ev| interval_count.set(event_target_value(&ev))
                        />
                    </label>
                    <label class="field">
                        <span>"Interval"</span>
                        <select name="interval" on:change=move |ev| interval.set(event_target_value(&ev))>
                            {RecurringInterval::ALL
                                .iter()
                                .map(|i| {
                                    let i = i.as_str();
                                    view! { <option value=i selected=move || interval.get() == i>{i}</option> }
                                })
                                .collect_view()}
                        </select>
                    </label>
                </div>
            </Show>
            <p class="catalog-preview" data-testid="price-preview" aria-live="polite">{preview}</p>
            <label class="field">
                <span>"Lookup key (optional)"</span>
                <input
                    type="text"
                    name="lookup_key"
                    autocomplete="off"
                    maxlength="200"
                    prop:value=move || lookup_key.get()
                    on:input=move |ev| lookup_key.set(event_target_value(&ev))
                />
                <span class="field-hint">"A stable name your code uses to find this price, like pro_monthly."</span>
            </label>
            <TaxSelect tax locked=false />
            <MetadataEditor rows />
            <FormError error />
            <FormButtons pending label="Create price" testid="save-price" />
        </FormModal>
    }
}

#[component]
fn TaxSelect(tax: RwSignal<TaxBehavior>, locked: bool) -> impl IntoView {
    view! {
        <label class="field">
            <span>"Tax behaviour"</span>
            <select name="tax_behavior" disabled=locked on:change=move |ev| tax.set(event_target_value(&ev).into())>
                {TAX_BEHAVIORS
                    .iter()
                    .map(|t| view! { <option value=t.as_str() selected=move || tax.with(|chosen| chosen == t)>{t.label()}</option> })
                    .collect_view()}
            </select>
            {locked.then(|| view! {
                <span class="field-hint">"Stripe lets the tax behaviour be set once; create a new price to change it."</span>
            })}
        </label>
    }
}

#[component]
fn FormButtons(pending: RwSignal<bool>, label: &'static str, testid: &'static str) -> impl IntoView {
    let ctx = use_ctx();
    view! {
        <div class="modal-actions">
            <a class="button-secondary" href=ctx.close_href()>"Cancel"</a>
            <button type="submit" class="button-primary" data-testid=testid disabled=move || pending.get() || !ctx.mounted.get()>
                {move || if pending.get() { "Saving…" } else { label }}
            </button>
        </div>
        {ctx.live().then(|| view! {
            <p class="field-hint">"Live mode: you will be asked to type “live” to confirm."</p>
        })}
    }
}

/// Edits what Stripe lets change on a price: lookup key, tax behaviour (once), metadata.
#[component]
fn PriceEditForm(price: Price) -> impl IntoView {
    let ctx = use_ctx();
    let lookup_key = RwSignal::new(price.lookup_key.clone().unwrap_or_default());
    let original_tax = price.tax().clone();
    let tax = RwSignal::new(original_tax.clone());
    let rows = MetaRows::new(&price.metadata);
    let error = RwSignal::new(None::<String>);
    let pending = RwSignal::new(false);
    let label = price_label(&price);
    let original = price.clone();

    let submit = move |_| {
        error.set(None);
        let pairs = rows.pairs();
        if let Err(e) = metadata::check(&pairs) {
            return error.set(Some(e));
        }
        let key = lookup_key.get_untracked().trim().to_owned();
        let old_key = original.lookup_key.clone().unwrap_or_default();
        let new_tax = tax.get_untracked();
        let changes = PriceChanges {
            active: None,
            lookup_key: (key != old_key).then(|| (!key.is_empty()).then_some(key)),
            tax_behavior: (new_tax != original_tax).then_some(new_tax),
            metadata: metadata::changes(&original.metadata, &pairs),
        };
        if changes == PriceChanges::default() {
            return error.set(Some("Nothing has changed.".into()));
        }
        let id = original.stripe_price_id.clone();
        let env = ctx.env;
        let label = price_label(&original);
        ctx.write(
            format!("Save {label}?"),
            format!("The changes to price {id} will be saved in Stripe."),
            "Save changes".into(),
            move || {
                let changes = changes.clone();
                let id = id.clone();
                let label = label.clone();
                pending.set(true);
                leptos::task::spawn_local(async move {
                    match edit_price(env, id, changes).await {
                        Ok(_) => ctx.done(format!("Price {label} saved."), Vec::new(), None),
                        Err(e) => {
                            pending.try_set(false);
                            error.try_set(Some(e.to_string()));
                        }
                    }
                });
            },
        );
    };
    let locked = *price.tax() != TaxBehavior::Unspecified;

    view! {
        <FormModal title=format!("Edit price {label}") testid="price-edit-form" on_submit=Callback::new(submit)>
            <p class="muted">
                "Price " <IdChip id=price.stripe_price_id.clone() />
                " · Amount, currency and billing interval cannot change; use “Change amount” for a new amount."
            </p>
            <label class="field">
                <span>"Lookup key"</span>
                <input
                    type="text"
                    name="lookup_key"
                    autocomplete="off"
                    maxlength="200"
                    value=price.lookup_key.clone().unwrap_or_default()
                    prop:value=move || lookup_key.get()
                    on:input=move |ev| lookup_key.set(event_target_value(&ev))
                />
                <span class="field-hint">"Leave empty to remove it."</span>
            </label>
            <TaxSelect tax locked />
            <MetadataEditor rows />
            <FormError error />
            <FormButtons pending label="Save changes" testid="save-price" />
        </FormModal>
    }
}

/// "Change the amount": a new price with the new amount replaces this one.
#[component]
fn ChangeAmountForm(price: Price) -> impl IntoView {
    let ctx = use_ctx();
    let form_key = ctx.form_key();
    let amount = RwSignal::new(String::new());
    let move_key = RwSignal::new(price.lookup_key.is_some());
    let archive_old = RwSignal::new(price.active);
    let tried = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);
    let pending = RwSignal::new(false);
    let currency = price.currency.clone();
    let parsed = {
        let currency = currency.clone();
        move || parse_amount(&amount.get(), &currency)
    };
    let amount_error = {
        let parsed = parsed.clone();
        move || (tried.get() || !amount.get().trim().is_empty()).then(|| parsed().err()).flatten()
    };
    let recurs =
        recurrence(price.recurring_interval.as_ref().map(RecurringInterval::as_str), price.recurring_interval_count);
    let preview = {
        let parsed = parsed.clone();
        let currency = currency.clone();
        let recurs = recurs.clone();
        move || {
            parsed().ok().map(|minor| match &recurs {
                Some(r) => format!("New price: {} {r}.", money(minor, &currency)),
                None => format!("New price: {}.", money(minor, &currency)),
            })
        }
    };
    let current = price_label(&price);
    let old = price.clone();
    let submit = {
        let parsed = parsed.clone();
        let preview = preview.clone();
        move |_| {
            tried.set(true);
            error.set(None);
            let Ok(unit_amount) = parsed() else { return };
            if Some(unit_amount) == old.unit_amount {
                return error.set(Some("That is already the price's amount.".into()));
            }
            let Some(product_id) = old.stripe_product_id.clone() else {
                return error.set(Some("This price belongs to no product.".into()));
            };
            let price_id = old.stripe_price_id.clone();
            let moving = move_key.get_untracked() && old.lookup_key.is_some();
            let archiving = archive_old.get_untracked() && old.active;
            let env = ctx.env;
            let mut steps = vec![preview().unwrap_or_default()];
            if moving {
                steps.push(format!("The lookup key “{}” moves to it.", old.lookup_key.clone().unwrap_or_default()));
            }
            if archiving {
                steps.push(format!("The old price {price_id} is archived."));
            }
            let form_key = form_key.clone();
            ctx.write("Change the amount?".into(), steps.join(" "), "Change amount".into(), move || {
                let product_id = product_id.clone();
                let price_id = price_id.clone();
                let form_key = form_key.clone();
                pending.set(true);
                leptos::task::spawn_local(async move {
                    match change_amount(env, product_id, price_id, unit_amount, moving, archiving, form_key).await {
                        Ok(done) => {
                            let mut message = format!("New price {} created", price_label(&done.new_price));
                            if let Some(k) = &done.moved_key {
                                message.push_str(&format!(", lookup key “{k}” moved"));
                            }
                            if done.archived_old {
                                message.push_str(", old price archived");
                            }
                            message.push('.');
                            ctx.done(message, done.problems, None);
                        }
                        Err(e) => {
                            pending.try_set(false);
                            error.try_set(Some(e.to_string()));
                        }
                    }
                });
            });
        }
    };
    let key = price.lookup_key.clone();
    let was_active = price.active;

    view! {
        <FormModal title="Change the amount" testid="change-amount-form" on_submit=Callback::new(submit)>
            <p>
                "Stripe prices cannot change their amount. This creates a new price on the same product with the same currency, billing interval, tax behaviour and metadata, and the amount below."
            </p>
            <p class="muted">"Current: " <strong>{current}</strong> " · " <IdChip id=price.stripe_price_id.clone() /></p>
            <label class="field catalog-amount-field">
                <span>{format!("New amount ({})", currency.to_uppercase())}</span>
                <input
                    type="text"
                    name="amount"
                    inputmode="decimal"
                    autocomplete="off"
                    aria-invalid={
                        let amount_error = amount_error.clone();
                        move || amount_error().is_some().then_some("true")
                    }
                    aria-describedby="change-amount-error"
                    prop:value=move || amount.get()
                    on:input=move |ev| amount.set(event_target_value(&ev))
                />
                <span class="field-error" id="change-amount-error" data-testid="amount-error">{amount_error}</span>
            </label>
            <p class="catalog-preview" data-testid="price-preview" aria-live="polite">{preview}</p>
            {key.map(|k| view! {
                <label class="catalog-check">
                    <input
                        type="checkbox"
                        name="move_lookup_key"
                        data-testid="move-lookup-key"
                        checked=move_key.get_untracked()
                        prop:checked=move || move_key.get()
                        on:change=move |ev| move_key.set(event_target_checked(&ev))
                    />
                    <span>"Move the lookup key " <code>{k}</code> " to the new price"</span>
                </label>
            })}
            {was_active.then(|| view! {
                <label class="catalog-check">
                    <input
                        type="checkbox"
                        name="archive_old"
                        data-testid="archive-old"
                        checked=archive_old.get_untracked()
                        prop:checked=move || archive_old.get()
                        on:change=move |ev| archive_old.set(event_target_checked(&ev))
                    />
                    <span>"Archive the old price (existing subscriptions keep it)"</span>
                </label>
            })}
            <FormError error />
            <FormButtons pending label="Change amount" testid="save-amount" />
        </FormModal>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn currencies_are_three_letters() {
        assert_eq!(currency_of("eur", ""), Ok("eur".into()));
        assert_eq!(currency_of("other", " SEK "), Ok("sek".into()));
        assert!(currency_of("other", "kr").is_err());
        assert!(currency_of("other", "12a").is_err());
    }
}
