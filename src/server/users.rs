//! Console users: email, role and an argon2 password hash.

use super::db::Db;
use super::ids::new_id;
use super::now_unix;
use super::secrets::SecretString;
use crate::auth::Role;
use argon2::password_hash::{rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use sqlx::Row;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use tokio::sync::Semaphore;

/// How many argon2 computations (hashes and verifications) may run at once in this process.
/// Each takes about 19 MiB and a core for a noticeable time, so a burst of sign-ins must queue
/// here rather than exhaust memory and the blocking thread pool.
pub const MAX_CONCURRENT_PASSWORD_HASHES: usize = 2;

/// Process-wide, not per store: the memory and cores it protects are the process's.
static PASSWORD_HASHING: Semaphore = Semaphore::const_new(MAX_CONCURRENT_PASSWORD_HASHES);

/// An email address that has been checked for shape and lower-cased, so `Admin@X` and `admin@x`
/// are one account.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EmailAddress(String);

impl EmailAddress {
    /// Accepts `local@domain` with no spaces, at most 254 characters.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let email = raw.trim().to_lowercase();
        let valid = email.len() <= 254
            && !email.chars().any(char::is_whitespace)
            && matches!(email.split_once('@'), Some((local, domain))
                if !local.is_empty() && !domain.is_empty() && !domain.contains('@'));
        if valid {
            Ok(EmailAddress(email))
        } else {
            Err(format!("`{}` is not an email address", raw.trim()))
        }
    }

    /// The normalised address.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A new password that meets the console's policy. Only new passwords are checked: sign-in
/// compares whatever was typed.
#[derive(Debug)]
pub struct NewPassword(SecretString);

impl NewPassword {
    /// At least 12 characters (long beats complex), at most 1024 (hashing cost is bounded).
    pub fn parse(raw: String) -> Result<Self, String> {
        let len = raw.chars().count();
        if len < 12 {
            Err("the password must have at least 12 characters".into())
        } else if len > 1024 {
            Err("the password must have at most 1024 characters".into())
        } else {
            Ok(NewPassword(SecretString::new(raw)))
        }
    }
}

/// A stored user, without the password hash.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UserRecord {
    pub id: String,
    pub email: String,
    pub role: Role,
    pub created_at: i64,
    /// Unix seconds; set while the user may not sign in.
    pub deactivated_at: Option<i64>,
}

impl UserRecord {
    /// Whether the user may sign in.
    pub fn is_active(&self) -> bool {
        self.deactivated_at.is_none()
    }
}

/// A user as the Users page lists them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UserSummary {
    pub user: UserRecord,
    /// Unix seconds; `None` before the first sign-in.
    pub last_sign_in_at: Option<i64>,
    /// Sessions used within the idle timeout.
    pub active_sessions: i64,
}

/// Why a change to an account was refused.
#[derive(Debug, thiserror::Error)]
pub enum AccountChange {
    #[error("there is no user with that email")]
    NoSuchUser,
    #[error(
        "the last admin who can sign in cannot be removed, demoted or deactivated: make another user an admin first"
    )]
    LastAdmin,
    #[error(transparent)]
    Storage(#[from] anyhow::Error),
}

/// Locks every admin row (a no-op update: SQLite takes its write lock, PostgreSQL the rows'),
/// then reads the user with `email`.
async fn lock_admins_and_find(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    email: &EmailAddress,
) -> anyhow::Result<Option<UserRecord>> {
    sqlx::query("UPDATE console_users SET role = role WHERE role = 'admin'").execute(&mut **tx).await?;
    let row = sqlx::query(&format!("SELECT {RECORD_COLUMNS} FROM console_users WHERE email = $1"))
        .bind(email.as_str())
        .fetch_optional(&mut **tx)
        .await?;
    row.as_ref().map(record_from_row).transpose()
}

/// Whether changing `user` so that they no longer act as an admin would leave no active admin.
/// A deactivated admin cannot sign in, so they neither count nor need counting.
async fn is_last_active_admin(tx: &mut sqlx::Transaction<'_, sqlx::Any>, user: &UserRecord) -> anyhow::Result<bool> {
    if user.role != Role::Admin || !user.is_active() {
        return Ok(false);
    }
    let admins: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM console_users WHERE role = 'admin' AND deactivated_at IS NULL")
            .fetch_one(&mut **tx)
            .await?;
    Ok(admins <= 1)
}

