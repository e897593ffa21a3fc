//! API keys (admins): the `ik_…` keys apps and the InsForge CLI use for `/api/payments`.
//! A key is shown once, when it is created; the console keeps only its digest and prefix.

use crate::error::AppError;
use crate::model::format::unix_iso;
use crate::pages::lazy::{EditingIsland, EditingPage};
use crate::ui::enhance::{Confirmation, EnhancedForm, FormErrors, PageForms, Reveal};
use crate::ui::resource::resource;
use crate::ui::time::{Time, TimeOr};
use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_meta::Title;
use serde::{Deserialize, Serialize};

/// A key as the page lists it (never the key itself).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiKeyRow {
    pub id: String,
    pub name: String,
    /// `ik_` and the key's first characters.
    pub prefix: String,
    /// Unix seconds.
    pub created_at: i64,
    pub last_used_at: Option<i64>,
    pub revoked_at: Option<i64>,
}

/// A new key, with the one copy of its secret.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewApiKey {
    pub row: ApiKeyRow,
    pub key: String,
}

#[cfg(feature = "ssr")]
impl From<crate::server::api_keys::ApiKeyRecord> for ApiKeyRow {
    fn from(r: crate::server::api_keys::ApiKeyRecord) -> Self {
        ApiKeyRow {
            id: r.id,
            name: r.name,
            prefix: r.prefix,
            created_at: r.created_at,
            last_used_at: r.last_used_at,
            revoked_at: r.revoked_at,
        }
    }
}

/// Every key, newest first. Admins only.
#[server(prefix = "/api/console", endpoint = "api-keys-list")]
pub async fn list_api_keys() -> Result<Vec<ApiKeyRow>, AppError> {
    crate::auth::ssr::require_admin()?;
    let keys = crate::server::state::app_state().api_keys.list().await.map_err(crate::server::errors::internal)?;
    Ok(keys.into_iter().map(ApiKeyRow::from).collect())
}

/// Creates a key and returns it, to be shown once. Admins only.
#[server(prefix = "/api/console", endpoint = "api-keys-create")]
pub async fn create_api_key(name: String) -> Result<NewApiKey, AppError> {
    use super::users::ssr::{accounts, actor, refused};
    let admin = crate::auth::ssr::require_admin()?;
    let (record, key) = accounts().create_api_key(&actor(&admin), &name).await.map_err(refused)?;
    Ok(NewApiKey { row: record.into(), key: key.expose().to_owned() })
}

/// Revokes a key: apps using it are refused from then on. Admins only.
#[server(prefix = "/api/console", endpoint = "api-keys-revoke")]
pub async fn revoke_api_key(id: String) -> Result<(), AppError> {
    use super::users::ssr::{accounts, actor, refused};
    let admin = crate::auth::ssr::require_admin()?;
    accounts().revoke_api_key(&actor(&admin), id.trim()).await.map_err(refused).map(|_| ())
}

/// The page.
#[component]
pub fn ApiKeysPage() -> impl IntoView {
    view! {
        <Title text="API keys" />
        <EditingIsland page=EditingPage::ApiKeys />
    }
}

/// The page's body, the server's HTML (`crate::pages::lazy::EditingPage`): creating
/// and revoking are forms that the page's one small island sends ([`PageForms`]); a new key is
/// shown once in place ([`Reveal`]) above the list read again (issue #13).
#[component]
pub(crate) fn ApiKeysBody() -> impl IntoView {
    let keys = resource(|| (), |_| list_api_keys());
    view! {
        <h1>"API keys"</h1>
        <p class="muted">"Keys for apps, the InsForge SDK and CLI to call this console's payments API (/api/payments) as an admin."</p>
        <Reveal id="new-api-key" testid="new-api-key">
            <p>"API key “" <span data-reveal-field="row.name"></span> "” created. Copy it now: it is shown only once."</p>
            <p>
                <code class="secret-once" data-testid="new-api-key-value" data-reveal-field="key"></code>
                " "
                <button type="button" class="button-secondary" title="Copy to clipboard" data-reveal-copy="key">"Copy"</button>
            </p>
        </Reveal>
        <section class="card" aria-labelledby="create-key-title">
            <h2 id="create-key-title">"Create a key"</h2>
            <EnhancedForm
                action=CreateApiKey::url()
                done=""
                failed="The key was not created"
                reveal="new-api-key"
                testid="create-key-form"
            >
                <div class="filters">
                    <label>
                        "Name"
                        <input type="text" name="name" maxlength="100" placeholder="deploy-bot" autocomplete="off" aria-invalid="false" data-required="Name the key, e.g. after the app that uses it." />
                    </label>
                    // The key is shown in place, which a plain form post would lose.
                    <button type="submit" class="button-primary" disabled=true data-needs-js="" data-pending-label="Creating…">
                        "Create key"
                    </button>
                </div>
                <FormErrors client="api-key-error" server="api-key-error" />
            </EnhancedForm>
        </section>
        <Suspense fallback=|| view! { <div class="table-skeleton" aria-busy="true">"Loading…"</div> }>
            {move || Suspend::new(async move {
                keys.await.map(|rows| view! {
                    <table class="data-table" data-testid="api-keys-table">
                        <thead>
                            <tr>
                                <th scope="col">"Name"</th>
                                <th scope="col">"Key"</th>
                                <th scope="col">"Created"</th>
                                <th scope="col">"Last used"</th>
                                <th scope="col">"Status"</th>
                                <th scope="col"><span class="visually-hidden">"Actions"</span></th>
                            </tr>
                        </thead>
                        <tbody>
                            {rows.is_empty().then(|| view! { <tr><td colspan="6" class="empty">"No API keys yet."</td></tr> })}
                            {rows.into_iter().map(|k| view! { <ApiKeyRowView key=k /> }).collect_view()}
                        </tbody>
                    </table>
                })
            })}
        </Suspense>
        <PageForms />
    }
}

/// A key's row; an active one with the form that revokes it, after a confirmation.
#[component]
fn ApiKeyRowView(key: ApiKeyRow) -> impl IntoView {
    let revoked = key.revoked_at.is_some();
    let id = key.id.clone();
    let revoke = Confirmation {
        title: format!("Revoke “{}”?", key.name),
        message:
            "Apps and CLIs using this key are refused from now on. This cannot be undone; create a new key instead."
                .to_owned(),
        label: "Revoke key".to_owned(),
        destructive: true,
    };
    view! {
        <tr data-testid="api-key-row" data-id=key.id>
            <td>{key.name.clone()}</td>
            <td><code>{format!("{}…", key.prefix)}</code></td>
            <td class="nowrap"><Time iso=unix_iso(key.created_at) /></td>
            <td class="nowrap"><TimeOr iso=key.last_used_at.map(unix_iso) none="never" /></td>
            <td>{if revoked {
                view! { <span class="badge badge-danger">"revoked"</span> }.into_any()
            } else {
                view! { <span class="badge badge-ok">"active"</span> }.into_any()
            }}</td>
            <td>{(!revoked).then(|| view! {
                <EnhancedForm
                    action=RevokeApiKey::url()
                    done=format!("API key “{}” revoked: apps using it are refused from now on.", key.name)
                    failed="The key was not revoked"
                    confirm=revoke
                >
                    <input type="hidden" name="id" value=id />
                    <button type="submit" class="button-danger" data-testid="api-key-revoke" disabled=true data-needs-js="">
                        "Revoke"
                    </button>
                </EnhancedForm>
            })}</td>
        </tr>
    }
}
