//! `dayaq bench audit`: bulk-inserts N synthetic audit rows (a valid hash chain: ids and codes
//! only, deterministic for a seed) into an EMPTY store and times the audit viewer's queries
//! (p50/p99 over random parameters). Issue #18 part 3; docs/PERFORMANCE.md "Audit log at scale".

use crate::bench::rng::Rng;
use dayaq_domain::audit_view::{AuditFilter, Kind};
use dayaq_storage::audit::{AuditRow, GENESIS, row_hash};
use dayaq_storage::audit_viewer::AuditScope;
use dayaq_storage::{Engine, OpenOptions, Store};
use sqlx::Row;
use std::time::Instant;
use uuid::Uuid;

/// Rows per INSERT statement (12 parameters each; well under SQLite's parameter limit).
const PER_STATEMENT: usize = 200;
/// Rows per transaction.
const PER_TX: usize = 20_000;

/// The synthetic load mix: (action, outcome, per mille). Case-page reads dominate (every case
/// page appends a row); see docs/PERFORMANCE.md for the estimate behind it.
const MIX: &[(&str, &str, u32)] = &[
    ("case.read_identity", "success", 620),
    ("case.update", "success", 120),
    ("case.search", "success", 80),
    ("auth.login", "success", 90),
    ("auth.login", "failure", 20),
    ("access.denied", "denied", 30),
    ("case.export", "success", 15),
    ("referral.read_details", "success", 20),
    ("break_glass.opened", "success", 2),
    ("case.erase", "success", 1),
    ("key.rotate", "success", 1),
    ("audit.view", "success", 1),
];

pub struct AuditBench {
    pub rows: u64,
    pub insert_seconds: f64,
    pub rows_per_second: f64,
    /// Rebuilding the secondary indexes after the load (dropped for it).
    pub index_seconds: f64,
    /// Refreshing the planner statistics (`Store::refresh_planner_statistics`).
    pub analyze_seconds: f64,
    /// (phase, query, p50 ms, p99 ms, samples); the phase is "no planner statistics" (as a
    /// store that never ran ANALYZE) or "planner statistics".
    pub timings: Vec<(&'static str, &'static str, f64, f64, usize)>,
}

/// The secondary indexes of `audit_log` as (name, definition), from the engine's catalogue.
async fn secondary_indexes(store: &Store) -> anyhow::Result<Vec<(String, String)>> {
    let rows = match store.engine() {
        Engine::Sqlite => {
            sqlx::query(
                "SELECT name, sql AS def FROM sqlite_master WHERE type = 'index' \
                 AND tbl_name = 'audit_log' AND sql IS NOT NULL ORDER BY name",
            )
            .fetch_all(store.pool())
            .await?
        }
        Engine::Postgres => {
            sqlx::query(
                "SELECT indexname AS name, indexdef AS def FROM pg_indexes \
                 WHERE schemaname = current_schema() AND tablename = 'audit_log' \
                 AND indexname NOT IN (SELECT conname FROM pg_constraint) ORDER BY indexname",
            )
            .fetch_all(store.pool())
            .await?
        }
    };
    let mut out = Vec::new();
    for r in rows {
        let name: String = r.try_get("name")?;
        let def: String = r.try_get("def")?;
        // Index names come from the migrations; refuse anything unexpected before it reaches
        // a DROP statement.
        if !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            anyhow::bail!("unexpected index name on audit_log");
        }
        out.push((name, def));
    }
    Ok(out)
}

fn pick(rng: &mut Rng) -> (&'static str, &'static str) {
    let mut x = (rng.next_u64() % 1000) as u32;
    for (a, o, w) in MIX {
        if x < *w {
            return (*a, *o);
        }
        x -= w;
    }
    ("case.read_identity", "success")
}

fn uuid_of(kind: u64, i: u64) -> String {
    Uuid::from_u64_pair(kind, i).to_string()
}

/// Users, organisations and cases of the synthetic population (by index).
struct Population {
    users: u64,
    orgs: u64,
    cases: u64,
}

