//! Retention schedules (issue #17 part 3): an organisation's rules per record kind, legal
//! holds on cases, the preview of what the daily job erases, and the job itself. The rule of
//! what is due is `dayaq_domain::retention::due` (pure); this module gathers its facts and
//! executes its answer.
//!
//! - [`rules`]: read and set the rules (`Action::ManageRetention`, audited `retention.rule`).
//! - [`holds`]: legal hold per case (`Action::HoldCase`, audited `retention.hold` /
//!   `retention.hold_lifted`, timeline events).
//! - [`job`]: facts, preview (`retention.preview`) and the run (`retention.run`, counts only):
//!   cases through the existing `Store::erase_case`, notes cleared, contacts without a case
//!   and old sessions deleted. Audit rows are not pruned (see `RecordKind::AuditRows`).

mod holds;
mod job;
mod rules;

pub use holds::*;
pub use job::*;
pub use rules::*;

use crate::kernel::Ctx;
use crate::{Result, Store, StoreError};
use dayaq_domain::policy::{Action, Actor, Resource, decide};
use dayaq_domain::role::Role;
use uuid::Uuid;

/// The actor the daily job acts as: no user (the nil id), a supervisor of the organisation
/// whose rule expired (the role that may erase a case, and that set the rule), so that
/// `Store::erase_case` asks the same policy question as for a person. Audit rows of the job
/// carry the nil user id and the source [`JOB_SOURCE`].
pub fn job_actor(org: Uuid) -> Actor {
    Actor {
        user_id: Uuid::nil(),
        org_id: org,
        role: Role::Supervisor,
    }
}

/// The audit `source` of the daily job's rows.
pub const JOB_SOURCE: &str = "retention-job";

impl Store {
    /// `ManageRetention` on the actor's organisation; a denial is audited as `action`.
    async fn require_retention(&self, ctx: &Ctx<'_>, action: &'static str) -> Result<Uuid> {
        let org = ctx.actor.org_id;
        let d = decide(
            ctx.actor,
            Action::ManageRetention,
            Resource::Organisation(org),
        );
        if !d.allowed {
            let mut e = ctx.entry(action, "denied", "");
            e.detail = d.reason.to_string();
            self.audit(e, ctx.now).await?;
            return Err(StoreError::Forbidden(d.reason));
        }
        Ok(org)
    }
}
