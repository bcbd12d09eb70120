//! Needs assessments (HTCDS needs by domain; health needs only with the health section).

use super::*;

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NeedInput {
    pub domain: String,
    pub severity: String,
    /// Notes (encrypted).
    #[serde(default)]
    pub notes: Option<String>,
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AssessmentInput {
    pub needs: Vec<NeedInput>,
    /// The survivor's own priorities, in her own words (encrypted).
    #[serde(default)]
    pub priorities: Option<String>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Need {
    pub domain: String,
    pub severity: String,
    pub notes: Option<String>,
    /// The notes belong to the health section, which this reader may not see.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub health_restricted: bool,
}

fn is_health_domain(d: &str) -> bool {
    d == NeedDomain::PhysicalHealth.as_str() || d == NeedDomain::MentalHealth.as_str()
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Assessment {
    pub id: Uuid,
    pub org_id: Uuid,
    pub assessed_at: String,
    pub priorities: Option<String>,
    pub needs: Vec<Need>,
}

impl Store {
    /// Records a needs assessment; earlier assessments are kept (reviews repeat it).
    pub async fn add_assessment(
        &self,
        ctx: &Ctx<'_>,
        case: Uuid,
        a: &AssessmentInput,
    ) -> Result<Assessment> {
        let access = self.authorize_case(ctx, Action::UpdateCase, case).await?;
        let mut errs = ValidationErrors::default();
        let mut needs = Vec::new();
        if a.needs.is_empty() {
            errs.push(FieldError::new(
                "needs",
                "required",
                "at least one need must be assessed",
            ));
        }
        for (i, n) in a.needs.iter().enumerate() {
            let d = NeedDomain::parse_for(&format!("needs[{i}].domain"), &n.domain)
                .map_err(|e| errs.push(e))
                .ok();
            let s = Severity::parse_for(&format!("needs[{i}].severity"), &n.severity)
                .map_err(|e| errs.push(e))
                .ok();
            text_ok(&mut errs, &format!("needs[{i}].notes"), nonempty(&n.notes));
            if let (Some(d), Some(s)) = (d, s) {
                if needs
                    .iter()
                    .any(|(x, _, _): &(NeedDomain, Severity, Option<&str>)| *x == d)
                {
                    errs.push(FieldError::new(
                        format!("needs[{i}].domain"),
                        "duplicate",
                        "each domain once per assessment",
                    ));
                }
                needs.push((d, s, nonempty(&n.notes)));
            }
        }
        text_ok(&mut errs, "priorities", nonempty(&a.priorities));
        errs.into_result()?;
        let id = Uuid::new_v4();
        let ids = id.to_string();
        let cs = case.to_string();
        let now = millis(ctx.now);
        let mut w = self.write_case(ctx, &access).await?;
        let key = self.case_key(&mut w, &access).await?;
        sqlx::query("INSERT INTO needs_assessments (id, case_id, org_id, assessed_by, assessed_at, priorities) VALUES ($1, $2, $3, $4, $5, $6)")
            .bind(&ids)
            .bind(&cs)
            .bind(ctx.actor.org_id.to_string())
            .bind(ctx.actor.user_id.to_string())
            .bind(now)
            .bind(seal(&key, "needs_assessments", "priorities", &ids, nonempty(&a.priorities))?)
            .execute(&mut *w)
            .await?;
        for (d, s, notes) in &needs {
            let nid = Uuid::new_v4().to_string();
            sqlx::query("INSERT INTO assessment_needs (id, assessment_id, domain, severity, notes) VALUES ($1, $2, $3, $4, $5)")
                .bind(&nid)
                .bind(&ids)
                .bind(d.as_str())
                .bind(s.as_str())
                .bind(seal(&key, "assessment_needs", "notes", &nid, *notes)?)
                .execute(&mut *w)
                .await?;
        }
        w.event("assessment.recorded", &format!("needs={}", needs.len()))
            .await?;
        w.commit("case.assessment", format!("assessment={ids}"))
            .await?;
        Ok(Assessment {
            id,
            org_id: ctx.actor.org_id,
            assessed_at: ts(now),
            priorities: nonempty(&a.priorities).map(str::to_string),
            needs: needs
                .iter()
                .map(|(d, s, n)| Need {
                    domain: d.as_str().into(),
                    severity: s.as_str().into(),
                    notes: n.map(str::to_string),
                    health_restricted: false,
                })
                .collect(),
        })
    }

    /// All assessments of a case, newest first (needs `Section::Plan`).
    pub async fn assessments(&self, ctx: &Ctx<'_>, case: Uuid) -> Result<Vec<Assessment>> {
        let access = self
            .authorize_case(ctx, Action::ReadSection(Section::Plan), case)
            .await?;
        let mut all = self.assessments_unchecked(&access).await?;
        // Need-to-know: the health domains' notes are part of the health section.
        let health = access.may(Action::ReadSection(Section::Health));
        if !health {
            for a in &mut all {
                for n in &mut a.needs {
                    if is_health_domain(&n.domain) {
                        n.notes = None;
                        n.health_restricted = true;
                    }
                }
            }
        }
        Ok(all)
    }

    /// The assessments of a checked case, health notes included (callers redact).
    pub(super) async fn assessments_unchecked(
        &self,
        access: &CaseAccess,
    ) -> Result<Vec<Assessment>> {
        let sql = "SELECT id, org_id, assessed_at, priorities FROM needs_assessments WHERE case_id = $1 ORDER BY assessed_at DESC, id";
        let Some((rows, key)) = self.case_rows_keyed(access, sql).await? else {
            return Ok(Vec::new());
        };
        let mut out = Vec::new();
        for r in &rows {
            let ids: String = r.try_get("id")?;
            let nrows = sqlx::query("SELECT id, domain, severity, notes FROM assessment_needs WHERE assessment_id = $1 ORDER BY domain")
                .bind(&ids)
                .fetch_all(&self.pool)
                .await?;
            let mut needs = Vec::new();
            for n in &nrows {
                let nid: String = n.try_get("id")?;
                needs.push(Need {
                    domain: n.try_get("domain")?,
                    severity: n.try_get("severity")?,
                    notes: open(&key, "assessment_needs", "notes", &nid, n.try_get("notes")?)?,
                    health_restricted: false,
                });
            }
            out.push(Assessment {
                id: uuid_of(&ids)?,
                org_id: uuid_of(&r.try_get::<String, _>("org_id")?)?,
                assessed_at: ts(r.try_get("assessed_at")?),
                priorities: open(
                    &key,
                    "needs_assessments",
                    "priorities",
                    &ids,
                    r.try_get("priorities")?,
                )?,
                needs,
            });
        }
        Ok(out)
    }
}