pub async fn run(
    opts: &OpenOptions,
    rows: u64,
    samples: usize,
    seed: u64,
) -> anyhow::Result<AuditBench> {
    let store = Store::open(opts).await?;
    let existing: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM audit_log")
        .fetch_one(store.pool())
        .await?;
    if existing > 100 {
        anyhow::bail!(
            "refusing: the store already holds {existing} audit rows (use an empty data directory)"
        );
    }
    let pop = Population {
        users: 3_000,
        orgs: 60,
        cases: (rows / 40).max(100),
    };
    let head: (i64, String) = sqlx::query_as("SELECT seq, hash FROM audit_head WHERE id = 1")
        .fetch_one(store.pool())
        .await?;
    let (mut seq, mut prev) = head;
    if seq == 0 {
        prev = GENESIS.to_string();
    }
    // The bulk load goes into the table alone: the secondary indexes (0023) are dropped first
    // and rebuilt from their catalogue definitions afterwards (one sort each instead of a
    // random B-tree insert per row and index). Only on this empty bench store.
    let indexes = secondary_indexes(&store).await?;
    for (name, _) in &indexes {
        sqlx::query(sqlx::AssertSqlSafe(format!("DROP INDEX {name}")))
            .execute(store.pool())
            .await?;
    }
    let mut rng = Rng::new(seed);
    // One row per ~0.6 s over the period ending now: a year holds ~50M rows.
    let start_ms = dayaq_storage::millis(time::OffsetDateTime::now_utc()) - rows as i64 * 600;
    let t0 = Instant::now();
    let mut left = rows;
    while left > 0 {
        let n_tx = left.min(PER_TX as u64);
        let mut tx = store.pool().begin().await?;
        let mut done = 0u64;
        while done < n_tx {
            let n = (n_tx - done).min(PER_STATEMENT as u64) as usize;
            let mut batch = Vec::with_capacity(n);
            for _ in 0..n {
                seq += 1;
                let (action, outcome) = pick(&mut rng);
                let user = rng.next_u64() % pop.users;
                let org = user % pop.orgs;
                let case = if action.starts_with("case.") || action == "break_glass.opened" {
                    uuid_of(3, rng.next_u64() % pop.cases)
                } else {
                    String::new()
                };
                let grant = if action == "case.read_identity" || action == "case.update" {
                    match rng.next_u64() % 100 {
                        0..=89 => "owner",
                        90..=98 => "referral",
                        _ => "break_glass",
                    }
                } else {
                    ""
                };
                let mut r = AuditRow {
                    seq,
                    at: start_ms + seq * 600,
                    actor_user: uuid_of(1, user),
                    actor_org: uuid_of(2, org),
                    action: action.to_string(),
                    outcome: outcome.to_string(),
                    case_id: case,
                    source: format!("10.{}.{}.{}", org % 250, user % 250, 1 + user % 200),
                    detail: String::new(),
                    prev_hash: prev.clone(),
                    hash: String::new(),
                    access_grant: grant.to_string(),
                };
                r.hash = row_hash(&r);
                prev = r.hash.clone();
                batch.push(r);
            }
            let mut sql = String::from(
                "INSERT INTO audit_log (seq, at, actor_user, actor_org, action, outcome, case_id, \
                 source, detail, prev_hash, hash, access_grant) VALUES ",
            );
            for i in 0..batch.len() {
                if i > 0 {
                    sql.push_str(", ");
                }
                let b = i * 12;
                sql.push('(');
                sql.push_str(
                    &(1..=12)
                        .map(|k| format!("${}", b + k))
                        .collect::<Vec<_>>()
                        .join(", "),
                );
                sql.push(')');
            }
            // Placeholders only; every value is bound.
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
            for r in &batch {
                q = q
                    .bind(r.seq)
                    .bind(r.at)
                    .bind(r.actor_user.clone())
                    .bind(r.actor_org.clone())
                    .bind(r.action.clone())
                    .bind(r.outcome.clone())
                    .bind(r.case_id.clone())
                    .bind(r.source.clone())
                    .bind(r.detail.clone())
                    .bind(r.prev_hash.clone())
                    .bind(r.hash.clone())
                    .bind(r.access_grant.clone());
            }
            q.execute(&mut *tx).await?;
            done += n as u64;
        }
        sqlx::query("UPDATE audit_head SET seq = $1, hash = $2 WHERE id = 1")
            .bind(seq)
            .bind(&prev)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        left -= n_tx;
        if (rows - left).is_multiple_of(5_000_000) {
            eprintln!(
                "bench audit: {} rows in {:.0} s",
                rows - left,
                t0.elapsed().as_secs_f64()
            );
        }
    }
    let insert_seconds = t0.elapsed().as_secs_f64();
    eprintln!("bench audit: {rows} rows inserted in {insert_seconds:.1} s; rebuilding indexes");
    let t1 = Instant::now();
    for (_, def) in &indexes {
        sqlx::query(sqlx::AssertSqlSafe(def.clone()))
            .execute(store.pool())
            .await?;
    }
    let index_seconds = t1.elapsed().as_secs_f64();
    eprintln!("bench audit: indexes rebuilt in {index_seconds:.1} s");
    store.audit_reseal().await?;

    let mut timings = Vec::new();
    let mut analyze_seconds = 0.0;
    for phase in ["no planner statistics", "planner statistics"] {
        if phase == "planner statistics" {
            let t2 = Instant::now();
            store.refresh_planner_statistics().await?;
            analyze_seconds = t2.elapsed().as_secs_f64();
        }
        let mut rng = Rng::new(seed ^ 0xA0D1);
        time_queries(
            &store,
            &pop,
            &mut rng,
            seq,
            start_ms,
            samples,
            phase,
            &mut timings,
        )
        .await?;
    }
    store.close().await;
    Ok(AuditBench {
        rows,
        insert_seconds,
        rows_per_second: rows as f64 / insert_seconds.max(1e-9),
        index_seconds,
        analyze_seconds,
        timings,
    })
}

