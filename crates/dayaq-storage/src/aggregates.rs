//! Maintained national statistics (issue #15 §6): the national report is read from sums kept
//! up to date on every write, in the write's own transaction, on both engines.
//!
//! How it stays true (migration 0017):
//! - **The funnel is the database.** Triggers on every table the counting rules read
//!   (`cases`' gender, age, identity and erasure; `case_values`, `trafficking_events`,
//!   `identification_decisions`, `screenings`, `shelter_stays`, `services_delivered`,
//!   `allowance_payments`, `referrals`, `case_legal`, `blind_index`; a facility's
//!   `state_shelter`, an organisation's `org_type`) put the case id in `stat_dirty`. No write
//!   path can skip them: decisions, reversals, erasure, transfer, new episodes, imports,
//!   merges, restores and raw SQL all mark the case.
//! - **Before every commit** (`WriteTx::commit` calls [`refresh`]) the dirty cases are
//!   recounted: their person key (name + birth-date blind-index digest, else the case id) is
//!   taken now and as last counted (`stat_case`), every case of those persons is read, the
//!   persons' contributions (`dayaq_domain::statistics::person_contribution`) are computed,
//!   the difference to the stored ones (`stat_person`) is added to `stat_cell`, and the new
//!   contributions are stored. A person whose last case is erased loses her/his row (and
//!   the digest with it).
//! - Many dirty cases at once (an upgrade, a restore, a bulk generator) → [`rebuild`]: every
//!   sum recomputed from the records in one pass. `dayaq statistics rebuild` does the same.
//!
//! The report then reads `stat_cell` (a few thousand rows whatever the number of cases):
//! `Store::national_report`. Birth dates are decrypted here only to compute the age at the
//! decision; nothing decrypted is stored or returned (the contributions hold counts only).
//!
//! This module uses only `crypto` and `keys` (the kernel calls it; it calls no area).

use crate::crypto::field_aad;
use crate::keys::Keys;
use crate::{Result, StoreError};
use dayaq_domain::case::{Identity, parse_date};
use dayaq_domain::referral::Service;
use dayaq_domain::statistics::{
    AllowanceFact, CaseRecord, CellKey, Cells, Cooperation, DecisionFact, PersonKey, ReferralFact,
    ReportOptions, ScreeningFact, ServiceFact, Span, StayFact, add_cells, person_contribution,
};
use dayaq_domain::vocab::{
    DecisionMakingOrg, Gender, OrgType, TraffickingStatus, TypeOfExploitation,
};
use sqlx::{AnyConnection, Row};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use time::Date;

/// Above this many dirty cases a commit recounts everything in one pass.
const BULK: usize = 20_000;
/// Ids per `IN (…)` list and rows per multi-row insert.
const CHUNK: usize = 400;

fn date(field: &str, s: &str) -> Result<Date> {
    parse_date(field, s).map_err(|e| StoreError::Data(e.message))
}

fn day(ms: i64) -> Result<Date> {
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .map(|t| t.date())
        .map_err(|_| StoreError::Data("time out of range".into()))
}

