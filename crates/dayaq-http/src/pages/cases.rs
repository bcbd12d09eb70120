//! The case list, the search, a new case and the case page itself.

use super::*;
use axum::extract::Query;
use dayaq_domain::progress::{CaseloadSort, DisplayName, Stage};
use dayaq_domain::vocab::CaseStatus;
use dayaq_storage::cases::{CaseloadParams, CaseloadRow};

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/cases", get(cases_page))
        .route("/cases/search", post(cases_search))
        .route("/cases/new", get(new_case_page).post(new_case_submit))
        .route("/cases/{id}", get(case_page))
        .route("/cases/{id}/reveal", post(case_reveal))
}

// ---------- cases ----------

#[derive(Template, WebTemplate)]
#[template(path = "cases.html")]
pub(super) struct CasesPage {
    c: Chrome,
    rows: Vec<CaseRow>,
    searched: bool,
    elsewhere: Vec<String>,
    error: Option<String>,
    /// The caseload list (not after a search).
    list: Option<CaseloadView>,
    /// The confirmation in words of a form that ended on this list (`?done=transfer`).
    done: Option<String>,
}

/// The caseload list as the screen shows it: filter values as sent, options, rows, pages.
pub(super) struct CaseloadView {
    params: CaseloadParams,
    errors: Vec<(String, String)>,
    stages: Vec<(String, String)>,
    statuses: Vec<(String, String)>,
    sorts: Vec<(String, String)>,
    rows: Vec<ListRow>,
    /// Links to the next page and back to the first (GET parameters, no personal data).
    next: Option<String>,
    first: Option<String>,
    show_name: bool,
}

impl CaseloadView {
    /// The error of one filter field, if it was refused.
    fn error(&self, field: &str) -> Option<&str> {
        self.errors
            .iter()
            .find(|(f, _)| f == field)
            .map(|(_, m)| m.as_str())
    }

    fn sent(&self, field: &str) -> &str {
        let v = match field {
            "stage" => &self.params.stage,
            "status" => &self.params.status,
            "sort" => &self.params.sort,
            "mine" => &self.params.mine,
            _ => &self.params.needs_action,
        };
        v.as_deref().unwrap_or("")
    }
}

pub(super) struct ListRow {
    id: Uuid,
    number: String,
    name: String,
    status: String,
    stage: String,
    next: Option<(String, String)>,
    more: i64,
    due: String,
    assigned: String,
    last_contact: String,
    referred: bool,
}

/// A day (YYYY-MM-DD) as the language writes dates (day.month.year in az and ru).
pub(super) fn day_label(t: &Tr, day: &str) -> String {
    match (t.lang, day.split('-').collect::<Vec<_>>().as_slice()) {
        (Lang::Az | Lang::Ru, [y, m, d]) => format!("{d}.{m}.{y}"),
        _ => day.to_string(),
    }
}

fn list_row(t: &Tr, r: &CaseloadRow) -> ListRow {
    ListRow {
        id: r.id,
        number: r.case_number.clone(),
        name: r.display_name.clone().unwrap_or_default(),
        status: t.vocab("cas_Status", r.status.as_str()),
        stage: t.get(&format!("nav-stage-{}", r.stage.as_str().to_lowercase())),
        next: r.next_steps.first().map(|p| {
            (
                t.get(&format!("nav-prompt-{}", p.as_str().to_lowercase())),
                p.anchor().to_string(),
            )
        }),
        more: r.next_steps.len().saturating_sub(1) as i64,
        due: r
            .due
            .as_deref()
            .map(|d| day_label(t, d))
            .unwrap_or_default(),
        assigned: r.assigned_to.clone().unwrap_or_default(),
        last_contact: r
            .last_contact
            .as_deref()
            .map(|d| t.datetime(d))
            .unwrap_or_default(),
        referred: r.referred_to_us,
    }
}

fn list_href(p: &CaseloadParams, after: Option<&str>) -> String {
    let pairs: Vec<(&str, &str)> = [
        ("stage", &p.stage),
        ("status", &p.status),
        ("sort", &p.sort),
        ("mine", &p.mine),
        ("needs_action", &p.needs_action),
        ("limit", &p.limit),
    ]
    .into_iter()
    .filter_map(|(k, v)| v.as_deref().filter(|v| !v.is_empty()).map(|v| (k, v)))
    .chain(after.map(|a| ("after", a)))
    .collect();
    match serde_urlencoded::to_string(&pairs) {
        Ok(q) if !q.is_empty() => format!("/cases?{q}"),
        _ => "/cases".to_string(),
    }
}

/// (value, label) of closed-list values whose labels are `<prefix>-<value in lower case>`.
fn labelled<'a>(
    t: &Tr,
    prefix: &str,
    values: impl Iterator<Item = &'a str>,
) -> Vec<(String, String)> {
    values
        .map(|v| {
            (
                v.to_string(),
                t.get(&format!("{prefix}-{}", v.to_lowercase())),
            )
        })
        .collect()
}

