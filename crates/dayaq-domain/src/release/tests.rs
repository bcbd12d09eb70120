use super::*;
use crate::statistics::{DecisionFact, ScreeningFact};
use crate::vocab::{DecisionMakingOrg, TraffickingStatus};
use proptest::prelude::*;
use std::collections::HashMap;
use time::macros::date;

#[test]
fn variables_parse_and_name_the_unknown_one() {
    for v in ReleaseVariable::ALL {
        assert_eq!(ReleaseVariable::parse(v.as_str()), Ok(*v));
    }
    let e = ReleaseVariable::parse("prs_Forename").err();
    assert_eq!(e.as_ref().map(ReleaseError::field), Some("variables"));
    assert!(
        e.map(|e| e.to_string())
            .unwrap_or_default()
            .contains("prs_Forename")
    );
    assert!(ReleaseVariable::parse_list::<&str>(&[]).is_err());
    assert!(ReleaseVariable::parse_list(&["prs_Gender", "prs_Gender"]).is_err());
}

#[test]
fn ctdc_age_groups() {
    let cases = [
        (0, "0--8"),
        (8, "0--8"),
        (9, "9--17"),
        (17, "9--17"),
        (18, "18--20"),
        (20, "18--20"),
        (21, "21--23"),
        (26, "24--26"),
        (29, "27--29"),
        (30, "30--38"),
        (38, "30--38"),
        (39, "39--47"),
        (47, "39--47"),
        (48, "48+"),
        (90, "48+"),
    ];
    for (age, label) in cases {
        assert_eq!(
            AgeBroad::of(age).map(AgeBroad::as_str),
            Some(label),
            "{age}"
        );
    }
    assert_eq!(AgeBroad::of(-1), None);
}

#[test]
fn countries_generalise_to_a_fixed_region() {
    assert_eq!(country_group("AZ"), "AZ");
    assert_eq!(country_group("PK"), "SouthernAsia");
    assert_eq!(country_group("BD"), "SouthernAsia");
    assert_eq!(country_group("DE"), "WesternEurope");
    assert_eq!(country_group("AQ"), "Other");
    assert_eq!(citizenship_group(&[]), None);
    assert_eq!(
        citizenship_group(&["AZ".into(), "RU".into()]),
        Some("Multiple")
    );
    assert_eq!(
        citizenship_group(&["PK".into(), "BD".into()]),
        Some("SouthernAsia")
    );
    // Every assigned code has a region.
    for c in crate::vocab::ISO3166_ALPHA2 {
        if !["AQ"].contains(c) {
            assert_ne!(region_of(c), "Other", "{c}");
        }
    }
}

#[test]
fn budget_rule() {
    assert!(check_budget(0.0, 1.0, 1.0).is_ok());
    assert!(check_budget(0.5, 0.5, 1.0).is_ok());
    let e = check_budget(0.75, 0.5, 1.0).err();
    assert_eq!(e.as_ref().map(ReleaseError::field), Some("budget"));
    assert_eq!(
        check_budget(0.0, 0.0, 1.0)
            .err()
            .as_ref()
            .map(ReleaseError::field),
        Some("epsilon")
    );
    assert!(check_budget(0.0, f64::NAN, 1.0).is_err());
    assert!(check_budget(f64::NAN, 0.1, 1.0).is_err());
}

#[test]
fn k_below_five_is_refused_and_an_empty_release_too() {
    let p = MicrodataParams {
        k: 4,
        variables: vec![ReleaseVariable::Gender],
    };
    assert_eq!(microdata(&[], &p).err().map(|e| e.field()), Some("k"));
    let p = MicrodataParams::default();
    assert_eq!(microdata(&[], &p).err().map(|e| e.field()), Some("period"));
}

#[test]
fn microdata_periods_are_whole_years() {
    assert!(microdata_period(date!(2023 - 01 - 01), date!(2024 - 12 - 31)).is_ok());
    assert!(microdata_period(date!(2023 - 01 - 02), date!(2024 - 12 - 31)).is_err());
    assert!(microdata_period(date!(2023 - 01 - 01), date!(2024 - 06 - 30)).is_err());
    assert!(microdata_period(date!(2025 - 01 - 01), date!(2024 - 12 - 31)).is_err());
}

fn decision(status: TraffickingStatus, on: time::Date, order: i64) -> DecisionFact {
    DecisionFact {
        status,
        decided_on: on,
        order,
        decision_making_org: DecisionMakingOrg::Police,
    }
}

fn screening(on: time::Date) -> ScreeningFact {
    ScreeningFact {
        on,
        possible_victim: true,
        org_type: None,
    }
}

