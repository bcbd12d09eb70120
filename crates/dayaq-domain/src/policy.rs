//! The access policy: one pure function, deny by default.
//!
//! `decide(actor, action, resource)` is the only place that says who may do what. Handlers and
//! storage queries over case data ask it before touching a case, and list queries are built
//! from the same facts (see `case_scope`).

use crate::role::Role;
use serde::Serialize;
use uuid::Uuid;

/// The authenticated person acting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Actor {
    pub user_id: Uuid,
    pub org_id: Uuid,
    pub role: Role,
}

/// Parts of a case record, for need-to-know access (referrals see only some of them).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Section {
    Identity,
    ContactDetails,
    VictimContext,
    Health,
    Legal,
    Plan,
    Services,
    FollowUp,
    Notes,
}

impl Section {
    pub const ALL: &'static [Section] = &[
        Section::Identity,
        Section::ContactDetails,
        Section::VictimContext,
        Section::Health,
        Section::Legal,
        Section::Plan,
        Section::Services,
        Section::FollowUp,
        Section::Notes,
    ];
}

/// An accepted referral's grant: the receiving organisation may read these sections.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    pub org_id: Uuid,
    pub sections: Vec<Section>,
}

/// What the policy needs to know about one case. Built by storage from the case row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseFacts {
    pub owner_org: Uuid,
    pub erased: bool,
    /// Active grants from accepted referrals.
    pub grants: Vec<Grant>,
    /// Users holding an unexpired break-glass on this case.
    pub break_glass: Vec<Uuid>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Create a case in the actor's organisation.
    CreateCase,
    /// List / search the cases the actor's organisation owns.
    ListCases,
    /// Read the non-identifying summary of a case (status, dates, attributes).
    ReadCase,
    /// Read one section (identity is the encrypted block).
    ReadSection(Section),
    UpdateCase,
    /// Crypto-shred a case.
    EraseCase,
    /// Hand the case over to another organisation (an explicit act; needs consent).
    TransferCase,
    /// Refer the case to another organisation for named services.
    ReferCase,
    /// Send a referral without a covering consent (written reason; audited).
    OverrideConsent,
    /// Ask for time-limited emergency access to a case outside the normal rules.
    BreakGlass,
    /// Accept, decline or complete referrals addressed to an organisation.
    RespondReferral,
    /// Edit an organisation's entry in the service directory.
    ManageDirectory,
    /// A supervisor's approval on a case (plan, closure, shelter extension, payment).
    Approve,
    /// Record a formal identification decision (vic_TraffickingStatus).
    DecideIdentification,
    /// Close a case (`cas_Status` Closed / ClosedReferred, with `cas_ReasonForCaseClosure`):
    /// case management, not intake or investigation.
    CloseCase,
    /// Reopen a closed case (explicit act with a reason, kept in the status history).
    ReopenCase,
    /// Open a new episode (re-trafficking): a new case linked to the person's previous case.
    OpenEpisode,
    /// Export or import HTCDS files of the actor's accessible cases.
    ExportCases,
    ImportCases,
    /// Export cases *with their identities* (names, birth dates, contact details): case
    /// management only (caseworkers and supervisors of the organisation). The HTTP layer also
    /// requires a session with a completed second factor.
    ExportIdentities,
    /// Manage users of an organisation.
    ManageUsers,
    /// Act on one user account (`Resource::User`): disable or enable it, reset its password
    /// (a new enrolment link), reset its second factor, list or revoke its API tokens.
    AdministerUser,
    /// Manage organisations and the directory.
    ManageOrganisations,
    ReadAudit,
    ReadStatistics,
    /// The annual national report (exact counts, internal and public variants): the national
    /// coordinator only (supervisors read their own organisation's figures, not the nation's).
    ReadNationalReport,
    /// The assistance-gap view (issue #15 part 2; aggregate counts only): nationally
    /// (`Resource::System`) for the national coordinator; an organisation's own caseload
    /// (`Resource::Organisation`) for its supervisors (the role `ReadStatistics` already
    /// grants); the coordinator reads the national view.
    ReadGapReport,
    /// The action-plan scorecard (indicators, lights): the national coordinator only — it is
    /// the national action plan's view; supervisors read their own organisation's figures.
    ReadScorecard,
    /// Enter a yearly value of an indicator the data cannot compute (with its source): the
    /// national coordinator only.
    EnterIndicatorValue,
    /// Change the rules of practice (the reflection period, facility admission rules) on
    /// `Resource::System`: the national coordinator only (issue #17 part 4).
    ManagePracticeRules,
    DownloadRelease,
    /// Ask for a research data release (issue #16): researchers (`Resource::System`; also
    /// their own requests list and age key).
    RequestRelease,
    /// Approve or refuse a release request, read the register and the privacy budget: the
    /// national coordinator (`Resource::System`), and on one request (`Resource::Release`)
    /// never its requester.
    DecideRelease,
    /// Own password, second factor and sessions.
    ManageOwnAccount,
    /// Access-anomaly alerts (issue #18 part 2): every alert (`Resource::System`) for
    /// auditors; an organisation's alerts (`Resource::Organisation`) for its administrator.
    ReadAlerts,
    /// Acknowledge an alert with a note: the same readers (never an alert about oneself,
    /// checked by storage).
    AcknowledgeAlert,
    /// Read and set the organisation's retention rules and preview what the daily job
    /// erases (issue #17 part 3): a supervisor of the organisation, the role that may erase
    /// a case.
    ManageRetention,
    /// Set or lift a legal hold on a case (it is then never shredded by retention): a
    /// supervisor of the owning organisation.
    HoldCase,
    /// Record (and read) a data-subject request on a case: the survivor asks for her record,
    /// a correction, a restriction or the erasure (issue #17 part 2): case management of the
    /// owning organisation.
    RecordSubjectRequest,
    /// Decide a data-subject request (accept, approve an erasure, refuse with a legal reason),
    /// produce and download her record, execute an approved erasure: a supervisor of the
    /// owning organisation.
    DecideSubjectRequest,
    /// Record a service delivered on a case (issue #23 §8): every case-working role of the
    /// owning organisation (as `UpdateCase`); a caseworker or supervisor of an organisation
    /// whose accepted referral grants the services section (the service it was asked for).
    RecordService,
    /// Add an action to the case's plan or record its progress: the owning organisation (as
    /// `UpdateCase`); a caseworker or supervisor of a receiving organisation granted the plan.
    RecordPlanAction,
    /// Record a screening (indicators of trafficking): the owning organisation (as
    /// `UpdateCase`); a police officer of a receiving organisation granted the victim context
    /// (the identifying authority, issue #23 §10).
    RecordScreening,
    /// Request the one-time allowance: caseworkers, supervisors and the police (the
    /// identifying authority requests it for the victims it identified) of the owning
    /// organisation; never a hotline operator, never a receiving organisation (issue #23 §10).
    RequestAllowance,
    /// Create API tokens for oneself (issue 22 §3, "integration rights", on
    /// `Resource::OwnAccount`): supervisors, organisation admins, the national coordinator
    /// (statistics integrations) and system admins. Everyone lists and revokes their own.
    CreateApiToken,
    /// Register an organisation's webhook endpoints and read their delivery log (issue 22 §4,
    /// on `Resource::Organisation`): the organisation's admin and its supervisors.
    ManageWebhooks,
    /// See the organisation's single sign-on provider and which accounts are linked (issue 22
    /// §1, on `Resource::Organisation`): the organisation's admin.
    ViewSsoSettings,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resource<'a> {
    /// The deployment as a whole (statistics, releases, audit log, organisations).
    System,
    /// An organisation (its case collection, its users).
    Organisation(Uuid),
    Case(&'a CaseFacts),
    /// The actor's own account.
    OwnAccount,
    /// Another user's account, for administration.
    User(TargetUser),
    /// One research data release request.
    Release(ReleaseFacts),
}

