//! The built site's files over real HTTP (issue #13): the `.br` / `.gz` siblings that
//! `payments-console precompress` writes are sent to clients that accept them, content-hashed
//! bundle files are cached for a year, and pages are never stored.

use crate::support::TestApp;
use payments_console::server::precompress::precompress;
use std::io::Read;
use std::path::{Path, PathBuf};

/// A bundle file with a cargo-leptos content hash in its name.
const HASHED_JS: &str = "payments-console.mXYwEiXV1Cz2d5aJLWxA-g.js";

/// Compressible JavaScript, large enough to be worth precompressing.
fn script() -> Vec<u8> {
    (0..400).map(|i| format!("export function f{i}() {{ return hydrate({i}); }}\n")).collect::<String>().into_bytes()
}

/// A site with one hashed bundle file and one plain one, precompressed by the real step.
fn build_site(site: &Path) {
    std::fs::create_dir_all(site.join("pkg")).unwrap();
    std::fs::write(site.join("pkg").join(HASHED_JS), script()).unwrap();
    std::fs::write(site.join("pkg/payments-console.css"), "body { color: red }\n".repeat(100)).unwrap();
    std::fs::write(site.join("favicon.svg"), "<svg/>").unwrap();
    let report = precompress(site).unwrap();
    assert_eq!(report.written.len(), 4, "{report:?}");
}

/// A console serving a freshly built and precompressed site (kept while the guard lives).
async fn spawn_with_site() -> (tempfile::TempDir, PathBuf, TestApp) {
    let dir = tempfile::tempdir().unwrap();
    let site = dir.path().join("site");
    build_site(&site);
    let root = site.display().to_string();
    let app = TestApp::spawn_with(move |args| args.site_root = root).await;
    (dir, site, app)
}

async fn get(app: &TestApp, path: &str, accept_encoding: Option<&str>) -> (reqwest::header::HeaderMap, Vec<u8>) {
    let mut req = app.client().get(app.url(path));
    if let Some(accept) = accept_encoding {
        req = req.header("accept-encoding", accept);
    }
    let res = req.send().await.unwrap();
    assert_eq!(res.status(), 200, "{path}");
    let headers = res.headers().clone();
    (headers, res.bytes().await.unwrap().to_vec())
}

fn varies_by_encoding(headers: &reqwest::header::HeaderMap) -> bool {
    headers.get_all("vary").iter().any(|v| v.to_str().unwrap().to_ascii_lowercase().contains("accept-encoding"))
}

#[tokio::test]
async fn precompressed_files_are_sent_to_clients_that_accept_them() {
    let (_dir, site, app) = spawn_with_site().await;
    let path = format!("/pkg/{HASHED_JS}");

    let (headers, body) = get(&app, &path, Some("br")).await;
    assert_eq!(headers["content-encoding"], "br");
    assert!(varies_by_encoding(&headers), "{headers:?}");
    assert_eq!(body, std::fs::read(site.join(format!("pkg/{HASHED_JS}.br"))).unwrap(), "the file, as written");
    let mut decoded = Vec::new();
    brotli::Decompressor::new(&body[..], 4096).read_to_end(&mut decoded).unwrap();
    assert_eq!(decoded, script());
    assert!(headers["content-type"].to_str().unwrap().contains("javascript"), "{headers:?}");

    let (headers, body) = get(&app, &path, Some("gzip")).await;
    assert_eq!(headers["content-encoding"], "gzip");
    assert!(varies_by_encoding(&headers), "{headers:?}");
    // Byte for byte the precompressed sibling: not compressed again, nor on the fly.
    assert_eq!(body, std::fs::read(site.join(format!("pkg/{HASHED_JS}.gz"))).unwrap());
    let mut decoded = Vec::new();
    flate2::read::GzDecoder::new(&body[..]).read_to_end(&mut decoded).unwrap();
    assert_eq!(decoded, script());

    let (headers, body) = get(&app, &path, None).await;
    assert!(headers.get("content-encoding").is_none(), "{headers:?}");
    assert!(varies_by_encoding(&headers), "{headers:?}");
    assert_eq!(body, script());
}

#[tokio::test]
async fn hashed_bundle_files_are_immutable_and_pages_are_never_stored() {
    let (_dir, _site, app) = spawn_with_site().await;

    for accept in [Some("br"), Some("gzip"), None] {
        let (headers, _) = get(&app, &format!("/pkg/{HASHED_JS}"), accept).await;
        assert_eq!(headers["cache-control"], "public, max-age=31536000, immutable", "{accept:?}");
    }
    // A name without a hash may change content under the same URL: revalidated every time.
    let (headers, _) = get(&app, "/pkg/payments-console.css", Some("br")).await;
    assert_eq!(headers["cache-control"], "no-cache");
    assert_eq!(headers["content-encoding"], "br");
    let (headers, _) = get(&app, "/favicon.svg", None).await;
    assert_eq!(headers["cache-control"], "public, max-age=3600, must-revalidate");

    // A file that is not there is not kept, whatever its name.
    let res = app.client().get(app.url("/pkg/payments-console.AAAAAAAAAAAAAAAAAAAAAA.wasm")).send().await.unwrap();
    assert_eq!(res.status(), 404);
    assert_eq!(res.headers()["cache-control"], "no-store");

    // Pages hold account data: never stored, by the browser or anything between.
    let (headers, _) = get(&app, "/login", Some("br, gzip")).await;
    assert_eq!(headers["cache-control"], "no-store");
}

/// The site's stylesheet comes with every page, inline (issue #13): a linked one was a request of
/// its own on a cold load, and the page's inline scripts waited for it before the rest of the
/// page was parsed. The file is still served for whatever links it.
#[tokio::test]
async fn every_page_carries_the_stylesheet_and_fetches_none() {
    let (_dir, site, app) = spawn_with_site().await;
    let css = std::fs::read_to_string(site.join("pkg/payments-console.css")).unwrap();
    let admin = app.signed_in("ops@example.com", payments_console::auth::Role::Admin).await;
    for (client, path) in
        [(app.client(), "/login"), (admin.clone(), "/test"), (admin.clone(), "/test/history"), (admin, "/no-such-page")]
    {
        let res = client.get(app.url(path)).send().await.unwrap();
        let csp = res.headers()["content-security-policy"].to_str().unwrap().to_owned();
        let html = res.text().await.unwrap();
        let nonce = csp.split("'nonce-").nth(1).and_then(|rest| rest.split('\'').next()).expect("a nonce");
        let style = format!("<style nonce=\"{nonce}\">{css}</style>");
        let at = html.find(&style).unwrap_or_else(|| panic!("{path}: no inline stylesheet with the nonce: {html}"));
        assert!(at < html.find("</head>").unwrap(), "{path}: the stylesheet is not in the head");
        assert!(!html.contains("rel=\"stylesheet\""), "{path}: a stylesheet is still linked: {html}");
        assert_eq!(html.matches("<style").count(), 1, "{path}");
    }
}
