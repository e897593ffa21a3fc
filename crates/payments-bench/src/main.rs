//! `payments-bench`: the benchmark suite of issue #10. Starts the Stripe sandbox and the console
//! as their own processes (the release build of `payments-console`), fills the tables, and
//! prints each figure beside its baseline measured in the same run. Asserts no timing: it
//! fails only when the suite itself breaks (an HTTP error, a lost event, a wrong count).

mod data;
mod parts;
mod procs;
mod report;

use anyhow::Context;
use clap::Parser;
use std::path::PathBuf;
use std::time::Duration;

/// The parts of the suite.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Part {
    /// Every list of the API and the pages, 50-row pages.
    Lists,
    /// Server-side rendering of every console page.
    Ssr,
    /// Verified webhooks per second from concurrent senders.
    Webhooks,
    /// `POST /api/payments/test/sync` against polite paging, and the console's memory.
    Sync,
    /// Signed-in users browsing while webhooks arrive at a steady rate (issue #9): errors, the
    /// pages' p95 and events lost.
    Load,
    /// The payment history's CSV export, every row, streamed: rows per second over the whole
    /// download against its first tenth.
    Export,
}

/// Benchmarks the console at scale (issue #10). Defaults are the full sizes; `--small`
/// runs in about a minute.
#[derive(Debug, Clone, Parser)]
#[command(name = "payments-bench", version)]
pub struct Args {
    /// The `payments-console` release binary to run.
    #[arg(long, default_value = "target/release/payments-console")]
    pub console_bin: PathBuf,
    /// Database: a temporary SQLite file by default, or an (empty) `postgres://…` database.
    #[arg(long)]
    pub db: Option<String>,
    /// The smallest sizes (for CI and a quick look); explicit size flags still win.
    #[arg(long)]
    pub small: bool,
    /// Payment-history rows generated into the table.
    #[arg(long)]
    pub history_rows: Option<i64>,
    /// Subscriptions (each with one item) generated into the table.
    #[arg(long)]
    pub subscriptions: Option<i64>,
    /// Customers (with emails; the first 10k mapped to billing subjects).
    #[arg(long)]
    pub customers: Option<i64>,
    /// Stored webhook events generated into the table.
    #[arg(long)]
    pub events: Option<i64>,
    /// Objects of each type (products, prices, customers, subscriptions) seeded in the sandbox
    /// for the sync.
    #[arg(long)]
    pub sync_objects: Option<i64>,
    /// Requests per list (and per page) for the percentiles.
    #[arg(long)]
    pub samples: Option<usize>,
    /// Most webhook events sent per phase (each phase also stops after --webhook-seconds).
    #[arg(long)]
    pub webhook_events: Option<u64>,
    /// Longest a webhook phase sends, in seconds.
    #[arg(long)]
    pub webhook_seconds: Option<u64>,
    /// Concurrent webhook senders.
    #[arg(long, default_value_t = 16)]
    pub senders: usize,
    /// Seconds the load part runs.
    #[arg(long)]
    pub load_seconds: Option<u64>,
    /// Signed-in users browsing during the load part.
    #[arg(long)]
    pub load_users: Option<usize>,
    /// Webhooks per second during the load part.
    #[arg(long)]
    pub load_rate: Option<u64>,
    /// Seconds after the sync at which the console's memory is read again.
    #[arg(long)]
    pub settle_seconds: Option<u64>,
    /// Hard timeout of each part, in seconds.
    #[arg(long)]
    pub part_timeout: Option<u64>,
    /// Parts to run (comma-separated); all by default.
    #[arg(long, value_enum, value_delimiter = ',')]
    pub only: Vec<Part>,
    /// Also write the Markdown table to this file.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Keep the working directory (database, logs) instead of deleting it.
    #[arg(long)]
    pub keep: bool,
}

/// The sizes and bounds of one run, after `--small` and the explicit flags.
#[derive(Debug, Clone)]
pub struct Plan {
    pub sizes: data::Sizes,
    pub sync_objects: i64,
    pub samples: usize,
    pub webhook_events: u64,
    pub webhook_seconds: u64,
    pub senders: usize,
    pub settle: Duration,
    pub part_timeout: Duration,
    pub parts: Vec<Part>,
    pub load_seconds: u64,
    pub load_users: usize,
    pub load_rate: u64,
}

impl Args {
    fn plan(&self) -> Plan {
        let s = self.small;
        let pick = |flag: Option<i64>, full: i64, small: i64| flag.unwrap_or(if s { small } else { full });
        Plan {
            sizes: data::Sizes {
                history_rows: pick(self.history_rows, 1_000_000, 20_000),
                subscriptions: pick(self.subscriptions, 100_000, 2_000),
                customers: pick(self.customers, 100_000, 2_000),
                events: pick(self.events, 1_000_000, 20_000),
            },
            sync_objects: pick(self.sync_objects, 25_000, 300),
            samples: self.samples.unwrap_or(if s { 10 } else { 40 }),
            webhook_events: self.webhook_events.unwrap_or(if s { 400 } else { 30_000 }),
            webhook_seconds: self.webhook_seconds.unwrap_or(if s { 10 } else { 20 }),
            senders: self.senders.max(1),
            settle: Duration::from_secs(self.settle_seconds.unwrap_or(if s { 2 } else { 10 })),
            part_timeout: Duration::from_secs(self.part_timeout.unwrap_or(if s { 60 } else { 900 })),
            load_seconds: self.load_seconds.unwrap_or(if s { 5 } else { 60 }),
            load_users: self.load_users.unwrap_or(if s { 10 } else { 50 }).max(1),
            load_rate: self.load_rate.unwrap_or(if s { 100 } else { 500 }).max(1),
            parts: if self.only.is_empty() {
                vec![Part::Lists, Part::Ssr, Part::Export, Part::Webhooks, Part::Load, Part::Sync]
            } else {
                self.only.clone()
            },
        }
    }
}

/// A working directory removed on drop (after the processes using it, declared later, died).
struct WorkDir {
    path: PathBuf,
    keep: bool,
}

impl Drop for WorkDir {
    fn drop(&mut self) {
        if self.keep {
            eprintln!("kept {}", self.path.display());
        } else {
            let _ = std::fs::remove_dir_all(&self.path);
        }
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let plan = args.plan();
    let unique = format!("{}-{}", std::process::id(), parts::now_ms());
    let work = WorkDir { path: std::env::temp_dir().join(format!("payments-bench-{unique}")), keep: args.keep };
    std::fs::create_dir_all(&work.path).with_context(|| format!("creating {}", work.path.display()))?;
    // Dropping the run on Ctrl-C drops its child processes, which kills them (kill_on_drop).
    let outcome = tokio::select! {
        r = parts::run(&args, &plan, &work.path) => r,
        _ = tokio::signal::ctrl_c() => Err(anyhow::anyhow!("interrupted")),
    };
    let table = outcome?;
    print!("{table}");
    if let Some(out) = &args.out {
        std::fs::write(out, &table).with_context(|| format!("writing {}", out.display()))?;
    }
    Ok(())
}
