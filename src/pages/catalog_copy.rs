//! Copy the catalog from test to live (admins; issue #14): choose products, read the preview of
//! what would be created or updated in live, type `live`, copy, and read the per-object report.
//! The work is `crate::services::catalog_copy`; these server functions authorise and call it.

use crate::error::AppError;
use crate::pages::lazy::{EditingIsland, EditingPage};
use crate::services::catalog_copy::{
    confirmed, Change, CopyPlan, CopyReport, CopySource, FieldChange, MatchedBy, ObjectKind, Outcome, CONFIRMATION,
};
use crate::ui::error::ErrorPanel;
use crate::ui::layout::use_env;
use crate::ui::resource::resource;
use leptos::prelude::*;
use leptos::server_fn::codec::Json;
use leptos_meta::Title;
use std::collections::BTreeSet;

#[cfg(feature = "ssr")]
fn refused(e: crate::services::catalog_copy::CopyError) -> AppError {
    use crate::services::catalog_copy::CopyError;
    match e {
        CopyError::Invalid(m) | CopyError::NotConnected(m) => AppError::Invalid(m),
        CopyError::Backend(e) => e.into(),
    }
}

/// Which environments are connected, and the test catalog's products. Admins only.
#[server(prefix = "/api/console", endpoint = "catalog-copy-source")]
pub async fn load_copy_source() -> Result<CopySource, AppError> {
    let user = crate::auth::ssr::require_admin()?;
    let backend = crate::server::state::app_state().backend;
    crate::services::catalog_copy::source(&backend, &user).await.map_err(refused)
}

/// What copying these test products to live would create and update. Admins only.
#[server(prefix = "/api/console", endpoint = "catalog-copy-preview", input = Json)]
pub async fn copy_preview(products: Vec<String>) -> Result<CopyPlan, AppError> {
    let user = crate::auth::ssr::require_admin()?;
    let backend = crate::server::state::app_state().backend;
    crate::services::catalog_copy::preview(&backend, &user, &products).await.map_err(refused)
}

/// Copies these test products to live, if `confirm` is `live` and the plan is still the one
/// previewed (`fingerprint`); the per-object report. Admins only; every live write is audited by
/// the payments backend.
#[server(prefix = "/api/console", endpoint = "catalog-copy-run", input = Json)]
pub async fn copy_to_live(products: Vec<String>, confirm: String, fingerprint: String) -> Result<CopyReport, AppError> {
    let user = crate::auth::ssr::require_admin()?;
    let backend = crate::server::state::app_state().backend;
    crate::services::catalog_copy::copy(&backend, &user, &products, &confirm, &fingerprint).await.map_err(refused)
}

/// The page.
#[component]
pub fn CatalogCopyPage() -> impl IntoView {
    view! {
        <Title text="Copy the catalog to live" />
        <EditingIsland page=EditingPage::CatalogCopy />
    }
}

#[component]
pub(crate) fn CopyBody() -> impl IntoView {
    let env = use_env();
    let source = resource(|| (), |_| load_copy_source());
    view! {
        <div class="catalog-copy-page">
            <p><a href=move || format!("/{}/catalog", env.get())>"← Catalog"</a></p>
            <h1>"Copy the catalog to live"</h1>
            <p class="muted">
                "Creates the chosen test products and their prices in live, or updates the live copies made before. "
                "Copies are recognised by the test id they record (metadata " <code>"insforge_copied_from"</code>
                ") or by their lookup key, so copying again creates nothing twice."
            </p>
            <Suspense fallback=|| view! { <div class="skeleton" aria-busy="true">"Loading the catalogs…"</div> }>
                {move || Suspend::new(async move {
                    match source.await {
                        Ok(s) if !s.live_connected => view! {
                            <div class="notice" data-testid="copy-no-live-key">
                                <p><strong>"Live has no Stripe key."</strong> " There is nowhere to copy to yet."</p>
                                <p><a href="/live/keys">"Set the live key →"</a></p>
                            </div>
                        }
                        .into_any(),
                        Ok(s) if !s.test_connected => view! {
                            <div class="notice" data-testid="copy-no-test-key">
                                <p><strong>"Test has no Stripe key."</strong> " There is nothing to copy."</p>
                                <p><a href="/test/keys">"Set the test key →"</a></p>
                            </div>
                        }
                        .into_any(),
                        Ok(s) => view! { <CopyForm source=s /> }.into_any(),
                        Err(e) => view! { <ErrorPanel error=e testid="copy-error" /> }.into_any(),
                    }
                })}
            </Suspense>
        </div>
    }
}

