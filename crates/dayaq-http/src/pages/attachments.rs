//! The attachments screen of a case (issue #21 §1): `/cases/{id}/attachments` lists the files
//! of the sections the reader may read, grouped by section, with a download link (the API's
//! streamed download: neutral name, `Content-Disposition: attachment`, audited), an upload
//! form (section + file; posted through htmx, which sends the CSRF token in `X-CSRF-Token`)
//! and a delete button for those who may change the case.

use super::form::{CaseForm, Opt, lang_of, value};
use crate::AppState;
use crate::auth::{Authed, PageUser};
use crate::error::AppError;
use crate::i18n::Tr;
use crate::pages::{Chrome, error_page, see_other};
use crate::upload::attachment_upload;
use askama::Template;
use axum::Router;
use axum::extract::multipart::MultipartRejection;
use axum::extract::{DefaultBodyLimit, Multipart, Path, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use dayaq_domain::FieldError;
use dayaq_domain::package::section_name;
use dayaq_domain::policy::{Action, Resource, Section, decide};
use dayaq_storage::attachments::AttachmentView;

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/cases/{id}/attachments",
            get(page)
                .post(upload_submit)
                .layer(DefaultBodyLimit::disable()),
        )
        .route("/cases/{id}/attachments/delete", post(delete_submit))
}

struct Line {
    id: String,
    name: String,
    kind: &'static str,
    size: String,
    added: String,
}

struct Group {
    key: &'static str,
    title: String,
    lines: Vec<Line>,
}

#[derive(Template)]
#[template(path = "case_attachments.html")]
struct AttachmentsPage {
    c: Chrome,
    case_id: String,
    can_write: bool,
    uploaded: bool,
    groups: Vec<Group>,
    sections: Vec<Opt>,
    chosen: String,
    errors: Vec<String>,
    err_section: String,
    err_file: String,
}

fn section_title(t: &Tr, s: Section) -> String {
    t.get(&format!(
        "package-section-{}",
        section_name(s).replace('_', "-")
    ))
}

fn size_text(bytes: i64) -> String {
    if bytes >= 1024 * 1024 {
        format!("{:.1} MiB", bytes as f64 / (1024.0 * 1024.0))
    } else {
        format!("{} KiB", (bytes + 1023) / 1024)
    }
}

fn field_text(t: &Tr, e: &FieldError) -> String {
    let label = match e.field.as_str() {
        "section" => t.get("att-section"),
        _ => t.get("att-file"),
    };
    format!(
        "{label}: {}",
        t.get(&format!("err-{}", e.code.replace('_', "-")))
    )
}

async fn page(
    State(state): State<AppState>,
    PageUser(a): PageUser,
    Path(id): Path<String>,
) -> Response {
    let Ok(uid) = crate::paths::parse_id(&id) else {
        return error_page(&state, None, lang_of(&a), AppError::NotFound);
    };
    render(&state, &a, uid, false, String::new(), Vec::new()).await
}

async fn render(
    state: &AppState,
    a: &Authed,
    id: uuid::Uuid,
    uploaded: bool,
    chosen: String,
    errors: Vec<FieldError>,
) -> Response {
    let c = Chrome::for_user(state, a, "cases");
    let t = c.t;
    let ctx = a.cx();
    let list: Vec<AttachmentView> = match state.store.attachments(&ctx, id).await {
        Ok(l) => l,
        Err(e) => return error_page(state, Some(c), t.lang, e.into()),
    };
    let facts = state.store.case_facts(id, ctx.now).await.ok().flatten();
    let may = |action| {
        facts
            .as_ref()
            .is_some_and(|f| decide(&a.actor, action, Resource::Case(f)).allowed)
    };
    let can_write = may(Action::UpdateCase);
    let groups = Section::ALL
        .iter()
        .filter_map(|s| {
            let lines: Vec<Line> = list
                .iter()
                .filter(|v| v.section == *s)
                .map(|v| Line {
                    id: v.id.to_string(),
                    name: v.name.clone(),
                    kind: v.kind.as_str(),
                    size: size_text(v.size_bytes),
                    added: t.datetime(&v.created_at),
                })
                .collect();
            (!lines.is_empty()).then(|| Group {
                key: section_name(*s),
                title: section_title(&t, *s),
                lines,
            })
        })
        .collect();
    let sections = Section::ALL
        .iter()
        .filter(|s| may(Action::ReadSection(**s)))
        .map(|s| Opt {
            value: section_name(*s).to_string(),
            label: section_title(&t, *s),
        })
        .collect();
    // The name's errors show beside the file input (the name comes with the file).
    let err_of = |fields: &[&str]| {
        let e = errors.iter().find(|e| fields.contains(&e.field.as_str()));
        e.map(|e| field_text(&t, e)).unwrap_or_default()
    };
    let status = match errors.first() {
        Some(_) => StatusCode::UNPROCESSABLE_ENTITY,
        None => StatusCode::OK,
    };
    let page = AttachmentsPage {
        case_id: id.to_string(),
        can_write,
        uploaded,
        groups,
        sections,
        chosen,
        err_section: err_of(&["section"]),
        err_file: err_of(&["file", "name"]),
        errors: errors.iter().map(|e| field_text(&t, e)).collect(),
        c,
    };
    match page.render() {
        Ok(html) => (status, Html(html)).into_response(),
        Err(e) => error_page(state, None, t.lang, AppError::Internal(e.to_string())),
    }
}

async fn upload_submit(
    State(state): State<AppState>,
    PageUser(a): PageUser,
    Path(id): Path<String>,
    mp: Result<Multipart, MultipartRejection>,
) -> Response {
    let Ok(uid) = crate::paths::parse_id(&id) else {
        return error_page(&state, None, lang_of(&a), AppError::NotFound);
    };
    let ctx = a.cx();
    match attachment_upload(&state, &ctx, uid, None, mp).await {
        Ok(v) => {
            render(
                &state,
                &a,
                uid,
                true,
                section_name(v.section).to_string(),
                Vec::new(),
            )
            .await
        }
        Err(AppError::Invalid(v)) => render(&state, &a, uid, false, String::new(), v.errors).await,
        Err(e) => error_page(&state, None, lang_of(&a), e),
    }
}

async fn delete_submit(State(state): State<AppState>, form: CaseForm) -> Response {
    let (a, id, uid, f) = (form.a, form.id, form.uid, form.f);
    let Ok(which) = crate::paths::parse_id(&value(&f, "attachment")) else {
        return see_other(&format!("/cases/{id}/attachments"));
    };
    match state.store.delete_attachment(&a.cx(), uid, which).await {
        Ok(()) => see_other(&format!("/cases/{id}/attachments")),
        Err(e) => error_page(&state, None, lang_of(&a), e.into()),
    }
}
