//! The `quanban` binary: everything lives in the library; this only hands over to the CLI.

/// mimalloc instead of the system allocator: a request allocates and frees from several
/// threads (the runtime's workers, the SQLite writer), where glibc's malloc spent about a fifth
/// of the server's CPU under `quanban bench lifecycle` (`perf`: `_int_malloc`, `_int_free`,
/// `malloc_consolidate`).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    quanban::cli::main()
}