pub(super) async fn cases_page(
    State(state): State<AppState>,
    PageUser(a): PageUser,
    Query(params): Query<CaseloadParams>,
    Query(dq): Query<DoneQuery>,
) -> Response {
    let c = Chrome::for_user(&state, &a, "cases");
    let t = c.t;
    let done = form::CaseForms::page(&t, dq.done.as_deref()).done_in("cases");
    let options = |all: Vec<(String, String)>| {
        let mut v = vec![(String::new(), t.get("nav-filter-all"))];
        v.extend(all);
        v
    };
    let mut list = CaseloadView {
        errors: vec![],
        stages: options(labelled(
            &t,
            "nav-stage",
            Stage::ALL.iter().map(|s| s.as_str()),
        )),
        statuses: options(
            CaseStatus::ALL
                .iter()
                .map(|s| (s.as_str().to_string(), t.vocab("cas_Status", s.as_str())))
                .collect(),
        ),
        sorts: labelled(&t, "nav-sort", CaseloadSort::ALL.iter().map(|s| s.as_str())),
        rows: vec![],
        next: None,
        first: params.after.as_ref().map(|_| list_href(&params, None)),
        show_name: false,
        params,
    };
    let query = match list.params.query() {
        Ok(q) => q,
        Err(v) => {
            list.errors = v
                .errors
                .iter()
                .map(|e| (e.field.clone(), error_text(&t, e)))
                .collect();
            return (
                StatusCode::UNPROCESSABLE_ENTITY,
                CasesPage {
                    c,
                    rows: vec![],
                    searched: false,
                    elsewhere: vec![],
                    error: None,
                    list: Some(list),
                    done: None,
                },
            )
                .into_response();
        }
    };
    let ctx = a.cx();
    match state.store.caseload(&ctx, &query).await {
        Ok(page) => {
            list.rows = page.rows.iter().map(|r| list_row(&t, r)).collect();
            list.next = page
                .next
                .as_deref()
                .map(|n| list_href(&list.params, Some(n)));
            list.show_name = page.display_name != DisplayName::None;
            CasesPage {
                c,
                rows: vec![],
                searched: false,
                elsewhere: vec![],
                error: None,
                list: Some(list),
                done,
            }
            .into_response()
        }
        Err(e) => error_page(&state, Some(c), t.lang, e.into()),
    }
}

