//! Authorisation: the facts of a case, the policy question, the audited denial, and the
//! [`CaseAccess`] value that proves the question was asked and answered "allowed".

use super::{Ctx, millis};
use crate::{Result, Store, StoreError};
use dayaq_domain::policy::{Action, Actor, CaseFacts, Grant, Resource, Section, decide};
use dayaq_domain::referral::{ReferralFact, ReferralState, Service, grants};
use sqlx::Row;
use std::collections::HashMap;
use std::sync::atomic::Ordering;
use uuid::Uuid;

/// `referrals.ended_by` when the survivor's consent covering the referral was withdrawn.
pub(crate) const ENDED_BY_CONSENT: &str = "consent_withdrawn";

/// One case the policy allowed an action on, with the facts it decided on.
///
/// Only the kernel builds one (private fields, no public constructor): by
/// [`Store::authorize_case`], by `Store::access_if_allowed` (lists: a denial is skipped, not
/// audited) or by `Store::new_case_access` (a case created in the same transaction, after
/// `CreateCase` on the organisation). Holding one is what lets crate code open the case key
/// and write the case's timeline. Not `Clone`: pass it by reference.
#[derive(Debug)]
pub struct CaseAccess {
    id: Uuid,
    id_text: String,
    actor: Actor,
    action: Action,
    facts: CaseFacts,
}

impl CaseAccess {
    fn new(ctx: &Ctx<'_>, id: Uuid, action: Action, facts: CaseFacts) -> CaseAccess {
        CaseAccess {
            id,
            id_text: id.to_string(),
            actor: *ctx.actor,
            action,
            facts,
        }
    }

    pub fn id(&self) -> Uuid {
        self.id
    }

    /// The case id as stored (UUID text).
    pub fn id_str(&self) -> &str {
        &self.id_text
    }

    /// The action that was allowed.
    pub fn action(&self) -> Action {
        self.action
    }

    pub fn facts(&self) -> &CaseFacts {
        &self.facts
    }

    /// Would the policy allow `action` on this case to the same actor, on the same facts?
    /// No query: the facts loaded by the check are reused.
    pub fn may(&self, action: Action) -> bool {
        decide(&self.actor, action, Resource::Case(&self.facts)).allowed
    }

    /// Under which grant the actor reaches the case (`owner`, `referral`, `break_glass`),
    /// recorded in the audit row.
    pub fn grant(&self) -> &'static str {
        dayaq_domain::policy::access_grant(&self.actor, &self.facts)
    }

    /// The sections of the case the actor may read.
    pub fn readable_sections(&self) -> Vec<Section> {
        Section::ALL
            .iter()
            .copied()
            .filter(|s| self.may(Action::ReadSection(*s)))
            .collect()
    }
}

/// Do not confirm that another organisation's case exists.
pub(crate) fn deny_error(reason: &'static str) -> StoreError {
    match reason {
        "other_organisation" | "case_erased" | "role_without_case_access" => StoreError::NotFound,
        r => StoreError::Forbidden(r),
    }
}

fn uuid_of(s: &str) -> Result<Uuid> {
    Uuid::parse_str(s).map_err(|e| StoreError::Data(e.to_string()))
}

/// One row of `referrals` (`to_org, state, services, ended_at, ended_by`) as the policy's fact.
fn referral_fact(r: &sqlx::any::AnyRow) -> Result<ReferralFact> {
    let services: String = r.try_get("services")?;
    let ended_by: Option<String> = r.try_get("ended_by")?;
    Ok(ReferralFact {
        to_org: uuid_of(&r.try_get::<String, _>("to_org")?)?,
        state: ReferralState::parse(&r.try_get::<String, _>("state")?)
            .unwrap_or(ReferralState::Declined),
        services: services
            .split(',')
            .filter_map(|s| Service::parse_for("services", s).ok())
            .collect(),
        ended_at: r.try_get("ended_at")?,
        ended_by_consent: ended_by.as_deref() == Some(ENDED_BY_CONSENT),
    })
}

