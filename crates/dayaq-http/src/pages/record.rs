//! Case record screens on the case page: status with its history, close / reopen / new
//! episode, the person's episodes, trafficking events, perpetrator roles and dependants, each
//! with a form to add one. Sections the reader may not see (need-to-know) are left out.

use super::form::{Back, CaseForm, FormSpec, Opt, Posted, lang_of, value};
use crate::AppState;
use crate::auth::{Authed, PageUser};
use crate::error::AppError;
use crate::i18n::Tr;
use crate::pages::{CasePart, Chrome, error_page, see_other};
use askama::Template;
use axum::Router;
use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::post;
use dayaq_domain::policy::{Action, Resource, decide};
use dayaq_domain::record::{
    self as rules, DependantInput, EventInput, EventType, PerpetratorInput, PerpetratorRole,
    Relation, StatusChange, is_closed,
};
use dayaq_domain::vocab::{CaseStatus, Gender};
use dayaq_domain::{FieldError, ValidationErrors};
use dayaq_storage::StoreError;
use dayaq_storage::record::{EpisodeInput, ReopenInput, StatusInput};
use uuid::Uuid;

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/cases/{id}/record/event", post(event_submit))
        .route("/cases/{id}/record/perpetrator", post(perpetrator_submit))
        .route("/cases/{id}/record/dependant", post(dependant_submit))
        .route("/cases/{id}/record/status", post(status_submit))
        .route("/cases/{id}/record/reopen", post(reopen_submit))
        .route("/cases/{id}/record/episode", post(episode_submit))
        .route(
            "/cases/{id}/record/{kind}/{entry}/remove",
            post(remove_submit),
        )
}

const EVENT_TYPES: &[(EventType, &str)] = &[
    (EventType::Recruitment, "rec-hte-recruitment"),
    (EventType::Transit, "rec-hte-transit"),
    (EventType::Exploitation, "rec-hte-exploitation"),
];
const ROLES: &[(PerpetratorRole, &str)] = &[
    (
        PerpetratorRole::TravellingPartner,
        "rec-per-travellingpartner",
    ),
    (PerpetratorRole::Transporter, "rec-per-transporter"),
    (
        PerpetratorRole::RecruiterOrIntermediary,
        "rec-per-recruiterorintermediary",
    ),
    (
        PerpetratorRole::BrokerTravelAgent,
        "rec-per-brokertravelagent",
    ),
    (
        PerpetratorRole::TransferredIndividual,
        "rec-per-transferredindividual",
    ),
    (
        PerpetratorRole::HarbouredIndividual,
        "rec-per-harbouredindividual",
    ),
    (PerpetratorRole::SoldIndividual, "rec-per-soldindividual"),
    (
        PerpetratorRole::BoughtIndividual,
        "rec-per-boughtindividual",
    ),
    (
        PerpetratorRole::ReceivedIndividual,
        "rec-per-receivedindividual",
    ),
    (
        PerpetratorRole::ControlledIndividual,
        "rec-per-controlledindividual",
    ),
    (PerpetratorRole::Smuggler, "rec-per-smuggler"),
    (PerpetratorRole::Abuser, "rec-per-abuser"),
    (PerpetratorRole::Kidnapper, "rec-per-kidnapper"),
    (PerpetratorRole::Exploiter, "rec-per-exploiter"),
    (PerpetratorRole::Other, "rec-per-other"),
];
const RELATIONS: &[(Relation, &str)] = &[
    (Relation::Child, "rec-rel-child"),
    (Relation::Stepchild, "rec-rel-stepchild"),
    (Relation::Grandchild, "rec-rel-grandchild"),
    (Relation::Sibling, "rec-rel-sibling"),
    (Relation::OtherDependant, "rec-rel-otherdependant"),
];
const KINDS: &[(StatusChange, &str)] = &[
    (StatusChange::Change, "rec-kind-change"),
    (StatusChange::Close, "rec-kind-close"),
    (StatusChange::Reopen, "rec-kind-reopen"),
    (StatusChange::NewEpisode, "rec-kind-new-episode"),
];

fn label<T: PartialEq + Copy>(t: &Tr, table: &[(T, &str)], v: T) -> String {
    table
        .iter()
        .find(|(x, _)| *x == v)
        .map(|(_, k)| t.get(k))
        .unwrap_or_default()
}

