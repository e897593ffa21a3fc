//! The audit log: one row per admin write, newest first, read with keyset pagination so that
//! old entries stay reachable however many there are.

use super::db::Db;
use super::ids::new_id;
use super::now_unix;
use crate::model::audit::{AuditEntry, AuditPage};
use payments_model::Cursor;
use sqlx::Row;

/// What is being recorded; the `at` and `id` are filled in by [`AuditLog::record`].
#[derive(Clone, Debug, Default)]
pub struct NewAuditEntry<'a> {
    pub actor: &'a str,
    pub action: &'a str,
    pub environment: Option<&'a str>,
    pub target: Option<&'a str>,
    pub detail: Option<&'a str>,
    pub stripe_request_id: Option<&'a str>,
    pub idempotency_key: Option<&'a str>,
}

/// The `audit_log` table.
#[derive(Clone, Debug)]
pub struct AuditLog {
    db: Db,
}

impl AuditLog {
    pub fn new(db: Db) -> Self {
        AuditLog { db }
    }

    /// Appends an entry.
    pub async fn record(&self, entry: NewAuditEntry<'_>) -> anyhow::Result<()> {
        sqlx::query(
            "INSERT INTO audit_log (id, at, actor, action, environment, target, detail, stripe_request_id, idempotency_key)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(new_id("aud"))
        .bind(now_unix())
        .bind(entry.actor)
        .bind(entry.action)
        .bind(entry.environment)
        .bind(entry.target)
        .bind(entry.detail)
        .bind(entry.stripe_request_id)
        .bind(entry.idempotency_key)
        .execute(self.db.pool())
        .await?;
        Ok(())
    }

    /// A page of entries, newest first, strictly after `cursor` (from a previous page).
    pub async fn page(&self, cursor: Option<&Cursor>, limit: u32) -> anyhow::Result<AuditPage> {
        let limit = limit.clamp(1, 200) as i64;
        // The cursor is `<at>:<id>` of the last row shown; (at, id) orders rows totally. One
        // that is not (a hand-edited URL) shows the newest page.
        let (at, id) = match cursor.and_then(|c| c.as_str().split_once(':')) {
            Some((at, id)) => (at.parse::<i64>().unwrap_or(i64::MAX), id.to_string()),
            None => (i64::MAX, String::new()),
        };
        let rows = sqlx::query(
            "SELECT id, at, actor, action, environment, target, detail, stripe_request_id, idempotency_key
             FROM audit_log
             WHERE at < $1 OR (at = $1 AND ($2 = '' OR id < $2))
             ORDER BY at DESC, id DESC
             LIMIT $3",
        )
        .bind(at)
        .bind(&id)
        .bind(limit + 1)
        .fetch_all(self.db.pool())
        .await?;
        let mut entries = rows
            .iter()
            .map(|row| {
                Ok(AuditEntry {
                    id: row.try_get("id")?,
                    at: row.try_get("at")?,
                    actor: row.try_get("actor")?,
                    action: row.try_get("action")?,
                    environment: row.try_get("environment")?,
                    target: row.try_get("target")?,
                    detail: row.try_get("detail")?,
                    stripe_request_id: row.try_get("stripe_request_id")?,
                    idempotency_key: row.try_get("idempotency_key")?,
                })
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        let next_cursor = if entries.len() as i64 > limit {
            entries.truncate(limit as usize);
            entries.last().and_then(|e| Cursor::new(format!("{}:{}", e.at, e.id)))
        } else {
            None
        };
        Ok(AuditPage { entries, next_cursor })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn pages_walk_every_entry_once_newest_first() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::connect(&format!("sqlite://{}/t.db", dir.path().display())).await.unwrap();
        let log = AuditLog::new(db);
        for i in 0..7 {
            let target = format!("t{i}");
            log.record(NewAuditEntry {
                actor: "cli",
                action: "test.write",
                target: Some(&target),
                ..Default::default()
            })
            .await
            .unwrap();
        }
        let mut seen = Vec::new();
        let mut cursor = None;
        loop {
            let page = log.page(cursor.as_ref(), 3).await.unwrap();
            assert!(page.entries.len() <= 3);
            seen.extend(page.entries.iter().map(|e| e.id.clone()));
            match page.next_cursor {
                Some(c) => cursor = Some(c),
                None => break,
            }
        }
        assert_eq!(seen.len(), 7);
        let unique: std::collections::HashSet<_> = seen.iter().collect();
        assert_eq!(unique.len(), 7, "no entry is shown twice");
    }
}