impl Store {
    /// The facts the policy needs about one case (3 queries: the case row, referral grants,
    /// break-glass holders).
    pub async fn case_facts(
        &self,
        id: Uuid,
        now: time::OffsetDateTime,
    ) -> Result<Option<CaseFacts>> {
        self.fact_loads.fetch_add(1, Ordering::Relaxed);
        let Some(r) = sqlx::query("SELECT owner_org_id, erased_at FROM cases WHERE id = $1")
            .bind(id.to_string())
            .fetch_optional(&self.pool)
            .await?
        else {
            return Ok(None);
        };
        let owner: String = r.try_get("owner_org_id")?;
        let now_ms = millis(now);
        let (grants, break_glass) = self.access_grants(id, now_ms).await?;
        Ok(Some(CaseFacts {
            owner_org: Uuid::parse_str(&owner).map_err(|e| StoreError::Data(e.to_string()))?,
            erased: r.try_get::<Option<i64>, _>("erased_at")?.is_some(),
            grants,
            break_glass,
        }))
    }

    /// How many times this store (and its clones) loaded a case's facts
    /// ([`Store::case_facts`]). For tests that check a request authorises once; in production
    /// it costs one relaxed atomic add per load.
    pub fn case_facts_loads(&self) -> u64 {
        self.fact_loads.load(Ordering::Relaxed)
    }

    /// Grants from referrals and active break-glass holders for one case, at `now_ms`.
    async fn access_grants(&self, case: Uuid, now_ms: i64) -> Result<(Vec<Grant>, Vec<Uuid>)> {
        let rows = sqlx::query(
            // Off-platform referrals (packages, `packages.rs`) never grant access here.
            "SELECT to_org, state, services, ended_at, ended_by FROM referrals WHERE case_id = $1 AND off_platform = 0 AND state IN ('Accepted', 'Completed', 'Withdrawn')",
        )
        .bind(case.to_string())
        .fetch_all(&self.pool)
        .await?;
        let facts = rows.iter().map(referral_fact).collect::<Result<Vec<_>>>()?;
        let holders: Vec<String> = sqlx::query_scalar(
            "SELECT user_id FROM break_glass WHERE case_id = $1 AND expires_at > $2",
        )
        .bind(case.to_string())
        .bind(now_ms)
        .fetch_all(&self.pool)
        .await?;
        let holders = holders
            .iter()
            .map(|u| uuid_of(u))
            .collect::<Result<Vec<_>>>()?;
        Ok((
            grants(&facts, now_ms, self.settings.referral_grace_ms),
            holders,
        ))
    }

