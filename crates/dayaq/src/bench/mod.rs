//! `dayaq bench`: the measurement harness (issue 8).
//!
//! - `generate`: a deterministic synthetic population (`population`) written through the
//!   product's storage layer (`generator`).
//! - `run`: latency percentiles of the product's read paths next to raw-SQL equivalents,
//!   statistics, export time and peak RSS (`runner`).
//!
//! Only synthetic data: never point these commands at a database holding real cases (the
//! generator refuses a database that already holds a generated population, and `run` reads as
//! the generated accounts only). docs/PERFORMANCE.md explains the figures.

pub mod audit;
pub mod generator;
pub mod population;
pub mod release;
pub mod rng;
pub mod runner;

use clap::{Args, Subcommand};
use dayaq_storage::OpenOptions;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// Write a synthetic population (organisations, accounts, cases with contacts,
    /// screenings, identification decisions and consents) into an EMPTY data directory or
    /// database. Deterministic for a given --cases and --seed. Synthetic data only.
    Generate(GenerateArgs),
    /// Measure read paths, statistics and export on a generated store, side by side with the
    /// raw SQL equivalents; prints a Markdown table, optionally writes JSON.
    Run(RunArgs),
    /// Utility and cost figures of research releases on a generated store: suppression of
    /// the k-anonymous microdata, error of the DP tables, time and peak memory.
    Release(release::ReleaseArgs),
    /// Bulk-insert N synthetic audit rows (a valid hash chain of ids and codes) into an EMPTY
    /// data directory or database and time the audit viewer's queries (p50/p99).
    Audit(AuditBenchArgs),
}

#[derive(Debug, Args)]
pub struct AuditBenchArgs {
    /// Number of audit rows to insert.
    #[arg(long, default_value_t = 1_000_000,
          value_parser = clap::value_parser!(u64).range(1..=100_000_000))]
    pub rows: u64,
    /// Samples per viewer query.
    #[arg(long, default_value_t = 200,
          value_parser = clap::value_parser!(u64).range(1..=100_000))]
    pub samples: u64,
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
}

#[derive(Debug, Args)]
pub struct GenerateArgs {
    /// Number of cases.
    #[arg(long, default_value_t = 1000,
          value_parser = clap::value_parser!(u64).range(1..=10_000_000))]
    pub cases: u64,
    /// Seed of the generator: the same seed and size give the same population.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// The size of the generated population (checked; the run fails on a mismatch).
    #[arg(long)]
    pub cases: Option<u64>,
    /// Samples per latency measure (statistics use a hundredth, 3 to 20).
    #[arg(long, default_value_t = 2000,
          value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    pub samples: u64,
    /// Write the results as JSON to this file.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Year of the national annual statistics (default 2025, the last generated year).
    #[arg(long)]
    pub year: Option<i32>,
    /// Leave out the export of all cases.
    #[arg(long)]
    pub skip_export: bool,
    /// Samples of the annual national report from the maintained aggregates (default: a
    /// hundredth of --samples, 3 to 20). Its raw GROUP BY is run beside the first 20 only.
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..=100_000))]
    pub statistics_samples: Option<u64>,
    /// Leave out the annual report recomputed from the records (linear in the cases: minutes
    /// at 1M).
    #[arg(long)]
    pub skip_recomputed: bool,
}

impl BenchCommand {
    pub fn name(&self) -> &'static str {
        match self {
            BenchCommand::Generate(_) => "bench.generate",
            BenchCommand::Run(_) => "bench.run",
            BenchCommand::Release(_) => "bench.release",
            BenchCommand::Audit(_) => "bench.audit",
        }
    }
}

pub async fn command(opts: &OpenOptions, cmd: BenchCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        BenchCommand::Generate(a) => {
            let info = generator::generate(opts, a.cases, a.seed).await?;
            println!(
                "generated {} cases (seed {}) in {:.1} s: {:.0} cases/s overall, {:.0} cases/s inside import_cases",
                info.cases,
                info.seed,
                info.seconds_total,
                info.cases_per_second,
                info.import_cases_per_second
            );
            println!(
                "events: {} contacts, {} screenings, {} identification decisions, {} consents, {} timeline rows",
                info.rows.contacts,
                info.rows.screenings,
                info.rows.decisions,
                info.rows.consents,
                info.rows.case_events
            );
            println!(
                "assistance: {} referrals, {} needs assessments, {} plans ({} goals and actions), {} services, \
                 {} shelter stays, {} allowance payments; follow-up: {} tasks, {} contacts, {} questionnaires",
                info.rows.referrals,
                info.rows.needs_assessments,
                info.rows.plans,
                info.rows.plan_goals_and_actions,
                info.rows.services,
                info.rows.shelter_stays,
                info.rows.allowance_payments,
                info.rows.followup_tasks,
                info.rows.followup_contacts,
                info.rows.followup_assessments
            );
            println!(
                "{} event rows in all, {:.1} per case",
                info.rows.all_rows, info.rows.rows_per_case
            );
            println!(
                "population description: {}",
                generator::info_path(opts).display()
            );
            Ok(ExitCode::SUCCESS)
        }
        BenchCommand::Audit(a) => {
            let r = audit::run(opts, a.rows, usize::try_from(a.samples)?, a.seed).await?;
            println!(
                "inserted {} audit rows in {:.1} s ({:.0} rows/s); indexes rebuilt in {:.1} s; \
                 planner statistics in {:.1} s",
                r.rows, r.insert_seconds, r.rows_per_second, r.index_seconds, r.analyze_seconds
            );
            println!("| planner | viewer query | p50 ms | p99 ms | samples |");
            println!("|---|---|---:|---:|---:|");
            for (phase, name, p50, p99, n) in &r.timings {
                println!("| {phase} | {name} | {p50:.2} | {p99:.2} | {n} |");
            }
            Ok(ExitCode::SUCCESS)
        }
        BenchCommand::Run(a) => {
            let o = runner::RunOptions {
                cases: a.cases,
                samples: usize::try_from(a.samples)?,
                out: a.out,
                year: a.year,
                skip_export: a.skip_export,
                statistics_samples: a.statistics_samples.map(usize::try_from).transpose()?,
                skip_recomputed: a.skip_recomputed,
            };
            let report = runner::run(opts, &o).await?;
            print!("{}", runner::markdown(&report));
            Ok(ExitCode::SUCCESS)
        }
        BenchCommand::Release(a) => {
            release::run(opts, &a).await?;
            Ok(ExitCode::SUCCESS)
        }
    }
}
