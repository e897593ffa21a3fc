//! The command line: `serve`, `users …`, `api-keys …` and the build step `precompress`. Every flag has an environment variable,
//! so a deployment can be configured without a command line.

use super::api_keys::ApiKeyStore;
use super::db::Db;
use super::serve::{ServeArgs, Server};
use super::users::{EmailAddress, NewPassword, UserStore};
use crate::auth::Role;
use crate::services::accounts::Accounts;
use anyhow::Context;
use clap::{Args, Parser, Subcommand, ValueEnum};
use std::io::{BufRead, IsTerminal};

/// Payments Console: an admin console for Stripe-backed payments.
#[derive(Debug, Parser)]
#[command(name = "payments-console", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// The subcommands; without one, `serve` runs with its defaults.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the console's web server.
    Serve(Box<ServeArgs>),
    /// Manage the people who can sign in to the console.
    #[command(subcommand)]
    Users(UsersCommand),
    /// Manage keys for the InsForge-compatible payments API.
    #[command(subcommand, name = "api-keys")]
    ApiKeys(ApiKeysCommand),
    /// Run the offline Stripe sandbox: a stateful stand-in for Stripe's REST API.
    Sandbox(super::sandbox::SandboxArgs),
    /// Create the master key file that encrypts the stored secrets.
    #[command(subcommand, name = "master-key")]
    MasterKey(MasterKeyCommand),
    /// Write brotli (`.br`) and gzip (`.gz`) copies of the built site's files, which the server
    /// then sends to browsers that accept them. Run after every `cargo leptos build`; files whose
    /// copies are newer than they are left alone.
    Precompress(super::precompress::PrecompressArgs),
}

/// `master-key …`: the key file `serve --master-key-file` reads.
#[derive(Debug, Subcommand)]
pub enum MasterKeyCommand {
    /// Write a new random key to FILE, readable by its owner only (mode 0600). An existing file
    /// is never overwritten.
    Generate {
        /// Where to write the key (pass it to `serve --master-key-file`).
        file: std::path::PathBuf,
    },
}

/// Where the console keeps its data.
#[derive(Debug, Clone, Args)]
pub struct DatabaseArgs {
    /// Database URL: `sqlite://PATH` (embedded default) or `postgres://…` (shared by several instances).
    #[arg(long, env = "PAYMENTS_CONSOLE_DATABASE_URL", default_value = "sqlite://data/console.db")]
    pub database_url: String,
}

/// A role on the command line.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum RoleArg {
    /// Everything, including keys and writes.
    Admin,
    /// Read-only.
    Support,
}

