//! The built site's file names and how long browsers may keep them.
//!
//! With `hash-files = true` (`Cargo.toml`, `[package.metadata.leptos]`), cargo-leptos renames
//! the bundle to `payments-console.<hash>.{js,wasm,css}` and writes the hashes to `hash.txt`
//! beside the server binary (cargo-leptos 0.3.10, `src/compile/hash.rs`). Leptos reads that file
//! from the running binary's folder for the JS and WASM names (leptos 0.8.23,
//! `src/hydration/mod.rs`); the stylesheet's name is read here, from the same file.

use leptos::config::LeptosOptions;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::OnceLock;

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

/// The contents of the build's hash file, when it hashed its file names. Read once per process
/// (every page's shell asks for names from it; the build does not change under a running binary).
fn build_hashes(options: &LeptosOptions) -> Option<&'static str> {
    static HASHES: OnceLock<Option<String>> = OnceLock::new();
    options
        .hash_files
        .then(|| {
            HASHES
                .get_or_init(|| hash_file_path(&options.hash_file).and_then(|path| std::fs::read_to_string(path).ok()))
        })
        .and_then(Option::as_deref)
}

/// A file of the site under `pkg/` as the build named it: `<stem>.<hash>.<ext>` with the hash of
/// `kind` in the hash file, or `<stem>.<ext>` for a build without hashes.
fn hashed_name(options: &LeptosOptions, stem: &str, kind: &str, ext: &str) -> String {
    match build_hashes(options).and_then(|hashes| hash_of(hashes, kind)) {
        Some(hash) => format!("{stem}.{hash}.{ext}"),
        None => format!("{stem}.{ext}"),
    }
}

/// The `href` of the site's stylesheet: `/pkg/<output>.<hash>.css` when the build hashed it.
pub fn stylesheet_href(options: &LeptosOptions) -> String {
    format!("/{}/{}", options.site_pkg_dir, hashed_name(options, &options.output_name, "css", "css"))
}

/// The site's stylesheet, to be written into every page's `<style>` rather than linked (issue #13).
///
/// A linked stylesheet is a request of its own on the cold load, racing the WebAssembly for the
/// link, and the inline scripts after it wait for it, so the parser stopped there: on a 10 Mbit/s
/// link with 40 ms round trips and a CPU slowed 4x, the pages were parsed from about 200 ms, when
/// the stylesheet had arrived, instead of from the HTML's first bytes (`README.md`, "What the
/// slowest pages waited for"). Inline, it costs each page about 5 KB compressed and the browser
/// nothing to wait for.
///
/// Read once, when the server starts ([`super::state::AppState::stylesheet`]). `None`, and pages
/// link the file instead, when it cannot be read, when it could end the `<style>` element early,
/// or under `cargo leptos watch`, whose live reload swaps the linked stylesheet
/// (`<link id="leptos">`) in place.
pub fn read_inline_stylesheet(options: &LeptosOptions) -> Option<std::sync::Arc<str>> {
    if std::env::var_os("LEPTOS_WATCH").is_some() {
        return None;
    }
    let path = PathBuf::from(options.site_root.as_ref()).join(options.site_pkg_dir.as_ref()).join(hashed_name(
        options,
        &options.output_name,
        "css",
        "css",
    ));
    let css = std::fs::read_to_string(&path).ok()?;
    if !safe_in_style_element(&css) {
        tracing::warn!(path = %path.display(), "the stylesheet contains `</style`: pages link it instead");
        return None;
    }
    Some(css.into())
}

/// Whether `css` can be the text of a `<style>` element as it is: the HTML parser ends the
/// element at the first `</style`, in any case, and nothing in it is escaped.
fn safe_in_style_element(css: &str) -> bool {
    !css.to_ascii_lowercase().contains("</style")
}

/// The addresses of the bundle's JS glue and main WebAssembly module, named as Leptos's own
/// hydration script names them (`HydrationScripts`): with the build's hashes, or without them
/// `<output>.js` and, unless cargo-leptos named the output, `<output>_bg.wasm`.
pub fn bundle_hrefs(options: &LeptosOptions) -> (String, String) {
    let pkg = &options.site_pkg_dir;
    let stem = &options.output_name;
    let glue = hashed_name(options, stem, "js", "js");
    let wasm = if build_hashes(options).is_some() || option_env!("LEPTOS_OUTPUT_NAME").is_some() {
        hashed_name(options, stem, "wasm", "wasm")
    } else {
        format!("{stem}_bg.wasm")
    };
    (format!("/{pkg}/{glue}"), format!("/{pkg}/{wasm}"))
}

