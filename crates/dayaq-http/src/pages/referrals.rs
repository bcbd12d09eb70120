//! Screens for the referral mechanism: inbox/outbox, the directory with coverage, the
//! referral and legal parts of the case page, and break-glass.

use super::form::Opt;
use super::form::{Back, CaseForm, CaseForms, FormSpec, Posted, lang_of, value, values};
use crate::AppState;
use crate::auth::{Authed, PageUser};
use crate::error::AppError;
use crate::i18n::Tr;
use crate::pages::{Chrome, error_page, error_text, non_empty, see_other};
use crate::upload::{UploadError, file_field};
use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::Router;
use axum::extract::multipart::MultipartRejection;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::StatusCode;
use axum::http::header::{CACHE_CONTROL, CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use dayaq_domain::Role;
use dayaq_domain::policy::Section;
use dayaq_domain::referral::{DeclineReason, ReferralEvent, Service, Travel};
use dayaq_domain::vocab::ReferralReason;
use dayaq_storage::StoreError;
use dayaq_storage::cases::Ctx;
use dayaq_storage::packages::PackageInput;
use dayaq_storage::referrals::{LegalInput, Referral, ReferralInput};
use serde::Deserialize;
use uuid::Uuid;

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/referrals", get(referrals_page))
        .route("/referrals/{id}/{action}", post(referral_action))
        .route("/directory", get(directory_page))
        .route("/cases/{id}/refer", post(refer_submit))
        .route("/cases/{id}/referral-package", post(package_submit))
        .route(
            "/referrals/import-package",
            post(package_import).layer(axum::extract::DefaultBodyLimit::max(
                crate::settings::UPLOAD_LIMIT,
            )),
        )
        .route("/cases/{id}/legal", post(legal_submit))
        .route("/break-glass", post(break_glass_submit))
        .route("/referrals/badge", get(new_referrals_badge))
}

// ---------- the receiving organisation's badge (issue #23 §8) ----------

#[derive(Template)]
#[template(path = "referrals_home.html")]
struct HomeSection {
    t: Tr,
    count: i64,
}

/// The home page's "new referrals" card: referrals addressed to the organisation waiting for
/// its answer (empty for roles that do not answer referrals).
pub(crate) async fn home_section(
    state: &AppState,
    a: &Authed,
    ctx: &Ctx<'_>,
    t: &Tr,
) -> Result<String, AppError> {
    if !a.user.role.works_cases() {
        return Ok(String::new());
    }
    let count = state.store.new_referral_count(ctx).await?;
    HomeSection { t: *t, count }
        .render()
        .map_err(|e| AppError::Internal(e.to_string()))
}

#[derive(Template, WebTemplate)]
#[template(path = "referrals_badge.html")]
struct Badge {
    t: Tr,
    count: i64,
}

/// `GET /referrals/badge`: the navigation's count of new referrals (loaded by htmx into the
/// header; nothing when there are none).
async fn new_referrals_badge(State(state): State<AppState>, PageUser(a): PageUser) -> Response {
    let ctx = a.cx();
    let count = match state.store.new_referral_count(&ctx).await {
        Ok(n) => n,
        Err(e) => return AppError::from(e).into_response(),
    };
    (
        [(CACHE_CONTROL, "no-store")],
        Badge {
            t: Tr::new(lang_of(&a)),
            count,
        },
    )
        .into_response()
}

pub struct ReferralRow {
    pub id: Uuid,
    pub case_id: Uuid,
    pub case_number: String,
    pub org: String,
    pub services: String,
    pub state: String,
    pub state_code: String,
    pub created: String,
    pub overdue: bool,
    pub override_used: bool,
    pub decline_reason: Option<String>,
    /// Details and travel details, decrypted for the two organisations involved only.
    pub details: Option<String>,
    pub travel: Vec<(String, String)>,
}