/// `$first, $first+1, …` for `n` values.
fn placeholders(first: usize, n: usize) -> String {
    (first..first + n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The person key of a case from its name + birth-date digest (else its id).
fn person_of(case_id: &str, digest: Option<String>) -> String {
    match digest {
        Some(d) => format!("name_dob:{d}"),
        None => format!("case:{case_id}"),
    }
}

/// One case as the counting rules see it, with its person key (kept in this process).
pub(crate) struct Counted {
    pub person: String,
    pub record: CaseRecord,
}

/// Every (not erased) case — or only `ids` — as the counting rules see it.
pub(crate) async fn load_records(
    conn: &mut AnyConnection,
    keys: &Keys,
    ids: Option<&[String]>,
) -> Result<HashMap<String, Counted>> {
    let mut recs = HashMap::new();
    match ids {
        None => load_chunk(conn, keys, None, &mut recs).await?,
        Some(ids) => {
            for chunk in ids.chunks(CHUNK) {
                load_chunk(conn, keys, Some(chunk), &mut recs).await?;
            }
        }
    }
    Ok(recs)
}

/// Runs `sql` (with `{f}` replaced by the id filter on `col`) and binds the ids.
async fn rows(
    conn: &mut AnyConnection,
    sql: &str,
    col: &str,
    ids: Option<&[String]>,
) -> Result<Vec<sqlx::any::AnyRow>> {
    let filter = match ids {
        Some(ids) => format!(" AND {col} IN ({})", placeholders(1, ids.len())),
        None => String::new(),
    };
    let q = sql.replace("{f}", &filter);
    let mut query = sqlx::query(sqlx::AssertSqlSafe(q));
    for id in ids.unwrap_or_default() {
        query = query.bind(id.clone());
    }
    Ok(query.fetch_all(&mut *conn).await?)
}

/// What both the national statistics and the research releases (issue #16) read about a
/// case: its person key, sex, age when trafficked, citizenship, forms of exploitation,
/// decisions, screenings and — for the cases `birthdate_of` names — the birth date, only to
/// compute an age at a counting event. Kept in this process, never returned by the `Store`.
pub(crate) struct Core {
    pub person: String,
    pub gender: Option<Gender>,
    pub age_when_trafficked: Option<i64>,
    pub citizenship: Vec<String>,
    pub forms: Vec<TypeOfExploitation>,
    pub decisions: Vec<DecisionFact>,
    pub screenings: Vec<ScreeningFact>,
    pub birthdate: Option<Date>,
}

/// The [`Core`] of every (not erased) case, or only of `ids` (one query per table: callers
/// pass at most a few thousand ids). Identities are read and decrypted in one joined query,
/// only for the cases `birthdate_of` names, and dropped as soon as the date is read.
pub(crate) async fn load_core(
    conn: &mut AnyConnection,
    keys: &Keys,
    ids: Option<&[String]>,
    birthdate_of: impl Fn(&Core) -> bool,
) -> Result<HashMap<String, Core>> {
    let mut recs: HashMap<String, Core> = HashMap::new();
    for r in rows(
        conn,
        "SELECT c.id AS id, c.prs_gender AS gender, c.age_when_trafficked AS age, \
         (SELECT MIN(b.digest) FROM blind_index b WHERE b.case_id = c.id AND b.kind = 'name_dob') AS person \
         FROM cases c WHERE c.erased_at IS NULL{f}",
        "c.id",
        ids,
    )
    .await?
    {
        let id: String = r.try_get("id")?;
        let person = person_of(&id, r.try_get("person")?);
        let gender = r
            .try_get::<Option<String>, _>("gender")?
            .and_then(|g| Gender::parse(&g).ok());
        recs.insert(
            id,
            Core {
                person,
                gender,
                age_when_trafficked: r.try_get("age")?,
                citizenship: Vec::new(),
                forms: Vec::new(),
                decisions: Vec::new(),
                screenings: Vec::new(),
                birthdate: None,
            },
        );
    }
    if recs.is_empty() {
        return Ok(recs);
    }

    for r in rows(
        conn,
        "SELECT case_id, field, value FROM case_values \
         WHERE field IN ('prs_Citizenship', 'vic_TypeOfExploitation'){f}",
        "case_id",
        ids,
    )
    .await?
    {
        let id: String = r.try_get("case_id")?;
        let Some(c) = recs.get_mut(&id) else { continue };
        let field: String = r.try_get("field")?;
        let value: String = r.try_get("value")?;
        if field == "prs_Citizenship" {
            c.citizenship.push(value);
        } else if let Ok(f) = TypeOfExploitation::parse(&value) {
            c.forms.push(f);
        }
    }

    for r in rows(
        conn,
        "SELECT case_id, status, decision_making_org, decided_on, created_at \
         FROM identification_decisions WHERE 1 = 1{f}",
        "case_id",
        ids,
    )
    .await?
    {
        let id: String = r.try_get("case_id")?;
        let Some(c) = recs.get_mut(&id) else { continue };
        let status: String = r.try_get("status")?;
        let org: String = r.try_get("decision_making_org")?;
        let on: String = r.try_get("decided_on")?;
        let (Ok(status), Ok(org)) = (
            TraffickingStatus::parse(&status),
            DecisionMakingOrg::parse(&org),
        ) else {
            return Err(StoreError::Data(
                "identification decision out of vocabulary".into(),
            ));
        };
        c.decisions.push(DecisionFact {
            status,
            decided_on: date("decided_on", &on)?,
            order: r.try_get("created_at")?,
            decision_making_org: org,
        });
    }

    for r in rows(
        conn,
        "SELECT s.case_id AS case_id, s.possible_victim AS pv, s.created_at AS at, o.org_type AS org_type \
         FROM screenings s LEFT JOIN organisations o ON o.id = s.screened_by_org WHERE 1 = 1{f}",
        "s.case_id",
        ids,
    )
    .await?
    {
        let id: String = r.try_get("case_id")?;
        let Some(c) = recs.get_mut(&id) else { continue };
        c.screenings.push(ScreeningFact {
            on: day(r.try_get("at")?)?,
            possible_victim: r.try_get::<i64, _>("pv")? != 0,
            org_type: r
                .try_get::<Option<String>, _>("org_type")?
                .and_then(|t| OrgType::parse(&t).ok()),
        });
    }

    // Birth dates, for the age at the counting event: only the cases `birthdate_of` names.
    for r in rows(
        conn,
        "SELECT c.id AS id, c.identity AS identity, k.master_key_id AS kid, k.wrapped AS wrapped \
         FROM cases c JOIN case_keys k ON k.case_id = c.id \
         WHERE c.erased_at IS NULL AND c.identity IS NOT NULL{f}",
        "c.id",
        ids,
    )
    .await?
    {
        let id: String = r.try_get("id")?;
        let Some(c) = recs.get_mut(&id) else { continue };
        if !birthdate_of(c) {
            continue;
        }
        let ct: Vec<u8> = r.try_get("identity")?;
        let kid: String = r.try_get("kid")?;
        let wrapped: Vec<u8> = r.try_get("wrapped")?;
        let key = keys.unwrap_case_key(&kid, &wrapped)?;
        let plain = key.open(&field_aad("cases", "identity", &id, "case"), &ct)?;
        let identity: Identity =
            serde_json::from_slice(&plain).map_err(|e| StoreError::Data(e.to_string()))?;
        if let Some(b) = identity.birthdate.as_deref() {
            c.birthdate = parse_date("prs_Birthdate", b).ok();
        }
    }
    Ok(recs)
}

async fn load_chunk(
    conn: &mut AnyConnection,
    keys: &Keys,
    ids: Option<&[String]>,
    recs: &mut HashMap<String, Counted>,
) -> Result<()> {
    // Birth dates, for the age at the decision: only cases with a decision or screening.
    let core = load_core(conn, keys, ids, |c| {
        !c.decisions.is_empty() || !c.screenings.is_empty()
    })
    .await?;
    if core.is_empty() {
        return Ok(());
    }
    for (id, c) in core {
        let mut record = CaseRecord::new(PersonKey::new(c.person.clone()));
        record.gender = c.gender;
        record.age_when_trafficked = c.age_when_trafficked;
        record.citizenship = c.citizenship;
        record.forms = c.forms;
        record.decisions = c.decisions;
        record.screenings = c.screenings;
        record.birthdate = c.birthdate;
        recs.insert(
            id,
            Counted {
                person: c.person,
                record,
            },
        );
    }

    for r in rows(
        conn,
        "SELECT case_id, hte_country FROM trafficking_events WHERE hte_country IS NOT NULL{f}",
        "case_id",
        ids,
    )
    .await?
    {
        let id: String = r.try_get("case_id")?;
        if let Some(c) = recs.get_mut(&id) {
            c.record.event_countries.push(r.try_get("hte_country")?);
        }
    }

    for r in rows(
        conn,
        "SELECT s.case_id AS case_id, f.state_shelter AS state, s.admitted_on AS admitted, s.exited_on AS exited \
         FROM shelter_stays s JOIN shelter_facilities f ON f.id = s.facility_id WHERE 1 = 1{f}",
        "s.case_id",
        ids,
    )
    .await?
    {
        let id: String = r.try_get("case_id")?;
        let Some(c) = recs.get_mut(&id) else { continue };
        let admitted: String = r.try_get("admitted")?;
        let exited: Option<String> = r.try_get("exited")?;
        c.record.stays.push(StayFact {
            state_shelter: r.try_get::<i64, _>("state")? != 0,
            admitted_on: date("admitted_on", &admitted)?,
            exited_on: exited.map(|e| date("exited_on", &e)).transpose()?,
        });
    }

    for r in rows(
        conn,
        "SELECT case_id, service, started_on, ended_on FROM services_delivered WHERE 1 = 1{f}",
        "case_id",
        ids,
    )
    .await?
    {
        let id: String = r.try_get("case_id")?;
        let Some(c) = recs.get_mut(&id) else { continue };
        let service: String = r.try_get("service")?;
        let Some(service) = Service::ALL.iter().copied().find(|s| s.as_str() == service) else {
            continue;
        };
        let started: String = r.try_get("started_on")?;
        let ended: Option<String> = r.try_get("ended_on")?;
        c.record.services.push(ServiceFact {
            service,
            started_on: date("started_on", &started)?,
            ended_on: ended.map(|e| date("ended_on", &e)).transpose()?,
        });
    }

    for r in rows(
        conn,
        "SELECT case_id, amount_minor, updated_at FROM allowance_payments WHERE status = 'Paid'{f}",
        "case_id",
        ids,
    )
    .await?
    {
        let id: String = r.try_get("case_id")?;
        if let Some(c) = recs.get_mut(&id) {
            c.record.allowances.push(AllowanceFact {
                paid_on: day(r.try_get("updated_at")?)?,
                amount_minor: r.try_get("amount_minor")?,
            });
        }
    }

    for r in rows(
        conn,
        "SELECT case_id, created_at, responded_at FROM referrals WHERE 1 = 1{f}",
        "case_id",
        ids,
    )
    .await?
    {
        let id: String = r.try_get("case_id")?;
        if let Some(c) = recs.get_mut(&id) {
            c.record.referrals.push(ReferralFact {
                made_on: day(r.try_get("created_at")?)?,
                answered_on: r
                    .try_get::<Option<i64>, _>("responded_at")?
                    .map(day)
                    .transpose()?,
            });
        }
    }

    for r in rows(
        conn,
        "SELECT case_id, cooperation FROM case_legal WHERE 1 = 1{f}",
        "case_id",
        ids,
    )
    .await?
    {
        let id: String = r.try_get("case_id")?;
        if let Some(c) = recs.get_mut(&id) {
            c.record.cooperation = Cooperation::parse(&r.try_get::<String, _>("cooperation")?);
        }
    }

    Ok(())
}

/// A contribution as stored in `stat_person.cells`: `[[span, year, table, row, column, n], …]`.
fn encode(cells: &Cells) -> Result<String> {
    let v: Vec<(i64, i32, &str, &str, &str, i64)> = cells
        .iter()
        .map(|(k, n)| {
            (
                k.span.code(),
                k.year,
                k.table.as_str(),
                k.row.as_str(),
                k.column.as_str(),
                *n,
            )
        })
        .collect();
    serde_json::to_string(&v).map_err(|e| StoreError::Data(e.to_string()))
}

fn decode(text: &str) -> Result<Cells> {
    let v: Vec<(i64, i32, String, String, String, i64)> =
        serde_json::from_str(text).map_err(|e| StoreError::Data(e.to_string()))?;
    let mut out = Cells::new();
    for (span, year, table, row, column, n) in v {
        let span = Span::from_code(span)
            .ok_or_else(|| StoreError::Data("stat_person: unknown span".into()))?;
        out.insert(
            CellKey {
                span,
                year,
                table,
                row,
                column,
            },
            n,
        );
    }
    Ok(out)
}

/// The contributions of every person in `recs`.
fn contributions(recs: &HashMap<String, Counted>) -> BTreeMap<&str, Cells> {
    let mut people: BTreeMap<&str, Vec<&CaseRecord>> = BTreeMap::new();
    for c in recs.values() {
        people.entry(c.person.as_str()).or_default().push(&c.record);
    }
    let opts = ReportOptions::default();
    people
        .into_iter()
        .map(|(p, cases)| (p, person_contribution(&cases, &opts)))
        .collect()
}

/// Adds `delta` to `stat_cell` (and drops the cells that reach zero).
async fn apply(conn: &mut AnyConnection, delta: &Cells) -> Result<()> {
    for (k, n) in delta {
        sqlx::query(
            "INSERT INTO stat_cell (span, year, tbl, row_key, col_key, n) VALUES ($1, $2, $3, $4, $5, $6) \
             ON CONFLICT (span, year, tbl, row_key, col_key) DO UPDATE SET n = stat_cell.n + excluded.n",
        )
        .bind(k.span.code())
        .bind(i64::from(k.year))
        .bind(k.table.as_str())
        .bind(k.row.as_str())
        .bind(k.column.as_str())
        .bind(*n)
        .execute(&mut *conn)
        .await?;
    }
    if !delta.is_empty() {
        sqlx::query("DELETE FROM stat_cell WHERE n = 0")
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

/// Recounts the cases marked in `stat_dirty` (called by `WriteTx::commit`, inside the
/// transaction that marked them).
pub(crate) async fn refresh(conn: &mut AnyConnection, keys: &Keys) -> Result<()> {
    let dirty: Vec<String> = sqlx::query_scalar("SELECT case_id FROM stat_dirty")
        .fetch_all(&mut *conn)
        .await?;
    if dirty.is_empty() {
        return Ok(());
    }
    if dirty.len() > BULK {
        rebuild(conn, keys).await?;
        return Ok(());
    }
    let mut persons: BTreeSet<String> = BTreeSet::new();
    for chunk in dirty.chunks(CHUNK) {
        let ph = placeholders(1, chunk.len());
        let mut q = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT person FROM stat_case WHERE case_id IN ({ph})"
        )));
        for id in chunk {
            q = q.bind(id.as_str());
        }
        for r in q.fetch_all(&mut *conn).await? {
            persons.insert(r.try_get("person")?);
        }
        let mut q = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT c.id AS id, \
             (SELECT MIN(b.digest) FROM blind_index b WHERE b.case_id = c.id AND b.kind = 'name_dob') AS person \
             FROM cases c WHERE c.erased_at IS NULL AND c.id IN ({ph})"
        )));
        for id in chunk {
            q = q.bind(id.as_str());
        }
        let now: Vec<(String, String)> = q
            .fetch_all(&mut *conn)
            .await?
            .iter()
            .map(|r| {
                let id: String = r.try_get("id")?;
                let p = person_of(&id, r.try_get("person")?);
                Ok((id, p))
            })
            .collect::<Result<_>>()?;
        for sql in [
            "DELETE FROM stat_case WHERE case_id IN ({ph})",
            "DELETE FROM stat_dirty WHERE case_id IN ({ph})",
        ] {
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql.replace("{ph}", &ph)));
            for id in chunk {
                q = q.bind(id.as_str());
            }
            q.execute(&mut *conn).await?;
        }
        insert_cases(conn, &now).await?;
        persons.extend(now.into_iter().map(|(_, p)| p));
    }
    recount(conn, keys, persons.into_iter().collect()).await
}