/// The case page's header: the section menu, the stage on the mechanism's path and the
/// next-step prompts (issue 23 §6).
pub(crate) struct CaseNav {
    /// (anchor, label) of each section present on the page.
    pub menu: Vec<(String, String)>,
    /// (label, state) of each stage: `done`, `current` or `todo`.
    pub stages: Vec<(String, &'static str)>,
    /// (label, anchor, due) of each prompt.
    pub prompts: Vec<(String, String, String)>,
}

/// The sections of the case page in their order: (anchor, label key). The parts rendered by
/// other modules are listed only when their HTML is on the page.
const CASE_SECTIONS: &[(&str, &str)] = &[
    ("case-summary", "case-summary"),
    ("case-identity", "case-identity"),
    ("identification", "ident-title"),
    ("screening", "screen-title"),
    ("consent", "consent-title"),
    ("referrals", "referrals-title"),
    ("packages", "package-title"),
    ("legal", "legal-title"),
    ("record", "rec-title"),
    ("assistance", "asst-needs-title"),
    ("h-plan", "asst-plan-title"),
    ("h-services", "asst-services-title"),
    ("followup", "fu-title"),
    ("legal-hold", "ret-hold-title"),
    ("her-data", "dsr-title"),
    ("case-timeline", "case-timeline"),
];

pub(crate) async fn case_nav(
    state: &AppState,
    ctx: &dayaq_storage::cases::Ctx<'_>,
    t: &Tr,
    id: Uuid,
    legal_visible: bool,
    parts: &[String],
) -> Result<CaseNav, AppError> {
    let progress = state.store.case_progress(ctx, id).await?;
    let always = [
        "case-summary",
        "case-identity",
        "identification",
        "screening",
        "consent",
        "referrals",
        "packages",
        "case-timeline",
    ];
    let present = |anchor: &str| {
        always.contains(&anchor)
            || (anchor == "legal" && legal_visible)
            || parts
                .iter()
                .any(|h| h.contains(&format!("id=\"{anchor}\"")))
    };
    let menu = CASE_SECTIONS
        .iter()
        .filter(|(a, _)| present(a))
        .map(|(a, k)| (a.to_string(), t.get(k)))
        .collect();
    let stages = Stage::ALL
        .iter()
        .map(|s| {
            let state = match s.cmp(&progress.stage) {
                std::cmp::Ordering::Less => "done",
                std::cmp::Ordering::Equal => "current",
                std::cmp::Ordering::Greater => "todo",
            };
            (
                t.get(&format!("nav-stage-{}", s.as_str().to_lowercase())),
                state,
            )
        })
        .collect();
    let prompts = progress
        .steps
        .iter()
        .map(|s| {
            let anchor = s.prompt.anchor();
            (
                t.get(&format!("nav-prompt-{}", s.prompt.as_str().to_lowercase())),
                if present(anchor) {
                    anchor
                } else {
                    "case-summary"
                }
                .to_string(),
                s.due
                    .map(|d| day_label(t, &d.to_string()))
                    .unwrap_or_default(),
            )
        })
        .collect();
    Ok(CaseNav {
        menu,
        stages,
        prompts,
    })
}

#[derive(Deserialize)]
pub(super) struct SearchForm {
    #[serde(default)]
    case_number: String,
    #[serde(default)]
    first_name: String,
    #[serde(default)]
    second_name: String,
    #[serde(default)]
    birthdate: String,
    #[serde(default)]
    phone: String,
    #[serde(default)]
    identity_number: String,
}

pub(super) async fn cases_search(
    State(state): State<AppState>,
    PageUser(a): PageUser,
    Form(f): Form<SearchForm>,
) -> Response {
    let c = Chrome::for_user(&state, &a, "cases");
    let q = SearchQuery {
        case_number: non_empty(&f.case_number),
        first_name: non_empty(&f.first_name),
        second_name: non_empty(&f.second_name),
        birthdate: non_empty(&f.birthdate),
        phone: non_empty(&f.phone),
        identity_number: non_empty(&f.identity_number),
    };
    let name_part = q.first_name.is_some() || q.second_name.is_some() || q.birthdate.is_some();
    let name_complete = q.first_name.is_some() && q.second_name.is_some() && q.birthdate.is_some();
    let other = q.phone.is_some() || q.identity_number.is_some();
    if (name_part && !name_complete) || (!name_part && !other && q.case_number.is_none()) {
        let error = Some(c.t.get("search-needs"));
        return (
            StatusCode::UNPROCESSABLE_ENTITY,
            CasesPage {
                c,
                rows: vec![],
                searched: true,
                elsewhere: vec![],
                error,
                list: None,
                done: None,
            },
        )
            .into_response();
    }
    let ctx = a.cx();
    match state.store.search_cases(&ctx, &q).await {
        Ok(r) => {
            let rows = r.cases.iter().map(|v| case_row(&c.t, v)).collect();
            CasesPage {
                c,
                rows,
                searched: true,
                elsewhere: r.possible_matches_elsewhere,
                error: None,
                list: None,
                done: None,
            }
            .into_response()
        }
        Err(e) => {
            let lang = c.t.lang;
            error_page(&state, Some(c), lang, e.into())
        }
    }
}

#[derive(Default, Deserialize)]
pub(super) struct CaseForm {
    #[serde(default)]
    first_name: String,
    #[serde(default)]
    second_name: String,
    #[serde(default)]
    birthdate: String,
    #[serde(default)]
    gender: String,
    #[serde(default)]
    citizenship: String,
    #[serde(default)]
    phone: String,
    #[serde(default)]
    age: String,
    #[serde(default)]
    exploitation: String,
    #[serde(default)]
    notes: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "case_new.html")]
pub(super) struct NewCasePage {
    c: Chrome,
    f: CaseForm,
    /// Each refused field's error beside it and in the linked summary (issue #23).
    errs: form::FieldErrs,
    /// The one-time form token (a double click makes one case).
    token: String,
    genders: Vec<(String, String)>,
    exploitations: Vec<(String, String)>,
}

/// The new-case form: field names → input ids.
const NEW_CASE: form::FormSpec = form::FormSpec {
    name: "case",
    done: "",
    ids: &[
        ("prs_FirstName", "first_name"),
        ("prs_SecondName", "second_name"),
        ("prs_Birthdate", "birthdate"),
        ("prs_MobilePhone", "phone"),
        ("cco_CaseComment", "notes"),
        ("prs_Gender", "gender"),
        ("prs_Citizenship", "citizenship"),
        ("vic_AgeWhenTrafficked", "age"),
        ("vic_TypeOfExploitation", "exploitation"),
    ],
};

