//! Referrals: the service catalogue, which case sections each service needs, the referral
//! state machine, eligibility rules and the grant of access an accepted referral gives.

use crate::case::{CaseView, Identity};
use crate::error::FieldError;
use crate::policy::{Grant, Section};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// The service catalogue shared by referrals, the directory and assistance.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
pub enum Service {
    PersonalSafety,
    Shelter,
    Medical,
    PsychologicalCounselling,
    LegalConsultation,
    ReturnHome,
    AirportMeeting,
    JobPlacement,
    JobCounselling,
    VocationalTraining,
    Housing,
    FamilyMediation,
    ChildrenSchooling,
    FinancialAssistance,
    Other,
}

impl Service {
    pub const ALL: &'static [Service] = &[
        Service::PersonalSafety,
        Service::Shelter,
        Service::Medical,
        Service::PsychologicalCounselling,
        Service::LegalConsultation,
        Service::ReturnHome,
        Service::AirportMeeting,
        Service::JobPlacement,
        Service::JobCounselling,
        Service::VocationalTraining,
        Service::Housing,
        Service::FamilyMediation,
        Service::ChildrenSchooling,
        Service::FinancialAssistance,
        Service::Other,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Service::PersonalSafety => "PersonalSafety",
            Service::Shelter => "Shelter",
            Service::Medical => "Medical",
            Service::PsychologicalCounselling => "PsychologicalCounselling",
            Service::LegalConsultation => "LegalConsultation",
            Service::ReturnHome => "ReturnHome",
            Service::AirportMeeting => "AirportMeeting",
            Service::JobPlacement => "JobPlacement",
            Service::JobCounselling => "JobCounselling",
            Service::VocationalTraining => "VocationalTraining",
            Service::Housing => "Housing",
            Service::FamilyMediation => "FamilyMediation",
            Service::ChildrenSchooling => "ChildrenSchooling",
            Service::FinancialAssistance => "FinancialAssistance",
            Service::Other => "Other",
        }
    }

    pub fn parse_for(field: &str, s: &str) -> Result<Service, FieldError> {
        Service::ALL
            .iter()
            .copied()
            .find(|x| x.as_str() == s)
            .ok_or_else(|| {
                FieldError::new(
                    field,
                    "invalid_value",
                    format!(
                        "not a service; allowed: {}",
                        Service::ALL
                            .iter()
                            .map(|s| s.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                )
            })
    }

    /// The case sections this service needs (need-to-know). The default map; deployments
    /// can narrow it (see `sections_for`).
    pub fn sections(self) -> &'static [Section] {
        use Section::*;
        match self {
            Service::PersonalSafety => &[Identity, ContactDetails, VictimContext],
            Service::Shelter => &[Identity, ContactDetails, Health, Services],
            Service::Medical => &[Identity, Health],
            Service::PsychologicalCounselling => &[Identity, VictimContext, Health],
            Service::LegalConsultation => &[Identity, VictimContext, Legal],
            Service::ReturnHome | Service::AirportMeeting => &[Identity, ContactDetails],
            Service::JobPlacement | Service::JobCounselling | Service::VocationalTraining => {
                &[Identity, Plan, Services]
            }
            Service::Housing => &[Identity, ContactDetails, Plan],
            Service::FamilyMediation => &[Identity, VictimContext, FollowUp],
            Service::ChildrenSchooling => &[Identity, Plan],
            Service::FinancialAssistance => &[Identity, Services],
            Service::Other => &[Identity],
        }
    }
}

/// The union of sections the given services need, in `Section::ALL` order.
pub fn sections_for(services: &[Service]) -> Vec<Section> {
    Section::ALL
        .iter()
        .copied()
        .filter(|s| services.iter().any(|x| x.sections().contains(s)))
        .collect()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub enum ReferralState {
    Pending,
    Accepted,
    Declined,
    Completed,
    Withdrawn,
}

impl ReferralState {
    pub const ALL: &'static [ReferralState] = &[
        ReferralState::Pending,
        ReferralState::Accepted,
        ReferralState::Declined,
        ReferralState::Completed,
        ReferralState::Withdrawn,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            ReferralState::Pending => "Pending",
            ReferralState::Accepted => "Accepted",
            ReferralState::Declined => "Declined",
            ReferralState::Completed => "Completed",
            ReferralState::Withdrawn => "Withdrawn",
        }
    }
    pub fn parse(s: &str) -> Option<ReferralState> {
        ReferralState::ALL.iter().copied().find(|x| x.as_str() == s)
    }
}

