//! API keys (`ik_…`) for the InsForge-compatible payments API. Shown once at creation; only a
//! SHA-256 digest and a short prefix (to tell keys apart in a list) are stored.

use super::db::Db;
use super::ids::{new_id, random_hex, token_digest};
use super::now_unix;
use super::secrets::SecretString;
use sqlx::Row;

/// A stored key, without the key itself.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiKeyRecord {
    pub id: String,
    pub name: String,
    /// `ik_` and the first 8 characters: enough to recognise a key, useless to use one.
    pub prefix: String,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
    pub revoked_at: Option<i64>,
}

/// The `api_keys` table.
#[derive(Clone, Debug)]
pub struct ApiKeyStore {
    db: Db,
}

impl ApiKeyStore {
    pub fn new(db: Db) -> Self {
        ApiKeyStore { db }
    }

    /// Creates a key; the returned secret is the only copy there will ever be.
    pub async fn create(&self, name: &str) -> anyhow::Result<(ApiKeyRecord, SecretString)> {
        let name = name.trim();
        anyhow::ensure!(!name.is_empty() && name.len() <= 100, "the key name must have 1 to 100 characters");
        let key = format!("ik_{}", random_hex(32));
        let record = ApiKeyRecord {
            id: new_id("key"),
            name: name.to_string(),
            prefix: key[..11].to_string(),
            created_at: now_unix(),
            last_used_at: None,
            revoked_at: None,
        };
        sqlx::query("INSERT INTO api_keys (id, name, key_hash, key_prefix, created_at) VALUES ($1, $2, $3, $4, $5)")
            .bind(&record.id)
            .bind(&record.name)
            .bind(token_digest(&key))
            .bind(&record.prefix)
            .bind(record.created_at)
            .execute(self.db.pool())
            .await?;
        Ok((record, SecretString::new(key)))
    }

    /// Every key, newest first, revoked ones included.
    pub async fn list(&self) -> anyhow::Result<Vec<ApiKeyRecord>> {
        let rows = sqlx::query(
            "SELECT id, name, key_prefix, created_at, last_used_at, revoked_at FROM api_keys ORDER BY created_at DESC, id",
        )
        .fetch_all(self.db.pool())
        .await?;
        rows.iter().map(record_from_row).collect()
    }

    /// Revokes the key with this id or name. Answers how many keys were revoked.
    pub async fn revoke(&self, id_or_name: &str) -> anyhow::Result<u64> {
        let done =
            sqlx::query("UPDATE api_keys SET revoked_at = $1 WHERE (id = $2 OR name = $2) AND revoked_at IS NULL")
                .bind(now_unix())
                .bind(id_or_name)
                .execute(self.db.pool())
                .await?;
        Ok(done.rows_affected())
    }

    /// The live key matching a presented secret, recording its use.
    pub async fn authenticate(&self, presented: &str) -> anyhow::Result<Option<ApiKeyRecord>> {
        if !presented.starts_with("ik_") {
            return Ok(None);
        }
        let row = sqlx::query(
            "SELECT id, name, key_prefix, created_at, last_used_at, revoked_at FROM api_keys
             WHERE key_hash = $1 AND revoked_at IS NULL",
        )
        .bind(token_digest(presented))
        .fetch_optional(self.db.pool())
        .await?;
        let Some(row) = row else { return Ok(None) };
        let record = record_from_row(&row)?;
        sqlx::query("UPDATE api_keys SET last_used_at = $1 WHERE id = $2")
            .bind(now_unix())
            .bind(&record.id)
            .execute(self.db.pool())
            .await?;
        Ok(Some(record))
    }
}

fn record_from_row(row: &sqlx::any::AnyRow) -> anyhow::Result<ApiKeyRecord> {
    Ok(ApiKeyRecord {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        prefix: row.try_get("key_prefix")?,
        created_at: row.try_get("created_at")?,
        last_used_at: row.try_get("last_used_at")?,
        revoked_at: row.try_get("revoked_at")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_created_key_authenticates_until_revoked() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::connect(&format!("sqlite://{}/t.db", dir.path().display())).await.unwrap();
        let keys = ApiKeyStore::new(db.clone());
        let (record, secret) = keys.create("ci").await.unwrap();
        assert!(secret.expose().starts_with("ik_"));
        assert_eq!(secret.expose().len(), 3 + 64);
        assert!(secret.expose().starts_with(&record.prefix));

        // Nothing in the table contains the key itself.
        let stored: String = sqlx::query_scalar("SELECT key_hash FROM api_keys").fetch_one(db.pool()).await.unwrap();
        assert!(!stored.contains(&secret.expose()[3..]));

        let found = keys.authenticate(secret.expose()).await.unwrap().expect("key works");
        assert_eq!(found.id, record.id);
        assert!(keys.authenticate("ik_wrong").await.unwrap().is_none());
        assert!(keys.list().await.unwrap()[0].last_used_at.is_some());

        assert_eq!(keys.revoke("ci").await.unwrap(), 1);
        assert!(keys.authenticate(secret.expose()).await.unwrap().is_none());
        assert_eq!(keys.revoke("ci").await.unwrap(), 0);
        assert!(keys.create("  ").await.is_err());
    }
}
