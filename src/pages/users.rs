//! Users (admins): who may sign in, with which role; add, change the role, reset the password,
//! deactivate and reactivate, remove. And every user's own password (`/{env}/account`).

use crate::auth::Role;
use crate::error::AppError;
use crate::model::format::unix_iso;
use crate::pages::lazy::{EditingIsland, EditingPage};
use crate::ui::confirm::ConfirmDialog;
use crate::ui::resource::resource;
use crate::ui::time::{Time, TimeOr};
use leptos::prelude::*;
use leptos_meta::Title;
use serde::{Deserialize, Serialize};

/// A user as the Users page lists them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserRow {
    pub email: String,
    pub role: Role,
    /// Unix seconds.
    pub created_at: i64,
    pub last_sign_in_at: Option<i64>,
    /// Sessions used within the idle timeout.
    pub active_sessions: i64,
    /// Unix seconds; set while the user may not sign in.
    pub deactivated_at: Option<i64>,
    /// The signed-in admin's own account.
    pub you: bool,
}

/// A password the console made, to be shown once to the admin who asked for it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OneTimePassword {
    pub email: String,
    pub password: String,
}

#[cfg(feature = "ssr")]
pub(crate) mod ssr {
    use crate::error::AppError;
    use crate::server::errors::internal;
    use crate::server::users::EmailAddress;
    use crate::services::accounts::{AccountError, Accounts};

    /// The accounts of the running server.
    pub fn accounts() -> Accounts {
        let state = crate::server::state::app_state();
        Accounts::of(state.users, state.api_keys, state.audit)
    }

    /// One error path for the account pages: the person's words for refusals, a logged 500
    /// for storage failures.
    pub fn refused(e: AccountError) -> AppError {
        match e {
            AccountError::Invalid(m) | AccountError::NotFound(m) | AccountError::LastAdmin(m) => AppError::Invalid(m),
            AccountError::Storage(e) => internal(e),
        }
    }

    pub fn email(raw: &str) -> Result<EmailAddress, AppError> {
        EmailAddress::parse(raw).map_err(|m| AppError::Invalid(format!("Enter a valid email address: {m}.")))
    }

    pub fn actor(user: &crate::auth::CurrentUser) -> String {
        format!("user:{}", user.email)
    }
}

/// Every user. Admins only.
#[server(prefix = "/api/console", endpoint = "users-list")]
pub async fn list_users() -> Result<Vec<UserRow>, AppError> {
    let user = crate::auth::ssr::require_admin()?;
    let state = crate::server::state::app_state();
    let users = state
        .users
        .overview(state.settings.session_idle_timeout_secs)
        .await
        .map_err(crate::server::errors::internal)?;
    Ok(users
        .into_iter()
        .map(|u| UserRow {
            you: u.user.email == user.email,
            email: u.user.email,
            role: u.user.role,
            created_at: u.user.created_at,
            last_sign_in_at: u.last_sign_in_at,
            active_sessions: u.active_sessions,
            deactivated_at: u.user.deactivated_at,
        })
        .collect())
}

/// Adds a user. An empty `password` makes a one-time password, returned to be shown once.
/// Admins only.
#[server(prefix = "/api/console", endpoint = "users-add")]
pub async fn add_user(email: String, role: Role, password: String) -> Result<Option<OneTimePassword>, AppError> {
    use crate::server::users::NewPassword;
    let admin = crate::auth::ssr::require_admin()?;
    let email = ssr::email(&email)?;
    let (password, shown) = if password.is_empty() {
        let (password, shown) = crate::services::accounts::one_time_password();
        (password, Some(shown))
    } else {
        let password =
            NewPassword::parse(password).map_err(|m| AppError::Invalid(format!("The password is too weak: {m}.")))?;
        (password, None)
    };
    let one_time = shown.is_some();
    let record =
        ssr::accounts().add_user(&ssr::actor(&admin), &email, role, password, one_time).await.map_err(ssr::refused)?;
    Ok(shown.map(|s| OneTimePassword { email: record.email, password: s.expose().to_owned() }))
}

