//! API keys (admins): the `ik_…` keys apps and the InsForge CLI use for `/api/payments`.
//! A key is shown once, when it is created; the console keeps only its digest and prefix.

use crate::error::AppError;
use crate::model::format::unix_iso;
use crate::pages::lazy::{EditingIsland, EditingPage};
use crate::ui::confirm::ConfirmDialog;
use crate::ui::resource::resource;
use crate::ui::time::{Time, TimeOr};
use leptos::prelude::*;
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

#[component]
pub(crate) fn ApiKeysBody() -> impl IntoView {
    let create = ServerAction::<CreateApiKey>::new();
    let revoke = ServerAction::<RevokeApiKey>::new();
    let keys = resource(move || (create.version().get(), revoke.version().get()), |_| list_api_keys());
    let target = RwSignal::new((String::new(), String::new()));
    let confirm_revoke = RwSignal::new(false);
    let created = move || {
        create.value().get().map(|r| match r {
            Ok(new) => view! {
                <div class="notice" role="status" data-testid="new-api-key">
                    <p>{format!("API key “{}” created. Copy it now: it is shown only once.", new.row.name)}</p>
                    <p>
                        <code class="secret-once" data-testid="new-api-key-value">{new.key.clone()}</code>
                        " "
                        <crate::ui::copy::CopyButton value=new.key.clone() class="button-secondary" />
                    </p>
                </div>
            }
            .into_any(),
            Err(e) => view! { <p class="error-panel" role="alert">{e.to_string()}</p> }.into_any(),
        })
    };
    view! {
        <ConfirmDialog
            open=confirm_revoke
            title=Signal::derive(move || format!("Revoke “{}”?", target.get().1))
            message="Apps and CLIs using this key are refused from now on. This cannot be undone; create a new key instead."
            confirm_label="Revoke key"
            on_confirm=Callback::new(move |_| {
                revoke.dispatch(RevokeApiKey { id: target.get_untracked().0 });
            })
            destructive=true
        />
        <h1>"API keys"</h1>
        <p class="muted">"Keys for apps, the InsForge SDK and CLI to call this console's payments API (/api/payments) as an admin."</p>
        {created}
        {move || revoke.value().get().and_then(Result::err).map(|e| view! { <p class="error-panel" role="alert">{e.to_string()}</p> })}
        <section class="card" aria-labelledby="create-key-title">
            <h2 id="create-key-title">"Create a key"</h2>
            <ActionForm action=create attr:class="filters" attr:data-testid="create-key-form">
                <label>"Name" <input type="text" name="name" required maxlength="100" placeholder="deploy-bot" autocomplete="off" /></label>
                <button type="submit" class="button-primary">"Create key"</button>
            </ActionForm>
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
                            {rows.into_iter().map(|k| {
                                let revoked = k.revoked_at.is_some();
                                let (id, name) = (k.id.clone(), k.name.clone());
                                view! {
                                    <tr data-testid="api-key-row" data-id=k.id.clone()>
                                        <td>{k.name.clone()}</td>
                                        <td><code>{format!("{}…", k.prefix)}</code></td>
                                        <td class="nowrap"><Time iso=unix_iso(k.created_at) /></td>
                                        <td class="nowrap"><TimeOr iso=k.last_used_at.map(unix_iso) none="never" /></td>
                                        <td>{if revoked {
                                            view! { <span class="badge badge-danger">"revoked"</span> }.into_any()
                                        } else {
                                            view! { <span class="badge badge-ok">"active"</span> }.into_any()
                                        }}</td>
                                        <td>{(!revoked).then(|| view! {
                                            <button type="button" class="button-danger" data-testid="api-key-revoke" on:click=move |_| {
                                                target.set((id.clone(), name.clone()));
                                                confirm_revoke.set(true);
                                            }>"Revoke"</button>
                                        })}</td>
                                    </tr>
                                }
                            }).collect_view()}
                        </tbody>
                    </table>
                })
            })}
        </Suspense>
    }
}
