//! Screenings, the formal identification decisions (every one kept) and the case's current
//! identification status.

use super::{Decision, DecisionRow, Screening, ScreeningRow, join};
use crate::kernel::{Ctx, ts};
use crate::{Result, Store, StoreError};
use dayaq_domain::identification::{ValidDecision, ValidScreening};
use dayaq_domain::policy::{Action, Section};
use dayaq_domain::vocab::TraffickingStatus;
use dayaq_domain::webhooks::{EventSubject, EventType};
use uuid::Uuid;

impl Store {
    /// Records a screening; the structured answer is kept with who screened.
    pub async fn add_screening(
        &self,
        ctx: &Ctx<'_>,
        case: Uuid,
        s: &ValidScreening,
    ) -> Result<Screening> {
        let access = self
            .authorize_case(ctx, Action::RecordScreening, case)
            .await?;
        let id = Uuid::new_v4();
        let cs = access.id_str();
        let moc: Vec<&str> = s.methods_of_control.iter().map(|m| m.as_str()).collect();
        let toe: Vec<&str> = s.types_of_exploitation.iter().map(|m| m.as_str()).collect();
        let mut w = self.write_case(ctx, &access).await?;
        let now = w.now();
        sqlx::query(
            "INSERT INTO screenings (id, case_id, act, means, purpose, is_child, methods_of_control, types_of_exploitation, \
             ilo_indicators, possible_victim, screened_by, screened_by_org, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
        )
        .bind(id.to_string())
        .bind(cs)
        .bind(i64::from(s.act))
        .bind(i64::from(s.means))
        .bind(i64::from(s.purpose))
        .bind(i64::from(s.is_child))
        .bind(join(&moc))
        .bind(join(&toe))
        .bind(join(&s.ilo_indicators))
        .bind(i64::from(s.possible_victim))
        .bind(ctx.actor.user_id.to_string())
        .bind(ctx.actor.org_id.to_string())
        .bind(now)
        .execute(&mut *w)
        .await?;
        // Methods of control found at screening become part of the victim context. Two
        // screenings of one case at the same moment may add the same value: the key decides
        // (a NOT EXISTS check races under PostgreSQL's read committed; found by the crash test).
        for m in &moc {
            sqlx::query(
                "INSERT INTO case_values (case_id, field, value) VALUES ($1, $2, $3) \
                 ON CONFLICT (case_id, field, value) DO NOTHING",
            )
            .bind(cs)
            .bind("vic_MethodsOfControl")
            .bind(*m)
            .execute(&mut *w)
            .await?;
        }
        let result = if s.possible_victim {
            "possible_victim"
        } else {
            "not_indicated"
        };
        w.event("screening.recorded", result).await?;
        w.commit("case.screening", result.into()).await?;
        Ok(Screening {
            id,
            act: s.act,
            means: s.means,
            purpose: s.purpose,
            is_child: s.is_child,
            methods_of_control: moc.iter().map(|m| m.to_string()).collect(),
            types_of_exploitation: toe.iter().map(|m| m.to_string()).collect(),
            ilo_indicators: s.ilo_indicators.clone(),
            possible_victim: s.possible_victim,
            screened_by_org: ctx.actor.org_id,
            created_at: ts(now),
        })
    }

    /// Screenings of a case (victim-context section: need-to-know for referred organisations).
    pub async fn screenings(&self, ctx: &Ctx<'_>, case: Uuid) -> Result<Vec<Screening>> {
        let read = Action::ReadSection(Section::VictimContext);
        let access = self.authorize_case(ctx, read, case).await?;
        let sql = "SELECT id, act, means, purpose, is_child, methods_of_control, types_of_exploitation, ilo_indicators, \
             possible_victim, screened_by_org, created_at FROM screenings WHERE case_id = $1 ORDER BY created_at, id";
        self.case_list(&access, sql, ScreeningRow::into_screening)
            .await
    }

    /// The formal identification decision. Only the competent authority (the policy says who)
    /// may decide; every decision is kept, the case carries the latest status.
    pub async fn decide_identification(
        &self,
        ctx: &Ctx<'_>,
        case: Uuid,
        d: &ValidDecision,
    ) -> Result<Decision> {
        let access = self
            .authorize_case(ctx, Action::DecideIdentification, case)
            .await?;
        let id = Uuid::new_v4();
        let cs = access.id_str();
        let mut w = self.write_case(ctx, &access).await?;
        let now = w.now();
        sqlx::query(
            "INSERT INTO identification_decisions (id, case_id, status, decision_making_org, decided_by, decided_by_org, \
             decided_on, reference, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(id.to_string())
        .bind(cs)
        .bind(d.status.as_str())
        .bind(d.decision_making_org.as_str())
        .bind(ctx.actor.user_id.to_string())
        .bind(ctx.actor.org_id.to_string())
        .bind(&d.decided_on)
        .bind(&d.reference)
        .bind(now)
        .execute(&mut *w)
        .await?;
        sqlx::query("UPDATE cases SET vic_trafficking_status = $1, version = version + 1, updated_at = $2 WHERE id = $3")
            .bind(d.status.as_str())
            .bind(now)
            .bind(cs)
            .execute(&mut *w)
            .await?;
        w.event("identification.decided", d.status.as_str()).await?;
        Self::enqueue_webhook(
            &mut w,
            access.facts().owner_org,
            EventType::DecisionMade,
            EventSubject {
                case_id: Some(case),
                decision_id: Some(id),
                ..Default::default()
            },
            ctx.now,
        )
        .await?;
        w.commit("case.identification", d.status.as_str().into())
            .await?;
        Ok(Decision {
            id,
            status: d.status.as_str().into(),
            decision_making_org: d.decision_making_org.as_str().into(),
            decided_by_org: ctx.actor.org_id,
            decided_on: d.decided_on.clone(),
            reference: d.reference.clone(),
            created_at: ts(now),
        })
    }

    /// Decision history, oldest first.
    pub async fn decisions(&self, ctx: &Ctx<'_>, case: Uuid) -> Result<Vec<Decision>> {
        let access = self.authorize_case(ctx, Action::ReadCase, case).await?;
        let sql = "SELECT id, status, decision_making_org, decided_by_org, decided_on, reference, created_at \
             FROM identification_decisions WHERE case_id = $1 ORDER BY created_at, id";
        self.case_list(&access, sql, DecisionRow::into_decision)
            .await
    }

    /// The current identification status of a case (for rules such as the allowance).
    pub async fn trafficking_status(&self, ctx: &Ctx<'_>, case: Uuid) -> Result<TraffickingStatus> {
        self.authorize_case(ctx, Action::ReadCase, case).await?;
        let s: String =
            sqlx::query_scalar("SELECT vic_trafficking_status FROM cases WHERE id = $1")
                .bind(case.to_string())
                .fetch_one(&self.pool)
                .await?;
        TraffickingStatus::parse(&s).map_err(|e| StoreError::Data(e.message))
    }
}
