//! Unit and property tests of the follow-up rules.

use super::*;
use proptest::prelude::*;
use time::macros::{date, datetime};

fn ans(pairs: &[(&str, &str)]) -> Answers {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_string(), vec![(*v).to_string()]))
        .collect()
}

fn rules(caller: Option<Uuid>) -> ContactRules {
    ContactRules {
        channels: vec![Channel::Phone],
        windows: vec![Window {
            weekday: 2,
            start_min: 10 * 60,
            end_min: 12 * 60,
        }],
        utc_offset_min: DEFAULT_UTC_OFFSET_MIN,
        do_not_contact: false,
        caller,
        language: "az".into(),
    }
}

#[test]
fn contact_inside_and_outside() {
    let me = Uuid::from_u128(1);
    let r = rules(Some(me));
    // Tuesday 2026-11-24 07:30 UTC = 11:30 Baku.
    let ok = datetime!(2026-11-24 07:30 UTC);
    assert_eq!(check_contact(&r, Channel::Phone, ok, me), Ok(()));
    let e = check_contact(
        &r,
        Channel::Visit,
        datetime!(2026-11-24 09:00 UTC),
        Uuid::from_u128(2),
    )
    .unwrap_err();
    assert_eq!(
        e,
        vec![
            Breach::ChannelNotAllowed,
            Breach::OutsideSafeWindow,
            Breach::CallerNotNamed
        ]
    );
    let mut dnc = r.clone();
    dnc.do_not_contact = true;
    assert_eq!(
        check_contact(&dnc, Channel::Phone, ok, me),
        Err(vec![Breach::DoNotContact])
    );
}

#[test]
fn windows_parse_roundtrip() {
    let w = Window::parse("3@09:05-17:30").unwrap();
    assert_eq!(w.encode(), "3@09:05-17:30");
    assert!(Window::parse("8@09:00-10:00").is_none());
    assert!(Window::parse("1@12:00-10:00").is_none());
}

#[test]
fn plan_and_status() {
    let d = plan_dates(date!(2026 - 01 - 31), DEFAULT_MONTHS);
    assert_eq!(d[0], date!(2026 - 02 - 28));
    assert_eq!(d[5], date!(2028 - 01 - 31));
    let due = date!(2026 - 03 - 01);
    assert_eq!(
        task_status(due, date!(2026 - 02 - 28), false, false),
        TaskStatus::Upcoming
    );
    assert_eq!(task_status(due, due, false, false), TaskStatus::Due);
    assert_eq!(
        task_status(due, date!(2026 - 03 - 08), false, false),
        TaskStatus::Overdue
    );
    assert!(lost_contact(&[true, false, false, false], 3));
    assert!(!lost_contact(&[false, false, true, false], 3));
    assert!(validate_months(&[1, 3, 2]).is_err());
}

#[test]
fn changing_one_answer_changes_the_flag() {
    let mut a = ans(&[
        ("plans_migrate_abroad", "planning_for_work"),
        ("employment", "part_time"),
    ]);
    let f = risk_flags(&a);
    assert_eq!(f.len(), 1);
    assert_eq!(f[0].code, "plans_abroad_for_work");
    assert_eq!(
        f[0].reasons,
        vec![(
            "plans_migrate_abroad".to_string(),
            "planning_for_work".to_string()
        )]
    );
    a.insert("plans_migrate_abroad".into(), vec!["no".into()]);
    assert!(risk_flags(&a).is_empty());
    a.insert("family_reconciliation".into(), vec!["rejected".into()]);
    assert_eq!(risk_flags(&a)[0].code, "rejected_by_family");
}

#[test]
fn trajectory_per_domain() {
    let t = trajectories(&[
        ans(&[("employment", "none"), ("current_situation", "good")]),
        ans(&[("employment", "part_time"), ("current_situation", "bad")]),
    ]);
    let e = t.iter().find(|t| t.key == "employment").unwrap();
    assert_eq!(e.trend, Trend::Better);
    let c = t.iter().find(|t| t.key == "current_situation").unwrap();
    assert_eq!(c.trend, Trend::Worse);
}

#[test]
fn answers_are_validated() {
    assert!(validate_answers(&ans(&[("employment", "none")])).is_ok());
    let e = validate_answers(&ans(&[("employment", "lots"), ("bogus", "x")])).unwrap_err();
    assert_eq!(e.errors.len(), 2);
}