async fn insert_cases(conn: &mut AnyConnection, pairs: &[(String, String)]) -> Result<()> {
    for chunk in pairs.chunks(CHUNK) {
        let values: Vec<String> = (0..chunk.len())
            .map(|i| format!("(${}, ${})", 2 * i + 1, 2 * i + 2))
            .collect();
        let mut q = sqlx::query(sqlx::AssertSqlSafe(format!(
            "INSERT INTO stat_case (case_id, person) VALUES {}",
            values.join(", ")
        )));
        for (c, p) in chunk {
            q = q.bind(c.as_str()).bind(p.as_str());
        }
        q.execute(&mut *conn).await?;
    }
    Ok(())
}

/// Replaces the contributions of `persons` (sorted) by their contributions now.
async fn recount(conn: &mut AnyConnection, keys: &Keys, persons: Vec<String>) -> Result<()> {
    let mut delta = Cells::new();
    for chunk in persons.chunks(CHUNK) {
        let ph = placeholders(1, chunk.len());
        // Take the persons' rows first (PostgreSQL: row locks, so that two transactions
        // recounting one person take turns and the second sees the first's result).
        let mut q = sqlx::query(sqlx::AssertSqlSafe(format!(
            "UPDATE stat_person SET cells = cells WHERE person IN ({ph})"
        )));
        for p in chunk {
            q = q.bind(p.as_str());
        }
        q.execute(&mut *conn).await?;
        let mut q = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT person, cells FROM stat_person WHERE person IN ({ph})"
        )));
        for p in chunk {
            q = q.bind(p.as_str());
        }
        let mut old: HashMap<String, Cells> = HashMap::new();
        for r in q.fetch_all(&mut *conn).await? {
            old.insert(
                r.try_get("person")?,
                decode(&r.try_get::<String, _>("cells")?)?,
            );
        }
        let mut q = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT case_id FROM stat_case WHERE person IN ({ph})"
        )));
        for p in chunk {
            q = q.bind(p.as_str());
        }
        let ids: Vec<String> = q
            .fetch_all(&mut *conn)
            .await?
            .iter()
            .map(|r| r.try_get("case_id"))
            .collect::<std::result::Result<_, _>>()?;
        let recs = load_records(conn, keys, Some(&ids)).await?;
        let new = contributions(&recs);
        for p in chunk {
            let before = old.get(p);
            let after = new.get(p.as_str()).filter(|c| !c.is_empty());
            if before == after {
                continue;
            }
            if let Some(b) = before {
                add_cells(&mut delta, b, -1);
            }
            match after {
                Some(a) => {
                    add_cells(&mut delta, a, 1);
                    sqlx::query(
                        "INSERT INTO stat_person (person, cells) VALUES ($1, $2) \
                         ON CONFLICT (person) DO UPDATE SET cells = excluded.cells",
                    )
                    .bind(p.as_str())
                    .bind(encode(a)?)
                    .execute(&mut *conn)
                    .await?;
                }
                None => {
                    sqlx::query("DELETE FROM stat_person WHERE person = $1")
                        .bind(p.as_str())
                        .execute(&mut *conn)
                        .await?;
                }
            }
        }
    }
    apply(conn, &delta).await
}