async fn end_sessions(tx: &mut sqlx::Transaction<'_, sqlx::Any>, email: &EmailAddress) -> anyhow::Result<()> {
    sqlx::query("DELETE FROM console_sessions WHERE user_id IN (SELECT id FROM console_users WHERE email = $1)")
        .bind(email.as_str())
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Why a user could not be added.
#[derive(Debug, thiserror::Error)]
pub enum AddUserError {
    #[error("a user with email {0} already exists")]
    Duplicate(String),
    #[error(transparent)]
    Storage(#[from] anyhow::Error),
}

/// The users table.
#[derive(Clone, Debug)]
pub struct UserStore {
    db: Db,
    /// Password verifications run through this store (and its clones); see
    /// [`UserStore::password_verifications`].
    verifications: Arc<AtomicU64>,
}

impl UserStore {
    pub fn new(db: Db) -> Self {
        UserStore { db, verifications: Arc::new(AtomicU64::new(0)) }
    }

    /// Diagnostic: how many argon2 password verifications this store (shared by a server's
    /// handlers) has run since it was created, whether the email existed or not. It lets tests
    /// prove that throttled sign-ins are refused before any hashing work is spent on them.
    pub fn password_verifications(&self) -> u64 {
        self.verifications.load(Ordering::Relaxed)
    }

    /// Adds a user; the email must be new.
    pub async fn add(
        &self,
        email: &EmailAddress,
        role: Role,
        password: NewPassword,
    ) -> Result<UserRecord, AddUserError> {
        let hash = hash_password(password.0).await?;
        let record = UserRecord {
            id: new_id("usr"),
            email: email.as_str().to_string(),
            role,
            created_at: now_unix(),
            deactivated_at: None,
        };
        let inserted = sqlx::query(
            "INSERT INTO console_users (id, email, password_hash, role, created_at) VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (email) DO NOTHING",
        )
        .bind(&record.id)
        .bind(&record.email)
        .bind(&hash)
        .bind(role.as_str())
        .bind(record.created_at)
        .execute(self.db.pool())
        .await
        .map_err(anyhow::Error::from)?;
        if inserted.rows_affected() == 0 {
            return Err(AddUserError::Duplicate(record.email));
        }
        Ok(record)
    }

    /// All users, oldest first.
    pub async fn list(&self) -> anyhow::Result<Vec<UserRecord>> {
        let rows = sqlx::query(&format!("SELECT {RECORD_COLUMNS} FROM console_users ORDER BY created_at, email"))
            .fetch_all(self.db.pool())
            .await?;
        rows.iter().map(record_from_row).collect()
    }

    /// How many users exist (zero on a fresh database).
    pub async fn count(&self) -> anyhow::Result<i64> {
        Ok(sqlx::query_scalar("SELECT COUNT(*) FROM console_users").fetch_one(self.db.pool()).await?)
    }

    /// Removes a user and, through the foreign key, every session of theirs.
    pub async fn remove(&self, email: &EmailAddress) -> anyhow::Result<bool> {
        // Sessions are deleted explicitly too: SQLite enforces the cascade only with foreign keys on.
        let mut tx = self.db.pool().begin().await?;
        sqlx::query("DELETE FROM console_sessions WHERE user_id IN (SELECT id FROM console_users WHERE email = $1)")
            .bind(email.as_str())
            .execute(&mut *tx)
            .await?;
        let done =
            sqlx::query("DELETE FROM console_users WHERE email = $1").bind(email.as_str()).execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(done.rows_affected() > 0)
    }

    /// Every user with when they last signed in and how many sessions they have that were used
    /// within `idle_secs`, oldest account first.
    pub async fn overview(&self, idle_secs: i64) -> anyhow::Result<Vec<UserSummary>> {
        let rows = sqlx::query(
            "SELECT u.id, u.email, u.role, u.created_at, u.deactivated_at, u.last_sign_in_at,
                 (SELECT COUNT(*) FROM console_sessions s WHERE s.user_id = u.id AND s.last_seen_at >= $1) AS sessions
             FROM console_users u ORDER BY u.created_at, u.email",
        )
        .bind(now_unix() - idle_secs)
        .fetch_all(self.db.pool())
        .await?;
        rows.iter()
            .map(|row| {
                Ok(UserSummary {
                    user: record_from_row(row)?,
                    last_sign_in_at: row.try_get("last_sign_in_at")?,
                    active_sessions: row.try_get("sessions")?,
                })
            })
            .collect()
    }

    /// Makes the user choose their own password at their next sign-in (theirs was set for them).
    pub async fn require_password_change(&self, email: &EmailAddress) -> anyhow::Result<()> {
        sqlx::query("UPDATE console_users SET must_change_password = 1 WHERE email = $1")
            .bind(email.as_str())
            .execute(self.db.pool())
            .await?;
        Ok(())
    }

    /// Records a successful sign-in.
    pub async fn signed_in(&self, user_id: &str) -> anyhow::Result<()> {
        sqlx::query("UPDATE console_users SET last_sign_in_at = $1 WHERE id = $2")
            .bind(now_unix())
            .bind(user_id)
            .execute(self.db.pool())
            .await?;
        Ok(())
    }

    /// Changes a user's role, ending their sessions (a session carries its role). Refuses to
    /// demote the last admin: the admin rows are locked first (a no-op update), so two admins
    /// demoting each other at once cannot both succeed.
    pub async fn set_role(&self, email: &EmailAddress, role: Role) -> Result<(), AccountChange> {
        let mut tx = self.db.pool().begin().await.map_err(anyhow::Error::from)?;
        let Some(current) = lock_admins_and_find(&mut tx, email).await? else {
            return Err(AccountChange::NoSuchUser);
        };
        if role != Role::Admin && is_last_active_admin(&mut tx, &current).await? {
            return Err(AccountChange::LastAdmin);
        }
        sqlx::query("UPDATE console_users SET role = $1 WHERE email = $2")
            .bind(role.as_str())
            .bind(email.as_str())
            .execute(&mut *tx)
            .await
            .map_err(anyhow::Error::from)?;
        end_sessions(&mut tx, email).await?;
        tx.commit().await.map_err(anyhow::Error::from)?;
        Ok(())
    }

    /// Removes a user and every session of theirs; never the last admin.
    pub async fn remove_checked(&self, email: &EmailAddress) -> Result<(), AccountChange> {
        let mut tx = self.db.pool().begin().await.map_err(anyhow::Error::from)?;
        let Some(current) = lock_admins_and_find(&mut tx, email).await? else {
            return Err(AccountChange::NoSuchUser);
        };
        if is_last_active_admin(&mut tx, &current).await? {
            return Err(AccountChange::LastAdmin);
        }
        end_sessions(&mut tx, email).await?;
        sqlx::query("DELETE FROM console_users WHERE email = $1")
            .bind(email.as_str())
            .execute(&mut *tx)
            .await
            .map_err(anyhow::Error::from)?;
        tx.commit().await.map_err(anyhow::Error::from)?;
        Ok(())
    }

    /// Deactivates a user (`active: false`: they cannot sign in and their sessions end at once)
    /// or reactivates one; never deactivates the last active admin. Answers whether anything
    /// changed (deactivating a deactivated user keeps the first date).
    pub async fn set_active(&self, email: &EmailAddress, active: bool) -> Result<bool, AccountChange> {
        let mut tx = self.db.pool().begin().await.map_err(anyhow::Error::from)?;
        let Some(current) = lock_admins_and_find(&mut tx, email).await? else {
            return Err(AccountChange::NoSuchUser);
        };
        if current.is_active() == active {
            return Ok(false);
        }
        if !active && is_last_active_admin(&mut tx, &current).await? {
            return Err(AccountChange::LastAdmin);
        }
        sqlx::query("UPDATE console_users SET deactivated_at = $1 WHERE email = $2")
            .bind((!active).then(now_unix))
            .bind(email.as_str())
            .execute(&mut *tx)
            .await
            .map_err(anyhow::Error::from)?;
        if !active {
            end_sessions(&mut tx, email).await?;
        }
        tx.commit().await.map_err(anyhow::Error::from)?;
        Ok(true)
    }

    /// Sets a new password and ends every session of the user (`except` one, their own, when
    /// they changed it themselves). A password set for someone else (`except: None`) must be
    /// changed at their next sign-in; one they chose themselves clears that.
    pub async fn set_password(
        &self,
        email: &EmailAddress,
        password: NewPassword,
        except: Option<&str>,
    ) -> Result<(), AccountChange> {
        let hash = hash_password(password.0).await?;
        let mut tx = self.db.pool().begin().await.map_err(anyhow::Error::from)?;
        let done =
            sqlx::query("UPDATE console_users SET password_hash = $1, must_change_password = $2 WHERE email = $3")
                .bind(&hash)
                .bind(i64::from(except.is_none()))
                .bind(email.as_str())
                .execute(&mut *tx)
                .await
                .map_err(anyhow::Error::from)?;
        if done.rows_affected() == 0 {
            return Err(AccountChange::NoSuchUser);
        }
        sqlx::query(
            "DELETE FROM console_sessions WHERE user_id IN (SELECT id FROM console_users WHERE email = $1)
                 AND token_hash <> $2",
        )
        .bind(email.as_str())
        .bind(except.unwrap_or(""))
        .execute(&mut *tx)
        .await
        .map_err(anyhow::Error::from)?;
        tx.commit().await.map_err(anyhow::Error::from)?;
        Ok(())
    }

    /// The user with this email and password, if both match, deactivated or not (the caller
    /// decides; only someone who knows the password learns that an account is deactivated). An
    /// unknown email costs the same hashing work as a wrong password, so response times do not
    /// reveal which emails exist.
    pub async fn verify(&self, email: &str, password: SecretString) -> anyhow::Result<Option<UserRecord>> {
        let email = email.trim().to_lowercase();
        let row = sqlx::query(&format!("SELECT {RECORD_COLUMNS}, password_hash FROM console_users WHERE email = $1"))
            .bind(&email)
            .fetch_optional(self.db.pool())
            .await?;
        let (record, hash) = match &row {
            Some(row) => (Some(record_from_row(row)?), row.try_get::<String, _>("password_hash")?),
            None => (None, DUMMY_HASH.clone()),
        };
        self.verifications.fetch_add(1, Ordering::Relaxed);
        let matches = verify_password(password, hash).await?;
        Ok(record.filter(|_| matches))
    }
}

/// A hash of a random string, with the same parameters as real ones, verified against when the
/// email is unknown.
static DUMMY_HASH: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(super::ids::random_hex(16).as_bytes(), &salt)
        .expect("hashing a random string")
        .to_string()
});