/// Travel details as (label, value) lines, in the reader's language.
fn travel_lines(t: &Tr, tr: &Travel) -> Vec<(String, String)> {
    let docs = tr
        .travel_documents
        .as_ref()
        .map(|d| t.get(&format!("travel-documents-{}", d.to_lowercase())));
    let escort = tr.escort_needed.then(|| t.get("yes"));
    [
        ("travel-date", tr.travel_date.as_deref().map(|d| t.date(d))),
        ("travel-arrival-time", tr.arrival_time.clone()),
        ("travel-country", tr.destination_country.clone()),
        ("travel-airport", tr.airport.clone()),
        ("travel-flight", tr.flight.clone()),
        ("travel-documents", docs),
        ("travel-escort", escort),
        ("travel-notes", tr.notes.clone()),
    ]
    .into_iter()
    .filter_map(|(k, v)| v.map(|v| (t.get(k), v)))
    .collect()
}

fn rows(
    t: &Tr,
    list: Vec<Referral>,
    orgs: &[dayaq_storage::orgs::Organisation],
    incoming: bool,
) -> Vec<ReferralRow> {
    list.into_iter()
        .map(|r| {
            let other = if incoming { r.from_org } else { r.to_org };
            ReferralRow {
                id: r.id,
                case_id: r.case_id,
                case_number: r.case_number,
                org: orgs
                    .iter()
                    .find(|o| o.id == other)
                    .map(|o| o.name.clone())
                    .unwrap_or_default(),
                services: r
                    .services
                    .iter()
                    .map(|s| t.get(&format!("service-{}", s.to_lowercase())))
                    .collect::<Vec<_>>()
                    .join(", "),
                state: t.get(&format!("referral-state-{}", r.state.to_lowercase())),
                state_code: r.state,
                created: t.datetime(&r.created_at),
                overdue: r.overdue,
                override_used: r.consent_override,
                decline_reason: r.decline_reason.map(|d| decline_text(t, &d)),
                details: r.details,
                travel: r
                    .travel
                    .as_ref()
                    .map(|tr| travel_lines(t, tr))
                    .unwrap_or_default(),
            }
        })
        .collect()
}

/// What the case page shows about referrals and the legal section.
pub struct ReferSection {
    pub case_id: Uuid,
    pub referrals: Vec<ReferralRow>,
    pub can_refer: bool,
    pub is_supervisor: bool,
    pub orgs: Vec<Opt>,
    pub services: Vec<Opt>,
    pub reasons: Vec<Opt>,
    pub legal_visible: bool,
    pub legal: Option<LegalInput>,
    /// Off-platform packages sent for this case or received as it.
    pub packages: Vec<PackageRow>,
    /// Organisations off the platform with a recorded age key.
    pub recipients: Vec<Opt>,
}

impl ReferSection {
    /// What the legal form shows: the values of a refused submission, else what is stored.
    pub fn legal_now(&self, forms: &CaseForms) -> LegalInput {
        if forms.errs.shows("legal") {
            LegalInput {
                criminal_case_ref: Some(forms.v("legal", "criminal_case_ref")),
                cooperation: forms.v("legal", "cooperation"),
                witness: forms.is("legal", "witness", "on"),
                compensation_claim: forms.is("legal", "compensation_claim", "on"),
                non_punishment: forms.is("legal", "non_punishment", "on"),
            }
        } else {
            self.legal.clone().unwrap_or_default()
        }
    }
}

/// One off-platform referral package on the case page.
pub struct PackageRow {
    pub direction: String,
    pub counterpart: String,
    pub services: String,
    pub sections: String,
    pub created: String,
    /// First 16 hex digits of the SHA-256 of the encrypted file (to compare with the recipient).
    pub digest: String,
    /// An incoming package whose signature matched a sender key accepted on this instance.
    pub verified: bool,
}