/// Times the viewer's queries over random parameters, `samples` each.
#[allow(clippy::too_many_arguments)]
async fn time_queries(
    store: &Store,
    pop: &Population,
    rng: &mut Rng,
    seq: i64,
    start_ms: i64,
    samples: usize,
    phase: &'static str,
    timings: &mut Vec<(&'static str, &'static str, f64, f64, usize)>,
) -> anyhow::Result<()> {
    let queries: &[&'static str] = &[
        "by case (newest 50)",
        "by user, one week (newest 50)",
        "by user, an older page (keyset cursor)",
        "by case, an older page (keyset cursor)",
        "by kind: break-glass (newest 50)",
        "by kind: failed sign-ins (newest 50)",
        "organisation scope (newest 50)",
        "organisation scope + user (newest 50)",
        "period of one day (newest 50)",
        "export batch (5000 after a cursor)",
    ];
    let end_ms = start_ms + seq * 600;
    for name in queries {
        let mut ms = Vec::with_capacity(samples);
        for _ in 0..samples {
            let user = rng.next_u64() % pop.users;
            let mut f = AuditFilter {
                limit: 50,
                ..Default::default()
            };
            let mut scope = AuditScope::All;
            match *name {
                "by case (newest 50)" => {
                    f.case_id = Uuid::parse_str(&uuid_of(3, rng.next_u64() % pop.cases)).ok()
                }
                "by user, an older page (keyset cursor)" => {
                    f.user = Some(uuid_of(1, user));
                    f.before = Some(1 + (rng.next_u64() % (seq as u64).max(1)) as i64);
                }
                "by case, an older page (keyset cursor)" => {
                    f.case_id = Uuid::parse_str(&uuid_of(3, rng.next_u64() % pop.cases)).ok();
                    f.before = Some(1 + (rng.next_u64() % (seq as u64).max(1)) as i64);
                }
                "by user, one week (newest 50)" => {
                    f.user = Some(uuid_of(1, user));
                    let from = start_ms + (rng.next_u64() % (seq as u64).max(1)) as i64 * 600;
                    f.since_ms = Some(from);
                    f.until_ms = Some(from + 7 * 86_400_000);
                }
                "by kind: break-glass (newest 50)" => f.kind = Some(Kind::BreakGlass),
                "by kind: failed sign-ins (newest 50)" => f.kind = Some(Kind::FailedSignins),
                "organisation scope (newest 50)" => {
                    scope = AuditScope::Organisation(Uuid::from_u64_pair(2, user % pop.orgs))
                }
                "organisation scope + user (newest 50)" => {
                    scope = AuditScope::Organisation(Uuid::from_u64_pair(2, user % pop.orgs));
                    f.user = Some(uuid_of(1, user));
                }
                "period of one day (newest 50)" => {
                    let from =
                        start_ms + (rng.next_u64() % ((end_ms - start_ms).max(1) as u64)) as i64;
                    f.since_ms = Some(from);
                    f.until_ms = Some(from + 86_400_000);
                }
                _ => {
                    f.after = Some((rng.next_u64() % (seq as u64).max(1)) as i64);
                    f.limit = 5000;
                }
            }
            let t = Instant::now();
            let _ = store.audit_rows(scope, &f).await?;
            ms.push(t.elapsed().as_secs_f64() * 1000.0);
        }
        ms.sort_by(|a, b| a.total_cmp(b));
        let pct = |p: f64| ms[((ms.len() as f64 - 1.0) * p).round() as usize];
        timings.push((phase, *name, pct(0.5), pct(0.99), ms.len()));
    }
    Ok(())
}
