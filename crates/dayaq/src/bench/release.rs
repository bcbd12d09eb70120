//! `dayaq bench release`: the utility and cost figures of research releases (issue #16) on a
//! generated population: share of records suppressed by the k-anonymous microdata, mean
//! absolute and relative error of each differentially private table, time and peak memory.
//! Only aggregates are printed (docs/RELEASES.md "Utility and safety").

use super::runner::proc_status_kib;
use clap::{Args, ValueEnum};
use dayaq_domain::release::{
    DEFAULT_VARIABLES, MicrodataCounter, MicrodataParams, ReleaseVariable,
};
use dayaq_privacy::{DpParams, StandardTable, TableCounts, dp_tables_from};
use dayaq_storage::releases::delivery::{Body, Made, zip_release};
use dayaq_storage::{OpenOptions, Store};
use std::time::Instant;
use time::{Date, Month};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Kind {
    Microdata,
    Tables,
    All,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Set {
    /// The default variables of a microdata request.
    Default,
    /// Every variable of the schema.
    All,
    /// Year, sex, age group, citizenship.
    Basic,
    /// The three sets above.
    Every,
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
    /// Which microdata variable sets to measure (one set: the cost of one release).
    #[arg(long, value_enum, default_value_t = Set::Every)]
    pub set: Set,
    /// Noisy draws per table for the error figures.
    #[arg(long, default_value_t = 20,
          value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub runs: u32,
}

fn peak_mib() -> f64 {
    proc_status_kib("VmHWM").map_or(0.0, |k| k as f64 / 1024.0)
}

/// Counts the bytes written (the CSV and ZIP sizes without holding them).
#[derive(Default)]
struct Counting(u64);

impl std::io::Write for Counting {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0 += buf.len() as u64;
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn sets(which: Set) -> Vec<(&'static str, Vec<ReleaseVariable>)> {
    let all = [
        (
            Set::Default,
            "default (9 variables, 11 form flags)",
            DEFAULT_VARIABLES.to_vec(),
        ),
        (
            Set::All,
            "all (10 variables, 27 flags)",
            ReleaseVariable::ALL.to_vec(),
        ),
        (
            Set::Basic,
            "year, sex, age group, citizenship",
            vec![
                ReleaseVariable::Gender,
                ReleaseVariable::AgeBroad,
                ReleaseVariable::Citizenship,
            ],
        ),
    ];
    all.into_iter()
        .filter(|(s, _, _)| which == Set::Every || *s == which)
        .map(|(_, n, v)| (n, v))
        .collect()
}

fn microdata_figures(counters: &[(&str, MicrodataCounter)]) -> anyhow::Result<()> {
    println!(
        "| variables | k | released | suppressed | share suppressed | ms (suppression + CSV + ZIP) |"
    );
    println!("|---|---:|---:|---:|---:|---:|");
    for (name, counter) in counters {
        for k in [11, 5] {
            let t = Instant::now();
            let m = match counter.release_at(k) {
                Ok(m) => m,
                Err(e) => {
                    println!(
                        "| {name} | {k} | 0 | — | 100 % (refused: {}) | — |",
                        e.field()
                    );
                    continue;
                }
            };
            let (records, suppressed, released) = (m.records, m.suppressed, m.released);
            let made = Made {
                body: Body::Microdata(m),
                method: String::new(),
                records: released,
                suppressed,
            };
            let mut csv = Counting::default();
            made.write_csv(&mut csv)?;
            let zip = zip_release(&made, "")?;
            let ms = t.elapsed().as_secs_f64() * 1000.0;
            println!(
                "| {name} | {k} | {released} | {suppressed} | {:.1} % | {ms:.0} (CSV {} bytes, ZIP {} bytes) |",
                100.0 * suppressed as f64 / records.max(1) as f64,
                csv.0,
                zip.len()
            );
        }
    }
    Ok(())
}

fn table_figures(counts: &TableCounts, years: (i32, i32), runs: u32) -> anyhow::Result<()> {
    let params = DpParams::standard(years);
    let t = Instant::now();
    let one = dp_tables_from(counts, &params)?;
    let csv = one.to_csv();
    println!(
        "one release of the {} standard tables at epsilon {}: {:.0} ms after counting ({} bytes)",
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
        .map(|t| (*t, counts.cells(*t).iter().map(|c| c.count).collect()))
        .collect();
    let mut abs = vec![0.0; exact.len()];
    let mut rel = vec![0.0; exact.len()];
    for _ in 0..runs {
        let out = dp_tables_from(counts, &params)?;
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

/// Reads the period's records once, page by page (`Store::for_each_release_page`, as a
/// release does), feeding every generator asked for; then prints the figures.
pub async fn run(opts: &OpenOptions, a: &ReleaseArgs) -> anyhow::Result<()> {
    let from = Date::from_calendar_date(a.from_year, Month::January, 1)?;
    let to = Date::from_calendar_date(a.to_year, Month::December, 31)?;
    let years = (a.from_year, a.to_year);
    let store = Store::open(opts).await?;
    let t = Instant::now();
    let mut counters: Vec<(&str, MicrodataCounter)> = Vec::new();
    if matches!(a.kind, Kind::Microdata | Kind::All) {
        for (name, variables) in sets(a.set) {
            counters.push((
                name,
                MicrodataCounter::new(&MicrodataParams { k: 5, variables })?,
            ));
        }
    }
    let mut tables = matches!(a.kind, Kind::Tables | Kind::All)
        .then(|| TableCounts::new(years, StandardTable::ALL));
    let n = store
        .for_each_release_page(from, to, |page| {
            for (_, c) in &mut counters {
                page.iter().for_each(|r| c.add(r));
            }
            if let Some(t) = &mut tables {
                t.add_page(&page);
            }
            Ok(())
        })
        .await?;
    println!(
        "read and counted {n} records ({}–{}) in {:.2} s; peak RSS {:.0} MiB",
        a.from_year,
        a.to_year,
        t.elapsed().as_secs_f64(),
        peak_mib()
    );
    store.close().await;
    let t = Instant::now();
    if !counters.is_empty() {
        microdata_figures(&counters)?;
    }
    if let Some(counts) = &tables {
        table_figures(counts, years, a.runs)?;
    }
    println!(
        "generation {:.2} s; peak RSS of the process {:.0} MiB",
        t.elapsed().as_secs_f64(),
        peak_mib()
    );
    Ok(())
}