pub(crate) async fn section(
    state: &AppState,
    a: &Authed,
    ctx: &Ctx<'_>,
    t: &Tr,
    id: Uuid,
) -> Result<ReferSection, AppError> {
    let orgs = state.store.list_orgs().await?;
    let facts = state
        .store
        .case_facts(id, state.now())
        .await?
        .ok_or(AppError::NotFound)?;
    let actor = &a.actor;
    let can_refer = dayaq_domain::decide(
        actor,
        dayaq_domain::Action::ReferCase,
        dayaq_domain::Resource::Case(&facts),
    )
    .allowed;
    let sections = state.store.readable_sections(ctx, id).await?;
    let legal_visible = sections.contains(&Section::Legal);
    let legal = if legal_visible {
        state.store.legal(ctx, id).await?
    } else {
        None
    };
    let list = state.store.case_referrals(ctx, id).await?;
    let packages = state
        .store
        .case_packages(ctx, id)
        .await?
        .into_iter()
        .map(|p| PackageRow {
            verified: p.verified_sender,
            direction: t.get(&format!("package-{}", p.direction)),
            counterpart: orgs
                .iter()
                .find(|o| o.id.to_string() == p.counterpart)
                .map(|o| o.name.clone())
                .unwrap_or(p.counterpart),
            services: p
                .services
                .iter()
                .map(|s| t.get(&format!("service-{}", s.to_lowercase())))
                .collect::<Vec<_>>()
                .join(", "),
            sections: p
                .sections
                .iter()
                .map(|s| t.get(&format!("package-section-{}", s.replace('_', "-"))))
                .collect::<Vec<_>>()
                .join(", "),
            created: t.datetime(&p.created_at),
            digest: p.digest.chars().take(16).collect(),
        })
        .collect();
    let recipients = if can_refer {
        state
            .store
            .package_recipients()
            .await?
            .into_iter()
            .map(|r| Opt {
                value: r.org_slug,
                label: r.org_name,
            })
            .collect()
    } else {
        Vec::new()
    };
    Ok(ReferSection {
        packages,
        recipients,
        case_id: id,
        referrals: rows(t, list, &orgs, false),
        can_refer,
        is_supervisor: a.user.role == Role::Supervisor,
        orgs: orgs
            .iter()
            .filter(|o| o.id != facts.owner_org)
            .map(|o| Opt {
                value: o.slug.clone(),
                label: o.name.clone(),
            })
            .collect(),
        services: Service::ALL
            .iter()
            .map(|s| Opt {
                value: s.as_str().into(),
                label: t.get(&format!("service-{}", s.as_str().to_lowercase())),
            })
            .collect(),
        reasons: ReferralReason::ALL
            .iter()
            .map(|r| Opt {
                value: r.as_str().into(),
                label: t.vocab("cas_ReasonForOutgoingReferral", r.as_str()),
            })
            .collect(),
        legal_visible,
        legal,
    })
}

/// The label of a decline-reason code on the decline screen.
fn decline_label(t: &Tr, r: DeclineReason) -> String {
    t.get(match r {
        DeclineReason::NoCapacity => "referrals-decline-reason-no-capacity",
        DeclineReason::NotEligible => "referrals-decline-reason-not-eligible",
        DeclineReason::OutsideArea => "referrals-decline-reason-outside-area",
        DeclineReason::ServiceUnavailable => "referrals-decline-reason-service-unavailable",
        DeclineReason::SurvivorDeclined => "referrals-decline-reason-survivor-declined",
        DeclineReason::Other => "referrals-decline-reason-other",
    })
}

/// A stored decline reason as shown: the label when it is one of the codes, else the text as
/// it was written (reasons given through the API before the closed list, or by the API).
fn decline_text(t: &Tr, stored: &str) -> String {
    DeclineReason::ALL
        .iter()
        .find(|r| r.code() == stored)
        .map(|r| decline_label(t, *r))
        .unwrap_or_else(|| stored.to_string())
}

/// The options of the decline screen's reason list (the stored value is the code).
fn decline_options(t: &Tr) -> Vec<Opt> {
    DeclineReason::ALL
        .iter()
        .map(|r| Opt {
            value: r.code().into(),
            label: decline_label(t, *r),
        })
        .collect()
}

#[derive(Template, WebTemplate)]
#[template(path = "referrals.html")]
struct ReferralsPage {
    c: Chrome,
    incoming: Vec<ReferralRow>,
    outgoing: Vec<ReferralRow>,
    errors: Vec<String>,
    decline_reasons: Vec<Opt>,
    bg: BreakGlassCard,
    /// The answer forms' state (issue #23 §1): the refused one with its value and error, the
    /// confirmation of the last answer, the one-time token.
    forms: CaseForms,
    /// The referral whose answer form was refused ("" when none).
    refused_ref: String,
}

impl ReferralsPage {
    /// Whether `form` of the row of referral `rid` is the refused one.
    fn here(&self, form: &str, rid: &Uuid) -> bool {
        self.forms.errs.shows(form) && self.refused_ref == rid.to_string()
    }
}

