use super::*;
use proptest::prelude::*;

fn fact(seq: i64, at: i64, user: &str, action: &str, outcome: &str, case: &str) -> AuditFact {
    AuditFact {
        seq,
        at,
        user: user.into(),
        org: "org-a".into(),
        action: action.into(),
        outcome: outcome.into(),
        case_id: case.into(),
        source: "10.0.0.1".into(),
        detail: String::new(),
    }
}

// 2026-12-07 is a Monday; 10:00 UTC is 14:00 in Baku.
const MONDAY_10_UTC: i64 = 1_796_637_600_000;

#[test]
fn builtin_rules_file_parses_to_the_defaults() {
    let c = RulesConfig::builtin().expect("built-in rules");
    assert_eq!(c.hours, Hours::default());
    assert_eq!(c.identity_baseline.floor, 20);
    assert_eq!(c.repeated_denials.count, 5);
    assert_eq!(c.search_without_work.hours, 24);
}

#[test]
fn bad_rules_files_name_the_key() {
    let e = RulesConfig::parse("[identity_baseline]\nfactor = 0.5\n").unwrap_err();
    assert!(e.to_string().contains("identity_baseline.factor"), "{e}");
    let e = RulesConfig::parse("[working_hours]\nstart = \"25:00\"\n").unwrap_err();
    assert!(e.to_string().contains("working_hours.start"), "{e}");
    assert!(RulesConfig::parse("[nope]\n").is_err());
    let e = RulesConfig::parse("[[working_hours.org]]\norg = \"x\"\n").unwrap_err();
    assert!(e.to_string().contains("working_hours.org[0].org"), "{e}");
}

#[test]
fn baku_working_hours() {
    let h = Hours::default();
    assert!(h.within(MONDAY_10_UTC)); // 14:00 local
    assert!(!h.within(MONDAY_10_UTC - 8 * HOUR)); // 06:00 local
    assert!(h.within(MONDAY_10_UTC - 6 * HOUR)); // 08:00 local
    assert!(!h.within(MONDAY_10_UTC + 5 * HOUR)); // 19:00 local
    assert!(!h.within(MONDAY_10_UTC - DAY)); // Sunday
    assert_eq!(local_date(&h, MONDAY_10_UTC + 10 * HOUR), "2026-12-08");
}

const HOUR: i64 = 3_600_000;
const DAY: i64 = 24 * HOUR;

#[test]
fn per_org_hours_override_the_default() {
    let org = "0b6d2c59-5f7c-4f8e-9a51-3c2d7a1e9f00";
    let c = RulesConfig::parse(&format!(
        "[[working_hours.org]]\norg = \"{org}\"\nstart = \"00:00\"\nend = \"24:00\"\ndays = [\"mon\",\"tue\",\"wed\",\"thu\",\"fri\",\"sat\",\"sun\"]\n"
    ))
    .expect("rules");
    let mut f = fact(
        1,
        MONDAY_10_UTC - 8 * HOUR,
        "u",
        IDENTITY_READ,
        "success",
        "c",
    );
    assert_eq!(off_hours(std::slice::from_ref(&f), &c).len(), 1);
    f.org = org.into();
    assert!(off_hours(&[f], &c).is_empty());
}

#[test]
fn search_rule_needs_a_search_no_prior_contact_and_no_work() {
    let c = RulesConfig::default();
    let s = fact(1, MONDAY_10_UTC, "u", SEARCH, "success", "");
    let r = fact(
        2,
        MONDAY_10_UTC + 60_000,
        "u",
        IDENTITY_READ,
        "success",
        "c",
    );
    let d = search_without_work(&r, std::slice::from_ref(&s), false, &[], &c).expect("alert");
    assert_eq!(d.seqs, vec![1, 2]);
    assert!(search_without_work(&r, std::slice::from_ref(&s), true, &[], &c).is_none());
    let w = fact(
        3,
        MONDAY_10_UTC + HOUR,
        "u",
        "contact.create",
        "success",
        "c",
    );
    assert!(search_without_work(&r, std::slice::from_ref(&s), false, &[w], &c).is_none());
    let late = fact(
        3,
        MONDAY_10_UTC + 30 * HOUR,
        "u",
        "contact.create",
        "success",
        "c",
    );
    assert!(search_without_work(&r, std::slice::from_ref(&s), false, &[late], &c).is_some());
    let old = fact(1, MONDAY_10_UTC - HOUR, "u", SEARCH, "success", "");
    assert!(search_without_work(&r, &[old], false, &[], &c).is_none());
}

