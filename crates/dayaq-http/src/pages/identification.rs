//! Screens for identification: screening, the formal decision, consent, hand-over, and the
//! intake contacts list (hotline desk).

use super::form::{
    Back, CaseForm, FieldErrs, FormSpec, Opt, Posted, lang_of, new_form_token, value, values,
};
use crate::AppState;
use crate::auth::{Authed, PageUser};
use crate::error::AppError;
use crate::i18n::Tr;
use crate::pages::{Chrome, error_page, error_text, non_empty, see_other};
use crate::paths::parse_id;
use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use dayaq_domain::case::CaseInput;
use dayaq_domain::identification::{
    ConsentPurpose, ContactChannel, DecisionInput, ILO_INDICATORS, ScreeningInput, rights,
};
use dayaq_domain::policy::{Action, Resource, decide};
use dayaq_domain::vocab::{
    DecisionMakingOrg, MethodOfControl, OrgType, TraffickingStatus, TypeOfExploitation,
};
use dayaq_storage::StoreError;
use dayaq_storage::cases::Ctx;
use dayaq_storage::identification::ConsentInput;
use uuid::Uuid;

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/cases/{id}/screening", post(screening_submit))
        .route("/cases/{id}/decision", post(decision_submit))
        .route("/cases/{id}/consent", post(consent_submit))
        .route("/cases/{id}/consent/{cid}/withdraw", post(consent_withdraw))
        .route("/cases/{id}/transfer", post(transfer_submit))
        .route("/contacts", get(contacts_page).post(contact_submit))
        .route("/contacts/{id}", get(contact_page))
        .route("/contacts/{id}/case", post(contact_to_case))
}

pub struct DecisionRow {
    pub status: String,
    pub org: String,
    pub decided_on: String,
    pub reference: String,
}

pub struct ConsentRow {
    pub id: Uuid,
    pub purpose: String,
    pub given: bool,
    pub recipient: String,
    pub given_by: String,
    pub language: String,
    pub recorded: String,
    pub withdrawn: Option<String>,
}

pub struct ScreeningView {
    pub possible_victim: bool,
    pub when: String,
    pub elements: String,
    pub controls: String,
}

/// Everything the identification part of the case page shows.
pub struct IdentSection {
    pub case_id: Uuid,
    pub status: String,
    pub rights: Vec<String>,
    pub decisions: Vec<DecisionRow>,
    pub can_decide: bool,
    pub statuses: Vec<Opt>,
    pub decision_orgs: Vec<Opt>,
    pub screening: Option<ScreeningView>,
    pub controls: Vec<Opt>,
    pub ilo: Vec<Opt>,
    pub consents: Vec<ConsentRow>,
    pub purposes: Vec<Opt>,
    pub orgs: Vec<Opt>,
    pub org_types: Vec<Opt>,
    pub can_update: bool,
    /// The screening form (`Action::RecordScreening`: the owner, or the police of a receiving
    /// organisation granted the victim context).
    pub can_screen: bool,
    /// Whether the reader may read screenings (the victim context); otherwise the section says
    /// "not shared with your organisation", never "not screened yet" (issue #23 §9).
    pub screening_shared: bool,
    /// The recovery and reflection period (issue #17 part 4): None before any contact or
    /// presumed-victim screening.
    pub reflection: Option<dayaq_storage::rules::CaseReflection>,
}

fn opts(t: &Tr, field: &str, values: impl Iterator<Item = &'static str>) -> Vec<Opt> {
    values
        .map(|v| Opt {
            value: v.to_string(),
            label: t.vocab(field, v),
        })
        .collect()
}

