//! Disclosure control of the public national report (issue #15 §4): a small year entered
//! through the API, the public variant (JSON and CSV) audited by linear programming — no hidden
//! cell may be recomputed or narrowed below the protection interval [1, k] from the published
//! cells and totals — and the internal variant still exact.

use crate::kit::{api_call, now, org_and_user, spawn_app, user_token};
use crate::statistics::{case, decide, screen};
use dayaq_domain::statistics::{Grid, GridRow, audit_report};
use serde_json::{Value, json};

type Cell = dayaq_domain::statistics::Cell;

/// The count cells of one table of a report body (`trend` included), as the audit reads them.
fn grid_of(t: &Value) -> Grid {
    let cols: Vec<(usize, String)> = t["columns"]
        .as_array()
        .unwrap()
        .iter()
        .enumerate()
        .filter(|(_, c)| c["kind"] == "count")
        .map(|(i, c)| (i, c["key"].as_str().unwrap().to_string()))
        .collect();
    Grid {
        id: t["id"].as_str().unwrap().to_string(),
        columns: cols.iter().map(|(_, k)| k.clone()).collect(),
        rows: t["rows"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| GridRow {
                key: r["key"].as_str().unwrap().to_string(),
                cells: cols
                    .iter()
                    .map(|(i, _)| {
                        let c = &r["cells"][*i];
                        if c["suppressed"] == true {
                            assert!(c["value"].is_null(), "a suppressed cell has a value");
                            Cell::Suppressed
                        } else {
                            Cell::Value(c["value"].as_i64().unwrap())
                        }
                    })
                    .collect(),
            })
            .collect(),
    }
}

fn grids_of(body: &Value) -> Vec<Grid> {
    body["tables"]
        .as_array()
        .unwrap()
        .iter()
        .chain(std::iter::once(&body["trend"]))
        .filter(|t| t["not_recorded"].is_null())
        .map(grid_of)
        .collect()
}

/// The report's CSV (`year, variant, k, table, unit, row, column, value, note`) as grids laid
/// out like `like` (the JSON's tables); `x` is a hidden cell.
fn grids_of_csv(csv: &str, like: &[Grid]) -> Vec<Grid> {
    let mut out: Vec<Grid> = like
        .iter()
        .map(|g| Grid {
            id: g.id.clone(),
            columns: g.columns.clone(),
            rows: g
                .rows
                .iter()
                .map(|r| GridRow {
                    key: r.key.clone(),
                    cells: vec![Cell::Value(-1); g.columns.len()],
                })
                .collect(),
        })
        .collect();
    let mut rdr = csv::Reader::from_reader(csv.as_bytes());
    for rec in rdr.records() {
        let rec = rec.unwrap();
        let (table, row, col, value) = (&rec[3], &rec[5], &rec[6], &rec[7]);
        let Some(g) = out.iter_mut().find(|g| g.id == table) else {
            continue;
        };
        let Some(c) = g.columns.iter().position(|x| x == col) else {
            continue;
        };
        let r = g
            .rows
            .iter_mut()
            .find(|r| r.key == row)
            .unwrap_or_else(|| panic!("CSV row {table}/{row} not in the JSON"));
        r.cells[c] = if value == dayaq_domain::statistics::SUPPRESSED_MARK {
            Cell::Suppressed
        } else {
            Cell::Value(value.parse().unwrap())
        };
    }
    for g in &out {
        for r in &g.rows {
            assert!(
                !r.cells.contains(&Cell::Value(-1)),
                "{}/{} missing from the CSV",
                g.id,
                r.key
            );
        }
    }
    out
}

/// Primary suppression only (what the public variant did before complementary suppression).
fn primary_only(exact: &[Grid], k: i64) -> Vec<Grid> {
    exact
        .iter()
        .map(|g| Grid {
            rows: g
                .rows
                .iter()
                .map(|r| GridRow {
                    key: r.key.clone(),
                    cells: r
                        .cells
                        .iter()
                        .map(|c| match c {
                            Cell::Value(v) if *v > 0 && *v < k => Cell::Suppressed,
                            other => *other,
                        })
                        .collect(),
                })
                .collect(),
            ..g.clone()
        })
        .collect()
}

fn value(grids: &[Grid], table: &str, row: &str, col: &str) -> Option<Cell> {
    let g = grids.iter().find(|g| g.id == table)?;
    let c = g.columns.iter().position(|x| x == col)?;
    g.rows.iter().find(|r| r.key == row)?.cells.get(c).copied()
}

