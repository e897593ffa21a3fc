//! `payments-console precompress`: writes a brotli (`.br`) and a gzip (`.gz`) sibling beside every
//! compressible file of the built site, once, at build time, so that the static-file routes
//! (`src/server/http.rs`) send them as they are instead of compressing on every request.
//!
//! Which files: text formats and WebAssembly (see [`COMPRESSIBLE`]), of at least
//! [`MIN_SIZE`] bytes, and only when the compressed copy is at least [`MIN_SAVING_PERCENT`]
//! smaller. Measured on the built site: the 201-byte `favicon.svg` gzips to 172 bytes, a saving
//! smaller than the `Content-Encoding` and `Vary` headers that would announce it, while the
//! stylesheet (23 KB → 5 KB), the JS glue (28 KB → 8 KB) and the WASM bundle (3.7 MB → about
//! 1 MB) shrink by three quarters. Images, fonts and archives are compressed already.

use anyhow::Context;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

/// Extensions worth compressing: text and WebAssembly.
pub const COMPRESSIBLE: &[&str] =
    &["js", "mjs", "wasm", "css", "svg", "json", "txt", "html", "htm", "xml", "map", "webmanifest", "ico"];

/// Smaller files are sent as they are: the saving would not pay for the headers announcing it.
pub const MIN_SIZE: u64 = 1024;

/// A compressed copy that saves less than this share of the original is not kept.
pub const MIN_SAVING_PERCENT: u64 = 10;

/// `precompress`'s options.
#[derive(Debug, Clone, clap::Args)]
pub struct PrecompressArgs {
    /// Folder of the built site (what `cargo leptos build` wrote).
    #[arg(long, env = "LEPTOS_SITE_ROOT", default_value = "target/site")]
    pub site_root: PathBuf,
}

/// What one run did, file by file.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Report {
    /// Compressed siblings written (`.br` and `.gz` count separately).
    pub written: Vec<PathBuf>,
    /// Siblings already newer than their source, left alone.
    pub up_to_date: Vec<PathBuf>,
    /// Source files not compressed: too small, or compression saved too little.
    pub not_worth_it: Vec<PathBuf>,
}

/// The two encodings, with the file suffix the static-file routes look for.
#[derive(Debug, Clone, Copy)]
enum Encoding {
    Brotli,
    Gzip,
}

impl Encoding {
    fn suffix(self) -> &'static str {
        match self {
            Encoding::Brotli => "br",
            Encoding::Gzip => "gz",
        }
    }

    /// The smallest output each format can make: brotli at quality 11 with the largest window
    /// browsers accept, gzip at level 9. Slow, but it runs once per build.
    fn compress(self, data: &[u8]) -> std::io::Result<Vec<u8>> {
        match self {
            Encoding::Brotli => {
                let params = brotli::enc::BrotliEncoderParams { quality: 11, lgwin: 24, ..Default::default() };
                let mut out = Vec::new();
                brotli::BrotliCompress(&mut &data[..], &mut out, &params)?;
                Ok(out)
            }
            Encoding::Gzip => {
                let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
                encoder.write_all(data)?;
                encoder.finish()
            }
        }
    }
}

/// Runs the command: precompresses the site and says what it did.
pub fn run(args: PrecompressArgs) -> anyhow::Result<()> {
    let report = precompress(&args.site_root)?;
    eprintln!(
        "precompress {}: {} written, {} up to date, {} not worth compressing",
        args.site_root.display(),
        report.written.len(),
        report.up_to_date.len(),
        report.not_worth_it.len()
    );
    Ok(())
}

/// Writes the missing or stale `.br` and `.gz` siblings of every compressible file under
/// `site_root`. Idempotent: a sibling newer than its source is kept as it is.
pub fn precompress(site_root: &Path) -> anyhow::Result<Report> {
    anyhow::ensure!(site_root.is_dir(), "{} is not a folder: build the site first", site_root.display());
    let mut report = Report::default();
    for file in files_under(site_root)? {
        precompress_file(&file, &mut report).with_context(|| format!("compressing {}", file.display()))?;
    }
    Ok(report)
}

/// Every regular file under `dir`, sorted (so runs are reproducible).
fn files_under(dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).with_context(|| format!("reading {}", dir.display()))? {
            let entry = entry?;
            let kind = entry.file_type()?;
            if kind.is_dir() {
                stack.push(entry.path());
            } else if kind.is_file() {
                files.push(entry.path());
            }
        }
    }
    files.sort();
    Ok(files)
}

fn is_compressible(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|ext| COMPRESSIBLE.contains(&ext.to_ascii_lowercase().as_str()))
}

fn sibling(path: &Path, encoding: Encoding) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(".");
    name.push(encoding.suffix());
    PathBuf::from(name)
}

fn modified(path: &Path) -> Option<SystemTime> {
    std::fs::metadata(path).and_then(|m| m.modified()).ok()
}