pub(crate) async fn section(
    state: &AppState,
    a: &Authed,
    ctx: &Ctx<'_>,
    t: &Tr,
    id: Uuid,
) -> Result<IdentSection, AppError> {
    let status = state.store.trafficking_status(ctx, id).await?;
    let facts = state
        .store
        .case_facts(id, state.now())
        .await?
        .ok_or(AppError::NotFound)?;
    let actor = &a.actor;
    let can_decide = decide(actor, Action::DecideIdentification, Resource::Case(&facts)).allowed;
    let can_update = decide(actor, Action::UpdateCase, Resource::Case(&facts)).allowed;
    let can_screen = decide(actor, Action::RecordScreening, Resource::Case(&facts)).allowed;
    let orgs = state.store.list_orgs().await?;
    let org_name = |oid: Uuid| {
        orgs.iter()
            .find(|o| o.id == oid)
            .map(|o| o.name.clone())
            .unwrap_or_default()
    };
    let r = rights(status);
    let mut rights_list = Vec::new();
    if r.one_time_allowance {
        rights_list.push(t.get("right-allowance"));
    }
    if r.state_shelter {
        rights_list.push(t.get("right-state-shelter"));
    }
    if r.ngo_assistance {
        rights_list.push(t.get("right-ngo-assistance"));
    }
    let decisions = state
        .store
        .decisions(ctx, id)
        .await?
        .into_iter()
        .map(|d| DecisionRow {
            status: t.vocab("vic_TraffickingStatus", &d.status),
            org: t.vocab(
                "vic_TraffickingStatusDecisionMakingOrg",
                &d.decision_making_org,
            ),
            decided_on: t.date(&d.decided_on),
            reference: d.reference,
        })
        .collect();
    let sections = state.store.readable_sections(ctx, id).await?;
    let screening_shared = sections.contains(&dayaq_domain::policy::Section::VictimContext);
    let screenings = if screening_shared {
        state.store.screenings(ctx, id).await?
    } else {
        vec![]
    };
    let screening = screenings.into_iter().last().map(|s| {
        let mut el = Vec::new();
        for (on, key) in [
            (s.act, "screen-act"),
            (s.means, "screen-means"),
            (s.purpose, "screen-purpose"),
            (s.is_child, "screen-child"),
        ] {
            if on {
                el.push(t.get(key));
            }
        }
        ScreeningView {
            possible_victim: s.possible_victim,
            when: t.datetime(&s.created_at),
            elements: el.join(", "),
            controls: s
                .methods_of_control
                .iter()
                .map(|m| t.vocab("vic_MethodsOfControl", m))
                .collect::<Vec<_>>()
                .join(", "),
        }
    });
    let consents = state
        .store
        .consents(ctx, id)
        .await?
        .into_iter()
        .map(|c| ConsentRow {
            id: c.id,
            purpose: t.get(&format!("consent-purpose-{}", c.purpose.to_lowercase())),
            given: c.given,
            recipient: c
                .recipient_org
                .map(org_name)
                .or(c.recipient_org_type.map(|x| t.vocab("org_Type", &x)))
                .unwrap_or_default(),
            given_by: t.get(&format!("consent-by-{}", c.given_by.to_lowercase())),
            language: crate::i18n::language_name(&c.language),
            recorded: t.datetime(&c.recorded_at),
            withdrawn: c.withdrawn_at.map(|w| t.datetime(&w)),
        })
        .collect();
    Ok(IdentSection {
        case_id: id,
        status: t.vocab("vic_TraffickingStatus", status.as_str()),
        rights: rights_list,
        decisions,
        can_decide,
        statuses: opts(
            t,
            "vic_TraffickingStatus",
            TraffickingStatus::ALL.iter().map(|s| s.as_str()),
        ),
        decision_orgs: opts(
            t,
            "vic_TraffickingStatusDecisionMakingOrg",
            DecisionMakingOrg::ALL.iter().map(|s| s.as_str()),
        ),
        screening,
        controls: opts(
            t,
            "vic_MethodsOfControl",
            MethodOfControl::ALL.iter().map(|s| s.as_str()),
        ),
        ilo: ILO_INDICATORS
            .iter()
            .map(|v| Opt {
                value: v.to_string(),
                label: t.get(&format!("ilo-{}", v.to_lowercase())),
            })
            .collect(),
        consents,
        purposes: ConsentPurpose::ALL
            .iter()
            .map(|p| Opt {
                value: p.as_str().into(),
                label: t.get(&format!("consent-purpose-{}", p.as_str().to_lowercase())),
            })
            .collect(),
        orgs: orgs
            .iter()
            .filter(|o| o.id != facts.owner_org)
            .map(|o| Opt {
                value: o.slug.clone(),
                label: o.name.clone(),
            })
            .collect(),
        org_types: opts(t, "org_Type", OrgType::ALL.iter().map(|s| s.as_str())),
        can_update,
        can_screen,
        screening_shared,
        reflection: state.store.case_reflection(ctx, id).await?,
    })
}

