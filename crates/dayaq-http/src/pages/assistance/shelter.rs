//! Shelter facilities and the shelter stays of one case.

use super::*;

// ---------- shelter facilities ----------

pub struct FacilityRow {
    pub name: String,
    pub org: String,
    pub beds: i64,
    pub occupied: i64,
    pub available: i64,
    pub max_stay_days: i64,
    pub state_shelter: bool,
    pub full: bool,
    /// The facility's cooperation condition is on (rules of practice; CoE art. 12(6) warning).
    pub cooperation_rule: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "shelter.html")]
pub(super) struct ShelterPage {
    c: Chrome,
    rows: Vec<FacilityRow>,
    can_manage: bool,
    posted: Posted,
    errs: FieldErrs,
    total_beds: i64,
    total_available: i64,
}

/// Facilities are readable by any signed-in user (counts only, as `GET /shelters`); the
/// navigation links them for the roles that place survivors or plan capacity.
pub(super) fn shelters_in_nav(role: Role) -> bool {
    role.works_cases()
        || matches!(
            role,
            Role::OrgAdmin | Role::SystemAdmin | Role::NationalCoordinator
        )
}

pub(super) async fn shelters_with(
    state: &AppState,
    a: &Authed,
    posted: Posted,
    errs: FieldErrs,
    status: StatusCode,
) -> Response {
    let c = Chrome::for_user(state, a, "shelters");
    let r: Result<Response, AppError> = async {
        let orgs = state.store.list_orgs().await?;
        let facilities = state.store.facilities().await?;
        let rules = state.store.facility_rules().await?;
        let coop_rule = |id| {
            rules
                .iter()
                .any(|r| r.facility_id == id && r.rules.requires_cooperation)
        };
        let actor = &a.actor;
        let can_manage = decide(
            actor,
            Action::ManageDirectory,
            Resource::Organisation(actor.org_id),
        )
        .allowed;
        let rows: Vec<FacilityRow> = facilities
            .iter()
            .map(|f| FacilityRow {
                name: f.name.clone(),
                org: orgs
                    .iter()
                    .find(|o| o.id == f.org_id)
                    .map(|o| o.name.clone())
                    .unwrap_or_default(),
                beds: f.beds,
                occupied: f.occupied,
                available: f.available,
                max_stay_days: f.max_stay_days,
                state_shelter: f.state_shelter,
                full: f.available == 0,
                cooperation_rule: coop_rule(f.id),
            })
            .collect();
        Ok((
            status,
            ShelterPage {
                total_beds: rows.iter().map(|r| r.beds).sum(),
                total_available: rows.iter().map(|r| r.available).sum(),
                c,
                rows,
                can_manage,
                posted,
                errs,
            },
        )
            .into_response())
    }
    .await;
    r.unwrap_or_else(|e| page_error(state, a, "shelters", e))
}

pub(super) async fn shelters_page(
    State(state): State<AppState>,
    PageUser(a): PageUser,
) -> Response {
    shelters_with(
        &state,
        &a,
        Posted::default(),
        FieldErrs::default(),
        StatusCode::OK,
    )
    .await
}

pub(super) async fn facility_submit(
    State(state): State<AppState>,
    PageUser(a): PageUser,
    Form(f): Form<Vec<(String, String)>>,
) -> Response {
    let t = Tr::new(lang_of(&a));
    let beds = parse_int("beds", &value(&f, "beds"), 0);
    let max = parse_int(
        "max_stay_days",
        &value(&f, "max_stay_days"),
        STATE_SHELTER_MAX_STAY_DAYS,
    );
    let posted = Posted(f);
    let mine = gather(&[&beds, &max]);
    // Unreadable numbers go to storage as 0, which it refuses (so nothing is written) while
    // it still checks the other fields.
    let input = FacilityInput {
        name: posted.v("name"),
        beds: beds.unwrap_or(0),
        max_stay_days: Some(max.unwrap_or(0)),
        state_shelter: !posted.v("state_shelter").is_empty(),
    };
    let ctx = a.cx();
    match merged(mine, state.store.add_facility(&ctx, &input).await) {
        Ok(_) => see_other("/shelters"),
        Err(e) => match form_errors(e) {
            Ok(v) => {
                let e = FieldErrs::of(&t, "facility", &v);
                shelters_with(&state, &a, posted, e, StatusCode::UNPROCESSABLE_ENTITY).await
            }
            Err(e) => page_error(&state, &a, "shelters", e),
        },
    }
}

// ---------- shelter stays of one case ----------

pub struct ExtensionRow {
    pub id: String,
    pub days: i64,
    pub approved: bool,
}

