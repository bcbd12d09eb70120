use super::*;
use proptest::prelude::*;
use time::macros::date;

const TODAY: Date = date!(2026 - 12 - 05);

fn new_case() -> ProgressFacts {
    ProgressFacts {
        consent: Some(false),
        screened: Some(false),
        decided: Some(false),
        referred: Some(false),
        plan: Some(PlanState::NoPlan),
        services: Some(false),
        followup: Some(false),
        ..Default::default()
    }
}

fn prompts(f: &ProgressFacts) -> Vec<Prompt> {
    f.next_steps(TODAY).iter().map(|s| s.prompt).collect()
}

#[test]
fn a_new_case_is_at_contact_and_asks_for_consent_and_screening() {
    let f = new_case();
    assert_eq!(f.stage(), Stage::Contact);
    assert_eq!(
        prompts(&f),
        vec![Prompt::NoConsent, Prompt::ScreeningMissing]
    );
}

#[test]
fn each_recorded_step_moves_the_stage_on() {
    let mut f = new_case();
    f.consent = Some(true);
    f.screened = Some(true);
    assert_eq!(f.stage(), Stage::Screening);
    assert_eq!(prompts(&f), vec![Prompt::DecisionMissing]);
    f.decided = Some(true);
    assert_eq!(f.stage(), Stage::Identification);
    assert_eq!(prompts(&f), vec![Prompt::PlanMissing]);
    f.referred = Some(true);
    assert_eq!(f.stage(), Stage::Referral);
    f.plan = Some(PlanState::AwaitingApproval);
    assert_eq!(f.stage(), Stage::Assistance);
    assert_eq!(prompts(&f), vec![Prompt::PlanAwaitingApproval]);
    f.plan = Some(PlanState::Approved);
    f.followup = Some(true);
    f.followup_due = Some(date!(2026 - 12 - 10));
    assert_eq!(f.stage(), Stage::FollowUp);
    assert_eq!(
        f.next_steps(TODAY),
        vec![NextStep {
            prompt: Prompt::FollowUpDue,
            due: Some(date!(2026 - 12 - 10))
        }]
    );
}

#[test]
fn dated_prompts_come_first_and_far_dates_wait() {
    let mut f = new_case();
    f.plan_action_due = Some(date!(2026 - 12 - 19));
    f.followup_due = Some(date!(2026 - 12 - 01));
    f.pending_referral_since = Some(date!(2026 - 12 - 01));
    let steps = f.next_steps(TODAY);
    assert_eq!(steps[0].prompt, Prompt::FollowUpDue);
    assert_eq!(steps[1].prompt, Prompt::ReferralUnanswered);
    assert_eq!(steps[1].due, Some(date!(2026 - 12 - 04)));
    assert_eq!(steps[2].prompt, Prompt::PlanActionDue);
    assert_eq!(next_due(&steps), Some(date!(2026 - 12 - 01)));
    // 15 days ahead is not yet "due soon"; a referral sent two days ago is not unanswered.
    f.plan_action_due = Some(date!(2026 - 12 - 20));
    f.followup_due = None;
    f.pending_referral_since = Some(date!(2026 - 12 - 03));
    assert_eq!(next_due(&f.next_steps(TODAY)), None);
}

#[test]
fn a_receiver_without_grants_learns_nothing_but_the_referral() {
    let mut f = new_case();
    f.received = true;
    f.followup_due = Some(TODAY);
    let seen = f.visible_to(Reader::Other, &[Section::Services]);
    assert_eq!(seen.stage(), Stage::Referral);
    assert!(seen.next_steps(TODAY).is_empty());
}

#[test]
fn a_closed_case_has_no_prompts() {
    let mut f = new_case();
    f.closed = true;
    assert!(f.next_steps(TODAY).is_empty());
}

#[test]
fn initials_and_pseudonyms() {
    assert_eq!(initials(Some(" ayla"), Some("Məmmədova")), "A.M.");
    assert_eq!(initials(Some("Ирина"), None), "И.");
    assert_eq!(initials(None, Some("  ")), "");
    let id = Uuid::from_u128(0x0123_4567_89ab_cdef_0123_4567_89ab_cdef);
    assert_eq!(pseudonym(id), pseudonym(id));
    assert!(pseudonym(id).is_ascii());
}