/// Identification forms show their errors on the case page again.
const BACK: Back = Back::to("identification");

// The forms of the identification sections (issue #23 §1): storage's field names → input ids.
const DECISION: FormSpec = FormSpec {
    name: "decision",
    done: "decision",
    ids: &[
        ("vic_TraffickingStatus", "d-status"),
        ("vic_TraffickingStatusDecisionMakingOrg", "d-org"),
        ("decided_on", "d-date"),
        ("reference", "d-ref"),
    ],
};
const SCREENING: FormSpec = FormSpec {
    name: "screening",
    done: "screening",
    ids: &[
        ("vic_MethodsOfControl", "s-act"),
        ("ilo_indicators", "s-act"),
    ],
};
const CONSENT: FormSpec = FormSpec {
    name: "consent",
    done: "consent",
    ids: &[
        ("purpose", "c-purpose"),
        ("recipient_org", "c-org"),
        ("recipient_org_type", "c-type"),
        ("given_by", "c-by"),
        ("language", "c-lang"),
    ],
};
const TRANSFER: FormSpec = FormSpec {
    name: "transfer",
    done: "transfer",
    ids: &[("to_org", "t-org"), ("consent", "t-org")],
};
const WITHDRAWAL: FormSpec = FormSpec {
    name: "withdrawal",
    done: "withdrawal",
    ids: &[],
};

async fn screening_submit(State(state): State<AppState>, c: CaseForm) -> Response {
    let CaseForm { a, id, uid, f } = c;
    let input = ScreeningInput {
        act: value(&f, "act") == "on",
        means: value(&f, "means") == "on",
        purpose: value(&f, "purpose") == "on",
        is_child: value(&f, "is_child") == "on",
        methods_of_control: values(&f, "control"),
        types_of_exploitation: vec![],
        ilo_indicators: values(&f, "ilo"),
    };
    let back = Back::to("screening");
    let valid = match input.validate() {
        Ok(v) => v,
        Err(e) => {
            return back
                .refused(&state, &a, &id, &SCREENING, Posted(f), e)
                .await;
        }
    };
    let ctx = a.cx();
    let r = state
        .store
        .add_screening(&ctx, uid, &valid)
        .await
        .map(|_| ());
    back.answer(&state, &a, &id, &SCREENING, Posted(f), r).await
}

async fn decision_submit(State(state): State<AppState>, c: CaseForm) -> Response {
    let CaseForm { a, id, uid, f } = c;
    let input = DecisionInput {
        status: value(&f, "status"),
        decision_making_org: value(&f, "decision_org"),
        decided_on: value(&f, "decided_on"),
        reference: value(&f, "reference"),
    };
    let valid = match input.validate(state.now().date()) {
        Ok(v) => v,
        Err(e) => return BACK.refused(&state, &a, &id, &DECISION, Posted(f), e).await,
    };
    let ctx = a.cx();
    let r = state
        .store
        .decide_identification(&ctx, uid, &valid)
        .await
        .map(|_| ());
    BACK.answer(&state, &a, &id, &DECISION, Posted(f), r).await
}

async fn consent_submit(State(state): State<AppState>, c: CaseForm) -> Response {
    let CaseForm { a, id, uid, f } = c;
    let input = ConsentInput {
        purpose: value(&f, "purpose"),
        given: value(&f, "given") == "yes",
        recipient_org: non_empty(&value(&f, "recipient_org")),
        recipient_org_type: non_empty(&value(&f, "recipient_org_type")),
        given_by: value(&f, "given_by"),
        language: value(&f, "language"),
    };
    let ctx = a.cx();
    let r = state.store.add_consent(&ctx, uid, &input).await.map(|_| ());
    Back::to("consent")
        .answer(&state, &a, &id, &CONSENT, Posted(f), r)
        .await
}