pub struct StayView {
    pub id: String,
    pub facility: String,
    pub admitted_on: String,
    pub dependants: i64,
    pub open: bool,
    pub code: &'static str,
    pub state: String,
    pub exited_on: String,
    pub destination: String,
    pub extensions: Vec<ExtensionRow>,
}

#[derive(Template, WebTemplate)]
#[template(path = "shelter_case.html")]
pub(super) struct CaseShelterPage {
    c: Chrome,
    case_id: Uuid,
    case_number: String,
    can_edit: bool,
    can_approve: bool,
    stays: Vec<StayView>,
    has_open: bool,
    facilities: Vec<Opt>,
    sources: Vec<Opt>,
    destinations: Vec<Opt>,
    today: String,
    posted: Posted,
    errs: FieldErrs,
    /// Facilities whose cooperation condition is on (the admission form warns, CoE art. 12(6)).
    rule_facilities: Vec<String>,
    /// The one-time form token: a double click on "Admit" admits once (issue #23).
    token: String,
}

pub(super) fn stay_label(t: &Tr, s: Option<StayState>) -> (String, &'static str) {
    match s {
        Some(StayState::Ok { day, allowed_days }) => (
            format!("{} {day} / {allowed_days}", t.get("asst-stay-ok")),
            "ok",
        ),
        Some(StayState::Warning { days_left, .. }) => (
            format!("{}: {days_left}", t.get("asst-stay-warning")),
            "warning",
        ),
        Some(StayState::Blocked { day, allowed_days }) => (
            format!("{} {day} / {allowed_days}", t.get("asst-stay-blocked")),
            "blocked",
        ),
        None => (t.get("asst-exited"), "exited"),
    }
}

pub(super) async fn case_shelter_with(
    state: &AppState,
    a: &Authed,
    id: &str,
    posted: Posted,
    errs: FieldErrs,
    status: StatusCode,
) -> Response {
    let r: Result<Response, AppError> = async {
        let case = crate::paths::parse_id(id)?;
        let c = Chrome::for_user(state, a, "cases");
        let t = c.t;
        let ctx = a.cx();
        let view = state.store.get_case(&ctx, case, false).await?;
        let stays = state.store.stays(&ctx, case).await?;
        let facts = state
            .store
            .case_facts(case, ctx.now)
            .await?
            .ok_or(AppError::NotFound)?;
        let allowed = |act: Action| decide(&a.actor, act, Resource::Case(&facts)).allowed;
        let can_edit = allowed(Action::UpdateCase);
        let can_approve = allowed(Action::Approve);
        let facilities = state.store.facilities().await?;
        let rule_facilities: Vec<String> = state
            .store
            .facility_rules()
            .await?
            .into_iter()
            .filter(|r| r.rules.requires_cooperation)
            .map(|r| r.name)
            .collect();
        let sources = if can_edit {
            state.store.funding_source_options(&ctx).await?
        } else {
            Vec::new()
        };
        let stays: Vec<StayView> = stays
            .iter()
            .map(|s| {
                let (state_label, code) = stay_label(&t, s.length_of_stay);
                StayView {
                    id: s.id.to_string(),
                    facility: facilities
                        .iter()
                        .find(|f| f.id == s.facility_id)
                        .map(|f| f.name.clone())
                        .unwrap_or_default(),
                    admitted_on: c.t.date(&s.admitted_on),
                    dependants: s.dependants,
                    open: s.exited_on.is_none(),
                    code,
                    state: state_label,
                    exited_on: c.t.date(s.exited_on.as_deref().unwrap_or_default()),
                    destination: s
                        .exit_destination
                        .as_deref()
                        .map(|d| label(&t, EXIT_DESTINATIONS, d))
                        .unwrap_or_default(),
                    extensions: s
                        .extensions
                        .iter()
                        .map(|e| ExtensionRow {
                            id: e.id.to_string(),
                            days: e.days,
                            approved: e.approved,
                        })
                        .collect(),
                }
            })
            .collect();
        Ok((
            status,
            CaseShelterPage {
                case_id: case,
                case_number: view.case_number.clone(),
                can_edit,
                can_approve,
                has_open: stays.iter().any(|s| s.open),
                stays,
                facilities: facilities
                    .iter()
                    .map(|f| Opt {
                        value: f.id.to_string(),
                        label: format!(
                            "{}{} — {}: {}/{}",
                            f.name,
                            if f.state_shelter {
                                format!(" ({})", t.get("shelter-state"))
                            } else {
                                String::new()
                            },
                            t.get("shelter-available"),
                            f.available,
                            f.beds,
                        ),
                    })
                    .collect(),
                sources: sources
                    .iter()
                    .map(|s| Opt {
                        value: s.id.to_string(),
                        label: format!("{} · {}", s.name, label(&t, FUNDING_KINDS, &s.kind)),
                    })
                    .collect(),
                destinations: opts(&t, EXIT_DESTINATIONS),
                today: dayaq_domain::assistance::fmt_date(ctx.now.date()),
                posted,
                errs,
                rule_facilities,
                token: super::super::form::new_form_token(),
                c,
            },
        )
            .into_response())
    }
    .await;
    r.unwrap_or_else(|e| page_error(state, a, "cases", e))
}

