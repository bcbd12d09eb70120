//! The case list, the search, a new case and the case page itself.

use super::*;

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
}

pub(super) async fn cases_page(State(state): State<AppState>, PageUser(a): PageUser) -> Response {
    let c = Chrome::for_user(&state, &a, "cases");
    let ctx = a.cx();
    match state.store.list_cases(&ctx, 100, 0).await {
        Ok(cases) => {
            let rows = cases.iter().map(|v| case_row(&c.t, v)).collect();
            CasesPage {
                c,
                rows,
                searched: false,
                elsewhere: vec![],
                error: None,
            }
            .into_response()
        }
        Err(e) => {
            let lang = c.t.lang;
            error_page(&state, Some(c), lang, e.into())
        }
    }
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