pub struct EventRow {
    pub id: Uuid,
    pub kind: String,
    pub date: String,
    pub place: String,
    pub street: String,
    pub coordinates: String,
    pub description: String,
}

pub struct PerpRow {
    pub id: Uuid,
    pub roles: String,
    pub details: String,
}

pub struct DepRow {
    pub id: Uuid,
    pub relation: String,
    pub gender: String,
    pub born: String,
    pub lives: String,
    pub needs: String,
}

pub struct HistRow {
    pub at: String,
    pub kind: String,
    pub change: String,
    pub reason: String,
    pub actor: String,
}

pub struct EpisodeRow {
    pub episode: i64,
    pub case_id: Option<Uuid>,
    pub case_number: String,
    pub status: String,
    pub current: bool,
}

#[derive(Template)]
#[template(path = "case_record.html")]
struct RecordSection<'a> {
    t: Tr,
    /// The forms' state (refused form, confirmation, one-time token; issue #23).
    forms: &'a super::form::CaseForms,
    csrf: String,
    case_id: Uuid,
    status: String,
    history: Vec<HistRow>,
    can_change: bool,
    change_to: Vec<Opt>,
    can_reopen: bool,
    can_episode: bool,
    episode: i64,
    episodes: Vec<EpisodeRow>,
    see_events: bool,
    events: Vec<EventRow>,
    event_types: Vec<Opt>,
    see_perpetrators: bool,
    perpetrators: Vec<PerpRow>,
    roles: Vec<Opt>,
    see_dependants: bool,
    dependants: Vec<DepRow>,
    relations: Vec<Opt>,
    genders: Vec<Opt>,
    children: String,
    children_mismatch: bool,
    can_edit: bool,
}