#[test]
fn schedule_errors_name_the_field_and_each_problem() {
    assert!(validate_org_months(&[1, 3, 6, 12, 18, 24]).is_ok());
    let codes = |m: &[u32]| -> Vec<&'static str> {
        validate_org_months(m)
            .err()
            .map(|e| {
                assert!(e.errors.iter().all(|f| f.field == "months"));
                e.errors.iter().map(|f| f.code).collect()
            })
            .unwrap_or_default()
    };
    assert_eq!(codes(&[]), ["required"]);
    assert_eq!(codes(&[3, 1]), ["not_ascending"]);
    assert_eq!(codes(&[1, 1]), ["not_ascending"]);
    assert_eq!(codes(&[0, 61]), ["out_of_range"]);
    assert_eq!(codes(&(1..=13).collect::<Vec<_>>()), ["too_many"]);
    assert_eq!(parse_months("1, 3;6 12").unwrap(), [1, 3, 6, 12]);
    let e = parse_months("1, three").unwrap_err();
    assert_eq!(e.errors[0].field, "months");
    assert_eq!(e.errors[0].code, "not_a_number");
    // A case may have up to 24 follow-ups, an organisation default 12.
    assert!(validate_months(&(1..=13).collect::<Vec<_>>()).is_ok());
}

#[test]
fn case_schedule_overrides_the_organisation_default() {
    let org = [2u32, 4];
    let case = [1u32];
    assert_eq!(
        effective_months(Some(&case), Some(&org)),
        (vec![1], ScheduleSource::Case)
    );
    assert_eq!(
        effective_months(None, Some(&org)),
        (vec![2, 4], ScheduleSource::Organisation)
    );
    assert_eq!(
        effective_months(None, None),
        (DEFAULT_MONTHS.to_vec(), ScheduleSource::Default)
    );
}

#[test]
fn every_flag_maps_to_a_plan_domain() {
    for r in RULES {
        assert!(
            crate::assistance::NeedDomain::parse(r.domain).is_ok(),
            "{}",
            r.code
        );
        assert!(is_flag_code(r.code));
        assert_eq!(flag_action(r.code), Some(r.action));
    }
    assert!(!is_flag_code("bogus"));
}

fn any_answers() -> impl Strategy<Value = Answers> {
    let per_question: Vec<_> = QUESTIONS
        .iter()
        .map(|q| {
            let codes: Vec<String> = q.codes.iter().map(|c| (*c).to_string()).collect();
            let max = match q.kind {
                QuestionKind::Single { .. } => 1,
                QuestionKind::Multi => codes.len(),
            };
            proptest::option::of(proptest::sample::subsequence(codes, 1..=max))
                .prop_map(move |v| (q.key, v))
        })
        .collect();
    per_question.prop_map(|v| {
        v.into_iter()
            .filter_map(|(k, a)| a.map(|a| (k.to_string(), a)))
            .collect()
    })
}

proptest! {
    /// Months are accepted exactly when they are 1..=60, strictly ascending, not empty
    /// and at most 12 (organisation) / 24 (case).
    #[test]
    fn schedules_are_accepted_exactly_when_valid(
        months in proptest::collection::vec(0u32..70, 0..16),
    ) {
        let valid = |max: usize| !months.is_empty()
            && months.len() <= max
            && months.iter().all(|m| (1..=60).contains(m))
            && months.windows(2).all(|w| w[0] < w[1]);
        prop_assert_eq!(validate_org_months(&months).is_ok(), valid(12));
        prop_assert_eq!(validate_months(&months).is_ok(), valid(24));
    }

    /// Random answers pass validation; every flag's reasons are answers actually given;
    /// removing one of a flag's reasons removes that flag (no hidden inputs).
    #[test]
    fn flags_are_explained_by_the_answers(a in any_answers()) {
        prop_assert!(validate_answers(&a).is_ok());
        for f in risk_flags(&a) {
            prop_assert!(!f.reasons.is_empty());
            for (k, c) in &f.reasons {
                prop_assert!(a.get(k).is_some_and(|v| v.contains(c)));
            }
            let (k, _) = &f.reasons[0];
            let mut changed = a.clone();
            changed.remove(k);
            prop_assert!(risk_flags(&changed).iter().all(|g| g.code != f.code));
        }
    }
}

/// Assessments that ask only some questions (a self check-in asks two).
fn any_partial_answers() -> impl Strategy<Value = Answers> {
    (
        any_answers(),
        proptest::collection::vec(any::<bool>(), QUESTIONS.len()),
    )
        .prop_map(|(a, keep)| {
            a.into_iter()
                .filter(|(k, _)| {
                    QUESTIONS
                        .iter()
                        .position(|q| q.key == k.as_str())
                        .is_some_and(|i| keep[i])
                })
                .collect()
        })
}

#[test]
fn a_check_in_keeps_the_flags_of_a_full_assessment() {
    let full = ans(&[
        ("trafficker_contact", "indirect"),
        ("living_with", "shelter"),
    ]);
    let check_in = ans(&[("current_situation", "good"), ("assistance_needed", "job")]);
    let codes =
        |h: &[Answers]| -> Vec<&str> { current_risk_flags(h).iter().map(|f| f.code).collect() };
    assert_eq!(
        codes(&[full.clone(), check_in.clone()]),
        ["no_stable_housing", "trafficker_circle_contact"]
    );
    // A later assessment that asks where she lives clears that flag only.
    let later = ans(&[("living_with", "alone")]);
    assert_eq!(
        codes(&[full, check_in, later]),
        ["trafficker_circle_contact"]
    );
}

