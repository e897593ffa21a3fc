//! Prices: the table of a product's prices, the new-price form, the edit form (lookup key, tax
//! behaviour, metadata), archive/restore, and "change the amount".

use super::metadata::{self, MetaRows, MetadataEditor};
use super::products::status_badge;
use super::{add_price, change_amount, edit_price, retire_price, use_ctx, Ctx, Editor, FormError, FormModal, IdChip};
use crate::backend::{PriceChanges, PriceDraft, RecurringDraft};
use crate::environment::Environment;
use crate::model::format::{money, parse_amount};
use leptos::prelude::*;
use payments_model::{BillingScheme, Price, PriceType, Product, RecurringInterval, TaxBehavior};

/// Currencies offered in the select; any other 3-letter code can be typed.
const CURRENCIES: [&str; 7] = ["usd", "eur", "gbp", "jpy", "chf", "cad", "aud"];
/// The tax behaviours in the order the select offers them: a new price's default first.
static TAX_BEHAVIORS: [TaxBehavior; 3] = [TaxBehavior::Unspecified, TaxBehavior::Exclusive, TaxBehavior::Inclusive];

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

/// A product's prices, active ones first.
#[component]
pub(super) fn PriceTable(product: Product, prices: Vec<Price>) -> impl IntoView {
    let ctx = use_ctx();
    let mut prices = prices;
    prices.sort_by_key(|p| !p.active);
    let default_price = product.default_price_id.clone();
    let add = product.clone();
    let columns = if ctx.can_write { 5 } else { 4 };
    view! {
        <section class="catalog-prices" aria-label=format!("Prices of {}", product.name)>
            <div class="catalog-prices-head">
                <h3>"Prices"</h3>
                {ctx.can_write.then(|| view! {
                    <button
                        type="button"
                        class="button-primary"
                        data-testid="add-price"
                        on:click=move |_| ctx.open(Editor::NewPrice(add.clone()))
                    >
                        "Add price"
                    </button>
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
                            {ctx.can_write.then(|| view! { <th scope="col"><span class="catalog-sr-only">"Actions"</span></th> })}
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
                                view! { <PriceRow price is_default /> }
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
fn PriceRow(price: Price, is_default: bool) -> impl IntoView {
    let ctx = use_ctx();
    let label = price_label(&price);
    // Anything not recurring reads as one-time, as it always has (an unknown type included).
    let shown = if price.price_type == PriceType::Recurring { PriceType::Recurring } else { PriceType::OneTime };
    let kind = shown.label().to_owned();
    let actions = ctx.can_write.then(|| {
        let edit = price.clone();
        let change = price.clone();
        let archive = price.clone();
        let fixed = price.unit_amount.is_some() && price.billing_scheme != Some(BillingScheme::Tiered);
        view! {
            <td class="catalog-row-actions">
                <div class="catalog-row-buttons">
                <button
                    type="button"
                    class="button-secondary"
                    data-testid="edit-price"
                    on:click=move |_| ctx.open(Editor::EditPrice(edit.clone()))
                >
                    "Edit"
                </button>
                {fixed.then(|| view! {
                    <button
                        type="button"
                        class="button-secondary"
                        data-testid="change-amount"
                        on:click=move |_| ctx.open(Editor::ChangeAmount(change.clone()))
                    >
                        "Change amount"
                    </button>
                })}
                {if archive.active {
                    view! {
                        <button
                            type="button"
                            class="button-danger"
                            data-testid="archive-price"
                            on:click=move |_| ask_archive(ctx, &archive)
                        >
                            "Archive"
                        </button>
                    }
                        .into_any()
                } else {
                    view! {
                        <button
                            type="button"
                            class="button-secondary"
                            data-testid="restore-price"
                            on:click=move |_| restore(ctx, &archive)
                        >
                            "Restore"
                        </button>
                    }
                        .into_any()
                }}
                </div>
            </td>
        }
    });
    view! {
        <tr
            data-testid="price"
            data-price-id=price.stripe_price_id.clone()
            class:catalog-archived=!price.active
        >
            <td>
                <div class="catalog-amount" data-testid="price-amount">
                    {label}
                    {is_default.then(|| view! { " " <span class="badge" title="The product's default price">"default"</span> })}
                </div>
                <div class="catalog-price-sub">
                    <span data-testid="price-type">{kind}</span>
                    <IdChip id=price.stripe_price_id.clone() />
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

/// Confirms, then archives a price.
fn ask_archive(ctx: Ctx, price: &Price) {
    let id = price.stripe_price_id.clone();
    let label = price_label(price);
    ctx.confirmer.ask(
        format!("Archive {label}?"),
        format!(
            "The price {id} can no longer be used for new purchases. Existing subscriptions keep it. You can restore it later."
        ),
        "Archive price",
        true,
        move || {
            let id = id.clone();
            let label = label.clone();
            let env = ctx.env.get_untracked();
            leptos::task::spawn_local(async move {
                match retire_price(env, id).await {
                    Ok(_) => {
                        ctx.toasts.success(format!("Price {label} archived."));
                        ctx.reload();
                    }
                    Err(e) => ctx.toasts.error(format!("The price was not archived: {e}")),
                }
            });
        },
    );
}

/// Makes an archived price active again (typed confirmation in live mode).
fn restore(ctx: Ctx, price: &Price) {
    let id = price.stripe_price_id.clone();
    let label = price_label(price);
    ctx.write(
        format!("Restore {label}?"),
        format!("The price {id} can be used for new purchases again."),
        "Restore price".into(),
        move || {
            let id = id.clone();
            let label = label.clone();
            let env = ctx.env.get_untracked();
            leptos::task::spawn_local(async move {
                match edit_price(env, id, PriceChanges { active: Some(true), ..Default::default() }).await {
                    Ok(_) => {
                        ctx.toasts.success(format!("Price {label} restored."));
                        ctx.reload();
                    }
                    Err(e) => ctx.toasts.error(format!("The price was not restored: {e}")),
                }
            });
        },
    );
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
pub(super) fn PriceForm(product: Product) -> impl IntoView {
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
        let env = ctx.env.get_untracked();
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
                        Ok(p) => {
                            ctx.toasts.success(format!("Price {} created.", price_label(&p)));
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
            <button type="button" class="button-secondary" on:click=move |_| ctx.close()>
                "Cancel"
            </button>
            <button type="submit" class="button-primary" data-testid=testid disabled=move || pending.get()>
                {move || if pending.get() { "Saving…" } else { label }}
            </button>
        </div>
        {move || (ctx.env.get() == Environment::Live).then(|| view! {
            <p class="field-hint">"Live mode: you will be asked to type “live” to confirm."</p>
        })}
    }
}

/// Edits what Stripe lets change on a price: lookup key, tax behaviour (once), metadata.
#[component]
pub(super) fn PriceEditForm(price: Price) -> impl IntoView {
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
        let env = ctx.env.get_untracked();
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
                        Ok(_) => {
                            ctx.toasts.success(format!("Price {label} saved."));
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
pub(super) fn ChangeAmountForm(price: Price) -> impl IntoView {
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
            let env = ctx.env.get_untracked();
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
                            ctx.toasts.success(message);
                            for problem in done.problems {
                                ctx.toasts.error(problem);
                            }
                            ctx.reload();
                            ctx.close();
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
    fn recurrence_reads_naturally() {
        assert_eq!(recurrence(None, None), None);
        assert_eq!(recurrence(Some("month"), Some(1)).as_deref(), Some("/ month"));
        assert_eq!(recurrence(Some("month"), None).as_deref(), Some("/ month"));
        assert_eq!(recurrence(Some("month"), Some(3)).as_deref(), Some("every 3 months"));
        assert_eq!(recurrence(Some("week"), Some(2)).as_deref(), Some("every 2 weeks"));
    }

    #[test]
    fn currencies_are_three_letters() {
        assert_eq!(currency_of("eur", ""), Ok("eur".into()));
        assert_eq!(currency_of("other", " SEK "), Ok("sek".into()));
        assert!(currency_of("other", "kr").is_err());
        assert!(currency_of("other", "12a").is_err());
    }
}