/// Changes a user's role; their sessions end. Admins only.
#[server(prefix = "/api/console", endpoint = "users-set-role")]
pub async fn set_user_role(email: String, role: Role) -> Result<(), AppError> {
    let admin = crate::auth::ssr::require_admin()?;
    let email = ssr::email(&email)?;
    ssr::accounts().set_role(&ssr::actor(&admin), &email, role).await.map_err(ssr::refused)
}

/// Removes a user; their sessions end at once. Admins only.
#[server(prefix = "/api/console", endpoint = "users-remove")]
pub async fn remove_user(email: String) -> Result<(), AppError> {
    let admin = crate::auth::ssr::require_admin()?;
    let email = ssr::email(&email)?;
    ssr::accounts().remove_user(&ssr::actor(&admin), &email).await.map_err(ssr::refused)
}

/// Deactivates a user (`active: false`; they are signed out at once and cannot sign in until
/// reactivated) or reactivates one. Admins only.
#[server(prefix = "/api/console", endpoint = "users-set-active")]
pub async fn set_user_active(email: String, active: bool) -> Result<(), AppError> {
    let admin = crate::auth::ssr::require_admin()?;
    let email = ssr::email(&email)?;
    ssr::accounts().set_active(&ssr::actor(&admin), &email, active).await.map_err(ssr::refused)
}

/// Gives a user a new one-time password, shown once; their sessions end. Admins only.
#[server(prefix = "/api/console", endpoint = "users-reset-password")]
pub async fn reset_user_password(email: String) -> Result<OneTimePassword, AppError> {
    let admin = crate::auth::ssr::require_admin()?;
    let email = ssr::email(&email)?;
    let shown = ssr::accounts().reset_password(&ssr::actor(&admin), &email).await.map_err(ssr::refused)?;
    Ok(OneTimePassword { email: email.as_str().to_owned(), password: shown.expose().to_owned() })
}

/// Changes the caller's own password (the current one is required); their other sessions end.
/// Any signed-in user.
#[server(prefix = "/api/console", endpoint = "account-password")]
pub async fn change_password(current: String, new: String) -> Result<(), AppError> {
    use crate::server::users::NewPassword;
    let session = crate::auth::ssr::require_session()?;
    let email = ssr::email(&session.user.email)?;
    let new = NewPassword::parse(new).map_err(|m| AppError::Invalid(format!("The new password is too weak: {m}.")))?;
    ssr::accounts().change_own_password(&email, current.into(), new, &session.token_hash).await.map_err(ssr::refused)
}

/// The Users page.
#[component]
pub fn UsersPage() -> impl IntoView {
    view! {
        <Title text="Users" />
        <EditingIsland page=EditingPage::Users />
    }
}

/// A one-time password, shown once with what to do with it.
#[component]
fn PasswordOnce(shown: OneTimePassword) -> impl IntoView {
    view! {
        <div class="notice" role="status" data-testid="one-time-password">
            <p>
                {format!("One-time password for {}: ", shown.email)}
                <code class="secret-once" data-testid="one-time-password-value">{shown.password}</code>
            </p>
            <p class="muted small">"Shown once: hand it over now. They sign in with it and change it on their Account page."</p>
        </div>
    }
}

