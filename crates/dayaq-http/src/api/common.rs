//! What every area of the JSON API shares: the body and query extractors with JSON errors,
//! the one way to read an id from the path, and "authorise, then parse the body".
//!
//! Ordering, as the tests expect it: `Authed` runs before any body extractor (a request
//! without valid credentials gets 401 whatever its body); a write whose access depends on
//! the case or the organisation reads its body as JSON first (`ApiJson<Value>`: 422 for a body
//! that is not JSON), then asks the policy, and only then gives the body its type
//! (`case_body`, `org_body`), so that a refused caller learns nothing from the body's errors.
//!
//! The extractors below do that whole sequence, so a handler is the one storage call:
//! `OnPath<N>` (signed in + the N ids of the path, case first), `Body<T, A, N>` (signed in +
//! ids + the body typed after the policy allows `A` on the case — or, with `A = Typed`, typed
//! at once) and `OrgBody<T, A, N>` (the same for an organisation-level write).

use crate::AppState;
use crate::auth::Authed;
use crate::error::{AppError, json_body_error};
use axum::Json;
use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Path, Request};
use axum::http::StatusCode;
use axum::http::header::CONTENT_TYPE;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use dayaq_domain::policy::Action;
use dayaq_storage::cases::Ctx;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use std::marker::PhantomData;
use uuid::Uuid;

/// A JSON body whose errors name the offending field (and never echo its value).
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let is_json = req
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/json"));
        if !is_json {
            return Err(AppError::field(
                "Content-Type",
                "unsupported_media_type",
                "send the body as application/json",
            ));
        }
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(|_| AppError::field("body", "unreadable", "the body could not be read"))?;
        let de = &mut serde_json::Deserializer::from_slice(&bytes);
        serde_path_to_error::deserialize(de)
            .map(ApiJson)
            .map_err(json_body_error)
    }
}

/// Query parameters with JSON errors.
pub struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let q = parts.uri.query().unwrap_or("");
        serde_urlencoded::from_str(q).map(ApiQuery).map_err(|_| {
            AppError::field(
                "query",
                "invalid_query",
                "a query parameter has the wrong type",
            )
        })
    }
}

/// An id from the path. A malformed id is answered like an unknown one (404): the caller
/// learns nothing about which ids exist.
pub(crate) fn path_id(raw: &str) -> Result<Uuid, AppError> {
    Uuid::parse_str(raw).map_err(|_| AppError::NotFound)
}

/// Gives a JSON body its type (errors name the field, never the value).
pub(crate) fn typed<T: DeserializeOwned>(raw: Value) -> Result<T, AppError> {
    serde_path_to_error::deserialize(raw).map_err(json_body_error)
}

/// The body of a case-scoped write, typed only after the policy allows `action` on `case`.
pub(crate) async fn case_body<T: DeserializeOwned>(
    state: &AppState,
    ctx: &Ctx<'_>,
    action: Action,
    case: Uuid,
    raw: Value,
) -> Result<T, AppError> {
    state.store.authorize_case(ctx, action, case).await?;
    typed(raw)
}

/// The body of an organisation-level write, typed only after the policy allows `action` on
/// the actor's organisation.
pub(crate) fn org_body<T: DeserializeOwned>(
    state: &AppState,
    ctx: &Ctx<'_>,
    action: Action,
    raw: Value,
) -> Result<T, AppError> {
    state.store.authorize_org(ctx, action)?;
    typed(raw)
}

/// `201 Created` with a JSON body.
pub(crate) fn created<T: Serialize>(body: T) -> Response {
    (StatusCode::CREATED, Json(body)).into_response()
}

/// The policy action a body extractor checks before it types the body (`None`: none, the body
/// is typed at once and the storage method authorises).
pub(crate) trait Act: Send + Sync + 'static {
    const ACTION: Option<Action>;
}

macro_rules! acts {
    ($($name:ident)+) => {
        $(
            #[doc = concat!("Checks `Action::", stringify!($name), "` before typing the body.")]
            pub(crate) struct $name;
            impl Act for $name {
                const ACTION: Option<Action> = Some(Action::$name);
            }
        )+
    };
}
acts!(UpdateCase ReopenCase OpenEpisode Approve ReferCase DecideIdentification ManageDirectory);
// Issue #23 §8: what a receiving organisation records within its granted sections.
acts!(RecordService RecordPlanAction);

/// No check before the body is typed (the storage method authorises).
pub(crate) struct Typed;
impl Act for Typed {
    const ACTION: Option<Action> = None;
}

/// The raw values of the path's parameters, in order (none for a path without any).
async fn raw_ids<const N: usize>(parts: &mut Parts, state: &AppState) -> Vec<String> {
    if N == 0 {
        return Vec::new();
    }
    Path::<Vec<String>>::from_request_parts(parts, state)
        .await
        .map(|Path(v)| v)
        .unwrap_or_default()
}

/// The path's ids, parsed (404 for a malformed or missing one).
fn parse_ids<const N: usize>(raw: &[String]) -> Result<[Uuid; N], AppError> {
    let ids = raw
        .iter()
        .map(|r| path_id(r))
        .collect::<Result<Vec<_>, _>>()?;
    <[Uuid; N]>::try_from(ids).map_err(|_| AppError::NotFound)
}