/// What the policy needs to know about a release request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReleaseFacts {
    /// The researcher who asked for it.
    pub requester: Uuid,
}

/// What the policy needs to know about a user account an administrator acts on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TargetUser {
    pub id: Uuid,
    pub org_id: Uuid,
    pub role: Role,
}

/// Roles an organisation admin administers: the roles of an organisation's own staff. Deployment
/// roles (national coordinator, researcher, auditor, system admin) belong to system admins.
pub fn org_admin_administers(role: Role) -> bool {
    matches!(
        role,
        Role::Caseworker
            | Role::Supervisor
            | Role::PoliceOfficer
            | Role::HotlineOperator
            | Role::OrgAdmin
    )
}

/// The answer, with a stable reason code (never personal data) for audit and errors.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Decision {
    pub allowed: bool,
    pub reason: &'static str,
}

const fn allow(reason: &'static str) -> Decision {
    Decision {
        allowed: true,
        reason,
    }
}
const fn deny(reason: &'static str) -> Decision {
    Decision {
        allowed: false,
        reason,
    }
}

impl Decision {
    pub fn is_allowed(&self) -> bool {
        self.allowed
    }
}

/// The access policy. Deny by default: every allow below is an explicit rule of DESIGN.md §2.
pub fn decide(actor: &Actor, action: Action, resource: Resource<'_>) -> Decision {
    use Action as A;
    use Resource as R;
    use Role::*;
    match (action, resource) {
        (A::ManageOwnAccount, R::OwnAccount) => allow("own_account"),

        (A::CreateCase | A::ListCases | A::ImportCases | A::ExportCases, R::Organisation(org)) => {
            if !actor.role.works_cases() {
                deny("role_without_case_access")
            } else if org != actor.org_id {
                deny("other_organisation")
            } else if matches!(action, A::ImportCases) && actor.role == HotlineOperator {
                deny("role_cannot_import")
            } else {
                allow("own_organisation")
            }
        }

        (A::ExportIdentities, R::Organisation(org)) => {
            if !actor.role.works_cases() {
                deny("role_without_case_access")
            } else if org != actor.org_id {
                deny("other_organisation")
            } else if matches!(actor.role, Caseworker | Supervisor) {
                allow("case_management_export")
            } else {
                deny("identity_export_needs_case_manager")
            }
        }

        // A supervisor's approval on an organisation's matter (an identity export request, the
        // organisation's export-approval setting).
        (A::Approve, R::Organisation(org)) => {
            if org != actor.org_id {
                deny("other_organisation")
            } else if actor.role == Supervisor {
                allow("supervisor_approval")
            } else {
                deny("approval_needs_supervisor")
            }
        }

        (_, R::Case(facts)) => decide_case(actor, action, facts),

        (A::RespondReferral, R::Organisation(org)) => {
            if !actor.role.works_cases() {
                deny("role_without_case_access")
            } else if org != actor.org_id {
                deny("other_organisation")
            } else {
                allow("receiving_organisation")
            }
        }
        (A::ManageDirectory, R::Organisation(org)) => match actor.role {
            OrgAdmin | Supervisor if org == actor.org_id => allow("own_directory_entry"),
            SystemAdmin => allow("system_admin"),
            _ => deny("role_cannot_manage_directory"),
        },
        (A::ManageUsers, R::Organisation(org)) => match actor.role {
            OrgAdmin if org == actor.org_id => allow("org_admin_own_organisation"),
            OrgAdmin => deny("other_organisation"),
            SystemAdmin => allow("system_admin"),
            _ => deny("role_cannot_manage_users"),
        },
        (A::AdministerUser, R::User(t)) => {
            if t.id == actor.user_id {
                // One's own password, factor and tokens are managed on the account screen;
                // an administrator cannot disable or reset themselves here.
                deny("own_account")
            } else {
                match actor.role {
                    SystemAdmin => allow("system_admin"),
                    OrgAdmin if t.org_id != actor.org_id => deny("other_organisation"),
                    OrgAdmin if !org_admin_administers(t.role) => deny("role_above_org_admin"),
                    OrgAdmin => allow("org_admin_own_organisation"),
                    _ => deny("role_cannot_manage_users"),
                }
            }
        }
        (A::ManageOrganisations, R::System) => match actor.role {
            SystemAdmin => allow("system_admin"),
            _ => deny("role_cannot_manage_organisations"),
        },
        (A::ReadAudit, R::System) => match actor.role {
            Auditor => allow("auditor"),
            _ => deny("role_cannot_read_audit"),
        },
        // The audit viewer for one organisation's own rows (issue #18): the organisation's
        // administrator (the role `ManageUsers` grants); auditors read everything (above).
        (A::ReadAudit, R::Organisation(org)) => match actor.role {
            OrgAdmin if org == actor.org_id => allow("org_admin_own_organisation"),
            OrgAdmin => deny("other_organisation"),
            _ => deny("role_cannot_read_audit"),
        },
        (A::ReadStatistics, R::System) => match actor.role {
            NationalCoordinator | Supervisor => allow("aggregate_statistics"),
            _ => deny("role_cannot_read_statistics"),
        },
        (A::ReadNationalReport, R::System) => match actor.role {
            NationalCoordinator => allow("national_report"),
            _ => deny("role_cannot_read_national_report"),
        },
        (A::ReadGapReport, R::System) => match actor.role {
            NationalCoordinator => allow("national_gap_report"),
            _ => deny("role_cannot_read_national_gap_report"),
        },
        (A::ReadGapReport, R::Organisation(org)) => match actor.role {
            Supervisor if org == actor.org_id => allow("own_caseload_gap_report"),
            Supervisor => deny("other_organisation"),
            _ => deny("role_cannot_read_gap_report"),
        },
        (A::ReadScorecard, R::System) => match actor.role {
            NationalCoordinator => allow("scorecard"),
            _ => deny("role_cannot_read_scorecard"),
        },
        (A::EnterIndicatorValue, R::System) => match actor.role {
            NationalCoordinator => allow("scorecard_value"),
            _ => deny("role_cannot_enter_indicator_value"),
        },
        (A::ManagePracticeRules, R::System) => match actor.role {
            NationalCoordinator => allow("practice_rules"),
            _ => deny("role_cannot_manage_practice_rules"),
        },
        (A::ManageRetention, R::Organisation(org)) => match actor.role {
            Supervisor if org == actor.org_id => allow("supervisor_retention"),
            Supervisor => deny("other_organisation"),
            _ => deny("retention_needs_supervisor"),
        },
        // Only a requester downloads a file, and only researchers request: the role-level
        // rule says no more than the request-level one (`decide_release`) enforces.
        (A::DownloadRelease, R::System) => match actor.role {
            Researcher => allow("anonymised_release"),
            _ => deny("role_cannot_download_release"),
        },
        (A::RequestRelease, R::System) => match actor.role {
            Researcher => allow("release_request"),
            _ => deny("role_cannot_request_release"),
        },
        (A::DecideRelease, R::System) => match actor.role {
            NationalCoordinator => allow("release_register"),
            _ => deny("role_cannot_decide_release"),
        },
        (A::DecideRelease | A::DownloadRelease, R::Release(f)) => decide_release(actor, action, f),
        (A::ReadAlerts | A::AcknowledgeAlert, R::System) => match actor.role {
            Auditor => allow("auditor"),
            _ => deny("role_cannot_read_alerts"),
        },
        (A::ReadAlerts | A::AcknowledgeAlert, R::Organisation(org)) => match actor.role {
            OrgAdmin if org == actor.org_id => allow("org_admin_own_organisation"),
            OrgAdmin => deny("other_organisation"),
            _ => deny("role_cannot_read_alerts"),
        },
        (A::CreateApiToken, R::OwnAccount) => match actor.role {
            Supervisor | OrgAdmin | NationalCoordinator | SystemAdmin => {
                allow("integration_rights")
            }
            _ => deny("role_without_integration_rights"),
        },
        (A::ManageWebhooks, R::Organisation(org)) => match actor.role {
            OrgAdmin | Supervisor if org == actor.org_id => allow("own_organisation_webhooks"),
            OrgAdmin | Supervisor => deny("other_organisation"),
            _ => deny("role_cannot_manage_webhooks"),
        },
        (A::ViewSsoSettings, R::Organisation(org)) => match actor.role {
            OrgAdmin if org == actor.org_id => allow("org_admin_own_organisation"),
            OrgAdmin => deny("other_organisation"),
            _ => deny("role_cannot_view_sso_settings"),
        },
        _ => deny("no_rule"),
    }
}