#[tokio::test]
async fn sdc_public_report_hides_no_recomputable_cell() {
    let app = spawn_app().await;
    let db = &app.db;
    let (_, cw_a) = org_and_user(db, "sdc-a", "caseworker").await;
    let (_, pol_a) = org_and_user(db, "sdc-a", "police_officer").await;
    let (_, coord) = org_and_user(db, "sdc-nrm", "national_coordinator").await;
    let cw = user_token(db, &cw_a).await;
    let pol = user_token(db, &pol_a).await;
    let coordinator = user_token(db, &coord).await;
    let y = now().date().year();
    let jan1 = format!("{y}-01-01");
    let child = format!("{}-06-01", y - 10);

    // 7 adult women, 2 girls, 3 adult men identified; 6 adult men presumed.
    let groups: [(usize, &str, &str, Value, bool); 4] = [
        (
            7,
            "Feminine",
            "1990-01-01",
            json!(["SexualExploitation"]),
            true,
        ),
        (
            2,
            "Feminine",
            child.as_str(),
            json!(["SexualExploitation", "ForcedLabour"]),
            true,
        ),
        (3, "Masculine", "1985-01-01", json!(["ForcedLabour"]), true),
        (6, "Masculine", "1980-01-01", json!(["ForcedLabour"]), false),
    ];
    let mut i = 0;
    for (n, sex, born, forms, identified) in groups {
        for _ in 0..n {
            i += 1;
            let id = case(
                &app,
                &cw,
                json!({"prs_FirstName": format!("Sdc{i}"), "prs_SecondName": "Person",
                       "prs_Birthdate": born, "prs_Gender": sex, "prs_Citizenship": ["AZ"],
                       "vic_TypeOfExploitation": forms}),
            )
            .await;
            screen(&app, &cw, &id, true).await;
            if identified {
                decide(
                    &app,
                    &pol,
                    &id,
                    "ActualVictimOfTrafficking",
                    "Police",
                    &jan1,
                )
                .await;
            }
        }
    }

    let report = |q: String| {
        let (app, t) = (&app, coordinator.clone());
        async move {
            let (s, v) = api_call(
                app,
                &t,
                "GET",
                &format!("/statistics/national?{q}"),
                Value::Null,
            )
            .await;
            assert_eq!(s, 200, "{v}");
            v
        }
    };
    let k = 5;
    let internal = grids_of(&report(format!("year={y}")).await);
    let public = grids_of(&report(format!("year={y}&variant=public&k={k}")).await);

    // The internal variant is exact.
    let v = |t, r, c| value(&internal, t, r, c);
    assert_eq!(
        v("headline", "identified", "persons"),
        Some(Cell::Value(12))
    );
    assert_eq!(v("headline", "presumed", "persons"), Some(Cell::Value(6)));
    assert_eq!(
        v("by_sex_age", "Feminine", "identified_child"),
        Some(Cell::Value(2))
    );
    assert_eq!(
        v("by_sex_age", "Feminine", "identified_adult"),
        Some(Cell::Value(7))
    );
    assert_eq!(
        v("by_form", "ForcedLabour", "identified"),
        Some(Cell::Value(5))
    );

    // Primary suppression alone would let a reader recompute the girls (9 − 7).
    let exposed = audit_report(&internal, &primary_only(&internal, k), y, k);
    assert!(
        exposed
            .iter()
            .any(|e| e.table == "by_sex_age" && e.row == "Feminine"),
        "primary-only output passed the audit: {exposed:?}"
    );

    // The public variant passes the LP audit; small cells are hidden, and so is at least one
    // cell of 5 or more (a complementary suppression); large figures stay published.
    let exposed = audit_report(&internal, &public, y, k);
    assert!(exposed.is_empty(), "disclosive public report: {exposed:?}");
    let p = |t, r, c| value(&public, t, r, c);
    assert_eq!(
        p("by_sex_age", "Feminine", "identified_child"),
        Some(Cell::Suppressed)
    );
    assert_eq!(
        p("headline", "identified", "persons"),
        Some(Cell::Value(12))
    );
    let secondary = internal.iter().zip(&public).any(|(e, pb)| {
        e.rows.iter().zip(&pb.rows).any(|(er, pr)| {
            er.cells
                .iter()
                .zip(&pr.cells)
                .any(|(ec, pc)| *pc == Cell::Suppressed && ec.value().unwrap_or(0) >= k)
        })
    });
    assert!(secondary, "no complementary suppression");

    // The public CSV publishes the same cells and passes the same audit.
    let client = crate::kit::local_client().build().expect("http client");
    let csv = |q: String| {
        let c = client.clone();
        let url = format!("{}/api/v1/statistics/national/export?{q}", app.base_url);
        let t = coordinator.clone();
        async move {
            let r = c.get(url).bearer_auth(t).send().await.unwrap();
            assert_eq!(r.status(), 200);
            r.text().await.unwrap()
        }
    };
    let public_csv = grids_of_csv(
        &csv(format!("year={y}&variant=public&k={k}&format=csv")).await,
        &internal,
    );
    assert_eq!(public_csv, public, "CSV and JSON publish different cells");
    assert!(audit_report(&internal, &public_csv, y, k).is_empty());
    let internal_csv = grids_of_csv(&csv(format!("year={y}&format=csv")).await, &internal);
    assert_eq!(internal_csv, internal, "the internal CSV is not exact");
}

