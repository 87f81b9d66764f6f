//! The `quanban` binary: everything lives in the library; this only hands over to the CLI.

/// mimalloc instead of the system allocator: a request allocates and frees from several
/// threads (the runtime's workers, the SQLite writer), where glibc's malloc spent about a fifth
/// of the server's CPU under `quanban bench lifecycle` (`perf`: `_int_malloc`, `_int_free`,
/// `malloc_consolidate`). Built without transparent huge pages (feature `no_thp`): mimalloc
/// would ask the kernel for 2 MiB pages on its arenas, and an idle server held 156 MB resident
/// instead of 115 MB in pages it had touched a corner of (`quanban bench memory`).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    quanban::cli::main()
}
