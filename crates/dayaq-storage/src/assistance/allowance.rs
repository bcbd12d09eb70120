//! The one-time allowance (once per person, enforced by a UNIQUE index).

use super::*;

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Payment {
    pub id: Uuid,
    pub case_id: Uuid,
    pub org_id: Uuid,
    pub amount_minor: i64,
    pub currency: String,
    pub status: String,
    pub created_at: String,
}

const PAYMENT_STATUS: &[&str] = &["Requested", "Paid", "Cancelled"];

impl Store {
    /// The person key the once-per-person rule is enforced on: the case's keyed blind-index
    /// digest of name + birth date (the same person registered by two organisations has the
    /// same digest), else the case id.
    async fn person_key(&self, case: &str) -> Result<String> {
        let d: Option<String> = sqlx::query_scalar("SELECT digest FROM blind_index WHERE case_id = $1 AND kind = 'name_dob' ORDER BY digest LIMIT 1")
            .bind(case)
            .fetch_optional(&self.pool)
            .await?;
        Ok(match d {
            Some(d) => format!("name_dob:{d}"),
            None => format!("case:{case}"),
        })
    }

    /// Pays the one-time allowance (`amount_minor` in qəpik, AZN). Only for status
    /// ActualVictimOfTrafficking; once per person across all organisations — the UNIQUE
    /// index on `person_key` decides, so concurrent requests pay exactly once.
    pub async fn pay_allowance(
        &self,
        ctx: &Ctx<'_>,
        case: Uuid,
        amount_minor: i64,
    ) -> Result<Payment> {
        let access = self
            .authorize_case(ctx, Action::RequestAllowance, case)
            .await?;
        let cs = case.to_string();
        let s: String =
            sqlx::query_scalar("SELECT vic_trafficking_status FROM cases WHERE id = $1")
                .bind(&cs)
                .fetch_one(&self.pool)
                .await?;
        let status = TraffickingStatus::parse(&s).map_err(|e| StoreError::Data(e.message))?;
        allowance_eligibility(status).map_err(invalid)?;
        if !(1..=10_000_000).contains(&amount_minor) {
            return Err(invalid(FieldError::new(
                "amount_minor",
                "out_of_range",
                "amount must be positive",
            )));
        }
        let person = self.person_key(&cs).await?;
        let id = Uuid::new_v4();
        let now = millis(ctx.now);
        let mut w = self.write_case(ctx, &access).await?;
        sqlx::query(
            "INSERT INTO allowance_payments (id, person_key, case_id, org_id, amount_minor, currency, status, created_by, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, 'AZN', 'Requested', $6, $7, $7)",
        )
        .bind(id.to_string())
        .bind(&person)
        .bind(&cs)
        .bind(access.facts().owner_org.to_string())
        .bind(amount_minor)
        .bind(ctx.actor.user_id.to_string())
        .bind(now)
        .execute(&mut *w)
        .await
        .map_err(|e| unique_as(e, "allowance"))?;
        w.event(
            "allowance.requested",
            &format!("amount_minor={amount_minor}"),
        )
        .await?;
        w.commit("case.allowance", format!("payment={id}")).await?;
        Ok(Payment {
            id,
            case_id: case,
            org_id: access.facts().owner_org,
            amount_minor,
            currency: "AZN".into(),
            status: "Requested".into(),
            created_at: ts(now),
        })
    }

    /// Moves a payment to Paid or Cancelled (supervisor approval).
    pub async fn set_payment_status(
        &self,
        ctx: &Ctx<'_>,
        case: Uuid,
        payment: Uuid,
        status: &str,
    ) -> Result<()> {
        let access = self.authorize_case(ctx, Action::Approve, case).await?;
        if !PAYMENT_STATUS.contains(&status) {
            return Err(invalid(FieldError::new(
                "status",
                "invalid_value",
                "status must be Requested, Paid or Cancelled",
            )));
        }
        let mut w = self.write_case(ctx, &access).await?;
        w.set_status("UPDATE allowance_payments SET status = $1, updated_at = $2 WHERE id = $3 AND case_id = $4", status, payment)
            .await?;
        w.event("allowance.status", status).await?;
        w.commit(
            "case.allowance_status",
            format!("payment={payment} status={status}"),
        )
        .await?;
        Ok(())
    }

    /// Allowance payments of a case (needs `Section::Services`).
    pub async fn payments(&self, ctx: &Ctx<'_>, case: Uuid) -> Result<Vec<Payment>> {
        self.authorize_case(ctx, Action::ReadSection(Section::Services), case)
            .await?;
        let rows = sqlx::query("SELECT id, org_id, amount_minor, currency, status, created_at FROM allowance_payments WHERE case_id = $1 ORDER BY created_at, id")
            .bind(case.to_string())
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| {
                Ok(Payment {
                    id: uuid_of(&r.try_get::<String, _>("id")?)?,
                    case_id: case,
                    org_id: uuid_of(&r.try_get::<String, _>("org_id")?)?,
                    amount_minor: r.try_get("amount_minor")?,
                    currency: r.try_get("currency")?,
                    status: r.try_get("status")?,
                    created_at: ts(r.try_get("created_at")?),
                })
            })
            .collect()
    }
}
