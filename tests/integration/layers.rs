//! The console's layers point one way (README, "Layout"): pages and their building blocks
//! (`ui`) sit on top of the services, the backend and the server code, never below them. A type
//! or function both need lives in a lower module (`model`, `backend`, `payments-model`) that
//! the pages import. This test reads the lower layers' sources and names any file that imports
//! upwards, so that an arrow pointing up fails here rather than in a review.

use std::path::{Path, PathBuf};

/// Folders of the lower layers, relative to the crate root.
const LOWER_LAYERS: [&str; 5] = ["src/server", "src/services", "src/backend", "src/auth", "src/model"];

/// Module paths the lower layers may not name.
const UPPER_LAYERS: [&str; 2] = ["crate::pages", "crate::ui"];

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let entries = std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    for entry in entries {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|x| x == "rs") {
            out.push(path);
        }
    }
}

/// The code of a line without its `//` comment (doc comments may name a page to say who calls
/// the code; only code counts). A `//` inside a string literal would hide the rest of the line,
/// which at worst misses an import written after a URL on the same line.
fn code(line: &str) -> &str {
    line.find("//").map_or(line, |at| &line[..at])
}

#[test]
fn lower_layers_do_not_import_pages_or_ui() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    for dir in LOWER_LAYERS {
        rust_files(&root.join(dir), &mut files);
    }
    assert!(files.len() > 20, "the layer folders were not found under {}", root.display());
    let mut offences = Vec::new();
    for file in &files {
        let source = std::fs::read_to_string(file).unwrap();
        for (n, line) in source.lines().enumerate() {
            if let Some(upper) = UPPER_LAYERS.iter().find(|u| code(line).contains(*u)) {
                let shown = file.strip_prefix(root).unwrap_or(file).display();
                offences.push(format!("{shown}:{}: imports {upper}", n + 1));
            }
        }
    }
    assert!(offences.is_empty(), "lower layers import from above them:\n{}", offences.join("\n"));
}
