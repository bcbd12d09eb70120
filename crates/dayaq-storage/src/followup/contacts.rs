//! Logged contacts (checked against the protocol, lost contact) and the due list.
use super::*;
use crate::kernel::case_keys::open_text;
use time::format_description::well_known::Rfc3339;

#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LogInput {
    #[serde(default)]
    pub task_id: Option<Uuid>,
    pub channel: String,
    /// When the contact (attempt) happened, RFC 3339.
    pub at: String,
    /// Was she reached?
    pub reached: bool,
    /// Required when the contact was outside the protocol (encrypted).
    #[serde(default)]
    pub justification: Option<String>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct LoggedContact {
    pub id: Uuid,
    pub task_id: Option<Uuid>,
    pub channel: String,
    pub at: String,
    pub by_user: Uuid,
    pub reached: bool,
    pub outside_protocol: bool,
    pub breaches: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub justification: Option<String>,
}

/// A task on a caseworker's due list, with today's safe windows of the protocol.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct DueItem {
    pub task: Task,
    pub case_number: Option<String>,
    pub do_not_contact: bool,
    pub channels: Vec<String>,
    /// Safe windows on the task's day ("09:00–12:00"), local time.
    pub safe_windows_today: Vec<String>,
}

impl Store {
    /// Logs a contact or an attempt. Outside the protocol it needs a justification and is
    /// flagged. Failed attempts in a row reaching the plan's limit mark "lost contact"; a
    /// reached contact clears it and completes the task.
    pub async fn log_contact(
        &self,
        ctx: &Ctx<'_>,
        case: Uuid,
        input: &LogInput,
    ) -> Result<LoggedContact> {
        let access = self.authorize_case(ctx, Action::UpdateCase, case).await?;
        let ch = Channel::parse(input.channel.trim())
            .ok_or_else(|| invalid("channel", "unknown", "unknown channel"))?;
        let at = OffsetDateTime::parse(input.at.trim(), &Rfc3339)
            .map_err(|_| invalid("at", "invalid_time", "expected an RFC 3339 time"))?;
        if at > ctx.now + time::Duration::minutes(5) {
            return Err(invalid(
                "at",
                "in_future",
                "a logged contact cannot be in the future",
            ));
        }
        let justification = input
            .justification
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty());
        if justification.is_some_and(|j| j.chars().count() > MAX_TEXT) {
            return Err(invalid("justification", "too_long", "text is too long"));
        }
        let cs = case.to_string();
        let now = millis(ctx.now);
        let id = Uuid::new_v4();
        let mut w = self.write_case(ctx, &access).await?;
        if let Some(t) = input.task_id {
            let due: Option<String> = sqlx::query_scalar(
                "SELECT due_on FROM followup_tasks WHERE id = $1 AND case_id = $2",
            )
            .bind(t.to_string())
            .bind(&cs)
            .fetch_optional(&mut *w)
            .await?;
            let Some(due) = due else {
                return Err(invalid("task_id", "unknown", "no such task on this case"));
            };
            // A reached contact completes the round only once its window has opened.
            if input.reached {
                let due = parse_date("due_on", &due)?;
                rules::contact_completes_round(at.date(), due).map_err(ValidationErrors::single)?;
            }
        }
        let breaches: Vec<Breach> = match self.load_protocol(&mut w, &access, false).await? {
            // Without a recorded protocol every contact is outside it.
            None => vec![Breach::ChannelNotAllowed, Breach::OutsideSafeWindow],
            Some(p) => rules::check_contact(&p.rules(), ch, at, ctx.actor.user_id)
                .err()
                .unwrap_or_default(),
        };
        let outside = !breaches.is_empty();
        if outside && justification.is_none() {
            return Err(invalid(
                "justification",
                "required",
                "a contact outside the protocol needs a reason",
            ));
        }
        let sealed = match justification {
            Some(j) => {
                let key = self.case_key(&mut w, &access).await?;
                Some(key.seal(
                    &field_aad(
                        "followup_contacts",
                        "justification",
                        &id.to_string(),
                        "case",
                    ),
                    j.as_bytes(),
                )?)
            }
            None => None,
        };
        let codes: Vec<&str> = breaches.iter().map(|b| b.as_str()).collect();
        sqlx::query(
            "INSERT INTO followup_contacts (id, case_id, task_id, channel, at, by_user, reached, outside_protocol, breaches, justification, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        )
        .bind(id.to_string())
        .bind(&cs)
        .bind(input.task_id.map(|t| t.to_string()))
        .bind(ch.as_str())
        .bind(millis(at))
        .bind(ctx.actor.user_id.to_string())
        .bind(i64::from(input.reached))
        .bind(i64::from(outside))
        .bind(codes.join(","))
        .bind(sealed)
        .bind(now)
        .execute(&mut *w)
        .await?;
        if input.reached {
            if let Some(t) = input.task_id {
                sqlx::query("UPDATE followup_tasks SET state = 'done', done_at = $1 WHERE id = $2")
                    .bind(now)
                    .bind(t.to_string())
                    .execute(&mut *w)
                    .await?;
            }
            w.exec("UPDATE followup_plans SET lost_contact_at = NULL WHERE case_id = $1")
                .await?;
        } else {
            let max: Option<i64> =
                sqlx::query_scalar("SELECT max_failed FROM followup_plans WHERE case_id = $1")
                    .bind(&cs)
                    .fetch_optional(&mut *w)
                    .await?;
            let max = max.unwrap_or(i64::from(DEFAULT_MAX_FAILED)) as u32;
            let history: Vec<i64> = sqlx::query_scalar(
                "SELECT reached FROM followup_contacts WHERE case_id = $1 ORDER BY at, created_at, id",
            )
            .bind(&cs)
            .fetch_all(&mut *w)
            .await?;
            let history: Vec<bool> = history.iter().map(|r| *r != 0).collect();
            if rules::lost_contact(&history, max) {
                let n = sqlx::query(
                    "UPDATE followup_plans SET lost_contact_at = $1 WHERE case_id = $2 AND lost_contact_at IS NULL",
                )
                .bind(now)
                .bind(&cs)
                .execute(&mut *w)
                .await?
                .rows_affected();
                if n > 0 {
                    w.event("followup.unreachable", "").await?;
                }
            }
        }
        let detail = format!(
            "channel={} reached={} outside_protocol={outside} breaches={}",
            ch.as_str(),
            input.reached,
            codes.join(",")
        );
        w.event("followup.contact", &detail).await?;
        w.commit("followup.contact", detail).await?;
        Ok(LoggedContact {
            id,
            task_id: input.task_id,
            channel: ch.as_str().into(),
            at: ts(millis(at)),
            by_user: ctx.actor.user_id,
            reached: input.reached,
            outside_protocol: outside,
            breaches: codes.iter().map(|c| c.to_string()).collect(),
            justification: None,
        })
    }

