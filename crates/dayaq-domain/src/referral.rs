//! Referrals: the service catalogue, which case sections each service needs, the referral
//! state machine, eligibility rules and the grant of access an accepted referral gives.

use crate::case::Identity;
use crate::error::FieldError;
use crate::policy::{Grant, Section};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// The service catalogue shared by referrals, the directory and assistance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
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

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
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

/// Who moves a referral: the sending or the receiving organisation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    Sender,
    Receiver,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
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
}

/// The grants that referrals give at `now_ms`: while accepted, and for `grace_ms` after it
/// completed or was withdrawn. Pending and declined referrals grant nothing.
pub fn grants(referrals: &[ReferralFact], now_ms: i64, grace_ms: i64) -> Vec<Grant> {
    referrals
        .iter()
        .filter(|r| match r.state {
            ReferralState::Accepted => true,
            ReferralState::Completed | ReferralState::Withdrawn => {
                r.ended_at.is_some_and(|e| now_ms < e + grace_ms)
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
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
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

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

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
        fn grants_only_while_accepted_or_in_grace(state in any_state(), ended in 0i64..1000, now in 0i64..3000, grace in 0i64..1000) {
            let r = ReferralFact { to_org: Uuid::from_u128(2), state, services: vec![Service::Medical], ended_at: Some(ended) };
            let g = grants(&[r], now, grace);
            let expected = match state {
                ReferralState::Accepted => true,
                ReferralState::Completed | ReferralState::Withdrawn => now < ended + grace,
                _ => false,
            };
            prop_assert_eq!(!g.is_empty(), expected);
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
}