pub(super) fn new_case_page_with(
    state: &AppState,
    a: &auth::Authed,
    f: CaseForm,
    errs: Option<dayaq_domain::ValidationErrors>,
    status: StatusCode,
) -> Response {
    let c = Chrome::for_user(state, a, "new");
    let genders = Gender::ALL
        .iter()
        .map(|g| (g.as_str().to_string(), c.t.vocab("prs_Gender", g.as_str())))
        .collect();
    let exploitations = TypeOfExploitation::ALL
        .iter()
        .map(|g| {
            (
                g.as_str().to_string(),
                c.t.vocab("vic_TypeOfExploitation", g.as_str()),
            )
        })
        .collect();
    (
        status,
        NewCasePage {
            errs: errs
                .map(|e| form::FieldErrs::of_spec(&c.t, &NEW_CASE, &e, error_text))
                .unwrap_or_default(),
            token: form::new_form_token(),
            c,
            f,
            genders,
            exploitations,
        },
    )
        .into_response()
}

pub(super) async fn new_case_page(
    State(state): State<AppState>,
    PageUser(a): PageUser,
) -> Response {
    new_case_page_with(
        &state,
        &a,
        CaseForm {
            citizenship: "AZ".into(),
            ..Default::default()
        },
        None,
        StatusCode::OK,
    )
}

pub(super) async fn new_case_submit(
    State(state): State<AppState>,
    PageUser(a): PageUser,
    Form(f): Form<CaseForm>,
) -> Response {
    let t = Tr::new(Lang::parse(&a.user.locale).unwrap_or(Lang::Az));
    let age = match f.age.trim() {
        "" => None,
        s => match s.parse::<i64>() {
            Ok(n) => Some(n),
            Err(_) => {
                let e = FieldError::new("vic_AgeWhenTrafficked", "invalid_number", "");
                return new_case_page_with(
                    &state,
                    &a,
                    f,
                    Some(dayaq_domain::ValidationErrors::single(e)),
                    StatusCode::UNPROCESSABLE_ENTITY,
                );
            }
        },
    };
    let input = CaseInput {
        identity: Identity {
            first_name: non_empty(&f.first_name),
            second_name: non_empty(&f.second_name),
            birthdate: non_empty(&f.birthdate),
            mobile_phone: non_empty(&f.phone),
            notes: non_empty(&f.notes),
            ..Default::default()
        },
        gender: non_empty(&f.gender),
        citizenship: non_empty(&f.citizenship)
            .map(|c| vec![c.to_uppercase()])
            .unwrap_or_default(),
        age_when_trafficked: age,
        types_of_exploitation: non_empty(&f.exploitation).into_iter().collect(),
        status: None,
        reason_for_closure: None,
        context: Default::default(),
    };
    // An empty case is refused too (domain rule `ValidCase::require_content`).
    let valid = match input
        .validate(state.now().date())
        .and_then(|v| v.require_content())
    {
        Ok(v) => v,
        Err(errs) => {
            let e = Some(errs);
            return new_case_page_with(&state, &a, f, e, StatusCode::UNPROCESSABLE_ENTITY);
        }
    };
    let ctx = a.cx();
    match state.store.create_case(&ctx, &valid).await {
        Ok(case) => see_other(&format!("/cases/{}", case.id)),
        Err(e) => error_page(&state, None, t.lang, e.into()),
    }
}

/// `?done=<code>`: the fixed code of the form that just succeeded (never free text).
#[derive(Deserialize)]
pub(super) struct DoneQuery {
    done: Option<String>,
}

pub(super) async fn case_page(
    State(state): State<AppState>,
    PageUser(a): PageUser,
    Path(id): Path<String>,
    axum::extract::Query(q): axum::extract::Query<DoneQuery>,
) -> Response {
    let lang = Lang::parse(&a.user.locale).unwrap_or(Lang::Az);
    let forms = form::CaseForms::page(&Tr::new(lang), q.done.as_deref());
    render_case_forms(&state, &a, &id, false, forms, StatusCode::OK)
        .await
        .unwrap_or_else(|e| {
            error_page(&state, Some(Chrome::for_user(&state, &a, "cases")), lang, e)
        })
}

/// Reveals the identity block (audited). With htmx only the block is swapped; without
/// JavaScript the whole page comes back with the block open.
pub(super) async fn case_reveal(
    State(state): State<AppState>,
    PageUser(a): PageUser,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let lang = Lang::parse(&a.user.locale).unwrap_or(Lang::Az);
    if headers.get("hx-request").is_none() {
        return render_case(&state, &a, &id, true)
            .await
            .unwrap_or_else(|e| error_page(&state, None, lang, e));
    }
    let r: Result<Response, AppError> = async {
        let uid = crate::paths::parse_id(&id)?;
        let c = Chrome::for_user(&state, &a, "cases");
        let ctx = a.cx();
        let case = state.store.get_case(&ctx, uid, true).await?;
        let identity = case.identity.as_ref().map(|i| identity_view(&c.t, i));
        Ok(IdentityFragment {
            c,
            case_id: uid,
            identity,
        }
        .into_response())
    }
    .await;
    r.unwrap_or_else(|e| error_page(&state, None, lang, e))
}