/// What [`rebuild`] counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RebuildInfo {
    pub cases: u64,
    pub persons: u64,
    pub cells: u64,
}

/// Recomputes every sum from the records (inside the caller's transaction).
pub(crate) async fn rebuild(conn: &mut AnyConnection, keys: &Keys) -> Result<RebuildInfo> {
    for t in ["stat_cell", "stat_person", "stat_case", "stat_dirty"] {
        sqlx::query(sqlx::AssertSqlSafe(format!("DELETE FROM {t}")))
            .execute(&mut *conn)
            .await?;
    }
    let recs = load_records(conn, keys, None).await?;
    let pairs: Vec<(String, String)> = recs
        .iter()
        .map(|(id, c)| (id.clone(), c.person.clone()))
        .collect();
    insert_cases(conn, &pairs).await?;
    let per_person = contributions(&recs);
    let mut total = Cells::new();
    let mut stored: Vec<(&str, String)> = Vec::new();
    for (p, cells) in &per_person {
        if cells.is_empty() {
            continue;
        }
        add_cells(&mut total, cells, 1);
        stored.push((p, encode(cells)?));
    }
    for chunk in stored.chunks(CHUNK) {
        let values: Vec<String> = (0..chunk.len())
            .map(|i| format!("(${}, ${})", 2 * i + 1, 2 * i + 2))
            .collect();
        let mut q = sqlx::query(sqlx::AssertSqlSafe(format!(
            "INSERT INTO stat_person (person, cells) VALUES {}",
            values.join(", ")
        )));
        for (p, c) in chunk {
            q = q.bind(*p).bind(c.as_str());
        }
        q.execute(&mut *conn).await?;
    }
    apply(conn, &total).await?;
    Ok(RebuildInfo {
        cases: recs.len() as u64,
        persons: per_person.len() as u64,
        cells: total.len() as u64,
    })
}