/// The break-glass card: shown only to roles the policy lets ask for it; a refused request
/// comes back with its error in words beside the form and what was typed (issue #23 §5).
#[derive(Default)]
struct BreakGlassCard {
    shown: bool,
    case_number: String,
    reason: String,
    error: Option<String>,
}

async fn referrals_with(
    state: &AppState,
    a: &Authed,
    errors: Vec<String>,
    status: StatusCode,
) -> Response {
    let forms = CaseForms::page(&Tr::new(lang_of(a)), None);
    referrals_full(
        state,
        a,
        errors,
        status,
        BreakGlassCard::default(),
        forms,
        "",
    )
    .await
}

async fn referrals_with_card(
    state: &AppState,
    a: &Authed,
    errors: Vec<String>,
    status: StatusCode,
    bg: BreakGlassCard,
) -> Response {
    let forms = CaseForms::page(&Tr::new(lang_of(a)), None);
    referrals_full(state, a, errors, status, bg, forms, "").await
}

async fn referrals_full(
    state: &AppState,
    a: &Authed,
    errors: Vec<String>,
    status: StatusCode,
    mut bg: BreakGlassCard,
    forms: CaseForms,
    refused_ref: &str,
) -> Response {
    bg.shown = dayaq_domain::policy::may_request_break_glass(&a.actor);
    let mut errors = errors;
    if !bg.shown {
        // Posted without the card (a role that may not ask): the refusal still says why.
        errors.extend(bg.error.take());
    }
    let c = Chrome::for_user(state, a, "referrals");
    let lang = c.t.lang;
    let ctx = a.cx();
    let r: Result<Response, AppError> = async {
        let orgs = state.store.list_orgs().await?;
        let incoming = rows(
            &c.t,
            state.store.referral_box(&ctx, true).await?,
            &orgs,
            true,
        );
        let outgoing = rows(
            &c.t,
            state.store.referral_box(&ctx, false).await?,
            &orgs,
            false,
        );
        Ok((
            status,
            ReferralsPage {
                decline_reasons: decline_options(&c.t),
                c,
                incoming,
                outgoing,
                errors,
                bg,
                forms,
                refused_ref: refused_ref.to_string(),
            },
        )
            .into_response())
    }
    .await;
    r.unwrap_or_else(|e| error_page(state, None, lang, e))
}

/// `?done=<code>`: the fixed code of the answer that just succeeded (never free text).
#[derive(Deserialize)]
struct DoneQuery {
    done: Option<String>,
}

async fn referrals_page(
    State(state): State<AppState>,
    PageUser(a): PageUser,
    Query(q): Query<DoneQuery>,
) -> Response {
    let forms = CaseForms::page(&Tr::new(lang_of(&a)), q.done.as_deref());
    referrals_full(
        &state,
        &a,
        vec![],
        StatusCode::OK,
        BreakGlassCard::default(),
        forms,
        "",
    )
    .await
}

// The answer forms of the referrals page (one per row): the input ids get the referral id
// (`{id}-{referral}`) when a refusal is shown.
const ACCEPT: FormSpec = FormSpec {
    name: "accept",
    done: "referral-accepted",
    ids: &[("state", "accept")],
};
const DECLINE: FormSpec = FormSpec {
    name: "decline",
    done: "referral-declined",
    ids: &[("decline_reason", "dr"), ("state", "dr")],
};
const COMPLETE: FormSpec = FormSpec {
    name: "complete",
    done: "referral-completed",
    ids: &[("state", "complete")],
};
const WITHDRAW: FormSpec = FormSpec {
    name: "withdraw",
    done: "referral-withdrawn",
    ids: &[("state", "withdraw")],
};

