//! The database: SQLite by default, PostgreSQL for deployments with several console instances.
//!
//! One pool type (`sqlx::AnyPool`) and one set of portable migrations serve both engines, so
//! every store in this crate is written once and tested on both.

use anyhow::Context;
use sqlx::any::{install_default_drivers, AnyPoolOptions};
use sqlx::AnyPool;
use std::path::PathBuf;

/// Which engine a database URL selects.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DbKind {
    Sqlite,
    Postgres,
}

/// How long a SQLite connection waits for another writer before failing with "database is
/// locked". sqlx's default (5 s) is shorter than the longest write the engine holds (a full sync
/// commits in one transaction), so a webhook or a sign-in landing during one failed instead of
/// waiting; this outlasts it.
pub const SQLITE_BUSY_TIMEOUT_MS: u64 = 60_000;

/// A connection pool with its migrations applied.
#[derive(Clone, Debug)]
pub struct Db {
    pool: AnyPool,
    kind: DbKind,
}

impl Db {
    /// Connects, creating the SQLite file and its folder if needed, and applies migrations.
    pub async fn connect(url: &str) -> anyhow::Result<Db> {
        install_default_drivers();
        let kind = kind_of(url)?;
        let url = match kind {
            DbKind::Sqlite => prepare_sqlite(url)?,
            DbKind::Postgres => url.to_string(),
        };
        let pool = AnyPoolOptions::new()
            // SQLite has one writer at a time; a few connections suffice for readers. PostgreSQL
            // commits concurrent transactions together, and each webhook delivery is one
            // transaction on its own connection: with 10, 16 senders queued for connections
            // (618 verified events/s on empty tables; 1,402/s with 24, benchmark of 2026-12-04).
            .max_connections(if kind == DbKind::Sqlite { 4 } else { 24 })
            .after_connect(move |conn, _| {
                Box::pin(async move {
                    if kind == DbKind::Sqlite {
                        let pragma = format!("PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}");
                        sqlx::query(&pragma).execute(conn).await?;
                    }
                    Ok(())
                })
            })
            .connect(&url)
            .await
            .context("connecting to the database")?;
        if kind == DbKind::Sqlite {
            // WAL lets readers proceed while a sync writes; the setting persists in the file.
            sqlx::query("PRAGMA journal_mode = WAL").execute(&pool).await?;
        }
        sqlx::migrate!("./migrations").run(&pool).await.context("applying database migrations")?;
        Ok(Db { pool, kind })
    }

    /// The pool, for the stores.
    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// The engine behind the pool.
    pub fn kind(&self) -> DbKind {
        self.kind
    }

    /// Whether the database answers a trivial query (for `/readyz`).
    pub async fn is_reachable(&self) -> bool {
        sqlx::query("SELECT 1").execute(&self.pool).await.is_ok()
    }
}

fn kind_of(url: &str) -> anyhow::Result<DbKind> {
    if url.starts_with("sqlite:") {
        Ok(DbKind::Sqlite)
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(DbKind::Postgres)
    } else {
        anyhow::bail!("unsupported database URL (expected sqlite://PATH or postgres://...)")
    }
}

/// Creates the folder of a file-backed SQLite database (mode 0700 when new) and the file itself,
/// readable by its owner only (mode 0600): it holds password hashes, session digests and the
/// encrypted Stripe keys. SQLite gives the `-wal` and `-shm` files it creates beside it the
/// database file's mode, so they are private too. An existing file keeps the mode it has.
fn prepare_sqlite(url: &str) -> anyhow::Result<String> {
    use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
    let rest = url.trim_start_matches("sqlite:").trim_start_matches("//");
    let (path, query) = rest.split_once('?').map_or((rest, None), |(p, q)| (p, Some(q)));
    if path.is_empty() || path == ":memory:" {
        return Ok(url.to_string());
    }
    if let Some(dir) = PathBuf::from(path).parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .with_context(|| format!("creating database folder {}", dir.display()))?;
    }
    let url = match query {
        Some(q) if q.contains("mode=") => url.to_string(),
        Some(q) => format!("sqlite://{path}?{q}&mode=rwc"),
        None => format!("sqlite://{path}?mode=rwc"),
    };
    if url.contains("mode=rwc") {
        // Created here rather than by SQLite, which would use 0644 (less the umask). An empty
        // file is a valid new database.
        match std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(path) {
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(e).with_context(|| format!("creating database file {path}")),
        }
    }
    Ok(url)
}

/// The file a `sqlite://` URL names, if any (to place the default master key beside it).
pub fn sqlite_file(url: &str) -> Option<PathBuf> {
    let rest = url.strip_prefix("sqlite:")?.trim_start_matches("//");
    let path = rest.split('?').next().unwrap_or_default();
    (!path.is_empty() && path != ":memory:").then(|| PathBuf::from(path))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn every_sqlite_connection_waits_out_long_writes() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::connect(&format!("sqlite://{}/t.db", dir.path().display())).await.unwrap();
        // Several connections, so that the setting is seen to be per connection, not once.
        let mut conns = Vec::new();
        for _ in 0..3 {
            conns.push(db.pool().acquire().await.unwrap());
        }
        for conn in &mut conns {
            let ms: i64 = sqlx::query_scalar("PRAGMA busy_timeout").fetch_one(&mut **conn).await.unwrap();
            assert_eq!(ms, SQLITE_BUSY_TIMEOUT_MS as i64);
        }
    }

    #[test]
    fn url_selects_the_engine() {
        assert_eq!(kind_of("sqlite://data/console.db").unwrap(), DbKind::Sqlite);
        assert_eq!(kind_of("postgres://u@127.0.0.1/db").unwrap(), DbKind::Postgres);
        assert!(kind_of("mysql://x").is_err());
    }

    #[test]
    fn sqlite_urls_create_their_file() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}/sub/console.db", dir.path().display());
        let prepared = prepare_sqlite(&url).unwrap();
        assert!(prepared.ends_with("?mode=rwc"));
        assert!(dir.path().join("sub").is_dir());
        assert_eq!(sqlite_file("sqlite://data/console.db?mode=rwc"), Some(PathBuf::from("data/console.db")));
        assert_eq!(sqlite_file("sqlite::memory:"), None);
    }

    #[tokio::test]
    async fn a_new_sqlite_database_and_its_wal_files_are_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("data/console.db");
        let db = Db::connect(&format!("sqlite://{}", file.display())).await.unwrap();
        // A write, so the WAL and shared-memory files exist.
        sqlx::query("CREATE TABLE t (x INTEGER)").execute(db.pool()).await.unwrap();
        let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&file), 0o600, "database file");
        for suffix in ["-wal", "-shm"] {
            let side = dir.path().join(format!("data/console.db{suffix}"));
            assert!(side.exists(), "{suffix} exists");
            assert_eq!(mode(&side), 0o600, "{suffix} file");
        }
        assert_eq!(mode(&dir.path().join("data")), 0o700, "database folder");
    }

    #[tokio::test]
    async fn migrations_apply_and_positional_parameters_bind_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::connect(&format!("sqlite://{}/t.db", dir.path().display())).await.unwrap();
        assert!(db.is_reachable().await);
        // The stores write `$1, $2` placeholders for both engines: prove SQLite binds them by number.
        let row: (String, i64) =
            sqlx::query_as("SELECT $1 || 'x', $2 + 1").bind("a").bind(41_i64).fetch_one(db.pool()).await.unwrap();
        assert_eq!(row, ("ax".to_string(), 42));
    }
}
