//! The rest of the case record: trafficking events, perpetrator roles, dependants, the case
//! status history (closure, explicit reopening) and episodes (re-trafficking). Rules live in
//! `dayaq_domain::record`; sensitive free text is sealed with the case key. Every function asks
//! the access policy first (another organisation gets `NotFound` before any input check), and
//! every write is audited in its own transaction.

use crate::audit::append;
use crate::crypto::{SecretKey, field_aad};
use crate::kernel::{CaseAccess, Ctx};
use crate::{Result, Store, StoreError, from_millis, millis};
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
use time::format_description::well_known::Rfc3339;
use time::macros::format_description;
use uuid::Uuid;

/// A status change (not a reopening). `reason` is required when closing
/// (`cas_ReasonForCaseClosure` is accepted as its name).
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StatusInput {
    #[serde(rename = "cas_Status", default)]
    pub status: String,
    #[serde(rename = "cas_ReasonForCaseClosure", alias = "reason", default)]
    pub reason: Option<String>,
}

/// Reopening a closed case: to `cas_Status` (Active when absent), with a reason.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReopenInput {
    #[serde(rename = "cas_Status", default)]
    pub status: Option<String>,
    #[serde(default)]
    pub reason: Option<String>,
}

/// A new episode of the same person (re-trafficking), with a reason.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EpisodeInput {
    #[serde(default)]
    pub reason: Option<String>,
}

/// One entry of the status history. `reason` only for readers of the notes section.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct StatusEntry {
    pub seq: i64,
    pub at: String,
    pub kind: StatusChange,
    pub from: Option<CaseStatus>,
    #[serde(rename = "cas_Status")]
    pub to: CaseStatus,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    pub actor: String,
}

/// The case's current status and its history, oldest first.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct StatusView {
    #[serde(rename = "cas_Status")]
    pub status: CaseStatus,
    pub history: Vec<StatusEntry>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct DependantsView {
    pub children: ChildrenCount,
    pub dependants: Vec<DependantView>,
}

/// One case of the person's series of episodes. Cases the reader may not open show only
/// their episode number (`accessible = false`, no id).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct EpisodeRef {
    pub episode: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub case_id: Option<Uuid>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub case_number: Option<String>,
    #[serde(rename = "cas_Status", skip_serializing_if = "Option::is_none")]
    pub status: Option<CaseStatus>,
    pub accessible: bool,
    pub current: bool,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Episodes {
    pub episode: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub previous_case: Option<Uuid>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_case: Option<Uuid>,
    pub series: Vec<EpisodeRef>,
}

fn ts(ms: i64) -> String {
    from_millis(ms).format(&Rfc3339).unwrap_or_default()
}
fn data(e: impl std::fmt::Display) -> StoreError {
    StoreError::Data(e.to_string())
}
fn uuid_of(s: &str) -> Result<Uuid> {
    Uuid::parse_str(s).map_err(data)
}
fn seal_json<T: Serialize>(key: &SecretKey, aad: &[u8], v: &T) -> Result<Vec<u8>> {
    let plain = serde_json::to_vec(v).map_err(data)?;
    Ok(key.seal(aad, &plain)?)
}
fn open_json<T: serde::de::DeserializeOwned>(key: &SecretKey, aad: &[u8], ct: &[u8]) -> Result<T> {
    let plain = key.open(aad, ct)?;
    serde_json::from_slice(&plain).map_err(data)
}

#[derive(Serialize, Deserialize, Default, utoipa::ToSchema)]
struct PerpetratorSealed {
    #[serde(default)]
    details: Option<String>,
}

