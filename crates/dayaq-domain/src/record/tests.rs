//! Unit and property tests of the case record rules.

use super::*;
use proptest::prelude::*;
use time::macros::date;

const TODAY: Date = date!(2026 - 11 - 22);

fn fields(e: ValidationErrors) -> Vec<(String, &'static str)> {
    e.errors.into_iter().map(|e| (e.field, e.code)).collect()
}

fn event(kind: &str) -> EventInput {
    EventInput {
        kind: kind.into(),
        ..Default::default()
    }
}

#[test]
fn event_validates_and_seals_the_sensitive_parts() {
    let e = EventInput {
        kind: "Exploitation".into(),
        country: Some("TR".into()),
        city: Some(" Istanbul ".into()),
        street: Some("Some street 5".into()),
        date: Some("2025-03-01".into()),
        description: Some("Worked 16 hours a day".into()),
        latitude: Some(41.0),
        longitude: Some(28.9),
        ..Default::default()
    }
    .validate(TODAY)
    .unwrap();
    assert_eq!(e.kind, EventType::Exploitation);
    assert_eq!(e.city.as_deref(), Some("Istanbul"));
    assert_eq!(e.sealed.street.as_deref(), Some("Some street 5"));
    assert_eq!(e.sealed.latitude, Some(41.0));
    assert_eq!(e.date, Some(date!(2025 - 03 - 01)));
}

#[test]
fn event_errors_name_their_fields() {
    let e = EventInput {
        kind: "Transport".into(),
        country: Some("az".into()),
        date: Some("2030-01-01".into()),
        latitude: Some(91.0),
        ..Default::default()
    }
    .validate(TODAY)
    .unwrap_err();
    let f = fields(e);
    assert!(f.contains(&("hte_Type".into(), "invalid_value")));
    assert!(f.contains(&("hte_Country".into(), "invalid_country")));
    assert!(f.contains(&("hte_Date".into(), "in_future")));
    assert!(f.contains(&("hte_Latitude".into(), "out_of_range")));
    assert!(f.contains(&("hte_Longitude".into(), "required_with_latitude")));
    assert_eq!(
        fields(event("").validate(TODAY).unwrap_err()),
        vec![("hte_Type".into(), "required")]
    );
    let old = EventInput {
        date: Some("1899-12-31".into()),
        ..event("Transit")
    };
    assert_eq!(
        fields(old.validate(TODAY).unwrap_err()),
        vec![("hte_Date".into(), "too_early")]
    );
}

#[test]
fn error_messages_never_repeat_the_value() {
    let e = EventInput {
        kind: "SecretPlace".into(),
        ..Default::default()
    }
    .validate(TODAY)
    .unwrap_err();
    assert!(!e.errors[0].message.contains("SecretPlace"));
}

fn view(id: u128, date: Option<&str>, kind: EventType, entered: i64) -> EventView {
    EventView {
        id: uuid::Uuid::from_u128(id),
        kind,
        country: None,
        city: None,
        state: None,
        date: date.map(str::to_string),
        sealed: EventSealed::default(),
        created_at: String::new(),
        entered_ms: entered,
    }
}

#[test]
fn chronological_order() {
    let mut v = vec![
        view(1, None, EventType::Recruitment, 1),
        view(2, Some("2025-05-01"), EventType::Exploitation, 2),
        view(3, Some("2025-05-01"), EventType::Transit, 3),
        view(4, Some("2024-01-01"), EventType::Recruitment, 4),
    ];
    sort_chronologically(&mut v);
    let ids: Vec<u128> = v.iter().map(|e| e.id.as_u128()).collect();
    assert_eq!(ids, vec![4, 3, 2, 1]);
}

#[test]
fn perpetrator_roles() {
    let p = PerpetratorInput {
        roles: vec![
            "Exploiter".into(),
            "RecruiterOrIntermediary".into(),
            "Exploiter".into(),
        ],
        details: None,
    }
    .validate()
    .unwrap();
    assert_eq!(
        p.roles,
        vec![
            PerpetratorRole::RecruiterOrIntermediary,
            PerpetratorRole::Exploiter
        ]
    );
    assert_eq!(encode_roles(&p.roles), "RecruiterOrIntermediary;Exploiter");
    assert_eq!(
        decode_roles("RecruiterOrIntermediary;Exploiter"),
        Ok(p.roles)
    );
    let e = PerpetratorInput {
        roles: vec!["Other".into(), "Boss".into()],
        details: Some("  ".into()),
    }
    .validate()
    .unwrap_err();
    let f = fields(e);
    assert!(f.contains(&("per_RoleInProcess[1]".into(), "invalid_value")));
    assert!(f.contains(&("per_RoleDetails".into(), "required_for_other")));
    assert_eq!(
        fields(PerpetratorInput::default().validate().unwrap_err()),
        vec![("per_RoleInProcess".into(), "required")]
    );
}

