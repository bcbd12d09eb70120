//! Where a case stands on the mechanism's path (contact → screening → identification →
//! referral → assistance → follow-up) and the "next step" prompts taken from its data.
//! Pure: the facts are read by storage, already limited to what the reader may see
//! ([`ProgressFacts::visible_to`]); "today" is passed in.

use crate::policy::Section;
use crate::vocab::closed_enum;
use time::{Date, Duration};
use uuid::Uuid;

closed_enum!(
    "not a value for",
    /// The stages of the National Referral Mechanism's path, in order.
    Stage,
    "stage",
    [Contact, Screening, Identification, Referral, Assistance, FollowUp]
);

closed_enum!(
    "not a value for",
    /// A "next step" prompt: something the data says is missing or due.
    Prompt,
    "prompt",
    [
        NoConsent,
        ScreeningMissing,
        DecisionMissing,
        PlanMissing,
        PlanAwaitingApproval,
        PlanActionDue,
        FollowUpDue,
        ReferralUnanswered
    ]
);

closed_enum!(
    "not a value for",
    /// What the caseload list shows as a case's name (an organisation's policy).
    DisplayName,
    "display_name",
    [None, Initials, Pseudonym]
);

closed_enum!(
    "not a value for",
    /// The caseload list's order: next due date first, latest contact first, newest first.
    CaseloadSort,
    "sort",
    [Due, LastContact, Newest]
);

/// A prompt is raised for a dated item this many days before it is due (and once overdue).
pub const DUE_SOON_DAYS: i64 = 14;
/// A referral still pending this many days after it was sent is "unanswered".
pub const REFERRAL_ANSWER_DAYS: i64 = 3;

/// The state of the case's latest assistance plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlanState {
    NoPlan,
    AwaitingApproval,
    Approved,
}

/// What the prompts and the stage are computed from. `None` means "not known to this
/// reader" (a section it may not read, or a fact only the owning organisation sees): no
/// prompt and no stage is derived from an unknown fact.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProgressFacts {
    /// The case is closed: no prompts.
    pub closed: bool,
    /// The reader's organisation received the case by an accepted referral.
    pub received: bool,
    /// A consent is recorded and not withdrawn (owner only).
    pub consent: Option<bool>,
    /// A screening is recorded (victim context).
    pub screened: Option<bool>,
    /// An identification decision is recorded (victim context).
    pub decided: Option<bool>,
    /// Referrals sent for the case (owner only).
    pub referred: Option<bool>,
    /// The day the oldest still-pending referral was sent (owner only).
    pub pending_referral_since: Option<Date>,
    /// The latest assistance plan (plan).
    pub plan: Option<PlanState>,
    /// Earliest due date of an open plan action (plan).
    pub plan_action_due: Option<Date>,
    /// Services were delivered (services).
    pub services: Option<bool>,
    /// A follow-up plan exists (follow-up).
    pub followup: Option<bool>,
    /// Earliest due date of an open follow-up task (follow-up).
    pub followup_due: Option<Date>,
}

/// Whose facts: the case's owning organisation sees everything it may read; another
/// organisation (a referral's receiver) never the owner-only facts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reader {
    Owner,
    Other,
}

impl Prompt {
    /// The section a reader must be able to read for this prompt; `None` = owner-only facts
    /// that are not in a section (consent, sent referrals).
    pub fn section(self) -> Option<Section> {
        match self {
            Prompt::NoConsent | Prompt::ReferralUnanswered => None,
            Prompt::ScreeningMissing | Prompt::DecisionMissing => Some(Section::VictimContext),
            Prompt::PlanMissing | Prompt::PlanAwaitingApproval | Prompt::PlanActionDue => {
                Some(Section::Plan)
            }
            Prompt::FollowUpDue => Some(Section::FollowUp),
        }
    }

    /// The id of the case page's section where the prompt is acted on.
    pub fn anchor(self) -> &'static str {
        match self {
            Prompt::NoConsent => "consent",
            Prompt::ScreeningMissing => "screening",
            Prompt::DecisionMissing => "identification",
            Prompt::PlanMissing | Prompt::PlanAwaitingApproval | Prompt::PlanActionDue => {
                "assistance"
            }
            Prompt::FollowUpDue => "followup",
            Prompt::ReferralUnanswered => "referrals",
        }
    }
}

impl Stage {
    /// The id of the case page's section where the stage's work is recorded.
    pub fn anchor(self) -> &'static str {
        match self {
            Stage::Contact => "identification",
            Stage::Screening => "screening",
            Stage::Identification => "identification",
            Stage::Referral => "referrals",
            Stage::Assistance => "assistance",
            Stage::FollowUp => "followup",
        }
    }
}

