//! The receiving organisation's view (issue #23 §8): the referrals waiting for its answer
//! (the badge), the cases it received by an accepted referral with their grants (for the
//! caseload list), and the services it was asked to deliver on a case.
use super::*;
use dayaq_domain::case::CaseView;
use dayaq_domain::policy::Section;

/// A case the actor's organisation received by an accepted referral, as it may see it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ReceivedCase {
    /// The case summary, redacted to the granted sections (as `get_case`).
    pub case: CaseView,
    /// The sections the accepted referral(s) grant.
    pub sections: Vec<Section>,
    /// The services the organisation was asked to deliver.
    pub services: Vec<String>,
}

impl Store {
    /// How many referrals addressed to the actor's organisation wait for an answer (Pending):
    /// the "new referrals" badge. Zero for a role that does not answer referrals.
    pub async fn new_referral_count(&self, ctx: &Ctx<'_>) -> Result<i64> {
        let d = decide(
            ctx.actor,
            Action::RespondReferral,
            Resource::Organisation(ctx.actor.org_id),
        );
        if !d.allowed {
            return Ok(0);
        }
        Ok(sqlx::query_scalar(
            "SELECT COUNT(*) FROM referrals r JOIN cases c ON c.id = r.case_id \
             WHERE r.to_org = $1 AND r.state = 'Pending' AND r.off_platform = 0 AND c.erased_at IS NULL",
        )
        .bind(ctx.actor.org_id.to_string())
        .fetch_one(&self.pool)
        .await?)
    }

    /// The cases the actor's organisation received by an accepted referral and may read now,
    /// most recent referral first, each with the sections granted and the services asked for.
    /// Every case passes the policy (`ReadCase`) on its current facts; the summary is redacted
    /// to the grant exactly as the case page is.
    pub async fn received_cases(&self, ctx: &Ctx<'_>, limit: i64) -> Result<Vec<ReceivedCase>> {
        self.authorize_org(ctx, Action::ListCases)?;
        let org = ctx.actor.org_id.to_string();
        let rows = sqlx::query(
            "SELECT r.case_id AS case_id, MAX(r.created_at) AS latest FROM referrals r JOIN cases c ON c.id = r.case_id \
             WHERE r.to_org = $1 AND r.state = 'Accepted' AND r.off_platform = 0 \
             AND c.erased_at IS NULL AND c.owner_org_id <> $1 \
             GROUP BY r.case_id ORDER BY latest DESC, r.case_id LIMIT $2",
        )
        .bind(&org)
        .bind(limit.clamp(1, 500))
        .fetch_all(&self.pool)
        .await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in &rows {
            let id = uuid_of(&r.try_get::<String, _>("case_id")?)?;
            let Some(access) = self.access_if_allowed(ctx, Action::ReadCase, id).await? else {
                continue;
            };
            let case = self.get_case_of(ctx, &access, false).await?;
            let services = self
                .referred_services(access.id_str(), ctx.actor.org_id)
                .await?
                .iter()
                .map(|s| s.as_str().to_string())
                .collect();
            out.push(ReceivedCase {
                case,
                sections: access.readable_sections(),
                services,
            });
        }
        Ok(out)
    }

    /// The services the actor's organisation was asked to deliver on a case it reads (its
    /// accepted referrals); empty for the owning organisation, which records any service.
    pub async fn asked_services(&self, ctx: &Ctx<'_>, case: Uuid) -> Result<Vec<Service>> {
        let access = self.authorize_case(ctx, Action::ReadCase, case).await?;
        if access.facts().owner_org == ctx.actor.org_id {
            return Ok(Vec::new());
        }
        self.referred_services(access.id_str(), ctx.actor.org_id)
            .await
    }

    /// The services `org` was asked to deliver on `case` by its accepted referrals (each once,
    /// in catalogue order). Empty for an organisation without an accepted referral.
    pub(crate) async fn referred_services(&self, case: &str, org: Uuid) -> Result<Vec<Service>> {
        let lists: Vec<String> = sqlx::query_scalar(
            "SELECT services FROM referrals WHERE case_id = $1 AND to_org = $2 AND state = 'Accepted' AND off_platform = 0",
        )
        .bind(case)
        .bind(org.to_string())
        .fetch_all(&self.pool)
        .await?;
        Ok(Service::ALL
            .iter()
            .copied()
            .filter(|s| lists.iter().any(|l| l.split(',').any(|x| x == s.as_str())))
            .collect())
    }
}
