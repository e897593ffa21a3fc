//! The built site's file names and how long browsers may keep them.
//!
//! With `hash-files = true` (`Cargo.toml`, `[package.metadata.leptos]`), cargo-leptos renames
//! the bundle to `payments-console.<hash>.{js,wasm,css}` and writes the hashes to `hash.txt`
//! beside the server binary (cargo-leptos 0.3.10, `src/compile/hash.rs`). Leptos reads that file
//! from the running binary's folder for the JS and WASM names (leptos 0.8.23,
//! `src/hydration/mod.rs`); the stylesheet's name is read here, from the same file.

use leptos::config::LeptosOptions;
use std::path::PathBuf;

/// The hash file's name when `LEPTOS_HASH_FILE_NAME` does not say otherwise.
const DEFAULT_HASH_FILE: &str = "hash.txt";

/// The length of cargo-leptos's hashes: an MD5 digest in unpadded base64url.
const HASH_LEN: usize = 22;

/// `Cache-Control` of a content-hashed file: its name changes whenever its content does.
pub const IMMUTABLE: &str = "public, max-age=31536000, immutable";
/// `Cache-Control` of a static file whose name stays the same across builds (the favicon): kept
/// for an hour, then revalidated (`Last-Modified` / `If-Modified-Since`).
pub const SHORT_LIVED: &str = "public, max-age=3600, must-revalidate";
/// `Cache-Control` of a bundle file without a hash in its name (a build without `hash-files`):
/// revalidated on every use, so a rebuilt bundle is never mixed with a cached one.
pub const REVALIDATE: &str = "no-cache";

/// The hash file's name (`LEPTOS_HASH_FILE_NAME`, as cargo-leptos passes it, or `hash.txt`).
pub fn hash_file_name() -> String {
    std::env::var("LEPTOS_HASH_FILE_NAME").ok().filter(|n| !n.is_empty()).unwrap_or_else(|| DEFAULT_HASH_FILE.into())
}

/// Where Leptos looks for the hash file: beside the running binary.
fn hash_file_path(name: &str) -> Option<PathBuf> {
    Some(std::env::current_exe().ok()?.parent()?.join(name))
}

/// Whether the site was built with hashed file names: the hash file is beside the binary, as it is
/// after `cargo leptos build` for `target/{release,debug}/payments-console` (our scripts run the
/// binary directly; a binary copied elsewhere must take its `hash.txt` along), and
/// `LEPTOS_HASH_FILES` (which cargo-leptos sets for the servers it starts) does not say `false`.
///
/// Never on without the file: Leptos panics rendering a page when hashing is on and the file is
/// missing (leptos 0.8.23, `src/hydration/mod.rs`, "failed to read hash file").
pub fn hash_files_enabled(hash_file_name: &str) -> bool {
    let wanted = std::env::var("LEPTOS_HASH_FILES").map(|v| v.trim().to_ascii_lowercase());
    if wanted.as_deref() == Ok("false") {
        return false;
    }
    let path = hash_file_path(hash_file_name);
    let present = path.as_ref().is_some_and(|p| p.is_file());
    if !present && wanted.as_deref() == Ok("true") {
        tracing::warn!(path = ?path, "LEPTOS_HASH_FILES is true but the hash file is not beside the binary: serving unhashed names");
    }
    present
}

/// The `href` of the site's stylesheet: `/pkg/<output>.<hash>.css` when the build hashed it.
/// The hash file is read once per process (every page's shell asks; the build does not change
/// under a running binary).
pub fn stylesheet_href(options: &LeptosOptions) -> String {
    static CSS_HASH: std::sync::OnceLock<Option<String>> = std::sync::OnceLock::new();
    let pkg = &options.site_pkg_dir;
    let output = &options.output_name;
    let hash = options
        .hash_files
        .then(|| {
            CSS_HASH.get_or_init(|| {
                hash_file_path(&options.hash_file)
                    .and_then(|path| std::fs::read_to_string(path).ok())
                    .and_then(|hashes| hash_of(&hashes, "css"))
            })
        })
        .and_then(Option::as_ref);
    match hash {
        Some(hash) => format!("/{pkg}/{output}.{hash}.css"),
        None => format!("/{pkg}/{output}.css"),
    }
}

/// The hash of one kind of file in cargo-leptos's `hash.txt` (`js: …`, `wasm: …`, `css: …`).
fn hash_of(hashes: &str, kind: &str) -> Option<String> {
    hashes
        .lines()
        .filter_map(|line| line.split_once(':'))
        .find(|(k, _)| k.trim() == kind)
        .map(|(_, h)| h.trim().to_owned())
}

/// Whether a file name carries a cargo-leptos content hash: a dot-separated part of exactly
/// [`HASH_LEN`] base64url characters (`payments-console.Xh3…Q.wasm`). The unfilled placeholder
/// of an unhashed build (`__wasm_split.______________________.js`) does not count.
pub fn is_content_hashed(file_name: &str) -> bool {
    let mut parts = file_name.split('.');
    let _stem = parts.next();
    parts.any(|part| {
        part.len() == HASH_LEN
            && part.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
            && part.bytes().any(|b| b != b'_')
    })
}

/// The `Cache-Control` of a static-file path, or `None` for paths that are not static files.
pub fn static_cache_control(path: &str) -> Option<&'static str> {
    if let Some(file) = path.strip_prefix("/pkg/") {
        let name = file.rsplit('/').next().unwrap_or(file);
        return Some(if is_content_hashed(name) { IMMUTABLE } else { REVALIDATE });
    }
    (path == "/favicon.svg").then_some(SHORT_LIVED)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashed_names_are_told_from_plain_ones() {
        assert!(is_content_hashed("payments-console.mXYwEiXV1Cz2d5aJLWxA-g.wasm"));
        assert!(is_content_hashed("__wasm_split.mXYwEiXV1Cz2d5aJLWxA_g.js"));
        assert!(!is_content_hashed("payments-console.wasm"));
        assert!(!is_content_hashed("payments-console_bg.wasm"));
        assert!(!is_content_hashed("__wasm_split.______________________.js"));
        assert!(!is_content_hashed("payments-console.mXYwEiXV1Cz2d5aJLWxA.wasm"));
        assert!(!is_content_hashed("mXYwEiXV1Cz2d5aJLWxA-g.txt"), "the stem alone is a name, not a hash");
    }

    #[test]
    fn cache_policy_by_path() {
        assert_eq!(static_cache_control("/pkg/payments-console.mXYwEiXV1Cz2d5aJLWxA-g.js"), Some(IMMUTABLE));
        assert_eq!(static_cache_control("/pkg/payments-console.js"), Some(REVALIDATE));
        assert_eq!(static_cache_control("/favicon.svg"), Some(SHORT_LIVED));
        assert_eq!(static_cache_control("/test"), None);
        assert_eq!(static_cache_control("/api/console/me"), None);
    }

    #[test]
    fn hash_file_lines_are_read_by_kind() {
        let hashes = "js: aaa\nwasm: bbb\ncss: ccc\nmanifest: ddd\n";
        assert_eq!(hash_of(hashes, "css").as_deref(), Some("ccc"));
        assert_eq!(hash_of(hashes, "wasm").as_deref(), Some("bbb"));
        assert_eq!(hash_of(hashes, "split"), None);
    }
}
