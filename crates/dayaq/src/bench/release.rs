//! `dayaq bench release`: the utility and cost figures of research releases (issue #16) on a
//! generated population: share of records suppressed by the k-anonymous microdata, mean
//! absolute and relative error of each differentially private table, time and peak memory.
//! Only aggregates are printed (docs/RELEASES.md "Utility and safety").

use super::runner::proc_status_kib;
use clap::{Args, ValueEnum};
use dayaq_domain::release::{
    DEFAULT_VARIABLES, MicrodataParams, ReleaseRecord, ReleaseVariable, microdata,
};
use dayaq_privacy::{DpParams, StandardTable, dp_tables, exact_counts};
use dayaq_storage::{OpenOptions, Store};
use std::time::Instant;
use time::{Date, Month};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Kind {
    Microdata,
    Tables,
    All,
}

#[derive(Debug, Args)]
pub struct ReleaseArgs {
    /// First year of the period.
    #[arg(long, default_value_t = 2018)]
    pub from_year: i32,
    /// Last year of the period.
    #[arg(long, default_value_t = 2025)]
    pub to_year: i32,
    /// Which kind of release to measure.
    #[arg(long, value_enum, default_value_t = Kind::All)]
    pub kind: Kind,
    /// Noisy draws per table for the error figures.
    #[arg(long, default_value_t = 20,
          value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub runs: u32,
}

fn peak_mib() -> f64 {
    proc_status_kib("VmHWM").map_or(0.0, |k| k as f64 / 1024.0)
}

fn microdata_figures(records: &[ReleaseRecord]) -> anyhow::Result<()> {
    println!("| variables | k | released | suppressed | share suppressed | ms |");
    println!("|---|---:|---:|---:|---:|---:|");
    let sets: [(&str, Vec<ReleaseVariable>); 3] = [
        (
            "default (9 variables, 11 form flags)",
            DEFAULT_VARIABLES.to_vec(),
        ),
        (
            "all (10 variables, 27 flags)",
            ReleaseVariable::ALL.to_vec(),
        ),
        (
            "year, sex, age group, citizenship",
            vec![
                ReleaseVariable::Gender,
                ReleaseVariable::AgeBroad,
                ReleaseVariable::Citizenship,
            ],
        ),
    ];
    for (name, variables) in sets {
        for k in [11, 5] {
            let t = Instant::now();
            let m = match microdata(
                records,
                &MicrodataParams {
                    k,
                    variables: variables.clone(),
                },
            ) {
                Ok(m) => m,
                Err(e) => {
                    println!(
                        "| {name} | {k} | 0 | {} | 100 % (refused: {}) | — |",
                        records.len(),
                        e.field()
                    );
                    continue;
                }
            };
            let csv = m.to_csv();
            let ms = t.elapsed().as_secs_f64() * 1000.0;
            println!(
                "| {name} | {k} | {} | {} | {:.1} % | {ms:.0} ({} bytes) |",
                m.rows.len(),
                m.suppressed,
                100.0 * m.suppressed as f64 / m.records.max(1) as f64,
                csv.len()
            );
        }
    }
    Ok(())
}

fn table_figures(records: &[ReleaseRecord], years: (i32, i32), runs: u32) -> anyhow::Result<()> {
    let params = DpParams::standard(years);
    let t = Instant::now();
    let one = dp_tables(records, &params)?;
    let csv = one.to_csv();
    println!(
        "one release of the {} standard tables at epsilon {}: {:.0} ms ({} bytes)",
        params.tables.len(),
        params.epsilon,
        t.elapsed().as_secs_f64() * 1000.0,
        csv.len()
    );
    println!(
        "| table | epsilon | scale | expected abs. error | mean abs. error | mean rel. error (cells ≥ 1) | cells | cells ≥ 1 |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|");
    let exact: Vec<(StandardTable, Vec<i64>)> = params
        .tables
        .iter()
        .map(|t| {
            (
                *t,
                exact_counts(records, years, *t)
                    .iter()
                    .map(|c| c.count)
                    .collect(),
            )
        })
        .collect();
    let mut abs = vec![0.0; exact.len()];
    let mut rel = vec![0.0; exact.len()];
    for _ in 0..runs {
        let out = dp_tables(records, &params)?;
        for (i, t) in out.tables.iter().enumerate() {
            let e = &exact[i].1;
            let (mut a, mut r, mut nz) = (0.0, 0.0, 0usize);
            for (x, c) in e.iter().zip(&t.cells) {
                let d = (c.count - x).abs() as f64;
                a += d;
                if *x >= 1 {
                    r += d / *x as f64;
                    nz += 1;
                }
            }
            abs[i] += a / e.len().max(1) as f64;
            rel[i] += r / nz.max(1) as f64;
        }
    }
    for (i, t) in one.tables.iter().enumerate() {
        let e = &exact[i].1;
        println!(
            "| {} | {:.3} | {:.1} | {:.2} | {:.2} | {:.1} % | {} | {} |",
            t.table.as_str(),
            t.epsilon,
            t.scale,
            t.expected_abs_error,
            abs[i] / f64::from(runs),
            100.0 * rel[i] / f64::from(runs),
            e.len(),
            e.iter().filter(|x| **x >= 1).count()
        );
    }
    Ok(())
}

pub async fn run(opts: &OpenOptions, a: &ReleaseArgs) -> anyhow::Result<()> {
    let from = Date::from_calendar_date(a.from_year, Month::January, 1)?;
    let to = Date::from_calendar_date(a.to_year, Month::December, 31)?;
    let store = Store::open(opts).await?;
    let t = Instant::now();
    let records = store.release_records(from, to).await?;
    println!(
        "loaded {} records ({}–{}) in {:.2} s; peak RSS {:.0} MiB",
        records.len(),
        a.from_year,
        a.to_year,
        t.elapsed().as_secs_f64(),
        peak_mib()
    );
    store.close().await;
    let t = Instant::now();
    if matches!(a.kind, Kind::Microdata | Kind::All) {
        microdata_figures(&records)?;
    }
    if matches!(a.kind, Kind::Tables | Kind::All) {
        table_figures(&records, (a.from_year, a.to_year), a.runs)?;
    }
    println!(
        "generation {:.2} s; peak RSS of the process {:.0} MiB",
        t.elapsed().as_secs_f64(),
        peak_mib()
    );
    Ok(())
}