#[test]
fn dependants() {
    let d = DependantInput {
        relation: "Child".into(),
        gender: Some("Masculine".into()),
        age: Some(7),
        with_victim: false,
        whereabouts: Some("With grandmother".into()),
        needs_schooling: true,
        ..Default::default()
    }
    .validate(TODAY)
    .unwrap();
    assert_eq!(d.birth_year, Some(2019));
    assert_eq!(d.relation, Relation::Child);
    let e = DependantInput {
        relation: "Cousin".into(),
        gender: Some("Boy".into()),
        birth_year: Some(2010),
        age: Some(16),
        with_victim: true,
        whereabouts: Some("x".into()),
        ..Default::default()
    }
    .validate(TODAY)
    .unwrap_err();
    let f = fields(e);
    assert!(f.contains(&("relation".into(), "invalid_value")));
    assert!(f.contains(&("prs_Gender".into(), "invalid_value")));
    assert!(f.contains(&("age".into(), "conflicts_with_birth_year")));
    assert!(f.contains(&("whereabouts".into(), "only_when_elsewhere")));
    let e = DependantInput {
        relation: "Child".into(),
        birth_year: Some(2027),
        ..Default::default()
    }
    .validate(TODAY)
    .unwrap_err();
    assert_eq!(fields(e), vec![("birth_year".into(), "out_of_range")]);
}

#[test]
fn children_rule() {
    assert!(check_new_dependant(Relation::Child, Some(2), 1).is_ok());
    let e = check_new_dependant(Relation::Child, Some(2), 2).unwrap_err();
    assert_eq!(e.field, "prs_NumberOfChildren");
    assert!(check_new_dependant(Relation::Sibling, Some(0), 5).is_ok());
    assert!(check_new_dependant(Relation::Stepchild, None, 9).is_ok());
    let c = children_count(Some(2), 1);
    assert!(c.consistent && !c.complete);
    assert!(!children_count(Some(1), 2).consistent);
    assert!(children_count(None, 3).consistent);
}

#[test]
fn closing_needs_reason_and_closed_needs_reopen() {
    let (to, kind, r) =
        check_status_change(CaseStatus::Active, "Closed", Some(" returned home ")).unwrap();
    assert_eq!(
        (to, kind, r.as_deref()),
        (
            CaseStatus::Closed,
            StatusChange::Close,
            Some("returned home")
        )
    );
    assert_eq!(
        fields(check_status_change(CaseStatus::Active, "Closed", None).unwrap_err()),
        vec![("cas_ReasonForCaseClosure".into(), "required")]
    );
    assert_eq!(
        fields(check_status_change(CaseStatus::Closed, "Active", Some("x")).unwrap_err()),
        vec![("cas_Status".into(), "closed_needs_reopen")]
    );
    assert_eq!(
        fields(check_status_change(CaseStatus::Active, "Open", None).unwrap_err()),
        vec![("cas_Status".into(), "invalid_value")]
    );
    let (to, r) = check_reopen(CaseStatus::ClosedReferred, None, Some("new need")).unwrap();
    assert_eq!((to, r.as_str()), (CaseStatus::Active, "new need"));
    assert!(check_reopen(CaseStatus::Closed, Some("Closed"), Some("x")).is_err());
    assert_eq!(
        fields(check_reopen(CaseStatus::FollowUp, None, None).unwrap_err()),
        vec![
            ("cas_Status".into(), "not_closed"),
            ("reason".into(), "required")
        ]
    );
}

#[test]
fn new_episode_rules() {
    assert!(check_new_episode(CaseStatus::Closed, true, Some("re-trafficked")).is_ok());
    assert!(check_new_episode(CaseStatus::FollowUp, true, Some("re-trafficked")).is_ok());
    let f = fields(check_new_episode(CaseStatus::Active, false, None).unwrap_err());
    assert_eq!(
        f,
        vec![
            ("cas_Status".into(), "previous_case_active"),
            ("previous_case".into(), "not_latest_episode"),
            ("reason".into(), "required")
        ]
    );
}

fn any_status() -> impl Strategy<Value = CaseStatus> {
    proptest::sample::select(CaseStatus::ALL.to_vec())
}