proptest! {
    /// The flags over a history are the rules applied to the latest answer to each question:
    /// every reason is the latest answer given to its question; appending an assessment that
    /// asks none of a flag's questions keeps the flag; a last assessment that asks every
    /// question gives exactly its own flags.
    #[test]
    fn a_flag_stays_until_an_assessment_asking_its_question_clears_it(
        history in proptest::collection::vec(any_partial_answers(), 0..5),
        next in any_partial_answers(),
        full in any_answers(),
    ) {
        let flags = current_risk_flags(&history);
        for f in &flags {
            for (k, c) in &f.reasons {
                let latest = history.iter().rev().find_map(|a| a.get(k).filter(|v| !v.is_empty()));
                prop_assert!(latest.is_some_and(|v| v.contains(c)));
            }
        }
        let mut longer = history.clone();
        longer.push(next.clone());
        let after = current_risk_flags(&longer);
        for f in &flags {
            if f.reasons.iter().all(|(k, _)| !next.contains_key(k)) && f.code != "income_insufficient" {
                prop_assert!(after.iter().any(|g| g.code == f.code), "{} hidden by an assessment that did not ask", f.code);
            }
        }
        // An assessment asking every question decides alone.
        let all_asked: Answers = QUESTIONS.iter().map(|q| {
            (q.key.to_string(), full.get(q.key).cloned().unwrap_or_else(|| vec![q.codes[0].to_string()]))
        }).collect();
        let mut last = history.clone();
        last.push(all_asked.clone());
        prop_assert_eq!(current_risk_flags(&last), risk_flags(&all_asked));
        prop_assert_eq!(current_risk_flags(std::slice::from_ref(&full)), risk_flags(&full));
    }
}

fn any_rules() -> impl Strategy<Value = ContactRules> {
    let window = (1u8..=7, 0u16..1440, 1u16..600).prop_map(|(d, s, len)| Window {
        weekday: d,
        start_min: s,
        end_min: (s + len).min(1440),
    });
    (
        proptest::sample::subsequence(Channel::ALL.to_vec(), 0..=5),
        proptest::collection::vec(window, 0..5),
        -720i32..=840,
        any::<bool>(),
        proptest::option::of(0u128..3),
    )
        .prop_map(|(channels, windows, off, dnc, caller)| ContactRules {
            channels,
            windows,
            utc_offset_min: off,
            do_not_contact: dnc,
            caller: caller.map(Uuid::from_u128),
            language: "az".into(),
        })
}

proptest! {
    /// Nothing outside the safe windows/channels, by another caller, or with do-not-contact
    /// set passes the check (so it cannot be scheduled).
    #[test]
    fn nothing_outside_the_protocol_passes(
        r in any_rules(),
        ch in proptest::sample::select(Channel::ALL.to_vec()),
        secs in 1_700_000_000i64..1_900_000_000,
        caller in 0u128..3,
    ) {
        let when = OffsetDateTime::from_unix_timestamp(secs).unwrap();
        let caller = Uuid::from_u128(caller);
        let ok = check_contact(&r, ch, when, caller).is_ok();
        let local = when.to_offset(UtcOffset::from_whole_seconds(r.utc_offset_min * 60).unwrap());
        let minute = u16::from(local.hour()) * 60 + u16::from(local.minute());
        let in_window = r.windows.iter().any(|w| w.weekday == local.weekday().number_from_monday()
            && w.start_min <= minute && minute < w.end_min);
        let expected = !r.do_not_contact && r.channels.contains(&ch) && in_window
            && r.caller.is_none_or(|c| c == caller);
        prop_assert_eq!(ok, expected);
        if r.do_not_contact || r.channels.is_empty() || r.windows.is_empty() {
            prop_assert!(!ok);
        }
    }
}

// ---------- a contact completes only a round whose window has opened (issue #23 §3) ----------

#[test]
fn a_contact_long_before_a_round_cannot_complete_it() {
    let e = contact_completes_round(date!(2026 - 11 - 30), date!(2027 - 09 - 30)).err();
    assert_eq!(
        e.map(|e| (e.field, e.code)),
        Some(("task_id".to_string(), "before_round_window"))
    );
    assert!(contact_completes_round(date!(2027 - 09 - 01), date!(2027 - 09 - 30)).is_ok());
    assert!(contact_completes_round(date!(2027 - 10 - 15), date!(2027 - 09 - 30)).is_ok());
}

proptest! {
    /// The window opens exactly `ROUND_WINDOW_OPENS_DAYS` before the due date and never closes.
    #[test]
    fn round_window_opens_before_due(offset in -400i64..400) {
        let due = date!(2027 - 09 - 30);
        let on = due - time::Duration::days(offset);
        prop_assert_eq!(
            contact_completes_round(on, due).is_ok(),
            offset <= ROUND_WINDOW_OPENS_DAYS
        );
    }
}