/// A signed-in request on a path of `N` ids (the case, then its records, in the path's order).
pub(crate) struct OnPath<const N: usize = 1> {
    pub auth: Authed,
    pub ids: [Uuid; N],
}

impl<const N: usize> OnPath<N> {
    pub fn cx(&self) -> Ctx<'_> {
        self.auth.cx()
    }
}

impl<const N: usize> FromRequestParts<AppState> for OnPath<N> {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        let auth = Authed::from_request_parts(parts, state).await?;
        let raw = raw_ids::<N>(parts, state).await;
        Ok(Self {
            auth,
            ids: parse_ids(&raw)?,
        })
    }
}

/// A signed-in write on a case path with a JSON body: 401, then 422 for a body that is not
/// JSON, then 404 for a malformed id, then the policy (`A` on the case, ids[0]), then the
/// body's type (field-named 422). With `A = Typed` the body is typed at once (before the ids).
pub(crate) struct Body<T, A: Act = UpdateCase, const N: usize = 1> {
    pub auth: Authed,
    pub ids: [Uuid; N],
    pub body: T,
    act: PhantomData<A>,
}

impl<T: DeserializeOwned + Send, A: Act, const N: usize> FromRequest<AppState> for Body<T, A, N> {
    type Rejection = AppError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, AppError> {
        let (mut parts, body) = req.into_parts();
        let auth = Authed::from_request_parts(&mut parts, state).await?;
        let raw = raw_ids::<N>(&mut parts, state).await;
        let req = Request::from_parts(parts, body);
        let Some(action) = A::ACTION else {
            let ApiJson(body) = ApiJson::<T>::from_request(req, state).await?;
            let ids = parse_ids(&raw)?;
            return Ok(Self {
                auth,
                ids,
                body,
                act: PhantomData,
            });
        };
        let ApiJson(json) = ApiJson::<Value>::from_request(req, state).await?;
        let ids: [Uuid; N] = parse_ids(&raw)?;
        let case = ids.first().copied().ok_or(AppError::NotFound)?;
        let body = case_body(state, &auth.cx(), action, case, json).await?;
        Ok(Self {
            auth,
            ids,
            body,
            act: PhantomData,
        })
    }
}

/// A signed-in organisation-level write with a JSON body: 401, 422 for a body that is not
/// JSON, 404 for a malformed id of the path, then the policy (`A` on the actor's
/// organisation), then the body's type.
pub(crate) struct OrgBody<T, A: Act = ManageDirectory, const N: usize = 0> {
    pub auth: Authed,
    pub ids: [Uuid; N],
    pub body: T,
    act: PhantomData<A>,
}

impl<T: DeserializeOwned + Send, A: Act, const N: usize> FromRequest<AppState>
    for OrgBody<T, A, N>
{
    type Rejection = AppError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, AppError> {
        let (mut parts, body) = req.into_parts();
        let auth = Authed::from_request_parts(&mut parts, state).await?;
        let raw = raw_ids::<N>(&mut parts, state).await;
        let ApiJson(json) =
            ApiJson::<Value>::from_request(Request::from_parts(parts, body), state).await?;
        let ids = parse_ids(&raw)?;
        let body = match A::ACTION {
            Some(action) => org_body(state, &auth.cx(), action, json)?,
            None => typed(json)?,
        };
        Ok(Self {
            auth,
            ids,
            body,
            act: PhantomData,
        })
    }
}

/// The one error shape of the API (rendered by `crate::error`): `{"error": {...}}`.
#[derive(Debug, utoipa::ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, utoipa::ToSchema)]
pub struct ErrorDetail {
    /// A stable code: unauthorized, forbidden, not_found, version_conflict, invalid_input,
    /// already_exists, too_many_requests, csrf, internal.
    pub code: String,
    /// A sentence for people; never contains a submitted value.
    pub message: String,
    /// The first offending field (invalid input), or what already exists.
    pub field: Option<String>,
    /// The policy's reason code of a refusal (403).
    pub reason: Option<String>,
    /// Every problem of an invalid input.
    pub errors: Option<Vec<ErrorItem>>,
}

/// One problem of an invalid input: a field (JSON bodies) or a row and column (file imports).
#[derive(Debug, utoipa::ToSchema)]
pub struct ErrorItem {
    pub field: Option<String>,
    /// The spreadsheet row of a file import (the header is row 1).
    pub row: Option<i64>,
    pub column: Option<String>,
    pub code: String,
    pub message: String,
}

/// A new record's id.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct Created {
    pub id: Uuid,
}

/// JSON list bodies, `{"<field>": [<item>, ...]}`: one named struct each, so that the OpenAPI
/// document names every list.
macro_rules! list_bodies {
    ($($name:ident { $field:ident: $item:ident })+) => {
        $(
            #[derive(Debug, serde::Serialize, utoipa::ToSchema)]
            pub struct $name {
                pub $field: Vec<$item>,
            }
        )+
    };
}
pub(crate) use list_bodies;
