//! Browser sessions: a random token in an HttpOnly cookie, its SHA-256 digest in the database.
//!
//! A session ends after a period of inactivity (`--session-idle-minutes`) and, whatever the
//! activity, after [`MAX_LIFETIME_SECS`].

use super::db::Db;
use super::ids::{random_hex, token_digest};
use super::now_unix;
use crate::auth::{CurrentUser, Role};
use sqlx::Row;

/// The cookie that carries the session token.
pub const SESSION_COOKIE: &str = "pc_session";

/// Sessions end after twelve hours even when in constant use.
pub const MAX_LIFETIME_SECS: i64 = 12 * 3600;

/// Activity is written back at most this often, so page loads do not each cost a write.
const TOUCH_INTERVAL_SECS: i64 = 60;

/// A live session, attached to the request by the session middleware.
#[derive(Clone, Debug)]
pub struct Session {
    /// The stored digest (never the token itself).
    pub token_hash: String,
    pub user_id: String,
    pub user: CurrentUser,
}

/// The sessions table.
#[derive(Clone, Debug)]
pub struct SessionStore {
    db: Db,
    idle_timeout_secs: i64,
}

impl SessionStore {
    pub fn new(db: Db, idle_timeout_secs: i64) -> Self {
        SessionStore { db, idle_timeout_secs }
    }

    /// Starts a session for a user; answers the token for the cookie.
    pub async fn create(&self, user_id: &str) -> anyhow::Result<String> {
        let token = random_hex(32);
        let now = now_unix();
        sqlx::query(
            "INSERT INTO console_sessions (token_hash, user_id, created_at, last_seen_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(token_digest(&token))
        .bind(user_id)
        .bind(now)
        .bind(now)
        .execute(self.db.pool())
        .await?;
        Ok(token)
    }

    /// The live session behind a cookie token; expired ones are deleted on sight.
    pub async fn lookup(&self, token: &str) -> anyhow::Result<Option<Session>> {
        let token_hash = token_digest(token);
        let row = sqlx::query(
            "SELECT s.user_id, s.created_at, s.last_seen_at, u.email, u.role, u.must_change_password
             FROM console_sessions s JOIN console_users u ON u.id = s.user_id
             WHERE s.token_hash = $1 AND u.deactivated_at IS NULL",
        )
        .bind(&token_hash)
        .fetch_optional(self.db.pool())
        .await?;
        let Some(row) = row else { return Ok(None) };
        let now = now_unix();
        let created_at: i64 = row.try_get("created_at")?;
        let last_seen_at: i64 = row.try_get("last_seen_at")?;
        if now - last_seen_at > self.idle_timeout_secs || now - created_at > MAX_LIFETIME_SECS {
            self.revoke(&token_hash).await?;
            return Ok(None);
        }
        if now - last_seen_at >= TOUCH_INTERVAL_SECS {
            sqlx::query("UPDATE console_sessions SET last_seen_at = $1 WHERE token_hash = $2")
                .bind(now)
                .bind(&token_hash)
                .execute(self.db.pool())
                .await?;
        }
        let role: String = row.try_get("role")?;
        Ok(Some(Session {
            token_hash,
            user_id: row.try_get("user_id")?,
            user: CurrentUser {
                email: row.try_get("email")?,
                role: Role::parse(&role).ok_or_else(|| anyhow::anyhow!("unknown role {role:?}"))?,
                must_change_password: row.try_get::<i64, _>("must_change_password")? != 0,
            },
        }))
    }

    /// Ends a session.
    pub async fn revoke(&self, token_hash: &str) -> anyhow::Result<()> {
        sqlx::query("DELETE FROM console_sessions WHERE token_hash = $1")
            .bind(token_hash)
            .execute(self.db.pool())
            .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::users::{EmailAddress, NewPassword, UserStore};

    async fn store_with_user(idle: i64) -> (tempfile::TempDir, Db, SessionStore, String) {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::connect(&format!("sqlite://{}/t.db", dir.path().display())).await.unwrap();
        let user = UserStore::new(db.clone())
            .add(
                &EmailAddress::parse("a@example.com").unwrap(),
                Role::Admin,
                NewPassword::parse("a long passphrase".into()).unwrap(),
            )
            .await
            .unwrap();
        (dir, db.clone(), SessionStore::new(db, idle), user.id)
    }

    #[tokio::test]
    async fn a_token_finds_its_session_until_revoked() {
        let (_dir, _db, store, user_id) = store_with_user(1800).await;
        let token = store.create(&user_id).await.unwrap();
        let session = store.lookup(&token).await.unwrap().expect("live session");
        assert_eq!(session.user.email, "a@example.com");
        assert_eq!(session.user.role, Role::Admin);
        assert!(store.lookup("not-a-token").await.unwrap().is_none());
        store.revoke(&session.token_hash).await.unwrap();
        assert!(store.lookup(&token).await.unwrap().is_none());
    }

    #[tokio::test]
    async fn an_idle_session_expires() {
        let (_dir, db, store, user_id) = store_with_user(1800).await;
        let token = store.create(&user_id).await.unwrap();
        // Pretend the last request was 31 minutes ago.
        sqlx::query("UPDATE console_sessions SET last_seen_at = last_seen_at - 1860").execute(db.pool()).await.unwrap();
        assert!(store.lookup(&token).await.unwrap().is_none());
        let left: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM console_sessions").fetch_one(db.pool()).await.unwrap();
        assert_eq!(left, 0, "the expired session is deleted");
    }
}
