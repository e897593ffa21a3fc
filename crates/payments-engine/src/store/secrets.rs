//! Sealed secrets: Stripe secret keys and webhook signing secrets, one row per name.

use sqlx::{AnyConnection, Row};

use crate::environment::Environment;
use crate::error::EngineResult;
use crate::time::now_ms;

/// The sealed value of an active secret; marks it used (`last_used_at`).
pub(crate) async fn read_active(conn: &mut AnyConnection, name: &str) -> EngineResult<Option<String>> {
    let row = sqlx::query(
        "UPDATE payments_secrets SET last_used_at = $1 WHERE name = $2 AND is_active = 1 RETURNING value_sealed",
    )
    .bind(now_ms())
    .bind(name)
    .fetch_optional(&mut *conn)
    .await?;
    Ok(match row {
        Some(r) => Some(r.try_get::<String, _>("value_sealed")?),
        None => None,
    })
}

/// Stores (or replaces and reactivates) a sealed secret. Replacing an active value counts as a
/// rotation (`rotated_at`).
pub(crate) async fn upsert(conn: &mut AnyConnection, name: &str, env: Environment, sealed: &str) -> EngineResult<()> {
    let now = now_ms();
    sqlx::query(
        "INSERT INTO payments_secrets (name, environment, value_sealed, is_active, created_at, updated_at)
         VALUES ($1, $2, $3, 1, $4, $4)
         ON CONFLICT (name) DO UPDATE SET
             value_sealed = excluded.value_sealed,
             rotated_at = CASE WHEN payments_secrets.is_active = 1 THEN excluded.updated_at
                               ELSE payments_secrets.rotated_at END,
             is_active = 1,
             updated_at = excluded.updated_at",
    )
    .bind(name)
    .bind(env.as_str())
    .bind(sealed)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Deactivates a secret; returns whether an active one existed.
pub(crate) async fn deactivate(conn: &mut AnyConnection, name: &str) -> EngineResult<bool> {
    let done =
        sqlx::query("UPDATE payments_secrets SET is_active = 0, updated_at = $1 WHERE name = $2 AND is_active = 1")
            .bind(now_ms())
            .bind(name)
            .execute(&mut *conn)
            .await?;
    Ok(done.rows_affected() > 0)
}

/// Whether a secret of that name was ever stored (active or removed).
pub(crate) async fn exists(conn: &mut AnyConnection, name: &str) -> EngineResult<bool> {
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM payments_secrets WHERE name = $1")
        .bind(name)
        .fetch_one(&mut *conn)
        .await?;
    Ok(n > 0)
}

/// The sealed values of active secrets, in the order of `names` (`None` for one that is absent
/// or removed), without marking them used: the webhook receiver reads them on every delivery,
/// and a write there would cost a commit per delivery ([`stamp_used`] records the use now and
/// then).
pub(crate) async fn read_active_many<const N: usize>(
    conn: &mut AnyConnection,
    names: [&str; N],
) -> EngineResult<[Option<String>; N]> {
    let placeholders: Vec<String> = (1..=N).map(|i| format!("${i}")).collect();
    let sql = format!(
        "SELECT name, value_sealed FROM payments_secrets WHERE name IN ({}) AND is_active = 1",
        placeholders.join(", ")
    );
    let mut query = sqlx::query(&sql);
    for name in names {
        query = query.bind(name);
    }
    let rows = query.fetch_all(&mut *conn).await?;
    let mut found: [Option<String>; N] = std::array::from_fn(|_| None);
    for row in rows {
        let name: String = row.try_get("name")?;
        if let Some(i) = names.iter().position(|n| *n == name) {
            found[i] = Some(row.try_get("value_sealed")?);
        }
    }
    Ok(found)
}

/// The sealed value of an active secret and when it was last set (`updated_at`, Unix ms),
/// without marking it used: for showing a masked hint of it.
pub(crate) async fn read_active_with_set_at(
    conn: &mut AnyConnection,
    name: &str,
) -> EngineResult<Option<(String, i64)>> {
    let row = sqlx::query("SELECT value_sealed, updated_at FROM payments_secrets WHERE name = $1 AND is_active = 1")
        .bind(name)
        .fetch_optional(&mut *conn)
        .await?;
    Ok(match row {
        Some(r) => Some((r.try_get("value_sealed")?, r.try_get("updated_at")?)),
        None => None,
    })
}

/// Marks two active secrets used now (`last_used_at`).
pub(crate) async fn stamp_used(conn: &mut AnyConnection, first: &str, second: &str) -> EngineResult<()> {
    sqlx::query("UPDATE payments_secrets SET last_used_at = $1 WHERE name IN ($2, $3) AND is_active = 1")
        .bind(now_ms())
        .bind(first)
        .bind(second)
        .execute(&mut *conn)
        .await?;
    Ok(())
}
