//! The authorisation matrix (issue 5): every API route of the OpenAPI document × every role ×
//! own / other organisation × referral state (none, pending, accepted, completed, withdrawn)
//! × consent state (a consent covering the receiving organisation, or none and a supervisor's
//! override), against the running server, asserting the access policy's answer.
//!
//! - `ROUTES` names, for every route, the policy question it must ask (`Need`). A route of
//!   the OpenAPI document missing from `ROUTES` (or the other way round) fails the test.
//! - For each scenario a fresh case of organisation A is built (with a consent, a referral to
//!   organisation B in the scenario's state, and sub-records: plan, goal, action, event,
//!   perpetrator, dependant, contact, funding source), then every route is called as one
//!   user (role × organisation). The expected answer is `decide(actor, action, facts)` with
//!   the case's facts as stored just before the call (routes that change access — referral
//!   answers, transfer, erasure, break-glass — run last).
//! - Allowed: the answer is not 401/403/404 and not a server error (422 or 409 for a body or
//!   a state the route refuses is fine: access passed). Denied: 403 or 404.
//! - A deliberately widened policy (a referral receiver may also edit the case) is evaluated
//!   against the same observations and must disagree: the matrix would catch it.
//!
//! Why this file is over 800 lines: about a third is the `ROUTES` table (one row per API route,
//! the matrix fails on a route without one) and the rest builds the referral and consent states
//! the matrix runs in; they read best side by side.

use crate::kit::{
    TestApp, api_request, csrf_field, form_post, json_answer, now, org_and_user, page_get, sign_in,
    spawn_app, user_token, web_client,
};
use dayaq_domain::Role;
use dayaq_domain::policy::{Action, Actor, CaseFacts, Decision, Resource, Section, decide};
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::collections::{BTreeSet, HashMap};
use uuid::Uuid;