/// Why a referral was declined: the one list of codes offered on the decline screen and
/// counted by the gap view (`decline_reasons`) and the scorecard (`state_shelter_refusals`).
/// The stored reason stays free text (the API accepts any text): [`DeclineReason::classify`]
/// maps a text that is not one of the codes (compared trimmed, case-insensitive) to `Other`,
/// so no words of a free-text reason ever reach a statistics table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DeclineReason {
    NoCapacity,
    NotEligible,
    OutsideArea,
    ServiceUnavailable,
    SurvivorDeclined,
    Other,
}

impl DeclineReason {
    /// Every code, `Other` last.
    pub const ALL: &'static [DeclineReason] = &[
        DeclineReason::NoCapacity,
        DeclineReason::NotEligible,
        DeclineReason::OutsideArea,
        DeclineReason::ServiceUnavailable,
        DeclineReason::SurvivorDeclined,
        DeclineReason::Other,
    ];
    /// The code, as stored when chosen on the decline screen.
    pub fn code(self) -> &'static str {
        match self {
            DeclineReason::NoCapacity => "no_capacity",
            DeclineReason::NotEligible => "not_eligible",
            DeclineReason::OutsideArea => "outside_area",
            DeclineReason::ServiceUnavailable => "service_unavailable",
            DeclineReason::SurvivorDeclined => "survivor_declined",
            DeclineReason::Other => "other",
        }
    }
    /// The code a stored decline reason is counted under.
    pub fn classify(text: &str) -> DeclineReason {
        let t = text.trim().to_lowercase();
        DeclineReason::ALL
            .iter()
            .copied()
            .find(|r| r.code() == t)
            .unwrap_or(DeclineReason::Other)
    }
}

/// Who moves a referral: the sending or the receiving organisation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    Sender,
    Receiver,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub enum ReferralEvent {
    Accept,
    Decline,
    Complete,
    Withdraw,
}

/// The state machine: pending → accepted / declined → completed, or withdrawn by the sender.
pub fn transition(state: ReferralState, event: ReferralEvent, side: Side) -> Option<ReferralState> {
    use ReferralEvent as E;
    use ReferralState as S;
    match (state, event, side) {
        (S::Pending, E::Accept, Side::Receiver) => Some(S::Accepted),
        (S::Pending, E::Decline, Side::Receiver) => Some(S::Declined),
        (S::Pending | S::Accepted, E::Withdraw, Side::Sender) => Some(S::Withdrawn),
        (S::Accepted, E::Complete, _) => Some(S::Completed),
        _ => None,
    }
}

/// A referral as the access policy sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReferralFact {
    pub to_org: Uuid,
    pub state: ReferralState,
    pub services: Vec<Service>,
    /// When it completed or was withdrawn (ms).
    pub ended_at: Option<i64>,
    /// Ended because the survivor withdrew the consent that covered it: no grace period.
    pub ended_by_consent: bool,
}

/// Whether the receiving organisation may still read a referral's details and travel data:
/// while it is pending or accepted, and for `grace_ms` after it completed or was withdrawn
/// (the same window as its grant). Never after a decline or a consent withdrawal.
pub fn details_readable(
    state: ReferralState,
    ended_at: Option<i64>,
    ended_by_consent: bool,
    now_ms: i64,
    grace_ms: i64,
) -> bool {
    match state {
        ReferralState::Pending | ReferralState::Accepted => true,
        ReferralState::Completed | ReferralState::Withdrawn => {
            !ended_by_consent && ended_at.is_some_and(|e| now_ms < e + grace_ms)
        }
        ReferralState::Declined => false,
    }
}

/// The grants that referrals give at `now_ms`: while accepted, and for `grace_ms` after it
/// completed or was withdrawn. Pending and declined referrals grant nothing.
pub fn grants(referrals: &[ReferralFact], now_ms: i64, grace_ms: i64) -> Vec<Grant> {
    referrals
        .iter()
        .filter(|r| match r.state {
            ReferralState::Accepted => true,
            ReferralState::Completed | ReferralState::Withdrawn => {
                details_readable(r.state, r.ended_at, r.ended_by_consent, now_ms, grace_ms)
            }
            _ => false,
        })
        .map(|r| Grant {
            org_id: r.to_org,
            sections: sections_for(&r.services),
        })
        .collect()
}

