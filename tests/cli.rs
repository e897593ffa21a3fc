//! The command line, run as a user would run it: the real binary in a subprocess.

use std::io::Write;
use std::process::{Command, Output, Stdio};

fn console(db: &str, args: &[&str], stdin: Option<&str>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_payments-console"))
        .args(args)
        .env("PAYMENTS_CONSOLE_DATABASE_URL", db)
        .env("RUST_LOG", "warn")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("binary starts");
    if let Some(input) = stdin {
        child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
    }
    drop(child.stdin.take());
    child.wait_with_output().unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn help_documents_every_subcommand_and_serve_flag() {
    let out = console("sqlite::memory:", &["--help"], None);
    assert!(out.status.success());
    let help = text(&out.stdout);
    for sub in ["serve", "users", "api-keys", "sandbox"] {
        assert!(help.contains(sub), "--help lacks {sub}");
    }
    let serve = text(&console("sqlite::memory:", &["serve", "--help"], None).stdout);
    for (flag, env) in [
        ("--addr", "PAYMENTS_CONSOLE_ADDR"),
        ("--database-url", "PAYMENTS_CONSOLE_DATABASE_URL"),
        ("--public-url", "PAYMENTS_CONSOLE_PUBLIC_URL"),
        ("--stripe-api-base", "PAYMENTS_CONSOLE_STRIPE_API_BASE"),
        ("--backend", "PAYMENTS_CONSOLE_BACKEND"),
        ("--backend-api-key", "PAYMENTS_CONSOLE_BACKEND_API_KEY"),
        ("--demo", "PAYMENTS_CONSOLE_DEMO"),
        ("--master-key-file", "PAYMENTS_CONSOLE_MASTER_KEY_FILE"),
    ] {
        assert!(serve.contains(flag), "serve --help lacks {flag}");
        assert!(serve.contains(env), "serve --help lacks {env}");
    }
}

#[test]
fn users_are_added_listed_and_removed() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}/c.db", dir.path().display());
    let add = |email: &str, role: &str, pw: &str| {
        console(&db, &["users", "add", "--email", email, "--role", role, "--password-stdin"], Some(pw))
    };
    let out = add("Ops@Example.com", "support", "a long enough passphrase\n");
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = add("ops@example.com", "admin", "another long passphrase\n");
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("already exists"));
    let out = add("short@example.com", "admin", "short\n");
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("at least 12 characters"));

    let list = text(&console(&db, &["users", "list"], None).stdout);
    assert!(list.contains("ops@example.com") && list.contains("support"));
    assert!(!list.contains("short@example.com"));

    assert!(console(&db, &["users", "remove", "--email", "ops@example.com"], None).status.success());
    assert!(!console(&db, &["users", "remove", "--email", "ops@example.com"], None).status.success());
    assert!(!text(&console(&db, &["users", "list"], None).stdout).contains("ops@example.com"));
}

#[test]
fn api_keys_are_shown_once_and_can_be_revoked() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}/c.db", dir.path().display());
    let out = console(&db, &["api-keys", "create", "--name", "deploy-bot"], None);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let key = text(&out.stdout).trim().to_string();
    assert!(key.starts_with("ik_") && key.len() == 67, "unexpected key {key:?}");

    let list = text(&console(&db, &["api-keys", "list"], None).stdout);
    assert!(list.contains("deploy-bot") && list.contains("active"));
    assert!(list.contains(&key[..11]), "the prefix identifies the key");
    assert!(!list.contains(&key[11..]), "the key itself is never shown again");

    assert!(console(&db, &["api-keys", "revoke", "deploy-bot"], None).status.success());
    assert!(text(&console(&db, &["api-keys", "list"], None).stdout).contains("revoked"));
    assert!(!console(&db, &["api-keys", "revoke", "deploy-bot"], None).status.success());
}

#[test]
fn serve_refuses_a_non_default_database_without_a_master_key() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}/c.db", dir.path().display());
    let out = console(&db, &["serve", "--addr", "127.0.0.1:0"], None);
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("--master-key-file is required"), "{}", text(&out.stderr));
}