async fn referral_action(
    State(state): State<AppState>,
    PageUser(a): PageUser,
    Path((id, action)): Path<(String, String)>,
    Form(f): Form<Vec<(String, String)>>,
) -> Response {
    let t = Tr::new(lang_of(&a));
    let Ok(rid) = crate::paths::parse_id(&id) else {
        return error_page(&state, None, t.lang, AppError::NotFound);
    };
    let (event, spec) = match action.as_str() {
        "accept" => (ReferralEvent::Accept, &ACCEPT),
        "decline" => (ReferralEvent::Decline, &DECLINE),
        "complete" => (ReferralEvent::Complete, &COMPLETE),
        "withdraw" => (ReferralEvent::Withdraw, &WITHDRAW),
        _ => return error_page(&state, None, t.lang, AppError::NotFound),
    };
    let ctx = a.cx();
    let reason = value(&f, "decline_reason");
    match state
        .store
        .respond_referral(&ctx, rid, event, non_empty(&reason).as_deref())
        .await
    {
        Ok(r) if event == ReferralEvent::Accept => see_other(&format!(
            "/cases/{}?done={}#referrals",
            r.case_id, spec.done
        )),
        Ok(_) => see_other(&format!("/referrals?done={}", spec.done)),
        Err(StoreError::Invalid(v)) => {
            let mut forms = CaseForms::refused(&t, spec, Posted(f), &v, error_text);
            // The inputs of this row carry the referral's id.
            for (input, _) in &mut forms.errs.links {
                *input = format!("{input}-{rid}");
            }
            referrals_full(
                &state,
                &a,
                vec![],
                StatusCode::UNPROCESSABLE_ENTITY,
                BreakGlassCard::default(),
                forms,
                &rid.to_string(),
            )
            .await
        }
        Err(e) => error_page(&state, None, t.lang, e.into()),
    }
}

#[derive(Deserialize)]
struct DirQuery {
    #[serde(default)]
    service: String,
    #[serde(default)]
    region: String,
}

pub struct DirRow {
    pub org: String,
    pub service: String,
    pub region: String,
    pub city: String,
    pub languages: String,
    pub hours: String,
    pub capacity: String,
    pub rules: String,
}

pub struct CoverageRow {
    pub region: String,
    pub offered: String,
    pub missing: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "directory.html")]
struct DirectoryPage {
    c: Chrome,
    services: Vec<Opt>,
    regions: Vec<String>,
    selected_service: String,
    selected_region: String,
    rows: Vec<DirRow>,
    coverage: Vec<CoverageRow>,
}

fn rules_text(t: &Tr, e: &dayaq_domain::referral::Eligibility) -> String {
    let mut v = Vec::new();
    for (on, code) in [
        (e.requires_police_cooperation, "needs_police_cooperation"),
        (e.requires_criminal_case, "needs_criminal_case"),
        (e.requires_identified_victim, "needs_identified_victim"),
        (e.women_only, "women_only"),
        (e.children_only, "children_only"),
        (e.adults_only, "adults_only"),
    ] {
        if on {
            v.push(t.get(&format!("err-{}", code.replace('_', "-"))));
        }
    }
    v.join("; ")
}

async fn directory_page(
    State(state): State<AppState>,
    PageUser(a): PageUser,
    Query(q): Query<DirQuery>,
) -> Response {
    let c = Chrome::for_user(&state, &a, "directory");
    let lang = c.t.lang;
    let t = c.t;
    let r: Result<Response, AppError> = async {
        let svc = non_empty(&q.service);
        let reg = non_empty(&q.region);
        let list = state
            .store
            .directory(svc.as_deref(), reg.as_deref())
            .await?;
        let cov = state.store.coverage().await?;
        let name = |s: &str| t.get(&format!("service-{}", s.to_lowercase()));
        let rows = list
            .iter()
            .map(|d| DirRow {
                org: d.org_name.clone(),
                service: name(&d.service),
                region: d.region.clone(),
                city: d.city.clone(),
                languages: d.languages.clone(),
                hours: d.opening_hours.clone(),
                capacity: d.capacity.map(|c| c.to_string()).unwrap_or_default(),
                rules: rules_text(&t, &d.eligibility),
            })
            .collect();
        let coverage = cov
            .iter()
            .map(|(region, offered)| CoverageRow {
                region: region.clone(),
                offered: offered
                    .iter()
                    .map(|s| name(s))
                    .collect::<Vec<_>>()
                    .join(", "),
                missing: Service::ALL
                    .iter()
                    .filter(|s| !offered.iter().any(|o| o == s.as_str()))
                    .map(|s| name(s.as_str()))
                    .collect::<Vec<_>>()
                    .join(", "),
            })
            .collect();
        let regions = cov.into_iter().map(|(r, _)| r).collect();
        let services = Service::ALL
            .iter()
            .map(|s| Opt {
                value: s.as_str().into(),
                label: name(s.as_str()),
            })
            .collect();
        Ok(DirectoryPage {
            c,
            services,
            regions,
            selected_service: q.service,
            selected_region: q.region,
            rows,
            coverage,
        }
        .into_response())
    }
    .await;
    r.unwrap_or_else(|e| error_page(&state, None, lang, e))
}