/// One release request: a second person decides (the national coordinator, never the
/// requester, whatever her role); only the requester downloads the file.
fn decide_release(actor: &Actor, action: Action, f: ReleaseFacts) -> Decision {
    let own = f.requester == actor.user_id;
    match action {
        Action::DecideRelease if own => deny("requester_cannot_decide"),
        Action::DecideRelease if actor.role == Role::NationalCoordinator => {
            allow("release_decision")
        }
        Action::DecideRelease => deny("role_cannot_decide_release"),
        Action::DownloadRelease if own && actor.role == Role::Researcher => allow("own_release"),
        Action::DownloadRelease => deny("not_the_requester"),
        _ => deny("no_rule"),
    }
}

/// Under which grant `actor` reaches a case, for the audit row (`audit_log.access_grant`):
/// `owner` (the owning organisation), `break_glass` (an unexpired break-glass of the user),
/// `referral` (an accepted referral to the actor's organisation), or `""` (none: a refusal).
pub fn access_grant(actor: &Actor, facts: &CaseFacts) -> &'static str {
    if facts.owner_org == actor.org_id {
        "owner"
    } else if facts.break_glass.contains(&actor.user_id) {
        "break_glass"
    } else if facts.grants.iter().any(|g| g.org_id == actor.org_id) {
        "referral"
    } else {
        ""
    }
}

/// The sections a case-timeline event (`case_events.kind`) reveals: a reader sees an event
/// only when every listed section is readable for them. An empty list is the case summary
/// (status, creation, updates: what `ReadCase` already shows). Kinds not listed here —
/// transfers, break-glass, package exchanges, removals, anything new — need every section,
/// i.e. the owning organisation (or a break-glass holder). Referral events are shown to a
/// receiving organisation only for its own referral (storage checks the referral id).
pub fn event_sections(kind: &str) -> &'static [Section] {
    use Section::*;
    let prefix = kind.split('.').next().unwrap_or("");
    match (prefix, kind) {
        (
            _,
            "case.created"
            | "case.updated"
            | "case.erased"
            | "record.status"
            | "record.closed"
            | "record.reopened"
            | "record.episode"
            | "record.next-episode",
        ) => &[],
        ("consent", _) => &[],
        ("legal", _) | (_, "record.perpetrator") => &[Legal],
        (_, "record.event") => &[VictimContext],
        (_, "record.dependant") => &[Plan],
        ("identification" | "screening" | "contact", _) => &[VictimContext],
        ("plan" | "assessment", _) => &[Plan],
        ("shelter" | "service" | "allowance", _) => &[Services],
        ("followup", _) => &[FollowUp],
        (_, "referral.accepted" | "referral.declined" | "referral.completed")
        | (_, "referral.withdrawn" | "referral.created" | "referral.pending")
        | (_, "referral.ended-by-consent") => &[],
        _ => Section::ALL,
    }
}

/// Derived labels (issue #23 §9): whether a plan type (`spl_Type`) may be shown to a reader of
/// `allowed` sections. The rehabilitation plan types name the form of exploitation, which is
/// part of the victim context: without that section they are "not shared".
pub fn plan_type_visible(spl_type: &str, allowed: &[Section]) -> bool {
    use crate::assistance::PlanType;
    allowed.contains(&Section::VictimContext)
        || !matches!(
            PlanType::parse(spl_type),
            Ok(PlanType::LabourExploitationRehabilitation
                | PlanType::SexualExploitationRehabilitation)
        )
}

/// The detail of a visible timeline event as a reader of `allowed` sections may see it: the
/// detail of an event is a code derived from a section (a plan type, a screening result),
/// and obeys the same grants as its source (issue #23 §9). Empty when not shared.
pub fn event_detail<'a>(kind: &str, detail: &'a str, allowed: &[Section]) -> &'a str {
    let shown = event_visible(kind, allowed)
        && (kind != "plan.created" || plan_type_visible(detail, allowed));
    if shown { detail } else { "" }
}

