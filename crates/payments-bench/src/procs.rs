//! The processes under test: the Stripe sandbox and the console, each a child process of the
//! release build, killed when dropped (so also on an error or Ctrl-C).

use anyhow::{bail, Context};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;
use tokio::process::{Child, Command};

/// A free loopback port (bound, then released for the child to take).
pub fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// A child process with its log file.
pub struct Running {
    child: Child,
    log: PathBuf,
    /// `http://127.0.0.1:PORT`.
    pub url: String,
}

impl Running {
    /// The process id, for `/proc/<pid>/status`.
    pub fn pid(&self) -> u32 {
        self.child.id().unwrap_or(0)
    }

    /// The last lines of the log, for error messages.
    pub fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(30)..].join("\n")
    }

    /// Stops the process and waits for it (SIGKILL: nothing it holds needs a clean shutdown,
    /// SQLite's WAL makes a killed writer safe).
    pub async fn stop(mut self) {
        let _ = self.child.kill().await;
    }

    /// Waits until `path` answers 2xx, or fails with the log if the process exits first.
    async fn wait_ready(&mut self, http: &reqwest::Client, path: &str) -> anyhow::Result<()> {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(120);
        loop {
            if let Ok(r) = http.get(format!("{}{path}", self.url)).send().await {
                if r.status().is_success() {
                    return Ok(());
                }
            }
            if let Some(status) = self.child.try_wait()? {
                bail!("{} exited ({status}) before it was ready:\n{}", self.log.display(), self.log_tail());
            }
            if tokio::time::Instant::now() > deadline {
                bail!("{} not ready after 120 s:\n{}", self.url, self.log_tail());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

/// Runs a one-shot CLI command of the console and returns its standard output.
pub async fn cli(bin: &Path, db_url: &str, args: &[&str], stdin: Option<&str>) -> anyhow::Result<String> {
    use tokio::io::AsyncWriteExt;
    let mut child = Command::new(bin)
        .args(args)
        .env("PAYMENTS_CONSOLE_DATABASE_URL", db_url)
        .stdin(if stdin.is_some() { Stdio::piped() } else { Stdio::null() })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .with_context(|| format!("starting {}", bin.display()))?;
    if let (Some(text), Some(mut pipe)) = (stdin, child.stdin.take()) {
        pipe.write_all(format!("{text}\n").as_bytes()).await?;
    }
    let out = child.wait_with_output().await?;
    if !out.status.success() {
        bail!("`payments-console {}` failed: {}", args.join(" "), String::from_utf8_lossy(&out.stderr));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

fn spawn(bin: &Path, args: &[String], envs: &[(&str, String)], log: &Path) -> anyhow::Result<Child> {
    let file = std::fs::File::create(log)?;
    let mut cmd = Command::new(bin);
    cmd.args(args).stdin(Stdio::null()).stdout(file.try_clone()?).stderr(file).kill_on_drop(true);
    for (k, v) in envs {
        cmd.env(k, v);
    }
    cmd.spawn().with_context(|| format!("starting {}", bin.display()))
}

/// `payments-console sandbox` on a free port, empty.
pub async fn start_sandbox(bin: &Path, work: &Path, http: &reqwest::Client) -> anyhow::Result<Running> {
    let port = free_port()?;
    let log = work.join("sandbox.log");
    let child = spawn(bin, &["sandbox".into(), "--addr".into(), format!("127.0.0.1:{port}")], &[], &log)?;
    let mut running = Running { child, log, url: format!("http://127.0.0.1:{port}") };
    running.wait_ready(http, "/_sandbox").await?;
    Ok(running)
}

/// How the console is started.
pub struct ConsoleSetup {
    pub bin: PathBuf,
    pub db_url: String,
    pub master_key: PathBuf,
    pub sandbox_url: String,
    pub admin_email: String,
    pub admin_password: String,
    pub work: PathBuf,
}

/// `payments-console serve` on a free loopback port, its test environment connected to the
/// sandbox (the key is read from `STRIPE_TEST_SECRET_KEY` on the first start only).
pub async fn start_console(setup: &ConsoleSetup, http: &reqwest::Client, run: u32) -> anyhow::Result<Running> {
    let port = free_port()?;
    let url = format!("http://127.0.0.1:{port}");
    let log = setup.work.join(format!("console-{run}.log"));
    let args = vec![
        "serve".into(),
        "--addr".into(),
        format!("127.0.0.1:{port}"),
        "--master-key-file".into(),
        setup.master_key.display().to_string(),
        "--stripe-api-base".into(),
        setup.sandbox_url.clone(),
        "--public-url".into(),
        url.clone(),
    ];
    let envs = [
        ("PAYMENTS_CONSOLE_DATABASE_URL", setup.db_url.clone()),
        ("STRIPE_TEST_SECRET_KEY", "sk_test_payments_bench".to_string()),
        ("PAYMENTS_CONSOLE_ADMIN_EMAIL", setup.admin_email.clone()),
        ("PAYMENTS_CONSOLE_ADMIN_PASSWORD", setup.admin_password.clone()),
        ("RUST_LOG", "warn".to_string()),
    ];
    let child = spawn(&setup.bin, &args, &envs, &log)?;
    let mut running = Running { child, log, url };
    running.wait_ready(http, "/readyz").await?;
    Ok(running)
}

/// `VmRSS` and `VmHWM` of a process, in kB.
pub fn memory_kb(pid: u32) -> Option<(u64, u64)> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
    };
    Some((field("VmRSS:")?, field("VmHWM:")?))
}
