//! `scripts/build.sh --if-changed` (issue #13): the stamp logic of `scripts/lib.sh`, run by bash in
//! a scratch git repository. A restart skips the release build only while every input and
//! output is what the last build saw.

use std::path::Path;
use std::process::Command;

fn sh(dir: &Path, script: &str) -> bool {
    let lib = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/lib.sh");
    let out = Command::new("bash")
        .arg("-c")
        .arg(format!("set -euo pipefail; . '{}'; {script}", lib.display()))
        .current_dir(dir)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_AUTHOR_NAME", "t")
        .env("GIT_AUTHOR_EMAIL", "t@example.com")
        .env("GIT_COMMITTER_NAME", "t")
        .env("GIT_COMMITTER_EMAIL", "t@example.com")
        .output()
        .expect("bash runs");
    out.status.success()
}

/// What `scripts/build.sh` does after a build: writes the stamp.
const STAMP: &str = "build_stamp \"$(build_inputs_hash)\" site bin/console > bin/site.stamp";
const CURRENT: &str = "site_is_current site bin/console bin/site.stamp";

fn write(dir: &Path, path: &str, content: &str) {
    std::fs::write(dir.join(path), content).unwrap();
}

#[test]
fn a_build_is_reused_only_while_its_inputs_and_outputs_are_unchanged() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::create_dir_all(d.join("src")).unwrap();
    std::fs::create_dir_all(d.join("site/pkg")).unwrap();
    std::fs::create_dir_all(d.join("bin")).unwrap();
    write(d, ".gitignore", "/bin\n/site\n*.log\n");
    write(d, "src/main.rs", "fn main() {}\n");
    write(d, "Cargo.lock", "# lock\n");
    write(d, "bin/console", "#!/bin/sh\n");
    write(d, "site/pkg/app.js", "hydrate()\n");
    assert!(sh(d, "chmod +x bin/console && git init -q && git add -A && git commit -qm init"));

    assert!(!sh(d, CURRENT), "no stamp yet: build");
    assert!(sh(d, STAMP));
    assert!(sh(d, CURRENT), "nothing changed: reuse");

    write(d, "src/main.rs", "fn main() { println!(); }\n");
    assert!(!sh(d, CURRENT), "a tracked file changed");
    write(d, "src/main.rs", "fn main() {}\n");
    assert!(sh(d, CURRENT), "and changed back");

    write(d, "Cargo.lock", "# lock 2\n");
    assert!(!sh(d, CURRENT), "Cargo.lock changed");
    write(d, "Cargo.lock", "# lock\n");

    write(d, "src/new.rs", "pub fn f() {}\n");
    assert!(!sh(d, CURRENT), "an untracked source appeared");
    std::fs::remove_file(d.join("src/new.rs")).unwrap();
    write(d, "server.log", "ignored\n");
    assert!(sh(d, CURRENT), "an ignored file is no input");

    assert!(sh(d, "git rm -q --cached Cargo.lock && git add Cargo.lock"));
    assert!(sh(d, CURRENT), "staging alone changes nothing");

    write(d, "site/pkg/app.js", "hydrate(); // another build\n");
    assert!(!sh(d, CURRENT), "the site was rebuilt by something else");
    write(d, "site/pkg/app.js", "hydrate()\n");
    assert!(sh(d, STAMP) && sh(d, CURRENT));
    assert!(sh(d, "touch -d '2001-01-01' bin/console"));
    assert!(!sh(d, CURRENT), "the binary was rebuilt by something else");

    // Outside a git work tree nothing vouches for the sources: always build.
    assert!(sh(d, &format!("{STAMP} || true; rm -rf .git")));
    assert!(!sh(d, CURRENT));
}