/// Whether an event of `kind` may be shown to a reader who may read `allowed` sections.
/// Referral events need the storage check of the referral id as well.
pub fn event_visible(kind: &str, allowed: &[Section]) -> bool {
    event_sections(kind).iter().all(|s| allowed.contains(s))
}

fn decide_case(actor: &Actor, action: Action, facts: &CaseFacts) -> Decision {
    use Action as A;
    use Role::*;
    if facts.erased {
        return deny("case_erased");
    }
    if !actor.role.works_cases() {
        return deny("role_without_case_access");
    }
    let own = facts.owner_org == actor.org_id;
    if own {
        return match action {
            A::ReadCase | A::ReadSection(_) | A::UpdateCase | A::TransferCase | A::ReferCase => {
                allow("own_organisation")
            }
            A::Approve if actor.role == Supervisor => allow("supervisor_approval"),
            A::Approve => deny("approval_needs_supervisor"),
            A::OverrideConsent if actor.role == Supervisor => allow("supervisor_override"),
            A::OverrideConsent => deny("override_needs_supervisor"),
            A::EraseCase if actor.role == Supervisor => allow("supervisor_own_organisation"),
            A::EraseCase => deny("erase_needs_supervisor"),
            A::HoldCase if actor.role == Supervisor => allow("supervisor_legal_hold"),
            A::HoldCase => deny("hold_needs_supervisor"),
            A::DecideIdentification if actor.role == PoliceOfficer => allow("competent_authority"),
            A::DecideIdentification => deny("decision_needs_police"),
            A::CloseCase | A::ReopenCase | A::OpenEpisode
                if matches!(actor.role, Caseworker | Supervisor) =>
            {
                allow("case_management")
            }
            A::CloseCase => deny("close_needs_caseworker"),
            A::ReopenCase | A::OpenEpisode => deny("reopen_needs_caseworker"),
            A::RecordSubjectRequest if matches!(actor.role, Caseworker | Supervisor) => {
                allow("case_management")
            }
            A::RecordSubjectRequest => deny("subject_request_needs_case_manager"),
            A::DecideSubjectRequest if actor.role == Supervisor => {
                allow("supervisor_own_organisation")
            }
            A::DecideSubjectRequest => deny("subject_request_decision_needs_supervisor"),
            A::RecordService | A::RecordPlanAction | A::RecordScreening => {
                allow("own_organisation")
            }
            A::RequestAllowance if actor.role == HotlineOperator => {
                deny("allowance_needs_case_manager")
            }
            A::RequestAllowance => allow("own_organisation"),
            _ => deny("no_rule"),
        };
    }
    // Any supervisor may ask for break-glass access (reason required, time-limited, the
    // owner's supervisors are notified); the access itself is the rule below.
    if action == A::BreakGlass {
        return if actor.role == Supervisor {
            allow("break_glass_request")
        } else {
            deny("break_glass_needs_supervisor")
        };
    }
    // Break-glass: a supervisor's time-limited, audited emergency read.
    if actor.role == Supervisor
        && facts.break_glass.contains(&actor.user_id)
        && matches!(action, A::ReadCase | A::ReadSection(_))
    {
        return allow("break_glass");
    }
    // Accepted referral: the receiving organisation sees the granted sections only.
    let granted: Vec<Section> = facts
        .grants
        .iter()
        .filter(|g| g.org_id == actor.org_id)
        .flat_map(|g| g.sections.iter().copied())
        .collect();
    if granted.is_empty() {
        return deny("other_organisation");
    }
    match action {
        A::ReadCase => allow("accepted_referral"),
        A::ReadSection(s) if granted.contains(&s) => allow("accepted_referral_section"),
        A::ReadSection(_) => deny("section_not_referred"),
        A::DecideIdentification if actor.role == PoliceOfficer => {
            allow("competent_authority_referral")
        }
        // The receiving organisation records what it was asked to deliver, within the
        // granted sections only (issue #23 §8); the police record a screening (§10).
        A::RecordService | A::RecordPlanAction => {
            let section = if action == A::RecordService {
                Section::Services
            } else {
                Section::Plan
            };
            if !granted.contains(&section) {
                deny("section_not_referred")
            } else if matches!(actor.role, Caseworker | Supervisor) {
                allow("accepted_referral_delivery")
            } else {
                deny("delivery_needs_case_manager")
            }
        }
        A::RecordScreening
            if actor.role == PoliceOfficer && granted.contains(&Section::VictimContext) =>
        {
            allow("competent_authority_referral")
        }
        _ => deny("referral_is_read_only"),
    }
}

/// Whether `actor` may ask for break-glass access at all (on a case of another organisation):
/// the break-glass card is shown only to them (issue #23 §5).
pub fn may_request_break_glass(actor: &Actor) -> bool {
    let elsewhere = CaseFacts {
        owner_org: if actor.org_id == Uuid::nil() {
            Uuid::max()
        } else {
            Uuid::nil()
        },
        erased: false,
        grants: vec![],
        break_glass: vec![],
    };
    decide(actor, Action::BreakGlass, Resource::Case(&elsewhere)).allowed
}

/// The case page's action buttons (issue #23 §10): the policy is asked once per button, so
/// a screen shows only what the reader may do. Field names are the buttons' actions.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct CaseButtons {
    pub update: bool,
    pub refer: bool,
    pub screen: bool,
    pub decide_identification: bool,
    pub record_service: bool,
    pub plan_action: bool,
    pub request_allowance: bool,
    pub approve: bool,
    pub close: bool,
}

