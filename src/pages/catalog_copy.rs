//! Copy the catalog from test to live (admins; issue #14): choose products, read the preview of
//! what would be created or updated in live, type `live`, copy, and read the per-object report.
//! The work is `crate::services::catalog_copy`; these server functions authorise and call it.

use crate::error::AppError;
use crate::pages::lazy::{EditingIsland, EditingPage};
use crate::services::catalog_copy::{
    Change, CopyPlan, CopyReport, CopySource, FieldChange, MatchedBy, ObjectKind, Outcome, CONFIRMATION,
};
use crate::ui::enhance::{EnhancedForm, FormErrors, PageForms, Reveal};
use crate::ui::error::ErrorPanel;
use crate::ui::islands::use_page_query;
use crate::ui::layout::use_env;
use crate::ui::resource::resource;
use leptos::prelude::*;
use leptos::server_fn::codec::Json;
use leptos::server_fn::ServerFn;
use leptos_meta::Title;
use serde::{Deserialize, Serialize};
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

/// `copy_to_live` for the page's form, whose fields arrive URL-encoded as a form posts them
/// (`products[0]`, `products[1]`, …): answers the report as the page shows it ([`ReportView`]).
/// Admins only.
#[server(prefix = "/api/console", endpoint = "catalog-copy-run-form")]
pub async fn copy_to_live_form(
    products: Vec<String>,
    confirm: String,
    fingerprint: String,
) -> Result<ReportView, AppError> {
    copy_to_live(products, confirm, fingerprint).await.map(ReportView::from)
}

/// A copy's report in the page's words, which the page's `Reveal` fills in (`crate::ui::enhance`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportView {
    /// "2 done, 0 refused, 1 skipped, 0 unchanged."
    pub summary: String,
    pub rows: Vec<ReportRowView>,
}

/// One object of a copy's report, in the page's words.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportRowView {
    /// "Price $12.00 / month".
    pub object: String,
    pub source_id: String,
    /// The change it was: "Create", "Update"…
    pub change: String,
    /// "Done", "Refused", "Skipped" or "Unchanged".
    pub outcome: String,
    /// The outcome's class: `ok-text`, `error-text` or `muted`.
    pub outcome_class: String,
    pub live_id: Option<String>,
    pub message: Option<String>,
}

impl From<CopyReport> for ReportView {
    fn from(report: CopyReport) -> Self {
        let summary = format!(
            "{} done, {} refused, {} skipped, {} unchanged.",
            report.count(Outcome::Done),
            report.count(Outcome::Refused),
            report.count(Outcome::Skipped),
            report.count(Outcome::Unchanged)
        );
        let rows = report
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
                ReportRowView {
                    object: format!("{kind} {}", r.label),
                    source_id: r.source_id,
                    change: r.change.label().to_owned(),
                    outcome: outcome.to_owned(),
                    outcome_class: class.to_owned(),
                    live_id: r.live_id,
                    message: r.message,
                }
            })
            .collect();
        ReportView { summary, rows }
    }
}

/// The page.
#[component]
pub fn CatalogCopyPage() -> impl IntoView {
    view! {
        <Title text="Copy the catalog to live" />
        <EditingIsland page=EditingPage::CatalogCopy />
    }
}

/// The products chosen in the page's address: every one with `all=1`, else each `product`; and
/// whether a preview was asked for (`preview=1`, the Preview button's), even of nothing.
fn chosen_in_query() -> (bool, Vec<String>, bool) {
    let query = use_page_query().0;
    let all = query.get_str("all") == Some("1");
    let products = query.get_all("product").unwrap_or_default();
    let asked = query.get_str("preview") == Some("1") || all || !products.is_empty();
    (all, products, asked)
}

/// The page's body, the server's HTML (`crate::pages::lazy::EditingPage`): the
/// choice is a GET form whose address the server previews, and the copy a form that the page's
/// one small island sends once `live` is typed ([`PageForms`]), then shows its report in place
/// ([`Reveal`]) over the preview read again (issue #13).
#[component]
pub(crate) fn CopyBody() -> impl IntoView {
    let env = use_env().get_untracked();
    let source = resource(|| (), |_| load_copy_source());
    view! {
        <div class="catalog-copy-page">
            <p><a href=format!("/{env}/catalog")>"← Catalog"</a></p>
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
            <PageForms />
        </div>
    }
}

