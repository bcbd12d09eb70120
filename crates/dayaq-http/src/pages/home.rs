//! The home page.

use super::*;

pub(crate) fn router() -> Router<AppState> {
    Router::new().route("/", get(home))
}

// ---------- home ----------

#[derive(Template, WebTemplate)]
#[template(path = "home.html")]
pub(super) struct HomePage {
    c: Chrome,
    role: String,
    org_name: String,
    recent: Vec<CaseRow>,
    open_count: i64,
    overview: Option<dayaq_storage::stats::Overview>,
    audit_rows: Option<i64>,
    audit_problems: Vec<String>,
    /// Pre-rendered home sections of later modules (follow-ups due, approvals), escaped.
    extra_sections: Vec<String>,
}

pub(super) async fn home(State(state): State<AppState>, PageUser(a): PageUser) -> Response {
    let c = Chrome::for_user(&state, &a, "home");
    let lang = c.t.lang;
    let r: Result<Response, AppError> = async {
        let org = state.store.org_by_id(a.user.org_id).await?;
        let ctx = a.cx();
        let (recent, open_count) = if a.user.role.works_cases() {
            let cases = state.store.list_cases(&ctx, 10, 0).await?;
            (
                cases.iter().map(|v| case_row(&c.t, v)).collect(),
                state.store.count_cases(&ctx).await?,
            )
        } else {
            (vec![], 0)
        };
        let overview = if matches!(a.user.role, Role::NationalCoordinator | Role::Supervisor) {
            Some(state.store.national_overview(&a.actor).await?)
        } else {
            None
        };
        let (audit_rows, audit_problems) = if a.user.role == Role::Auditor {
            let rep = state.store.audit_verify().await?;
            (
                Some(rep.rows),
                rep.problems.iter().map(|p| p.to_string()).collect(),
            )
        } else {
            (None, vec![])
        };
        let role = a.user.role.as_str().to_string();
        let extra_sections = home_sections(&state, &a, &ctx, &c.t).await?;
        Ok(HomePage {
            extra_sections,
            c,
            role,
            org_name: org.name,
            recent,
            open_count,
            overview,
            audit_rows,
            audit_problems,
        }
        .into_response())
    }
    .await;
    r.unwrap_or_else(|e| error_page(&state, None, lang, e))
}
