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
    for sub in ["serve", "users", "api-keys", "sandbox", "precompress"] {
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
        ("--jwt-secret", "PAYMENTS_CONSOLE_JWT_SECRET"),
        ("--jwt-secret-file", "PAYMENTS_CONSOLE_JWT_SECRET_FILE"),
        ("--backend-api-key-file", "PAYMENTS_CONSOLE_BACKEND_API_KEY_FILE"),
        ("--metrics-token", "PAYMENTS_CONSOLE_METRICS_TOKEN"),
        ("--metrics-token-file", "PAYMENTS_CONSOLE_METRICS_TOKEN_FILE"),
    ] {
        assert!(serve.contains(flag), "serve --help lacks {flag}");
        assert!(serve.contains(env), "serve --help lacks {env}");
    }
}

#[test]
fn precompress_writes_the_siblings_the_server_sends() {
    let dir = tempfile::tempdir().unwrap();
    let site = dir.path().join("site");
    std::fs::create_dir_all(site.join("pkg")).unwrap();
    std::fs::write(site.join("pkg/payments-console.wasm"), "(module (func $hydrate))\n".repeat(200)).unwrap();
    let site_arg = site.display().to_string();
    let out = console("sqlite::memory:", &["precompress", "--site-root", &site_arg], None);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("2 written"), "{}", text(&out.stderr));
    assert!(site.join("pkg/payments-console.wasm.br").is_file() && site.join("pkg/payments-console.wasm.gz").is_file());
    let again = console("sqlite::memory:", &["precompress", "--site-root", &site_arg], None);
    assert!(text(&again.stderr).contains("0 written, 2 up to date"), "{}", text(&again.stderr));
    let missing = console("sqlite::memory:", &["precompress", "--site-root", "/nonexistent/site"], None);
    assert!(!missing.status.success());
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

    // The CLI shares the pages' rules: the last admin stays.
    assert!(add("boss@example.com", "admin", "a long enough passphrase\n").status.success());
    let out = console(&db, &["users", "remove", "--email", "boss@example.com"], None);
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("last admin"), "{}", text(&out.stderr));
    // Deactivation: listed as such, reversible, and never of the last admin who can sign in.
    let out = console(&db, &["users", "deactivate", "--email", "boss@example.com"], None);
    assert!(!out.status.success() && text(&out.stderr).contains("last admin"), "{}", text(&out.stderr));
    assert!(console(&db, &["users", "deactivate", "--email", "ops@example.com"], None).status.success());
    let list = text(&console(&db, &["users", "list"], None).stdout);
    let ops = list.lines().find(|l| l.starts_with("ops@example.com")).unwrap();
    assert!(ops.contains("deactivated"), "{list}");
    assert!(console(&db, &["users", "reactivate", "--email", "ops@example.com"], None).status.success());
    let list = text(&console(&db, &["users", "list"], None).stdout);
    assert!(!list.contains("deactivated"), "{list}");
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

/// `serve` with extra environment variables; waits for it to exit.
fn serve_with_env(db: &str, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_payments-console"));
    cmd.arg("serve")
        .args(args)
        .env("PAYMENTS_CONSOLE_DATABASE_URL", db)
        .env("RUST_LOG", "warn")
        .env_remove("PAYMENTS_CONSOLE_JWT_SECRET")
        .env_remove("PAYMENTS_CONSOLE_JWT_SECRET_FILE")
        .stdin(Stdio::null());
    for (name, value) in env {
        cmd.env(name, value);
    }
    cmd.output().expect("binary runs")
}

#[test]
fn serve_refuses_a_jwt_secret_shorter_than_32_bytes() {
    let dir = tempfile::tempdir().unwrap();
    // No master key for this database: had the secret been accepted, start-up would stop later
    // with a different error, which the assertions below would catch.
    let db = format!("sqlite://{}/c.db", dir.path().display());
    let short_file = dir.path().join("short.secret");
    std::fs::write(&short_file, format!("{}\n", "s".repeat(31))).unwrap();
    let short_file = short_file.display().to_string();
    let cases: [(&str, Vec<&str>, Vec<(&str, &str)>); 4] = [
        ("empty variable", vec![], vec![("PAYMENTS_CONSOLE_JWT_SECRET", "")]),
        ("31-byte flag", vec!["--jwt-secret", "0123456789012345678901234567890"], vec![]),
        ("31-byte file", vec!["--jwt-secret-file", &short_file], vec![]),
        ("31-byte file variable", vec![], vec![("PAYMENTS_CONSOLE_JWT_SECRET_FILE", &short_file)]),
    ];
    for (case, args, env) in cases {
        let out = serve_with_env(&db, &args, &env);
        let stderr = text(&out.stderr);
        assert!(!out.status.success(), "{case}: started");
        assert!(stderr.contains("--jwt-secret") && stderr.contains("at least 32 bytes"), "{case}: {stderr}");
        assert!(!stderr.contains("0123456789"), "{case}: the secret is never printed: {stderr}");
    }
    assert!(!dir.path().join("c.db").exists(), "refused before the database was touched");
}

