//! Users (admins): who may sign in, with which role; add, change the role, reset the password,
//! deactivate and reactivate, remove. And every user's own password (`/{env}/account`).

use crate::auth::Role;
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

/// The page's body, the server's HTML (`crate::pages::lazy::EditingPage`): every
/// control is a form that the page's one small island confirms and sends ([`PageForms`]). Adding
/// a user without a password and resetting one answer with a one-time password, which the island
/// shows once in place ([`Reveal`]) over the list read again (issue #13).
#[component]
pub(crate) fn UsersBody() -> impl IntoView {
    let users = resource(|| (), |_| list_users());
    view! {
        <h1>"Users"</h1>
        <p class="muted">"Admins change keys, the catalog and users; support staff read customers, subscriptions, payments and events."</p>
        <Reveal id="one-time-password" testid="one-time-password">
            <p>
                "One-time password for " <span data-reveal-field="email"></span> ": "
                <code class="secret-once" data-testid="one-time-password-value" data-reveal-field="password"></code>
                " "
                <button type="button" class="button-secondary" title="Copy to clipboard" data-reveal-copy="password">"Copy"</button>
            </p>
            <p class="muted small">"Shown once: hand it over now. They sign in with it and change it on their Account page."</p>
        </Reveal>
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
                            {rows.into_iter().map(|user| view! { <UserRowView user /> }).collect_view()}
                        </tbody>
                    </table>
                })
            })}
        </Suspense>
        <section class="card" aria-labelledby="add-user-title">
            <h2 id="add-user-title">"Add a user"</h2>
            <EnhancedForm
                action=AddUser::url()
                done="User added."
                failed="The user was not added"
                reveal="one-time-password"
                testid="add-user-form"
            >
                <div class="filters">
                    <label>
                        "Email"
                        <input type="email" name="email" autocomplete="off" aria-invalid="false" data-required="Enter the new user's email address." />
                    </label>
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
                    // A one-time password is shown in place, which a plain form post would lose.
                    <button type="submit" class="button-primary" disabled=true data-needs-js="" data-pending-label="Adding…">
                        "Add user"
                    </button>
                </div>
                <FormErrors class="form-errors" client="users-error" server="users-error" />
            </EnhancedForm>
        </section>
        <PageForms />
    }
}

