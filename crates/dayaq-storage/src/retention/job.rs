//! The facts the due-rule needs, the preview of what the job erases, and the daily run.
use super::*;
use crate::audit::AuditEntry;
use crate::kernel::{Acting, from_millis, millis, uuid_of};
use dayaq_domain::retention::{self, Due, Fact, RecordKind};
use dayaq_domain::vocab::CaseStatus;
use dayaq_domain::{FieldError, ValidationErrors};
use serde::Serialize;
use sqlx::Row;
use time::{Date, OffsetDateTime};

/// The longest preview horizon, in days (ten years).
pub const MAX_PREVIEW_DAYS: u32 = 3660;

/// One record the job erases (ids only).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct DueRecord {
    pub kind: RecordKind,
    /// The case id, the contact id, or the session's public id.
    pub id: Uuid,
    /// The day its retention ends (YYYY-MM-DD, UTC).
    pub due_on: String,
}

/// "These `count` records of `kind` will be erased on `erased_on`".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct PreviewGroup {
    pub kind: RecordKind,
    /// The run that erases them (YYYY-MM-DD): the due day, or today for overdue records.
    pub erased_on: String,
    pub count: u64,
}

/// What the daily job erases from today to `until`, for one organisation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct RetentionPreview {
    pub org_id: Uuid,
    pub today: String,
    pub until: String,
    pub horizon_days: u32,
    pub total: u64,
    pub groups: Vec<PreviewGroup>,
    pub records: Vec<DueRecord>,
}

/// What one run did (counts only).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct RunReport {
    pub day: String,
    pub organisations: u64,
    pub case_identity: u64,
    pub case_notes: u64,
    pub contacts_without_case: u64,
    pub sessions: u64,
    /// Records left for the next run (a hold set, or a case reopened, since the facts were
    /// read; or an error, logged without ids).
    pub skipped: u64,
}

impl RunReport {
    fn detail(&self) -> String {
        format!(
            "orgs={} case_identity={} case_notes={} contacts_without_case={} sessions={} skipped={}",
            self.organisations,
            self.case_identity,
            self.case_notes,
            self.contacts_without_case,
            self.sessions,
            self.skipped
        )
    }
}

fn day_text(d: Date) -> String {
    format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}

fn day_of(ms: i64) -> Date {
    from_millis(ms).date()
}

fn check_days(days: i64) -> Result<u32> {
    u32::try_from(days)
        .ok()
        .filter(|d| *d <= MAX_PREVIEW_DAYS)
        .ok_or_else(|| {
            StoreError::Invalid(ValidationErrors::single(FieldError::new(
                "days",
                "out_of_range",
                format!("between 0 and {MAX_PREVIEW_DAYS} days"),
            )))
        })
}

impl Store {
    /// What the rules can expire in `org`: closed cases (closure day, hold, notes left),
    /// contacts without a case, sign-in sessions of its users. Ids and times only.
    async fn retention_facts(&self, org: Uuid) -> Result<Vec<Fact>> {
        let o = org.to_string();
        let mut facts = Vec::new();
        let cases = sqlx::query(
            "SELECT c.id, c.updated_at, \
               (SELECT MAX(h.at) FROM case_status_history h WHERE h.case_id = c.id AND h.kind = 'close') AS closed_at, \
               CAST((SELECT COUNT(*) FROM retention_holds r WHERE r.case_id = c.id) AS BIGINT) AS held, \
               CAST((SELECT COUNT(*) FROM case_status_history h2 WHERE h2.case_id = c.id AND h2.reason IS NOT NULL) \
                  + (SELECT COUNT(*) FROM assessment_needs n JOIN needs_assessments a ON a.id = n.assessment_id \
                     WHERE a.case_id = c.id AND n.notes IS NOT NULL) AS BIGINT) AS notes \
             FROM cases c WHERE c.owner_org_id = $1 AND c.erased_at IS NULL AND c.cas_status IN ($2, $3)",
        )
        .bind(&o)
        .bind(CaseStatus::Closed.as_str())
        .bind(CaseStatus::ClosedReferred.as_str())
        .fetch_all(&self.pool)
        .await?;
        for r in cases {
            // A case closed without a status history entry (an import) counts from its last
            // change.
            let closed: Option<i64> = r.try_get("closed_at")?;
            let closed = match closed {
                Some(c) => c,
                None => r.try_get("updated_at")?,
            };
            facts.push(Fact::ClosedCase {
                id: uuid_of(&r.try_get::<String, _>("id")?)?,
                closed_on: day_of(closed),
                held: r.try_get::<i64, _>("held")? > 0,
                has_notes: r.try_get::<i64, _>("notes")? > 0,
            });
        }
        let contacts = sqlx::query(
            "SELECT id, created_at FROM contacts WHERE org_id = $1 AND case_id IS NULL",
        )
        .bind(&o)
        .fetch_all(&self.pool)
        .await?;
        for r in contacts {
            facts.push(Fact::ContactWithoutCase {
                id: uuid_of(&r.try_get::<String, _>("id")?)?,
                on: day_of(r.try_get("created_at")?),
            });
        }
        let sessions = sqlx::query(
            "SELECT s.public_id, s.last_seen FROM sessions s JOIN users u ON u.id = s.user_id WHERE u.org_id = $1",
        )
        .bind(&o)
        .fetch_all(&self.pool)
        .await?;
        for r in sessions {
            facts.push(Fact::Session {
                id: uuid_of(&r.try_get::<String, _>("public_id")?)?,
                on: day_of(r.try_get("last_seen")?),
            });
        }
        Ok(facts)
    }

