//! JSON API under `/api/v1`. Every route is registered through `utoipa_axum::routes!`, so the
//! OpenAPI document (`/api/v1/openapi.json`) lists every route by construction.
//! Keys and values are HTCDS field and value names.
//!
//! One module per area under `api/`, each with its own `router()`; what they share (body and
//! query extractors, path ids, "authorise, then parse the body") is in `api/common.rs`. Area
//! modules import from `common` only, never from each other or from the screens.

pub mod common;

pub mod account;
pub mod assistance;
pub mod cases;
pub mod checkin;
pub mod followup;
pub mod htcds;
pub mod identification;
pub mod packages;
pub mod record;
pub mod referrals;
pub mod retention;

pub use common::{ApiJson, ApiQuery};

use crate::AppState;
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};
use std::sync::OnceLock;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub mod alerts;
pub mod audit_viewer;
pub mod gaps;
pub mod rules;
pub mod scorecard;
pub mod statistics;
// Research data releases (issue #16).
pub mod releases;
pub mod subject_requests;
// Encrypted attachments (issue #21 §1).
pub mod attachments;
// Webhooks (issue 22 §4).
pub mod webhooks;
// Passkeys (issue 22 §2).
pub mod passkeys;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Dayaq API",
        description = "National Referral Mechanism for survivors of human trafficking. \
            Field and value names follow the Human Trafficking Case Data Standard (HTCDS). \
            Authenticate with a session cookie (browser; send X-CSRF-Token on writes) or \
            `Authorization: Bearer <token>` (`dayaq token create`). Errors: \
            `{\"error\": {\"code\", \"message\", \"field\"?, \"errors\"?}}`."
    ),
    servers((url = "/api/v1")),
    components(schemas()),
    modifiers(&BearerScheme)
)]
struct ApiDoc;

struct BearerScheme;
impl utoipa::Modify for BearerScheme {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
        openapi.security = Some(vec![utoipa::openapi::security::SecurityRequirement::new(
            "bearer",
            Vec::<String>::new(),
        )]);
    }
}

static OPENAPI_JSON: OnceLock<String> = OnceLock::new();

/// The whole API: one router per area, each registering its routes with `routes!`.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(openapi_json))
        .merge(account::router())
        .merge(cases::router())
        .merge(htcds::router())
        .merge(identification::router())
        .merge(referrals::router())
        .merge(packages::router())
        .merge(assistance::router())
        .merge(followup::router())
        .merge(record::router())
        .merge(statistics::router())
        .merge(gaps::router())
        .merge(scorecard::router())
        .merge(releases::router())
        .merge(audit_viewer::router())
        .merge(alerts::router())
        .merge(rules::router())
        .merge(retention::router())
        .merge(subject_requests::router())
        .merge(checkin::router())
        .merge(attachments::router())
        .merge(webhooks::router())
        .merge(passkeys::router())
}

/// Builds the OpenAPI document once (called when the app is assembled).
pub fn openapi_document() -> &'static str {
    OPENAPI_JSON.get_or_init(|| {
        let (_, mut doc) = router().split_for_parts();
        document_common_errors(&mut doc);
        doc.to_pretty_json().unwrap_or_else(|_| "{}".into())
    })
}

/// Documents the error answers every operation can give, so that the document matches what the
/// server does (checked by schemathesis): 401 without a valid session or token and 403 when
/// the access policy refuses (every operation except the document itself), 404 for an unknown
/// or invisible record (operations with a path parameter), 422 for a malformed query, path or
/// body (operations that take any), 429 over the per-address rate limit. All carry the one
/// error shape.
fn document_common_errors(doc: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::{Ref, ResponseBuilder, content::ContentBuilder};
    let error = |description: &str| {
        ResponseBuilder::new()
            .description(description)
            .content(
                "application/json",
                ContentBuilder::new()
                    .schema(Some(Ref::from_schema_name("ErrorBody")))
                    .build(),
            )
            .build()
    };
    for (path, item) in doc.paths.paths.iter_mut() {
        if path == "/openapi.json" {
            continue;
        }
        let has_path_param = path.contains('{');
        for op in [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.patch,
        ]
        .into_iter()
        .flatten()
        {
            let takes_input = has_path_param
                || op.request_body.is_some()
                || op.parameters.as_ref().is_some_and(|p| !p.is_empty());
            let mut add = |code: &str, description: &str| {
                op.responses
                    .responses
                    .entry(code.to_string())
                    .or_insert_with(|| error(description).into());
            };
            add("401", "Not signed in (no valid session or token)");
            add("403", "Refused by the access policy");
            add(
                "429",
                "Over the request budget of this client address; see Retry-After",
            );
            if has_path_param {
                add("404", "No such record, or not visible to you");
            }
            if takes_input {
                add("422", "Invalid input; the error names the field");
            }
        }
    }
}

#[utoipa::path(get, path = "/openapi.json", tag = "meta", security(()),
    responses((status = 200, description = "This OpenAPI 3 document", body = serde_json::Value)))]
async fn openapi_json() -> Response {
    ([(CONTENT_TYPE, "application/json")], openapi_document()).into_response()
}