/// The LP audit of a published questionnaire summary against the exact one (the same
/// assessments): a reader knows that a single-choice question's answers add up to at most the
/// number of assessments, and that a multi-choice answer is at most it.
pub(crate) fn assert_summary_protected(
    exact: &dayaq_storage::followup::Summary,
    published: &dayaq_storage::followup::Summary,
) {
    use dayaq_domain::followup::{QuestionKind, question};
    use dayaq_domain::statistics::sdc::{Constraint, audit};
    use dayaq_domain::stats::{Cell as S, MIN_CELL};
    let n = |c: S| match c {
        S::Count(n) => n,
        S::Suppressed(_) => panic!("the exact summary hides a cell"),
    };
    let values: Vec<i64> = std::iter::once(n(exact.assessments))
        .chain(exact.rows.iter().map(|r| n(r.count)))
        .collect();
    let cells: Vec<S> = std::iter::once(published.assessments)
        .chain(published.rows.iter().map(|r| r.count))
        .collect();
    let hidden: Vec<bool> = cells
        .iter()
        .zip(&values)
        .map(|(c, v)| match c {
            S::Count(p) => {
                assert_eq!(p, v, "a published count differs from the exact one");
                false
            }
            S::Suppressed(_) => true,
        })
        .collect();
    let mut constraints = Vec::new();
    let mut by_question: std::collections::BTreeMap<&str, Vec<usize>> = Default::default();
    for (i, r) in exact.rows.iter().enumerate() {
        by_question
            .entry(r.question.as_str())
            .or_default()
            .push(i + 1);
    }
    for (q, parts) in by_question {
        match question(q).map(|q| q.kind) {
            Some(QuestionKind::Single { .. }) => {
                constraints.push(Constraint::Within { total: 0, parts })
            }
            _ => constraints.extend(
                parts
                    .into_iter()
                    .map(|cell| Constraint::AtMost { cell, bound: 0 }),
            ),
        }
    }
    let exposed = audit(&values, &hidden, &constraints, MIN_CELL);
    assert!(exposed.is_empty(), "disclosive summary: {exposed:?}");
    // Primary suppression alone would not pass.
    let primary: Vec<bool> = values
        .iter()
        .map(|v| dayaq_domain::statistics::sdc::sensitive(*v, MIN_CELL))
        .collect();
    assert!(
        !audit(&values, &primary, &constraints, MIN_CELL).is_empty(),
        "the fixture does not exercise complementary suppression"
    );
}

#[tokio::test]
async fn sdc_home_card_hides_no_recomputable_cell() {
    use dayaq_domain::statistics::sdc::{Constraint, audit, sensitive};
    use dayaq_domain::stats::{Cell as S, MIN_CELL};
    let app = spawn_app().await;
    let db = &app.db;
    let (_, cw_a) = org_and_user(db, "sdc-h", "caseworker").await;
    let (_, coord) = org_and_user(db, "sdc-hn", "national_coordinator").await;
    let cw = user_token(db, &cw_a).await;
    // 12 women and 3 men: the total 15 minus 12 would tell the hidden 3.
    for i in 0..15 {
        let sex = if i < 12 { "Feminine" } else { "Masculine" };
        case(
            &app,
            &cw,
            json!({"prs_FirstName": format!("Home{i}"), "prs_SecondName": "Card",
                   "prs_Birthdate": "1991-02-02", "prs_Gender": sex}),
        )
        .await;
    }
    let o = db.store.national_overview(&coord.actor()).await.unwrap();
    assert_eq!(o.total, S::Count(15));
    let sex = |k: &str| o.by_gender.iter().find(|(g, _)| g == k).unwrap().1;
    assert!(matches!(sex("Masculine"), S::Suppressed(_)));
    assert!(
        matches!(sex("Feminine"), S::Suppressed(_)),
        "the complement of the hidden 3 is published"
    );
    // The LP audit over the card: every breakdown adds up to the total.
    let exact = |k: &str| if k == "Feminine" { 12 } else { 3 };
    let mut values = vec![15];
    let mut hidden = vec![false];
    let mut constraints = Vec::new();
    for (g, group) in [&o.by_status, &o.by_gender, &o.by_trafficking_status]
        .into_iter()
        .enumerate()
    {
        let start = values.len();
        for (key, c) in group {
            let v = match (g, c) {
                (_, S::Count(n)) => *n,
                (1, S::Suppressed(_)) => exact(key),
                _ => panic!("{key}: only the sexes are small here"),
            };
            values.push(v);
            hidden.push(matches!(c, S::Suppressed(_)));
        }
        constraints.push(Constraint::Sum {
            total: 0,
            parts: (start..values.len()).collect(),
        });
    }
    assert_eq!(audit(&values, &hidden, &constraints, MIN_CELL), vec![]);
    let primary: Vec<bool> = values.iter().map(|v| sensitive(*v, MIN_CELL)).collect();
    assert!(!audit(&values, &primary, &constraints, MIN_CELL).is_empty());
}