/// The case-record part of the case page, rendered to HTML.
pub(crate) async fn case_section(part: CasePart<'_>) -> Result<String, AppError> {
    let (state, a, ctx, t, case) = part.parts();
    let Some(facts) = part.facts().await? else {
        return Ok(String::new());
    };
    let actor = &a.actor;
    let may = |action| decide(actor, action, Resource::Case(&facts)).allowed;
    if !may(Action::ReadCase) {
        return Ok(String::new());
    }
    let t = *t;
    let can_edit = may(Action::UpdateCase);
    let see_events = may(Action::ReadSection(rules::EVENTS_SECTION));
    let see_perpetrators = may(Action::ReadSection(rules::PERPETRATORS_SECTION));
    let see_dependants = may(Action::ReadSection(rules::DEPENDANTS_SECTION));
    let status = state.store.status_view(ctx, case).await?;
    let episodes = state.store.episodes(ctx, case).await?;
    let closed = is_closed(status.status);
    let events = if see_events {
        state.store.trafficking_events(ctx, case).await?
    } else {
        vec![]
    };
    let perpetrators = if see_perpetrators {
        state.store.perpetrators(ctx, case).await?
    } else {
        vec![]
    };
    let deps = if see_dependants {
        Some(state.store.dependants(ctx, case).await?)
    } else {
        None
    };
    let st = |s: CaseStatus| t.vocab("cas_Status", s.as_str());
    let s = RecordSection {
        t,
        forms: part.forms,
        csrf: Chrome::for_user(state, a, "cases").csrf,
        case_id: case,
        status: st(status.status),
        history: status
            .history
            .iter()
            .map(|h| HistRow {
                at: t.datetime(&h.at),
                kind: label(&t, KINDS, h.kind),
                change: match h.from {
                    Some(f) => format!("{} → {}", st(f), st(h.to)),
                    None => st(h.to),
                },
                reason: h.reason.clone().unwrap_or_default(),
                actor: h.actor.clone(),
            })
            .collect(),
        can_change: can_edit && !closed,
        change_to: CaseStatus::ALL
            .iter()
            .filter(|s| **s != status.status)
            .filter(|s| {
                !matches!(s, CaseStatus::Closed | CaseStatus::ClosedReferred)
                    || may(Action::CloseCase)
            })
            .map(|s| Opt {
                value: s.as_str().into(),
                label: st(*s),
            })
            .collect(),
        can_reopen: closed && may(Action::ReopenCase),
        can_episode: status.status != CaseStatus::Active
            && episodes.next_case.is_none()
            && may(Action::OpenEpisode),
        episode: episodes.episode,
        episodes: episodes
            .series
            .iter()
            .map(|e| EpisodeRow {
                episode: e.episode,
                case_id: e.case_id,
                case_number: e.case_number.clone().unwrap_or_default(),
                status: e.status.map(st).unwrap_or_default(),
                current: e.current,
            })
            .collect(),
        see_events,
        events: events
            .into_iter()
            .map(|e| EventRow {
                id: e.id,
                kind: label(&t, EVENT_TYPES, e.kind),
                date: t.date(e.date.as_deref().unwrap_or_default()),
                place: [e.city, e.state, e.country]
                    .into_iter()
                    .flatten()
                    .collect::<Vec<_>>()
                    .join(", "),
                street: [e.sealed.street, e.sealed.postal_code]
                    .into_iter()
                    .flatten()
                    .collect::<Vec<_>>()
                    .join(", "),
                coordinates: match (e.sealed.latitude, e.sealed.longitude) {
                    (Some(la), Some(lo)) => format!("{la}, {lo}"),
                    _ => String::new(),
                },
                description: e.sealed.description.unwrap_or_default(),
            })
            .collect(),
        event_types: EVENT_TYPES
            .iter()
            .map(|(v, k)| Opt {
                value: v.as_str().into(),
                label: t.get(k),
            })
            .collect(),
        see_perpetrators,
        perpetrators: perpetrators
            .into_iter()
            .map(|p| PerpRow {
                id: p.id,
                roles: p
                    .roles
                    .iter()
                    .map(|r| label(&t, ROLES, *r))
                    .collect::<Vec<_>>()
                    .join(", "),
                details: p.details.unwrap_or_default(),
            })
            .collect(),
        roles: ROLES
            .iter()
            .map(|(v, k)| Opt {
                value: v.as_str().into(),
                label: t.get(k),
            })
            .collect(),
        see_dependants,
        children: deps
            .as_ref()
            .map(|d| match d.children.declared {
                Some(n) => format!("{} / {n}", d.children.recorded),
                None => d.children.recorded.to_string(),
            })
            .unwrap_or_default(),
        children_mismatch: deps.as_ref().is_some_and(|d| !d.children.consistent),
        dependants: deps
            .map(|d| d.dependants)
            .unwrap_or_default()
            .into_iter()
            .map(|d| DepRow {
                id: d.id,
                relation: label(&t, RELATIONS, d.relation),
                gender: d
                    .gender
                    .map(|g| t.vocab("prs_Gender", g.as_str()))
                    .unwrap_or_default(),
                born: match (d.birth_year, d.age) {
                    (Some(y), Some(a)) => format!("{y} ({a})"),
                    _ => String::new(),
                },
                lives: if d.with_victim {
                    t.get("rec-dep-with-her")
                } else {
                    match d.whereabouts {
                        Some(w) => format!("{}: {w}", t.get("rec-dep-elsewhere")),
                        None => t.get("rec-dep-elsewhere"),
                    }
                },
                needs: [
                    d.needs_schooling.then(|| t.get("rec-dep-schooling")),
                    d.needs_childcare.then(|| t.get("rec-dep-childcare")),
                ]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(", "),
            })
            .collect(),
        relations: RELATIONS
            .iter()
            .map(|(v, k)| Opt {
                value: v.as_str().into(),
                label: t.get(k),
            })
            .collect(),
        genders: Gender::ALL
            .iter()
            .map(|g| Opt {
                value: g.as_str().into(),
                label: t.vocab("prs_Gender", g.as_str()),
            })
            .collect(),
        can_edit,
    };
    s.render().map_err(|e| AppError::Internal(e.to_string()))
}

// ------------------------------------------------------------------ form handlers

fn opt(form: &[(String, String)], key: &str) -> Option<String> {
    let v = value(form, key);
    (!v.trim().is_empty()).then_some(v)
}
fn checked(form: &[(String, String)], key: &str) -> bool {
    form.iter().any(|(k, v)| k == key && v == "yes")
}
fn number<T: std::str::FromStr>(
    form: &[(String, String)],
    key: &str,
    errs: &mut ValidationErrors,
) -> Option<T> {
    let v = value(form, key);
    let v = v.trim();
    if v.is_empty() {
        return None;
    }
    match v.replace(',', ".").parse() {
        Ok(n) => Some(n),
        Err(_) => {
            errs.push(FieldError::new(key, "invalid_number", "not a number"));
            None
        }
    }
}