#[test]
fn identity_exports_are_high() {
    let c = RulesConfig::default();
    let mut a = fact(1, 0, "u", "case.export", "success", "");
    a.detail = "count=3".into();
    let mut b = fact(2, 0, "u", "case.export", "success", "");
    b.detail = "count=3 identity=none".into();
    let d = bulk_export(&[a, b], &c);
    assert_eq!(d[0].severity, Severity::High);
    assert_eq!(d[1].severity, Severity::Medium);
}

#[test]
fn notes_are_short_single_lines() {
    assert!(validate_note("  checked with the supervisor ").is_ok());
    assert!(validate_note("").is_err());
    assert!(validate_note("a\nb").is_err());
    assert!(validate_note(&"x".repeat(201)).is_err());
}

proptest! {
    #[test]
    fn baseline_never_fires_at_or_below_the_floor(
        history in proptest::collection::vec(0u32..200, 0..40),
        today in 0usize..60,
        floor in 1u32..50,
        factor in 1.0f64..10.0,
    ) {
        let mut c = RulesConfig::default();
        c.identity_baseline.floor = floor;
        c.identity_baseline.factor = factor;
        let reads: Vec<AuditFact> = (0..today)
            .map(|i| fact(i as i64 + 1, MONDAY_10_UTC, "u", IDENTITY_READ, "success", "c"))
            .collect();
        let d = identity_baseline(&reads, &history, "2026-12-07", &c);
        if today as u32 <= floor {
            prop_assert!(d.is_none());
        }
        if let Some(d) = d {
            // Above the user's own baseline too, and linked to threshold + 1 rows.
            prop_assert!(today as f64 > factor * median(&history) - 1.0);
            prop_assert_eq!(d.seqs.len() as u32, baseline_threshold(&history, &c.identity_baseline) + 1);
        }
    }

    #[test]
    fn baseline_is_relative_to_the_users_own_history(base in 1u32..100) {
        let mut c = RulesConfig::default();
        c.identity_baseline.floor = 1;
        let history = vec![base; 28];
        let t = baseline_threshold(&history, &c.identity_baseline);
        prop_assert_eq!(t, 3 * base);
    }

    #[test]
    fn bursts_are_dense_disjoint_and_new(
        gaps in proptest::collection::vec(0i64..300_000, 0..60),
        count in 2u32..8,
        from in 0i64..60,
    ) {
        let mut at = 0;
        let rows: Vec<AuditFact> = gaps.iter().enumerate().map(|(i, g)| {
            at += g;
            fact(i as i64 + 1, at, "u", "access.denied", "denied", "c")
        }).collect();
        let window = 600_000;
        let groups = bursts(&rows, count, window, from);
        let mut seen = std::collections::BTreeSet::new();
        for g in &groups {
            prop_assert!(g.len() as u32 >= count);
            let first = rows.iter().find(|r| r.seq == g[0]).map(|r| r.at).unwrap_or(0);
            let last = rows.iter().find(|r| Some(&r.seq) == g.last()).map(|r| r.at).unwrap_or(0);
            prop_assert!(last - first < window);
            prop_assert!(*g.last().unwrap_or(&0) >= from);
            for s in g { prop_assert!(seen.insert(*s)); }
        }
        // Normal activity: rows spaced a full window apart never form a burst.
        let spaced: Vec<AuditFact> = (0..20).map(|i| fact(i + 1, i * window, "u", "access.denied", "denied", "c")).collect();
        prop_assert!(bursts(&spaced, count, window, 0).is_empty());
    }

    #[test]
    fn every_break_glass_use_raises_one_alert(n in 0usize..20, other in 0usize..20) {
        let c = RulesConfig::default();
        let mut rows: Vec<AuditFact> = (0..n).map(|i| fact(i as i64, 0, "u", "break_glass", "success", "c")).collect();
        rows.extend((0..other).map(|i| fact(100 + i as i64, 0, "u", "case.update", "success", "c")));
        let d = break_glass(&rows, &c);
        prop_assert_eq!(d.len(), n);
        let keys: std::collections::BTreeSet<_> = d.iter().map(|a| a.key.clone()).collect();
        prop_assert_eq!(keys.len(), n);
    }
}
