//! `dayaq bench run`: latency percentiles of the product's read paths on a generated store,
//! each next to the raw-SQL equivalent run on the same pool in the same loop (interleaved, so
//! both see the same cache and disk state), plus statistics, export and a durable-commit
//! floor. Output: a Markdown table on standard output and a JSON document.

use super::generator::{self, PopulationInfo};
use super::population::{self, BENCH_ORG, COORDINATOR, ORGS};
use super::rng::Rng;
use anyhow::{Context, bail};
use dayaq_domain::Actor;
use dayaq_domain::statistics::{DEFAULT_K, Disclosure};
use dayaq_storage::cases::{Ctx, SearchQuery};
use dayaq_storage::htcds::CsvSink;
use dayaq_storage::{Engine, OpenOptions, Store};
use serde::Serialize;
use sqlx::Row;
use std::future::Future;
use std::path::PathBuf;
use std::time::{Duration, Instant};
use uuid::Uuid;

pub struct RunOptions {
    /// Expected size of the generated population (the run fails on a mismatch).
    pub cases: Option<u64>,
    pub samples: usize,
    pub out: Option<PathBuf>,
    pub year: Option<i32>,
    pub skip_export: bool,
    /// Samples of the maintained annual report (`None`: a hundredth of `samples`, 3 to 20).
    pub statistics_samples: Option<usize>,
    /// Leave out the report recomputed from the records.
    pub skip_recomputed: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct Timing {
    pub samples: usize,
    pub p50_ms: f64,
    pub p90_ms: f64,
    pub p99_ms: f64,
    pub mean_ms: f64,
    pub max_ms: f64,
}

impl Timing {
    fn of(mut d: Vec<Duration>) -> Timing {
        d.sort();
        let ms = |x: Duration| x.as_secs_f64() * 1000.0;
        let pct = |p: f64| {
            if d.is_empty() {
                return 0.0;
            }
            let rank = ((p * d.len() as f64).ceil() as usize).clamp(1, d.len());
            ms(d[rank - 1])
        };
        Timing {
            samples: d.len(),
            p50_ms: pct(0.50),
            p90_ms: pct(0.90),
            p99_ms: pct(0.99),
            mean_ms: if d.is_empty() {
                0.0
            } else {
                d.iter().map(|x| ms(*x)).sum::<f64>() / d.len() as f64
            },
            max_ms: d.last().map(|x| ms(*x)).unwrap_or(0.0),
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Metric {
    pub name: &'static str,
    pub what: &'static str,
    pub dayaq: Timing,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub raw_what: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub raw: Option<Timing>,
    /// Dayaq ÷ raw at p50 and p99.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ratio_p50: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ratio_p99: Option<f64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ExportResult {
    pub cases: u64,
    pub bytes: u64,
    pub seconds: f64,
    pub cases_per_second: f64,
    /// Peak resident set (VmHWM) during the export, after resetting it, in MiB.
    pub peak_rss_mib: Option<f64>,
    pub raw_rows: u64,
    pub raw_seconds: f64,
    pub raw_peak_rss_mib: Option<f64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Machine {
    pub cpus: usize,
    pub cpu_model: String,
    pub memory_mib: u64,
    pub os: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub date: String,
    pub engine: String,
    pub cases_in_store: i64,
    pub bench_org_cases: i64,
    pub samples: usize,
    pub statistics_year: i32,
    pub machine: Machine,
    pub population: PopulationInfo,
    pub metrics: Vec<Metric>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub export: Option<ExportResult>,
    pub store_bytes: Option<u64>,
    pub rss_mib_after: Option<f64>,
}

/// The raw side of the national-statistics measure: one GROUP BY over the year's cases (sex ×
/// age band × form × citizenship), the lower bound the product's report is compared with.
const ANNUAL_SQL: &str = "SELECT COALESCE(c.prs_gender, 'NonSpecifiedUnknown'), COALESCE(c.age_band, 'unknown'), \
     t.value, COALESCE(z.value, 'unknown'), COUNT(*) \
     FROM cases c \
     JOIN case_values t ON t.case_id = c.id AND t.field = 'vic_TypeOfExploitation' \
     LEFT JOIN case_values z ON z.case_id = c.id AND z.field = 'prs_Citizenship' \
     WHERE c.erased_at IS NULL AND c.created_at >= $1 AND c.created_at < $2 \
     GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4";

fn year_bounds(year: i32) -> anyhow::Result<(i64, i64)> {
    let start = |y: i32| -> anyhow::Result<i64> {
        let d = time::Date::from_calendar_date(y, time::Month::January, 1)?;
        Ok(dayaq_storage::millis(d.midnight().assume_utc()))
    };
    Ok((start(year)?, start(year + 1)?))
}

const CASE_COLS: &str = "id, case_number, owner_org_id, version, cas_status, vic_trafficking_status, \
     prs_gender, age_when_trafficked, age_band, created_at, updated_at, closure";

async fn time_it<T, E: Into<anyhow::Error>>(
    f: impl Future<Output = Result<T, E>>,
) -> anyhow::Result<(Duration, T)> {
    let t = Instant::now();
    let v = f.await.map_err(Into::into)?;
    Ok((t.elapsed(), v))
}

/// Runs `dayaq(k)` and `raw(k)` interleaved `n` times (after a short warm-up) and returns
/// both timings.
async fn paired<FA, FR, A, R>(
    n: usize,
    dayaq: FA,
    raw: Option<FR>,
) -> anyhow::Result<(Timing, Option<Timing>)>
where
    FA: FnMut(usize) -> A,
    FR: FnMut(usize) -> R,
    A: Future<Output = anyhow::Result<()>>,
    R: Future<Output = anyhow::Result<()>>,
{
    let (a, b) = paired_runs(n, dayaq, raw).await?;
    Ok((Timing::of(a), b.map(Timing::of)))
}

/// [`paired`], returning the durations themselves (so that runs can be pooled).
async fn paired_runs<FA, FR, A, R>(
    n: usize,
    mut dayaq: FA,
    mut raw: Option<FR>,
) -> anyhow::Result<(Vec<Duration>, Option<Vec<Duration>>)>
where
    FA: FnMut(usize) -> A,
    FR: FnMut(usize) -> R,
    A: Future<Output = anyhow::Result<()>>,
    R: Future<Output = anyhow::Result<()>>,
{
    let warm = (n / 10).clamp(1, 50);
    for k in 0..warm {
        dayaq(k).await?;
        if let Some(r) = raw.as_mut() {
            r(k).await?;
        }
    }
    let mut a = Vec::with_capacity(n);
    let mut b = Vec::with_capacity(n);
    for k in 0..n {
        let (d, ()) = time_it(dayaq(k + warm)).await?;
        a.push(d);
        if let Some(r) = raw.as_mut() {
            let (d, ()) = time_it(r(k + warm)).await?;
            b.push(d);
        }
    }
    Ok((a, raw.map(|_| b)))
}

fn metric(
    name: &'static str,
    what: &'static str,
    (dayaq, raw): (Timing, Option<Timing>),
    raw_what: Option<&'static str>,
) -> Metric {
    let ratio = |a: f64, b: f64| if b > 0.0 { Some(a / b) } else { None };
    Metric {
        name,
        what,
        ratio_p50: raw.as_ref().and_then(|r| ratio(dayaq.p50_ms, r.p50_ms)),
        ratio_p99: raw.as_ref().and_then(|r| ratio(dayaq.p99_ms, r.p99_ms)),
        dayaq,
        raw_what: raw.as_ref().and(raw_what),
        raw,
    }
}

fn ctx(actor: &Actor) -> Ctx<'_> {
    Ctx {
        actor,
        source: "bench",
        now: time::OffsetDateTime::now_utc(),
    }
}

pub async fn run(opts: &OpenOptions, o: &RunOptions) -> anyhow::Result<Report> {
    let info = generator::load_info(opts)?;
    if let Some(n) = o.cases
        && n != info.cases
    {
        bail!(
            "the store holds a generated population of {} cases, not {n}",
            info.cases
        );
    }
    if o.samples == 0 {
        bail!("--samples must be at least 1");
    }
    let store = Store::open(opts)
        .await
        .context("cannot open the Dayaq database")?;
    // The harness measures search throughput as one user: the per-user search budget (a
    // brake on people probing the blind index) does not apply to it.
    let store = {
        let mut settings = store.settings();
        settings.search_limit = usize::MAX;
        store.with_settings(settings)
    };
    let pool = store.pool().clone();
    let actor = generator::bench_actor(&store).await?;
    let coordinator = store
        .user_by_name(COORDINATOR)
        .await
        .context("the generated population's coordinator is missing")?
        .actor();
    let org = actor.org_id.to_string();
    let ids: Vec<String> =
        sqlx::query_scalar("SELECT id FROM cases WHERE owner_org_id = $1 AND erased_at IS NULL")
            .bind(&org)
            .fetch_all(&pool)
            .await?;
    if ids.is_empty() {
        bail!("the benchmark organisation holds no cases");
    }
    let total: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM cases")
        .fetch_one(&pool)
        .await?;
    let n = o.samples;
    let mut rng = Rng::new(info.seed ^ 0xBE7C);
    let pick: Vec<Uuid> = (0..n + 50)
        .map(|_| {
            let s = &ids[rng.below(ids.len() as u64) as usize];
            Uuid::parse_str(s).map_err(|e| anyhow::anyhow!("bad case id: {e}"))
        })
        .collect::<anyhow::Result<_>>()?;
    let mut metrics = Vec::new();
    eprintln!(
        "bench run: {} engine, {total} cases, {} in the benchmark organisation, {n} samples",
        store.engine().name(),
        ids.len()
    );

    // Raw point lookup: the case row by primary key, as a hand-written application would.
    let point_sql = format!("SELECT {CASE_COLS}, identity FROM cases WHERE id = $1");
    let raw_point = |k: usize| {
        let pool = &pool;
        let sql = point_sql.clone();
        let id = pick[k % pick.len()].to_string();
        async move {
            sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(id)
                .fetch_optional(pool)
                .await?;
            Ok(())
        }
    };

    // 1. Case page read with identity: access check, durable audit record, key unwrap,
    //    decryption.
    let t = paired(
        n,
        |k| {
            let store = &store;
            let actor = &actor;
            let id = pick[k % pick.len()];
            async move {
                store.get_case(&ctx(actor), id, true).await?;
                Ok(())
            }
        },
        Some(raw_point),
    )
    .await?;
    metrics.push(metric(
        "case_page_read",
        "get_case with identity: policy + audited (durable) read + decrypt",
        t,
        Some("SELECT case row by id"),
    ));
    eprintln!("bench run: case page read done");

    // 2. The same without identity (no audit write): the cost of the product's read path.
    let t = paired(
        n,
        |k| {
            let store = &store;
            let actor = &actor;
            let id = pick[k % pick.len()];
            async move {
                store.get_case(&ctx(actor), id, false).await?;
                Ok(())
            }
        },
        Some(raw_point),
    )
    .await?;
    metrics.push(metric(
        "case_summary_read",
        "get_case without identity (policy, no audit write)",
        t,
        Some("SELECT case row by id"),
    ));

    // 3. Caseload list, 50 rows, one of the first ten pages.
    let list_sql = format!(
        "SELECT {CASE_COLS} FROM cases WHERE owner_org_id = $1 AND erased_at IS NULL \
         ORDER BY updated_at DESC, id LIMIT $2 OFFSET $3"
    );
    let offsets: Vec<i64> = (0..n + 50).map(|_| rng.range(0, 9) * 50).collect();
    let t = paired(
        n,
        |k| {
            let store = &store;
            let actor = &actor;
            let off = offsets[k % offsets.len()];
            async move {
                store.list_cases(&ctx(actor), 50, off).await?;
                Ok(())
            }
        },
        Some(|k: usize| {
            let pool = &pool;
            let sql = list_sql.clone();
            let org = org.clone();
            let off = offsets[k % offsets.len()];
            async move {
                sqlx::query(sqlx::AssertSqlSafe(sql))
                    .bind(org)
                    .bind(50i64)
                    .bind(off)
                    .fetch_all(pool)
                    .await?;
                Ok(())
            }
        }),
    )
    .await?;
    metrics.push(metric(
        "caseload_list_50",
        "list_cases(50 rows): policy + rows + attribute values",
        t,
        Some("the same SELECT … ORDER BY updated_at DESC LIMIT 50"),
    ));
    eprintln!("bench run: caseload list done");

    // 3b. The caseload screen's list (issue 23 §7): stage, prompts, due date, last contact of
    // the organisation's whole caseload, sorted by due date, first 50 rows. It reads every
    // case of the organisation per call, so fewer samples.
    let view_n = n.clamp(1, 50);
    let t = paired(
        view_n,
        |_| {
            let store = &store;
            let actor = &actor;
            async move {
                let q = dayaq_storage::cases::CaseloadQuery {
                    limit: 50,
                    ..Default::default()
                };
                store.caseload(&ctx(actor), &q).await?;
                Ok(())
            }
        },
        None::<fn(usize) -> std::future::Ready<anyhow::Result<()>>>,
    )
    .await?;
    metrics.push(metric(
        "caseload_view_50",
        "Store::caseload (50 rows by due date: stage, next steps, last contact of the whole caseload)",
        t,
        None,
    ));
    eprintln!("bench run: caseload view done");

    // 4. Blind-index search by name + birth date (audited), probes re-derived from the seed.
    let mut probes: Vec<SearchQuery> = Vec::new();
    let mut guard = 0;
    while probes.len() < n + 50 && guard < 100 * (n + 50) {
        guard += 1;
        let i = rng.below(info.cases);
        if population::org_of(info.seed, i) != BENCH_ORG {
            continue;
        }
        let c = population::case(info.seed, info.cases, i);
        if c.org != BENCH_ORG || c.input.identity.birthdate.is_none() {
            continue;
        }
        let id = c.input.identity;
        probes.push(SearchQuery {
            first_name: id.first_name,
            second_name: id.second_name,
            birthdate: id.birthdate,
            ..Default::default()
        });
    }
    if probes.is_empty() {
        bail!("no search probe could be derived from the population");
    }
    let mut digests: Vec<String> = Vec::new();
    for id in pick.iter().take(n + 50) {
        let d: Option<String> = sqlx::query_scalar(
            "SELECT digest FROM blind_index WHERE case_id = $1 AND kind = 'name_dob'",
        )
        .bind(id.to_string())
        .fetch_optional(&pool)
        .await?;
        digests.extend(d);
    }
    if digests.is_empty() {
        bail!("no blind-index entries found");
    }
    let hits = std::cell::Cell::new(0usize);
    let t = paired(
        n,
        |k| {
            let store = &store;
            let actor = &actor;
            let q = probes[k % probes.len()].clone();
            let hits = &hits;
            async move {
                let r = store.search_cases(&ctx(actor), &q).await?;
                hits.set(hits.get() + r.cases.len());
                Ok(())
            }
        },
        Some(|k: usize| {
            let pool = &pool;
            let digest = digests[k % digests.len()].clone();
            let sql = point_sql.clone();
            async move {
                let found: Vec<String> = sqlx::query_scalar(
                    "SELECT case_id FROM blind_index WHERE kind = 'name_dob' AND digest = $1",
                )
                .bind(digest)
                .fetch_all(pool)
                .await?;
                for id in found {
                    sqlx::query(sqlx::AssertSqlSafe(sql.clone()))
                        .bind(id)
                        .fetch_optional(pool)
                        .await?;
                }
                Ok(())
            }
        }),
    )
    .await;
    let t = t?;
    if hits.get() == 0 {
        bail!("blind-index search found none of the generated probes");
    }
    metrics.push(metric(
        "blind_index_search",
        "search_cases(name + birth date): HMAC, index lookup, policy, rows, audited",
        t,
        Some("SELECT blind_index by digest + case row"),
    ));
    eprintln!("bench run: search done");

    // 5. National annual statistics.
    let year = o.year.unwrap_or(2025);
    let (from, to) = year_bounds(year)?;
    let stat_n = (n / 100).clamp(3, 20);
    let report_n = o.statistics_samples.unwrap_or(stat_n).max(1);
    // The raw GROUP BY is linear in the cases (seconds at 1M): beside the first 20 only.
    let raw_n = report_n.min(20);
    let report = |_: usize| {
        let store = &store;
        let who = &coordinator;
        async move {
            // The product's annual national report (public variant), as the API serves it.
            let cx = ctx(who);
            let access = store.authorize_national_report(&cx).await?;
            store
                .national_report(&access, year, Disclosure::Public { k: DEFAULT_K }, "bench")
                .await?;
            Ok(())
        }
    };
    let (mut report_runs, raw_runs) = paired_runs(
        raw_n,
        report,
        Some(|_| {
            let pool = &pool;
            async move {
                sqlx::query(ANNUAL_SQL)
                    .bind(from)
                    .bind(to)
                    .fetch_all(pool)
                    .await?;
                Ok(())
            }
        }),
    )
    .await?;
    if report_n > raw_n {
        let (more, _) = paired_runs(
            report_n - raw_n,
            report,
            None::<fn(usize) -> std::future::Ready<anyhow::Result<()>>>,
        )
        .await?;
        report_runs.extend(more);
    }
    let t = (Timing::of(report_runs), raw_runs.map(Timing::of));
    metrics.push(metric(
        "national_annual_statistics",
        "Store::national_report for one year from the maintained aggregates (every table + trend, public variant, audited)",
        t,
        Some("the same GROUP BY"),
    ));
    // The same report recomputed from the records (what it cost before the maintained
    // aggregates; linear in the cases): 3 samples, beside the raw GROUP BY.
    if !o.skip_recomputed {
        let t = paired(
            3,
            |_| {
                let store = &store;
                let who = &coordinator;
                async move {
                    let cx = ctx(who);
                    let access = store.authorize_national_report(&cx).await?;
                    store
                        .national_report_recomputed(
                            &access,
                            year,
                            Disclosure::Public { k: DEFAULT_K },
                        )
                        .await?;
                    Ok(())
                }
            },
            Some(|_| {
                let pool = &pool;
                async move {
                    sqlx::query(ANNUAL_SQL)
                        .bind(from)
                        .bind(to)
                        .fetch_all(pool)
                        .await?;
                    Ok(())
                }
            }),
        )
        .await?;
        metrics.push(metric(
            "national_annual_statistics_recomputed",
            "the same report recomputed from the records (one record per case, birth dates decrypted)",
            t,
            Some("the same GROUP BY"),
        ));
    }
    let t = paired(
        stat_n,
        |_| {
            let store = &store;
            let who = &coordinator;
            async move {
                store.national_overview(who).await?;
                Ok(())
            }
        },
        None::<fn(usize) -> std::future::Ready<anyhow::Result<()>>>,
    )
    .await?;
    metrics.push(metric(
        "national_overview",
        "Store::national_overview (all years: total, by status, gender, trafficking status)",
        t,
        None,
    ));
    eprintln!("bench run: statistics done");

    // 6. The floor: one durable commit of a one-row write on this engine and disk.
    sqlx::query("CREATE TABLE IF NOT EXISTS bench_commit_probe (x BIGINT NOT NULL)")
        .execute(&pool)
        .await?;
    let engine = store.engine();
    let t = paired(
        n.min(500),
        |k| {
            let pool = &pool;
            async move {
                let mut tx = match engine {
                    Engine::Sqlite => pool.begin_with("BEGIN IMMEDIATE").await?,
                    Engine::Postgres => pool.begin().await?,
                };
                sqlx::query("INSERT INTO bench_commit_probe (x) VALUES ($1)")
                    .bind(k as i64)
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
                Ok(())
            }
        },
        None::<fn(usize) -> std::future::Ready<anyhow::Result<()>>>,
    )
    .await;
    sqlx::query("DROP TABLE IF EXISTS bench_commit_probe")
        .execute(&pool)
        .await?;
    metrics.push(metric(
        "durable_commit_floor",
        "one-row INSERT + COMMIT on the same pool (fsync cost; scratch table, dropped)",
        t?,
        None,
    ));

    // 7. HTCDS export of every case (each organisation's caseworker exports their own).
    let export = if o.skip_export {
        None
    } else {
        let e = export_all(&store, engine).await?;
        eprintln!("bench run: export done");
        Some(e)
    };

    let store_bytes = store_size(opts, &store).await;
    let report = Report {
        date: time::OffsetDateTime::now_utc()
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default(),
        engine: store.engine().name().to_string(),
        cases_in_store: total,
        bench_org_cases: ids.len() as i64,
        samples: n,
        statistics_year: year,
        machine: machine(),
        population: info,
        metrics,
        export,
        store_bytes,
        rss_mib_after: proc_status_kib("VmRSS").map(|k| k as f64 / 1024.0),
    };
    store.close().await;
    if let Some(out) = &o.out {
        generator::write_json(out, &report)?;
    }
    Ok(report)
}

/// Counts what the CSV writer produces and throws it away.
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

async fn export_all(store: &Store, _engine: Engine) -> anyhow::Result<ExportResult> {
    let mut actors = Vec::new();
    for o in ORGS {
        actors.push(
            store
                .user_by_name(&population::caseworker(o))
                .await?
                .actor(),
        );
    }
    let reset = reset_peak_rss();
    let t = Instant::now();
    let mut cases = 0u64;
    let mut bytes = 0u64;
    for a in &actors {
        let mut sink = CsvSink::new(Counting(0))?;
        cases += store.export_cases(&ctx(a), &mut sink).await? as u64;
        bytes += sink.finish()?.0;
    }
    let seconds = t.elapsed().as_secs_f64();
    let peak = reset.then(|| proc_status_kib("VmHWM")).flatten();

    let reset = reset_peak_rss();
    let t = Instant::now();
    let mut raw_rows = 0u64;
    {
        // A raw dump walks the primary key (UUIDv7 ids are in creation order), 500 rows a page.
        let sql = format!(
            "SELECT {CASE_COLS}, identity FROM cases WHERE erased_at IS NULL AND id > $1 \
             ORDER BY id LIMIT 500"
        );
        let mut after = String::new();
        loop {
            let rows = sqlx::query(sqlx::AssertSqlSafe(sql.clone()))
                .bind(&after)
                .fetch_all(store.pool())
                .await?;
            let Some(last) = rows.last() else { break };
            after = last.try_get(0)?;
            raw_rows += rows.len() as u64;
            if rows.len() < 500 {
                break;
            }
        }
    }
    let raw_seconds = t.elapsed().as_secs_f64();
    let raw_peak = reset.then(|| proc_status_kib("VmHWM")).flatten();
    Ok(ExportResult {
        cases,
        bytes,
        seconds,
        cases_per_second: cases as f64 / seconds.max(1e-9),
        peak_rss_mib: peak.map(|k| k as f64 / 1024.0),
        raw_rows,
        raw_seconds,
        raw_peak_rss_mib: raw_peak.map(|k| k as f64 / 1024.0),
    })
}

/// Resets the peak RSS counter (Linux ≥ 4.0: writing 5 to clear_refs).
fn reset_peak_rss() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

/// A `kB` field of /proc/self/status.
pub fn proc_status_kib(field: &str) -> Option<u64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    s.lines()
        .find(|l| l.starts_with(field) && l[field.len()..].starts_with(':'))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
}

async fn store_size(opts: &OpenOptions, store: &Store) -> Option<u64> {
    match store.engine() {
        Engine::Sqlite => {
            let db = opts.sqlite_path();
            let mut total = 0;
            for suffix in ["", "-wal"] {
                let p = PathBuf::from(format!("{}{suffix}", db.display()));
                total += std::fs::metadata(p).map(|m| m.len()).unwrap_or(0);
            }
            Some(total)
        }
        Engine::Postgres => {
            sqlx::query_scalar::<_, i64>("SELECT pg_database_size(current_database())")
                .fetch_one(store.pool())
                .await
                .ok()
                .map(|v| v as u64)
        }
    }
}

fn machine() -> Machine {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    Machine {
        cpus: std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1),
        cpu_model: cpuinfo
            .lines()
            .find(|l| l.starts_with("model name"))
            .and_then(|l| l.split_once(':'))
            .map(|(_, v)| v.trim().to_string())
            .unwrap_or_default(),
        memory_mib: meminfo
            .lines()
            .find(|l| l.starts_with("MemTotal:"))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse::<u64>().ok())
            .map(|k| k / 1024)
            .unwrap_or(0),
        os: format!("{} {}", std::env::consts::OS, std::env::consts::ARCH),
    }
}

fn f(x: f64) -> String {
    if x >= 100.0 {
        format!("{x:.0}")
    } else if x >= 10.0 {
        format!("{x:.1}")
    } else {
        format!("{x:.2}")
    }
}

/// The report as Markdown (the table docs/PERFORMANCE.md quotes).
pub fn markdown(r: &Report) -> String {
    let mut s = String::new();
    let p = &r.population;
    s.push_str(&format!(
        "Dayaq benchmark, {} — {} engine, {} cases ({} in the benchmark organisation), {} cpus ({}), {} MiB RAM\n\n",
        r.date, r.engine, r.cases_in_store, r.bench_org_cases, r.machine.cpus, r.machine.cpu_model, r.machine.memory_mib
    ));
    s.push_str("| Measure | n | p50 ms | p99 ms | Raw SQL equivalent | raw p50 ms | raw p99 ms | ×p50 | ×p99 |\n");
    s.push_str("|---|---:|---:|---:|---|---:|---:|---:|---:|\n");
    for m in &r.metrics {
        let (rw, rp50, rp99) = match &m.raw {
            Some(t) => (m.raw_what.unwrap_or(""), f(t.p50_ms), f(t.p99_ms)),
            None => ("—", "—".into(), "—".into()),
        };
        s.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} |\n",
            m.name,
            m.dayaq.samples,
            f(m.dayaq.p50_ms),
            f(m.dayaq.p99_ms),
            rw,
            rp50,
            rp99,
            m.ratio_p50.map(f).unwrap_or_else(|| "—".into()),
            m.ratio_p99.map(f).unwrap_or_else(|| "—".into()),
        ));
    }
    s.push('\n');
    s.push_str(&format!(
        "- Generation (`bench generate`, seed {}): {} cases in {:.1} s = {:.0} cases/s overall; \
         inside `Store::import_cases` {:.0} cases/s ({} batches); events: {} contacts, {} screenings, \
         {} decisions, {} consents, {} timeline rows\n",
        p.seed,
        p.cases,
        p.seconds_total,
        p.cases_per_second,
        p.import_cases_per_second,
        p.import_batches,
        p.rows.contacts,
        p.rows.screenings,
        p.rows.decisions,
        p.rows.consents,
        p.rows.case_events
    ));
    if let Some(e) = &r.export {
        let mib = |x: Option<f64>| {
            x.map(|v| format!("{v:.0} MiB"))
                .unwrap_or_else(|| "n/a".into())
        };
        s.push_str(&format!(
            "- HTCDS CSV export of all {} cases: {:.1} s ({:.0} cases/s, {:.1} MiB of CSV), peak RSS {}; \
             raw primary-key walk over the same rows (500 a page): {:.1} s, peak RSS {} (×{:.1} time)\n",
            e.cases,
            e.seconds,
            e.cases_per_second,
            e.bytes as f64 / 1_048_576.0,
            mib(e.peak_rss_mib),
            e.raw_seconds,
            mib(e.raw_peak_rss_mib),
            e.seconds / e.raw_seconds.max(1e-9)
        ));
    }
    if let Some(b) = r.store_bytes {
        s.push_str(&format!(
            "- Database size: {:.0} MiB\n",
            b as f64 / 1_048_576.0
        ));
    }
    s
}