/// Case forms of the record go back to `#record`.
const BACK: Back = Back::to("record");

// The forms of the record section (issue #23 §1): field names → input ids.
const STATUS: FormSpec = FormSpec {
    name: "status",
    done: "status",
    ids: &[
        ("cas_ReasonForCaseClosure", "rec-closure"),
        ("cas_Status", "rec-new-status"),
    ],
};
const REOPEN: FormSpec = FormSpec {
    name: "reopen",
    done: "status",
    ids: &[
        ("reason", "rec-reopen-reason"),
        ("cas_Status", "rec-reopen-status"),
    ],
};
const EPISODE: FormSpec = FormSpec {
    name: "episode",
    done: "status",
    ids: &[("reason", "rec-episode-reason")],
};
const EVENT: FormSpec = FormSpec {
    name: "event",
    done: "event",
    ids: &[
        ("hte_Type", "rec-hte-type"),
        ("hte_Date", "rec-hte-date"),
        ("hte_Country", "rec-hte-country"),
        ("hte_State", "rec-hte-state"),
        ("hte_City", "rec-hte-city"),
        ("hte_Street", "rec-hte-street"),
        ("hte_PostalCode", "rec-hte-postal"),
        ("hte_Latitude", "rec-hte-lat"),
        ("hte_Longitude", "rec-hte-lon"),
        ("hte_Description", "rec-hte-desc"),
    ],
};
const PERPETRATOR: FormSpec = FormSpec {
    name: "perpetrator",
    done: "perpetrator",
    ids: &[("per_RoleDetails", "rec-per-details")],
};
const DEPENDANT: FormSpec = FormSpec {
    name: "dependant",
    done: "dependant",
    ids: &[
        ("relation", "rec-dep-relation"),
        ("prs_Gender", "rec-dep-gender"),
        ("birth_year", "rec-dep-year"),
        ("age", "rec-dep-age"),
        ("whereabouts", "rec-dep-where"),
    ],
};
const REMOVAL: FormSpec = FormSpec {
    name: "removal",
    done: "removal",
    ids: &[],
};

/// Checks access before looking at the form, so another organisation learns nothing from a
/// form error.
async fn access(state: &AppState, a: &Authed, uid: Uuid, action: Action) -> Result<(), Response> {
    let ctx = a.cx();
    match state.store.authorize_case(&ctx, action, uid).await {
        Ok(_) => Ok(()),
        Err(e) => Err(error_page(state, None, lang_of(a), e.into())),
    }
}

async fn event_submit(State(state): State<AppState>, c: CaseForm) -> Response {
    let CaseForm { a, id, uid, f } = c;
    if let Err(r) = access(&state, &a, uid, Action::UpdateCase).await {
        return r;
    }
    let mut errs = ValidationErrors::default();
    let latitude = number(&f, "hte_Latitude", &mut errs);
    let longitude = number(&f, "hte_Longitude", &mut errs);
    if !errs.is_empty() {
        return BACK.refused(&state, &a, &id, &EVENT, Posted(f), errs).await;
    }
    let input = EventInput {
        kind: value(&f, "hte_Type"),
        country: opt(&f, "hte_Country").map(|c| c.trim().to_uppercase()),
        city: opt(&f, "hte_City"),
        state: opt(&f, "hte_State"),
        street: opt(&f, "hte_Street"),
        postal_code: opt(&f, "hte_PostalCode"),
        date: opt(&f, "hte_Date"),
        description: opt(&f, "hte_Description"),
        latitude,
        longitude,
    };
    let ctx = a.cx();
    let r = state.store.add_trafficking_event(&ctx, uid, input).await;
    BACK.answer(&state, &a, &id, &EVENT, Posted(f), r).await
}

/// Removes a trafficking event, perpetrator role or dependant entered by mistake (audited as a
/// deletion; the case timeline keeps `record.removed`).
async fn remove_submit(
    State(state): State<AppState>,
    PageUser(a): PageUser,
    Path((id, kind, entry)): Path<(String, String, String)>,
) -> Response {
    let Ok(uid) = crate::paths::parse_id(&id) else {
        return error_page(&state, None, lang_of(&a), AppError::NotFound);
    };
    if let Err(r) = access(&state, &a, uid, Action::UpdateCase).await {
        return r;
    }
    let Ok(entry) = crate::paths::parse_id(&entry) else {
        return error_page(&state, None, lang_of(&a), AppError::NotFound);
    };
    let ctx = a.cx();
    let r = match kind.as_str() {
        "event" => state.store.delete_trafficking_event(&ctx, uid, entry).await,
        "perpetrator" => state.store.delete_perpetrator(&ctx, uid, entry).await,
        "dependant" => state.store.delete_dependant(&ctx, uid, entry).await,
        _ => return error_page(&state, None, lang_of(&a), AppError::NotFound),
    };
    BACK.answer(&state, &a, &id, &REMOVAL, Posted::default(), r)
        .await
}

