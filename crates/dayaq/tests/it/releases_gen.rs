//! Research releases (issue #16), the generators over a real store: the facts loader
//! (`Store::release_records`) on a synthetic population from `dayaq bench generate` plus
//! canary cases recorded through the storage layer, then k-anonymous microdata and
//! differentially private tables.
//!
//! - k is re-computed over every microdata CSV by an independent implementation: a plain
//!   `GROUP BY` in an in-memory SQLite database.
//! - Canary scan: no identity value of any source case (names, birth dates, phones, case
//!   numbers, comment text) occurs in any release output, and every cell of every output is
//!   a year, a count, a flag or a word of the release vocabulary.
//! - DP tables at a huge ε equal the exact counts ±1; the budget rule refuses an overrun.

use crate::kit::{
    self, assert_cli_ok, dayaq_cli_default_key, decide_identification, new_case, now, org_and_user,
};
use dayaq_domain::release::{
    AgeBroad, DEFAULT_VARIABLES, MicrodataParams, ReleaseRecord, ReleaseVariable, Standing,
    check_budget, country_values, microdata,
};
use dayaq_domain::vocab::{Gender, MethodOfControl, RelationshipToTrafficker, TypeOfExploitation};
use dayaq_privacy::{DpParams, NOT_RECORDED, StandardTable, dp_tables, exact_counts};
use dayaq_storage::Store;
use sqlx::{Connection, Row};
use std::collections::BTreeSet;
use time::{Date, Month};

const CANARIES: usize = 12;

struct Population {
    db: kit::TestDb,
    records: Vec<ReleaseRecord>,
    /// Identity values of source cases that must never appear in a release.
    secrets: Vec<String>,
    from: Date,
    to: Date,
}

/// A generated population of `cases` cases, plus CANARIES identified cases this year with
/// distinctive identities and the same released values (so that they survive k = 11).
async fn population(cases: &str) -> Population {
    let mut db = kit::test_db().await;
    db.store.close().await;
    let out = dayaq_cli_default_key(&db, &["bench", "generate", "--cases", cases, "--seed", "3"]);
    assert_cli_ok(&out);
    db.store = Store::open(&db.opts).await.expect("reopen the store");
    let (_, cw) = org_and_user(&db, "rg-a", "caseworker").await;
    let (_, pol) = org_and_user(&db, "rg-a", "police_officer").await;
    let mut secrets = Vec::new();
    for i in 0..CANARIES {
        let first = format!("Kanareyka{i}");
        let second = format!("Quşcuğazova{i}");
        let birth = format!("1991-04-{:02}", 10 + i);
        let phone = format!("+99455{:07}", 7_310_000 + i);
        let case = new_case(&db.store, &cw.actor(), [&first, &second, &birth, &phone]).await;
        decide_identification(
            &db.store,
            &pol.actor(),
            case.id,
            "ActualVictimOfTrafficking",
        )
        .await;
        secrets.extend([
            first.clone(),
            second,
            birth,
            phone,
            case.case_number,
            format!("Met {first} at the shelter intake."),
        ]);
    }
    let rows = sqlx::query("SELECT case_number FROM cases")
        .fetch_all(db.store.pool())
        .await
        .expect("case numbers");
    for r in rows {
        secrets.push(r.try_get::<String, _>("case_number").expect("case_number"));
    }
    let year = now().year();
    let from = Date::from_calendar_date(2018, Month::January, 1).expect("date");
    let to = Date::from_calendar_date(year, Month::December, 31).expect("date");
    let records = db
        .store
        .release_records(from, to)
        .await
        .expect("release records");
    Population {
        db,
        records,
        secrets,
        from,
        to,
    }
}

/// Every combination of values in a microdata CSV, counted by SQLite: the smallest count.
async fn smallest_class(csv: &str) -> i64 {
    let mut c = sqlx::SqliteConnection::connect("sqlite::memory:")
        .await
        .expect("in-memory SQLite");
    sqlx::query("CREATE TABLE release_rows (line TEXT NOT NULL)")
        .execute(&mut c)
        .await
        .expect("create");
    for line in csv.split("\r\n").skip(1).filter(|l| !l.is_empty()) {
        sqlx::query("INSERT INTO release_rows (line) VALUES (?)")
            .bind(line)
            .execute(&mut c)
            .await
            .expect("insert");
    }
    sqlx::query_scalar::<_, i64>(
        "SELECT COALESCE(MIN(n), 0) FROM (SELECT COUNT(*) AS n FROM release_rows GROUP BY line) AS g",
    )
    .fetch_one(&mut c)
    .await
    .expect("group by")
}

/// The words a release may contain besides numbers.
fn vocabulary() -> BTreeSet<String> {
    let mut v: BTreeSet<String> = BTreeSet::new();
    v.extend(Gender::ALL.iter().map(|x| x.as_str().to_string()));
    v.extend(
        TypeOfExploitation::ALL
            .iter()
            .map(|x| x.as_str().to_string()),
    );
    v.extend(MethodOfControl::ALL.iter().map(|x| x.as_str().to_string()));
    v.extend(
        RelationshipToTrafficker::ALL
            .iter()
            .map(|x| x.as_str().to_string()),
    );
    v.extend(Standing::ALL.iter().map(|x| x.as_str().to_string()));
    v.extend(AgeBroad::ALL.iter().map(|x| x.as_str().to_string()));
    v.extend(country_values().into_iter().map(String::from));
    v.extend(StandardTable::ALL.iter().map(|t| t.as_str().to_string()));
    v.extend(["Minor", "Adult", NOT_RECORDED, ""].map(String::from));
    v
}