/// Eligibility rules of a service offer (each defaults to false).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(default)]
pub struct Eligibility {
    pub requires_police_cooperation: bool,
    pub requires_criminal_case: bool,
    pub requires_identified_victim: bool,
    pub women_only: bool,
    pub children_only: bool,
    pub adults_only: bool,
}

/// What is known about the person for eligibility checks.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EligibilityFacts {
    pub cooperates_with_police: bool,
    pub has_criminal_case: bool,
    pub identified_victim: bool,
    pub feminine: bool,
    pub age: Option<i64>,
}

/// Every unmet rule, as stable codes (translated in the UI): empty means eligible.
pub fn unmet(rules: &Eligibility, f: &EligibilityFacts) -> Vec<&'static str> {
    let mut v = Vec::new();
    if rules.requires_police_cooperation && !f.cooperates_with_police {
        v.push("needs_police_cooperation");
    }
    if rules.requires_criminal_case && !f.has_criminal_case {
        v.push("needs_criminal_case");
    }
    if rules.requires_identified_victim && !f.identified_victim {
        v.push("needs_identified_victim");
    }
    if rules.women_only && !f.feminine {
        v.push("women_only");
    }
    if rules.children_only && f.age.is_none_or(|a| a >= 18) {
        v.push("children_only");
    }
    if rules.adults_only && f.age.is_some_and(|a| a < 18) {
        v.push("adults_only");
    }
    v
}

/// Removes the parts of an identity block that the granted sections do not cover:
/// names, birth date and identity number need `Identity`; phones, e-mail and address need
/// `ContactDetails`; free-text notes need `Notes`.
pub fn redact_identity(i: &Identity, allowed: &[Section]) -> Identity {
    let id = allowed.contains(&Section::Identity);
    let contact = allowed.contains(&Section::ContactDetails);
    let notes = allowed.contains(&Section::Notes);
    let keep = |ok: bool, v: &Option<String>| if ok { v.clone() } else { None };
    Identity {
        first_name: keep(id, &i.first_name),
        middle_name: keep(id, &i.middle_name),
        second_name: keep(id, &i.second_name),
        birthdate: keep(id, &i.birthdate),
        identity_number: keep(id, &i.identity_number),
        mobile_phone: keep(contact, &i.mobile_phone),
        home_phone: keep(contact, &i.home_phone),
        email: keep(contact, &i.email),
        mailing_street: keep(contact, &i.mailing_street),
        mailing_city: keep(contact, &i.mailing_city),
        mailing_country: keep(contact, &i.mailing_country),
        notes: keep(notes, &i.notes),
    }
}

/// A case as a reader with `allowed` sections sees it: the victim context (forms of
/// exploitation, age, context) needs `VictimContext`, the closure reason `Notes`, the identity
/// block as [`redact_identity`] says.
pub fn redact_case(mut v: CaseView, allowed: &[Section]) -> CaseView {
    if !allowed.contains(&Section::VictimContext) {
        v.context = Default::default();
        v.types_of_exploitation.clear();
        v.age_when_trafficked = None;
    }
    if !allowed.contains(&Section::Notes) {
        v.reason_for_closure = None;
    }
    if let Some(i) = &v.identity {
        v.identity = Some(redact_identity(i, allowed));
    }
    v
}

// ---------------------------------------------------------------- travel (return home, airport)

/// Travel details of a return-home or airport-meeting referral (transnational referral): what
/// the receiving organisation (IOM, a consulate, an NGO at the airport) needs to meet or
/// accompany the survivor. Stored encrypted with the case key; shown to the two organisations.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Travel {
    /// Day of travel or arrival (YYYY-MM-DD).
    #[serde(default)]
    pub travel_date: Option<String>,
    /// Arrival time at the airport (HH:MM, local time): airport meeting.
    #[serde(default)]
    pub arrival_time: Option<String>,
    /// Country of return (ISO 3166-1 alpha-2): return home.
    #[serde(default)]
    pub destination_country: Option<String>,
    /// Airport (name or IATA code): airport meeting.
    #[serde(default)]
    pub airport: Option<String>,
    #[serde(default)]
    pub flight: Option<String>,
    /// The survivor needs an accompanying person.
    #[serde(default)]
    pub escort_needed: bool,
    /// Travel documents: Valid, Missing or Requested (a travel document has been asked for).
    #[serde(default)]
    pub travel_documents: Option<String>,
    /// Free text (special needs, who meets her): encrypted like all of it.
    #[serde(default)]
    pub notes: Option<String>,
}

