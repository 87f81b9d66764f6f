//! Benchmarks that print figures (`quanban bench …`). Not tests: they measure, they do not assert.

use clap::Subcommand;

#[derive(Subcommand, Debug)]
pub enum BenchCommand {
    /// Placeholder
    Startup,
}

pub async fn run(_command: BenchCommand) -> anyhow::Result<()> {
    Ok(())
}