    /// The records of `org` due on or before `today + days`.
    async fn retention_due(&self, org: Uuid, today: Date, days: u32) -> Result<Vec<Due>> {
        let (rules, _) = self.retention_rules_of(org).await?;
        let facts = self.retention_facts(org).await?;
        Ok(retention::due(&rules, &facts, today, days))
    }

    async fn preview_of(
        &self,
        org: Uuid,
        now: OffsetDateTime,
        days: u32,
    ) -> Result<RetentionPreview> {
        let today = now.date();
        let due = self.retention_due(org, today, days).await?;
        let groups = retention::group(&due, today)
            .into_iter()
            .map(|g| PreviewGroup {
                kind: g.kind,
                erased_on: day_text(g.erased_on),
                count: g.count,
            })
            .collect();
        let until = today
            .checked_add(time::Duration::days(i64::from(days)))
            .unwrap_or(Date::MAX);
        Ok(RetentionPreview {
            org_id: org,
            today: day_text(today),
            until: day_text(until),
            horizon_days: days,
            total: due.len() as u64,
            groups,
            records: due
                .into_iter()
                .map(|d| DueRecord {
                    kind: d.kind,
                    id: d.id,
                    due_on: day_text(d.due_on),
                })
                .collect(),
        })
    }

    /// What the daily job erases in the actor's organisation from today to `days` ahead
    /// (its supervisors; `days` 0–3660, else 422 naming `days`). Audited `retention.preview`
    /// with the horizon and the count.
    pub async fn retention_preview(&self, ctx: &Ctx<'_>, days: i64) -> Result<RetentionPreview> {
        let org = self.require_retention(ctx, "retention.preview").await?;
        let days = check_days(days)?;
        let p = self.preview_of(org, ctx.now, days).await?;
        let e = ctx.entry_with(
            "retention.preview",
            "success",
            "",
            format!("days={days} total={}", p.total),
        );
        self.audit(e, ctx.now).await?;
        Ok(p)
    }

    /// `dayaq retention preview --org SLUG` (not audited: the operator's own database).
    pub async fn retention_preview_by_slug(
        &self,
        slug: &str,
        now: OffsetDateTime,
        days: i64,
    ) -> Result<RetentionPreview> {
        let days = check_days(days)?;
        let org = self.org_of_field_or_invalid("org", slug).await?;
        self.preview_of(org.id, now, days).await
    }

    /// The daily job: in every organisation, erases what its rules say is due today —
    /// crypto-shreds cases through `Store::erase_case` (acting as [`job_actor`]), clears the
    /// notes of cases whose notes rule ended first, deletes contacts without a case and
    /// sign-in sessions. Held cases are never touched (checked again just before each
    /// erasure). Idempotent: what was erased is no longer a fact, so a second run on the same
    /// day finds nothing. Audited `retention.run` with counts only (plus each erasure's own
    /// audit row, and `retention.expire` per organisation for deleted contacts/sessions).
    pub async fn retention_run(&self, now: OffsetDateTime, by: &Acting) -> Result<RunReport> {
        let today = now.date();
        let mut report = RunReport {
            day: day_text(today),
            ..RunReport::default()
        };
        let orgs = self.list_orgs().await?;
        for org in &orgs {
            report.organisations += 1;
            let due = self.retention_due(org.id, today, 0).await?;
            if due.is_empty() {
                continue;
            }
            let actor = job_actor(org.id);
            let ctx = Ctx {
                actor: &actor,
                source: JOB_SOURCE,
                now,
            };
            let mut contacts = Vec::new();
            let mut sessions = Vec::new();
            for d in &due {
                match d.kind {
                    RecordKind::CaseIdentity => match self.shred_expired_case(&ctx, d.id).await {
                        Ok(true) => report.case_identity += 1,
                        Ok(false) => report.skipped += 1,
                        Err(e) => {
                            tracing::warn!(error = %e, kind = "case_identity", "retention: erasure failed; the next run retries");
                            report.skipped += 1;
                        }
                    },
                    RecordKind::CaseNotes => match self.clear_expired_notes(&ctx, d.id).await {
                        Ok(true) => report.case_notes += 1,
                        Ok(false) => report.skipped += 1,
                        Err(e) => {
                            tracing::warn!(error = %e, kind = "case_notes", "retention: clearing notes failed; the next run retries");
                            report.skipped += 1;
                        }
                    },
                    RecordKind::ContactsWithoutCase => contacts.push(d.id),
                    RecordKind::Sessions => sessions.push(d.id),
                    RecordKind::AuditRows => {}
                }
            }
            if !contacts.is_empty() || !sessions.is_empty() {
                let (c, s) = self
                    .delete_expired(org.id, &contacts, &sessions, now)
                    .await?;
                report.contacts_without_case += c;
                report.sessions += s;
            }
        }
        let mut e = by.entry("retention.run", "success");
        e.detail = report.detail();
        self.audit(e, now).await?;
        if report.contacts_without_case + report.sessions + report.case_notes > 0 {
            self.checkpoint_after_retention().await;
        }
        Ok(report)
    }