pub const TRAVEL_DOCUMENTS: &[&str] = &["Valid", "Missing", "Requested"];

/// Checks travel details against the referred services: return home needs the date and the
/// destination country, an airport meeting the date, the airport and the arrival time; the
/// date is not in the past; travel details without either service are refused. Every
/// problem names its field (`travel.…`). Returns the trimmed details.
pub fn check_travel(
    services: &[Service],
    travel: Option<&Travel>,
    today: time::Date,
) -> Result<Option<Travel>, crate::error::ValidationErrors> {
    let mut errs = crate::error::ValidationErrors::default();
    let home = services.contains(&Service::ReturnHome);
    let airport = services.contains(&Service::AirportMeeting);
    let Some(t) = travel else {
        if home || airport {
            errs.push(FieldError::new(
                "travel",
                "required",
                "a return-home or airport-meeting referral needs travel details",
            ));
        }
        errs.into_result()?;
        return Ok(None);
    };
    if !home && !airport {
        errs.push(FieldError::new(
            "travel",
            "not_applicable",
            "travel details belong to ReturnHome or AirportMeeting referrals",
        ));
        errs.into_result()?;
        return Ok(None);
    }
    let text = |errs: &mut crate::error::ValidationErrors,
                field: &str,
                v: &Option<String>,
                max: usize|
     -> Option<String> {
        let v = v.as_deref().map(str::trim).filter(|x| !x.is_empty())?;
        if v.chars().count() > max || v.chars().any(char::is_control) {
            errs.push(FieldError::new(
                format!("travel.{field}"),
                "invalid_text",
                format!("travel.{field}: at most {max} characters, no control characters"),
            ));
            return None;
        }
        Some(v.to_string())
    };
    let mut out = Travel {
        escort_needed: t.escort_needed,
        ..Travel::default()
    };
    match text(&mut errs, "travel_date", &t.travel_date, 10) {
        Some(d) => match time::Date::parse(
            &d,
            time::macros::format_description!("[year]-[month]-[day]"),
        ) {
            Ok(day) if day < today => errs.push(FieldError::new(
                "travel.travel_date",
                "in_the_past",
                "the travel date is in the past",
            )),
            Ok(_) => out.travel_date = Some(d),
            Err(_) => errs.push(FieldError::new(
                "travel.travel_date",
                "invalid_date",
                "expected a date YYYY-MM-DD",
            )),
        },
        None => errs.push(FieldError::new(
            "travel.travel_date",
            "required",
            "the day of travel or arrival is required",
        )),
    }
    match text(&mut errs, "arrival_time", &t.arrival_time, 5) {
        Some(x) => {
            if time::Time::parse(&x, time::macros::format_description!("[hour]:[minute]")).is_ok() {
                out.arrival_time = Some(x);
            } else {
                errs.push(FieldError::new(
                    "travel.arrival_time",
                    "invalid_time",
                    "expected a time HH:MM",
                ));
            }
        }
        None if airport => errs.push(FieldError::new(
            "travel.arrival_time",
            "required",
            "an airport meeting needs the arrival time",
        )),
        None => {}
    }
    match text(&mut errs, "destination_country", &t.destination_country, 2) {
        Some(c) => match crate::vocab::parse_country("travel.destination_country", &c) {
            Ok(c) => out.destination_country = Some(c),
            Err(e) => errs.push(e),
        },
        None if home => errs.push(FieldError::new(
            "travel.destination_country",
            "required",
            "a return home needs the destination country",
        )),
        None => {}
    }
    out.airport = text(&mut errs, "airport", &t.airport, 100);
    if airport && out.airport.is_none() && t.airport.as_deref().is_none_or(|a| a.trim().is_empty())
    {
        errs.push(FieldError::new(
            "travel.airport",
            "required",
            "an airport meeting needs the airport",
        ));
    }
    out.flight = text(&mut errs, "flight", &t.flight, 20);
    out.notes = text(&mut errs, "notes", &t.notes, 1000);
    match text(&mut errs, "travel_documents", &t.travel_documents, 20) {
        Some(d) if TRAVEL_DOCUMENTS.contains(&d.as_str()) => out.travel_documents = Some(d),
        Some(_) => errs.push(FieldError::new(
            "travel.travel_documents",
            "invalid_value",
            "travel_documents must be Valid, Missing or Requested",
        )),
        None => {}
    }
    errs.into_result()?;
    Ok(Some(out))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn decline_reasons_are_one_closed_list() {
        let codes: Vec<&str> = DeclineReason::ALL.iter().map(|r| r.code()).collect();
        assert_eq!(
            codes,
            [
                "no_capacity",
                "not_eligible",
                "outside_area",
                "service_unavailable",
                "survivor_declined",
                "other"
            ]
        );
        for r in DeclineReason::ALL {
            assert_eq!(DeclineReason::classify(r.code()), *r);
            let shouted = format!("  {}\n", r.code().to_uppercase());
            assert_eq!(DeclineReason::classify(&shouted), *r);
        }
        // The former gap-view code is no longer a code: it counts as other.
        assert_eq!(
            DeclineReason::classify("survivor_refused"),
            DeclineReason::Other
        );
    }

    proptest! {
        /// Free text that is not a code is `other`, so its words never reach a table.
        #[test]
        fn free_text_reasons_are_other(text in "\\PC{0,40}") {
            let t = text.trim().to_lowercase();
            let r = DeclineReason::classify(&text);
            if DeclineReason::ALL.iter().any(|c| c.code() == t) {
                prop_assert_eq!(r.code(), t.as_str());
            } else {
                prop_assert_eq!(r, DeclineReason::Other);
            }
        }
    }

    #[test]
    fn vocational_training_sees_no_health_or_contact_details() {
        let s = sections_for(&[Service::VocationalTraining]);
        assert!(s.contains(&Section::Identity) && s.contains(&Section::Plan));
        assert!(!s.contains(&Section::Health) && !s.contains(&Section::ContactDetails));
        let full = Identity {
            first_name: Some("A".into()),
            mobile_phone: Some("+994501234567".into()),
            notes: Some("n".into()),
            ..Default::default()
        };
        let r = redact_identity(&full, &s);
        assert_eq!(r.first_name.as_deref(), Some("A"));
        assert!(r.mobile_phone.is_none() && r.notes.is_none());
    }

    #[test]
    fn state_machine() {
        use ReferralEvent as E;
        use ReferralState as S;
        assert_eq!(
            transition(S::Pending, E::Accept, Side::Receiver),
            Some(S::Accepted)
        );
        assert_eq!(transition(S::Pending, E::Accept, Side::Sender), None);
        assert_eq!(
            transition(S::Accepted, E::Complete, Side::Receiver),
            Some(S::Completed)
        );
        assert_eq!(transition(S::Declined, E::Accept, Side::Receiver), None);
        assert_eq!(transition(S::Completed, E::Withdraw, Side::Sender), None);
    }

    #[test]
    fn eligibility_explains_every_unmet_rule() {
        let rules = Eligibility {
            requires_police_cooperation: true,
            requires_criminal_case: true,
            women_only: true,
            ..Default::default()
        };
        let f = EligibilityFacts {
            feminine: true,
            ..Default::default()
        };
        assert_eq!(
            unmet(&rules, &f),
            vec!["needs_police_cooperation", "needs_criminal_case"]
        );
    }

    fn any_state() -> impl Strategy<Value = ReferralState> {
        proptest::sample::select(ReferralState::ALL.to_vec())
    }

    proptest! {
        /// Pending and declined referrals never grant access; ended ones only within the grace.
        #[test]
        fn grants_only_while_accepted_or_in_grace(state in any_state(), ended in 0i64..1000, now in 0i64..3000, grace in 0i64..1000, by_consent: bool) {
            let r = ReferralFact { to_org: Uuid::from_u128(2), state, services: vec![Service::Medical], ended_at: Some(ended), ended_by_consent: by_consent };
            let g = grants(&[r], now, grace);
            let expected = match state {
                ReferralState::Accepted => true,
                ReferralState::Completed | ReferralState::Withdrawn => !by_consent && now < ended + grace,
                _ => false,
            };
            prop_assert_eq!(!g.is_empty(), expected);
        }

        /// Details and travel data: readable by the receiver only while pending or accepted, or
        /// within the grace of an ordinary end; never after a decline or a consent withdrawal.
        #[test]
        fn details_readable_only_while_live(state in any_state(), ended in 0i64..1000, now in 0i64..3000, grace in 0i64..1000, by_consent: bool) {
            let ok = details_readable(state, Some(ended), by_consent, now, grace);
            match state {
                ReferralState::Pending | ReferralState::Accepted => prop_assert!(ok),
                ReferralState::Declined => prop_assert!(!ok),
                _ => prop_assert_eq!(ok, !by_consent && now < ended + grace),
            }
            prop_assert!(!details_readable(state, None, false, now, grace) || matches!(state, ReferralState::Pending | ReferralState::Accepted));
        }

        /// No transition leaves a terminal state.
        #[test]
        fn terminal_states_are_final(state in any_state(), ev in proptest::sample::select(vec![ReferralEvent::Accept, ReferralEvent::Decline, ReferralEvent::Complete, ReferralEvent::Withdraw]), sender: bool) {
            let side = if sender { Side::Sender } else { Side::Receiver };
            if matches!(state, ReferralState::Declined | ReferralState::Completed | ReferralState::Withdrawn) {
                prop_assert_eq!(transition(state, ev, side), None);
            }
        }
    }

    fn day(s: &str) -> time::Date {
        time::Date::parse(s, time::macros::format_description!("[year]-[month]-[day]")).unwrap()
    }

    fn fields(e: crate::error::ValidationErrors) -> Vec<String> {
        e.errors.into_iter().map(|f| f.field).collect()
    }

    #[test]
    fn travel_rules() {
        let today = day("2026-05-01");
        // Required for return home / airport meeting, refused otherwise.
        assert_eq!(
            fields(check_travel(&[Service::ReturnHome], None, today).unwrap_err()),
            vec!["travel"]
        );
        assert!(
            check_travel(&[Service::Medical], None, today)
                .unwrap()
                .is_none()
        );
        let t = Travel {
            travel_date: Some("2026-05-03".into()),
            destination_country: Some("UZ".into()),
            ..Travel::default()
        };
        assert_eq!(
            fields(check_travel(&[Service::Medical], Some(&t), today).unwrap_err()),
            vec!["travel"]
        );
        assert!(check_travel(&[Service::ReturnHome], Some(&t), today).is_ok());
        // An airport meeting also needs the airport and the arrival time.
        let mut f = fields(check_travel(&[Service::AirportMeeting], Some(&t), today).unwrap_err());
        f.sort();
        assert_eq!(f, vec!["travel.airport", "travel.arrival_time"]);
        // Past dates, bad countries, times and document states are named.
        let bad = Travel {
            travel_date: Some("2026-04-30".into()),
            destination_country: Some("XX".into()),
            arrival_time: Some("25:00".into()),
            airport: Some("GYD".into()),
            travel_documents: Some("Lost".into()),
            ..Travel::default()
        };
        let mut f = fields(
            check_travel(
                &[Service::ReturnHome, Service::AirportMeeting],
                Some(&bad),
                today,
            )
            .unwrap_err(),
        );
        f.sort();
        assert_eq!(
            f,
            vec![
                "travel.arrival_time",
                "travel.destination_country",
                "travel.travel_date",
                "travel.travel_documents"
            ]
        );
    }

    proptest::proptest! {
        /// Whatever the input, accepted travel details carry a date not before today, and
        /// the fields each service needs.
        #[test]
        fn accepted_travel_is_complete(
            home in proptest::bool::ANY,
            airport in proptest::bool::ANY,
            date in proptest::option::of("2026-0[4-6]-[0-2][0-9]"),
            time in proptest::option::of("[0-2][0-9]:[0-5][0-9]"),
            country in proptest::option::of("[A-Z]{2}"),
            ap in proptest::option::of("[A-Z ]{0,4}"),
        ) {
            let mut services = vec![Service::Medical];
            if home { services.push(Service::ReturnHome); }
            if airport { services.push(Service::AirportMeeting); }
            let t = Travel { travel_date: date, arrival_time: time, destination_country: country, airport: ap, ..Travel::default() };
            let today = day("2026-05-01");
            if let Ok(Some(ok)) = check_travel(&services, Some(&t), today) {
                let d = day(ok.travel_date.as_deref().unwrap_or("1900-01-01"));
                proptest::prop_assert!(d >= today);
                if home { proptest::prop_assert!(ok.destination_country.is_some()); }
                if airport { proptest::prop_assert!(ok.airport.is_some() && ok.arrival_time.is_some()); }
                proptest::prop_assert!(home || airport);
            }
        }
    }
}