fn scan(what: &str, text: &str, secrets: &[String], vocab: &BTreeSet<String>) {
    for s in secrets {
        assert!(!text.contains(s.as_str()), "{what} holds an identity value");
    }
    for line in text.lines().skip(1) {
        for cell in line.split(',') {
            assert!(
                cell.bytes().all(|b| b.is_ascii_digit()) || vocab.contains(cell),
                "{what}: a cell outside the release vocabulary"
            );
        }
    }
}

#[tokio::test]
async fn releases_gen_microdata_is_k_anonymous_and_holds_no_identity() {
    let p = population("600").await;
    assert!(p.records.len() > 100, "{} records", p.records.len());
    // The canaries are counted once each, identified this year.
    let this_year = p
        .records
        .iter()
        .filter(|r| r.year == now().year() && r.standing == Standing::Identified)
        .count();
    assert!(this_year >= CANARIES);
    let vocab = vocabulary();
    let mut outputs = Vec::new();
    for k in [5, 11, 20] {
        for variables in [
            DEFAULT_VARIABLES.to_vec(),
            ReleaseVariable::ALL.to_vec(),
            vec![ReleaseVariable::Gender, ReleaseVariable::AgeBroad],
        ] {
            // A small population may leave nothing at a large k with many variables: that is
            // the refusal naming the period, never a release below k.
            let m = match microdata(&p.records, &MicrodataParams { k, variables }) {
                Ok(m) => m,
                Err(e) => {
                    assert_eq!(e.field(), "period", "{e}");
                    continue;
                }
            };
            let csv = m.to_csv();
            assert!(smallest_class(&csv).await >= k as i64, "k = {k}");
            assert_eq!(m.rows.len() + m.suppressed, p.records.len());
            assert_eq!(csv.lines().count() - 1, m.rows.len());
            assert_eq!(
                m.columns.first().map(String::as_str),
                Some("yearOfRegistration")
            );
            outputs.push((format!("microdata k={k}"), csv));
        }
    }
    // The canaries share their released values: with gender and age group only, they are
    // released at k = 11.
    let m = microdata(
        &p.records,
        &MicrodataParams {
            k: 11,
            variables: vec![ReleaseVariable::Gender, ReleaseVariable::AgeBroad],
        },
    )
    .expect("microdata");
    assert!(m.rows.len() >= CANARIES);
    // k below 5 is refused, naming k.
    let e = microdata(
        &p.records,
        &MicrodataParams {
            k: 4,
            variables: DEFAULT_VARIABLES.to_vec(),
        },
    )
    .expect_err("k = 4 is refused");
    assert_eq!(e.field(), "k");

    let dp = dp_tables(
        &p.records,
        &DpParams::standard((p.from.year(), p.to.year())),
    )
    .expect("dp tables");
    outputs.push(("dp tables".into(), dp.to_csv()));
    outputs.push(("dp method".into(), dp.method()));
    for (what, text) in &outputs {
        if what == "dp method" {
            for s in &p.secrets {
                assert!(!text.contains(s.as_str()), "{what} holds an identity value");
            }
        } else {
            scan(what, text, &p.secrets, &vocab);
        }
    }
    p.db.cleanup().await;
}

#[tokio::test]
async fn releases_gen_dp_tables_at_a_huge_epsilon_are_exact_and_the_budget_holds() {
    let p = population("300").await;
    let years = (p.from.year(), p.to.year());
    let params = DpParams {
        epsilon: 1e7,
        years,
        tables: StandardTable::ALL.to_vec(),
    };
    let dp = dp_tables(&p.records, &params).expect("dp tables");
    for t in &dp.tables {
        let exact = exact_counts(&p.records, years, t.table);
        assert_eq!(exact.len(), t.cells.len());
        for (e, n) in exact.iter().zip(&t.cells) {
            assert_eq!((e.year, &e.values), (n.year, &n.values));
            assert!((e.count - n.count).abs() <= 1, "{}", t.table.as_str());
        }
    }
    // Every person counted once in the status table.
    let persons: BTreeSet<_> = p.records.iter().map(|r| &r.person).collect();
    let status = exact_counts(&p.records, years, StandardTable::YearStatus);
    assert_eq!(
        status.iter().map(|c| c.count).sum::<i64>(),
        persons.len() as i64
    );
    // The budget: 1.0 per period; two releases of 0.5 fit, a third is refused by name.
    let budget = 1.0;
    let mut spent = 0.0;
    for _ in 0..2 {
        check_budget(spent, 0.5, budget).expect("within the budget");
        spent += 0.5;
    }
    let e = check_budget(spent, 0.5, budget).expect_err("over the budget");
    assert_eq!(e.field(), "budget");
    // A period whose first day comes after its last is refused, naming the period.
    let e =
        p.db.store
            .release_records(p.to, p.from)
            .await
            .expect_err("refused");
    assert!(e.to_string().contains("invalid input"), "{e}");
    p.db.cleanup().await;
}