fn any_opt_bool() -> impl Strategy<Value = Option<bool>> {
    prop_oneof![Just(None), Just(Some(false)), Just(Some(true))]
}

fn any_date() -> impl Strategy<Value = Option<Date>> {
    proptest::option::of((-60i64..60).prop_map(|d| TODAY + Duration::days(d)))
}

prop_compose! {
    fn any_facts()(
        closed in any::<bool>(),
        received in any::<bool>(),
        consent in any_opt_bool(),
        screened in any_opt_bool(),
        decided in any_opt_bool(),
        referred in any_opt_bool(),
        pending_referral_since in any_date(),
        plan in proptest::option::of(prop_oneof![
            Just(PlanState::NoPlan), Just(PlanState::AwaitingApproval), Just(PlanState::Approved)
        ]),
        plan_action_due in any_date(),
        services in any_opt_bool(),
        followup in any_opt_bool(),
        followup_due in any_date(),
    ) -> ProgressFacts {
        ProgressFacts { closed, received, consent, screened, decided, referred,
            pending_referral_since, plan, plan_action_due, services, followup, followup_due }
    }
}

proptest! {
    /// A reader is never prompted about a section it may not read, nor (outside the owning
    /// organisation) about owner-only facts; and hiding facts never moves the stage on.
    #[test]
    fn prompts_obey_the_readers_sections(
        f in any_facts(),
        readable in proptest::sample::subsequence(Section::ALL.to_vec(), 0..=Section::ALL.len()),
        owner in any::<bool>(),
    ) {
        let reader = if owner { Reader::Owner } else { Reader::Other };
        let seen = f.clone().visible_to(reader, &readable);
        for s in seen.next_steps(TODAY) {
            match s.prompt.section() {
                Some(sec) => prop_assert!(readable.contains(&sec), "{:?}", s.prompt),
                None => prop_assert!(owner, "{:?}", s.prompt),
            }
        }
        prop_assert!(seen.stage() <= f.stage());
    }

    /// Recording one more step never moves the case back on the path.
    #[test]
    fn the_stage_never_goes_back(f in any_facts(), which in 0usize..6) {
        let mut g = f.clone();
        match which {
            0 => g.screened = Some(true),
            1 => g.decided = Some(true),
            2 => g.referred = Some(true),
            3 => g.plan = Some(PlanState::Approved),
            4 => g.services = Some(true),
            _ => g.followup = Some(true),
        }
        prop_assert!(g.stage() >= f.stage());
    }

    /// Steps are ordered: dated ones first by date, each due no later than two weeks ahead;
    /// the next due date is the first step's; a closed case has none.
    #[test]
    fn steps_are_ordered_and_due_soon(f in any_facts()) {
        let steps = f.next_steps(TODAY);
        if f.closed {
            prop_assert!(steps.is_empty());
        }
        for w in steps.windows(2) {
            prop_assert!((w[0].due.is_none(), w[0].due) <= (w[1].due.is_none(), w[1].due));
        }
        for s in &steps {
            if let Some(d) = s.due {
                prop_assert!(d <= TODAY + Duration::days(DUE_SOON_DAYS));
            }
        }
        prop_assert_eq!(next_due(&steps), steps.first().and_then(|s| s.due));
        let mut kinds: Vec<Prompt> = steps.iter().map(|s| s.prompt).collect();
        kinds.dedup();
        prop_assert_eq!(kinds.len(), steps.len());
    }

    /// Initials hold at most two letters, each followed by a dot.
    #[test]
    fn initials_are_two_letters_at_most(a in proptest::option::of(".{0,20}"), b in proptest::option::of(".{0,20}")) {
        let i = initials(a.as_deref(), b.as_deref());
        let letters = i.chars().filter(|c| *c != '.').count();
        prop_assert!(i.chars().filter(|c| *c == '.').count() <= 2);
        prop_assert!(letters <= 4); // one letter may upper-case to more than one char
    }
}