/// Choose, preview, confirm, copy, report.
#[component]
fn CopyForm(source: CopySource) -> impl IntoView {
    let all_ids: Vec<String> = source.products.iter().map(|p| p.id.clone()).collect();
    let chosen = RwSignal::new(BTreeSet::<String>::new());
    let plan = RwSignal::new(None::<CopyPlan>);
    let report = RwSignal::new(None::<CopyReport>);
    let error = RwSignal::new(None::<String>);
    let typed = RwSignal::new(String::new());
    let busy = RwSignal::new(false);
    let count = all_ids.len();
    let all_checked = move || count > 0 && chosen.with(|c| c.len() == count);
    let toggle_all = {
        let all_ids = all_ids.clone();
        move |ev| {
            let on = event_target_checked(&ev);
            chosen.set(if on { all_ids.iter().cloned().collect() } else { BTreeSet::new() });
            plan.set(None);
        }
    };
    let preview = move |_| {
        error.set(None);
        report.set(None);
        let products: Vec<String> = chosen.get_untracked().into_iter().collect();
        busy.set(true);
        leptos::task::spawn_local(async move {
            match copy_preview(products).await {
                Ok(p) => {
                    plan.try_set(Some(p));
                }
                Err(e) => {
                    plan.try_set(None);
                    error.try_set(Some(e.to_string()));
                }
            }
            busy.try_set(false);
        });
    };
    let run = move |_| {
        let Some(p) = plan.get_untracked() else { return };
        error.set(None);
        let products: Vec<String> = chosen.get_untracked().into_iter().collect();
        let confirm = typed.get_untracked();
        busy.set(true);
        leptos::task::spawn_local(async move {
            match copy_to_live(products, confirm, p.fingerprint).await {
                Ok(r) => {
                    report.try_set(Some(r));
                    plan.try_set(None);
                    typed.try_set(String::new());
                }
                Err(e) => {
                    error.try_set(Some(e.to_string()));
                }
            }
            busy.try_set(false);
        });
    };
    view! {
        <section class="card" aria-labelledby="copy-choose">
            <h2 id="copy-choose">"1. Choose products"</h2>
            {(count == 0).then(|| view! { <p class="muted">"The test catalog has no products."</p> })}
            <label class="catalog-check">
                <input type="checkbox" data-testid="copy-all" prop:checked=all_checked on:change=toggle_all />
                <span>{format!("All ({count})")}</span>
            </label>
            <ul class="copy-choices">
                {source
                    .products
                    .into_iter()
                    .map(|p| {
                        let id = p.id.clone();
                        let checked_id = p.id.clone();
                        view! {
                            <li>
                                <label class="catalog-check">
                                    <input
                                        type="checkbox"
                                        data-testid="copy-product"
                                        value=p.id.clone()
                                        prop:checked=move || chosen.with(|c| c.contains(&checked_id))
                                        on:change=move |ev| {
                                            let on = event_target_checked(&ev);
                                            chosen.update(|c| {
                                                if on { c.insert(id.clone()); } else { c.remove(&id); }
                                            });
                                            plan.set(None);
                                        }
                                    />
                                    <span>
                                        {p.name} " " <code class="muted">{p.id}</code>
                                        {format!(" · {} price{}", p.prices, if p.prices == 1 { "" } else { "s" })}
                                        {(!p.active).then(|| view! { " " <span class="badge">"inactive"</span> })}
                                    </span>
                                </label>
                            </li>
                        }
                    })
                    .collect_view()}
            </ul>
            <button
                type="button"
                class="button-primary"
                data-testid="copy-preview"
                disabled=move || busy.get() || chosen.with(BTreeSet::is_empty)
                on:click=preview
            >
                "Preview"
            </button>
        </section>
        {move || error.get().map(|e| view! { <p class="error-panel" role="alert" data-testid="copy-error">{e}</p> })}
        {move || plan.get().map(|p| {
            let has_work = p.has_work();
            view! {
                <section class="card" aria-labelledby="copy-preview-title">
                    <h2 id="copy-preview-title">"2. What changes in live"</h2>
                    <p data-testid="copy-summary">
                        {format!(
                            "{} to create, {} to update, {} to replace, {} unchanged, {} not copied.",
                            p.count(Change::Create),
                            p.count(Change::Update),
                            p.count(Change::Replace),
                            p.count(Change::Unchanged),
                            p.count(Change::NotCopied)
                        )}
                    </p>
                    <PlanTable plan=p />
                    {if has_work {
                        view! {
                            <form class="copy-confirm" on:submit=move |ev| { ev.prevent_default(); run(()); }>
                                <label>
                                    <span>"This writes to live. Type " <strong>{CONFIRMATION}</strong> " to confirm."</span>
                                    <input
                                        type="text"
                                        autocomplete="off"
                                        data-testid="copy-confirm"
                                        prop:value=move || typed.get()
                                        on:input=move |ev| typed.set(event_target_value(&ev))
                                    />
                                </label>
                                <button
                                    type="submit"
                                    class="button-danger"
                                    data-testid="copy-run"
                                    disabled=move || busy.get() || !confirmed(&typed.get())
                                >
                                    {move || if busy.get() { "Copying…" } else { "Copy to live" }}
                                </button>
                            </form>
                        }
                        .into_any()
                    } else {
                        view! { <p class="ok-text" data-testid="copy-nothing">"Live already matches: nothing to copy."</p> }.into_any()
                    }}
                </section>
            }
        })}
        {move || report.get().map(|r| view! { <ReportTable report=r /> })}
    }
}