#[derive(Serialize, Deserialize, Default, utoipa::ToSchema)]
struct DependantSealed {
    #[serde(default)]
    whereabouts: Option<String>,
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
        append(
            &mut tx,
            &ctx.entry(audit_action, "success", cs),
            millis(ctx.now),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    // ------------------------------------------------------------ trafficking events

    /// Adds a trafficking event (victim-context section).
    pub async fn add_trafficking_event(
        &self,
        ctx: &Ctx<'_>,
        case: Uuid,
        input: EventInput,
    ) -> Result<EventView> {
        let access = self.authorize_case(ctx, Action::UpdateCase, case).await?;
        self.require(ctx, &access, Action::ReadSection(rules::EVENTS_SECTION))
            .await?;
        let e = input.validate(crate::followup::today(ctx.now))?;
        let id = Uuid::new_v4();
        let ids = id.to_string();
        let date = e.date.map(|d| {
            d.format(format_description!("[year]-[month]-[day]"))
                .unwrap_or_default()
        });
        let cs = case.to_string();
        let now = millis(ctx.now);
        self.record_write(ctx, &access, "record.event.add", async |tx, key| {
            let sealed = seal_json(
                key,
                &field_aad("trafficking_events", "sealed", &ids, "case"),
                &e.sealed,
            )?;
            sqlx::query(
                "INSERT INTO trafficking_events (id, case_id, hte_type, hte_country, hte_city, hte_state, hte_date, sealed, created_by, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
            )
            .bind(&ids)
            .bind(&cs)
            .bind(e.kind.as_str())
            .bind(e.country.as_deref())
            .bind(e.city.as_deref())
            .bind(e.state.as_deref())
            .bind(date.as_deref())
            .bind(sealed)
            .bind(ctx.actor.user_id.to_string())
            .bind(now)
            .execute(&mut *tx)
            .await?;
            Store::case_event(tx, ctx, &access, "record.event", e.kind.as_str()).await
        })
        .await?;
        Ok(EventView {
            id,
            kind: e.kind,
            country: e.country,
            city: e.city,
            state: e.state,
            date,
            sealed: e.sealed,
            created_at: ts(now),
            entered_ms: now,
        })
    }

    /// The case's trafficking events in chronological order, sealed parts opened (audited).
    pub async fn trafficking_events(&self, ctx: &Ctx<'_>, case: Uuid) -> Result<Vec<EventView>> {
        let access = self
            .authorize_case(ctx, Action::ReadSection(rules::EVENTS_SECTION), case)
            .await?;
        let cs = case.to_string();
        let mut conn = self.pool.acquire().await?;
        let rows = sqlx::query(
            "SELECT id, hte_type, hte_country, hte_city, hte_state, hte_date, sealed, created_at \
             FROM trafficking_events WHERE case_id = $1",
        )
        .bind(&cs)
        .fetch_all(&mut *conn)
        .await?;
        if rows.is_empty() {
            return Ok(vec![]);
        }
        let key = self.case_key(&mut conn, &access).await?;
        drop(conn);
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            let id: String = r.try_get("id")?;
            let kind: String = r.try_get("hte_type")?;
            let sealed: EventSealed = match r.try_get::<Option<Vec<u8>>, _>("sealed")? {
                Some(ct) => open_json(
                    &key,
                    &field_aad("trafficking_events", "sealed", &id, "case"),
                    &ct,
                )?,
                None => EventSealed::default(),
            };
            let at: i64 = r.try_get("created_at")?;
            out.push(EventView {
                id: uuid_of(&id)?,
                kind: EventType::parse(&kind).map_err(|e| data(e.message))?,
                country: r.try_get("hte_country")?,
                city: r.try_get("hte_city")?,
                state: r.try_get("hte_state")?,
                date: r.try_get("hte_date")?,
                sealed,
                created_at: ts(at),
                entered_ms: at,
            });
        }
        rules::sort_chronologically(&mut out);
        self.audit(ctx.entry("record.events.read", "success", &cs), ctx.now)
            .await?;
        Ok(out)
    }

    /// Removes an event recorded in error.
    pub async fn delete_trafficking_event(
        &self,
        ctx: &Ctx<'_>,
        case: Uuid,
        id: Uuid,
    ) -> Result<()> {
        let access = self.authorize_case(ctx, Action::UpdateCase, case).await?;
        self.delete_row(
            ctx,
            &access,
            id,
            "trafficking_events",
            "record.event.delete",
        )
        .await
    }

