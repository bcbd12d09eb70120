//! The rest of the case record: trafficking events, perpetrator roles, dependants, the case
//! status history (closure, explicit reopening) and episodes (re-trafficking). Rules live in
//! `dayaq_domain::record`; sensitive free text is sealed with the case key. Every function asks
//! the access policy first (another organisation gets `NotFound` before any input check), and
//! every write is audited in its own transaction.

mod dependants;
mod episodes;
mod events;
mod perpetrators;
mod status;

pub use dependants::*;
pub use episodes::*;
pub use status::*;

use crate::audit::append;
use crate::crypto::{SecretKey, field_aad};
use crate::kernel::{CaseAccess, Ctx};
use crate::kernel::{one_row, ts, uuid_of};
use crate::{Result, Store, StoreError, millis};
use dayaq_domain::ValidationErrors;
use dayaq_domain::case::Identity;
use dayaq_domain::policy::Action;
use dayaq_domain::record::{
    self as rules, ChildrenCount, DependantInput, DependantView, EventInput, EventSealed,
    EventType, EventView, PerpetratorInput, PerpetratorView, Relation, StatusChange,
};
use dayaq_domain::vocab::{CaseStatus, Gender};
use serde::{Deserialize, Serialize};
use sqlx::{AnyConnection, Row};
use time::macros::format_description;
use uuid::Uuid;

fn data(e: impl std::fmt::Display) -> StoreError {
    StoreError::Data(e.to_string())
}
fn seal_json<T: Serialize>(key: &SecretKey, aad: &[u8], v: &T) -> Result<Vec<u8>> {
    let plain = serde_json::to_vec(v).map_err(data)?;
    Ok(key.seal(aad, &plain)?)
}
fn open_json<T: serde::de::DeserializeOwned>(key: &SecretKey, aad: &[u8], ct: &[u8]) -> Result<T> {
    let plain = key.open(aad, ct)?;
    serde_json::from_slice(&plain).map_err(data)
}

impl Store {
    async fn record_write(
        &self,
        ctx: &Ctx<'_>,
        access: &CaseAccess,
        audit_action: &'static str,
        body: impl AsyncFnOnce(&mut AnyConnection, &SecretKey) -> Result<()>,
    ) -> Result<()> {
        let cs = access.id_str();
        let mut tx = self.begin_write().await?;
        let key = self.case_key(&mut tx, access).await?;
        body(&mut tx, &key).await?;
        tx.commit_with(&ctx.entry(audit_action, "success", cs), millis(ctx.now))
            .await?;
        Ok(())
    }
}

impl Store {
    async fn delete_row(
        &self,
        ctx: &Ctx<'_>,
        access: &CaseAccess,
        id: Uuid,
        table: &'static str,
        audit_action: &'static str,
    ) -> Result<()> {
        let cs = access.id_str();
        let mut w = self.write_case(ctx, access).await?;
        // `table` is one of this module's constant table names, never input.
        let q = format!("DELETE FROM {table} WHERE id = $1 AND case_id = $2");
        one_row(
            sqlx::query(sqlx::AssertSqlSafe(q))
                .bind(id.to_string())
                .bind(cs)
                .execute(&mut *w)
                .await?,
        )?;
        w.event("record.removed", table).await?;
        w.commit(audit_action, String::new()).await?;
        Ok(())
    }
}

/// The sealed JSON part (`sealed` column) of row `id` of `table`, opened; its default when
/// nothing was sealed.
fn open_sealed<T: serde::de::DeserializeOwned + Default>(
    key: &SecretKey,
    table: &str,
    id: &str,
    ct: Option<Vec<u8>>,
) -> Result<T> {
    match ct {
        Some(ct) => open_json(key, &field_aad(table, "sealed", id, "case"), &ct),
        None => Ok(T::default()),
    }
}
