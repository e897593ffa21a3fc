//! `payments-console sandbox`, and the in-process sandbox of `serve --demo`: the offline Stripe
//! stand-in from `crates/stripe-sandbox`, on a loopback port.

use anyhow::Context;
use clap::{Args, ValueEnum};
use std::net::SocketAddr;
use stripe_sandbox::{ApiKeys, Sandbox, SandboxConfig};
use tokio::net::TcpListener;

/// What data the sandbox starts with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Seed {
    /// Nothing.
    None,
    /// A small, realistic catalog with customers, subscriptions, payments and refunds across
    /// several billing subjects (`team:acme`, `user:42`, …).
    Demo,
}

/// `sandbox` flags.
#[derive(Debug, Clone, Args)]
pub struct SandboxArgs {
    /// Address to listen on (loopback by default: the sandbox has no real authentication).
    #[arg(long, env = "PAYMENTS_CONSOLE_SANDBOX_ADDR", default_value = "127.0.0.1:12111")]
    pub addr: SocketAddr,
    /// Data to start with.
    #[arg(long, value_enum, env = "PAYMENTS_CONSOLE_SANDBOX_SEED", default_value = "none")]
    pub seed: Seed,
    /// Benchmark-scale data: N each of products, prices, customers and subscriptions.
    #[arg(long, env = "PAYMENTS_CONSOLE_SANDBOX_SEED_SIZE")]
    pub seed_size: Option<usize>,
    /// Accept only this secret key (default: any `sk_test_…` key).
    #[arg(long, env = "PAYMENTS_CONSOLE_SANDBOX_API_KEY", hide_env_values = true)]
    pub api_key: Option<String>,
}

/// A sandbox listening on its address.
pub struct RunningSandbox {
    pub sandbox: Sandbox,
    pub url: String,
}

/// Binds the sandbox, seeds it and starts serving it in the background.
pub async fn start(
    addr: SocketAddr,
    seed: Seed,
    seed_size: Option<usize>,
    api_keys: ApiKeys,
) -> anyhow::Result<RunningSandbox> {
    let listener = TcpListener::bind(addr).await.with_context(|| format!("binding the Stripe sandbox to {addr}"))?;
    let url = format!("http://{}", listener.local_addr()?);
    let sandbox = Sandbox::new(SandboxConfig { api_keys, public_url: url.clone(), ..SandboxConfig::default() });
    if seed == Seed::Demo {
        sandbox.seed_demo();
    }
    if let Some(n) = seed_size {
        let started = std::time::Instant::now();
        sandbox.seed_size(n);
        tracing::info!(objects = n * 4, elapsed_ms = started.elapsed().as_millis() as u64, "seeded the sandbox");
    }
    let server = sandbox.clone();
    tokio::spawn(async move {
        if let Err(e) = server.serve(listener).await {
            tracing::error!(error = %e, "the Stripe sandbox stopped");
        }
    });
    Ok(RunningSandbox { sandbox, url })
}

/// Runs the sandbox in the foreground until Ctrl-C.
pub async fn run(args: SandboxArgs) -> anyhow::Result<()> {
    let keys = args.api_key.clone().map_or(ApiKeys::AnyTestKey, |k| ApiKeys::Only(vec![k]));
    let running = start(args.addr, args.seed, args.seed_size, keys).await?;
    let key = args.api_key.as_deref().map_or(stripe_sandbox::DEFAULT_API_KEY, |_| "the key given with --api-key");
    println!("Stripe sandbox (API version {}) on {}", stripe_sandbox::STRIPE_VERSION, running.url);
    println!("Use it with --stripe-api-base {} and {key}", running.url);
    tokio::signal::ctrl_c().await?;
    Ok(())
}