    /// Erases one expired case unless, since the facts were read, it was put under hold,
    /// reopened or erased. `false`: left for the next run.
    async fn shred_expired_case(&self, ctx: &Ctx<'_>, id: Uuid) -> Result<bool> {
        if !self.still_expirable(id).await? {
            return Ok(false);
        }
        self.erase_case(ctx, id).await?;
        Ok(true)
    }

    /// Clears the free-text notes of a closed case (status-change reasons, needs-assessment
    /// notes): the ciphertext is set to NULL, the rest of the record stays.
    async fn clear_expired_notes(&self, ctx: &Ctx<'_>, id: Uuid) -> Result<bool> {
        if !self.still_expirable(id).await? {
            return Ok(false);
        }
        let access = self.authorize_case(ctx, Action::EraseCase, id).await?;
        let mut w = self.write_case(ctx, &access).await?;
        let a = w
            .exec("UPDATE case_status_history SET reason = NULL WHERE case_id = $1 AND reason IS NOT NULL")
            .await?;
        let b = w
            .exec(
                "UPDATE assessment_needs SET notes = NULL WHERE notes IS NOT NULL AND assessment_id IN \
                 (SELECT id FROM needs_assessments WHERE case_id = $1)",
            )
            .await?;
        w.event("retention.notes_cleared", "").await?;
        w.commit("retention.notes_cleared", format!("fields={}", a + b))
            .await?;
        Ok(true)
    }

    /// Still closed, not erased, not held (read just before acting on it).
    async fn still_expirable(&self, id: Uuid) -> Result<bool> {
        let r = sqlx::query(
            "SELECT c.cas_status, c.erased_at, \
               CAST((SELECT COUNT(*) FROM retention_holds r WHERE r.case_id = c.id) AS BIGINT) AS held \
             FROM cases c WHERE c.id = $1",
        )
        .bind(id.to_string())
        .fetch_optional(&self.pool)
        .await?;
        let Some(r) = r else {
            return Ok(false);
        };
        let status: String = r.try_get("cas_status")?;
        let erased: Option<i64> = r.try_get("erased_at")?;
        let held: i64 = r.try_get("held")?;
        Ok(erased.is_none()
            && held == 0
            && (status == CaseStatus::Closed.as_str()
                || status == CaseStatus::ClosedReferred.as_str()))
    }

    /// Deletes expired contacts without a case (with their sealed summary and wrapped key)
    /// and sign-in sessions of `org`, in one transaction audited `retention.expire` with the
    /// counts.
    async fn delete_expired(
        &self,
        org: Uuid,
        contacts: &[Uuid],
        sessions: &[Uuid],
        now: OffsetDateTime,
    ) -> Result<(u64, u64)> {
        let o = org.to_string();
        let mut tx = self.begin_write().await?;
        let mut c = 0;
        for id in contacts {
            c += sqlx::query(
                "DELETE FROM contacts WHERE id = $1 AND org_id = $2 AND case_id IS NULL",
            )
            .bind(id.to_string())
            .bind(&o)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        }
        let mut s = 0;
        for id in sessions {
            s += sqlx::query(
                "DELETE FROM sessions WHERE public_id = $1 AND user_id IN (SELECT id FROM users WHERE org_id = $2)",
            )
            .bind(id.to_string())
            .bind(&o)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        }
        let mut e = AuditEntry::new("retention.expire", "success");
        e.actor_user = Uuid::nil().to_string();
        e.actor_org = o;
        e.source = JOB_SOURCE.into();
        e.detail = format!("contacts_without_case={c} sessions={s}");
        tx.commit_with(&e, millis(now)).await?;
        Ok((c, s))
    }

    /// SQLite keeps the deleted rows' page images in the write-ahead log until a checkpoint:
    /// copy the log into the database (where `secure_delete` zeroed the freed bytes) and
    /// truncate it. Erased cases already did this in `erase_case`.
    async fn checkpoint_after_retention(&self) {
        if self.engine != crate::Engine::Sqlite {
            return;
        }
        if let Err(e) = sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
            .fetch_one(&self.pool)
            .await
        {
            tracing::warn!(error = %e, "WAL checkpoint after the retention run failed");
        }
    }
}