/// The columns [`record_from_row`] reads.
const RECORD_COLUMNS: &str = "id, email, role, created_at, deactivated_at";

fn record_from_row(row: &sqlx::any::AnyRow) -> anyhow::Result<UserRecord> {
    let role: String = row.try_get("role")?;
    Ok(UserRecord {
        id: row.try_get("id")?,
        email: row.try_get("email")?,
        role: Role::parse(&role).ok_or_else(|| anyhow::anyhow!("unknown role {role:?} in the database"))?,
        created_at: row.try_get("created_at")?,
        deactivated_at: row.try_get("deactivated_at")?,
    })
}

/// Argon2id with the crate's default (OWASP-recommended) parameters, off the async threads:
/// hashing is deliberately slow.
async fn hash_password(password: SecretString) -> anyhow::Result<String> {
    let permit = PASSWORD_HASHING.acquire().await?;
    tokio::task::spawn_blocking(move || {
        let _permit = permit;
        let salt = SaltString::generate(&mut OsRng);
        Argon2::default()
            .hash_password(password.expose().as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| anyhow::anyhow!("hashing password: {e}"))
    })
    .await?
}

/// Waits for one of the [`MAX_CONCURRENT_PASSWORD_HASHES`] permits. The permit moves into the
/// blocking task, so it is held until the hashing is done even if the request is abandoned.
async fn verify_password(password: SecretString, hash: String) -> anyhow::Result<bool> {
    let permit = PASSWORD_HASHING.acquire().await?;
    tokio::task::spawn_blocking(move || {
        let _permit = permit;
        let parsed = PasswordHash::new(&hash).map_err(|e| anyhow::anyhow!("stored password hash is invalid: {e}"))?;
        Ok(Argon2::default().verify_password(password.expose().as_bytes(), &parsed).is_ok())
    })
    .await?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_normalised_and_checked() {
        assert_eq!(EmailAddress::parse("  Admin@Example.COM ").unwrap().as_str(), "admin@example.com");
        assert!(EmailAddress::parse("admin@localhost").is_ok());
        for bad in ["", "admin", "@x", "a@", "a b@x", "a@b@c"] {
            assert!(EmailAddress::parse(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn passwords_have_a_minimum_length() {
        assert!(NewPassword::parse("short".into()).is_err());
        assert!(NewPassword::parse("correct horse battery".into()).is_ok());
    }

    #[tokio::test]
    async fn add_verify_and_remove() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::connect(&format!("sqlite://{}/t.db", dir.path().display())).await.unwrap();
        let users = UserStore::new(db);
        let email = EmailAddress::parse("ops@example.com").unwrap();
        users.add(&email, Role::Support, NewPassword::parse("a long passphrase".into()).unwrap()).await.unwrap();
        let dup = users.add(&email, Role::Admin, NewPassword::parse("another passphrase".into()).unwrap()).await;
        assert!(matches!(dup, Err(AddUserError::Duplicate(_))));

        let ok = users.verify("OPS@example.com", "a long passphrase".to_string().into()).await.unwrap();
        assert_eq!(ok.map(|u| u.role), Some(Role::Support));
        assert!(users.verify("ops@example.com", "wrong".to_string().into()).await.unwrap().is_none());
        assert!(users.verify("nobody@example.com", "a long passphrase".to_string().into()).await.unwrap().is_none());

        assert!(users.remove(&email).await.unwrap());
        assert!(!users.remove(&email).await.unwrap());
        assert_eq!(users.count().await.unwrap(), 0);
    }
}