fn precompress_file(path: &Path, report: &mut Report) -> anyhow::Result<()> {
    if !is_compressible(path) {
        return Ok(());
    }
    let source_time = modified(path);
    let size = std::fs::metadata(path)?.len();
    let stale: Vec<Encoding> = [Encoding::Brotli, Encoding::Gzip]
        .into_iter()
        .filter(|&e| {
            let fresh = matches!((modified(&sibling(path, e)), source_time), (Some(s), Some(t)) if s >= t);
            if fresh {
                report.up_to_date.push(sibling(path, e));
            }
            !fresh
        })
        .collect();
    if stale.is_empty() {
        return Ok(());
    }
    if size < MIN_SIZE {
        report.not_worth_it.push(path.to_path_buf());
        return Ok(());
    }
    let data = std::fs::read(path)?;
    let data = &data[..];
    // The two encoders run side by side: brotli at quality 11 takes seconds on the WASM bundle.
    let outputs: Vec<(Encoding, std::io::Result<Vec<u8>>)> = std::thread::scope(|scope| {
        let handles: Vec<_> = stale.iter().map(|&e| (e, scope.spawn(move || e.compress(data)))).collect();
        handles
            .into_iter()
            .map(|(e, h)| (e, h.join().unwrap_or_else(|_| Err(std::io::Error::other("compressor panicked")))))
            .collect()
    });
    let mut kept_any = false;
    for (encoding, compressed) in outputs {
        let compressed = compressed?;
        let target = sibling(path, encoding);
        if (compressed.len() as u64) * 100 > size * (100 - MIN_SAVING_PERCENT) {
            // A sibling from an earlier, more compressible version would now be wrong.
            let _ = std::fs::remove_file(&target);
            continue;
        }
        // Written beside and renamed, so a running server never sends half a file.
        let mut partial = target.clone().into_os_string();
        partial.push(".partial");
        std::fs::write(&partial, &compressed)?;
        std::fs::rename(&partial, &target)?;
        report.written.push(target);
        kept_any = true;
    }
    if !kept_any {
        report.not_worth_it.push(path.to_path_buf());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    fn text(len: usize) -> Vec<u8> {
        "function hydrate() { return leptos; }\n".bytes().cycle().take(len).collect()
    }

    /// Bytes that no compressor can shrink (a simple xorshift stream).
    fn noise(len: usize) -> Vec<u8> {
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        (0..len)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x as u8
            })
            .collect()
    }

    #[test]
    fn writes_siblings_then_skips_them_and_leaves_what_does_not_pay() {
        let dir = tempfile::tempdir().unwrap();
        let pkg = dir.path().join("pkg");
        std::fs::create_dir(&pkg).unwrap();
        let js = pkg.join("app.js");
        std::fs::write(&js, text(20_000)).unwrap();
        std::fs::write(pkg.join("random.wasm"), noise(20_000)).unwrap();
        std::fs::write(dir.path().join("tiny.svg"), text(200)).unwrap();
        std::fs::write(dir.path().join("photo.png"), text(20_000)).unwrap();

        let first = precompress(dir.path()).unwrap();
        assert_eq!(first.written, vec![sibling(&js, Encoding::Brotli), sibling(&js, Encoding::Gzip)]);
        assert!(first.up_to_date.is_empty());
        assert_eq!(first.not_worth_it, vec![pkg.join("random.wasm"), dir.path().join("tiny.svg")]);
        assert!(!dir.path().join("photo.png.gz").exists() && !pkg.join("random.wasm.br").exists());

        let mut unbrotli = Vec::new();
        brotli::Decompressor::new(std::fs::File::open(sibling(&js, Encoding::Brotli)).unwrap(), 4096)
            .read_to_end(&mut unbrotli)
            .unwrap();
        assert_eq!(unbrotli, text(20_000));
        let mut ungzip = Vec::new();
        flate2::read::GzDecoder::new(std::fs::File::open(sibling(&js, Encoding::Gzip)).unwrap())
            .read_to_end(&mut ungzip)
            .unwrap();
        assert_eq!(ungzip, text(20_000));
        assert!(!pkg.read_dir().unwrap().any(|e| e.unwrap().path().extension().is_some_and(|x| x == "partial")));

        // A second run finds nothing to do for the compressed file.
        let second = precompress(dir.path()).unwrap();
        assert!(second.written.is_empty(), "{second:?}");
        assert_eq!(second.up_to_date, first.written);

        // A rebuilt source (newer than its siblings) is compressed again.
        let later = SystemTime::now() + std::time::Duration::from_secs(5);
        std::fs::File::options().write(true).open(&js).unwrap().set_modified(later).unwrap();
        let third = precompress(dir.path()).unwrap();
        assert_eq!(third.written, first.written);
    }

    #[test]
    fn a_missing_site_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        assert!(precompress(&dir.path().join("missing")).is_err());
    }
}