/// Referral forms of the case page go back to `#referrals`.
const BACK: Back = Back::to("referrals");

// The referral forms of the case page (issue #23 §1): storage's field names → input ids.
const REFER: FormSpec = FormSpec {
    name: "refer",
    done: "referral",
    ids: &[
        ("to_org", "r-org"),
        ("services", "r-services"),
        ("cas_ReasonForOutgoingReferral", "r-reason"),
        ("cas_OutgoingReferralDetails", "r-details"),
        ("travel", "r-travel"),
        ("travel.travel_date", "t-date"),
        ("travel.arrival_time", "t-time"),
        ("travel.destination_country", "t-country"),
        ("travel.airport", "t-airport"),
        ("travel.flight", "t-flight"),
        ("travel.travel_documents", "t-docs"),
        ("travel.notes", "t-notes"),
        ("consent", "r-consent"),
        ("consent_override_reason", "r-override"),
    ],
};
const PACKAGE: FormSpec = FormSpec {
    name: "package",
    done: "",
    ids: &[
        ("recipient_org", "p-org"),
        ("services", "p-services"),
        ("cas_ReasonForOutgoingReferral", "p-reason"),
        ("reason", "p-reason"),
        ("consent", "p-consent"),
        ("consent_override_reason", "p-override"),
    ],
};
const LEGAL: FormSpec = FormSpec {
    name: "legal",
    done: "legal",
    ids: &[("cooperation", "l-coop"), ("criminal_case_ref", "l-ref")],
};

async fn refer_submit(State(state): State<AppState>, c: CaseForm) -> Response {
    let CaseForm { a, id, uid, f } = c;
    let input = ReferralInput {
        to_org: value(&f, "to_org"),
        services: values(&f, "service"),
        reason: value(&f, "reason"),
        details: non_empty(&value(&f, "details")),
        consent_override_reason: non_empty(&value(&f, "override_reason")),
        travel: travel_from_form(&f),
    };
    let ctx = a.cx();
    let r = state.store.create_referral(&ctx, uid, &input).await;
    BACK.answer(&state, &a, &id, &REFER, Posted(f), r).await
}

/// Exports an off-platform referral package from the case page: the age-encrypted file is
/// the response (a download named after the referral, no personal data in the name); on a
/// refusal the case page shows why.
async fn package_submit(State(state): State<AppState>, c: CaseForm) -> Response {
    let CaseForm { a, id, uid, f } = c;
    let input = PackageInput {
        recipient_org: value(&f, "recipient_org"),
        services: values(&f, "service"),
        reason: value(&f, "reason"),
        consent_override_reason: non_empty(&value(&f, "override_reason")),
    };
    let ctx = a.cx();
    match state.store.export_package(&ctx, uid, &input).await {
        Ok(p) => (
            StatusCode::OK,
            [
                (CONTENT_TYPE, "application/octet-stream".to_string()),
                (
                    CONTENT_DISPOSITION,
                    format!("attachment; filename=\"referral-{}.age\"", p.referral_id),
                ),
                (CACHE_CONTROL, "no-store".to_string()),
            ],
            p.ciphertext,
        )
            .into_response(),
        Err(StoreError::Invalid(v)) => {
            Back::to("packages")
                .refused(&state, &a, &id, &PACKAGE, Posted(f), v)
                .await
        }
        Err(e) => error_page(&state, None, lang_of(&a), e.into()),
    }
}

