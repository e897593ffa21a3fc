//! The audit log page (admin): every admin write with who, when, what and the Stripe request.

use crate::error::AppError;
use crate::model::audit::AuditPage;
use crate::model::format::{unix_iso, url_encode};
use crate::ui::guard::AdminOnly;
use crate::ui::resource::resource;
use crate::ui::time::Time;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;
use payments_model::Cursor;

/// Entries of the audit log after `cursor`. Admins only.
#[server(prefix = "/api/console", endpoint = "audit")]
pub async fn audit_entries(cursor: Option<Cursor>) -> Result<AuditPage, AppError> {
    use crate::server::{errors::internal, state::app_state};
    crate::auth::ssr::require_admin()?;
    app_state().audit.page(cursor.as_ref(), 50).await.map_err(internal)
}

/// The audit log, 50 entries a page; the cursor lives in the URL so a page can be shared.
#[component]
pub fn AuditPage() -> impl IntoView {
    view! {
        <AdminOnly>
            <AuditTable />
        </AdminOnly>
    }
}

#[component]
fn AuditTable() -> impl IntoView {
    let query = use_query_map();
    let cursor = Memo::new(move |_| query.read().get("cursor").and_then(Cursor::new));
    let page = resource(move || cursor.get(), audit_entries);
    view! {
        <Title text="Audit log" />
        <h1>"Audit log"</h1>
        <p class="muted">"Every change made by an admin or on the command line, newest first."</p>
        <Suspense fallback=|| view! { <div class="table-skeleton" aria-busy="true">"Loading…"</div> }>
            {move || Suspend::new(async move {
                page.await.map(|page| {
                    let next = page.next_cursor.clone();
                    view! {
                        <table class="data-table" data-testid="audit-table">
                            <thead>
                                <tr>
                                    <th scope="col">"When"</th>
                                    <th scope="col">"Who"</th>
                                    <th scope="col">"Action"</th>
                                    <th scope="col">"Environment"</th>
                                    <th scope="col">"Target"</th>
                                    <th scope="col">"Detail"</th>
                                    <th scope="col">"Stripe request"</th>
                                </tr>
                            </thead>
                            <tbody>
                                {page.entries.is_empty().then(|| view! {
                                    <tr><td colspan="7" class="empty">"Nothing recorded yet."</td></tr>
                                })}
                                {page
                                    .entries
                                    .into_iter()
                                    .map(|e| {
                                        view! {
                                            <tr>
                                                <td class="nowrap"><Time iso=unix_iso(e.at) /></td>
                                                <td>{e.actor}</td>
                                                <td><code>{e.action}</code></td>
                                                <td>{e.environment.unwrap_or_default()}</td>
                                                <td>{e.target.unwrap_or_default()}</td>
                                                <td>{e.detail.unwrap_or_default()}</td>
                                                <td><code>{e.stripe_request_id.unwrap_or_default()}</code></td>
                                            </tr>
                                        }
                                    })
                                    .collect_view()}
                            </tbody>
                        </table>
                        <nav class="pager" aria-label="Pages">
                            <Show when=move || cursor.get().is_some()>
                                <a href="?">"Newest"</a>
                            </Show>
                            {next.map(|c| {
                                let href = format!("?cursor={}", url_encode(c.as_str()));
                                view! { <a href=href rel="next">"Older →"</a> }
                            })}
                        </nav>
                    }
                })
            })}
        </Suspense>
    }
}