proptest! {
    /// Every value outside the HTCDS lists is refused, naming the field.
    #[test]
    fn vocab_rejects_unknown(s in ".{0,20}") {
        let known = EventType::ALL.iter().any(|x| x.as_str() == s);
        match EventType::parse(&s) {
            Ok(_) => prop_assert!(known),
            Err(e) => { prop_assert!(!known); prop_assert_eq!(e.field, "hte_Type"); }
        }
        let known = PerpetratorRole::ALL.iter().any(|x| x.as_str() == s);
        prop_assert_eq!(PerpetratorRole::parse(&s).is_ok(), known);
    }

    /// Any subset of HTCDS roles validates and survives the stored form.
    #[test]
    fn role_subsets_round_trip(mask in 1u32..(1 << 15)) {
        let roles: Vec<String> = PerpetratorRole::ALL.iter().enumerate()
            .filter(|(i, _)| mask & (1 << i) != 0)
            .map(|(_, r)| r.as_str().to_string()).collect();
        let p = PerpetratorInput { roles, details: Some("d".into()) }.validate().unwrap();
        prop_assert_eq!(decode_roles(&encode_roles(&p.roles)), Ok(p.roles.clone()));
        prop_assert_eq!(p.roles.len() as u32, mask.count_ones());
    }

    /// Coordinates are accepted exactly inside the ranges.
    #[test]
    fn coordinates(lat in -200.0f64..200.0, lon in -400.0f64..400.0) {
        let r = EventInput { latitude: Some(lat), longitude: Some(lon), ..event("Transit") }.validate(TODAY);
        prop_assert_eq!(r.is_ok(), lat.abs() <= 90.0 && lon.abs() <= 180.0);
    }

    /// Chronological sort: a permutation, dated before undated, dates non-decreasing.
    #[test]
    fn sort_is_chronological(items in proptest::collection::vec((proptest::option::of(0u32..5000), 0usize..3, 0i64..100), 0..20)) {
        let mut v: Vec<EventView> = items.iter().enumerate().map(|(i, (d, k, t))| {
            let date = d.map(|d| (date!(2010 - 01 - 01) + time::Duration::days(i64::from(d))).to_string());
            view(i as u128, date.as_deref(), EventType::ALL[*k], *t)
        }).collect();
        sort_chronologically(&mut v);
        prop_assert_eq!(v.len(), items.len());
        for w in v.windows(2) {
            match (&w[0].date, &w[1].date) {
                (Some(a), Some(b)) => prop_assert!(a < b || (a == b && w[0].kind <= w[1].kind)),
                (None, Some(_)) => prop_assert!(false, "undated before dated"),
                _ => {}
            }
        }
    }

    /// Status changes: never from a closed case, never to the same status, closing only
    /// with a reason; reopening only a closed case, to an open status, with a reason.
    #[test]
    fn status_rules(from in any_status(), to in any_status(), reason in proptest::option::of("[a-z ]{0,8}")) {
        let has_reason = reason.as_deref().is_some_and(|r| !r.trim().is_empty());
        let ok = check_status_change(from, to.as_str(), reason.as_deref()).is_ok();
        prop_assert_eq!(ok, !is_closed(from) && from != to && (!is_closed(to) || has_reason));
        let ok = check_reopen(from, Some(to.as_str()), reason.as_deref()).is_ok();
        prop_assert_eq!(ok, is_closed(from) && !is_closed(to) && has_reason);
        let ok = check_new_episode(from, true, reason.as_deref()).is_ok();
        prop_assert_eq!(ok, from != CaseStatus::Active && has_reason);
    }

    /// Child records never exceed a declared prs_NumberOfChildren through this rule.
    #[test]
    fn children_never_exceed_declared(declared in 0i64..6, adds in proptest::collection::vec(0usize..5, 0..12)) {
        let mut recorded = 0i64;
        for a in adds {
            let rel = Relation::ALL[a];
            if check_new_dependant(rel, Some(declared), recorded).is_ok() && rel.counts_as_child() {
                recorded += 1;
            }
        }
        prop_assert!(recorded <= declared);
        prop_assert!(children_count(Some(declared), recorded).consistent);
    }

    /// Age and birth year agree: age a today means birth year = this year − a.
    #[test]
    fn age_to_birth_year(age in 0i64..=100) {
        let d = DependantInput { relation: "Child".into(), age: Some(age), with_victim: true, ..Default::default() }.validate(TODAY).unwrap();
        prop_assert_eq!(d.birth_year, Some(2026 - age as i32));
    }
}