/// Imports a referral package received from another Dayaq instance (file upload through
/// htmx, which carries the CSRF token in a header): a new case of the user's organisation,
/// opened on success; on failure the referrals page says what was wrong.
async fn package_import(
    State(state): State<AppState>,
    PageUser(a): PageUser,
    mp: Result<Multipart, MultipartRejection>,
) -> Response {
    let t = Tr::new(lang_of(&a));
    let ctx = a.cx();
    if let Err(e) = state.store.authorize_import(&ctx) {
        return error_page(&state, None, t.lang, e.into());
    }
    let file = match file_field(mp).await {
        Ok(f) => f,
        Err(e) => {
            let key = match e {
                UploadError::NoFile => "package-no-file",
                UploadError::Unreadable => "package-unreadable",
            };
            let msgs = vec![t.get(key)];
            return referrals_with(&state, &a, msgs, StatusCode::UNPROCESSABLE_ENTITY).await;
        }
    };
    let ids = match state.store.instance_identities().await {
        Ok(ids) => ids,
        Err(e) => return error_page(&state, None, t.lang, e.into()),
    };
    match state.store.import_package(&ctx, &file, &ids).await {
        Ok(p) => {
            let to = format!("/cases/{}", p.case_id);
            // htmx follows a redirect inside the page; HX-Redirect makes it a full navigation.
            let mut r = see_other(&to);
            if let Ok(v) = axum::http::HeaderValue::from_str(&to) {
                r.headers_mut().insert("HX-Redirect", v);
            }
            r
        }
        Err(StoreError::Invalid(v)) => {
            let msgs = v.errors.iter().map(|e| error_text(&t, e)).collect();
            referrals_with(&state, &a, msgs, StatusCode::UNPROCESSABLE_ENTITY).await
        }
        Err(e) => error_page(&state, None, t.lang, e.into()),
    }
}

/// Travel details from the referral form: none when every travel field is empty.
fn travel_from_form(f: &[(String, String)]) -> Option<Travel> {
    let t = Travel {
        travel_date: non_empty(&value(f, "travel_date")),
        arrival_time: non_empty(&value(f, "arrival_time")),
        destination_country: non_empty(&value(f, "destination_country").to_uppercase()),
        airport: non_empty(&value(f, "airport")),
        flight: non_empty(&value(f, "flight")),
        escort_needed: value(f, "escort_needed") == "on",
        travel_documents: non_empty(&value(f, "travel_documents")),
        notes: non_empty(&value(f, "travel_notes")),
    };
    (t != Travel::default()).then_some(t)
}

async fn legal_submit(State(state): State<AppState>, c: CaseForm) -> Response {
    let CaseForm { a, id, uid, f } = c;
    let input = LegalInput {
        criminal_case_ref: non_empty(&value(&f, "criminal_case_ref")),
        cooperation: value(&f, "cooperation"),
        witness: value(&f, "witness") == "on",
        compensation_claim: value(&f, "compensation_claim") == "on",
        non_punishment: value(&f, "non_punishment") == "on",
    };
    let ctx = a.cx();
    let r = state.store.set_legal(&ctx, uid, &input).await;
    Back::to("legal")
        .answer(&state, &a, &id, &LEGAL, Posted(f), r)
        .await
}

async fn break_glass_submit(
    State(state): State<AppState>,
    PageUser(a): PageUser,
    Form(f): Form<Vec<(String, String)>>,
) -> Response {
    let t = Tr::new(lang_of(&a));
    let ctx = a.cx();
    let (case_number, reason) = (value(&f, "case_number"), value(&f, "reason"));
    let (status, error) = match state.store.break_glass(&ctx, &case_number, &reason).await {
        Ok((case, _)) => return see_other(&format!("/cases/{case}")),
        Err(StoreError::Invalid(v)) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            v.errors
                .iter()
                .map(|e| error_text(&t, e))
                .collect::<Vec<_>>()
                .join(" "),
        ),
        // Never silent: no such case elsewhere, or one the user may not open this way.
        Err(StoreError::NotFound) => (StatusCode::NOT_FOUND, t.get("recv-bg-refused")),
        Err(StoreError::Forbidden(_)) => (StatusCode::FORBIDDEN, t.get("recv-bg-refused")),
        Err(e) => return error_page(&state, None, t.lang, e.into()),
    };
    let card = BreakGlassCard {
        shown: true,
        case_number,
        reason,
        error: Some(error),
    };
    referrals_with_card(&state, &a, vec![], status, card).await
}