impl CaseButtons {
    /// Asks `decide` for each button of the case page.
    pub fn of(actor: &Actor, facts: &CaseFacts) -> CaseButtons {
        let may = |a: Action| decide(actor, a, Resource::Case(facts)).allowed;
        CaseButtons {
            update: may(Action::UpdateCase),
            refer: may(Action::ReferCase),
            screen: may(Action::RecordScreening),
            decide_identification: may(Action::DecideIdentification),
            record_service: may(Action::RecordService),
            plan_action: may(Action::RecordPlanAction),
            request_allowance: may(Action::RequestAllowance),
            approve: may(Action::Approve),
            close: may(Action::CloseCase),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn actor(role: Role, org: Uuid) -> Actor {
        Actor {
            user_id: Uuid::from_u128(7),
            org_id: org,
            role,
        }
    }
    fn facts(owner: Uuid) -> CaseFacts {
        CaseFacts {
            owner_org: owner,
            erased: false,
            grants: vec![],
            break_glass: vec![],
        }
    }
    const A: Uuid = Uuid::from_u128(1);
    const B: Uuid = Uuid::from_u128(2);

    #[test]
    fn caseworker_reads_own_org_case_only() {
        let a = actor(Role::Caseworker, A);
        assert!(decide(&a, Action::ReadCase, Resource::Case(&facts(A))).allowed);
        let d = decide(&a, Action::ReadCase, Resource::Case(&facts(B)));
        assert_eq!(d, deny("other_organisation"));
    }

    #[test]
    fn only_police_decide_identification() {
        let f = facts(A);
        assert!(
            decide(
                &actor(Role::PoliceOfficer, A),
                Action::DecideIdentification,
                Resource::Case(&f)
            )
            .allowed
        );
        assert!(
            !decide(
                &actor(Role::Caseworker, A),
                Action::DecideIdentification,
                Resource::Case(&f)
            )
            .allowed
        );
    }

    #[test]
    fn erase_needs_supervisor() {
        let f = facts(A);
        assert!(
            !decide(
                &actor(Role::Caseworker, A),
                Action::EraseCase,
                Resource::Case(&f)
            )
            .allowed
        );
        assert!(
            decide(
                &actor(Role::Supervisor, A),
                Action::EraseCase,
                Resource::Case(&f)
            )
            .allowed
        );
    }

    #[test]
    fn subject_requests_recorded_by_case_managers_decided_by_supervisors() {
        let f = facts(A);
        let may = |r: Role, org: Uuid, act: Action| {
            decide(&actor(r, org), act, Resource::Case(&f)).allowed
        };
        assert!(may(Role::Caseworker, A, Action::RecordSubjectRequest));
        assert!(may(Role::Supervisor, A, Action::RecordSubjectRequest));
        assert!(!may(Role::HotlineOperator, A, Action::RecordSubjectRequest));
        assert!(!may(Role::Caseworker, A, Action::DecideSubjectRequest));
        assert!(may(Role::Supervisor, A, Action::DecideSubjectRequest));
        assert!(!may(Role::Supervisor, B, Action::DecideSubjectRequest));
        assert!(!may(Role::Supervisor, B, Action::RecordSubjectRequest));
    }

    #[test]
    fn referral_grant_is_section_scoped() {
        let mut f = facts(A);
        f.grants.push(Grant {
            org_id: B,
            sections: vec![Section::Services],
        });
        let b = actor(Role::Caseworker, B);
        assert!(
            decide(
                &b,
                Action::ReadSection(Section::Services),
                Resource::Case(&f)
            )
            .allowed
        );
        assert!(
            !decide(
                &b,
                Action::ReadSection(Section::Identity),
                Resource::Case(&f)
            )
            .allowed
        );
        assert!(!decide(&b, Action::UpdateCase, Resource::Case(&f)).allowed);
    }

    #[test]
    fn break_glass_is_read_only_for_the_holder() {
        let mut f = facts(A);
        let s = actor(Role::Supervisor, B);
        assert!(!decide(&s, Action::ReadCase, Resource::Case(&f)).allowed);
        f.break_glass.push(s.user_id);
        assert!(
            decide(
                &s,
                Action::ReadSection(Section::Identity),
                Resource::Case(&f)
            )
            .allowed
        );
        assert!(!decide(&s, Action::UpdateCase, Resource::Case(&f)).allowed);
    }

    #[test]
    fn org_admin_administers_own_organisation_staff_only() {
        let admin = actor(Role::OrgAdmin, A);
        let user = |org, role| TargetUser {
            id: Uuid::from_u128(42),
            org_id: org,
            role,
        };
        let d = |t| decide(&admin, Action::AdministerUser, Resource::User(t));
        assert!(d(user(A, Role::Caseworker)).allowed);
        assert_eq!(d(user(B, Role::Caseworker)), deny("other_organisation"));
        assert_eq!(d(user(A, Role::SystemAdmin)), deny("role_above_org_admin"));
        let me = TargetUser {
            id: admin.user_id,
            org_id: A,
            role: Role::OrgAdmin,
        };
        assert_eq!(d(me), deny("own_account"));
        let cw = actor(Role::Caseworker, A);
        assert!(
            !decide(
                &cw,
                Action::AdministerUser,
                Resource::User(user(A, Role::Caseworker))
            )
            .allowed
        );
    }

    #[test]
    fn closing_is_case_management() {
        let f = facts(A);
        for (role, ok) in [
            (Role::Caseworker, true),
            (Role::Supervisor, true),
            (Role::HotlineOperator, false),
            (Role::PoliceOfficer, false),
        ] {
            let d = decide(&actor(role, A), Action::CloseCase, Resource::Case(&f));
            assert_eq!(d.allowed, ok, "{role:?}");
            // Editing stays open to every case-working role of the owner.
            assert!(decide(&actor(role, A), Action::UpdateCase, Resource::Case(&f)).allowed);
        }
    }

    #[test]
    fn reopen_needs_caseworker_or_supervisor() {
        let f = facts(A);
        for (role, ok) in [
            (Role::Caseworker, true),
            (Role::Supervisor, true),
            (Role::HotlineOperator, false),
            (Role::PoliceOfficer, false),
        ] {
            assert_eq!(
                decide(&actor(role, A), Action::ReopenCase, Resource::Case(&f)).allowed,
                ok
            );
            assert_eq!(
                decide(&actor(role, A), Action::OpenEpisode, Resource::Case(&f)).allowed,
                ok
            );
        }
        assert_eq!(
            decide(
                &actor(Role::Caseworker, B),
                Action::ReopenCase,
                Resource::Case(&f)
            ),
            deny("other_organisation")
        );
    }

    #[test]
    fn identity_export_is_case_management() {
        for role in Role::ALL {
            let d = decide(
                &actor(*role, A),
                Action::ExportIdentities,
                Resource::Organisation(A),
            );
            assert_eq!(
                d.allowed,
                matches!(role, Role::Caseworker | Role::Supervisor),
                "{role:?}"
            );
        }
        // A hotline operator may still export the organisation's cases (without identities).
        assert!(
            decide(
                &actor(Role::HotlineOperator, A),
                Action::ExportCases,
                Resource::Organisation(A)
            )
            .allowed
        );
        assert_eq!(
            decide(
                &actor(Role::HotlineOperator, A),
                Action::ExportIdentities,
                Resource::Organisation(A)
            ),
            deny("identity_export_needs_case_manager")
        );
    }

    #[test]
    fn organisation_approvals_are_for_its_supervisors() {
        for role in Role::ALL {
            let d = decide(&actor(*role, A), Action::Approve, Resource::Organisation(A));
            assert_eq!(d.allowed, *role == Role::Supervisor, "{role:?}");
            assert!(!decide(&actor(*role, A), Action::Approve, Resource::Organisation(B)).allowed);
        }
    }

    #[test]
    fn timeline_events_follow_section_grants() {
        let medical = crate::referral::sections_for(&[crate::referral::Service::Medical]);
        assert!(event_visible("case.updated", &medical));
        assert!(!event_visible("legal.updated", &medical));
        assert!(!event_visible("shelter.admitted", &medical));
        assert!(!event_visible("followup.assessment", &medical));
        assert!(!event_visible("plan.created", &medical));
        assert!(!event_visible("record.event", &medical));
        // Unknown and owner-only kinds need every section.
        assert!(!event_visible("case.transferred", &medical));
        assert!(!event_visible("something.new", &medical));
        assert!(event_visible("something.new", Section::ALL));
        assert!(event_visible("legal.updated", &[Section::Legal]));
    }

    #[test]
    fn plan_types_naming_exploitation_need_the_victim_context() {
        let vocational =
            crate::referral::sections_for(&[crate::referral::Service::VocationalTraining]);
        assert!(!vocational.contains(&Section::VictimContext));
        for hidden in [
            "SexualExploitationRehabilitation",
            "LabourExploitationRehabilitation",
        ] {
            assert!(!plan_type_visible(hidden, &vocational));
            assert!(plan_type_visible(hidden, Section::ALL));
            assert_eq!(event_detail("plan.created", hidden, &vocational), "");
            assert_eq!(event_detail("plan.created", hidden, Section::ALL), hidden);
        }
        assert!(plan_type_visible("Livelihood", &vocational));
        assert_eq!(
            event_detail("plan.created", "Livelihood", &vocational),
            "Livelihood"
        );
        assert_eq!(
            event_detail("service.delivered", "VocationalTraining", &vocational),
            "VocationalTraining"
        );
    }

    fn any_role() -> impl Strategy<Value = Role> {
        proptest::sample::select(Role::ALL.to_vec())
    }
    fn any_action() -> impl Strategy<Value = Action> {
        let mut v = vec![
            Action::CreateCase,
            Action::ListCases,
            Action::ReadCase,
            Action::UpdateCase,
            Action::EraseCase,
            Action::TransferCase,
            Action::ReferCase,
            Action::OverrideConsent,
            Action::BreakGlass,
            Action::RespondReferral,
            Action::ManageDirectory,
            Action::Approve,
            Action::DecideIdentification,
            Action::CloseCase,
            Action::ReopenCase,
            Action::OpenEpisode,
            Action::ExportCases,
            Action::ImportCases,
            Action::ExportIdentities,
            Action::ManageUsers,
            Action::AdministerUser,
            Action::ManageOrganisations,
            Action::ReadAudit,
            Action::ReadStatistics,
            Action::ReadNationalReport,
            Action::ReadGapReport,
            Action::ReadScorecard,
            Action::EnterIndicatorValue,
            Action::ManagePracticeRules,
            Action::DownloadRelease,
            Action::RequestRelease,
            Action::DecideRelease,
            Action::ManageOwnAccount,
            Action::ReadAlerts,
            Action::AcknowledgeAlert,
            Action::ManageRetention,
            Action::HoldCase,
            Action::RecordSubjectRequest,
            Action::DecideSubjectRequest,
            Action::RecordService,
            Action::RecordPlanAction,
            Action::RecordScreening,
            Action::RequestAllowance,
            Action::CreateApiToken,
            Action::ManageWebhooks,
            Action::ViewSsoSettings,
        ];
        v.extend(Section::ALL.iter().map(|s| Action::ReadSection(*s)));
        proptest::sample::select(v)
    }

    proptest! {
        /// Without a grant or break-glass, no one outside the owning organisation touches a case
        /// (asking for break-glass is not access).
        #[test]
        fn other_org_never_sees_case(role in any_role(), action in any_action()) {
            prop_assume!(action != Action::BreakGlass);
            let a = actor(role, B);
            prop_assert!(!decide(&a, action, Resource::Case(&facts(A))).allowed);
        }

        /// Roles without case work (coordinator, researcher, auditor, admins) never see a case,
        /// whatever the grants.
        #[test]
        fn non_case_roles_never_see_case(role in any_role(), action in any_action(), own in any::<bool>()) {
            prop_assume!(!role.works_cases());
            let a = actor(role, A);
            let mut f = facts(if own { A } else { B });
            f.grants.push(Grant { org_id: A, sections: Section::ALL.to_vec() });
            f.break_glass.push(a.user_id);
            prop_assert!(!decide(&a, action, Resource::Case(&f)).allowed);
        }

        /// Erased cases are closed to everyone.
        #[test]
        fn erased_case_denied(role in any_role(), action in any_action()) {
            let mut f = facts(A);
            f.erased = true;
            prop_assert!(!decide(&actor(role, A), action, Resource::Case(&f)).allowed);
        }

        /// Closing, reopening and new episodes: caseworkers and supervisors of the owning
        /// organisation only (never hotline operators, police, other organisations, or
        /// referral receivers).
        #[test]
        fn reopen_and_episode_only_case_managers(role in any_role(), own in any::<bool>(), granted in any::<bool>()) {
            let a = actor(role, A);
            let mut f = facts(if own { A } else { B });
            if granted {
                f.grants.push(Grant { org_id: A, sections: Section::ALL.to_vec() });
            }
            for action in [Action::CloseCase, Action::ReopenCase, Action::OpenEpisode] {
                let allowed = decide(&a, action, Resource::Case(&f)).allowed;
                prop_assert_eq!(allowed, own && matches!(role, Role::Caseworker | Role::Supervisor));
            }
        }

        /// A user account is administered only by a system admin, or by an org admin of the
        /// same organisation for staff roles; never by anyone else, never on oneself.
        #[test]
        fn administer_user_only_own_org_admin(role in any_role(), target_role in any_role(),
                                              action in any_action(), same_org in any::<bool>(),
                                              same_user in any::<bool>()) {
            let a = actor(role, A);
            let t = TargetUser {
                id: if same_user { a.user_id } else { Uuid::from_u128(99) },
                org_id: if same_org { A } else { B },
                role: target_role,
            };
            let d = decide(&a, action, Resource::User(t));
            let expected = action == Action::AdministerUser
                && !same_user
                && (role == Role::SystemAdmin
                    || (role == Role::OrgAdmin && same_org && org_admin_administers(target_role)));
            prop_assert_eq!(d.allowed, expected);
        }

        /// Identity exports: caseworkers and supervisors of the organisation itself, and only
        /// roles that may export cases at all.
        #[test]
        fn identity_export_only_case_managers_of_own_org(role in any_role(), own in any::<bool>()) {
            let a = actor(role, A);
            let org = if own { A } else { B };
            let d = decide(&a, Action::ExportIdentities, Resource::Organisation(org));
            prop_assert_eq!(d.allowed, own && matches!(role, Role::Caseworker | Role::Supervisor));
            if d.allowed {
                prop_assert!(decide(&a, Action::ExportCases, Resource::Organisation(org)).allowed);
            }
        }

        /// Organisation-level case actions only on the actor's own organisation.
        #[test]
        fn org_actions_only_own(role in any_role(), action in any_action()) {
            let a = actor(role, A);
            let d = decide(&a, action, Resource::Organisation(B));
            if d.allowed {
                prop_assert!(role == Role::SystemAdmin && matches!(action, Action::ManageUsers | Action::ManageDirectory));
            }
        }
    }

    /// The rules of practice: the national coordinator only, on the system; no organisation
    /// or case resource grants it.
    #[test]
    fn practice_rules_only_coordinator() {
        let own = Uuid::new_v4();
        for role in Role::ALL {
            let a = actor(*role, own);
            let sys = decide(&a, Action::ManagePracticeRules, Resource::System).allowed;
            assert_eq!(sys, *role == Role::NationalCoordinator, "{role:?}");
            let org = decide(&a, Action::ManagePracticeRules, Resource::Organisation(own));
            assert!(!org.allowed, "{role:?}");
        }
    }

    /// The gap view: nationally for the coordinator only; an organisation's own caseload for
    /// its supervisors; nobody else, no other organisation.
    #[test]
    fn gap_report_scopes() {
        let own = Uuid::new_v4();
        let other = Uuid::new_v4();
        for role in Role::ALL {
            let a = actor(*role, own);
            let sys = decide(&a, Action::ReadGapReport, Resource::System).allowed;
            assert_eq!(sys, *role == Role::NationalCoordinator, "{role:?}");
            let mine = decide(&a, Action::ReadGapReport, Resource::Organisation(own)).allowed;
            assert_eq!(mine, *role == Role::Supervisor, "{role:?}");
            let theirs = decide(&a, Action::ReadGapReport, Resource::Organisation(other)).allowed;
            assert!(!theirs, "{role:?}");
        }
    }

    /// Research releases: researchers request, the coordinator decides the register.
    #[test]
    fn release_roles() {
        for role in Role::ALL {
            let a = actor(*role, A);
            assert_eq!(
                decide(&a, Action::RequestRelease, Resource::System).allowed,
                *role == Role::Researcher,
                "{role:?}"
            );
            assert_eq!(
                decide(&a, Action::DecideRelease, Resource::System).allowed,
                *role == Role::NationalCoordinator,
                "{role:?}"
            );
        }
    }

    proptest! {
        /// A release is decided by a national coordinator who is not its requester, and
        /// downloaded by its requester only (a researcher).
        #[test]
        fn release_four_eyes_and_own_download(role in any_role(), action in any_action(),
                                              own in any::<bool>()) {
            let a = actor(role, A);
            let f = ReleaseFacts { requester: if own { a.user_id } else { Uuid::from_u128(99) } };
            let d = decide(&a, action, Resource::Release(f));
            let expected = match action {
                Action::DecideRelease => !own && role == Role::NationalCoordinator,
                Action::DownloadRelease => own && role == Role::Researcher,
                _ => false,
            };
            prop_assert_eq!(d.allowed, expected);
            if action == Action::DecideRelease && own {
                prop_assert_eq!(d.reason, "requester_cannot_decide");
            }
        }
    }

    proptest! {
        /// The role-level download rule says what the request-level rule enforces: a role
        /// allowed on the system downloads its own request's file, and a role refused on the
        /// system is refused on every request (the coordinator included, issue #16).
        #[test]
        fn release_download_role_rule_matches_request_rule(role in any_role(),
                                                           requester in any::<u128>()) {
            let a = actor(role, A);
            let system = decide(&a, Action::DownloadRelease, Resource::System).allowed;
            let own = ReleaseFacts { requester: a.user_id };
            let other = ReleaseFacts { requester: Uuid::from_u128(requester) };
            prop_assert_eq!(system, role == Role::Researcher);
            prop_assert_eq!(
                system,
                decide(&a, Action::DownloadRelease, Resource::Release(own)).allowed
            );
            if !system {
                prop_assert!(!decide(&a, Action::DownloadRelease, Resource::Release(other)).allowed);
            }
        }
    }

    /// The audit viewer: everything for auditors, an organisation's own rows for its
    /// administrator only; no other role, no other organisation.
    #[test]
    fn audit_viewer_scopes() {
        let own = Uuid::new_v4();
        let other = Uuid::new_v4();
        for role in Role::ALL {
            let a = actor(*role, own);
            let sys = decide(&a, Action::ReadAudit, Resource::System).allowed;
            assert_eq!(sys, *role == Role::Auditor, "{role:?}");
            let mine = decide(&a, Action::ReadAudit, Resource::Organisation(own)).allowed;
            assert_eq!(mine, *role == Role::OrgAdmin, "{role:?}");
            let theirs = decide(&a, Action::ReadAudit, Resource::Organisation(other)).allowed;
            assert!(!theirs, "{role:?}");
        }
    }

    #[test]
    fn access_grant_names_the_way_in() {
        let me = actor(Role::Supervisor, B);
        let mut facts = CaseFacts {
            owner_org: A,
            erased: false,
            grants: vec![],
            break_glass: vec![],
        };
        assert_eq!(access_grant(&me, &facts), "");
        facts.grants.push(Grant {
            org_id: B,
            sections: vec![Section::Health],
        });
        assert_eq!(access_grant(&me, &facts), "referral");
        facts.break_glass.push(me.user_id);
        assert_eq!(access_grant(&me, &facts), "break_glass");
        facts.owner_org = B;
        assert_eq!(access_grant(&me, &facts), "owner");
    }

    /// Alerts: every alert (the system) for auditors; an organisation's own for its
    /// administrator; nobody else, no other organisation's.
    #[test]
    fn alert_scopes() {
        let own = Uuid::new_v4();
        let other = Uuid::new_v4();
        for role in Role::ALL {
            let a = actor(*role, own);
            for action in [Action::ReadAlerts, Action::AcknowledgeAlert] {
                let sys = decide(&a, action, Resource::System).allowed;
                assert_eq!(sys, *role == Role::Auditor, "{role:?}");
                let mine = decide(&a, action, Resource::Organisation(own)).allowed;
                assert_eq!(mine, *role == Role::OrgAdmin, "{role:?}");
                let theirs = decide(&a, action, Resource::Organisation(other)).allowed;
                assert!(!theirs, "{role:?}");
            }
        }
    }

    fn receiver_sections() -> impl Strategy<Value = Vec<Section>> {
        proptest::sample::subsequence(Section::ALL.to_vec(), 0..=Section::ALL.len())
    }

    proptest! {
        /// Issue #23 §9: an event detail is shown only when its event is, and a plan type
        /// naming the form of exploitation only with the victim context.
        #[test]
        fn event_details_obey_the_grants(sections in receiver_sections(),
                                         kind in proptest::sample::select(vec![
                                             "plan.created", "screening.recorded", "service.delivered",
                                             "identification.decided", "legal.updated", "case.updated"]),
                                         detail in proptest::sample::select(vec![
                                             "SexualExploitationRehabilitation", "LabourExploitationRehabilitation",
                                             "Livelihood", "possible_victim", "x"])) {
            let shown = event_detail(kind, detail, &sections);
            prop_assert!(shown.is_empty() || shown == detail);
            if !event_visible(kind, &sections) {
                prop_assert_eq!(shown, "");
            }
            if kind == "plan.created" && !sections.contains(&Section::VictimContext)
                && detail.contains("Exploitation") {
                prop_assert_eq!(shown, "");
            }
        }

        /// Issue #23 §8: a receiving organisation records a service (plan action) only when
        /// its accepted referral grants the services (plan) section, and only its caseworkers
        /// and supervisors; it never edits the case itself.
        #[test]
        fn receiver_delivers_within_granted_sections(role in any_role(), sections in receiver_sections()) {
            let a = actor(role, B);
            let mut f = facts(A);
            f.grants.push(Grant { org_id: B, sections: sections.clone() });
            let manages = matches!(role, Role::Caseworker | Role::Supervisor);
            let may = |act| decide(&a, act, Resource::Case(&f)).allowed;
            prop_assert_eq!(may(Action::RecordService), manages && sections.contains(&Section::Services));
            prop_assert_eq!(may(Action::RecordPlanAction), manages && sections.contains(&Section::Plan));
            prop_assert_eq!(
                may(Action::RecordScreening),
                role == Role::PoliceOfficer && sections.contains(&Section::VictimContext)
            );
            prop_assert!(!may(Action::UpdateCase));
            prop_assert!(!may(Action::RequestAllowance));
            // Another organisation's grant gives this one nothing.
            let mut other = facts(A);
            other.grants.push(Grant { org_id: Uuid::from_u128(3), sections: sections.clone() });
            for act in [Action::RecordService, Action::RecordPlanAction, Action::RecordScreening] {
                prop_assert!(!decide(&a, act, Resource::Case(&other)).allowed);
            }
        }

        /// Issue #23 §10: in the owning organisation, recording follows `UpdateCase`; the
        /// allowance is never requested by a hotline operator.
        #[test]
        fn owner_recording_follows_update_allowance_is_case_management(role in any_role()) {
            let a = actor(role, A);
            let f = facts(A);
            let may = |act| decide(&a, act, Resource::Case(&f)).allowed;
            for act in [Action::RecordService, Action::RecordPlanAction, Action::RecordScreening] {
                prop_assert_eq!(may(act), may(Action::UpdateCase));
            }
            prop_assert_eq!(
                may(Action::RequestAllowance),
                matches!(role, Role::Caseworker | Role::Supervisor | Role::PoliceOfficer)
            );
        }

        /// The break-glass card is shown to exactly those who may ask for it on another
        /// organisation's case.
        #[test]
        fn break_glass_card_follows_the_policy(role in any_role(), own in any::<bool>()) {
            let a = actor(role, if own { A } else { Uuid::nil() });
            prop_assert_eq!(may_request_break_glass(&a), role == Role::Supervisor);
            prop_assert_eq!(
                may_request_break_glass(&a),
                decide(&a, Action::BreakGlass, Resource::Case(&facts(B))).allowed
            );
        }

        /// Every case-page button is the policy's answer for its action.
        #[test]
        fn case_buttons_are_the_policy(role in any_role(), own in any::<bool>(), sections in receiver_sections()) {
            let a = actor(role, A);
            let mut f = facts(if own { A } else { B });
            f.grants.push(Grant { org_id: A, sections });
            let b = CaseButtons::of(&a, &f);
            let may = |act| decide(&a, act, Resource::Case(&f)).allowed;
            prop_assert_eq!(b.update, may(Action::UpdateCase));
            prop_assert_eq!(b.refer, may(Action::ReferCase));
            prop_assert_eq!(b.screen, may(Action::RecordScreening));
            prop_assert_eq!(b.decide_identification, may(Action::DecideIdentification));
            prop_assert_eq!(b.record_service, may(Action::RecordService));
            prop_assert_eq!(b.plan_action, may(Action::RecordPlanAction));
            prop_assert_eq!(b.request_allowance, may(Action::RequestAllowance));
            prop_assert_eq!(b.approve, may(Action::Approve));
            prop_assert_eq!(b.close, may(Action::CloseCase));
        }
    }

    /// The hotline operator of the owning organisation sees no case-management buttons; the
    /// police officer of a receiving organisation granted the victim context may screen.
    #[test]
    fn buttons_by_role() {
        let f = facts(A);
        let hotline = CaseButtons::of(&actor(Role::HotlineOperator, A), &f);
        assert!(hotline.update && !hotline.request_allowance && !hotline.close);
        let cw = CaseButtons::of(&actor(Role::Caseworker, A), &f);
        assert!(cw.request_allowance && cw.record_service && !cw.approve);
        let mut g = facts(A);
        g.grants.push(Grant {
            org_id: B,
            sections: crate::referral::sections_for(&[crate::referral::Service::LegalConsultation]),
        });
        let police = CaseButtons::of(&actor(Role::PoliceOfficer, B), &g);
        assert!(police.screen && police.decide_identification && !police.update);
        let mut v = facts(A);
        v.grants.push(Grant {
            org_id: B,
            sections: crate::referral::sections_for(&[
                crate::referral::Service::VocationalTraining,
            ]),
        });
        let centre = CaseButtons::of(&actor(Role::Caseworker, B), &v);
        assert!(centre.record_service && centre.plan_action && !centre.screen && !centre.update);
    }

    /// Retention (issue #17 part 3): rules and preview for the organisation's supervisors,
    /// legal holds for the owning organisation's supervisors; nobody else.
    #[test]
    fn retention_is_for_own_supervisors() {
        for role in Role::ALL {
            let a = actor(*role, A);
            let mine = decide(&a, Action::ManageRetention, Resource::Organisation(A)).allowed;
            assert_eq!(mine, *role == Role::Supervisor, "{role:?}");
            assert!(!decide(&a, Action::ManageRetention, Resource::Organisation(B)).allowed);
            assert!(!decide(&a, Action::ManageRetention, Resource::System).allowed);
            let hold = decide(&a, Action::HoldCase, Resource::Case(&facts(A))).allowed;
            assert_eq!(hold, *role == Role::Supervisor, "{role:?}");
            assert!(!decide(&a, Action::HoldCase, Resource::Case(&facts(B))).allowed);
        }
    }
}