/// What the browser fetches for some split points of the WebAssembly bundle (`#[lazy]`
/// functions, `cargo leptos build --split`): their chunks' `href`s, each once, and the loader
/// script that instantiates them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SplitPreloads {
    /// `/pkg/<chunk>.wasm`, in the manifest's order.
    pub chunks: Vec<String>,
    /// `/pkg/__wasm_split.<hash>.js`, for every page of a split build: the JS glue imports it,
    /// so nothing runs until it has arrived, chunks or none. `None` without `--split`.
    pub loader: Option<String>,
}

/// The build's split manifest (`__wasm_split_manifest.<hash>.json`: a split point's unique name,
/// `<function>_<digits>`, to the chunks it needs) and its loader's file name. Read once per
/// process; `None` for a build without `--split` (the tests' site), which has no chunks.
fn split_build(options: &LeptosOptions) -> Option<&'static (HashMap<String, Vec<String>>, String)> {
    static BUILD: OnceLock<Option<(HashMap<String, Vec<String>>, String)>> = OnceLock::new();
    BUILD
        .get_or_init(|| {
            let pkg = PathBuf::from(options.site_root.as_ref()).join(options.site_pkg_dir.as_ref());
            let manifest = hashed_name(options, "__wasm_split_manifest", "manifest", "json");
            let manifest = serde_json::from_str(&std::fs::read_to_string(pkg.join(manifest)).ok()?).ok()?;
            Some((manifest, hashed_name(options, "__wasm_split", "split", "js")))
        })
        .as_ref()
}

/// The preloads of the split points named by their functions (`hydrate_catalog_editor`).
///
/// Leptos names a lazy route's chunks in `<link rel=preload>` itself, but reads the manifest
/// outside the app's reactive owner (leptos_integration_utils 0.8.9, `from_app`), so whether a
/// page got them depended on the thread that finished rendering it; the shell names them here.
pub fn split_preloads(options: &LeptosOptions, split_points: &[&str]) -> SplitPreloads {
    let Some((manifest, loader)) = split_build(options) else {
        return SplitPreloads::default();
    };
    let pkg = &options.site_pkg_dir;
    let chunks: Vec<String> =
        chunks_of(manifest, split_points).into_iter().map(|chunk| format!("/{pkg}/{chunk}.wasm")).collect();
    SplitPreloads { chunks, loader: Some(format!("/{pkg}/{loader}")) }
}

/// The chunks the split points need, each once. A manifest key is the function's name, `_` and
/// the digits of a hash of where it is declared (leptos_macro 0.8.20, `src/lazy.rs`).
fn chunks_of<'m>(manifest: &'m HashMap<String, Vec<String>>, split_points: &[&str]) -> Vec<&'m str> {
    let mut keys: Vec<&String> = manifest
        .keys()
        .filter(|key| {
            key.rsplit_once('_').is_some_and(|(name, digits)| {
                split_points.contains(&name) && !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())
            })
        })
        .collect();
    keys.sort();
    let mut chunks: Vec<&str> = Vec::new();
    for chunk in keys.into_iter().flat_map(|key| &manifest[key]) {
        if !chunks.contains(&chunk.as_str()) {
            chunks.push(chunk);
        }
    }
    chunks
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
    fn a_stylesheet_that_would_close_its_element_is_linked_instead() {
        assert!(safe_in_style_element("a > b { color: red } .x::after { content: \"<\" }"));
        assert!(!safe_in_style_element(".x::after { content: \"</style>\" }"));
        assert!(!safe_in_style_element(".x::after { content: \"</STYLE \" }"));
    }

    #[test]
    fn a_split_point_needs_its_chunks_each_once() {
        let manifest: HashMap<String, Vec<String>> = serde_json::from_str(
            r#"{"admin_page_58516":["chunk_4.a","chunk_6.b","split_admin_page_58516.c"],
                "hydrate_app_11148":["chunk_4.a","chunk_7.d","split_hydrate_app_11148.e"],
                "support_page_17032":["chunk_6.b","chunk_7.d","split_support_page_17032.f"],
                "hydrate_app_extra_9":["x"]}"#,
        )
        .unwrap();
        assert_eq!(
            chunks_of(&manifest, &["hydrate_app", "admin_page"]),
            ["chunk_4.a", "chunk_6.b", "split_admin_page_58516.c", "chunk_7.d", "split_hydrate_app_11148.e"]
        );
        assert_eq!(chunks_of(&manifest, &["hydrate_app"]), ["chunk_4.a", "chunk_7.d", "split_hydrate_app_11148.e"]);
        assert!(chunks_of(&manifest, &[]).is_empty());
        assert!(chunks_of(&manifest, &["hydrate"]).is_empty(), "a name matches whole, not as a prefix");
    }

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