#[component]
pub(crate) fn UsersBody() -> impl IntoView {
    let add = ServerAction::<AddUser>::new();
    let set_role = ServerAction::<SetUserRole>::new();
    let remove = ServerAction::<RemoveUser>::new();
    let reset = ServerAction::<ResetUserPassword>::new();
    let set_active = ServerAction::<SetUserActive>::new();
    // Every finished change reloads the list.
    let users = resource(
        move || {
            (
                add.version().get(),
                set_role.version().get(),
                remove.version().get(),
                reset.version().get(),
                set_active.version().get(),
            )
        },
        |_| list_users(),
    );
    let outcome = move || {
        let failed = [
            add.value().get().and_then(Result::err),
            set_role.value().get().and_then(Result::err),
            remove.value().get().and_then(Result::err),
            reset.value().get().and_then(Result::err),
            set_active.value().get().and_then(Result::err),
        ];
        let error = failed.into_iter().flatten().next();
        let shown = add.value().get().and_then(Result::ok).flatten().or(reset.value().get().and_then(Result::ok));
        view! {
            {error.map(|e| view! { <p class="error-panel" role="alert" data-testid="users-error">{e.to_string()}</p> })}
            {shown.map(|s| view! { <PasswordOnce shown=s /> })}
        }
    };
    // Removing and deactivating ask first, naming who loses access.
    let target = RwSignal::new(String::new());
    let confirm_remove = RwSignal::new(false);
    let ask_remove = Callback::new(move |email: String| {
        target.set(email);
        confirm_remove.set(true);
    });
    let confirm_deactivate = RwSignal::new(false);
    let ask_deactivate = Callback::new(move |email: String| {
        target.set(email);
        confirm_deactivate.set(true);
    });
    view! {
        <ConfirmDialog
            open=confirm_deactivate
            title=Signal::derive(move || format!("Deactivate {}?", target.get()))
            message="They are signed out at once and cannot sign in until an admin reactivates them. Their account, role and audit entries stay."
            confirm_label="Deactivate user"
            on_confirm=Callback::new(move |_| {
                set_active.dispatch(SetUserActive { email: target.get_untracked(), active: false });
            })
            destructive=true
        />
        <ConfirmDialog
            open=confirm_remove
            title=Signal::derive(move || format!("Remove {}?", target.get()))
            message="They are signed out at once and can no longer sign in. Their entries in the audit log stay."
            confirm_label="Remove user"
            on_confirm=Callback::new(move |_| {
                remove.dispatch(RemoveUser { email: target.get_untracked() });
            })
            destructive=true
        />
        <h1>"Users"</h1>
        <p class="muted">"Admins change keys, the catalog and users; support staff read customers, subscriptions, payments and events."</p>
        {outcome}
        <Suspense fallback=|| view! { <div class="table-skeleton" aria-busy="true">"Loading…"</div> }>
            {move || Suspend::new(async move {
                users.await.map(|rows| view! {
                    <table class="data-table" data-testid="users-table">
                        <thead>
                            <tr>
                                <th scope="col">"Email"</th>
                                <th scope="col">"Role"</th>
                                <th scope="col">"Status"</th>
                                <th scope="col">"Last sign-in"</th>
                                <th scope="col" class="num">"Active sessions"</th>
                                <th scope="col">"Added"</th>
                                <th scope="col"><span class="visually-hidden">"Actions"</span></th>
                            </tr>
                        </thead>
                        <tbody>
                            {rows
                                .into_iter()
                                .map(|u| view! { <UserRowView user=u set_role ask_remove ask_deactivate reset set_active /> })
                                .collect_view()}
                        </tbody>
                    </table>
                })
            })}
        </Suspense>
        <section class="card" aria-labelledby="add-user-title">
            <h2 id="add-user-title">"Add a user"</h2>
            <ActionForm action=add attr:class="filters" attr:data-testid="add-user-form">
                <label>"Email" <input type="email" name="email" required autocomplete="off" /></label>
                <label>
                    "Role"
                    <select name="role">
                        <option value="support">"Support (read-only)"</option>
                        <option value="admin">"Admin"</option>
                    </select>
                </label>
                <label>
                    "Password"
                    <input type="password" name="password" autocomplete="new-password" placeholder="empty: a one-time password" />
                </label>
                <button type="submit" class="button-primary">"Add user"</button>
            </ActionForm>
        </section>
    }
}