impl From<RoleArg> for Role {
    fn from(value: RoleArg) -> Self {
        match value {
            RoleArg::Admin => Role::Admin,
            RoleArg::Support => Role::Support,
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum UsersCommand {
    /// Add a user. The password is read from a prompt, or from standard input with --password-stdin.
    Add {
        /// The user's email address (their sign-in name).
        #[arg(long, env = "PAYMENTS_CONSOLE_USER_EMAIL")]
        email: String,
        /// What the user may do.
        #[arg(long, value_enum, env = "PAYMENTS_CONSOLE_USER_ROLE")]
        role: RoleArg,
        /// Read the password from the first line of standard input instead of prompting.
        #[arg(long, env = "PAYMENTS_CONSOLE_PASSWORD_STDIN")]
        password_stdin: bool,
        #[command(flatten)]
        db: DatabaseArgs,
    },
    /// List users.
    List {
        #[command(flatten)]
        db: DatabaseArgs,
    },
    /// Deactivate a user: they are signed out at once and cannot sign in until reactivated.
    Deactivate {
        /// The email address of the user to deactivate.
        #[arg(long, env = "PAYMENTS_CONSOLE_USER_EMAIL")]
        email: String,
        #[command(flatten)]
        db: DatabaseArgs,
    },
    /// Let a deactivated user sign in again.
    Reactivate {
        /// The email address of the user to reactivate.
        #[arg(long, env = "PAYMENTS_CONSOLE_USER_EMAIL")]
        email: String,
        #[command(flatten)]
        db: DatabaseArgs,
    },
    /// Remove a user and end their sessions.
    Remove {
        /// The email address of the user to remove.
        #[arg(long, env = "PAYMENTS_CONSOLE_USER_EMAIL")]
        email: String,
        #[command(flatten)]
        db: DatabaseArgs,
    },
}

#[derive(Debug, Subcommand)]
pub enum ApiKeysCommand {
    /// Create a key and print it once (only a digest is stored).
    Create {
        /// A name that says who or what uses the key.
        #[arg(long, env = "PAYMENTS_CONSOLE_API_KEY_NAME")]
        name: String,
        #[command(flatten)]
        db: DatabaseArgs,
    },
    /// List keys (prefix, name, created, last used, revoked).
    List {
        #[command(flatten)]
        db: DatabaseArgs,
    },
    /// Revoke a key by id or name.
    Revoke {
        /// The key's id (`key_…`) or name.
        #[arg(env = "PAYMENTS_CONSOLE_API_KEY")]
        key: String,
        #[command(flatten)]
        db: DatabaseArgs,
    },
}

/// Runs the parsed command line.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        None => Server::build(ServeArgs::from_env()).await?.run().await,
        Some(Command::Serve(args)) => Server::build(*args).await?.run().await,
        Some(Command::Users(cmd)) => users(cmd).await,
        Some(Command::ApiKeys(cmd)) => api_keys(cmd).await,
        Some(Command::Sandbox(args)) => super::sandbox::run(args).await,
        Some(Command::Precompress(args)) => tokio::task::spawn_blocking(move || super::precompress::run(args)).await?,
        Some(Command::MasterKey(MasterKeyCommand::Generate { file })) => {
            super::crypto::MasterKey::create_file(&file)?;
            eprintln!("Wrote a new master key to {} (mode 0600). Back it up: without it the stored Stripe keys cannot be decrypted.", file.display());
            Ok(())
        }
    }
}

/// Who ran a command-line write, for the audit log.
fn cli_actor() -> String {
    format!("cli:{}", std::env::var("USER").or_else(|_| std::env::var("LOGNAME")).unwrap_or_else(|_| "unknown".into()))
}

async fn users(cmd: UsersCommand) -> anyhow::Result<()> {
    match cmd {
        UsersCommand::Add { email, role, password_stdin, db } => {
            let email = EmailAddress::parse(&email).map_err(anyhow::Error::msg)?;
            let password = NewPassword::parse(read_password(password_stdin)?).map_err(anyhow::Error::msg)?;
            let accounts = Accounts::new(Db::connect(&db.database_url).await?);
            let record = accounts.add_user(&cli_actor(), &email, role.into(), password, false).await?;
            println!("added {} ({})", record.email, record.role.as_str());
        }
        UsersCommand::List { db } => {
            let users = UserStore::new(Db::connect(&db.database_url).await?).list().await?;
            println!("{:<40} {:<8} {:<12} CREATED", "EMAIL", "ROLE", "STATUS");
            for user in users {
                let status = if user.is_active() { "active" } else { "deactivated" };
                println!(
                    "{:<40} {:<8} {:<12} {}",
                    user.email,
                    user.role.as_str(),
                    status,
                    format_time(user.created_at)
                );
            }
        }
        UsersCommand::Deactivate { email, db } => set_active(&email, &db, false).await?,
        UsersCommand::Reactivate { email, db } => set_active(&email, &db, true).await?,
        UsersCommand::Remove { email, db } => {
            let email = EmailAddress::parse(&email).map_err(anyhow::Error::msg)?;
            Accounts::new(Db::connect(&db.database_url).await?).remove_user(&cli_actor(), &email).await?;
            println!("removed {}", email.as_str());
        }
    }
    Ok(())
}

async fn set_active(email: &str, db: &DatabaseArgs, active: bool) -> anyhow::Result<()> {
    let email = EmailAddress::parse(email).map_err(anyhow::Error::msg)?;
    Accounts::new(Db::connect(&db.database_url).await?).set_active(&cli_actor(), &email, active).await?;
    println!("{} {}", if active { "reactivated" } else { "deactivated" }, email.as_str());
    Ok(())
}

async fn api_keys(cmd: ApiKeysCommand) -> anyhow::Result<()> {
    match cmd {
        ApiKeysCommand::Create { name, db } => {
            let db = Db::connect(&db.database_url).await?;
            let (record, key) = Accounts::new(db).create_api_key(&cli_actor(), &name).await?;
            eprintln!("Created API key {} ({}). It is shown once; store it now:", record.id, record.name);
            println!("{}", key.expose());
        }
        ApiKeysCommand::List { db } => {
            let keys = ApiKeyStore::new(Db::connect(&db.database_url).await?).list().await?;
            println!("{:<36} {:<12} {:<24} {:<20} {:<20} STATUS", "ID", "PREFIX", "NAME", "CREATED", "LAST USED");
            for key in keys {
                println!(
                    "{:<36} {:<12} {:<24} {:<20} {:<20} {}",
                    key.id,
                    key.prefix,
                    key.name,
                    format_time(key.created_at),
                    key.last_used_at.map(format_time).unwrap_or_else(|| "never".into()),
                    if key.revoked_at.is_some() { "revoked" } else { "active" }
                );
            }
        }
        ApiKeysCommand::Revoke { key, db } => {
            let revoked =
                Accounts::new(Db::connect(&db.database_url).await?).revoke_api_key(&cli_actor(), &key).await?;
            println!("revoked {revoked} key(s)");
        }
    }
    Ok(())
}

/// Reads a password from standard input (first line) or from an interactive prompt without echo.
fn read_password(from_stdin: bool) -> anyhow::Result<String> {
    if from_stdin || !std::io::stdin().is_terminal() {
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line).context("reading the password from standard input")?;
        return Ok(line.trim_end_matches(['\r', '\n']).to_string());
    }
    let first = rpassword::prompt_password("Password: ")?;
    let again = rpassword::prompt_password("Repeat password: ")?;
    anyhow::ensure!(first == again, "the passwords do not match");
    Ok(first)
}

/// A Unix time as `YYYY-MM-DD HH:MM:SS UTC`.
pub fn format_time(unix: i64) -> String {
    crate::model::format::utc_datetime(unix)
}
