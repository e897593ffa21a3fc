//! Sign-in throttling, per email and per client address: after [`MAX_FAILURES_PER_EMAIL`] wrong
//! passwords for one email, or [`MAX_FAILURES_PER_ADDRESS`] from one client address (whatever
//! the emails), within [`WINDOW_SECS`], further attempts are refused until the oldest failure
//! leaves the window.
//!
//! An attempt is *reserved* (written down) before its password is checked, and only then are the
//! attempts in the window counted: fifty guesses sent at once all count at once, and only the
//! first few (in the database's commit order) go on to the expensive password check. A refused
//! attempt deletes its reservation again, so hammering a throttled account does not extend the
//! lock-out; a successful one deletes its own and clears the email's failures; a failed one
//! stays as the failure. Kept in the database so that several console instances share one count.
//!
//! Why not `governor` (issue #12 asks for a well-kept crate where one exists): governor keeps
//! its GCRA state in the process's memory. Several instances behind one PostgreSQL database
//! would each allow the full budget (five instances, five times the guesses), and a restart
//! would forget every lock-out. The count must live where the accounts live; counting failures
//! in a window is a few statements on an indexed table (`login_attempts`), not a rate-limiting
//! algorithm worth a dependency.

use super::db::Db;
use super::ids::new_id;
use super::now_unix;
use std::net::IpAddr;

/// Wrong passwords allowed per email within the window.
pub const MAX_FAILURES_PER_EMAIL: i64 = 5;
/// Failed sign-ins allowed per client address within the window, across all emails (password
/// spraying from one machine).
pub const MAX_FAILURES_PER_ADDRESS: i64 = 20;
/// The sliding window, in seconds.
pub const WINDOW_SECS: i64 = 15 * 60;

/// Emails are kept at most this long (in characters): no account has a longer one, and it bounds
/// what an anonymous caller can make the server store.
const MAX_EMAIL_CHARS: usize = 254;

const SCOPE_EMAIL: &str = "email";
const SCOPE_ADDRESS: &str = "address";

/// The `login_attempts` table.
#[derive(Clone, Debug)]
pub struct LoginThrottle {
    db: Db,
}

/// An attempt that was counted and allowed to go on to the password check. Hand it back to
/// [`LoginThrottle::succeeded`] when the password was right; otherwise drop it, and it stays
/// recorded as a failure.
#[must_use = "hand it to `succeeded` once the password was right"]
#[derive(Debug)]
pub struct Reservation {
    email: String,
    ids: Vec<String>,
}

impl LoginThrottle {
    pub fn new(db: Db) -> Self {
        LoginThrottle { db }
    }

    /// Records a sign-in attempt for `email` from `client` (the peer address; `None` when it is
    /// unknown, which limits by email only) and decides whether it may check a password:
    /// `Ok(Err(seconds))` while this email or address is throttled.
    pub async fn reserve(&self, email: &str, client: Option<IpAddr>) -> anyhow::Result<Result<Reservation, u64>> {
        let now = now_unix();
        let since = now - WINDOW_SECS;
        sqlx::query("DELETE FROM login_attempts WHERE attempted_at <= $1").bind(since).execute(self.db.pool()).await?;

        let email = normalise(email);
        let mut limits = vec![(SCOPE_EMAIL, email.clone(), MAX_FAILURES_PER_EMAIL)];
        if let Some(ip) = client {
            limits.push((SCOPE_ADDRESS, address_key(ip), MAX_FAILURES_PER_ADDRESS));
        }
        // Every insert commits before the counts below run, so the k-th attempt to commit sees
        // at least k rows: however many arrive at once, at most the limit pass.
        let mut reservation = Reservation { email, ids: Vec::with_capacity(limits.len()) };
        for (scope, subject, _) in &limits {
            let id = new_id("att");
            sqlx::query("INSERT INTO login_attempts (id, scope, subject, attempted_at) VALUES ($1, $2, $3, $4)")
                .bind(&id)
                .bind(*scope)
                .bind(subject)
                .bind(now)
                .execute(self.db.pool())
                .await?;
            reservation.ids.push(id);
        }

        let mut retry_after: Option<i64> = None;
        for (scope, subject, max) in &limits {
            let (count, oldest): (i64, Option<i64>) = sqlx::query_as(
                "SELECT COUNT(*), MIN(attempted_at) FROM login_attempts
                 WHERE scope = $1 AND subject = $2 AND attempted_at > $3",
            )
            .bind(*scope)
            .bind(subject)
            .bind(since)
            .fetch_one(self.db.pool())
            .await?;
            // The count includes this attempt's own reservation.
            if count > *max {
                let wait = oldest.unwrap_or(now) + WINDOW_SECS - now;
                retry_after = Some(retry_after.map_or(wait, |w| w.max(wait)));
            }
        }
        if let Some(wait) = retry_after {
            self.release(&reservation.ids).await?;
            return Ok(Err(wait.max(1) as u64));
        }
        Ok(Ok(reservation))
    }

