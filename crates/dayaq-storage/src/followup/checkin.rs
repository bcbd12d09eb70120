//! Discreet self check-in (issue 17, part 1): a caseworker creates a one-time link and short
//! code for a case whose protocol and consent allow contact; the survivor answers on a neutral
//! page without an account. Only SHA-256 hashes of the token and the code are stored. An
//! answer becomes a follow-up contact (channel `self_check_in`), an assessment (trajectory and
//! risk flags) and, for "call me", an on-demand task planned inside her safe window.
//!
//! The public side ([`Store::checkin_page`], [`Store::answer_checkin`]) has no signed-in user:
//! the link acts for the caseworker who created it, and the access policy is asked again for
//! that caseworker (a caseworker who lost access to the case makes the link dead). Every
//! refusal of the public side is the same `None`, so the page cannot tell a forged link from an
//! expired, revoked or answered one. No client address is stored: the audit rows of the public
//! side carry the source `self_check_in`.
use super::*;
use crate::crypto::{random_bytes, random_token, sha256_hex};
use dayaq_domain::followup::{
    CHECKIN_CALL_REQUEST, CHECKIN_CODE_ALPHABET, CHECKIN_CODE_LEN, CHECKIN_ROUND, CheckInAnswers,
    CheckInInput, CheckInState, Cover, call_slot, normalise_code, normalise_token,
};
use dayaq_domain::webhooks::{EventSubject, EventType};

/// The source recorded in audit rows of the public check-in page (never a client address).
pub const CHECKIN_SOURCE: &str = "self_check_in";

/// A new check-in: the secrets are returned once and never stored in clear.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct NewCheckIn {
    pub id: Uuid,
    /// The link's secret; the link is `/c/{token}`.
    pub token: String,
    /// The short code for the code-entry page `/c`.
    pub code: String,
    pub cover: String,
    pub language: String,
    pub expires_at: String,
}

/// A check-in as the case's caseworkers see it (no secrets, no answers).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CheckIn {
    pub id: Uuid,
    pub cover: String,
    /// She chose the cover herself (required for the `organisation` cover).
    pub cover_chosen_by_her: bool,
    pub language: String,
    /// open, answered, expired, revoked
    pub state: CheckInState,
    pub created_by: Uuid,
    pub created_at: String,
    pub expires_at: String,
    pub answered_at: Option<String>,
    /// The follow-up contact the answer became.
    pub contact_id: Option<Uuid>,
    /// The call-back task a "call me" answer created.
    pub task_id: Option<Uuid>,
}

/// What the public page may show: the cover and the language, nothing of the case; with the
/// `organisation` cover (her choice), the organisation's name as the title.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckInPage {
    pub cover: Cover,
    pub language: &'static str,
    pub organisation: Option<String>,
}