    /// [`Store::access_if_allowed`] for every case that `scope` selects (a constant SQL
    /// `SELECT <case id> …` with `$1` = `bind`), in three queries for all of them rather than
    /// three per case: the lists' loader. Cases the policy refuses are left out (not
    /// audited, as in `access_if_allowed`).
    pub(crate) async fn accesses_if_allowed(
        &self,
        ctx: &Ctx<'_>,
        action: Action,
        scope: &'static str,
        bind: &str,
    ) -> Result<HashMap<Uuid, CaseAccess>> {
        self.fact_loads.fetch_add(1, Ordering::Relaxed);
        let now_ms = millis(ctx.now);
        let cases = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT id, owner_org_id, erased_at FROM cases WHERE id IN ({scope})"
        )))
        .bind(bind)
        .fetch_all(&self.pool)
        .await?;
        let referrals = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT case_id, to_org, state, services, ended_at, ended_by FROM referrals \
             WHERE case_id IN ({scope}) AND off_platform = 0 \
             AND state IN ('Accepted', 'Completed', 'Withdrawn')"
        )))
        .bind(bind)
        .fetch_all(&self.pool)
        .await?;
        let holders = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT case_id, user_id FROM break_glass WHERE case_id IN ({scope}) AND expires_at > $2"
        )))
        .bind(bind)
        .bind(now_ms)
        .fetch_all(&self.pool)
        .await?;
        let mut facts_of: HashMap<Uuid, Vec<ReferralFact>> = HashMap::new();
        for r in &referrals {
            let case = uuid_of(&r.try_get::<String, _>("case_id")?)?;
            facts_of.entry(case).or_default().push(referral_fact(r)?);
        }
        let mut holders_of: HashMap<Uuid, Vec<Uuid>> = HashMap::new();
        for r in &holders {
            let case = uuid_of(&r.try_get::<String, _>("case_id")?)?;
            let user = uuid_of(&r.try_get::<String, _>("user_id")?)?;
            holders_of.entry(case).or_default().push(user);
        }
        let mut out = HashMap::with_capacity(cases.len());
        for r in &cases {
            let id = uuid_of(&r.try_get::<String, _>("id")?)?;
            let facts = CaseFacts {
                owner_org: uuid_of(&r.try_get::<String, _>("owner_org_id")?)?,
                erased: r.try_get::<Option<i64>, _>("erased_at")?.is_some(),
                grants: grants(
                    facts_of.get(&id).map(Vec::as_slice).unwrap_or_default(),
                    now_ms,
                    self.settings.referral_grace_ms,
                ),
                break_glass: holders_of.remove(&id).unwrap_or_default(),
            };
            let access = CaseAccess::new(ctx, id, action, facts);
            if access.may(action) {
                out.insert(id, access);
            }
        }
        Ok(out)
    }

    /// Asks the policy about `action` on case `id`; audits and maps a denial. The answer
    /// carries the facts, so further questions on the same request need no query.
    pub async fn authorize_case(
        &self,
        ctx: &Ctx<'_>,
        action: Action,
        id: Uuid,
    ) -> Result<CaseAccess> {
        let facts = self
            .case_facts(id, ctx.now)
            .await?
            .ok_or(StoreError::NotFound)?;
        let access = CaseAccess::new(ctx, id, action, facts);
        self.require(ctx, &access, action).await?;
        Ok(access)
    }

    /// A further question on an already checked case (a section, closing …), answered from
    /// the facts of the check; a denial is audited and mapped as by `authorize_case`.
    pub(crate) async fn require(
        &self,
        ctx: &Ctx<'_>,
        access: &CaseAccess,
        action: Action,
    ) -> Result<()> {
        let d = decide(ctx.actor, action, Resource::Case(&access.facts));
        if !d.allowed {
            let mut e = ctx.entry("access.denied", "denied", access.id_str());
            e.detail = d.reason.to_string();
            self.audit(e, ctx.now).await?;
            return Err(deny_error(d.reason));
        }
        Ok(())
    }

    /// For lists: the access when the policy allows `action` on case `id`, `None` when it
    /// does not or the case does not exist (not audited: the row is simply left out).
    pub(crate) async fn access_if_allowed(
        &self,
        ctx: &Ctx<'_>,
        action: Action,
        id: Uuid,
    ) -> Result<Option<CaseAccess>> {
        let Some(facts) = self.case_facts(id, ctx.now).await? else {
            return Ok(None);
        };
        let access = CaseAccess::new(ctx, id, action, facts);
        Ok(access.may(action).then_some(access))
    }

    /// The access to a referral's case for the referral routes, whose own rules decided
    /// (the actor's organisation is the case owner or the referral's receiver;
    /// `referral::details_readable` for the details). The facts are loaded, so a sender's
    /// `ReferCase` is asked on them (`CaseAccess::may`).
    pub(crate) async fn access_by_referral(
        &self,
        ctx: &Ctx<'_>,
        action: Action,
        case: Uuid,
    ) -> Result<CaseAccess> {
        let facts = self
            .case_facts(case, ctx.now)
            .await?
            .ok_or(StoreError::NotFound)?;
        Ok(CaseAccess::new(ctx, case, action, facts))
    }

    /// The access to a case this request creates in its own transaction (an import, a new
    /// episode): the actor's organisation owns it, nobody else holds a grant yet. Asks
    /// `CreateCase` on the organisation.
    pub(crate) fn new_case_access(&self, ctx: &Ctx<'_>, id: &str) -> Result<CaseAccess> {
        self.authorize_org(ctx, Action::CreateCase)?;
        let id = Uuid::parse_str(id).map_err(|e| StoreError::Data(e.to_string()))?;
        let facts = CaseFacts {
            owner_org: ctx.actor.org_id,
            erased: false,
            grants: vec![],
            break_glass: vec![],
        };
        Ok(CaseAccess::new(ctx, id, Action::CreateCase, facts))
    }

    /// Asks the policy about `action` on the actor's own organisation.
    pub fn authorize_org(&self, ctx: &Ctx<'_>, action: Action) -> Result<()> {
        let d = decide(ctx.actor, action, Resource::Organisation(ctx.actor.org_id));
        if d.allowed {
            Ok(())
        } else {
            Err(StoreError::Forbidden(d.reason))
        }
    }
}