/// One prompt with its due date, if it has one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NextStep {
    pub prompt: Prompt,
    pub due: Option<Date>,
}

impl ProgressFacts {
    /// The facts this reader may know: each fact is kept only when its section is readable;
    /// owner-only facts only for the owner.
    pub fn visible_to(mut self, reader: Reader, readable: &[Section]) -> ProgressFacts {
        let may = |s: Section| readable.contains(&s);
        if reader != Reader::Owner {
            self.consent = None;
            self.referred = None;
            self.pending_referral_since = None;
        }
        if !may(Section::VictimContext) {
            self.screened = None;
            self.decided = None;
        }
        if !may(Section::Plan) {
            self.plan = None;
            self.plan_action_due = None;
        }
        if !may(Section::Services) {
            self.services = None;
        }
        if !may(Section::FollowUp) {
            self.followup = None;
            self.followup_due = None;
        }
        self
    }

    /// The furthest stage the known facts show.
    pub fn stage(&self) -> Stage {
        let yes = |b: Option<bool>| b == Some(true);
        if yes(self.followup) {
            Stage::FollowUp
        } else if matches!(
            self.plan,
            Some(PlanState::AwaitingApproval | PlanState::Approved)
        ) || yes(self.services)
        {
            Stage::Assistance
        } else if yes(self.referred) || self.received {
            Stage::Referral
        } else if yes(self.decided) {
            Stage::Identification
        } else if yes(self.screened) {
            Stage::Screening
        } else {
            Stage::Contact
        }
    }

    /// The prompts, dated ones first by due date, then the others in `Prompt` order.
    /// A closed case has none.
    pub fn next_steps(&self, today: Date) -> Vec<NextStep> {
        if self.closed {
            return vec![];
        }
        let soon = today + Duration::days(DUE_SOON_DAYS);
        let mut out = Vec::new();
        let mut push = |prompt, due| out.push(NextStep { prompt, due });
        if self.consent == Some(false) {
            push(Prompt::NoConsent, None);
        }
        if self.screened == Some(false) {
            push(Prompt::ScreeningMissing, None);
        }
        if self.screened == Some(true) && self.decided == Some(false) {
            push(Prompt::DecisionMissing, None);
        }
        if self.decided == Some(true) && self.plan == Some(PlanState::NoPlan) {
            push(Prompt::PlanMissing, None);
        }
        if self.plan == Some(PlanState::AwaitingApproval) {
            push(Prompt::PlanAwaitingApproval, None);
        }
        if let Some(d) = self.plan_action_due.filter(|d| *d <= soon) {
            push(Prompt::PlanActionDue, Some(d));
        }
        if let Some(d) = self.followup_due.filter(|d| *d <= soon) {
            push(Prompt::FollowUpDue, Some(d));
        }
        if let Some(sent) = self.pending_referral_since {
            let answer_by = sent + Duration::days(REFERRAL_ANSWER_DAYS);
            if answer_by <= today {
                push(Prompt::ReferralUnanswered, Some(answer_by));
            }
        }
        out.sort_by_key(|s| (s.due.is_none(), s.due, s.prompt));
        out
    }
}

/// The earliest due date among the steps.
pub fn next_due(steps: &[NextStep]) -> Option<Date> {
    steps.iter().filter_map(|s| s.due).min()
}

/// Initials of a name ("A.M."), from the first letter of the first and second name; empty
/// when neither is known.
pub fn initials(first: Option<&str>, second: Option<&str>) -> String {
    [first, second]
        .into_iter()
        .flatten()
        .filter_map(|n| n.trim().chars().find(|c| c.is_alphabetic()))
        .flat_map(|c| c.to_uppercase().chain(std::iter::once('.')))
        .collect()
}

const PSEUDONYM_WORDS: &[&str] = &[
    "Alfa", "Bravo", "Charlie", "Delta", "Echo", "Foxtrot", "Golf", "Hotel", "India", "Juliett",
    "Kilo", "Lima", "Mike", "November", "Oscar", "Papa", "Quebec", "Romeo", "Sierra", "Tango",
    "Uniform", "Victor", "Whiskey", "Xray", "Yankee", "Zulu",
];

/// A stable pseudonym for a case ("Kilo 42"), derived from its random id only: it says
/// nothing about the person and is the same on every page.
pub fn pseudonym(case: Uuid) -> String {
    let n = case.as_u128();
    let word = PSEUDONYM_WORDS[(n % PSEUDONYM_WORDS.len() as u128) as usize];
    format!("{word} {:02}", (n >> 64) % 100)
}

#[cfg(test)]
mod tests;