/// How the survivor presented the check-in: the link's token or the typed code.
#[derive(Debug, Clone, Copy)]
pub enum CheckInSecret<'a> {
    Token(&'a str),
    Code(&'a str),
}

fn code_hash(code: &str) -> String {
    sha256_hex(format!("dayaq-checkin-code:{code}").as_bytes())
}

fn random_code() -> Result<String> {
    let mut out = String::with_capacity(CHECKIN_CODE_LEN);
    let n = CHECKIN_CODE_ALPHABET.len();
    // Rejection sampling keeps every character equally likely.
    let limit = 256 - (256 % n);
    while out.len() < CHECKIN_CODE_LEN {
        for b in random_bytes::<16>()? {
            if (b as usize) < limit && out.len() < CHECKIN_CODE_LEN {
                out.push(char::from(CHECKIN_CODE_ALPHABET[b as usize % n]));
            }
        }
    }
    Ok(out)
}

/// The stored hash of a presented secret, or `None` for a malformed one.
fn secret_hash(s: CheckInSecret<'_>) -> Option<(&'static str, String)> {
    match s {
        CheckInSecret::Token(t) => {
            normalise_token(t).map(|t| ("token_hash", sha256_hex(t.as_bytes())))
        }
        CheckInSecret::Code(c) => normalise_code(c).map(|c| ("code_hash", code_hash(&c))),
    }
}

/// One stored check-in, read by column name.
#[derive(sqlx::FromRow)]
struct CheckInRow {
    id: String,
    case_id: String,
    cover: String,
    language: String,
    created_by: String,
    created_at: i64,
    expires_at: i64,
    answered_at: Option<i64>,
    revoked_at: Option<i64>,
    expiry_noted_at: Option<i64>,
    contact_id: Option<String>,
    task_id: Option<String>,
    cover_chosen_by_her: i64,
}

const COLS: &str = "id, case_id, cover, language, created_by, created_at, expires_at, answered_at, revoked_at, expiry_noted_at, contact_id, task_id, cover_chosen_by_her";

impl CheckInRow {
    fn state(&self, now: OffsetDateTime) -> CheckInState {
        CheckInState::of(
            self.answered_at.is_some(),
            self.revoked_at.is_some(),
            crate::from_millis(self.expires_at),
            now,
        )
    }

    fn view(&self, now: OffsetDateTime) -> Result<CheckIn> {
        Ok(CheckIn {
            id: uuid_of(&self.id)?,
            cover: self.cover.clone(),
            cover_chosen_by_her: self.cover_chosen_by_her != 0,
            language: self.language.clone(),
            state: self.state(now),
            created_by: uuid_of(&self.created_by)?,
            created_at: ts(self.created_at),
            expires_at: ts(self.expires_at),
            answered_at: self.answered_at.map(ts),
            contact_id: self.contact_id.as_deref().map(uuid_of).transpose()?,
            task_id: self.task_id.as_deref().map(uuid_of).transpose()?,
        })
    }
}

impl Store {
    /// Creates a check-in. Refused (422) without a follow-up consent (`consent`), without a
    /// protocol (`protocol`), or when the protocol says do-not-contact (`do_not_contact`);
    /// a refusal is audited with its codes.
    pub async fn create_checkin(
        &self,
        ctx: &Ctx<'_>,
        case: Uuid,
        input: &CheckInInput,
    ) -> Result<NewCheckIn> {
        let access = self.authorize_case(ctx, Action::UpdateCase, case).await?;
        let settings = input.validate()?;
        let cs = case.to_string();
        let mut w = self.write_case(ctx, &access).await?;
        let mut errs = ValidationErrors::default();
        if !self.followup_consent(&mut w, &cs).await? {
            errs.push(FieldError::new(
                "consent",
                "no_follow_up_consent",
                "no follow-up contact consent is recorded",
            ));
        }
        match self.load_protocol(&mut w, &access, false).await? {
            None => errs.push(FieldError::new(
                "protocol",
                "no_protocol",
                "record the survivor's contact protocol first",
            )),
            Some(p) if p.do_not_contact => errs.push(FieldError::new(
                "do_not_contact",
                "do_not_contact",
                "the survivor's protocol says do not contact",
            )),
            Some(_) => {}
        }
        if !errs.is_empty() {
            drop(w);
            let detail = errs
                .errors
                .iter()
                .map(|e| e.code)
                .collect::<Vec<_>>()
                .join(",");
            self.audit(
                ctx.entry_with("checkin.create", "refused", &cs, detail),
                ctx.now,
            )
            .await?;
            return Err(errs.into());
        }
        let id = Uuid::new_v4();
        let token = random_token()?;
        let code = random_code()?;
        let now = millis(ctx.now);
        let expires = millis(ctx.now + time::Duration::days(i64::from(settings.days)));
        sqlx::query(
            "INSERT INTO followup_checkins (id, case_id, token_hash, code_hash, cover, language, created_by, created_at, expires_at, cover_chosen_by_her) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(id.to_string())
        .bind(&cs)
        .bind(sha256_hex(token.as_bytes()))
        .bind(code_hash(&code))
        .bind(settings.cover.as_str())
        .bind(settings.language)
        .bind(ctx.actor.user_id.to_string())
        .bind(now)
        .bind(expires)
        .bind(i64::from(settings.chosen_by_her))
        .execute(&mut *w)
        .await?;
        let detail = format!(
            "checkin={id} cover={} language={} days={} her_choice={}",
            settings.cover.as_str(),
            settings.language,
            settings.days,
            settings.chosen_by_her
        );
        w.event("followup.checkin", &format!("checkin={id}"))
            .await?;
        w.commit("checkin.create", detail).await?;
        Ok(NewCheckIn {
            id,
            token,
            code,
            cover: settings.cover.as_str().into(),
            language: settings.language.into(),
            expires_at: ts(expires),
        })
    }

    /// The case's check-ins, newest first, with their state now. Expiries not yet audited
    /// are audited here.
    pub async fn checkins(&self, ctx: &Ctx<'_>, case: Uuid) -> Result<Vec<CheckIn>> {
        let access = self
            .authorize_case(ctx, Action::ReadSection(Section::FollowUp), case)
            .await?;
        let rows = self.checkin_rows(access.id_str()).await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in &rows {
            if r.state(ctx.now) == CheckInState::Expired && r.expiry_noted_at.is_none() {
                self.note_expiry(r, ctx.now).await?;
            }
            out.push(r.view(ctx.now)?);
        }
        Ok(out)
    }

    async fn checkin_rows(&self, case: &str) -> Result<Vec<CheckInRow>> {
        let q = format!(
            "SELECT {COLS} FROM followup_checkins WHERE case_id = $1 ORDER BY created_at DESC, id"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(q))
            .bind(case)
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| CheckInRow::from_row(r).map_err(StoreError::from))
            .collect()
    }

    /// Revokes an open check-in of the case (its link and code die at once).
    pub async fn revoke_checkin(&self, ctx: &Ctx<'_>, case: Uuid, id: Uuid) -> Result<CheckIn> {
        let access = self.authorize_case(ctx, Action::UpdateCase, case).await?;
        let mut w = self.write_case(ctx, &access).await?;
        let n = sqlx::query(
            "UPDATE followup_checkins SET revoked_at = $1 WHERE id = $2 AND case_id = $3 \
             AND answered_at IS NULL AND revoked_at IS NULL AND expires_at > $1",
        )
        .bind(millis(ctx.now))
        .bind(id.to_string())
        .bind(access.id_str())
        .execute(&mut *w)
        .await?
        .rows_affected();
        if n != 1 {
            let exists: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM followup_checkins WHERE id = $1 AND case_id = $2",
            )
            .bind(id.to_string())
            .bind(access.id_str())
            .fetch_one(&mut *w)
            .await?;
            return Err(if exists == 0 {
                invalid("id", "unknown", "no such check-in on this case")
            } else {
                invalid("id", "not_open", "the check-in is no longer open")
            });
        }
        w.event("followup.checkin_revoked", &format!("checkin={id}"))
            .await?;
        w.commit("checkin.revoke", format!("checkin={id}")).await?;
        let rows = self.checkin_rows(access.id_str()).await?;
        rows.iter()
            .find(|r| r.id == id.to_string())
            .ok_or(StoreError::NotFound)?
            .view(ctx.now)
    }

    /// Audits, once, that a check-in expired unanswered.
    async fn note_expiry(&self, r: &CheckInRow, now: OffsetDateTime) -> Result<()> {
        let mut tx = self.begin_write().await?;
        let n = sqlx::query(
            "UPDATE followup_checkins SET expiry_noted_at = $1 WHERE id = $2 AND expiry_noted_at IS NULL",
        )
        .bind(millis(now))
        .bind(&r.id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if n == 1 {
            let mut e = crate::audit::AuditEntry::new("checkin.expire", "success");
            e.case_id = r.case_id.clone();
            e.source = CHECKIN_SOURCE.into();
            e.detail = format!("checkin={}", r.id);
            tx.commit_with(&e, millis(now)).await?;
        }
        Ok(())
    }

    /// The open check-in a secret stands for, else `None` (forged, malformed, answered,
    /// revoked or expired alike). An expiry seen here is audited once.
    async fn open_checkin(
        &self,
        secret: CheckInSecret<'_>,
        now: OffsetDateTime,
    ) -> Result<Option<CheckInRow>> {
        let Some((col, hash)) = secret_hash(secret) else {
            return Ok(None);
        };
        let q = format!("SELECT {COLS} FROM followup_checkins WHERE {col} = $1");
        let Some(r) = sqlx::query(sqlx::AssertSqlSafe(q))
            .bind(hash)
            .fetch_optional(&self.pool)
            .await?
        else {
            return Ok(None);
        };
        let r = CheckInRow::from_row(&r)?;
        match r.state(now) {
            CheckInState::Open => Ok(Some(r)),
            CheckInState::Expired => {
                if r.expiry_noted_at.is_none() {
                    self.note_expiry(&r, now).await?;
                }
                Ok(None)
            }
            _ => Ok(None),
        }
    }

    /// What the public page shows for a secret: the cover and language of an open check-in,
    /// else `None`.
    pub async fn checkin_page(
        &self,
        secret: CheckInSecret<'_>,
        now: OffsetDateTime,
    ) -> Result<Option<CheckInPage>> {
        let Some(r) = self.open_checkin(secret, now).await? else {
            return Ok(None);
        };
        self.page_of(&r).await
    }

    /// Records her answers: the check-in is used up, a follow-up contact (channel
    /// `self_check_in`, reached) and an assessment (round `self-check-in`) land on the case,
    /// and "call me" creates an on-demand task for the caseworker planned at the first moment
    /// of her safe windows in the period she chose (unplanned, due today, when none fits).
    /// `None` for any secret that is not open (no oracle) or whose creator may no longer
    /// update the case. Answers that do not validate are refused on their field.
    pub async fn answer_checkin(
        &self,
        secret: CheckInSecret<'_>,
        answers: &CheckInAnswers,
        now: OffsetDateTime,
    ) -> Result<Option<CheckInPage>> {
        let Some(r) = self.open_checkin(secret, now).await? else {
            return Ok(None);
        };
        answers.validate()?;
        let Ok(creator) = self.user_by_id(uuid_of(&r.created_by)?).await else {
            return Ok(None);
        };
        if creator.disabled {
            return Ok(None);
        }
        let actor = creator.actor();
        let ctx = Ctx {
            actor: &actor,
            source: CHECKIN_SOURCE,
            now,
        };
        let case = uuid_of(&r.case_id)?;
        let Some(access) = self
            .access_if_allowed(&ctx, Action::UpdateCase, case)
            .await?
        else {
            return Ok(None);
        };
        let page = self.page_of(&r).await?;
        let now_ms = millis(now);
        let cs = r.case_id.clone();
        let mut w = self.write_case(&ctx, &access).await?;
        // Used up first: a replay racing this one changes no row and gets the neutral page.
        let used = sqlx::query(
            "UPDATE followup_checkins SET answered_at = $1 WHERE id = $2 AND answered_at IS NULL AND revoked_at IS NULL AND expires_at > $1",
        )
        .bind(now_ms)
        .bind(&r.id)
        .execute(&mut *w)
        .await?
        .rows_affected();
        if used != 1 {
            return Ok(None);
        }
        let protocol = self.load_protocol(&mut w, &access, false).await?;
        let contact = Uuid::new_v4();
        let task = if answers.call {
            let id = Uuid::new_v4();
            let period = answers.call_period.as_deref().unwrap_or("any");
            let slot = protocol
                .as_ref()
                .and_then(|p| call_slot(&p.rules(), period, now));
            let assignee = protocol
                .as_ref()
                .and_then(|p| p.caller_user)
                .unwrap_or(actor.user_id);
            let due = slot.map(today).unwrap_or_else(|| today(now));
            sqlx::query(
                "INSERT INTO followup_tasks (id, case_id, kind, request, due_on, assignee, channel, planned_at, state, done_at, created_by, created_at) \
                 VALUES ($1, $2, 'on_demand', $3, $4, $5, $6, $7, 'open', NULL, $8, $9)",
            )
            .bind(id.to_string())
            .bind(&cs)
            .bind(CHECKIN_CALL_REQUEST)
            .bind(date_str(due))
            .bind(assignee.to_string())
            .bind(slot.map(|_| Channel::Phone.as_str()))
            .bind(slot.map(millis))
            .bind(actor.user_id.to_string())
            .bind(now_ms)
            .execute(&mut *w)
            .await?;
            Some((id, slot.is_some()))
        } else {
            None
        };
        sqlx::query(
            "INSERT INTO followup_contacts (id, case_id, task_id, channel, at, by_user, reached, outside_protocol, breaches, justification, created_at) \
             VALUES ($1, $2, NULL, $3, $4, $5, 1, 0, '', NULL, $6)",
        )
        .bind(contact.to_string())
        .bind(&cs)
        .bind(Channel::SelfCheckIn.as_str())
        .bind(now_ms)
        .bind(actor.user_id.to_string())
        .bind(now_ms)
        .execute(&mut *w)
        .await?;
        w.exec("UPDATE followup_plans SET lost_contact_at = NULL WHERE case_id = $1")
            .await?;
        sqlx::query("UPDATE followup_checkins SET contact_id = $1, task_id = $2 WHERE id = $3")
            .bind(contact.to_string())
            .bind(task.map(|(t, _)| t.to_string()))
            .bind(&r.id)
            .execute(&mut *w)
            .await?;
        let q = answers.to_questionnaire();
        if !q.is_empty() {
            let input = AssessmentInput {
                round: CHECKIN_ROUND.into(),
                assessed_on: date_str(today(now)),
                answers: q,
                assistance_needed_words: None,
            };
            self.insert_assessment(
                &mut w,
                &ctx,
                &access,
                Uuid::new_v4(),
                &input,
                today(now),
                CHECKIN_SOURCE,
            )
            .await?;
        }
        let detail = format!(
            "checkin={} contact={contact} call={} planned={}",
            r.id,
            task.is_some(),
            task.is_some_and(|(_, p)| p)
        );
        w.event("followup.contact", "channel=self_check_in reached=true")
            .await?;
        Self::enqueue_webhook(
            &mut w,
            access.facts().owner_org,
            EventType::CheckinAnswered,
            EventSubject {
                case_id: Some(case),
                checkin_id: uuid_of(&r.id).ok(),
                ..Default::default()
            },
            now,
        )
        .await?;
        w.commit("checkin.answer", detail).await?;
        Ok(page)
    }
}

impl Store {
    /// The public page of an open check-in: the cover, her language and, only for the
    /// `organisation` cover she chose, the owning organisation's name.
    async fn page_of(&self, r: &CheckInRow) -> Result<Option<CheckInPage>> {
        let (Some(cover), Some(language)) = (
            Cover::parse(&r.cover),
            dayaq_domain::followup::CHECKIN_LANGUAGES
                .iter()
                .copied()
                .find(|l| *l == r.language),
        ) else {
            return Ok(None);
        };
        let organisation = if cover == Cover::Organisation && r.cover_chosen_by_her != 0 {
            let name: Option<String> = sqlx::query_scalar(
                "SELECT o.name FROM cases c JOIN organisations o ON o.id = c.owner_org_id WHERE c.id = $1",
            )
            .bind(&r.case_id)
            .fetch_optional(&self.pool)
            .await?;
            match name {
                Some(n) => Some(n),
                None => return Ok(None),
            }
        } else if cover == Cover::Organisation {
            // Never named without her choice (a row written otherwise shows no page).
            return Ok(None);
        } else {
            None
        };
        Ok(Some(CheckInPage {
            cover,
            language,
            organisation,
        }))
    }
}