async fn consent_withdraw(
    State(state): State<AppState>,
    PageUser(a): PageUser,
    Path((id, cid)): Path<(String, String)>,
) -> Response {
    let (Ok(uid), Ok(c)) = (parse_id(&id), parse_id(&cid)) else {
        return error_page(&state, None, lang_of(&a), AppError::NotFound);
    };
    let ctx = a.cx();
    let r = state.store.withdraw_consent(&ctx, uid, c).await;
    Back::to("consent")
        .answer(&state, &a, &id, &WITHDRAWAL, Posted::default(), r)
        .await
}

async fn transfer_submit(State(state): State<AppState>, c: CaseForm) -> Response {
    let CaseForm { a, id, uid, f } = c;
    let ctx = a.cx();
    match state
        .store
        .transfer_case(&ctx, uid, value(&f, "to_org").trim())
        .await
    {
        // The case now belongs elsewhere: back to the list, which says so.
        Ok(_) => see_other(&format!("/cases?done={}", TRANSFER.done)),
        Err(StoreError::Invalid(v)) => {
            Back::to("transfer-details")
                .refused(&state, &a, &id, &TRANSFER, Posted(f), v)
                .await
        }
        Err(e) => error_page(&state, None, lang_of(&a), e.into()),
    }
}

// ---------- intake contacts ----------

pub struct ContactRow {
    pub id: Uuid,
    pub channel: String,
    pub anonymous: bool,
    pub case_id: Option<Uuid>,
    pub when: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "contacts.html")]
struct ContactsPage {
    c: Chrome,
    rows: Vec<ContactRow>,
    channels: Vec<Opt>,
    errors: Vec<String>,
    /// The refused contact form's values and errors (issue #23), its one-time token.
    posted: Posted,
    errs: FieldErrs,
    token: String,
}

async fn contacts_with(
    state: &AppState,
    a: &Authed,
    errors: Vec<String>,
    status: StatusCode,
) -> Response {
    contacts_full(
        state,
        a,
        errors,
        Posted::default(),
        FieldErrs::default(),
        status,
    )
    .await
}