    async fn delete_row(
        &self,
        ctx: &Ctx<'_>,
        access: &CaseAccess,
        id: Uuid,
        table: &'static str,
        audit_action: &'static str,
    ) -> Result<()> {
        let cs = access.id_str();
        let mut tx = self.begin_write().await?;
        // `table` is one of this module's constant table names, never input.
        let q = format!("DELETE FROM {table} WHERE id = $1 AND case_id = $2");
        let n = sqlx::query(sqlx::AssertSqlSafe(q))
            .bind(id.to_string())
            .bind(cs)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if n != 1 {
            return Err(StoreError::NotFound);
        }
        Store::case_event(&mut tx, ctx, access, "record.removed", table).await?;
        append(
            &mut tx,
            &ctx.entry(audit_action, "success", cs),
            millis(ctx.now),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    // ------------------------------------------------------------ perpetrator roles

    /// Adds one perpetrator's roles (legal section); no perpetrator identity is kept.
    pub async fn add_perpetrator(
        &self,
        ctx: &Ctx<'_>,
        case: Uuid,
        input: PerpetratorInput,
    ) -> Result<PerpetratorView> {
        let access = self.authorize_case(ctx, Action::UpdateCase, case).await?;
        self.require(
            ctx,
            &access,
            Action::ReadSection(rules::PERPETRATORS_SECTION),
        )
        .await?;
        let p = input.validate()?;
        let id = Uuid::new_v4();
        let ids = id.to_string();
        let cs = case.to_string();
        let now = millis(ctx.now);
        self.record_write(ctx, &access, "record.perpetrator.add", async |tx, key| {
            let sealed = match &p.details {
                Some(d) => Some(seal_json(
                    key,
                    &field_aad("perpetrator_roles", "sealed", &ids, "case"),
                    &PerpetratorSealed {
                        details: Some(d.clone()),
                    },
                )?),
                None => None,
            };
            sqlx::query(
                "INSERT INTO perpetrator_roles (id, case_id, per_role_in_process, sealed, created_by, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(&ids)
            .bind(&cs)
            .bind(rules::encode_roles(&p.roles))
            .bind(sealed)
            .bind(ctx.actor.user_id.to_string())
            .bind(now)
            .execute(&mut *tx)
            .await?;
            Store::case_event(tx, ctx, &access, "record.perpetrator", "").await
        })
        .await?;
        Ok(PerpetratorView {
            id,
            roles: p.roles,
            details: p.details,
            created_at: ts(now),
        })
    }

    pub async fn perpetrators(&self, ctx: &Ctx<'_>, case: Uuid) -> Result<Vec<PerpetratorView>> {
        let access = self
            .authorize_case(ctx, Action::ReadSection(rules::PERPETRATORS_SECTION), case)
            .await?;
        let cs = case.to_string();
        let mut conn = self.pool.acquire().await?;
        let rows = sqlx::query(
            "SELECT id, per_role_in_process, sealed, created_at FROM perpetrator_roles \
             WHERE case_id = $1 ORDER BY created_at, id",
        )
        .bind(&cs)
        .fetch_all(&mut *conn)
        .await?;
        if rows.is_empty() {
            return Ok(vec![]);
        }
        let key = self.case_key(&mut conn, &access).await?;
        drop(conn);
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            let id: String = r.try_get("id")?;
            let roles: String = r.try_get("per_role_in_process")?;
            let sealed: PerpetratorSealed = match r.try_get::<Option<Vec<u8>>, _>("sealed")? {
                Some(ct) => open_json(
                    &key,
                    &field_aad("perpetrator_roles", "sealed", &id, "case"),
                    &ct,
                )?,
                None => PerpetratorSealed::default(),
            };
            out.push(PerpetratorView {
                id: uuid_of(&id)?,
                roles: rules::decode_roles(&roles).map_err(|e| data(e.message))?,
                details: sealed.details,
                created_at: ts(r.try_get("created_at")?),
            });
        }
        self.audit(
            ctx.entry("record.perpetrators.read", "success", &cs),
            ctx.now,
        )
        .await?;
        Ok(out)
    }

    pub async fn delete_perpetrator(&self, ctx: &Ctx<'_>, case: Uuid, id: Uuid) -> Result<()> {
        let access = self.authorize_case(ctx, Action::UpdateCase, case).await?;
        self.delete_row(
            ctx,
            &access,
            id,
            "perpetrator_roles",
            "record.perpetrator.delete",
        )
        .await
    }

    // ------------------------------------------------------------ dependants

    async fn declared_children(conn: &mut AnyConnection, cs: &str) -> Result<Option<i64>> {
        let r = sqlx::query(
            "SELECT value FROM case_values WHERE case_id = $1 AND field = 'prs_NumberOfChildren'",
        )
        .bind(cs)
        .fetch_optional(&mut *conn)
        .await?;
        Ok(match r {
            Some(r) => r.try_get::<String, _>("value")?.parse().ok(),
            None => None,
        })
    }

    async fn recorded_children(conn: &mut AnyConnection, cs: &str) -> Result<i64> {
        let counted: Vec<&str> = Relation::ALL
            .iter()
            .filter(|r| r.counts_as_child())
            .map(|r| r.as_str())
            .collect();
        let mut n = 0;
        for rel in counted {
            let r = sqlx::query(
                "SELECT COUNT(*) AS n FROM dependants WHERE case_id = $1 AND relation = $2",
            )
            .bind(cs)
            .bind(rel)
            .fetch_one(&mut *conn)
            .await?;
            n += r.try_get::<i64, _>("n")?;
        }
        Ok(n)
    }

    /// Links a dependant to the case (plan section). A child beyond a set
    /// `prs_NumberOfChildren` is refused (`dayaq_domain::record::check_new_dependant`).
    pub async fn add_dependant(
        &self,
        ctx: &Ctx<'_>,
        case: Uuid,
        input: DependantInput,
    ) -> Result<DependantView> {
        let access = self.authorize_case(ctx, Action::UpdateCase, case).await?;
        self.require(ctx, &access, Action::ReadSection(rules::DEPENDANTS_SECTION))
            .await?;
        let today = crate::followup::today(ctx.now);
        let d = input.validate(today)?;
        let id = Uuid::new_v4();
        let ids = id.to_string();
        let cs = case.to_string();
        let now = millis(ctx.now);
        self.record_write(ctx, &access, "record.dependant.add", async |tx, key| {
            // Checked inside the write transaction, so two concurrent additions cannot both
            // pass the count.
            let declared = Self::declared_children(tx, &cs).await?;
            let recorded = Self::recorded_children(tx, &cs).await?;
            rules::check_new_dependant(d.relation, declared, recorded)
                .map_err(ValidationErrors::single)?;
            let sealed = match &d.whereabouts {
                Some(w) => Some(seal_json(
                    key,
                    &field_aad("dependants", "sealed", &ids, "case"),
                    &DependantSealed {
                        whereabouts: Some(w.clone()),
                    },
                )?),
                None => None,
            };
            sqlx::query(
                "INSERT INTO dependants (id, case_id, relation, prs_gender, birth_year, with_victim, needs_schooling, needs_childcare, sealed, created_by, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
            )
            .bind(&ids)
            .bind(&cs)
            .bind(d.relation.as_str())
            .bind(d.gender.map(|g| g.as_str()))
            .bind(d.birth_year.map(i64::from))
            .bind(i64::from(d.with_victim))
            .bind(i64::from(d.needs_schooling))
            .bind(i64::from(d.needs_childcare))
            .bind(sealed)
            .bind(ctx.actor.user_id.to_string())
            .bind(now)
            .execute(&mut *tx)
            .await?;
            Store::case_event(tx, ctx, &access, "record.dependant", d.relation.as_str()).await
        })
        .await?;
        Ok(DependantView {
            id,
            relation: d.relation,
            gender: d.gender,
            birth_year: d.birth_year,
            age: d.birth_year.map(|y| today.year() - y),
            with_victim: d.with_victim,
            whereabouts: d.whereabouts,
            needs_schooling: d.needs_schooling,
            needs_childcare: d.needs_childcare,
            created_at: ts(now),
        })
    }

    /// The dependants and how the child records compare with `prs_NumberOfChildren`.
    pub async fn dependants(&self, ctx: &Ctx<'_>, case: Uuid) -> Result<DependantsView> {
        let access = self
            .authorize_case(ctx, Action::ReadSection(rules::DEPENDANTS_SECTION), case)
            .await?;
        let cs = case.to_string();
        let year = crate::followup::today(ctx.now).year();
        let mut conn = self.pool.acquire().await?;
        let declared = Self::declared_children(&mut conn, &cs).await?;
        let recorded = Self::recorded_children(&mut conn, &cs).await?;
        let rows = sqlx::query(
            "SELECT id, relation, prs_gender, birth_year, with_victim, needs_schooling, needs_childcare, sealed, created_at \
             FROM dependants WHERE case_id = $1 ORDER BY created_at, id",
        )
        .bind(&cs)
        .fetch_all(&mut *conn)
        .await?;
        let mut out = Vec::with_capacity(rows.len());
        if !rows.is_empty() {
            let key = self.case_key(&mut conn, &access).await?;
            for r in rows {
                let id: String = r.try_get("id")?;
                let rel: String = r.try_get("relation")?;
                let gender: Option<String> = r.try_get("prs_gender")?;
                let birth_year = r
                    .try_get::<Option<i64>, _>("birth_year")?
                    .and_then(|y| i32::try_from(y).ok());
                let sealed: DependantSealed = match r.try_get::<Option<Vec<u8>>, _>("sealed")? {
                    Some(ct) => {
                        open_json(&key, &field_aad("dependants", "sealed", &id, "case"), &ct)?
                    }
                    None => DependantSealed::default(),
                };
                out.push(DependantView {
                    id: uuid_of(&id)?,
                    relation: Relation::parse(&rel).map_err(|e| data(e.message))?,
                    gender: match gender {
                        Some(g) => Some(Gender::parse(&g).map_err(|e| data(e.message))?),
                        None => None,
                    },
                    birth_year,
                    age: birth_year.map(|y| year - y),
                    with_victim: r.try_get::<i64, _>("with_victim")? != 0,
                    needs_schooling: r.try_get::<i64, _>("needs_schooling")? != 0,
                    needs_childcare: r.try_get::<i64, _>("needs_childcare")? != 0,
                    whereabouts: sealed.whereabouts,
                    created_at: ts(r.try_get("created_at")?),
                });
            }
            drop(conn);
            self.audit(ctx.entry("record.dependants.read", "success", &cs), ctx.now)
                .await?;
        }
        Ok(DependantsView {
            children: rules::children_count(declared, recorded),
            dependants: out,
        })
    }

    pub async fn delete_dependant(&self, ctx: &Ctx<'_>, case: Uuid, id: Uuid) -> Result<()> {
        let access = self.authorize_case(ctx, Action::UpdateCase, case).await?;
        self.delete_row(ctx, &access, id, "dependants", "record.dependant.delete")
            .await
    }

    // ------------------------------------------------------------ status and history

    pub(crate) async fn current_status(conn: &mut AnyConnection, cs: &str) -> Result<CaseStatus> {
        let r = sqlx::query("SELECT cas_status FROM cases WHERE id = $1 AND erased_at IS NULL")
            .bind(cs)
            .fetch_optional(&mut *conn)
            .await?
            .ok_or(StoreError::NotFound)?;
        CaseStatus::parse(&r.try_get::<String, _>("cas_status")?).map_err(|e| data(e.message))
    }

    /// Sets `cases.cas_status` (compare-and-set on the previous status) and the sealed
    /// closure reason, and appends a history entry. In the caller's transaction.
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn write_status(
        conn: &mut AnyConnection,
        ctx: &Ctx<'_>,
        key: &SecretKey,
        access: &CaseAccess,
        from: Option<CaseStatus>,
        to: CaseStatus,
        kind: StatusChange,
        reason: Option<&str>,
        bump_version: bool,
    ) -> Result<()> {
        let cs = access.id_str();
        let now = millis(ctx.now);
        if let Some(from) = from {
            let closure = match (kind, reason) {
                (StatusChange::Close, Some(r)) => {
                    Some(key.seal(&field_aad("cases", "closure", cs, "case"), r.as_bytes())?)
                }
                _ => None,
            };
            let n = sqlx::query(
                "UPDATE cases SET cas_status = $1, closure = $2, version = version + $3, updated_at = $4 \
                 WHERE id = $5 AND cas_status = $6 AND erased_at IS NULL",
            )
            .bind(to.as_str())
            .bind(closure)
            .bind(i64::from(bump_version))
            .bind(now)
            .bind(cs)
            .bind(from.as_str())
            .execute(&mut *conn)
            .await?
            .rows_affected();
            if n != 1 {
                return Err(StoreError::Conflict);
            }
        }
        let seq: i64 = sqlx::query(
            "SELECT COALESCE(MAX(seq), 0) + 1 AS next_seq FROM case_status_history WHERE case_id = $1",
        )
        .bind(cs)
        .fetch_one(&mut *conn)
        .await?
        .try_get("next_seq")?;
        let id = Uuid::new_v4().to_string();
        let sealed = match reason {
            Some(r) => Some(key.seal(
                &field_aad("case_status_history", "reason", &id, "case"),
                r.as_bytes(),
            )?),
            None => None,
        };
        sqlx::query(
            "INSERT INTO case_status_history (id, case_id, seq, kind, from_status, to_status, reason, actor_user, at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(&id)
        .bind(cs)
        .bind(seq)
        .bind(kind.as_str())
        .bind(from.map(|f| f.as_str()))
        .bind(to.as_str())
        .bind(sealed)
        .bind(ctx.actor.user_id.to_string())
        .bind(now)
        .execute(&mut *conn)
        .await?;
        let detail = match from {
            Some(f) => format!("{}->{}", f.as_str(), to.as_str()),
            None => to.as_str().to_string(),
        };
        let event = match kind {
            StatusChange::Change => "record.status",
            StatusChange::Close => "record.closed",
            StatusChange::Reopen => "record.reopened",
            StatusChange::NewEpisode => "record.episode",
        };
        Store::case_event(conn, ctx, access, event, &detail).await
    }

    /// Changes the status of an open case; closing needs `cas_ReasonForCaseClosure`.
    pub async fn change_status(
        &self,
        ctx: &Ctx<'_>,
        case: Uuid,
        input: &StatusInput,
    ) -> Result<StatusView> {
        let access = self.authorize_case(ctx, Action::UpdateCase, case).await?;
        if matches!(
            CaseStatus::parse(&input.status),
            Ok(CaseStatus::Closed | CaseStatus::ClosedReferred)
        ) {
            self.require(ctx, &access, Action::CloseCase).await?;
        }
        let cs = case.to_string();
        let mut tx = self.begin_write().await?;
        let from = Self::current_status(&mut tx, &cs).await?;
        let (to, kind, reason) =
            rules::check_status_change(from, &input.status, input.reason.as_deref())?;
        let key = self.case_key(&mut tx, &access).await?;
        Self::write_status(
            &mut tx,
            ctx,
            &key,
            &access,
            Some(from),
            to,
            kind,
            reason.as_deref(),
            true,
        )
        .await?;
        let action = if kind == StatusChange::Close {
            "record.status.close"
        } else {
            "record.status.change"
        };
        append(&mut tx, &ctx.entry(action, "success", &cs), millis(ctx.now)).await?;
        tx.commit().await?;
        self.status_view_of(ctx, &access).await
    }

    /// Reopens a closed case (explicit act, reason required, kept in the history).
    pub async fn reopen_case(
        &self,
        ctx: &Ctx<'_>,
        case: Uuid,
        input: &ReopenInput,
    ) -> Result<StatusView> {
        let access = self.authorize_case(ctx, Action::ReopenCase, case).await?;
        let cs = case.to_string();
        let mut tx = self.begin_write().await?;
        let from = Self::current_status(&mut tx, &cs).await?;
        let (to, reason) =
            rules::check_reopen(from, input.status.as_deref(), input.reason.as_deref())?;
        let key = self.case_key(&mut tx, &access).await?;
        Self::write_status(
            &mut tx,
            ctx,
            &key,
            &access,
            Some(from),
            to,
            StatusChange::Reopen,
            Some(&reason),
            true,
        )
        .await?;
        append(
            &mut tx,
            &ctx.entry("record.status.reopen", "success", &cs),
            millis(ctx.now),
        )
        .await?;
        tx.commit().await?;
        self.status_view_of(ctx, &access).await
    }

    /// The current status and its history. Reasons are opened only for readers of the notes
    /// section (audited when any is returned).
    pub async fn status_view(&self, ctx: &Ctx<'_>, case: Uuid) -> Result<StatusView> {
        let access = self.authorize_case(ctx, Action::ReadCase, case).await?;
        self.status_view_of(ctx, &access).await
    }

    /// [`Store::status_view`] of a checked case (also the answer of a status write).
    async fn status_view_of(&self, ctx: &Ctx<'_>, access: &CaseAccess) -> Result<StatusView> {
        let with_reasons = access.may(Action::ReadSection(rules::STATUS_REASON_SECTION));
        let cs = access.id_str().to_string();
        let mut conn = self.pool.acquire().await?;
        let status = Self::current_status(&mut conn, &cs).await?;
        let rows = sqlx::query(
            "SELECT h.id, h.seq, h.kind, h.from_status, h.to_status, h.reason, h.at, u.username \
             FROM case_status_history h LEFT JOIN users u ON u.id = h.actor_user \
             WHERE h.case_id = $1 ORDER BY h.seq",
        )
        .bind(&cs)
        .fetch_all(&mut *conn)
        .await?;
        let key = if with_reasons && !rows.is_empty() {
            Some(self.case_key(&mut conn, access).await?)
        } else {
            None
        };
        drop(conn);
        let mut history = Vec::with_capacity(rows.len());
        let mut opened = false;
        for r in rows {
            let id: String = r.try_get("id")?;
            let kind: String = r.try_get("kind")?;
            let from: Option<String> = r.try_get("from_status")?;
            let to: String = r.try_get("to_status")?;
            let reason = match (&key, r.try_get::<Option<Vec<u8>>, _>("reason")?) {
                (Some(k), Some(ct)) => {
                    opened = true;
                    let p = k.open(
                        &field_aad("case_status_history", "reason", &id, "case"),
                        &ct,
                    )?;
                    Some(String::from_utf8_lossy(&p).into_owned())
                }
                _ => None,
            };
            history.push(StatusEntry {
                seq: r.try_get("seq")?,
                at: ts(r.try_get("at")?),
                kind: StatusChange::parse(&kind).ok_or_else(|| data("unknown status change"))?,
                from: match from {
                    Some(f) => Some(CaseStatus::parse(&f).map_err(|e| data(e.message))?),
                    None => None,
                },
                to: CaseStatus::parse(&to).map_err(|e| data(e.message))?,
                reason,
                actor: r
                    .try_get::<Option<String>, _>("username")?
                    .unwrap_or_default(),
            });
        }
        if opened {
            self.audit(ctx.entry("record.status.read", "success", &cs), ctx.now)
                .await?;
        }
        Ok(StatusView { status, history })
    }

    // ------------------------------------------------------------ episodes

    /// (series id, episode, previous case) of a case; a case without a row is episode 1 of
    /// its own series.
    async fn episode_of(
        conn: &mut AnyConnection,
        cs: &str,
    ) -> Result<(String, i64, Option<String>)> {
        let r = sqlx::query(
            "SELECT series_id, episode, previous_case_id FROM case_episodes WHERE case_id = $1",
        )
        .bind(cs)
        .fetch_optional(&mut *conn)
        .await?;
        Ok(match r {
            Some(r) => (
                r.try_get("series_id")?,
                r.try_get("episode")?,
                r.try_get("previous_case_id")?,
            ),
            None => (cs.to_string(), 1, None),
        })
    }

    async fn next_of(conn: &mut AnyConnection, cs: &str) -> Result<Option<String>> {
        Ok(
            sqlx::query("SELECT case_id FROM case_episodes WHERE previous_case_id = $1")
                .bind(cs)
                .fetch_optional(&mut *conn)
                .await?
                .map(|r| r.try_get::<String, _>("case_id"))
                .transpose()?,
        )
    }

    /// Opens a new episode (re-trafficking) of the person of case `case`: a new Active case in
    /// the actor's organisation with the same identity (re-sealed under the new case's key),
    /// gender, citizenship and person attributes, linked both ways to the previous case. The
    /// previous case must be the latest episode and no longer Active. Returns the new case id.
    pub async fn open_episode(
        &self,
        ctx: &Ctx<'_>,
        case: Uuid,
        input: &EpisodeInput,
    ) -> Result<Uuid> {
        let access = self.authorize_case(ctx, Action::OpenEpisode, case).await?;
        self.require(
            ctx,
            &access,
            Action::ReadSection(dayaq_domain::policy::Section::Identity),
        )
        .await?;
        self.authorize_org(ctx, Action::CreateCase)?;
        let prev = case.to_string();
        // Read the person's identity and attributes from the previous case.
        let (identity, gender, citizenship, context) = {
            let mut conn = self.pool.acquire().await?;
            let key = self.case_key(&mut conn, &access).await?;
            let r = sqlx::query("SELECT identity, prs_gender FROM cases WHERE id = $1")
                .bind(&prev)
                .fetch_one(&mut *conn)
                .await?;
            let identity: Identity = match r.try_get::<Option<Vec<u8>>, _>("identity")? {
                Some(ct) => open_json(&key, &field_aad("cases", "identity", &prev, "case"), &ct)?,
                None => Identity::default(),
            };
            let gender = match r.try_get::<Option<String>, _>("prs_gender")? {
                Some(g) => Some(Gender::parse(&g).map_err(|e| data(e.message))?),
                None => None,
            };
            let values = self.values_for(std::slice::from_ref(&prev)).await?;
            let values = values.get(&prev).cloned().unwrap_or_default();
            let citizenship: Vec<String> = values
                .iter()
                .filter(|(f, _)| f == "prs_Citizenship")
                .map(|(_, v)| v.clone())
                .collect();
            let full = dayaq_domain::case::VictimContext::from_values(&values);
            // Person attributes carry over; the circumstances of the new trafficking do not.
            let context = dayaq_domain::case::VictimContext {
                marital_status: full.marital_status,
                number_of_children: full.number_of_children,
                primary_language: full.primary_language,
                secondary_language: full.secondary_language,
                ..Default::default()
            };
            (identity, gender, citizenship, context)
        };
        let mut identity = identity;
        // Case notes belong to the previous episode.
        identity.notes = None;
        let valid = dayaq_domain::case::ValidCase {
            identity,
            context,
            gender,
            citizenship,
            age_when_trafficked: None,
            types_of_exploitation: vec![],
            status: CaseStatus::Active,
            reason_for_closure: None,
        };
        let prepared = self.prepare_cases(ctx.now, std::slice::from_ref(&valid))?;
        let new_id = prepared
            .first()
            .map(|p| p.id.clone())
            .ok_or_else(|| data("no case prepared"))?;
        let now = millis(ctx.now);
        let mut tx = self.begin_write().await?;
        let prev_status = Self::current_status(&mut tx, &prev).await?;
        let latest = Self::next_of(&mut tx, &prev).await?.is_none();
        let reason = rules::check_new_episode(prev_status, latest, input.reason.as_deref())?;
        let (series, episode, _) = Self::episode_of(&mut tx, &prev).await?;
        self.insert_prepared(&mut tx, ctx, &prepared, "").await?;
        if episode == 1 {
            // Make the first episode explicit (idempotent: no row yet for it).
            sqlx::query(
                "INSERT INTO case_episodes (case_id, series_id, episode, previous_case_id, created_at) \
                 SELECT $1, $2, 1, NULL, $3 WHERE NOT EXISTS (SELECT 1 FROM case_episodes WHERE case_id = $4)",
            )
            .bind(&prev)
            .bind(&series)
            .bind(now)
            .bind(&prev)
            .execute(&mut *tx)
            .await?;
        }
        sqlx::query(
            "INSERT INTO case_episodes (case_id, series_id, episode, previous_case_id, created_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(&new_id)
        .bind(&series)
        .bind(episode + 1)
        .bind(&prev)
        .bind(now)
        .execute(&mut *tx)
        .await
        .map_err(|e| crate::unique_as(e, "episode"))?;
        let new_access = self.new_case_access(ctx, &new_id)?;
        let key = self.case_key(&mut tx, &new_access).await?;
        Self::write_status(
            &mut tx,
            ctx,
            &key,
            &new_access,
            None,
            CaseStatus::Active,
            StatusChange::NewEpisode,
            Some(&reason),
            true,
        )
        .await?;
        Store::case_event(&mut tx, ctx, &access, "record.next-episode", &new_id).await?;
        append(
            &mut tx,
            &ctx.entry("record.episode.open", "success", &prev),
            now,
        )
        .await?;
        append(&mut tx, &ctx.entry("case.create", "success", &new_id), now).await?;
        tx.commit().await?;
        uuid_of(&new_id)
    }

    /// The person's series of episodes as seen from case `case` (links both ways). Other
    /// episodes the actor may not read are listed by number only.
    pub async fn episodes(&self, ctx: &Ctx<'_>, case: Uuid) -> Result<Episodes> {
        self.authorize_case(ctx, Action::ReadCase, case).await?;
        let cs = case.to_string();
        let mut conn = self.pool.acquire().await?;
        let (series, episode, previous) = Self::episode_of(&mut conn, &cs).await?;
        let next = Self::next_of(&mut conn, &cs).await?;
        let rows = sqlx::query(
            "SELECT e.case_id, e.episode, c.case_number, c.cas_status FROM case_episodes e \
             JOIN cases c ON c.id = e.case_id WHERE e.series_id = $1 ORDER BY e.episode",
        )
        .bind(&series)
        .fetch_all(&mut *conn)
        .await?;
        drop(conn);
        let mut out = Vec::new();
        for r in rows {
            let id = uuid_of(&r.try_get::<String, _>("case_id")?)?;
            let n: i64 = r.try_get("episode")?;
            let visible = self
                .access_if_allowed(ctx, Action::ReadCase, id)
                .await?
                .is_some();
            let status: String = r.try_get("cas_status")?;
            out.push(EpisodeRef {
                episode: n,
                case_id: visible.then_some(id),
                case_number: if visible {
                    Some(r.try_get("case_number")?)
                } else {
                    None
                },
                status: if visible {
                    Some(CaseStatus::parse(&status).map_err(|e| data(e.message))?)
                } else {
                    None
                },
                accessible: visible,
                current: id == case,
            });
        }
        let visible_id = |s: Option<String>| -> Result<Option<Uuid>> {
            Ok(match s {
                Some(s) => {
                    let id = uuid_of(&s)?;
                    out.iter().any(|e| e.case_id == Some(id)).then_some(id)
                }
                None => None,
            })
        };
        Ok(Episodes {
            episode,
            previous_case: visible_id(previous)?,
            next_case: visible_id(next)?,
            series: out,
        })
    }
}
