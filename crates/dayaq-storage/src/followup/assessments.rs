//! Reintegration assessments, their trajectories and risk flags, goals from a risk flag.
use super::*;
use crate::kernel::case_keys::open_text;

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[schema(as = FollowupAssessment)]
pub struct Assessment {
    pub id: Uuid,
    pub round: String,
    pub assessed_on: String,
    pub answers: Answers,
    pub source: String,
    pub created_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub assistance_needed_words: Option<String>,
}

impl Store {
    /// Records a reintegration assessment.
    pub async fn add_reintegration_assessment(
        &self,
        ctx: &Ctx<'_>,
        case: Uuid,
        input: &AssessmentInput,
    ) -> Result<Assessment> {
        let access = self.authorize_case(ctx, Action::UpdateCase, case).await?;
        let on = input.validate()?;
        let now = millis(ctx.now);
        let id = Uuid::new_v4();
        let mut tx = self.begin_write().await?;
        self.insert_assessment(&mut tx, ctx, &access, id, input, on, "form")
            .await?;
        tx.commit().await?;
        Ok(Assessment {
            id,
            round: input.round.trim().into(),
            assessed_on: date_str(on),
            answers: input.answers.clone(),
            source: "form".into(),
            created_at: ts(now),
            assistance_needed_words: None,
        })
    }

    #[allow(clippy::too_many_arguments)]
    pub(super) async fn insert_assessment(
        &self,
        conn: &mut AnyConnection,
        ctx: &Ctx<'_>,
        access: &CaseAccess,
        id: Uuid,
        input: &AssessmentInput,
        on: Date,
        source: &str,
    ) -> Result<()> {
        let cs = access.id_str();
        let now = millis(ctx.now);
        let words = match input
            .assistance_needed_words
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            Some(w) => {
                let key = self.case_key(conn, access).await?;
                Some(key.seal(
                    &field_aad("followup_assessments", "words", &id.to_string(), "case"),
                    w.as_bytes(),
                )?)
            }
            None => None,
        };
        let answers =
            serde_json::to_string(&input.answers).map_err(|e| StoreError::Data(e.to_string()))?;
        sqlx::query(
            "INSERT INTO followup_assessments (id, case_id, round, assessed_on, answers, words, source, created_by, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(id.to_string())
        .bind(cs)
        .bind(input.round.trim())
        .bind(date_str(on))
        .bind(answers)
        .bind(words)
        .bind(source)
        .bind(ctx.actor.user_id.to_string())
        .bind(now)
        .execute(&mut *conn)
        .await?;
        let flags: Vec<&str> = rules::risk_flags(&input.answers)
            .iter()
            .map(|f| f.code)
            .collect();
        let detail = format!("round={} flags={}", input.round.trim(), flags.join(","));
        Self::case_event(conn, ctx, access, "followup.assessment", &detail).await?;
        let mut e = ctx.entry("followup.assessment", "success", cs);
        e.detail = detail;
        append(conn, &e, now).await?;
        Ok(())
    }

    /// Assessments of a case, oldest first, with her words decrypted (audited read).
    pub async fn reintegration_assessments(
        &self,
        ctx: &Ctx<'_>,
        case: Uuid,
    ) -> Result<Vec<Assessment>> {
        let access = self
            .authorize_case(ctx, Action::ReadSection(Section::FollowUp), case)
            .await?;
        let cs = case.to_string();
        let mut conn = self.pool.acquire().await?;
        let rows = sqlx::query(
            "SELECT id, round, assessed_on, answers, words, source, created_at FROM followup_assessments \
             WHERE case_id = $1 ORDER BY assessed_on, created_at, id",
        )
        .bind(&cs)
        .fetch_all(&mut *conn)
        .await?;
        let mut out = Vec::new();
        for r in &rows {
            let id: String = r.try_get("id")?;
            let answers: String = r.try_get("answers")?;
            let sealed: Option<Vec<u8>> = r.try_get("words")?;
            let words = match sealed {
                Some(_) => {
                    let key = self.case_key(&mut conn, &access).await?;
                    open_text(&key, "followup_assessments", "words", &id, sealed)?
                }
                None => None,
            };
            out.push(Assessment {
                id: uuid_of(&id)?,
                round: r.try_get("round")?,
                assessed_on: r.try_get("assessed_on")?,
                answers: serde_json::from_str(&answers)
                    .map_err(|e| StoreError::Data(e.to_string()))?,
                source: r.try_get("source")?,
                created_at: ts(r.try_get("created_at")?),
                assistance_needed_words: words,
            });
        }
        drop(conn);
        if !out.is_empty() {
            self.audit_read(ctx, &access, "followup.assessments.read")
                .await?;
        }
        Ok(out)
    }

    /// Trajectory per question over the case's assessments, and the risk flags of the standing
    /// answers (the latest answer to each question: `followup::current_risk_flags`).
    pub async fn reintegration(
        &self,
        ctx: &Ctx<'_>,
        case: Uuid,
    ) -> Result<(Vec<Trajectory>, Vec<RiskFlag>)> {
        let all = self.reintegration_assessments(ctx, case).await?;
        let history: Vec<Answers> = all.into_iter().map(|a| a.answers).collect();
        let flags = rules::current_risk_flags(&history);
        Ok((rules::trajectories(&history), flags))
    }
}

impl Store {
    /// Turns a risk flag of the latest assessment into a long-term goal of the case's open
    /// assistance plan (domain from the flag; description given, or the flag's codes).
    pub async fn goal_from_flag(
        &self,
        ctx: &Ctx<'_>,
        case: Uuid,
        code: &str,
        description: Option<&str>,
    ) -> Result<Uuid> {
        let access = self.authorize_case(ctx, Action::UpdateCase, case).await?;
        if !rules::is_flag_code(code) {
            return Err(invalid("risk_flag", "unknown", "not a risk flag"));
        }
        let rows: Vec<String> = sqlx::query_scalar(
            "SELECT answers FROM followup_assessments WHERE case_id = $1 \
             ORDER BY assessed_on, created_at, id",
        )
        .bind(case.to_string())
        .fetch_all(&self.pool)
        .await?;
        let history = rows
            .iter()
            .map(|a| {
                serde_json::from_str::<Answers>(a).map_err(|e| StoreError::Data(e.to_string()))
            })
            .collect::<Result<Vec<_>>>()?;
        let Some(flag) = rules::current_risk_flags(&history)
            .into_iter()
            .find(|f| f.code == code)
        else {
            return Err(invalid(
                "risk_flag",
                "not_raised",
                "the assessments do not raise this flag",
            ));
        };
        self.require(ctx, &access, Action::ReadSection(Section::Plan))
            .await?;
        let plan = self
            .plans_of(ctx, &access)
            .await?
            .into_iter()
            .find(|p| p.actual_end.is_none())
            .ok_or_else(|| {
                invalid(
                    "assistance_plan",
                    "no_open_plan",
                    "create an assistance plan for the case first",
                )
            })?;
        let text = match description.map(str::trim).filter(|d| !d.is_empty()) {
            Some(d) => d.to_string(),
            None => format!(
                "{}: {} → {}",
                flag.code,
                flag.reasons
                    .iter()
                    .map(|(q, a)| format!("{q}={a}"))
                    .collect::<Vec<_>>()
                    .join(", "),
                flag.suggested_action
            ),
        };
        self.add_goal_checked(
            ctx,
            &access,
            plan.id,
            &crate::assistance::GoalInput {
                term: "LongTerm".into(),
                domain: Some(flag.plan_domain.into()),
                description: text,
            },
        )
        .await
    }
}
