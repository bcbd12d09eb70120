//! Questionnaire import, per-question summaries and the individual export.
use super::*;

/// One row of the per-question summary.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SummaryRow {
    pub question: String,
    pub answer: String,
    pub count: Cell,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Summary {
    pub round: Option<String>,
    pub assessments: Cell,
    /// true when the user has case access to every case counted (no suppression).
    pub exact: bool,
    pub rows: Vec<SummaryRow>,
}

impl Store {
    /// Imports a survey round (CSV or XLSX; columns `case_number`, `round`, `assessed_on`,
    /// then question keys; multi-choice answers separated by `;`). All rows or none.
    pub async fn import_questionnaire(
        &self,
        ctx: &Ctx<'_>,
        bytes: &[u8],
        xlsx: bool,
    ) -> Result<usize> {
        let rows = parse_questionnaire(bytes, xlsx)?;
        let mut errs = ValidationErrors::default();
        let org = ctx.actor.org_id.to_string();
        let mut prepared = Vec::new();
        for r in rows {
            let case: Option<String> = sqlx::query_scalar(
                "SELECT id FROM cases WHERE case_number = $1 AND owner_org_id = $2 AND erased_at IS NULL",
            )
            .bind(&r.case_number)
            .bind(&org)
            .fetch_optional(&self.pool)
            .await?;
            let Some(case) = case else {
                errs.push(FieldError::new(
                    format!("row {}.case_number", r.row),
                    "unknown_case",
                    "no such case in your organisation",
                ));
                continue;
            };
            for e in r.errors {
                errs.push(e);
            }
            if let Some(on) = r.assessed_on {
                prepared.push((uuid_of(&case)?, r.input, on));
            }
        }
        errs.into_result()?;
        let mut checked = Vec::with_capacity(prepared.len());
        for (case, _, _) in &prepared {
            checked.push(self.authorize_case(ctx, Action::UpdateCase, *case).await?);
        }
        let mut tx = self.begin_write().await?;
        for ((_, input, on), access) in prepared.iter().zip(&checked) {
            self.insert_assessment(&mut tx, ctx, access, Uuid::new_v4(), input, *on, "import")
                .await?;
        }
        tx.commit().await?;
        Ok(prepared.len())
    }

    /// Counts per question and answer over a round (or all rounds). Exact when the user has
    /// follow-up access to every counted case; otherwise cells below 5 are suppressed and the
    /// user needs statistics access.
    pub async fn questionnaire_summary(
        &self,
        ctx: &Ctx<'_>,
        round: Option<&str>,
    ) -> Result<Summary> {
        let rows = match round {
            Some(r) => {
                sqlx::query("SELECT case_id, answers FROM followup_assessments WHERE round = $1")
                    .bind(r)
                    .fetch_all(&self.pool)
                    .await?
            }
            None => {
                sqlx::query("SELECT case_id, answers FROM followup_assessments")
                    .fetch_all(&self.pool)
                    .await?
            }
        };
        let mut all = Vec::new();
        let mut exact = true;
        let mut checked = std::collections::BTreeMap::new();
        for r in &rows {
            let case: String = r.try_get("case_id")?;
            let ok = match checked.get(&case) {
                Some(ok) => *ok,
                None => {
                    let ok = self
                        .access_if_allowed(
                            ctx,
                            Action::ReadSection(Section::FollowUp),
                            uuid_of(&case)?,
                        )
                        .await?
                        .is_some();
                    checked.insert(case.clone(), ok);
                    ok
                }
            };
            exact &= ok;
            let a: String = r.try_get("answers")?;
            all.push(
                serde_json::from_str::<Answers>(&a).map_err(|e| StoreError::Data(e.to_string()))?,
            );
        }
        if !exact {
            let d = decide(ctx.actor, Action::ReadStatistics, Resource::System);
            if !d.allowed {
                return Err(StoreError::Forbidden(d.reason));
            }
        }
        let mut e = ctx.entry("followup.summary", "success", "");
        e.detail = format!("round={} exact={exact}", round.unwrap_or("*"));
        self.audit(e, ctx.now).await?;
        let counts = rules::summarise(&all);
        let cells = if exact {
            std::iter::once(all.len() as i64)
                .chain(counts.iter().map(|(_, _, n)| *n))
                .map(Cell::Count)
                .collect()
        } else {
            published_summary(all.len() as i64, &counts)
        };
        let mut cells = cells.into_iter();
        Ok(Summary {
            round: round.map(str::to_string),
            assessments: cells.next().unwrap_or(Cell::Count(0)),
            exact,
            rows: counts
                .into_iter()
                .zip(cells)
                .map(|((q, a, _), count)| SummaryRow {
                    question: q.into(),
                    answer: a.into(),
                    count,
                })
                .collect(),
        })
    }
}

