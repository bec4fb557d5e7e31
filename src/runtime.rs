//! The process's tokio runtime and allocator settings, tuned so that many
//! concurrent uploads stay light.

use std::io;

/// File work (spooling, syncing) runs on blocking threads; a bounded pool
/// keeps a burst of uploads from starting hundreds of threads, each with its
/// own stack and allocator cache.
const MAX_BLOCKING_THREADS: usize = 64;

pub fn build() -> io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .max_blocking_threads(MAX_BLOCKING_THREADS)
        .build()
}

/// glibc gives threads their own malloc arenas, up to eight per core, and each
/// keeps freed upload buffers for reuse; two arenas hold far less memory at
/// the same speed for this workload. A fixed mmap threshold keeps upload-sized
/// buffers (512 KiB and more) out of the heaps, so they go back to the system
/// when freed instead of fragmenting them.
pub fn limit_allocator_arenas() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only changes allocator tuning; it is called before any
    // other thread exists.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 2);
        libc::mallopt(libc::M_MMAP_THRESHOLD, 512 * 1024);
    }
}