pub(super) async fn case_shelter_page(
    State(state): State<AppState>,
    PageUser(a): PageUser,
    Path(id): Path<String>,
) -> Response {
    case_shelter_with(
        &state,
        &a,
        &id,
        Posted::default(),
        FieldErrs::default(),
        StatusCode::OK,
    )
    .await
}

/// After a shelter form: back to the shelter page, or the page again with the errors.
pub(super) async fn shelter_outcome<T>(
    state: &AppState,
    a: &Authed,
    id: &str,
    form: &'static str,
    posted: Posted,
    r: Result<T, StoreError>,
) -> Response {
    match r {
        Ok(_) => see_other(&format!("/cases/{id}/shelter")),
        Err(e) => match form_errors(e) {
            Ok(v) => {
                let t = Tr::new(lang_of(a));
                let e = FieldErrs::of(&t, form, &v);
                case_shelter_with(state, a, id, posted, e, StatusCode::UNPROCESSABLE_ENTITY).await
            }
            Err(e) => page_error(state, a, "cases", e),
        },
    }
}

pub(super) async fn admit_submit(State(state): State<AppState>, c: CaseForm) -> Response {
    let CaseForm { a, id, uid, f } = c;
    let dependants = parse_int("dependants", &value(&f, "dependants"), 0);
    let daily = parse_money("daily_cost_minor", &value(&f, "daily_cost_minor"));
    let facility = opt_uuid(&f, "facility_id");
    let posted = Posted(f);
    let mut mine = gather(&[&dependants, &daily]).unwrap_or_default();
    if facility.is_none() {
        mine.push(dayaq_domain::FieldError::new(
            "facility_id",
            "required",
            "choose a shelter",
        ));
    }
    // Unreadable values go to storage as values it refuses (nothing is written).
    let input = AdmissionInput {
        facility_id: facility.unwrap_or(Uuid::nil()),
        admitted_on: posted.v("admitted_on"),
        dependants: dependants.unwrap_or(-1),
        daily_cost_minor: daily.unwrap_or(-1),
        funding_source_id: opt_uuid(&posted.0, "funding_source_id"),
    };
    let ctx = a.cx();
    let mine = (!mine.errors.is_empty()).then_some(mine);
    let r = merged(mine, state.store.admit(&ctx, uid, &input).await);
    shelter_outcome(&state, &a, &id, "admit", posted, r).await
}

pub(super) async fn extension_submit(State(state): State<AppState>, c: CaseForm) -> Response {
    let CaseForm { a, id, uid, f } = c;
    let Some(stay) = opt_uuid(&f, "stay") else {
        return page_error(&state, &a, "cases", AppError::NotFound);
    };
    let days = parse_int("days", &value(&f, "days"), 0);
    let posted = Posted(f);
    let ctx = a.cx();
    let r = merged(
        gather(&[&days]),
        state
            .store
            .request_extension(
                &ctx,
                uid,
                stay,
                days.clone().unwrap_or(0),
                &posted.v("reason"),
            )
            .await,
    );
    shelter_outcome(&state, &a, &id, "extension", posted, r).await
}

pub(super) async fn extension_approve_submit(
    State(state): State<AppState>,
    c: CaseForm,
) -> Response {
    let CaseForm { a, id, uid, f } = c;
    let Some(ext) = opt_uuid(&f, "extension") else {
        return page_error(&state, &a, "cases", AppError::NotFound);
    };
    let ctx = a.cx();
    let r = state.store.approve_extension(&ctx, uid, ext).await;
    shelter_outcome(&state, &a, &id, "approve", Posted(f), r).await
}

pub(super) async fn exit_submit(State(state): State<AppState>, c: CaseForm) -> Response {
    let CaseForm { a, id, uid, f } = c;
    let Some(stay) = opt_uuid(&f, "stay") else {
        return page_error(&state, &a, "cases", AppError::NotFound);
    };
    let posted = Posted(f);
    let ctx = a.cx();
    let r = state
        .store
        .exit_stay(
            &ctx,
            uid,
            stay,
            &posted.v("exited_on"),
            &posted.v("exit_destination"),
        )
        .await;
    shelter_outcome(&state, &a, &id, "exit", posted, r).await
}