/// Choose (a GET form), preview (the server's, of the chosen products), confirm and copy (a
/// form), report (in place).
#[component]
fn CopyForm(source: CopySource) -> impl IntoView {
    let (all, products, asked) = chosen_in_query();
    let chosen: BTreeSet<String> =
        if all { source.products.iter().map(|p| p.id.clone()).collect() } else { products.into_iter().collect() };
    let count = source.products.len();
    let all_checked = count > 0 && source.products.iter().all(|p| chosen.contains(&p.id));
    let listed: Vec<String> = chosen.iter().cloned().collect();
    let plan = asked.then(|| {
        let products = listed.clone();
        resource(|| (), move |_| copy_preview(products.clone()))
    });
    view! {
        <section class="card" aria-labelledby="copy-choose">
            <h2 id="copy-choose">"1. Choose products"</h2>
            {(count == 0).then(|| view! { <p class="muted">"The test catalog has no products."</p> })}
            <form method="get" data-testid="copy-choose-form" data-invalidates="copy-plan-section">
                <input type="hidden" name="preview" value="1" />
                <label class="catalog-check">
                    <input type="checkbox" name="all" value="1" data-testid="copy-all" data-check-all="product" checked=all_checked />
                    <span>{format!("All ({count})")}</span>
                </label>
                <ul class="copy-choices">
                    {source
                        .products
                        .into_iter()
                        .map(|p| {
                            let checked = chosen.contains(&p.id);
                            view! {
                                <li>
                                    <label class="catalog-check">
                                        <input type="checkbox" name="product" data-testid="copy-product" value=p.id.clone() checked=checked />
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
                <button type="submit" class="button-primary" data-testid="copy-preview">"Preview"</button>
            </form>
        </section>
        {plan.map(|plan| view! {
            <Suspense fallback=|| view! { <div class="skeleton" aria-busy="true">"Reading live…"</div> }>
                {move || {
                    let listed = listed.clone();
                    Suspend::new(async move {
                        match plan.await {
                            Ok(p) => view! { <PlanSection plan=p products=listed /> }.into_any(),
                            Err(e) => view! {
                                <p class="error-panel" role="alert" id="copy-plan-section" data-testid="copy-error">{e.to_string()}</p>
                            }
                            .into_any(),
                        }
                    })
                }}
            </Suspense>
        })}
        <ReportTemplate />
    }
}

/// The preview of what copying `products` changes in live, with the form that copies them once
/// `live` is typed; the plan's fingerprint makes the server refuse a copy of anything else.
#[component]
fn PlanSection(plan: CopyPlan, products: Vec<String>) -> impl IntoView {
    let has_work = plan.has_work();
    let summary = format!(
        "{} to create, {} to update, {} to replace, {} unchanged, {} not copied.",
        plan.count(Change::Create),
        plan.count(Change::Update),
        plan.count(Change::Replace),
        plan.count(Change::Unchanged),
        plan.count(Change::NotCopied)
    );
    let fingerprint = plan.fingerprint.clone();
    view! {
        <section class="card" id="copy-plan-section" aria-labelledby="copy-preview-title">
            <h2 id="copy-preview-title">"2. What changes in live"</h2>
            <p data-testid="copy-summary">{summary}</p>
            <PlanTable plan />
            {if has_work {
                view! {
                    <EnhancedForm
                        action=CopyToLiveForm::url()
                        done=""
                        failed="The catalog was not copied"
                        reveal="copy-report"
                        testid="copy-confirm-form"
                    >
                        {products
                            .into_iter()
                            .enumerate()
                            .map(|(i, id)| view! { <input type="hidden" name=format!("products[{i}]") value=id /> })
                            .collect_view()}
                        <input type="hidden" name="fingerprint" value=fingerprint />
                        <div class="copy-confirm">
                            <label>
                                <span>"This writes to live. Type " <strong>{CONFIRMATION}</strong> " to confirm."</span>
                                <input type="text" name="confirm" autocomplete="off" data-testid="copy-confirm" data-unlocks=CONFIRMATION />
                            </label>
                            // Enabled once `live` is typed, which needs the island; so does the report.
                            <button type="submit" class="button-danger" data-testid="copy-run" disabled=true data-pending-label="Copying…">
                                "Copy to live"
                            </button>
                        </div>
                        <FormErrors server="copy-error" />
                    </EnhancedForm>
                }
                .into_any()
            } else {
                view! { <p class="ok-text" data-testid="copy-nothing">"Live already matches: nothing to copy."</p> }.into_any()
            }}
        </section>
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

/// Where a copy's report is shown once it is done ([`Reveal`], filled from a [`ReportView`]).
#[component]
fn ReportTemplate() -> impl IntoView {
    view! {
        <Reveal id="copy-report" testid="copy-report-card" class="card">
            <h2>"3. Report"</h2>
            <p data-testid="copy-report-summary" data-reveal-field="summary"></p>
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
                    <tr data-testid="copy-report-row" data-reveal-each="rows">
                        <td><span data-reveal-field="object"></span> <div><code data-reveal-field="source_id"></code></div></td>
                        <td data-reveal-field="change"></td>
                        <td data-testid="copy-outcome" data-reveal-field="outcome" data-reveal-class="outcome_class"></td>
                        <td><code data-reveal-field="live_id"></code></td>
                        <td data-reveal-field="message"></td>
                    </tr>
                </tbody>
            </table>
        </Reveal>
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
    fn the_preview_renders_every_row_and_the_report_every_field() {
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
            // The report in the page's words, which its template shows (`ReportTemplate`).
            let view = ReportView::from(report);
            assert_eq!(view.summary, "0 done, 1 refused, 0 skipped, 0 unchanged.");
            let row = &view.rows[0];
            assert_eq!((row.object.as_str(), row.change.as_str()), ("Price $12.00 / month", "Create"));
            assert_eq!((row.outcome.as_str(), row.outcome_class.as_str()), ("Refused", "error-text"));
            assert_eq!(row.message.as_deref(), Some("A price already uses that lookup key."));
            let html = view! { <ReportTemplate /> }.to_html();
            for field in ["summary", "object", "source_id", "change", "outcome", "live_id", "message"] {
                assert!(html.contains(&format!(r#"data-reveal-field="{field}""#)), "{field} in {html}");
            }
            assert!(
                html.contains(r#"data-reveal-each="rows""#) && html.contains(r#"data-reveal-class="outcome_class""#)
            );
        });
    }
}