fn matched(by: Option<MatchedBy>) -> &'static str {
    match by {
        Some(MatchedBy::SourceId) => "by recorded test id",
        Some(MatchedBy::LookupKey) => "by lookup key",
        None => "",
    }
}

fn field_text(f: &FieldChange) -> String {
    let show = |v: &Option<String>| v.clone().unwrap_or_else(|| "—".to_owned());
    match &f.from {
        None if f.to.is_some() => format!("{}: {}", f.field, show(&f.to)),
        _ => format!("{}: {} → {}", f.field, show(&f.from), show(&f.to)),
    }
}

fn change_badge(change: Change) -> impl IntoView {
    let class = match change {
        Change::Create | Change::Update | Change::Replace => "badge badge-warn",
        Change::Unchanged | Change::NotCopied => "badge",
    };
    view! { <span class=class data-testid="copy-change">{change.label()}</span> }
}

/// The preview: each product, then its prices, with their fields (`old → new`).
#[component]
fn PlanTable(plan: CopyPlan) -> impl IntoView {
    let rows = plan.products.into_iter().flat_map(|p| {
        let product = view! {
            <tr class="copy-product-row" data-testid="copy-row" data-kind="product" data-source=p.source_id.clone()>
                <td>{change_badge(p.change)}</td>
                <td><strong>{p.name.clone()}</strong> <div><code>{p.source_id.clone()}</code></div></td>
                <td>
                    {p.live_id.clone().map(|id| view! { <code>{id}</code> " " <span class="muted small">{matched(p.matched_by)}</span> })}
                </td>
                <td><FieldList fields=p.fields.clone() note=None /></td>
            </tr>
        }
        .into_any();
        let prices = p.prices.into_iter().map(|q| {
            view! {
                <tr data-testid="copy-row" data-kind="price" data-source=q.source_id.clone()>
                    <td>{change_badge(q.change)}</td>
                    <td class="copy-price-cell">{q.label.clone()} <div><code>{q.source_id.clone()}</code></div></td>
                    <td>
                        {q.live_id.clone().map(|id| view! { <code>{id}</code> " " <span class="muted small">{matched(q.matched_by)}</span> })}
                    </td>
                    <td><FieldList fields=q.fields.clone() note=q.note.clone() /></td>
                </tr>
            }
            .into_any()
        });
        std::iter::once(product).chain(prices.collect::<Vec<_>>())
    });
    view! {
        <div class="catalog-table-wrap">
            <table class="data-table" data-testid="copy-plan">
                <thead>
                    <tr>
                        <th scope="col">"Change"</th>
                        <th scope="col">"Test object"</th>
                        <th scope="col">"Live copy"</th>
                        <th scope="col">"Fields"</th>
                    </tr>
                </thead>
                <tbody>{rows.collect_view()}</tbody>
            </table>
        </div>
    }
}

#[component]
fn FieldList(fields: Vec<FieldChange>, note: Option<String>) -> impl IntoView {
    view! {
        <ul class="copy-fields">
            {fields.iter().map(|f| view! { <li data-testid="copy-field">{field_text(f)}</li> }).collect_view()}
        </ul>
        {note.map(|n| view! { <p class="muted small" data-testid="copy-note">{n}</p> })}
    }
}

