//! `dayaq statistics`: the maintained national statistics (issue #15 §6). `rebuild`
//! recomputes the sums the national report reads from the records (after an upgrade or a
//! bulk load outside the product's write path; the server does it by itself at start when
//! cases are waiting); `check` compares the maintained sums with a recomputation. Neither
//! prints anything but counts.

use crate::cli::GlobalOpts;
use clap::Subcommand;
use std::process::ExitCode;

#[derive(Debug, Subcommand)]
pub enum StatisticsCommand {
    /// Recompute the maintained national statistics from the records.
    Rebuild,
    /// Compare the maintained national statistics with a recomputation (exit 1 on a
    /// difference).
    Check,
}

impl StatisticsCommand {
    pub fn name(&self) -> &'static str {
        match self {
            StatisticsCommand::Rebuild => "statistics.rebuild",
            StatisticsCommand::Check => "statistics.check",
        }
    }
}

pub async fn run(g: &GlobalOpts, cmd: StatisticsCommand) -> anyhow::Result<ExitCode> {
    let store = crate::commands::open(g).await?;
    match cmd {
        StatisticsCommand::Rebuild => {
            let t = std::time::Instant::now();
            let info = store.rebuild_statistics().await?;
            println!(
                "rebuilt the national statistics from {} cases ({} persons, {} cells) in {:.1} s",
                info.cases,
                info.persons,
                info.cells,
                t.elapsed().as_secs_f64()
            );
            Ok(ExitCode::SUCCESS)
        }
        StatisticsCommand::Check => {
            let (stored, recomputed) = store.statistics_maintained_and_recomputed().await?;
            if stored == recomputed {
                println!(
                    "the maintained statistics equal a recomputation ({} cells)",
                    stored.len()
                );
                Ok(ExitCode::SUCCESS)
            } else {
                let differ = stored
                    .keys()
                    .chain(recomputed.keys())
                    .filter(|k| stored.get(*k) != recomputed.get(*k))
                    .count();
                eprintln!(
                    "the maintained statistics differ from a recomputation in {differ} cells: run `dayaq statistics rebuild`"
                );
                Ok(ExitCode::FAILURE)
            }
        }
    }
}
