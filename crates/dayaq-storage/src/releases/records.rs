//! The facts of a research release (issue #16): one [`ReleaseRecord`] per person and year of
//! a period, read from the cases that are not erased and counted by the domain
//! (`dayaq_domain::release::records`, the national report's counting rules).
//!
//! **Streamed by person.** The maintained statistics (#15 §6, migration 0017) already know
//! which person every case belongs to (`stat_case`, the keyed blind-index digest of name +
//! birth date, else the case id), so the persons are read in pages in the order of that key
//! (keyset pagination on `stat_case_person`), each page with every case of its persons, and
//! the page's records are handed to the caller before the next page is read: memory holds
//! one page, never the population. A page's facts are read with one query per table
//! (`aggregates::load_core`, the loader the national statistics use, plus the two
//! release-only reads below), never one query per case.
//!
//! Only what a release can show is read: gender, `vic_AgeWhenTrafficked`, citizenship, forms
//! of exploitation, means of control, relationship to the trafficker (plain `case_values`),
//! the countries of events of type `Exploitation`, decisions and screenings. The only
//! decryption is the identity of a case with a decision or screening in the period, for its
//! birth date (in the page's one joined query), and only the age at the counting event leaves
//! this module. The person key never leaves the server.

use crate::aggregates::{Core, load_core};
use crate::{Result, Store, StoreError};
use dayaq_domain::release::{ReleaseCase, ReleaseRecord, records};
use dayaq_domain::statistics::PersonKey;
use dayaq_domain::vocab::{MethodOfControl, RelationshipToTrafficker};
use dayaq_domain::{FieldError, ValidationErrors};
use sqlx::{AnyConnection, Row};
use std::collections::HashMap;
use time::Date;

/// The record type of a release, for callers of [`Store::release_records`].
pub use dayaq_domain::release::ReleaseRecord as Record;

/// Cases per page (one `IN (…)` list per table; below every engine's bind limit).
const PAGE: usize = 1000;

fn invalid(field: &str, message: String) -> StoreError {
    StoreError::Invalid(ValidationErrors::single(FieldError::new(
        field,
        "invalid_release",
        message,
    )))
}

/// `$1, …, $n`.
fn placeholders(n: usize) -> String {
    (1..=n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The next page of `(case id, person)` after person `after`, in person order, holding
/// every case of each of its persons (a person cut by the page limit is left for the next
/// page, unless she/he is alone in it: then all her/his cases are read).
async fn next_page(conn: &mut AnyConnection, after: &str) -> Result<Vec<(String, String)>> {
    let limit = i64::try_from(PAGE).unwrap_or(1000);
    let mut page: Vec<(String, String)> = sqlx::query(
        "SELECT case_id, person FROM stat_case WHERE person > $1 ORDER BY person, case_id LIMIT $2",
    )
    .bind(after)
    .bind(limit)
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .map(|r| Ok((r.try_get("case_id")?, r.try_get("person")?)))
    .collect::<Result<_>>()?;
    if page.len() < PAGE {
        return Ok(page);
    }
    let last = page.last().map(|(_, p)| p.clone()).unwrap_or_default();
    if page.first().is_some_and(|(_, p)| *p == last) {
        // One person with a page of cases or more.
        return sqlx::query("SELECT case_id FROM stat_case WHERE person = $1 ORDER BY case_id")
            .bind(&last)
            .fetch_all(&mut *conn)
            .await?
            .iter()
            .map(|r| Ok((r.try_get("case_id")?, last.clone())))
            .collect();
    }
    page.retain(|(_, p)| *p != last);
    Ok(page)
}

/// The release-only facts of `ids`: means of control, relationship to the trafficker,
/// countries of events of type `Exploitation`.
async fn release_extras(
    conn: &mut AnyConnection,
    ids: &[String],
    cases: &mut HashMap<String, ReleaseCase>,
) -> Result<()> {
    let ph = placeholders(ids.len());
    let mut q = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT case_id, field, value FROM case_values WHERE field IN \
         ('vic_MethodsOfControl', 'vic_RelationshipToTrafficker') AND case_id IN ({ph})"
    )));
    for id in ids {
        q = q.bind(id.as_str());
    }
    for r in q.fetch_all(&mut *conn).await? {
        let id: String = r.try_get("case_id")?;
        let Some(c) = cases.get_mut(&id) else {
            continue;
        };
        let field: String = r.try_get("field")?;
        let value: String = r.try_get("value")?;
        if field == "vic_MethodsOfControl" {
            c.controls.extend(MethodOfControl::parse(&value).ok());
        } else {
            c.relationship = RelationshipToTrafficker::parse(&value).ok();
        }
    }
    let mut q = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT case_id, hte_country FROM trafficking_events \
         WHERE hte_type = 'Exploitation' AND hte_country IS NOT NULL AND case_id IN ({ph})"
    )));
    for id in ids {
        q = q.bind(id.as_str());
    }
    for r in q.fetch_all(&mut *conn).await? {
        let id: String = r.try_get("case_id")?;
        if let Some(c) = cases.get_mut(&id) {
            c.exploitation_countries.push(r.try_get("hte_country")?);
        }
    }
    Ok(())
}