#[component]
fn UserRowView(
    user: UserRow,
    set_role: ServerAction<SetUserRole>,
    ask_remove: Callback<String>,
    ask_deactivate: Callback<String>,
    reset: ServerAction<ResetUserPassword>,
    set_active: ServerAction<SetUserActive>,
) -> impl IntoView {
    let other = match user.role {
        Role::Admin => (Role::Support, "Make support"),
        Role::Support => (Role::Admin, "Make admin"),
    };
    // One copy per form: each form's children own theirs.
    let (for_role, for_reset, to_remove) = (user.email.clone(), user.email.clone(), user.email.clone());
    let status = match user.deactivated_at {
        None => view! { <span class="badge badge-ok">"active"</span> }.into_any(),
        Some(at) => view! {
            <span class="badge badge-muted" data-testid="user-deactivated">"deactivated"</span>
            " "
            <Time iso=unix_iso(at) />
        }
        .into_any(),
    };
    // Deactivating asks first; reactivating is harmless and a plain form. Nobody deactivates
    // themselves from here (the server would sign them out mid-click).
    let activation = match (user.deactivated_at.is_some(), user.you) {
        (true, _) => {
            let email = user.email.clone();
            view! {
                <ActionForm action=set_active>
                    <input type="hidden" name="email" value=email />
                    <input type="hidden" name="active" value="true" />
                    <button type="submit" class="button-secondary" data-testid="user-reactivate">"Reactivate"</button>
                </ActionForm>
            }
            .into_any()
        }
        (false, false) => {
            let email = user.email.clone();
            view! {
                <button type="button" class="button-secondary" data-testid="user-deactivate" on:click=move |_| ask_deactivate.run(email.clone())>
                    "Deactivate"
                </button>
            }
            .into_any()
        }
        (false, true) => ().into_any(),
    };
    view! {
        <tr data-testid="user-row" data-email=user.email.clone() class:row-muted=user.deactivated_at.is_some()>
            <td>{user.email.clone()} {user.you.then(|| view! { " " <span class="badge">"you"</span> })}</td>
            <td><span class="role-badge">{user.role.as_str()}</span></td>
            <td class="nowrap" data-testid="user-status">{status}</td>
            <td class="nowrap"><TimeOr iso=user.last_sign_in_at.map(unix_iso) none="never" /></td>
            <td class="num">{user.active_sessions}</td>
            <td class="nowrap"><Time iso=unix_iso(user.created_at) /></td>
            <td class="row-actions">
                <ActionForm action=set_role>
                    <input type="hidden" name="email" value=for_role />
                    <input type="hidden" name="role" value=other.0.as_str() />
                    <button type="submit" class="button-secondary" data-testid="user-role">{other.1}</button>
                </ActionForm>
                <ActionForm action=reset>
                    <input type="hidden" name="email" value=for_reset />
                    <button type="submit" class="button-secondary" data-testid="user-reset">"Reset password"</button>
                </ActionForm>
                {activation}
                <button type="button" class="button-danger" data-testid="user-remove" on:click=move |_| ask_remove.run(to_remove.clone())>
                    "Remove"
                </button>
            </td>
        </tr>
    }
}

/// Your own account: change your password.
#[component]
pub fn AccountPage() -> impl IntoView {
    view! {
        <Title text="Account" />
        <EditingIsland page=EditingPage::Account />
    }
}

#[component]
pub(crate) fn AccountBody() -> impl IntoView {
    let change = ServerAction::<ChangePassword>::new();
    let user = crate::ui::layout::use_user();
    let env = crate::ui::layout::use_env();
    view! {
        <h1>"Account"</h1>
        <p class="muted">{format!("Signed in as {} ({}).", user.email, user.role.as_str())}</p>
        {user.must_change_password.then(|| view! {
            <div class="notice" role="alert" data-testid="password-required">
                <p>"Your password was set for you. Choose your own to continue: the console opens once it is changed."</p>
            </div>
        })}
        <section class="card" aria-labelledby="password-title">
            <h2 id="password-title">"Change your password"</h2>
            <ActionForm action=change attr:class="stack-form" attr:data-testid="password-form">
                <label>"Current password" <input type="password" name="current" required autocomplete="current-password" /></label>
                <label>"New password" <input type="password" name="new" required minlength="12" autocomplete="new-password" /></label>
                <button type="submit" class="button-primary">"Change password"</button>
            </ActionForm>
            {move || change.value().get().map(|r| match r {
                Ok(()) => view! {
                    <p class="ok-text" role="status" data-testid="password-changed">
                        "Password changed. Your other sessions have been signed out. "
                        <a href=format!("/{}", env.get_untracked()) rel="external">"Continue to the console →"</a>
                    </p>
                }.into_any(),
                Err(e) => view! { <p class="error-text" role="alert" data-testid="password-error">{e.to_string()}</p> }.into_any(),
            })}
        </section>
    }
}
