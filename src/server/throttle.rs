//! Sign-in throttling: after [`MAX_FAILURES`] wrong passwords for one email within
//! [`WINDOW_SECS`], further attempts are refused until the oldest failure leaves the window.
//! Kept in the database so that several console instances share one count.

use super::db::Db;
use super::now_unix;

/// Failures allowed within the window.
pub const MAX_FAILURES: i64 = 5;
/// The sliding window, in seconds.
pub const WINDOW_SECS: i64 = 15 * 60;

/// The `login_failures` table.
#[derive(Clone, Debug)]
pub struct LoginThrottle {
    db: Db,
}

impl LoginThrottle {
    pub fn new(db: Db) -> Self {
        LoginThrottle { db }
    }

    /// `Err(seconds)` while sign-in for this email is throttled.
    pub async fn check(&self, email: &str) -> anyhow::Result<Result<(), u64>> {
        let since = now_unix() - WINDOW_SECS;
        let (count, oldest): (i64, Option<i64>) =
            sqlx::query_as("SELECT COUNT(*), MIN(failed_at) FROM login_failures WHERE email = $1 AND failed_at > $2")
                .bind(normalise(email))
                .bind(since)
                .fetch_one(self.db.pool())
                .await?;
        if count >= MAX_FAILURES {
            let retry = oldest.unwrap_or(since) + WINDOW_SECS - now_unix();
            return Ok(Err(retry.max(1) as u64));
        }
        Ok(Ok(()))
    }

    /// Records a failed attempt, and forgets failures that left the window.
    pub async fn record_failure(&self, email: &str) -> anyhow::Result<()> {
        let now = now_unix();
        sqlx::query("DELETE FROM login_failures WHERE failed_at <= $1")
            .bind(now - WINDOW_SECS)
            .execute(self.db.pool())
            .await?;
        sqlx::query("INSERT INTO login_failures (email, failed_at) VALUES ($1, $2)")
            .bind(normalise(email))
            .bind(now)
            .execute(self.db.pool())
            .await?;
        Ok(())
    }

    /// A successful sign-in clears the count.
    pub async fn clear(&self, email: &str) -> anyhow::Result<()> {
        sqlx::query("DELETE FROM login_failures WHERE email = $1")
            .bind(normalise(email))
            .execute(self.db.pool())
            .await?;
        Ok(())
    }
}

fn normalise(email: &str) -> String {
    email.trim().to_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn throttles_after_repeated_failures_per_email() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::connect(&format!("sqlite://{}/t.db", dir.path().display())).await.unwrap();
        let throttle = LoginThrottle::new(db);
        for _ in 0..MAX_FAILURES - 1 {
            throttle.record_failure("a@x").await.unwrap();
        }
        assert_eq!(throttle.check("A@x").await.unwrap(), Ok(()));
        throttle.record_failure("a@x").await.unwrap();
        let retry = throttle.check("a@x").await.unwrap().unwrap_err();
        assert!(retry > 0 && retry <= WINDOW_SECS as u64);
        assert_eq!(throttle.check("b@x").await.unwrap(), Ok(()), "other emails are unaffected");
        throttle.clear("a@x").await.unwrap();
        assert_eq!(throttle.check("a@x").await.unwrap(), Ok(()));
    }
}
