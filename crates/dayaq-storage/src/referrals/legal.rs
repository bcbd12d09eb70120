//! The criminal-justice link (legal section).
use super::*;
use crate::kernel::case_keys::open_text;

/// Criminal-justice link (legal section).
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LegalInput {
    /// Criminal case reference (encrypted).
    #[serde(default)]
    pub criminal_case_ref: Option<String>,
    /// Yes, No or Declined.
    pub cooperation: String,
    #[serde(default)]
    pub witness: bool,
    #[serde(default)]
    pub compensation_claim: bool,
    /// Non-punishment for offences the trafficker forced.
    #[serde(default)]
    pub non_punishment: bool,
}

const COOPERATION: &[&str] = &["Yes", "No", "Declined"];

impl Store {
    // ---------- legal (criminal-justice link) ----------

    pub async fn set_legal(&self, ctx: &Ctx<'_>, case: Uuid, l: &LegalInput) -> Result<()> {
        let access = self.authorize_case(ctx, Action::UpdateCase, case).await?;
        if !COOPERATION.contains(&l.cooperation.as_str()) {
            return Err(invalid(
                "cooperation",
                "invalid_value",
                "cooperation must be Yes, No or Declined",
            ));
        }
        if l.criminal_case_ref
            .as_deref()
            .is_some_and(|r| r.chars().count() > 100)
        {
            return Err(invalid(
                "criminal_case_ref",
                "too_long",
                "criminal_case_ref is longer than 100 characters",
            ));
        }
        let cs = case.to_string();
        let mut w = self.write_case(ctx, &access).await?;
        let key = self.case_key(&mut w, &access).await?;
        let sealed = match l
            .criminal_case_ref
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            Some(r) => Some(key.seal(
                &field_aad("case_legal", "criminal_case_ref", &cs, "case"),
                r.as_bytes(),
            )?),
            None => None,
        };
        w.exec("DELETE FROM case_legal WHERE case_id = $1").await?;
        sqlx::query(
            "INSERT INTO case_legal (case_id, criminal_case_ref, cooperation, witness, compensation_claim, non_punishment, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&cs)
        .bind(sealed)
        .bind(&l.cooperation)
        .bind(b(l.witness))
        .bind(b(l.compensation_claim))
        .bind(b(l.non_punishment))
        .bind(millis(ctx.now))
        .execute(&mut *w)
        .await?;
        w.event("legal.updated", &format!("cooperation={}", l.cooperation))
            .await?;
        w.commit("case.legal", String::new()).await?;
        Ok(())
    }

    /// The legal section (needs `Section::Legal`).
    pub async fn legal(&self, ctx: &Ctx<'_>, case: Uuid) -> Result<Option<LegalInput>> {
        let access = self
            .authorize_case(
                ctx,
                Action::ReadSection(dayaq_domain::policy::Section::Legal),
                case,
            )
            .await?;
        let cs = case.to_string();
        let Some(r) = sqlx::query("SELECT criminal_case_ref, cooperation, witness, compensation_claim, non_punishment FROM case_legal WHERE case_id = $1")
            .bind(&cs)
            .fetch_optional(&self.pool)
            .await?
        else {
            return Ok(None);
        };
        let sealed: Option<Vec<u8>> = r.try_get("criminal_case_ref")?;
        let reference = match sealed {
            Some(_) => {
                let mut conn = self.pool.acquire().await?;
                let key = self.case_key(&mut conn, &access).await?;
                open_text(&key, "case_legal", "criminal_case_ref", &cs, sealed)?
            }
            None => None,
        };
        Ok(Some(LegalInput {
            criminal_case_ref: reference,
            cooperation: r.try_get("cooperation")?,
            witness: r.try_get::<i64, _>("witness")? != 0,
            compensation_claim: r.try_get::<i64, _>("compensation_claim")? != 0,
            non_punishment: r.try_get::<i64, _>("non_punishment")? != 0,
        }))
    }
}