/// The contacts page again with the refused contact form (values kept, errors by field).
async fn contacts_form(state: &AppState, a: &Authed, posted: Posted, errs: FieldErrs) -> Response {
    contacts_full(
        state,
        a,
        vec![],
        posted,
        errs,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await
}

async fn contacts_full(
    state: &AppState,
    a: &Authed,
    errors: Vec<String>,
    posted: Posted,
    errs: FieldErrs,
    status: StatusCode,
) -> Response {
    let c = Chrome::for_user(state, a, "contacts");
    let lang = c.t.lang;
    let ctx = a.cx();
    match state.store.list_contacts(&ctx, 200).await {
        Ok(list) => {
            let rows = list
                .into_iter()
                .map(|x| ContactRow {
                    id: x.id,
                    channel: c.t.get(&format!("channel-{}", x.channel.to_lowercase())),
                    anonymous: x.anonymous,
                    case_id: x.case_id,
                    when: c.t.datetime(&x.created_at),
                })
                .collect();
            let channels = ContactChannel::ALL
                .iter()
                .map(|ch| Opt {
                    value: ch.as_str().into(),
                    label: c.t.get(&format!("channel-{}", ch.as_str().to_lowercase())),
                })
                .collect();
            (
                status,
                ContactsPage {
                    c,
                    rows,
                    channels,
                    errors,
                    posted,
                    errs,
                    token: new_form_token(),
                },
            )
                .into_response()
        }
        Err(e) => error_page(state, None, lang, e.into()),
    }
}

async fn contacts_page(State(state): State<AppState>, PageUser(a): PageUser) -> Response {
    contacts_with(&state, &a, vec![], StatusCode::OK).await
}

async fn contact_submit(
    State(state): State<AppState>,
    PageUser(a): PageUser,
    Form(f): Form<Vec<(String, String)>>,
) -> Response {
    let t = Tr::new(lang_of(&a));
    let channel = match ContactChannel::parse(&value(&f, "channel")) {
        Ok(c) => c,
        Err(e) => {
            let e = FieldErrs::of(&t, "contact", &dayaq_domain::ValidationErrors::single(e));
            return contacts_form(&state, &a, Posted(f), e).await;
        }
    };
    let ctx = a.cx();
    let summary = value(&f, "summary");
    // An empty contact is refused (domain rule); the typed values come back with the error.
    let summary = match dayaq_domain::identification::contact_summary(&summary) {
        Ok(s) => s,
        Err(v) => {
            let e = FieldErrs::of(&t, "contact", &v);
            return contacts_form(&state, &a, Posted(f), e).await;
        }
    };
    match state
        .store
        .create_contact(&ctx, channel, value(&f, "anonymous") == "on", Some(summary))
        .await
    {
        Ok(c) => see_other(&format!("/contacts/{}", c.id)),
        Err(StoreError::Invalid(v)) => {
            let e = FieldErrs::of(&t, "contact", &v);
            contacts_form(&state, &a, Posted(f), e).await
        }
        Err(e) => error_page(&state, None, t.lang, e.into()),
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "contact.html")]
struct ContactPage {
    c: Chrome,
    row: ContactRow,
    summary: Option<String>,
    genders: Vec<Opt>,
    exploitations: Vec<Opt>,
}

async fn contact_page(
    State(state): State<AppState>,
    PageUser(a): PageUser,
    Path(id): Path<String>,
) -> Response {
    let c = Chrome::for_user(&state, &a, "contacts");
    let lang = c.t.lang;
    let Ok(uid) = parse_id(&id) else {
        return error_page(&state, None, lang, AppError::NotFound);
    };
    let ctx = a.cx();
    match state.store.get_contact(&ctx, uid).await {
        Ok(x) => {
            let row = ContactRow {
                id: x.id,
                channel: c.t.get(&format!("channel-{}", x.channel.to_lowercase())),
                anonymous: x.anonymous,
                case_id: x.case_id,
                when: c.t.datetime(&x.created_at),
            };
            let genders = opts(
                &c.t,
                "prs_Gender",
                dayaq_domain::vocab::Gender::ALL.iter().map(|g| g.as_str()),
            );
            let exploitations = opts(
                &c.t,
                "vic_TypeOfExploitation",
                TypeOfExploitation::ALL.iter().map(|g| g.as_str()),
            );
            ContactPage {
                c,
                row,
                summary: x.summary,
                genders,
                exploitations,
            }
            .into_response()
        }
        Err(e) => error_page(&state, None, lang, e.into()),
    }
}

/// Opens a case for a contact (non-identifying attributes only; identity is added on the case).
async fn contact_to_case(
    State(state): State<AppState>,
    PageUser(a): PageUser,
    Path(id): Path<String>,
    Form(f): Form<Vec<(String, String)>>,
) -> Response {
    let t = Tr::new(lang_of(&a));
    let Ok(uid) = parse_id(&id) else {
        return error_page(&state, None, t.lang, AppError::NotFound);
    };
    let input = CaseInput {
        gender: non_empty(&value(&f, "gender")),
        citizenship: non_empty(&value(&f, "citizenship"))
            .map(|c| vec![c.to_uppercase()])
            .unwrap_or_default(),
        types_of_exploitation: non_empty(&value(&f, "exploitation")).into_iter().collect(),
        ..Default::default()
    };
    let valid = match input.validate(state.now().date()) {
        Ok(v) => v,
        Err(e) => {
            let msgs = e.errors.iter().map(|e| error_text(&t, e)).collect();
            return contacts_with(&state, &a, msgs, StatusCode::UNPROCESSABLE_ENTITY).await;
        }
    };
    let ctx = a.cx();
    let r = async {
        let contact = state.store.get_contact(&ctx, uid).await?;
        if contact.case_id.is_some() {
            return Err(AppError::Conflict);
        }
        let case = state.store.create_case(&ctx, &valid).await?;
        state.store.link_contact(&ctx, uid, case.id).await?;
        Ok::<_, AppError>(case.id)
    }
    .await;
    match r {
        Ok(cid) => see_other(&format!("/cases/{cid}")),
        Err(e) => error_page(&state, None, t.lang, e),
    }
}
