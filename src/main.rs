//! The `quanban` binary: parses the command line and hands each command to the crate that runs
//! it — the platform's commands to `quanban::cli`, `bench …` to `quanban-bench`. Nothing here is
//! async, so the binary compiles in seconds; the code it runs is compiled in those crates.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// mimalloc instead of the system allocator: a request allocates and frees from several
/// threads (the runtime's workers, the SQLite writer), where glibc's malloc spent about a fifth
/// of the server's CPU under `quanban bench lifecycle` (`perf`: `_int_malloc`, `_int_free`,
/// `malloc_consolidate`). Built without transparent huge pages (feature `no_thp`): mimalloc
/// would ask the kernel for 2 MiB pages on its arenas, and an idle server held 156 MB resident
/// instead of 115 MB in pages it had touched a corner of (`quanban bench memory`).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser, Debug)]
#[command(name = "quanban", version, about = "Quanban (全办): integrated government services")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    #[command(flatten)]
    Platform(quanban::cli::Command),
    /// Benchmarks that print figures
    Bench {
        #[command(subcommand)]
        command: quanban_bench::BenchCommand,
    },
}

fn main() -> ExitCode {
    match Cli::parse().command {
        Command::Platform(command) => quanban::cli::main(command),
        Command::Bench { command } => quanban_bench::main(command),
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    #[test]
    fn cli_is_well_formed() {
        super::Cli::command().debug_assert();
    }
}
