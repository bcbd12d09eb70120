//! The case status and its history: changes, closure, explicit reopening.
use super::*;
use crate::kernel::case_keys::open_text;

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

impl Store {
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
        self.status_step(ctx, &access, |from| {
            Ok(rules::check_status_change(
                from,
                &input.status,
                input.reason.as_deref(),
            )?)
        })
        .await
    }

    /// Reopens a closed case (explicit act, reason required, kept in the history).
    pub async fn reopen_case(
        &self,
        ctx: &Ctx<'_>,
        case: Uuid,
        input: &ReopenInput,
    ) -> Result<StatusView> {
        let access = self.authorize_case(ctx, Action::ReopenCase, case).await?;
        self.status_step(ctx, &access, |from| {
            let (to, reason) =
                rules::check_reopen(from, input.status.as_deref(), input.reason.as_deref())?;
            Ok((to, StatusChange::Reopen, Some(reason)))
        })
        .await
    }

    /// One step of the checked case's status: `step` checks it from the current status
    /// (the domain's rules) and gives the new status, the kind of change and the reason;
    /// written with its history entry, audited by kind. Gives the status view back.
    async fn status_step(
        &self,
        ctx: &Ctx<'_>,
        access: &CaseAccess,
        step: impl FnOnce(CaseStatus) -> Result<(CaseStatus, StatusChange, Option<String>)>,
    ) -> Result<StatusView> {
        let mut w = self.write_case(ctx, access).await?;
        let from = Self::current_status(&mut w, access.id_str()).await?;
        let (to, kind, reason) = step(from)?;
        let key = self.case_key(&mut w, access).await?;
        Self::write_status(
            &mut w,
            ctx,
            &key,
            access,
            Some(from),
            to,
            kind,
            reason.as_deref(),
            true,
        )
        .await?;
        let action = match kind {
            StatusChange::Close => "record.status.close",
            StatusChange::Reopen => "record.status.reopen",
            _ => "record.status.change",
        };
        w.commit(action, String::new()).await?;
        self.status_view_of(ctx, access).await
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
            let reason = match &key {
                Some(k) => open_text(
                    k,
                    "case_status_history",
                    "reason",
                    &id,
                    r.try_get("reason")?,
                )?,
                None => None,
            };
            opened |= reason.is_some();
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
            self.audit_read(ctx, access, "record.status.read").await?;
        }
        Ok(StatusView { status, history })
    }
}