/// A user's row, with a form per change. Changing the role and reactivating are harmless and work
/// as plain form posts too; deactivating, removing and resetting the password ask first.
#[component]
fn UserRowView(user: UserRow) -> impl IntoView {
    let email = user.email.clone();
    // One copy per form: each form's children own theirs.
    let [for_1, for_2, for_3, for_4, for_5] = std::array::from_fn(|_| email.clone());
    let other = match user.role {
        Role::Admin => (Role::Support, "Make support"),
        Role::Support => (Role::Admin, "Make admin"),
    };
    let status = match user.deactivated_at {
        None => view! { <span class="badge badge-ok">"active"</span> }.into_any(),
        Some(at) => view! {
            <span class="badge badge-muted" data-testid="user-deactivated">"deactivated"</span>
            " "
            <Time iso=unix_iso(at) />
        }
        .into_any(),
    };
    // Nobody deactivates themselves from here (the server would sign them out mid-click).
    let activation = match (user.deactivated_at.is_some(), user.you) {
        (true, _) => view! {
            <EnhancedForm
                action=SetUserActive::url()
                done=format!("{email} reactivated: they can sign in again.")
                failed="The user was not reactivated"
            >
                <input type="hidden" name="email" value=for_1 />
                <input type="hidden" name="active" value="true" />
                <button type="submit" class="button-secondary" data-testid="user-reactivate">"Reactivate"</button>
            </EnhancedForm>
        }
        .into_any(),
        (false, false) => {
            let confirm = Confirmation {
                title: format!("Deactivate {email}?"),
                message: "They are signed out at once and cannot sign in until an admin reactivates them. Their account, role and audit entries stay.".to_owned(),
                label: "Deactivate user".to_owned(),
                destructive: true,
            };
            view! {
                <EnhancedForm
                    action=SetUserActive::url()
                    done=format!("{email} deactivated and signed out.")
                    failed="The user was not deactivated"
                    confirm
                >
                    <input type="hidden" name="email" value=for_2 />
                    <input type="hidden" name="active" value="false" />
                    <button type="submit" class="button-secondary" data-testid="user-deactivate" disabled=true data-needs-js="">
                        "Deactivate"
                    </button>
                </EnhancedForm>
            }
            .into_any()
        }
        (false, true) => ().into_any(),
    };
    let reset = Confirmation {
        title: format!("Reset the password of {email}?"),
        message: "Their sessions end at once. A one-time password is shown here once: they sign in with it and choose their own.".to_owned(),
        label: "Reset password".to_owned(),
        destructive: false,
    };
    let remove = Confirmation {
        title: format!("Remove {email}?"),
        message: "They are signed out at once and can no longer sign in. Their entries in the audit log stay."
            .to_owned(),
        label: "Remove user".to_owned(),
        destructive: true,
    };
    view! {
        <tr data-testid="user-row" data-email=email.clone() class:row-muted=user.deactivated_at.is_some()>
            <td>{email.clone()} {user.you.then(|| view! { " " <span class="badge">"you"</span> })}</td>
            <td><span class="role-badge">{user.role.as_str()}</span></td>
            <td class="nowrap" data-testid="user-status">{status}</td>
            <td class="nowrap"><TimeOr iso=user.last_sign_in_at.map(unix_iso) none="never" /></td>
            <td class="num">{user.active_sessions}</td>
            <td class="nowrap"><Time iso=unix_iso(user.created_at) /></td>
            <td>
                <div class="row-actions">
                    <EnhancedForm
                        action=SetUserRole::url()
                        done=format!("{email} is now {}: their sessions have ended.", other.0.as_str())
                        failed="The role was not changed"
                    >
                        <input type="hidden" name="email" value=for_3 />
                        <input type="hidden" name="role" value=other.0.as_str() />
                        <button type="submit" class="button-secondary" data-testid="user-role">{other.1}</button>
                    </EnhancedForm>
                    <EnhancedForm
                        action=ResetUserPassword::url()
                        done=""
                        failed="The password was not reset"
                        confirm=reset
                        reveal="one-time-password"
                    >
                        <input type="hidden" name="email" value=for_4 />
                        <button type="submit" class="button-secondary" data-testid="user-reset" disabled=true data-needs-js="">
                            "Reset password"
                        </button>
                    </EnhancedForm>
                    {activation}
                    <EnhancedForm
                        action=RemoveUser::url()
                        done=format!("{email} removed.")
                        failed="The user was not removed"
                        confirm=remove
                    >
                        <input type="hidden" name="email" value=for_5 />
                        <button type="submit" class="button-danger" data-testid="user-remove" disabled=true data-needs-js="">
                            "Remove"
                        </button>
                    </EnhancedForm>
                </div>
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

/// The page's body, the server's HTML for everyone (`crate::pages::lazy::EditingPage`):
/// the form is sent by the page's one small island ([`PageForms`]), which then reads the page in
/// place and says it is done ([`Reveal`]), so the password fields are empty again and a notice
/// that the password must be changed has gone (issue #13).
#[component]
pub(crate) fn AccountBody() -> impl IntoView {
    let user = crate::ui::layout::use_user();
    let env = crate::ui::layout::use_env().get_untracked();
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
            <Reveal id="password-changed" testid="password-changed">
                <p class="ok-text">
                    "Password changed. Your other sessions have been signed out. "
                    <a href=format!("/{env}") rel="external">"Continue to the console →"</a>
                </p>
            </Reveal>
            <EnhancedForm
                action=ChangePassword::url()
                done=""
                failed="The password was not changed"
                reveal="password-changed"
                testid="password-form"
            >
                <div class="stack-form">
                    <label>
                        "Current password"
                        <input type="password" name="current" autocomplete="current-password" aria-invalid="false" data-required="Enter your current password." />
                    </label>
                    <label>
                        "New password"
                        <input type="password" name="new" autocomplete="new-password" aria-invalid="false" data-required="Enter the new password." />
                    </label>
                    <FormErrors client="password-error" server="password-error" />
                    // Passwords leave only through the island, never as a plain form post.
                    <button type="submit" class="button-primary" disabled=true data-needs-js="" data-pending-label="Changing…">
                        "Change password"
                    </button>
                </div>
            </EnhancedForm>
        </section>
        <PageForms />
    }
}