/// The policy question a route asks.
#[derive(Debug, Clone, Copy)]
enum Need {
    /// No authentication (the OpenAPI document).
    Public,
    /// Any signed-in user (own account, the public directory, notifications of one's role).
    SignedIn,
    /// The policy on the scenario's case.
    Case(Action),
    /// The policy on the actor's own organisation.
    Org(Action),
    /// The policy on organisation A's own object (contact, funding source): allowed only for
    /// A's users the action allows.
    OrgA(Action),
    /// The policy on organisation A as the resource (its directory entry): another
    /// organisation's admin is refused, a system admin is not.
    OnOrgA(Action),
    /// A referral: users of the sending or the receiving organisation who work cases.
    ReferralParty,
    /// Answering a referral: the receiver (`RespondReferral`) or the sender (`ReferCase`).
    ReferralAnswer,
    /// A referral's case read with its identity (the referral letter): a party to the referral
    /// who works cases and whom the policy lets read the case and a personal section.
    ReferralRead,
    /// Any signed-in user; the route's object is the caller's own and absent here (404 allowed).
    OwnObject,
    /// The policy on the deployment as a whole (national statistics).
    Sys(Action),
    /// The policy on the deployment as a whole, else on the actor's own organisation (the gap
    /// view: national for the coordinator, the own caseload for a supervisor).
    SysOrOrg(Action),
    /// The policy on the deployment as a whole, any of these actions (research releases: the
    /// researcher's own list, the coordinator's register).
    SysAny(&'static [Action]),
    /// As `SysAny`, on an object that does not exist here: 404 for an allowed role, 403 for
    /// a refused one (research releases by id).
    SysAbsent(&'static [Action]),
    /// [`SysOrOrg`] on an object that is absent here (an alert): a refused caller gets 403, an
    /// allowed one anything but 403 (404: no such object).
    SysOrOrgObject(Action),
}

use Need::*;

/// Every API route (OpenAPI paths, without the `/api/v1` prefix) and its question. Routes that
/// change who may access the case are flagged `late` and run after the others.
const ROUTES: &[(&str, &str, Need, bool)] = &[
    ("GET", "/openapi.json", Public, false),
    ("GET", "/me", SignedIn, false),
    ("GET", "/organisations", SignedIn, false),
    ("GET", "/sessions", SignedIn, false),
    ("DELETE", "/sessions/{public_id}", OwnObject, false),
    ("GET", "/notifications", SignedIn, false),
    ("GET", "/directory", SignedIn, false),
    ("GET", "/directory/coverage", SignedIn, false),
    ("GET", "/shelters", SignedIn, false),
    ("GET", "/package-recipients", SignedIn, false),
    ("GET", "/followups/due", SignedIn, false),
    ("GET", "/followups/org-schedule", SignedIn, false),
    ("GET", "/cases", Org(Action::ListCases), false),
    (
        "GET",
        "/statistics/national",
        Sys(Action::ReadNationalReport),
        false,
    ),
    (
        "GET",
        "/statistics/national/export",
        Sys(Action::ReadNationalReport),
        false,
    ),
    (
        "GET",
        "/statistics/gaps",
        SysOrOrg(Action::ReadGapReport),
        false,
    ),
    (
        "GET",
        "/statistics/gaps/export",
        SysOrOrg(Action::ReadGapReport),
        false,
    ),
    (
        "GET",
        "/statistics/scorecard",
        Sys(Action::ReadScorecard),
        false,
    ),
    (
        "GET",
        "/statistics/scorecard/export",
        Sys(Action::ReadScorecard),
        false,
    ),
    (
        "POST",
        "/statistics/scorecard/values",
        Sys(Action::EnterIndicatorValue),
        false,
    ),
    // Research data releases (issue #16).
    (
        "GET",
        "/releases",
        SysAny(&[Action::RequestRelease, Action::DecideRelease]),
        false,
    ),
    ("POST", "/releases", Sys(Action::RequestRelease), false),
    (
        "PUT",
        "/releases/recipient",
        Sys(Action::RequestRelease),
        false,
    ),
    (
        "GET",
        "/releases/{id}",
        SysAbsent(&[Action::RequestRelease, Action::DecideRelease]),
        false,
    ),
    (
        "POST",
        "/releases/{id}/approve",
        SysAbsent(&[Action::DecideRelease]),
        false,
    ),
    (
        "POST",
        "/releases/{id}/refuse",
        SysAbsent(&[Action::DecideRelease]),
        false,
    ),
    (
        "GET",
        "/releases/{id}/file",
        SysAbsent(&[Action::DownloadRelease]),
        false,
    ),
    ("GET", "/alerts", SysOrOrg(Action::ReadAlerts), false),
    (
        "POST",
        "/alerts/{id}/acknowledge",
        SysOrOrgObject(Action::AcknowledgeAlert),
        false,
    ),
    // Rules of practice (issue #17 part 4).
    ("GET", "/rules/reflection-period", SignedIn, false),
    (
        "PUT",
        "/rules/reflection-period",
        Sys(Action::ManagePracticeRules),
        false,
    ),
    ("GET", "/rules/facilities", SignedIn, false),
    (
        "PUT",
        "/rules/facilities",
        Sys(Action::ManagePracticeRules),
        false,
    ),
    (
        "GET",
        "/rules/admission-refusals",
        Sys(Action::ReadScorecard),
        false,
    ),
    (
        "GET",
        "/cases/{id}/reflection-period",
        Case(Action::ReadCase),
        false,
    ),
    (
        "PUT",
        "/cases/{id}/plans/{plan_id}/priorities",
        Case(Action::UpdateCase),
        false,
    ),
    // The audit viewer (issue #18): auditors everything, an organisation admin its own rows.
    ("GET", "/audit/rows", SysOrOrg(Action::ReadAudit), false),
    ("GET", "/audit/export", SysOrOrg(Action::ReadAudit), false),
    ("POST", "/cases", Org(Action::CreateCase), false),
    ("POST", "/cases/search", Org(Action::ListCases), false),
    ("GET", "/contacts", Org(Action::ListCases), false),
    ("POST", "/contacts", Org(Action::CreateCase), false),
    ("GET", "/contacts/{id}", OrgA(Action::ListCases), false),
    (
        "POST",
        "/contacts/{id}/case",
        OrgA(Action::CreateCase),
        false,
    ),
    // Called with `identity=none` (see `fill`): the matrix's callers hold bearer tokens, and an
    // export with identities also needs a second-factor session (security_needtoknow tests it).
    ("GET", "/export/htcds", Org(Action::ExportCases), false),
    ("POST", "/import/htcds", Org(Action::ImportCases), false),
    ("GET", "/export-settings", SignedIn, false),
    ("PUT", "/export-settings", Org(Action::Approve), false),
    ("GET", "/export-requests", SignedIn, false),
    (
        "POST",
        "/export-requests",
        Org(Action::ExportIdentities),
        false,
    ),
    // The request does not exist here (the id is the case's): 404 for everyone, the
    // approval rule itself is tested in security_needtoknow.
    ("POST", "/export-requests/{id}/approve", OwnObject, false),
    (
        "POST",
        "/referral-packages/import",
        Org(Action::ImportCases),
        false,
    ),
    (
        "GET",
        "/followups/questionnaire/export",
        Org(Action::ExportCases),
        false,
    ),
    ("GET", "/followups/questionnaire/summary", SignedIn, false),
    (
        "PUT",
        "/followups/org-schedule",
        Org(Action::ManageDirectory),
        false,
    ),
    ("POST", "/shelters", Org(Action::ManageDirectory), false),
    (
        "PUT",
        "/directory/{org}",
        OnOrgA(Action::ManageDirectory),
        false,
    ),
    (
        "GET",
        "/funding-sources",
        Org(Action::ManageDirectory),
        false,
    ),
    (
        "POST",
        "/funding-sources",
        Org(Action::ManageDirectory),
        false,
    ),
    (
        "POST",
        "/funding-sources/{source_id}/grants",
        OrgA(Action::ManageDirectory),
        false,
    ),
    ("GET", "/reports/costs", Org(Action::ManageDirectory), false),
    // Everyone signed in gets the queue; it lists plans only for supervisors (storage).
    ("GET", "/approvals/plans", SignedIn, false),
    (
        "GET",
        "/referrals/inbox",
        Org(Action::RespondReferral),
        false,
    ),
    (
        "GET",
        "/referrals/outbox",
        Org(Action::RespondReferral),
        false,
    ),
    ("GET", "/referrals/{id}", ReferralParty, false),
    ("GET", "/cases/{id}", Case(Action::ReadCase), false),
    ("PUT", "/cases/{id}", Case(Action::UpdateCase), false),
    ("GET", "/cases/{id}/events", Case(Action::ReadCase), false),
    ("GET", "/cases/{id}/status", Case(Action::ReadCase), false),
    (
        "GET",
        "/cases/{id}/status/history",
        Case(Action::ReadCase),
        false,
    ),
    ("GET", "/cases/{id}/episodes", Case(Action::ReadCase), false),
    (
        "GET",
        "/cases/{id}/decisions",
        Case(Action::ReadCase),
        false,
    ),
    ("GET", "/cases/{id}/consents", Case(Action::ReadCase), false),
    (
        "GET",
        "/cases/{id}/referrals",
        Case(Action::ReadCase),
        false,
    ),
    (
        "GET",
        "/cases/{id}/referral-packages",
        Case(Action::ReadCase),
        false,
    ),
    (
        "GET",
        "/cases/{id}/screenings",
        Case(Action::ReadSection(Section::VictimContext)),
        false,
    ),
    (
        "GET",
        "/cases/{id}/legal",
        Case(Action::ReadSection(Section::Legal)),
        false,
    ),
    (
        "GET",
        "/cases/{id}/assessments",
        Case(Action::ReadSection(Section::Plan)),
        false,
    ),
    (
        "GET",
        "/cases/{id}/plans",
        Case(Action::ReadSection(Section::Plan)),
        false,
    ),
    (
        "GET",
        "/cases/{id}/services",
        Case(Action::ReadSection(Section::Services)),
        false,
    ),
    (
        "GET",
        "/cases/{id}/shelter-stays",
        Case(Action::ReadSection(Section::Services)),
        false,
    ),
    (
        "GET",
        "/cases/{id}/allowance",
        Case(Action::ReadSection(Section::Services)),
        false,
    ),
    (
        "GET",
        "/cases/{id}/followup/protocol",
        Case(Action::ReadSection(Section::FollowUp)),
        false,
    ),
    (
        "GET",
        "/cases/{id}/followup/plan",
        Case(Action::ReadSection(Section::FollowUp)),
        false,
    ),
    (
        "GET",
        "/cases/{id}/followup/tasks",
        Case(Action::ReadSection(Section::FollowUp)),
        false,
    ),
    (
        "GET",
        "/cases/{id}/followup/contacts",
        Case(Action::ReadSection(Section::FollowUp)),
        false,
    ),
    (
        "GET",
        "/cases/{id}/followup/assessments",
        Case(Action::ReadSection(Section::FollowUp)),
        false,
    ),
    (
        "GET",
        "/cases/{id}/followup/reintegration",
        Case(Action::ReadSection(Section::FollowUp)),
        false,
    ),
    (
        "GET",
        "/cases/{id}/trafficking-events",
        Case(Action::ReadSection(Section::VictimContext)),
        false,
    ),
    (
        "GET",
        "/cases/{id}/perpetrators",
        Case(Action::ReadSection(Section::Legal)),
        false,
    ),
    (
        "GET",
        "/cases/{id}/dependants",
        Case(Action::ReadSection(Section::Plan)),
        false,
    ),
    (
        "POST",
        "/cases/{id}/screenings",
        Case(Action::RecordScreening),
        false,
    ),
    (
        "POST",
        "/cases/{id}/decisions",
        Case(Action::DecideIdentification),
        false,
    ),
    (
        "POST",
        "/cases/{id}/consents",
        Case(Action::UpdateCase),
        false,
    ),
    ("PUT", "/cases/{id}/legal", Case(Action::UpdateCase), false),
    (
        "POST",
        "/cases/{id}/assessments",
        Case(Action::UpdateCase),
        false,
    ),
    ("POST", "/cases/{id}/plans", Case(Action::UpdateCase), false),
    (
        "POST",
        "/cases/{id}/plans/{plan_id}/goals",
        Case(Action::UpdateCase),
        false,
    ),
    (
        "POST",
        "/cases/{id}/plans/{plan_id}/actions",
        Case(Action::RecordPlanAction),
        false,
    ),
    (
        "POST",
        "/cases/{id}/plan-actions/{action_id}/status",
        Case(Action::RecordPlanAction),
        false,
    ),
    (
        "POST",
        "/cases/{id}/plans/{plan_id}/agreement",
        Case(Action::UpdateCase),
        false,
    ),
    (
        "POST",
        "/cases/{id}/plans/{plan_id}/approval",
        Case(Action::Approve),
        false,
    ),
    (
        "POST",
        "/cases/{id}/plans/{plan_id}/end",
        Case(Action::UpdateCase),
        false,
    ),
    (
        "POST",
        "/cases/{id}/services",
        Case(Action::RecordService),
        false,
    ),
    (
        "POST",
        "/cases/{id}/shelter-stays",
        Case(Action::UpdateCase),
        false,
    ),
    (
        "POST",
        "/cases/{id}/shelter-stays/{stay_id}/extensions",
        Case(Action::UpdateCase),
        false,
    ),
    (
        "POST",
        "/cases/{id}/shelter-extensions/{extension_id}/approval",
        Case(Action::Approve),
        false,
    ),
    (
        "POST",
        "/cases/{id}/shelter-stays/{stay_id}/exit",
        Case(Action::UpdateCase),
        false,
    ),
    (
        "POST",
        "/cases/{id}/allowance",
        Case(Action::RequestAllowance),
        false,
    ),
    (
        "POST",
        "/cases/{id}/allowance/{payment_id}/status",
        Case(Action::Approve),
        false,
    ),
    (
        "PUT",
        "/cases/{id}/followup/protocol",
        Case(Action::UpdateCase),
        false,
    ),
    (
        "PUT",
        "/cases/{id}/followup/plan",
        Case(Action::UpdateCase),
        false,
    ),
    (
        "POST",
        "/cases/{id}/followup/tasks/{task}/schedule",
        Case(Action::UpdateCase),
        false,
    ),
    (
        "POST",
        "/cases/{id}/followup/requests",
        Case(Action::UpdateCase),
        false,
    ),
    (
        "POST",
        "/cases/{id}/followup/contacts",
        Case(Action::UpdateCase),
        false,
    ),
    (
        "POST",
        "/cases/{id}/followup/assessments",
        Case(Action::UpdateCase),
        false,
    ),
    (
        "POST",
        "/cases/{id}/followup/risk-flags/{code}/goal",
        Case(Action::UpdateCase),
        false,
    ),
    (
        "POST",
        "/cases/{id}/trafficking-events",
        Case(Action::UpdateCase),
        false,
    ),
    (
        "DELETE",
        "/cases/{id}/trafficking-events/{event}",
        Case(Action::UpdateCase),
        false,
    ),
    (
        "POST",
        "/cases/{id}/perpetrators",
        Case(Action::UpdateCase),
        false,
    ),
    (
        "DELETE",
        "/cases/{id}/perpetrators/{perpetrator}",
        Case(Action::UpdateCase),
        false,
    ),
    (
        "POST",
        "/cases/{id}/dependants",
        Case(Action::UpdateCase),
        false,
    ),
    (
        "DELETE",
        "/cases/{id}/dependants/{dependant}",
        Case(Action::UpdateCase),
        false,
    ),
    (
        "POST",
        "/cases/{id}/referral-packages",
        Case(Action::ReferCase),
        false,
    ),
    (
        "POST",
        "/cases/{id}/referrals",
        Case(Action::ReferCase),
        false,
    ),
    ("POST", "/cases/{id}/status", Case(Action::UpdateCase), true),
    (
        "POST",
        "/cases/{id}/status/reopen",
        Case(Action::ReopenCase),
        true,
    ),
    (
        "POST",
        "/cases/{id}/episodes",
        Case(Action::OpenEpisode),
        true,
    ),
    (
        "POST",
        "/cases/{id}/consents/{consent_id}/withdraw",
        Case(Action::UpdateCase),
        true,
    ),
    ("POST", "/referrals/{id}/{action}", ReferralAnswer, true),
    ("POST", "/break-glass", Case(Action::BreakGlass), true),
    (
        "POST",
        "/cases/{id}/transfer",
        Case(Action::TransferCase),
        true,
    ),
    ("DELETE", "/cases/{id}", Case(Action::EraseCase), true),
    // Retention schedules and legal hold (issue #17 part 3).
    (
        "GET",
        "/retention/rules",
        Org(Action::ManageRetention),
        false,
    ),
    (
        "PUT",
        "/retention/rules",
        Org(Action::ManageRetention),
        false,
    ),
    (
        "GET",
        "/retention/preview",
        Org(Action::ManageRetention),
        false,
    ),
    (
        "GET",
        "/cases/{id}/legal-hold",
        Case(Action::ReadCase),
        false,
    ),
    (
        "PUT",
        "/cases/{id}/legal-hold",
        Case(Action::HoldCase),
        false,
    ),
    (
        "POST",
        "/cases/{id}/legal-hold/lift",
        Case(Action::HoldCase),
        false,
    ),
    // Data-subject requests (issue #17 part 2): the request is named in the body, so `{}` is
    // a 422 for those allowed.
    (
        "GET",
        "/cases/{id}/subject-requests",
        Case(Action::RecordSubjectRequest),
        false,
    ),
    (
        "POST",
        "/cases/{id}/subject-requests",
        Case(Action::RecordSubjectRequest),
        false,
    ),
    (
        "POST",
        "/cases/{id}/subject-requests/decision",
        Case(Action::DecideSubjectRequest),
        false,
    ),
    (
        "POST",
        "/cases/{id}/subject-requests/access-export",
        Case(Action::DecideSubjectRequest),
        false,
    ),
    (
        "POST",
        "/cases/{id}/subject-requests/access-download",
        Case(Action::DecideSubjectRequest),
        false,
    ),
    (
        "POST",
        "/cases/{id}/subject-requests/erasure",
        Case(Action::DecideSubjectRequest),
        true,
    ),
    // Self check-in (issue 17, part 1).
    (
        "GET",
        "/cases/{id}/followup/checkins",
        Case(Action::ReadSection(Section::FollowUp)),
        false,
    ),
    (
        "POST",
        "/cases/{id}/followup/checkins",
        Case(Action::UpdateCase),
        false,
    ),
    (
        "POST",
        "/cases/{id}/followup/checkins/revoke",
        Case(Action::UpdateCase),
        false,
    ),
    // Printable documents (issue 21 §2): the referral letter for the two organisations while
    // the case may be read with its identity, the plan for readers of the plan, the consent form
    // for readers of the case.
    ("GET", "/referrals/{id}/pdf", ReferralRead, false),
    (
        "GET",
        "/cases/{id}/plans/{plan_id}/pdf",
        Case(Action::ReadSection(Section::Plan)),
        false,
    ),
    (
        "GET",
        "/cases/{id}/consents/{consent_id}/pdf",
        Case(Action::ReadCase),
        false,
    ),
    ("GET", "/caseload", Org(Action::ListCases), false),
    ("GET", "/caseload/settings", SignedIn, false),
    (
        "PUT",
        "/caseload/settings",
        Org(Action::ManageDirectory),
        false,
    ),
    // Attachments (issue #21 §1): the fixture's file is in the health section.
    (
        "GET",
        "/cases/{id}/attachments",
        Case(Action::ReadCase),
        false,
    ),
    (
        "POST",
        "/cases/{id}/attachments",
        Case(Action::UpdateCase),
        false,
    ),
    (
        "GET",
        "/cases/{id}/attachments/{attachment}",
        Case(Action::ReadSection(Section::Health)),
        false,
    ),
    (
        "DELETE",
        "/cases/{id}/attachments/{attachment}",
        Case(Action::UpdateCase),
        false,
    ),
    // Webhooks (issue 22 §4).
    (
        "GET",
        "/webhooks/endpoints",
        Org(Action::ManageWebhooks),
        false,
    ),
    (
        "POST",
        "/webhooks/endpoints",
        Org(Action::ManageWebhooks),
        false,
    ),
    (
        "DELETE",
        "/webhooks/endpoints/{id}",
        SysOrOrgObject(Action::ManageWebhooks),
        false,
    ),
    (
        "GET",
        "/webhooks/deliveries",
        Org(Action::ManageWebhooks),
        false,
    ),
    // Lifting an accepted restriction (issue 17, part 2).
    (
        "POST",
        "/cases/{id}/subject-requests/lift-restriction",
        Case(Action::DecideSubjectRequest),
        false,
    ),
    // Passkeys (issue 22 §2): the caller's own.
    ("GET", "/account/passkeys", SignedIn, false),
    ("DELETE", "/account/passkeys/{id}", OwnObject, false),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RefState {
    None,
    Pending,
    Accepted,
    Completed,
    Withdrawn,
}

/// One answer of the server, with what the oracle needs to judge it.
struct Observation {
    scenario: String,
    route: String,
    need: Need,
    actor: Actor,
    own: bool,
    referral: Option<Uuid>,
    facts: Option<CaseFacts>,
    status: StatusCode,
}

struct Users {
    tokens: HashMap<(char, Role), String>,
    actors: HashMap<(char, Role), Actor>,
    org_a: Uuid,
}

/// Sub-records of one scenario's case.
#[derive(Default)]
struct Fixture {
    case: String,
    case_number: String,
    referral: Option<String>,
    consent: String,
    plan: String,
    action: String,
    event: String,
    perpetrator: String,
    dependant: String,
    contact: String,
    source: String,
    stay: String,
    extension: String,
    attachment: String,
}

/// One API call as the matrix makes it: every request carries `If-Match: "1"`, so that
/// writes reach the policy check rather than stopping at a missing precondition.
async fn send(
    app: &TestApp,
    token: Option<&str>,
    method: &str,
    path: &str,
    body: &Value,
) -> (StatusCode, Value) {
    let r = api_request(app, token, method, path).header("if-match", "\"1\"");
    match method {
        "GET" | "DELETE" => json_answer(r).await,
        _ => json_answer(r.json(body)).await,
    }
}

/// A successful call (2xx), returning the body.
async fn ok(app: &TestApp, token: &str, method: &str, path: &str, body: Value) -> Value {
    let (s, v) = send(app, Some(token), method, path, &body).await;
    assert!(s.is_success(), "fixture {method} {path}: {s} {v}");
    v
}

fn id_of(v: &Value) -> String {
    v["id"].as_str().unwrap_or_default().to_string()
}

async fn users(app: &TestApp) -> Users {
    let mut tokens = HashMap::new();
    let mut actors = HashMap::new();
    let mut org_a = Uuid::nil();
    for (tag, slug) in [('A', "org-a"), ('B', "org-b")] {
        for role in Role::ALL {
            let (org, user) = org_and_user(&app.db, slug, role.as_str()).await;
            if tag == 'A' {
                org_a = org.id;
            }
            let token = user_token(&app.db, &user).await;
            tokens.insert((tag, *role), token);
            actors.insert((tag, *role), user.actor());
        }
    }
    Users {
        tokens,
        actors,
        org_a,
    }
}

/// A case of organisation A with its sub-records, a consent (or none) and a referral to B in
/// `state`.
async fn fixture(app: &TestApp, u: &Users, state: RefState, consent: bool, n: usize) -> Fixture {
    let cw = &u.tokens[&('A', Role::Caseworker)];
    let sup = &u.tokens[&('A', Role::Supervisor)];
    let cw_b = &u.tokens[&('B', Role::Caseworker)];
    let case = ok(
        app,
        cw,
        "POST",
        "/cases",
        json!({"prs_FirstName": "Matrix", "prs_SecondName": format!("Case{n}"),
               "prs_Birthdate": "1995-05-05", "prs_Gender": "Feminine",
               "prs_Citizenship": ["AZ"], "vic_TypeOfExploitation": ["ForcedLabour"]}),
    )
    .await;
    let id = id_of(&case);
    let mut f = Fixture {
        case_number: case["case_number"].as_str().unwrap_or_default().to_string(),
        case: id.clone(),
        ..Fixture::default()
    };
    let c = |p: &str| format!("/cases/{id}{p}");
    let consent_body = if consent {
        json!({"purpose": "SharingWithOrganisation", "given": true, "recipient_org": "org-b",
               "given_by": "Survivor", "language": "az"})
    } else {
        json!({"purpose": "Assistance", "given": true, "given_by": "Survivor", "language": "az"})
    };
    f.consent = id_of(&ok(app, cw, "POST", &c("/consents"), consent_body).await);
    if state != RefState::None {
        let mut body = json!({"to_org": "org-b", "services": ["Medical"],
                              "cas_ReasonForOutgoingReferral": "AdditionalServicesRequired"});
        let token = if consent {
            cw
        } else {
            body["consent_override_reason"] = json!("survivor agreed orally, form to follow");
            sup
        };
        let r = id_of(&ok(app, token, "POST", &c("/referrals"), body).await);
        match state {
            RefState::Accepted => {
                ok(
                    app,
                    cw_b,
                    "POST",
                    &format!("/referrals/{r}/accept"),
                    json!({}),
                )
                .await;
            }
            RefState::Completed => {
                ok(
                    app,
                    cw_b,
                    "POST",
                    &format!("/referrals/{r}/accept"),
                    json!({}),
                )
                .await;
                ok(
                    app,
                    cw_b,
                    "POST",
                    &format!("/referrals/{r}/complete"),
                    json!({}),
                )
                .await;
            }
            RefState::Withdrawn => {
                ok(
                    app,
                    cw,
                    "POST",
                    &format!("/referrals/{r}/withdraw"),
                    json!({}),
                )
                .await;
            }
            _ => {}
        }
        f.referral = Some(r);
    }
    f.plan = id_of(
        &ok(
            app,
            cw,
            "POST",
            &c("/plans"),
            json!({"spl_Type": "Livelihood", "spl_Objectives": "independent life"}),
        )
        .await,
    );
    let goal = id_of(
        &ok(
            app,
            cw,
            "POST",
            &c(&format!("/plans/{}/goals", f.plan)),
            json!({"term": "LongTerm", "domain": "EmploymentIncome", "description": "stable job"}),
        )
        .await,
    );
    f.action = id_of(
        &ok(
            app,
            cw,
            "POST",
            &c(&format!("/plans/{}/actions", f.plan)),
            json!({"goal_id": goal, "domain": "EmploymentIncome", "service": "VocationalTraining"}),
        )
        .await,
    );
    f.event = id_of(
        &ok(
            app,
            cw,
            "POST",
            &c("/trafficking-events"),
            json!({"hte_Type": "Recruitment", "hte_Country": "AZ"}),
        )
        .await,
    );
    f.attachment = {
        let (s, v) = crate::kit::attachment_upload(
            app,
            cw,
            &f.case,
            "health",
            "report.pdf",
            b"%PDF-1.7\n% matrix attachment\n".to_vec(),
        )
        .await;
        assert!(s.is_success(), "fixture attachment upload: {s} {v}");
        id_of(&v)
    };
    f.perpetrator = id_of(
        &ok(
            app,
            cw,
            "POST",
            &c("/perpetrators"),
            json!({"per_RoleInProcess": ["Exploiter"]}),
        )
        .await,
    );
    f.dependant = id_of(
        &ok(
            app,
            cw,
            "POST",
            &c("/dependants"),
            json!({"relation": "Child", "age": 6, "with_victim": true}),
        )
        .await,
    );
    f.contact = id_of(
        &ok(
            app,
            cw,
            "POST",
            "/contacts",
            json!({"channel": "Hotline", "anonymous": true, "summary": "caller asks for help"}),
        )
        .await,
    );
    let facility = id_of(
        &ok(
            app,
            sup,
            "POST",
            "/shelters",
            json!({"name": format!("Matrix shelter {n}"), "beds": 4}),
        )
        .await,
    );
    let today = now().date().to_string();
    f.stay = id_of(
        &ok(
            app,
            cw,
            "POST",
            &c("/shelter-stays"),
            json!({"facility_id": facility, "admitted_on": today}),
        )
        .await,
    );
    f.extension = id_of(
        &ok(
            app,
            cw,
            "POST",
            &c(&format!("/shelter-stays/{}/extensions", f.stay)),
            json!({"days": 10, "reason": "court hearing next week"}),
        )
        .await,
    );
    f.source = id_of(
        &ok(
            app,
            sup,
            "POST",
            "/funding-sources",
            json!({"name": format!("Fund {n}"), "kind": "Donor"}),
        )
        .await,
    );
    f
}

/// The route's path with its parameters filled from the fixture.
fn fill(path: &str, f: &Fixture) -> String {
    let random = Uuid::new_v4().to_string();
    let id = if path.starts_with("/contacts/") {
        f.contact.clone()
    } else if path.starts_with("/referrals/") {
        f.referral.clone().unwrap_or_else(|| random.clone())
    } else {
        f.case.clone()
    };
    path.replace("{id}", &id)
        .replace("{public_id}", &random)
        .replace("{consent_id}", &f.consent)
        .replace("{plan_id}", &f.plan)
        .replace("{action_id}", &f.action)
        .replace("{event}", &f.event)
        .replace("{perpetrator}", &f.perpetrator)
        .replace("{dependant}", &f.dependant)
        .replace("{source_id}", &f.source)
        .replace("{org}", "org-a")
        .replace("{action}", "accept")
        .replace("{code}", "family_rejection")
        .replace("{stay_id}", &f.stay)
        .replace("{extension_id}", &f.extension)
        .replace("{attachment}", &f.attachment)
        // Payments and tasks do not exist for this case: the routes check access on the case
        // first, then read the body (422 for `{}`).
        .replace("{payment_id}", &random)
        .replace("{task}", &random)
        + if path == "/export/htcds" {
            "?identity=none"
        } else {
            ""
        }
}

/// A body the route accepts when access passes (or `{}`: the case routes check access before
/// reading the body, so an allowed caller gets 422, a refused one 403/404).
fn body_for(method: &str, path: &str, f: &Fixture) -> Value {
    match (method, path) {
        ("POST", "/cases") => json!({"prs_Gender": "Masculine"}),
        ("PUT", "/cases/{id}") => json!({"prs_FirstName": "Matrix", "prs_Gender": "Feminine"}),
        ("POST", "/cases/search") => {
            json!({"prs_FirstName": "Matrix", "prs_SecondName": "Case0", "prs_Birthdate": "1995-05-05"})
        }
        ("POST", "/contacts") => json!({"channel": "Hotline", "anonymous": true}),
        ("POST", "/shelters") => {
            json!({"name": "Matrix shelter", "beds": 4})
        }
        ("POST", "/funding-sources") => json!({"name": "Matrix fund", "kind": "Donor"}),
        ("POST", "/funding-sources/{source_id}/grants") => {
            json!({"amount_minor": 100000, "currency": "AZN", "period_start": "2026-01-01", "period_end": "2026-12-31", "purpose": "shelter costs"})
        }
        ("PUT", "/followups/org-schedule") => json!({"months": [1, 3, 6, 12]}),
        ("PUT", "/caseload/settings") => json!({"display_name": "Pseudonym"}),
        ("PUT", "/directory/{org}") => json!({"service": "Medical", "region": "Baku"}),
        ("POST", "/break-glass") => {
            json!({"case_number": f.case_number, "reason": "survivor at our door, in danger"})
        }
        ("POST", "/cases/{id}/status") => json!({"cas_Status": "FollowUp"}),
        ("POST", "/cases/{id}/status/reopen") => json!({"reason": "she called again"}),
        ("POST", "/cases/{id}/episodes") => json!({"reason": "trafficked again"}),
        ("POST", "/cases/{id}/transfer") => json!({"to_org": "org-b"}),
        ("POST", "/cases/{id}/screenings") => json!({"act": true, "means": true, "purpose": true}),
        ("POST", "/cases/{id}/consents") => {
            json!({"purpose": "Assistance", "given": true, "given_by": "Survivor", "language": "az"})
        }
        ("PUT", "/cases/{id}/legal") => json!({"cooperation": "Yes"}),
        ("POST", "/cases/{id}/referrals") => {
            json!({"to_org": "org-b", "services": ["Medical"], "cas_ReasonForOutgoingReferral": "Other"})
        }
        _ => json!({}),
    }
}

/// The oracle: is the call allowed under `policy`?
fn expected(
    policy: fn(&Actor, Action, Resource<'_>) -> Decision,
    o: &Observation,
    org_a: Uuid,
) -> bool {
    let a = &o.actor;
    match o.need {
        Public | SignedIn | OwnObject => true,
        Org(action) => policy(a, action, Resource::Organisation(a.org_id)).allowed,
        Sys(action) => policy(a, action, Resource::System).allowed,
        SysAny(actions) | SysAbsent(actions) => actions
            .iter()
            .any(|x| policy(a, *x, Resource::System).allowed),
        SysOrOrg(action) => {
            policy(a, action, Resource::System).allowed
                || policy(a, action, Resource::Organisation(a.org_id)).allowed
        }
        SysOrOrgObject(action) => {
            policy(a, action, Resource::System).allowed
                || policy(a, action, Resource::Organisation(a.org_id)).allowed
        }
        OrgA(action) => {
            a.org_id == org_a && policy(a, action, Resource::Organisation(org_a)).allowed
        }
        OnOrgA(action) => policy(a, action, Resource::Organisation(org_a)).allowed,
        ReferralParty => o.referral.is_some() && a.role.works_cases(),
        ReferralRead => {
            o.referral.is_some()
                && a.role.works_cases()
                && match &o.facts {
                    Some(f) => {
                        policy(a, Action::ReadCase, Resource::Case(f)).allowed
                            && [Section::Identity, Section::ContactDetails, Section::Notes]
                                .iter()
                                .any(|s| {
                                    policy(a, Action::ReadSection(*s), Resource::Case(f)).allowed
                                })
                    }
                    None => false,
                }
        }
        ReferralAnswer => {
            o.referral.is_some()
                && a.role.works_cases()
                && match &o.facts {
                    Some(f) if o.own => policy(a, Action::ReferCase, Resource::Case(f)).allowed,
                    _ => {
                        policy(a, Action::RespondReferral, Resource::Organisation(a.org_id)).allowed
                    }
                }
        }
        Case(action) => match &o.facts {
            Some(f) => policy(a, action, Resource::Case(f)).allowed,
            None => false,
        },
    }
}

/// Does the observed answer agree with the expectation?
fn agrees(o: &Observation, allowed: bool) -> bool {
    let s = o.status;
    if s.is_server_error() || s == StatusCode::UNAUTHORIZED {
        return false;
    }
    let refused = s == StatusCode::FORBIDDEN || s == StatusCode::NOT_FOUND;
    match o.need {
        // The caller's own object does not exist here: 404 is the right answer for all.
        OwnObject => s == StatusCode::NOT_FOUND || s.is_success(),
        SysAbsent(_) if allowed => s == StatusCode::NOT_FOUND,
        SysAbsent(_) => s == StatusCode::FORBIDDEN,
        SysOrOrgObject(_) => allowed != (s == StatusCode::FORBIDDEN),
        _ => allowed != refused,
    }
}

fn mismatches(
    policy: fn(&Actor, Action, Resource<'_>) -> Decision,
    obs: &[Observation],
    org_a: Uuid,
) -> Vec<String> {
    obs.iter()
        .filter(|o| !agrees(o, expected(policy, o, org_a)))
        .map(|o| {
            format!(
                "{} | {:?} {} | {} → {} (policy says {})",
                o.scenario,
                o.actor.role,
                if o.own { "own" } else { "other" },
                o.route,
                o.status,
                if expected(policy, o, org_a) {
                    "allow"
                } else {
                    "deny"
                }
            )
        })
        .collect()
}

/// A widened rule: a referral receiver may also edit the case. The matrix must notice.
fn widened(actor: &Actor, action: Action, resource: Resource<'_>) -> Decision {
    if let Resource::Case(f) = resource
        && action == Action::UpdateCase
        && f.grants.iter().any(|g| g.org_id == actor.org_id)
    {
        return Decision {
            allowed: true,
            reason: "widened_for_test",
        };
    }
    decide(actor, action, resource)
}

/// The OpenAPI document's routes and the matrix's routes are the same set.
async fn assert_every_route_mapped(app: &TestApp) {
    let (s, doc) = send(app, None, "GET", "/openapi.json", &Value::Null).await;
    assert_eq!(s, StatusCode::OK);
    let mut documented = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for m in ["get", "post", "put", "delete", "patch"] {
            if item.get(m).is_some() {
                documented.insert(format!("{} {path}", m.to_uppercase()));
            }
        }
    }
    let mapped: BTreeSet<String> = ROUTES
        .iter()
        .map(|(m, p, _, _)| format!("{m} {p}"))
        .collect();
    let unmapped: Vec<_> = documented.difference(&mapped).collect();
    assert!(
        unmapped.is_empty(),
        "routes without a row in the authorisation matrix: {unmapped:?}"
    );
    let stale: Vec<_> = mapped.difference(&documented).collect();
    assert!(
        stale.is_empty(),
        "matrix rows for routes that no longer exist: {stale:?}"
    );
}

/// Runs every route for every role × organisation × consent state, with the referral in
/// `state`; returns the observations and organisation A's id.
async fn run_matrix(app: &TestApp, state: RefState) -> (Vec<Observation>, Uuid) {
    assert_every_route_mapped(app).await;
    let u = users(app).await;
    let org_b = u.actors[&('B', Role::Caseworker)].org_id;
    let mut obs: Vec<Observation> = Vec::new();
    let mut n = 0;
    let mut routes: Vec<_> = ROUTES.iter().filter(|r| !r.3).collect();
    routes.extend(ROUTES.iter().filter(|r| r.3));
    for consent in [true, false] {
        for role in Role::ALL {
            for tag in ['A', 'B'] {
                n += 1;
                let f = fixture(app, &u, state, consent, n).await;
                let case = Uuid::parse_str(&f.case).unwrap();
                // The scenario is what it says: grants exist only for an accepted referral.
                let facts = app.db.store.case_facts(case, now()).await.unwrap().unwrap();
                assert_eq!(facts.owner_org, u.org_a);
                assert_eq!(
                    facts.grants.iter().any(|g| g.org_id == org_b),
                    state == RefState::Accepted,
                    "{state:?}"
                );
                let token = &u.tokens[&(tag, *role)];
                let actor = u.actors[&(tag, *role)];
                let scenario = format!(
                    "referral {state:?}, consent {}",
                    if consent { "given" } else { "none (override)" }
                );
                for (method, path, need, _) in &routes {
                    let facts = app.db.store.case_facts(case, now()).await.unwrap();
                    let url = fill(path, &f);
                    let body = body_for(method, path, &f);
                    let auth = match need {
                        Public => None,
                        _ => Some(token.as_str()),
                    };
                    let (status, _) = send(app, auth, method, &url, &body).await;
                    obs.push(Observation {
                        scenario: scenario.clone(),
                        route: format!("{method} {path}"),
                        need: *need,
                        actor,
                        own: tag == 'A',
                        referral: f.referral.as_ref().map(|r| Uuid::parse_str(r).unwrap()),
                        facts,
                        status,
                    });
                }
            }
        }
    }
    // Every route was called in every scenario.
    assert_eq!(obs.len(), n * ROUTES.len());
    let wrong = mismatches(decide, &obs, u.org_a);
    assert!(
        wrong.is_empty(),
        "{} of {} calls disagree with the policy:\n{}",
        wrong.len(),
        obs.len(),
        wrong.join("\n")
    );
    eprintln!(
        "authorisation matrix, referral {state:?}: {} calls ({} routes × {n} scenarios), 0 disagreements",
        obs.len(),
        ROUTES.len()
    );
    (obs, u.org_a)
}

// One test per referral state, so that they run side by side and each stays short.

#[tokio::test]
async fn matrix_without_referral() {
    let app = spawn_app().await;
    run_matrix(&app, RefState::None).await;
    app.db.cleanup().await;
}

#[tokio::test]
async fn matrix_with_pending_referral() {
    let app = spawn_app().await;
    run_matrix(&app, RefState::Pending).await;
    app.db.cleanup().await;
}

/// With an accepted referral, also: a deliberately widened rule (receivers may edit the
/// case) disagrees with what the server answered, so the matrix would catch it.
#[tokio::test]
async fn matrix_with_accepted_referral_and_widened_rule_caught() {
    let app = spawn_app().await;
    let (obs, org_a) = run_matrix(&app, RefState::Accepted).await;
    let caught = mismatches(widened, &obs, org_a);
    assert!(
        caught.iter().any(|m| m.contains("other")),
        "a widened rule went unnoticed"
    );
    eprintln!(
        "a widened rule (receivers may edit) gives {} disagreements",
        caught.len()
    );
    app.db.cleanup().await;
}

#[tokio::test]
async fn matrix_with_completed_referral() {
    let app = spawn_app().await;
    run_matrix(&app, RefState::Completed).await;
    app.db.cleanup().await;
}

#[tokio::test]
async fn matrix_with_withdrawn_referral() {
    let app = spawn_app().await;
    run_matrix(&app, RefState::Withdrawn).await;
    app.db.cleanup().await;
}

// ---------------------------------------------------------------------------------------
// Contents (issue 14 item 6): a receiving organisation with a grant of some sections never
// gets a value of another section, nor anything of the case's other referrals, from any GET
// route or screen.

/// Distinctive values planted in every section of a case, by section; `None` is "another
/// referral of the case" (never visible to a receiver, whatever its grant).
struct Markers(Vec<(Option<Section>, String)>);

impl Markers {
    /// Markers of sections outside `granted` (and of other referrals) found in `body`.
    fn leaks(&self, granted: &[Section], route: &str, body: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(s, _)| s.is_none_or(|s| !granted.contains(&s)))
            .filter(|(_, m)| body.contains(m.as_str()))
            .map(|(s, m)| format!("{route}: {m} ({s:?})"))
            .collect()
    }
}

/// Organisation A's case with a marker in every section, a Medical referral accepted by B,
/// and a Shelter referral to C declined by C. Returns the fixture, B's referral and markers.
async fn planted_case(app: &TestApp, u: &Users) -> (Fixture, String, Markers) {
    use Section::*;
    let cw = &u.tokens[&('A', Role::Caseworker)];
    let sup = &u.tokens[&('A', Role::Supervisor)];
    let cw_b = &u.tokens[&('B', Role::Caseworker)];
    let (_, c_user) = org_and_user(&app.db, "org-c", "caseworker").await;
    let cw_c = user_token(&app.db, &c_user).await;
    let case = ok(
        app,
        cw,
        "POST",
        "/cases",
        json!({"prs_FirstName": "Identmarka", "prs_SecondName": "Plantova",
               "prs_Birthdate": "1994-04-04", "prs_Gender": "Feminine",
               "prs_MailingStreet": "Contactmark street 7",
               "cco_CaseComment": "Notesmark comment",
               "prs_Citizenship": ["AZ"], "vic_TypeOfExploitation": ["ForcedLabour"]}),
    )
    .await;
    let id = id_of(&case);
    let c = |p: &str| format!("/cases/{id}{p}");
    let mut m: Vec<(Option<Section>, String)> = vec![
        (Some(Identity), "Identmarka".into()),
        (Some(ContactDetails), "Contactmark street 7".into()),
        (Some(Notes), "Notesmark comment".into()),
    ];
    let consent = id_of(
        &ok(
            app,
            cw,
            "POST",
            &c("/consents"),
            json!({"purpose": "SharingWithOrganisation", "given": true, "recipient_org": "org-b",
                   "given_by": "Survivor", "language": "az"}),
        )
        .await,
    );
    ok(
        app,
        cw,
        "PUT",
        &c("/legal"),
        json!({"cooperation": "Yes", "criminal_case_ref": "LEGALMARK-4471"}),
    )
    .await;
    m.push((Some(Legal), "LEGALMARK-4471".into()));
    m.push((Some(Legal), "legal.updated".into()));
    let perpetrator = id_of(
        &ok(
            app,
            cw,
            "POST",
            &c("/perpetrators"),
            json!({"per_RoleInProcess": ["Exploiter"]}),
        )
        .await,
    );
    m.push((Some(Legal), perpetrator.clone()));
    let event = id_of(
        &ok(
            app,
            cw,
            "POST",
            &c("/trafficking-events"),
            json!({"hte_Type": "Recruitment", "hte_Country": "AZ",
                   "hte_Description": "Victimmark description"}),
        )
        .await,
    );
    m.push((Some(VictimContext), event.clone()));
    m.push((Some(VictimContext), "Victimmark description".into()));
    m.push((Some(VictimContext), "record.event".into()));
    let plan = id_of(
        &ok(
            app,
            cw,
            "POST",
            &c("/plans"),
            json!({"spl_Type": "Livelihood", "spl_Objectives": "Planmark objectives"}),
        )
        .await,
    );
    m.push((Some(Plan), plan.clone()));
    m.push((Some(Plan), "Planmark objectives".into()));
    m.push((Some(Plan), "plan.created".into()));
    let dependant = id_of(
        &ok(
            app,
            cw,
            "POST",
            &c("/dependants"),
            json!({"relation": "Child", "age": 6, "with_victim": true}),
        )
        .await,
    );
    m.push((Some(Plan), dependant.clone()));
    let facility = id_of(
        &ok(
            app,
            sup,
            "POST",
            "/shelters",
            json!({"name": "Contents shelter", "beds": 4}),
        )
        .await,
    );
    let stay = id_of(
        &ok(
            app,
            cw,
            "POST",
            &c("/shelter-stays"),
            json!({"facility_id": facility, "admitted_on": now().date().to_string()}),
        )
        .await,
    );
    m.push((Some(Services), stay.clone()));
    m.push((Some(Services), "shelter.admitted".into()));
    ok(
        app,
        cw,
        "POST",
        &c("/followup/assessments"),
        json!({"round": "Roundmark77", "assessed_on": "2026-02-01",
               "answers": {"family_reconciliation": ["rejected"]}}),
    )
    .await;
    m.push((Some(FollowUp), "Roundmark77".into()));
    m.push((Some(FollowUp), "followup.assessment".into()));
    // B's referral (Medical: identity and health), accepted.
    let mine = id_of(
        &ok(
            app,
            cw,
            "POST",
            &c("/referrals"),
            json!({"to_org": "org-b", "services": ["Medical"],
                   "cas_ReasonForOutgoingReferral": "AdditionalServicesRequired"}),
        )
        .await,
    );
    ok(
        app,
        cw_b,
        "POST",
        &format!("/referrals/{mine}/accept"),
        json!({}),
    )
    .await;
    // Another organisation's referral (sent under a supervisor's override), declined.
    let other = id_of(
        &ok(
            app,
            sup,
            "POST",
            &c("/referrals"),
            json!({"to_org": "org-c", "services": ["Shelter"],
                   "cas_ReasonForOutgoingReferral": "AdditionalServicesRequired",
                   "cas_OutgoingReferralDetails": "Otherrefmark details",
                   "consent_override_reason": "survivor agreed orally, form to follow"}),
        )
        .await,
    );
    ok(
        app,
        &cw_c,
        "POST",
        &format!("/referrals/{other}/decline"),
        json!({"decline_reason": "Declinemark reason"}),
    )
    .await;
    m.push((None, other.clone()));
    m.push((None, "Otherrefmark details".into()));
    m.push((None, "Declinemark reason".into()));
    // An off-platform referral package to another instance's organisation.
    app.db
        .store
        .add_org("partner-p", "Partner P", "NGO", "Baku", now())
        .await
        .unwrap();
    let (_, public) = dayaq_storage::packages::generate_age_identity(now());
    app.db
        .store
        .set_org_age_recipient("partner-p", &public, now())
        .await
        .unwrap();
    let (s, v) = send(
        app,
        Some(sup),
        "POST",
        &c("/referral-packages"),
        &json!({"recipient_org": "partner-p", "services": ["PsychologicalCounselling"],
                "cas_ReasonForOutgoingReferral": "AdditionalServicesRequired",
                "consent_override_reason": "survivor agreed orally, form to follow"}),
    )
    .await;
    assert!(s.is_success(), "package: {s} {v}");
    let packages = ok(app, cw, "GET", &c("/referral-packages"), Value::Null).await;
    let digest = packages.to_string();
    let digest = digest
        .split("\"digest\":\"")
        .nth(1)
        .and_then(|d| d.get(..16))
        .unwrap_or_default()
        .to_string();
    assert_eq!(digest.len(), 16, "{packages}");
    m.push((None, digest));
    let f = Fixture {
        case_number: case["case_number"].as_str().unwrap_or_default().to_string(),
        case: id,
        referral: Some(mine.clone()),
        consent,
        plan,
        event,
        perpetrator,
        dependant,
        stay,
        ..Fixture::default()
    };
    (f, mine, Markers(m))
}

/// Every GET route of the matrix (and the identity reveal) as `token`: (route, body).
async fn api_bodies(app: &TestApp, token: &str, f: &Fixture) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut urls: Vec<(String, String)> = ROUTES
        .iter()
        .filter(|(m, ..)| *m == "GET")
        .map(|(_, p, ..)| (format!("GET {p}"), fill(p, f)))
        .collect();
    urls.push((
        "GET /cases/{id}?include=identity".into(),
        format!("/cases/{}?include=identity", f.case),
    ));
    for (route, url) in urls {
        let (_, v) = send(app, Some(token), "GET", &url, &Value::Null).await;
        out.push((route, v.to_string()));
    }
    out
}

/// The screens a receiver may open for the case, as a signed-in browser: (route, html).
async fn screen_bodies(app: &TestApp, username: &str, f: &Fixture) -> Vec<(String, String)> {
    let b = web_client();
    sign_in(&b, &app.base_url, username).await;
    let mut out = Vec::new();
    for path in [
        format!("/cases/{}", f.case),
        format!("/cases/{}/shelter", f.case),
        "/referrals".to_string(),
        "/cases".to_string(),
        "/".to_string(),
    ] {
        let (_, html) = page_get(app, &b, &path).await;
        out.push((format!("screen {path}"), html));
    }
    // The identity reveal (no JavaScript: the whole page comes back with the block open).
    let page = out[0].1.clone();
    if page.contains("name=\"csrf\"") {
        let csrf = csrf_field(&page);
        let reveal = format!("/cases/{}/reveal", f.case);
        let (_, html) = form_post(app, &b, &reveal, &[("csrf", csrf.as_str())]).await;
        out.push(("screen reveal".into(), html));
    }
    out
}

fn all_leaks(markers: &Markers, granted: &[Section], bodies: &[(String, String)]) -> Vec<String> {
    bodies
        .iter()
        .flat_map(|(route, body)| markers.leaks(granted, route, body))
        .collect()
}

/// A receiver granted Identity and Health (a Medical referral) calls every GET route and opens
/// the case's screens: no marker of another section or of the case's other referral appears.
/// A widened grant (a LegalConsultation referral accepted as well) makes the same check,
/// against the Medical grant, report the legal markers: the check would catch a widened rule.
#[tokio::test]
async fn matrix_contents_receiver_sees_only_granted_sections() {
    let app = spawn_app().await;
    let u = users(&app).await;
    let (f, _mine, markers) = planted_case(&app, &u).await;
    let case = Uuid::parse_str(&f.case).unwrap();
    let medical = dayaq_domain::referral::sections_for(&[dayaq_domain::referral::Service::Medical]);
    // Every case-working role of B gets the same grant.
    let mut bodies = Vec::new();
    for role in Role::ALL.iter().filter(|r| r.works_cases()) {
        let actor = u.actors[&('B', *role)];
        let facts = app.db.store.case_facts(case, now()).await.unwrap().unwrap();
        let granted: Vec<Section> = Section::ALL
            .iter()
            .copied()
            .filter(|s| decide(&actor, Action::ReadSection(*s), Resource::Case(&facts)).allowed)
            .collect();
        assert_eq!(granted, medical, "{role:?}");
        let b = api_bodies(&app, &u.tokens[&('B', *role)], &f).await;
        let leaks = all_leaks(&markers, &granted, &b);
        assert!(
            leaks.is_empty(),
            "{role:?} of the receiving organisation got values of sections it was not granted:\n{}",
            leaks.join("\n")
        );
        bodies.extend(b);
    }
    // The receiver does see what it was granted (the check is not vacuous).
    assert!(
        bodies.iter().any(|(_, b)| b.contains("Identmarka")),
        "the granted identity never appeared"
    );
    // Screens, as B's caseworker (a password-only session; no second factor needed).
    // (`users` named B's caseworker `org-b-caseworker`, see `kit::org_and_user`.)
    let screens = screen_bodies(&app, "org-b-caseworker", &f).await;
    assert!(
        screens[0].1.contains(&f.case_number),
        "the receiver opens the case page"
    );
    let leaks = all_leaks(&markers, &medical, &screens);
    assert!(
        leaks.is_empty(),
        "screens show values of sections not granted:\n{}",
        leaks.join("\n")
    );

    // A widened grant: B also gets LegalConsultation (identity, victim context, legal).
    let cw = &u.tokens[&('A', Role::Caseworker)];
    let legal = id_of(
        &ok(
            &app,
            cw,
            "POST",
            &format!("/cases/{}/referrals", f.case),
            json!({"to_org": "org-b", "services": ["LegalConsultation"],
                   "cas_ReasonForOutgoingReferral": "AdditionalServicesRequired"}),
        )
        .await,
    );
    ok(
        &app,
        &u.tokens[&('B', Role::Caseworker)],
        "POST",
        &format!("/referrals/{legal}/accept"),
        json!({}),
    )
    .await;
    let wider = api_bodies(&app, &u.tokens[&('B', Role::Caseworker)], &f).await;
    let caught = all_leaks(&markers, &medical, &wider);
    assert!(
        caught.iter().any(|l| l.contains("LEGALMARK-4471")),
        "a widened grant went unnoticed by the contents check: {caught:?}"
    );
    let granted_now = dayaq_domain::referral::sections_for(&[
        dayaq_domain::referral::Service::Medical,
        dayaq_domain::referral::Service::LegalConsultation,
    ]);
    let leaks = all_leaks(&markers, &granted_now, &wider);
    assert!(leaks.is_empty(), "{}", leaks.join("\n"));
    eprintln!(
        "contents matrix: {} answers checked, a widened grant gives {} reported values",
        bodies.len() + screens.len(),
        caught.len()
    );
    app.db.cleanup().await;
}
