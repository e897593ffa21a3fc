//! Handing the heap a burst of work freed back to the operating system.

/// Returns freed heap to the OS. glibc's `malloc` keeps what a thread frees in its arena for
/// reuse, so a sync's pages and rows, freed when it ends, stayed resident: 10 s after a sync of
/// 137.5k objects an idle console held 65 MB, and 42 MB with this (`scripts/bench.sh --only
/// sync`, 2026-12-06, run back to back; issue #10 wants it under 80 MB). Trimming walks every
/// arena, so it runs on a blocking thread. Elsewhere than glibc it does nothing.
pub(crate) async fn release_freed() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        // SAFETY: `malloc_trim` only releases memory that is free; it has no preconditions.
        let _ = tokio::task::spawn_blocking(|| unsafe { libc::malloc_trim(0) }).await;
    }
}
