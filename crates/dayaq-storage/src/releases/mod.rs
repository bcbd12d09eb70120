//! Research data releases (issue #16): the request workflow (`requests.rs`: a researcher asks,
//! the national coordinator approves or refuses — never the requester), the generation and
//! delivery of the release file (`delivery.rs`: records → k-anonymous microdata or
//! differentially private tables → a ZIP with `data.csv` + `README.md`, age-encrypted to the
//! requester's key, the privacy budget spent in the same transaction as the file row), and the
//! facts loader (`records.rs`).
//!
//! Authorised by `Action::RequestRelease` (researcher), `Action::DecideRelease` (national
//! coordinator; on one request never its requester) and `Action::DownloadRelease` (the
//! requester only) through [`Store::authorize_release`]; every step is audited with ids, codes
//! and counts only (`release.requested`, `release.approved`, `release.refused`,
//! `release.generated`, `release.downloaded`, `release.age_recipient`, refusals as
//! `release.request_refused` / `release.generation_refused` / `access.denied`).

pub mod delivery;
mod records;
pub mod requests;
#[allow(unused_imports)]
pub use records::*;

use crate::audit::append;
use crate::cases::Ctx;
use crate::{Result, Store, StoreError, millis};
use dayaq_domain::policy::{Action, Resource, decide};
use serde::Serialize;
use uuid::Uuid;

/// The dataset the privacy ledger counts (one: the NRM's case records).
pub const DATASET: &str = "nrm_cases";
/// Default k of a microdata release (CTDC's), and the floor.
pub const DEFAULT_K: i64 = 11;
pub const MIN_K: i64 = 5;
/// Default ε of a table release, the cap of one release, and the budget per dataset and
/// period (the sum over every release whose period overlaps).
pub const DEFAULT_EPSILON: f64 = 1.0;
pub const EPSILON_CAP: f64 = 2.0;
pub const EPSILON_BUDGET: f64 = 3.0;
/// Longest purpose and reason texts.
pub const MAX_TEXT: usize = 2000;

/// The kind of a release.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReleaseKind {
    /// k-anonymous microdata (one generalised record per person).
    Microdata,
    /// Differentially private count tables.
    Tables,
}

impl ReleaseKind {
    pub fn name(self) -> &'static str {
        match self {
            Self::Microdata => "microdata",
            Self::Tables => "tables",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "microdata" => Some(Self::Microdata),
            "tables" => Some(Self::Tables),
            _ => None,
        }
    }
}

/// Where a request stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReleaseState {
    Requested,
    Approved,
    Refused,
    Generated,
    Downloaded,
}

impl ReleaseState {
    pub fn name(self) -> &'static str {
        match self {
            Self::Requested => "requested",
            Self::Approved => "approved",
            Self::Refused => "refused",
            Self::Generated => "generated",
            Self::Downloaded => "downloaded",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "requested" => Some(Self::Requested),
            "approved" => Some(Self::Approved),
            "refused" => Some(Self::Refused),
            "generated" => Some(Self::Generated),
            "downloaded" => Some(Self::Downloaded),
            _ => None,
        }
    }
    /// A file exists for the request.
    pub fn has_file(self) -> bool {
        matches!(self, Self::Generated | Self::Downloaded)
    }
}

/// One release request as stored (no personal data: the purpose and the reason describe the
/// research and the decision).
#[derive(Debug, Clone, PartialEq)]
pub struct ReleaseRequest {
    pub id: Uuid,
    pub requester: Uuid,
    /// The requester's user name (for the register).
    pub requester_name: String,
    pub purpose: String,
    pub kind: ReleaseKind,
    pub period_from: time::Date,
    pub period_to: time::Date,
    /// Release-schema variable names (HTCDS/CTDC), in the order asked for.
    pub variables: Vec<String>,
    pub k: Option<i64>,
    pub epsilon: Option<f64>,
    pub terms_accepted: bool,
    pub state: ReleaseState,
    pub decider: Option<Uuid>,
    pub reason: Option<String>,
    pub created_at: time::OffsetDateTime,
    pub decided_at: Option<time::OffsetDateTime>,
    pub generated_at: Option<time::OffsetDateTime>,
    pub downloaded_at: Option<time::OffsetDateTime>,
    /// The file's size, digest, released and suppressed record counts, once generated.
    pub file: Option<FileFacts>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileFacts {
    pub size: i64,
    pub sha256: String,
    pub records: i64,
    pub suppressed: i64,
}

/// One entry of the privacy-budget ledger.
#[derive(Debug, Clone, PartialEq)]
pub struct LedgerEntry {
    pub dataset: String,
    pub period_from: time::Date,
    pub period_to: time::Date,
    pub epsilon: f64,
    pub release_id: Uuid,
    pub created_at: time::OffsetDateTime,
}

/// Proof that the policy allowed `action` on the system to this request's actor; made only by
/// [`Store::authorize_release`].
#[derive(Debug, Clone, Copy)]
pub struct ReleaseAccess<'a> {
    pub(crate) ctx: Ctx<'a>,
    pub(crate) action: Action,
}

impl<'a> ReleaseAccess<'a> {
    pub fn action(&self) -> Action {
        self.action
    }
}

impl Store {
    /// Asks the policy (`RequestRelease`, `DecideRelease` or `DownloadRelease` on the
    /// system); a refusal is audited (`access.denied`) and answered 403.
    pub async fn authorize_release<'a>(
        &self,
        ctx: &Ctx<'a>,
        action: Action,
    ) -> Result<ReleaseAccess<'a>> {
        let known = matches!(
            action,
            Action::RequestRelease | Action::DecideRelease | Action::DownloadRelease
        );
        let d = decide(ctx.actor, action, Resource::System);
        if d.allowed && known {
            return Ok(ReleaseAccess { ctx: *ctx, action });
        }
        let reason = if known { d.reason } else { "no_rule" };
        Err(self.release_denied(ctx, reason, None).await?)
    }

    /// Audits a refusal of the policy (`access.denied`, detail `table=releases reason=…`
    /// and the request id) and gives the 403 error to return.
    pub(crate) async fn release_denied(
        &self,
        ctx: &Ctx<'_>,
        reason: &'static str,
        id: Option<Uuid>,
    ) -> Result<StoreError> {
        let mut e = ctx.entry("access.denied", "denied", "");
        e.detail = match id {
            Some(id) => format!("table=releases request={id} reason={reason}"),
            None => format!("table=releases reason={reason}"),
        };
        let mut tx = self.begin_write().await?;
        append(&mut tx, &e, millis(ctx.now)).await?;
        tx.commit().await?;
        Ok(StoreError::Forbidden(reason))
    }

    /// Audits a refused input or generation (`action`, outcome `refused`, detail the request
    /// id when there is one and the field codes, never a value).
    pub(crate) async fn release_refused(
        &self,
        ctx: &Ctx<'_>,
        action: &'static str,
        id: Option<Uuid>,
        errors: &dayaq_domain::ValidationErrors,
    ) -> Result<()> {
        let codes: Vec<String> = errors
            .errors
            .iter()
            .map(|e| format!("{}:{}", e.field, e.code))
            .collect();
        let mut e = ctx.entry(action, "refused", "");
        e.detail = match id {
            Some(id) => format!("request={id} errors={}", codes.join(",")),
            None => format!("errors={}", codes.join(",")),
        };
        let mut tx = self.begin_write().await?;
        append(&mut tx, &e, millis(ctx.now)).await?;
        tx.commit().await?;
        Ok(())
    }
}