    /// Logged contacts, newest first, with justifications decrypted (audited read).
    pub async fn followup_contacts(&self, ctx: &Ctx<'_>, case: Uuid) -> Result<Vec<LoggedContact>> {
        let access = self
            .authorize_case(ctx, Action::ReadSection(Section::FollowUp), case)
            .await?;
        let cs = case.to_string();
        let mut conn = self.pool.acquire().await?;
        let rows = sqlx::query(
            "SELECT id, task_id, channel, at, by_user, reached, outside_protocol, breaches, justification \
             FROM followup_contacts WHERE case_id = $1 ORDER BY at DESC, id",
        )
        .bind(&cs)
        .fetch_all(&mut *conn)
        .await?;
        let mut out = Vec::new();
        let mut key = None;
        for r in &rows {
            let id: String = r.try_get("id")?;
            let task: Option<String> = r.try_get("task_id")?;
            let breaches: String = r.try_get("breaches")?;
            let sealed: Option<Vec<u8>> = r.try_get("justification")?;
            if sealed.is_some() && key.is_none() {
                key = Some(self.case_key(&mut conn, &access).await?);
            }
            let justification = match &key {
                Some(k) => open_text(k, "followup_contacts", "justification", &id, sealed)?,
                None => None,
            };
            out.push(LoggedContact {
                id: uuid_of(&id)?,
                task_id: task.as_deref().map(uuid_of).transpose()?,
                channel: r.try_get("channel")?,
                at: ts(r.try_get("at")?),
                by_user: uuid_of(&r.try_get::<String, _>("by_user")?)?,
                reached: r.try_get::<i64, _>("reached")? != 0,
                outside_protocol: r.try_get::<i64, _>("outside_protocol")? != 0,
                breaches: breaches
                    .split(',')
                    .filter(|b| Breach::parse(b).is_some())
                    .map(str::to_string)
                    .collect(),
                justification,
            });
        }
        drop(conn);
        if !out.is_empty() {
            self.audit_read(ctx, &access, "followup.contacts.read")
                .await?;
        }
        Ok(out)
    }

    /// The acting caseworker's open follow-ups due today or overdue, with today's safe windows.
    pub async fn followups_due(&self, ctx: &Ctx<'_>) -> Result<Vec<DueItem>> {
        let t = today(ctx.now);
        let rows = sqlx::query(
            "SELECT id, case_id, kind, request, due_on, assignee, channel, planned_at, state FROM followup_tasks WHERE assignee = $1 AND state = 'open' AND due_on <= $2 ORDER BY due_on, id",
        )
        .bind(ctx.actor.user_id.to_string())
        .bind(date_str(t))
        .fetch_all(&self.pool)
        .await?;
        let mut out = Vec::new();
        for r in &rows {
            let task = Self::task_of(r, t)?;
            let Some(access) = self
                .access_if_allowed(ctx, Action::ReadSection(Section::FollowUp), task.case_id)
                .await?
            else {
                continue;
            };
            let cs = task.case_id.to_string();
            let number: Option<String> =
                sqlx::query_scalar("SELECT case_number FROM cases WHERE id = $1")
                    .bind(&cs)
                    .fetch_optional(&self.pool)
                    .await?
                    .flatten();
            let mut conn = self.pool.acquire().await?;
            let p = self.load_protocol(&mut conn, &access, false).await?;
            drop(conn);
            let (dnc, channels, windows) = match p {
                Some(p) => {
                    let rules = p.rules();
                    let w = rules
                        .windows_on(ctx.now)
                        .iter()
                        .map(Window::hours)
                        .collect();
                    (p.do_not_contact, p.channels, w)
                }
                None => (false, vec![], vec![]),
            };
            out.push(DueItem {
                task,
                case_number: number,
                do_not_contact: dnc,
                channels,
                safe_windows_today: windows,
            });
        }
        Ok(out)
    }
}