/// The summary's counts (the number of assessments first, then one per question and answer)
/// with small cells and their complements hidden: the answers to a single-choice question add
/// up to at most the assessments (not everyone answers), a multi-choice answer is at most
/// the assessments.
fn published_summary(assessments: i64, counts: &[(&'static str, &'static str, i64)]) -> Vec<Cell> {
    use dayaq_domain::statistics::sdc::Constraint;
    let values: Vec<i64> = std::iter::once(assessments)
        .chain(counts.iter().map(|(_, _, n)| *n))
        .collect();
    let mut by_question: std::collections::BTreeMap<&str, Vec<usize>> = Default::default();
    for (i, (q, _, _)) in counts.iter().enumerate() {
        by_question.entry(q).or_default().push(i + 1);
    }
    let mut constraints = Vec::new();
    for (q, parts) in by_question {
        match rules::question(q).map(|q| q.kind) {
            Some(rules::QuestionKind::Single { .. }) => {
                constraints.push(Constraint::Within { total: 0, parts })
            }
            _ => constraints.extend(
                parts
                    .into_iter()
                    .map(|cell| Constraint::AtMost { cell, bound: 0 }),
            ),
        }
    }
    dayaq_domain::stats::publish(&values, &constraints)
}

/// Individual questionnaire answers, one row per assessment, in the import's column mapping.
#[derive(Debug, Clone, Default, Serialize, utoipa::ToSchema)]
pub struct QuestionnaireTable {
    pub header: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

/// The table as CSV (UTF-8, comma, CRLF, header row), formula-guarded.
pub fn questionnaire_csv(t: &QuestionnaireTable) -> Result<Vec<u8>> {
    Ok(dayaq_interchange::questionnaire::table_csv(
        &t.header, &t.rows,
    )?)
}

/// The table as an XLSX workbook (one sheet "questionnaire", every cell a string).
pub fn questionnaire_xlsx(t: &QuestionnaireTable) -> Result<Vec<u8>> {
    Ok(dayaq_interchange::questionnaire::table_xlsx(
        "questionnaire",
        &t.header,
        &t.rows,
    )?)
}

impl Store {
    /// Individual questionnaire answers of every case whose follow-up section the actor may
    /// read (one round, or all), in the import's column mapping. Needs `Action::ExportCases`.
    /// Her own words (the free-text column) are decrypted only with `free_text`, which needs
    /// `Action::ExportIdentities` too (the caller also checks the second factor, as for an
    /// identity export); otherwise that column is empty. Audited once (`followup.export`: counts,
    /// and with free text the case ids) before it is returned. Rows by case number, then date.
    pub async fn export_questionnaire(
        &self,
        ctx: &Ctx<'_>,
        round: Option<&str>,
        free_text: bool,
    ) -> Result<QuestionnaireTable> {
        self.authorize_export(ctx)?;
        if free_text && !self.may_export_identities(ctx) {
            return Err(StoreError::Forbidden("free_text_export_needs_case_manager"));
        }
        let cases: Vec<String> = match round {
            Some(r) => {
                sqlx::query_scalar(
                    "SELECT DISTINCT case_id FROM followup_assessments WHERE round = $1",
                )
                .bind(r)
                .fetch_all(&self.pool)
                .await?
            }
            None => {
                sqlx::query_scalar("SELECT DISTINCT case_id FROM followup_assessments")
                    .fetch_all(&self.pool)
                    .await?
            }
        };
        let mut allowed = Vec::new();
        for c in cases {
            if let Some(access) = self
                .access_if_allowed(ctx, Action::ReadSection(Section::FollowUp), uuid_of(&c)?)
                .await?
            {
                allowed.push(access);
            }
        }
        let header: Vec<String> = questionnaire_columns()
            .into_iter()
            .map(str::to_string)
            .collect();
        let mut keyed = Vec::new();
        let mut conn = self.pool.acquire().await?;
        for access in &allowed {
            let cs = access.id_str();
            let number: Option<String> = sqlx::query_scalar(
                "SELECT case_number FROM cases WHERE id = $1 AND erased_at IS NULL",
            )
            .bind(cs)
            .fetch_optional(&mut *conn)
            .await?
            .flatten();
            let Some(number) = number else { continue };
            let rows = sqlx::query(
                "SELECT id, round, assessed_on, answers, words, created_at FROM followup_assessments \
                 WHERE case_id = $1 AND ($2 = '' OR round = $2) ORDER BY assessed_on, created_at, id",
            )
            .bind(cs)
            .bind(round.unwrap_or(""))
            .fetch_all(&mut *conn)
            .await?;
            let mut key = None;
            for r in &rows {
                let id: String = r.try_get("id")?;
                let answers: Answers = serde_json::from_str(&r.try_get::<String, _>("answers")?)
                    .map_err(|e| StoreError::Data(e.to_string()))?;
                let words = match r.try_get::<Option<Vec<u8>>, _>("words")? {
                    Some(ct) if free_text => {
                        if key.is_none() {
                            key = Some(self.case_key(&mut conn, access).await?);
                        }
                        match &key {
                            Some(k) => {
                                let p = k.open(
                                    &field_aad("followup_assessments", "words", &id, "case"),
                                    &ct,
                                )?;
                                String::from_utf8_lossy(&p).into_owned()
                            }
                            None => String::new(),
                        }
                    }
                    _ => String::new(),
                };
                let mut row = vec![
                    number.clone(),
                    r.try_get("round")?,
                    r.try_get("assessed_on")?,
                ];
                for q in QUESTIONS {
                    row.push(answers.get(q.key).map(|v| v.join(";")).unwrap_or_default());
                }
                row.push(words);
                let order: (String, i64, String) = (
                    number.clone(),
                    r.try_get::<i64, _>("created_at")?,
                    id.clone(),
                );
                keyed.push((order, row));
            }
        }
        drop(conn);
        keyed.sort_by(|a, b| {
            (&a.0.0, &a.1[2], a.0.1, &a.0.2).cmp(&(&b.0.0, &b.1[2], b.0.1, &b.0.2))
        });
        let rows: Vec<Vec<String>> = keyed.into_iter().map(|(_, r)| r).collect();
        let mut e = ctx.entry("followup.export", "success", "");
        e.detail = format!(
            "round={} rows={} cases={} free_text={}",
            round.unwrap_or("*"),
            rows.len(),
            allowed.len(),
            if free_text { "include" } else { "none" }
        );
        if free_text {
            e.detail.push_str(&format!(
                " case_ids={}",
                allowed
                    .iter()
                    .map(CaseAccess::id_str)
                    .collect::<Vec<_>>()
                    .join(",")
            ));
        }
        self.audit(e, ctx.now).await?;
        Ok(QuestionnaireTable { header, rows })
    }
}

/// The summary as CSV (`question,answer,count`, CRLF), formula-guarded.
pub fn summary_csv(s: &Summary) -> Result<String> {
    Ok(dayaq_interchange::questionnaire::summary_csv(
        s.rows
            .iter()
            .map(|r| (r.question.as_str(), r.answer.as_str(), r.count.to_string())),
    )?)
}