#[test]
fn counting_rules_follow_the_national_report() {
    let mut a = ReleaseCase::new(PersonKey::new("a"));
    a.birthdate = Some(date!(2007 - 06 - 01));
    a.screenings.push(screening(date!(2023 - 03 - 01)));
    a.decisions.push(decision(
        TraffickingStatus::ActualVictimOfTrafficking,
        date!(2024 - 07 - 01),
        1,
    ));
    // A second case of the same person adds its forms.
    let mut a2 = ReleaseCase::new(PersonKey::new("a"));
    a2.forms.push(TypeOfExploitation::ForcedLabour);
    // b: identified, then reversed: never released.
    let mut b = ReleaseCase::new(PersonKey::new("b"));
    b.decisions.push(decision(
        TraffickingStatus::ActualVictimOfTrafficking,
        date!(2023 - 02 - 01),
        1,
    ));
    b.decisions.push(decision(
        TraffickingStatus::NotAVictimOfTrafficking,
        date!(2024 - 02 - 01),
        2,
    ));
    let recs =
        records(&[a, a2, b], date!(2023 - 01 - 01), date!(2024 - 12 - 31)).unwrap_or_default();
    assert_eq!(recs.len(), 2);
    let y23 = recs.iter().find(|r| r.year == 2023);
    let y24 = recs.iter().find(|r| r.year == 2024);
    assert_eq!(y23.map(|r| r.standing), Some(Standing::Presumed));
    assert_eq!(y23.and_then(|r| r.age), Some(15));
    assert_eq!(y23.and_then(|r| r.majority), Some(Majority::Minor));
    assert_eq!(y24.map(|r| r.standing), Some(Standing::Identified));
    assert_eq!(y24.and_then(|r| r.age), Some(17));
    assert!(y24.is_some_and(|r| r.forms.contains(&TypeOfExploitation::ForcedLabour)));
    assert!(records(&[], date!(2024 - 01 - 01), date!(2023 - 01 - 01)).is_err());
}

fn arb_record() -> impl Strategy<Value = ReleaseRecord> {
    (
        0u8..40,
        2020i32..2023,
        prop::option::of(0usize..3),
        prop::option::of(0i64..70),
        prop::sample::subsequence(vec!["AZ", "RU", "PK", "DE", "BD"], 0..3),
        prop::sample::subsequence(
            vec![
                TypeOfExploitation::ForcedLabour,
                TypeOfExploitation::SexualExploitation,
                TypeOfExploitation::ForcedBegging,
            ],
            0..3,
        ),
        any::<bool>(),
    )
        .prop_map(
            |(p, year, sex, age, cit, forms, identified)| ReleaseRecord {
                person: PersonKey::new(format!("p{p}")),
                year,
                sex: sex.map(|i| [Gender::Feminine, Gender::Masculine, Gender::NonConforming][i]),
                age,
                majority: age.map(|a| {
                    if a < 18 {
                        Majority::Minor
                    } else {
                        Majority::Adult
                    }
                }),
                citizenship: cit.into_iter().map(String::from).collect(),
                exploitation_countries: Vec::new(),
                forms: forms.into_iter().collect(),
                controls: BTreeSet::new(),
                relationship: None,
                standing: if identified {
                    Standing::Identified
                } else {
                    Standing::Presumed
                },
            },
        )
}

fn arb_variables() -> impl Strategy<Value = Vec<ReleaseVariable>> {
    prop::sample::subsequence(ReleaseVariable::ALL.to_vec(), 1..ReleaseVariable::ALL.len())
}

proptest! {
    /// Every combination of released values occurs at least k times, counted independently
    /// over the CSV text; released + suppressed = records; the year is always released.
    #[test]
    fn every_combination_occurs_at_least_k_times(
        recs in prop::collection::vec(arb_record(), 0..300),
        vars in arb_variables(),
        k in 5usize..15,
    ) {
        let p = MicrodataParams { k, variables: vars };
        match microdata(&recs, &p) {
            Ok(m) => {
                let csv = m.to_csv();
                let mut lines = csv.split("\r\n").filter(|l| !l.is_empty());
                let header = lines.next().unwrap_or_default();
                prop_assert!(header.starts_with("yearOfRegistration"));
                let mut counts: HashMap<&str, usize> = HashMap::new();
                let mut n = 0;
                for l in lines {
                    *counts.entry(l).or_default() += 1;
                    n += 1;
                }
                for (_, c) in counts {
                    prop_assert!(c >= k);
                }
                prop_assert_eq!(n + m.suppressed, recs.len());
                prop_assert!(n > 0);
            }
            Err(e) => prop_assert_eq!(e.field(), "period"),
        }
    }

    /// The budget rule never lets the total exceed the budget.
    #[test]
    fn budget_is_never_exceeded(spent in 0.0f64..10.0, req in 0.0f64..10.0, budget in 0.0f64..10.0) {
        if check_budget(spent, req, budget).is_ok() {
            prop_assert!(spent + req <= budget);
            prop_assert!(req > 0.0);
        }
    }

    /// The generalisation of a value never depends on the other records (the differencing
    /// rule): a record's released cells are the same alone and among others.
    #[test]
    fn generalisation_is_independent_of_the_data(
        r in arb_record(),
        others in prop::collection::vec(arb_record(), 0..50),
    ) {
        let vars = ReleaseVariable::ALL.to_vec();
        let p = MicrodataParams { k: 5, variables: vars };
        let alone: Vec<ReleaseRecord> = std::iter::repeat_n(r.clone(), 5).collect();
        let mut mixed = alone.clone();
        mixed.extend(others);
        let a = microdata(&alone, &p).map(|m| m.rows).unwrap_or_default();
        let b = microdata(&mixed, &p).map(|m| m.rows).unwrap_or_default();
        prop_assert_eq!(a.len(), 5);
        let first = a.first().cloned().unwrap_or_default();
        prop_assert!(b.contains(&first));
    }
}