/// The per-object report of a copy.
#[component]
fn ReportTable(report: CopyReport) -> impl IntoView {
    let summary = format!(
        "{} done, {} refused, {} skipped, {} unchanged.",
        report.count(Outcome::Done),
        report.count(Outcome::Refused),
        report.count(Outcome::Skipped),
        report.count(Outcome::Unchanged)
    );
    view! {
        <section class="card" aria-labelledby="copy-report-title">
            <h2 id="copy-report-title">"3. Report"</h2>
            <p role="status" data-testid="copy-report-summary">{summary}</p>
            <table class="data-table" data-testid="copy-report">
                <thead>
                    <tr>
                        <th scope="col">"Object"</th>
                        <th scope="col">"Change"</th>
                        <th scope="col">"Result"</th>
                        <th scope="col">"Live id"</th>
                        <th scope="col">"Message"</th>
                    </tr>
                </thead>
                <tbody>
                    {report
                        .rows
                        .into_iter()
                        .map(|r| {
                            let (outcome, class) = match r.outcome {
                                Outcome::Done => ("Done", "ok-text"),
                                Outcome::Unchanged => ("Unchanged", "muted"),
                                Outcome::Refused => ("Refused", "error-text"),
                                Outcome::Skipped => ("Skipped", "muted"),
                            };
                            let kind = match r.kind {
                                ObjectKind::Product => "Product",
                                ObjectKind::Price => "Price",
                            };
                            let source_id = r.source_id.clone();
                            view! {
                                <tr data-testid="copy-report-row" data-source=source_id>
                                    <td>{kind} " " {r.label} <div><code>{r.source_id}</code></div></td>
                                    <td>{r.change.label()}</td>
                                    <td class=class data-testid="copy-outcome">{outcome}</td>
                                    <td>{r.live_id.map(|id| view! { <code>{id}</code> })}</td>
                                    <td>{r.message}</td>
                                </tr>
                            }
                        })
                        .collect_view()}
                </tbody>
            </table>
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::services::catalog_copy::{PricePlan, ProductPlan, ReportRow};

    fn change(field: &str, from: Option<&str>, to: Option<&str>) -> FieldChange {
        FieldChange { field: field.into(), from: from.map(Into::into), to: to.map(Into::into) }
    }

    #[test]
    fn fields_read_as_old_to_new() {
        assert_eq!(field_text(&change("name", Some("Pro"), Some("Pro Plus"))), "name: Pro → Pro Plus");
        assert_eq!(field_text(&change("amount", None, Some("$12.00"))), "amount: $12.00");
        assert_eq!(field_text(&change("metadata.tier", Some("a"), None)), "metadata.tier: a → —");
    }

    #[test]
    fn the_preview_and_the_report_render_every_row() {
        let owner = Owner::new();
        owner.with(|| {
            let plan = CopyPlan {
                products: vec![ProductPlan {
                    source_id: "prod_t".into(),
                    name: "Pro".into(),
                    live_id: Some("prod_l".into()),
                    matched_by: Some(MatchedBy::SourceId),
                    change: Change::Update,
                    fields: vec![change("name", Some("Pro"), Some("Pro Plus"))],
                    prices: vec![PricePlan {
                        source_id: "price_t".into(),
                        label: "$12.00 / month".into(),
                        live_id: None,
                        matched_by: None,
                        change: Change::Create,
                        fields: vec![change("amount", None, Some("$12.00"))],
                        note: Some("The lookup key “k” belongs to live price price_x.".into()),
                    }],
                }],
                fingerprint: "f".into(),
            };
            let html = view! { <PlanTable plan /> }.to_html();
            for expected in ["name: Pro → Pro Plus", "by recorded test id", "amount: $12.00", "belongs to live price"]
            {
                assert!(html.contains(expected), "{expected} in {html}");
            }
            let report = CopyReport {
                rows: vec![ReportRow {
                    kind: ObjectKind::Price,
                    source_id: "price_t".into(),
                    product_source_id: "prod_t".into(),
                    label: "$12.00 / month".into(),
                    change: Change::Create,
                    live_id: None,
                    outcome: Outcome::Refused,
                    message: Some("A price already uses that lookup key.".into()),
                }],
            };
            let html = view! { <ReportTable report /> }.to_html();
            assert!(html.contains("0 done, 1 refused") && html.contains("already uses that lookup key"), "{html}");
        });
    }
}
