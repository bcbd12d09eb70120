//! Rules of practice as data (issue #17 part 4, migration 0020): the installation's recovery
//! and reflection period (CoE Convention art. 13), the admission rules of shelter facilities
//! with the refusals they caused counted by reason, and her priorities in her words on the
//! rehabilitation plan (sealed with the case key).
//!
//! Changing a rule needs `Action::ManagePracticeRules` on the system (the national
//! coordinator); a refusal is audited (`access.denied`, detail `table=rules reason=…`), every
//! change too (`rules.reflection_period` detail `days=N`, `rules.facility_admission` detail
//! `facility=ID requires_cooperation=0|1`). The facility rules are read by the admission
//! (`assistance/shelter.rs`); this module uses no other area.

mod facilities;
mod priorities;
mod reflection;

pub use facilities::*;
pub use priorities::*;
pub use reflection::*;

use crate::audit::append;
use crate::kernel::Ctx;
use crate::{Result, Store, StoreError, millis};
use dayaq_domain::policy::{Action, Resource, decide};

impl Store {
    /// Asks the policy for `ManagePracticeRules` on the system; a refusal is audited and
    /// answered 403.
    pub async fn authorize_rules(&self, ctx: &Ctx<'_>) -> Result<()> {
        let d = decide(ctx.actor, Action::ManagePracticeRules, Resource::System);
        if d.allowed {
            return Ok(());
        }
        let mut e = ctx.entry("access.denied", "denied", "");
        e.detail = format!("table=rules reason={}", d.reason);
        let mut tx = self.begin_write().await?;
        append(&mut tx, &e, millis(ctx.now)).await?;
        tx.commit().await?;
        Err(StoreError::Forbidden(d.reason))
    }
}