/// The sums as they are stored.
pub(crate) async fn stored_cells(conn: &mut AnyConnection) -> Result<Cells> {
    let mut out = Cells::new();
    for r in sqlx::query("SELECT span, year, tbl, row_key, col_key, n FROM stat_cell")
        .fetch_all(&mut *conn)
        .await?
    {
        let span = Span::from_code(r.try_get("span")?)
            .ok_or_else(|| StoreError::Data("stat_cell: unknown span".into()))?;
        let year = i32::try_from(r.try_get::<i64, _>("year")?)
            .map_err(|_| StoreError::Data("stat_cell: year out of range".into()))?;
        let n: i64 = r.try_get("n")?;
        if n != 0 {
            out.insert(
                CellKey {
                    span,
                    year,
                    table: r.try_get("tbl")?,
                    row: r.try_get("row_key")?,
                    column: r.try_get("col_key")?,
                },
                n,
            );
        }
    }
    Ok(out)
}

/// The sums recomputed from the records now (nothing written; for checks and benchmarks).
pub(crate) async fn recomputed_cells(conn: &mut AnyConnection, keys: &Keys) -> Result<Cells> {
    let recs = load_records(conn, keys, None).await?;
    let mut total = Cells::new();
    for cells in contributions(&recs).values() {
        add_cells(&mut total, cells, 1);
    }
    Ok(total)
}
