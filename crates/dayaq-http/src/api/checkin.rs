//! Self check-in API (issue 17, part 1): a caseworker creates a one-time check-in link and
//! code for a case (refused without a follow-up consent or protocol, or with do-not-contact),
//! lists the case's check-ins with their state, and revokes an open one. The survivor's side is
//! the HTML page `/c/{token}` (`pages/checkin.rs`), not the API.

use super::common::{Body, OnPath, created};
use crate::AppState;
use crate::checkin_sender::Outbound;
use crate::error::AppError;
use axum::Json;
use axum::extract::State;
use axum::response::Response;
use dayaq_domain::followup::CheckInInput;
use dayaq_domain::{FieldError, ValidationErrors};
use dayaq_storage::followup::{CheckIn, NewCheckIn};
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

/// Routes under /api/v1 (register each with `routes!` so OpenAPI lists it).
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_checkins, create_checkin))
        .routes(routes!(revoke_checkin))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateCheckIn {
    /// appointment_reminder | customer_survey | delivery_update | organisation (the page is
    /// titled with the organisation's name: only with `chosen_by_her`)
    pub cover: String,
    /// She chose this cover herself (recorded on the check-in; required for `organisation`).
    #[serde(default)]
    pub chosen_by_her: bool,
    /// az | ru | en
    pub language: String,
    /// Days the link stays valid (1-30, default 7).
    #[serde(default)]
    pub expiry_days: Option<u32>,
    /// Hand the message to the outbound adapter over this channel of her protocol
    /// (sms | messenger), to her first safe number. Omitted: the caseworker sends it herself.
    #[serde(default)]
    pub send_via: Option<String>,
}

/// The new check-in: the link and code are shown once and never stored in clear.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CheckInCreated {
    pub id: Uuid,
    /// The link's path, `/c/{token}`.
    pub link: String,
    pub token: String,
    pub code: String,
    pub cover: String,
    pub language: String,
    pub expires_at: String,
    /// Whether the outbound adapter accepted the message (`send_via`).
    pub sent: bool,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RevokeCheckIn {
    /// The check-in's id.
    pub id: Uuid,
}

#[utoipa::path(get, path = "/cases/{id}/followup/checkins", tag = "followup",
    params(("id" = String, Path, description = "Case id (UUID)")),
    responses((status = 200, description = "The case's check-ins, newest first, with state (open, answered, expired, revoked); no secrets, no answers", body = Vec<CheckIn>)))]
async fn list_checkins(
    State(state): State<AppState>,
    r: OnPath,
) -> Result<Json<Vec<CheckIn>>, AppError> {
    let ([id], ctx) = (r.ids, r.cx());
    Ok(Json(state.store.checkins(&ctx, id).await?))
}

#[utoipa::path(post, path = "/cases/{id}/followup/checkins", tag = "followup",
    params(("id" = String, Path, description = "Case id (UUID)")),
    request_body(content = CreateCheckIn, description = "{cover, chosen_by_her, language, expiry_days, send_via}"),
    responses((status = 201, body = CheckInCreated),
              (status = 422, description = "Invalid cover (`organisation` without `chosen_by_her`: `not_her_choice`)/language/expiry_days/send_via, no follow-up consent (`consent`), no protocol (`protocol`), or do-not-contact (`do_not_contact`)", body = super::common::ErrorBody)))]
async fn create_checkin(
    State(state): State<AppState>,
    r: Body<CreateCheckIn>,
) -> Result<Response, AppError> {
    let ([id], ctx, input) = (r.ids, r.auth.cx(), r.body);
    let via: Option<&'static str> = match input.send_via.as_deref().map(str::trim) {
        None | Some("") => None,
        Some("sms") => Some("sms"),
        Some("messenger") => Some("messenger"),
        Some(_) => {
            return Err(dayaq_storage::StoreError::from(ValidationErrors::single(
                FieldError::new("send_via", "unknown", "sms or messenger"),
            ))
            .into());
        }
    };
    let n: NewCheckIn = state
        .store
        .create_checkin(
            &ctx,
            id,
            &CheckInInput {
                cover: input.cover,
                language: input.language,
                expiry_days: input.expiry_days,
                chosen_by_her: input.chosen_by_her,
            },
        )
        .await?;
    let link = format!("/c/{}", n.token);
    let mut sent = false;
    if let Some(channel) = via {
        let p = state.store.protocol(&ctx, id).await?;
        if let Some(to) = p
            .filter(|p| p.channels.iter().any(|c| c == channel))
            .and_then(|p| p.safe_numbers.into_iter().next())
        {
            let msg = Outbound {
                checkin_id: n.id,
                channel,
                to,
                text: format!("{link} {}", n.code),
            };
            sent = state.cfg.checkin_sender.send(&msg).is_ok();
        }
    }
    Ok(created(CheckInCreated {
        id: n.id,
        link,
        token: n.token,
        code: n.code,
        cover: n.cover,
        language: n.language,
        expires_at: n.expires_at,
        sent,
    }))
}

#[utoipa::path(post, path = "/cases/{id}/followup/checkins/revoke", tag = "followup",
    params(("id" = String, Path, description = "Case id (UUID)")),
    request_body(content = RevokeCheckIn, description = "{id}"),
    responses((status = 200, body = CheckIn),
              (status = 422, description = "Unknown check-in on this case, or no longer open (`id`)", body = super::common::ErrorBody)))]
async fn revoke_checkin(
    State(state): State<AppState>,
    r: Body<RevokeCheckIn>,
) -> Result<Json<CheckIn>, AppError> {
    let ([id], ctx, input) = (r.ids, r.auth.cx(), r.body);
    Ok(Json(state.store.revoke_checkin(&ctx, id, input.id).await?))
}