#[test]
fn serve_refuses_a_secret_given_both_directly_and_in_a_file() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}/c.db", dir.path().display());
    let file = dir.path().join("jwt.secret");
    std::fs::write(&file, "k".repeat(40)).unwrap();
    let file = file.display().to_string();
    let out = serve_with_env(&db, &["--jwt-secret-file", &file], &[("PAYMENTS_CONSOLE_JWT_SECRET", &"k".repeat(40))]);
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("--jwt-secret-file"), "{}", text(&out.stderr));
    let out = serve_with_env(
        &db,
        &["--backend", "http://127.0.0.1:9", "--backend-api-key", "ik_x", "--backend-api-key-file", &file],
        &[],
    );
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("--backend-api-key-file"), "{}", text(&out.stderr));
    let missing = dir.path().join("missing.secret").display().to_string();
    let out = serve_with_env(&db, &["--jwt-secret-file", &missing], &[]);
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("missing.secret"), "{}", text(&out.stderr));
}

#[tokio::test]
async fn serve_takes_the_jwt_secret_from_a_file_and_accepts_its_tokens() {
    use payments_engine::sign_hs256;
    let dir = tempfile::tempdir().unwrap();
    let secret = "0123456789abcdef0123456789abcdef"; // exactly 32 bytes
    let secret_file = dir.path().join("jwt.secret");
    std::fs::write(&secret_file, format!("{secret}\n")).unwrap();
    let key_file = dir.path().join("master.key");
    payments_console::server::crypto::MasterKey::create_file(&key_file).unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let base = format!("http://127.0.0.1:{port}");
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_payments-console"))
        .args(["serve", "--addr", &format!("127.0.0.1:{port}"), "--stripe-api-base", "http://127.0.0.1:9"])
        .arg("--master-key-file")
        .arg(&key_file)
        .env("PAYMENTS_CONSOLE_JWT_SECRET_FILE", &secret_file)
        .env_remove("PAYMENTS_CONSOLE_JWT_SECRET")
        .env_remove("STRIPE_TEST_SECRET_KEY")
        .env_remove("STRIPE_LIVE_SECRET_KEY")
        .env("PAYMENTS_CONSOLE_DATABASE_URL", format!("sqlite://{}/c.db", dir.path().display()))
        .env("PAYMENTS_CONSOLE_ADMIN_PASSWORD", "a long enough password")
        .env("LEPTOS_SITE_ROOT", dir.path())
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut ready = false;
    for _ in 0..400 {
        if reqwest::get(format!("{base}/healthz")).await.is_ok_and(|r| r.status().is_success()) {
            ready = true;
            break;
        }
        if child.try_wait().unwrap().is_some() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    if !ready {
        child.start_kill().ok();
        let out = child.wait_with_output().await.unwrap();
        panic!("serve did not start: {}", text(&out.stderr));
    }

    let status = |token: String| {
        let url = format!("{base}/api/payments/status");
        async move { reqwest::Client::new().get(url).bearer_auth(token).send().await.unwrap().status() }
    };
    let claims = serde_json::json!({ "sub": "u1", "role": "project_admin", "exp": 4_000_000_000_i64 });
    assert_eq!(status(sign_hs256(&claims, secret.as_bytes())).await, 200, "a token signed with the file's secret");
    // The trailing newline is not part of the secret, and another key is refused.
    assert_eq!(status(sign_hs256(&claims, format!("{secret}\n").as_bytes())).await, 401);
    assert_eq!(status(sign_hs256(&claims, b"")).await, 401, "an empty key forges nothing");
}