    /// The password was right: forgets this attempt, and clears the email's failures (the
    /// address's other failures stay, so signing in to one's own account does not reset a
    /// spraying count).
    pub async fn succeeded(&self, reservation: Reservation) -> anyhow::Result<()> {
        self.release(&reservation.ids).await?;
        sqlx::query("DELETE FROM login_attempts WHERE scope = $1 AND subject = $2")
            .bind(SCOPE_EMAIL)
            .bind(&reservation.email)
            .execute(self.db.pool())
            .await?;
        Ok(())
    }

    async fn release(&self, ids: &[String]) -> anyhow::Result<()> {
        for id in ids {
            sqlx::query("DELETE FROM login_attempts WHERE id = $1").bind(id).execute(self.db.pool()).await?;
        }
        Ok(())
    }
}

fn normalise(email: &str) -> String {
    email.trim().to_lowercase().chars().take(MAX_EMAIL_CHARS).collect()
}

/// The key a client address is counted under: IPv4 as is (also when written as an IPv4-mapped
/// IPv6 address), IPv6 by its /64 network, since one machine usually holds a whole /64 and could
/// otherwise use a fresh address for every guess.
fn address_key(ip: IpAddr) -> String {
    match ip.to_canonical() {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => {
            let network = u128::from(v6) & !((1u128 << 64) - 1);
            format!("{}/64", std::net::Ipv6Addr::from(network))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn throttle() -> (tempfile::TempDir, LoginThrottle) {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::connect(&format!("sqlite://{}/t.db", dir.path().display())).await.unwrap();
        (dir, LoginThrottle::new(db))
    }

    fn ip(s: &str) -> Option<IpAddr> {
        Some(s.parse().unwrap())
    }

    #[tokio::test]
    async fn throttles_after_repeated_failures_per_email() {
        let (_dir, throttle) = throttle().await;
        for _ in 0..MAX_FAILURES_PER_EMAIL {
            // Dropped: each stays as a failure.
            let _ = throttle.reserve("a@x", None).await.unwrap().expect("allowed");
        }
        let retry = throttle.reserve("A@x ", None).await.unwrap().unwrap_err();
        assert!(retry > 0 && retry <= WINDOW_SECS as u64);
        let other = throttle.reserve("b@x", None).await.unwrap();
        assert!(other.is_ok(), "other emails are unaffected");
        // Refused attempts were not kept: still exactly at the limit, not above it.
        let (count,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM login_attempts WHERE subject = 'a@x'")
            .fetch_one(throttle.db.pool())
            .await
            .unwrap();
        assert_eq!(count, MAX_FAILURES_PER_EMAIL);
    }

    #[tokio::test]
    async fn a_success_clears_the_emails_failures_but_not_the_addresss() {
        let (_dir, throttle) = throttle().await;
        for _ in 0..MAX_FAILURES_PER_EMAIL - 1 {
            let _ = throttle.reserve("a@x", ip("10.0.0.1")).await.unwrap().unwrap();
        }
        // The last allowed attempt is not blocked by its own reservation.
        let last = throttle.reserve("a@x", ip("10.0.0.1")).await.unwrap().expect("the limit-th attempt is allowed");
        throttle.succeeded(last).await.unwrap();
        for _ in 0..MAX_FAILURES_PER_EMAIL {
            let _ = throttle.reserve("a@x", ip("10.0.0.1")).await.unwrap().expect("failures were cleared");
        }
        let (count,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM login_attempts WHERE scope = 'address'")
            .fetch_one(throttle.db.pool())
            .await
            .unwrap();
        assert_eq!(count, 2 * MAX_FAILURES_PER_EMAIL - 1, "only the successful attempt left the address's count");
    }

    #[tokio::test]
    async fn throttles_one_address_across_emails() {
        let (_dir, throttle) = throttle().await;
        for i in 0..MAX_FAILURES_PER_ADDRESS {
            let _ = throttle.reserve(&format!("u{i}@x"), ip("10.0.0.1")).await.unwrap().unwrap();
        }
        assert!(throttle.reserve("new@x", ip("10.0.0.1")).await.unwrap().is_err());
        assert!(throttle.reserve("new@x", ip("::ffff:10.0.0.1")).await.unwrap().is_err(), "IPv4-mapped is the same");
        assert!(throttle.reserve("new@x", ip("10.0.0.2")).await.unwrap().is_ok(), "other addresses are unaffected");
        assert!(throttle.reserve("new2@x", None).await.unwrap().is_ok(), "an unknown address counts by email");
    }

    #[test]
    fn ipv6_clients_are_counted_by_network() {
        assert_eq!(address_key("2001:db8:1:2:3:4:5:6".parse().unwrap()), "2001:db8:1:2::/64");
        assert_eq!(address_key("2001:db8:1:2:ffff::1".parse().unwrap()), "2001:db8:1:2::/64");
        assert_eq!(address_key("::ffff:192.0.2.7".parse().unwrap()), "192.0.2.7");
        assert_eq!(address_key("192.0.2.7".parse().unwrap()), "192.0.2.7");
    }

    #[test]
    fn emails_are_normalised_and_bounded() {
        assert_eq!(normalise("  Ops@Example.COM "), "ops@example.com");
        assert_eq!(normalise(&"a".repeat(10_000)).chars().count(), MAX_EMAIL_CHARS);
    }
}
