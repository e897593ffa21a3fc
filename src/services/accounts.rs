//! Users and API keys: the one place that changes them and writes the audit entry, shared by
//! the Users and API keys pages and by the `payments-console users|api-keys` commands.

use crate::auth::Role;
use crate::server::api_keys::{ApiKeyRecord, ApiKeyStore};
use crate::server::audit::{AuditLog, NewAuditEntry};
use crate::server::db::Db;
use crate::server::ids::random_hex;
use crate::server::secrets::SecretString;
use crate::server::users::{AccountChange, AddUserError, EmailAddress, NewPassword, UserRecord, UserStore};

/// Why an account change was refused, in words for the person who asked.
#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    /// The input is not acceptable (400).
    #[error("{0}")]
    Invalid(String),
    /// No such user or key (404).
    #[error("{0}")]
    NotFound(String),
    /// The change would leave the console without an admin (400).
    #[error("{0}")]
    LastAdmin(String),
    /// The database failed; logged, not shown.
    #[error(transparent)]
    Storage(anyhow::Error),
}

impl From<AccountChange> for AccountError {
    fn from(e: AccountChange) -> Self {
        match e {
            AccountChange::NoSuchUser => AccountError::NotFound("There is no user with that email.".into()),
            AccountChange::LastAdmin => AccountError::LastAdmin(
                "The last admin who can sign in cannot be removed, demoted or deactivated: make another user an admin first."
                    .into(),
            ),
            AccountChange::Storage(e) => AccountError::Storage(e),
        }
    }
}

impl From<anyhow::Error> for AccountError {
    fn from(e: anyhow::Error) -> Self {
        AccountError::Storage(e)
    }
}

/// A password made for someone else to use once: 24 hex characters (96 bits), and the copy to
/// show.
pub fn one_time_password() -> (NewPassword, SecretString) {
    let raw = random_hex(12);
    let shown = SecretString::new(raw.clone());
    (NewPassword::parse(raw).expect("24 characters is long enough"), shown)
}

/// The accounts of one console database.
#[derive(Clone, Debug)]
pub struct Accounts {
    users: UserStore,
    keys: ApiKeyStore,
    audit: AuditLog,
}

impl Accounts {
    /// The stores of `db`.
    pub fn new(db: Db) -> Self {
        Accounts { users: UserStore::new(db.clone()), keys: ApiKeyStore::new(db.clone()), audit: AuditLog::new(db) }
    }

    /// The stores a running server already holds.
    pub fn of(users: UserStore, keys: ApiKeyStore, audit: AuditLog) -> Self {
        Accounts { users, keys, audit }
    }

    async fn audit(&self, actor: &str, action: &str, target: &str, detail: Option<&str>) -> anyhow::Result<()> {
        self.audit.record(NewAuditEntry { actor, action, target: Some(target), detail, ..Default::default() }).await
    }

    /// Adds a user with a role and a password; `one_time`: the password was made for them, and
    /// they choose their own at their first sign-in.
    pub async fn add_user(
        &self,
        actor: &str,
        email: &EmailAddress,
        role: Role,
        password: NewPassword,
        one_time: bool,
    ) -> Result<UserRecord, AccountError> {
        let record = match self.users.add(email, role, password).await {
            Ok(record) => record,
            Err(AddUserError::Duplicate(email)) => {
                return Err(AccountError::Invalid(format!("A user with email {email} already exists.")))
            }
            Err(AddUserError::Storage(e)) => return Err(e.into()),
        };
        if one_time {
            self.users.require_password_change(email).await?;
        }
        self.audit(actor, "user.add", &record.email, Some(record.role.as_str())).await?;
        Ok(record)
    }

    /// Removes a user (their sessions end at once); never the last admin.
    pub async fn remove_user(&self, actor: &str, email: &EmailAddress) -> Result<(), AccountError> {
        self.users.remove_checked(email).await?;
        self.audit(actor, "user.remove", email.as_str(), None).await?;
        Ok(())
    }

    /// Changes a user's role (their sessions end); never demotes the last admin.
    pub async fn set_role(&self, actor: &str, email: &EmailAddress, role: Role) -> Result<(), AccountError> {
        self.users.set_role(email, role).await?;
        self.audit(actor, "user.role", email.as_str(), Some(role.as_str())).await?;
        Ok(())
    }

    /// Deactivates a user (they are signed out at once and cannot sign in) or reactivates one;
    /// never deactivates the last active admin. Audited only when something changed.
    pub async fn set_active(&self, actor: &str, email: &EmailAddress, active: bool) -> Result<(), AccountError> {
        if self.users.set_active(email, active).await? {
            let action = if active { "user.reactivate" } else { "user.deactivate" };
            self.audit(actor, action, email.as_str(), None).await?;
        }
        Ok(())
    }

    /// Gives a user a new one-time password (their sessions end) and returns it, to be shown once.
    pub async fn reset_password(&self, actor: &str, email: &EmailAddress) -> Result<SecretString, AccountError> {
        let (password, shown) = one_time_password();
        self.users.set_password(email, password, None).await?;
        self.audit(actor, "user.password_reset", email.as_str(), None).await?;
        Ok(shown)
    }

    /// A user changes their own password: the current one must match. Their other sessions
    /// end; `session` (the one they are using, by its digest) stays.
    pub async fn change_own_password(
        &self,
        email: &EmailAddress,
        current: SecretString,
        new: NewPassword,
        session: &str,
    ) -> Result<(), AccountError> {
        if self.users.verify(email.as_str(), current).await?.is_none() {
            return Err(AccountError::Invalid("The current password is not correct.".into()));
        }
        self.users.set_password(email, new, Some(session)).await?;
        self.audit(&format!("user:{}", email.as_str()), "account.password", email.as_str(), None).await?;
        Ok(())
    }

    /// Creates an API key; the secret is the only copy there will be.
    pub async fn create_api_key(&self, actor: &str, name: &str) -> Result<(ApiKeyRecord, SecretString), AccountError> {
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 100 {
            return Err(AccountError::Invalid("Name the key (1 to 100 characters).".into()));
        }
        let (record, key) = self.keys.create(name).await?;
        self.audit(actor, "api_key.create", &record.id, Some(&record.name)).await?;
        Ok((record, key))
    }

    /// Revokes the key with this id or name; answers how many were revoked.
    pub async fn revoke_api_key(&self, actor: &str, id_or_name: &str) -> Result<u64, AccountError> {
        let revoked = self.keys.revoke(id_or_name).await?;
        if revoked == 0 {
            return Err(AccountError::NotFound(format!("No active API key with id or name {id_or_name:?}.")));
        }
        self.audit(actor, "api_key.revoke", id_or_name, None).await?;
        Ok(revoked)
    }

    /// The users, for the Users page.
    pub fn users(&self) -> &UserStore {
        &self.users
    }

    /// The keys, for the API keys page.
    pub fn keys(&self) -> &ApiKeyStore {
        &self.keys
    }
}
