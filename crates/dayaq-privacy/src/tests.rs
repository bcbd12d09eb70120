use super::*;
use dayaq_domain::release::Majority;
use dayaq_domain::vocab::TypeOfExploitation;
use std::collections::BTreeSet;

fn rec(person: &str, year: i32, sex: Gender, age: i64) -> ReleaseRecord {
    ReleaseRecord {
        person: PersonKey::new(person),
        year,
        sex: Some(sex),
        age: Some(age),
        majority: Some(if age < 18 {
            Majority::Minor
        } else {
            Majority::Adult
        }),
        citizenship: vec!["AZ".into()],
        exploitation_countries: Vec::new(),
        forms: [TypeOfExploitation::SexualExploitation]
            .into_iter()
            .collect::<BTreeSet<_>>(),
        controls: BTreeSet::new(),
        relationship: None,
        standing: Standing::Identified,
    }
}

fn population() -> Vec<ReleaseRecord> {
    (0..200)
        .map(|i| {
            rec(
                &format!("p{i}"),
                2023 + (i % 2),
                if i % 3 == 0 {
                    Gender::Masculine
                } else {
                    Gender::Feminine
                },
                i64::from(10 + (i % 50)),
            )
        })
        .collect()
}

#[test]
fn a_huge_epsilon_gives_the_exact_counts() -> Result<(), ReleaseError> {
    let recs = population();
    let params = DpParams {
        epsilon: 1e7,
        years: (2023, 2024),
        tables: StandardTable::ALL.to_vec(),
    };
    let out = dp_tables(&recs, &params)?;
    assert_eq!(out.tables.len(), 4);
    for t in &out.tables {
        let exact = exact_counts(&recs, params.years, t.table);
        assert_eq!(exact.len(), t.cells.len());
        for (e, n) in exact.iter().zip(&t.cells) {
            assert_eq!((e.year, &e.values), (n.year, &n.values));
            assert!(
                (e.count - n.count).abs() <= 1,
                "{:?} {} {}",
                t.table,
                e.count,
                n.count
            );
        }
    }
    let status = exact_counts(&recs, params.years, StandardTable::YearStatus);
    assert_eq!(status.iter().map(|c| c.count).sum::<i64>(), 200);
    Ok(())
}

#[test]
fn one_person_counts_once_per_table() {
    let recs = vec![
        rec("a", 2023, Gender::Feminine, 30),
        rec("a", 2024, Gender::Feminine, 31),
    ];
    let c = exact_counts(&recs, (2023, 2024), StandardTable::YearSexAge);
    assert_eq!(c.iter().map(|c| c.count).sum::<i64>(), 1);
    assert!(c.iter().any(|c| c.year == 2024 && c.count == 1));
}

#[test]
fn the_parameters_are_printed_and_split() -> Result<(), ReleaseError> {
    let out = dp_tables(&population(), &DpParams::standard((2023, 2024)))?;
    for t in &out.tables {
        assert!((t.epsilon - 0.25).abs() < 1e-12);
        assert!((t.scale - f64::from(t.sensitivity) / 0.25).abs() < 1e-9);
        assert!(t.expected_abs_error > 0.0);
        assert!(t.cells.iter().all(|c| c.count >= 0));
    }
    let m = out.method();
    assert!(m.contains("discrete Laplace") && m.contains("year_sex_age"));
    let csv = out.to_csv();
    assert!(csv.starts_with("table,yearOfRegistration,"));
    // Every cell of the fixed domain is present, filled or not.
    let rows = csv.lines().count() - 1;
    let cells: usize = out.tables.iter().map(|t| t.cells.len()).sum();
    assert_eq!(rows, cells);
    Ok(())
}

#[test]
fn bad_parameters_are_refused_by_field() {
    let recs = population();
    let mut p = DpParams::standard((2023, 2024));
    p.epsilon = 0.0;
    assert_eq!(
        dp_tables(&recs, &p).err().map(|e| e.field()),
        Some("epsilon")
    );
    p.epsilon = f64::INFINITY;
    assert_eq!(
        dp_tables(&recs, &p).err().map(|e| e.field()),
        Some("epsilon")
    );
    let mut p = DpParams::standard((2025, 2024));
    assert_eq!(
        dp_tables(&recs, &p).err().map(|e| e.field()),
        Some("period")
    );
    p.years = (2023, 2024);
    p.tables.clear();
    assert_eq!(
        dp_tables(&recs, &p).err().map(|e| e.field()),
        Some("variables")
    );
    assert!(StandardTable::parse("year_names").is_err());
}

#[test]
fn expected_error_of_the_discrete_laplace() {
    // scale 1: q = e^-1, 2q/(1-q²) ≈ 0.8509
    assert!((expected_abs_error(1.0) - 0.8509).abs() < 1e-3);
    // Large scales approach the continuous Laplace's E|X| = scale.
    assert!((expected_abs_error(100.0) - 100.0).abs() < 0.1);
}