fn release_case(c: Core) -> ReleaseCase {
    let mut r = ReleaseCase::new(PersonKey::new(c.person));
    r.gender = c.gender;
    r.age_when_trafficked = c.age_when_trafficked;
    r.citizenship = c.citizenship;
    r.forms = c.forms;
    r.decisions = c.decisions;
    r.screenings = c.screenings;
    r.birthdate = c.birthdate;
    r
}

impl Store {
    /// The records of the persons identified or presumed in `from..=to` (both days
    /// included), one per person and year, all in memory: for tests and small stores. The
    /// release workflow streams them ([`Store::for_each_release_page`]).
    ///
    /// **Does not check the access policy and does not audit**: the caller must have done
    /// so. It never returns a name, a date, a case number or free text. A period whose first
    /// day comes after its last is refused (422 on `period`).
    pub async fn release_records(&self, from: Date, to: Date) -> Result<Vec<ReleaseRecord>> {
        let mut all = Vec::new();
        self.for_each_release_page(from, to, |page| {
            all.extend(page);
            Ok(())
        })
        .await?;
        Ok(all)
    }

    /// Hands the records of `from..=to` to `sink`, one page of persons at a time: every
    /// record of a person is in the same page, next to each other. Returns the number of
    /// records. Counts the pending writes into the maintained statistics first (their
    /// person keys are the pages' order).
    ///
    /// **Does not check the access policy and does not audit**: the caller (the release
    /// workflow, which authorises the release actions and audits the generation, or the
    /// benchmark) must have done so. A period whose first day comes after its last is
    /// refused (422 on `period`).
    pub async fn for_each_release_page<F>(&self, from: Date, to: Date, mut sink: F) -> Result<u64>
    where
        F: FnMut(Vec<ReleaseRecord>) -> Result<()>,
    {
        if from > to {
            return Err(invalid(
                "period",
                dayaq_domain::release::ReleaseError::Period(
                    "the first day comes after the last day".into(),
                )
                .to_string(),
            ));
        }
        self.refresh_statistics().await?;
        let mut conn = self.pool.acquire().await?;
        let mut after = String::new();
        let mut total = 0u64;
        loop {
            let page = next_page(&mut conn, &after).await?;
            let Some((_, last)) = page.last() else {
                break;
            };
            after = last.clone();
            let ids: Vec<String> = page.into_iter().map(|(id, _)| id).collect();
            let core = load_core(&mut conn, &self.keys, Some(&ids), |c| {
                c.decisions
                    .iter()
                    .any(|d| (from..=to).contains(&d.decided_on))
                    || c.screenings.iter().any(|s| (from..=to).contains(&s.on))
            })
            .await?;
            let mut cases: HashMap<String, ReleaseCase> = core
                .into_iter()
                .map(|(id, c)| (id, release_case(c)))
                .collect();
            release_extras(&mut conn, &ids, &mut cases).await?;
            let cases: Vec<ReleaseCase> = cases.into_values().collect();
            let recs = records(&cases, from, to).map_err(|e| invalid(e.field(), e.to_string()))?;
            total += recs.len() as u64;
            sink(recs)?;
        }
        Ok(total)
    }
}