async fn perpetrator_submit(State(state): State<AppState>, c: CaseForm) -> Response {
    let CaseForm { a, id, uid, f } = c;
    if let Err(r) = access(&state, &a, uid, Action::UpdateCase).await {
        return r;
    }
    let input = PerpetratorInput {
        roles: f
            .iter()
            .filter(|(k, _)| k == "per_RoleInProcess")
            .map(|(_, v)| v.clone())
            .collect(),
        details: opt(&f, "per_RoleDetails"),
    };
    let ctx = a.cx();
    let r = state.store.add_perpetrator(&ctx, uid, input).await;
    BACK.answer(&state, &a, &id, &PERPETRATOR, Posted(f), r)
        .await
}

async fn dependant_submit(State(state): State<AppState>, c: CaseForm) -> Response {
    let CaseForm { a, id, uid, f } = c;
    if let Err(r) = access(&state, &a, uid, Action::UpdateCase).await {
        return r;
    }
    let mut errs = ValidationErrors::default();
    let birth_year = number(&f, "birth_year", &mut errs);
    let age = number(&f, "age", &mut errs);
    if !errs.is_empty() {
        return BACK
            .refused(&state, &a, &id, &DEPENDANT, Posted(f), errs)
            .await;
    }
    let with_victim = value(&f, "lives") != "elsewhere";
    let input = DependantInput {
        relation: value(&f, "relation"),
        gender: opt(&f, "prs_Gender"),
        birth_year,
        age,
        with_victim,
        // The place is asked for only when the dependant lives elsewhere.
        whereabouts: if with_victim {
            None
        } else {
            opt(&f, "whereabouts")
        },
        needs_schooling: checked(&f, "needs_schooling"),
        needs_childcare: checked(&f, "needs_childcare"),
    };
    let ctx = a.cx();
    let r = state.store.add_dependant(&ctx, uid, input).await;
    BACK.answer(&state, &a, &id, &DEPENDANT, Posted(f), r).await
}

async fn status_submit(State(state): State<AppState>, c: CaseForm) -> Response {
    let CaseForm { a, id, uid, f } = c;
    if let Err(r) = access(&state, &a, uid, Action::UpdateCase).await {
        return r;
    }
    let input = StatusInput {
        status: value(&f, "cas_Status"),
        reason: opt(&f, "cas_ReasonForCaseClosure"),
    };
    let ctx = a.cx();
    let r = state.store.change_status(&ctx, uid, &input).await;
    BACK.answer(&state, &a, &id, &STATUS, Posted(f), r).await
}

async fn reopen_submit(State(state): State<AppState>, c: CaseForm) -> Response {
    let CaseForm { a, id, uid, f } = c;
    if let Err(r) = access(&state, &a, uid, Action::ReopenCase).await {
        return r;
    }
    let input = ReopenInput {
        status: opt(&f, "cas_Status"),
        reason: opt(&f, "reason"),
    };
    let ctx = a.cx();
    let r = state.store.reopen_case(&ctx, uid, &input).await;
    BACK.answer(&state, &a, &id, &REOPEN, Posted(f), r).await
}

async fn episode_submit(State(state): State<AppState>, c: CaseForm) -> Response {
    let CaseForm { a, id, uid, f } = c;
    if let Err(r) = access(&state, &a, uid, Action::OpenEpisode).await {
        return r;
    }
    let input = EpisodeInput {
        reason: opt(&f, "reason"),
    };
    let ctx = a.cx();
    match state.store.open_episode(&ctx, uid, &input).await {
        Ok(new_case) => see_other(&format!("/cases/{new_case}#record")),
        Err(StoreError::Invalid(v)) => BACK.refused(&state, &a, &id, &EPISODE, Posted(f), v).await,
        Err(e) => error_page(&state, None, lang_of(&a), e.into()),
    }
}
