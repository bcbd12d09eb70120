//! The caseload list (issue 23 §7): the organisation's own cases and the cases it received
//! by an accepted referral, each with its stage, next action and due date, assigned worker,
//! last contact and the name the organisation's policy shows. Filters and sort are plain
//! values (no personal data); pages follow a keyset cursor `<sort key>~<case id>`.
//!
//! The facts are read per table for the whole caseload (one grouped query each), limited per
//! row to the sections the reader may read (`ProgressFacts::visible_to`), and the stage and
//! prompts are the domain's pure functions; filter, sort and cursor are applied to the result.

use crate::kernel::{CaseAccess, Ctx, from_millis, millis, ts};
use crate::{Result, Store, StoreError};
use dayaq_domain::policy::{Action, CaseFacts, Resource, Section, decide};
use dayaq_domain::progress::{
    CaseloadSort, DisplayName, NextStep, PlanState, ProgressFacts, Prompt, Reader, Stage, initials,
    next_due, pseudonym,
};
use dayaq_domain::vocab::CaseStatus;
use dayaq_domain::{FieldError, ValidationErrors};
use serde::Serialize;
use sqlx::Row;
use std::collections::HashMap;
use time::Date;
use uuid::Uuid;

/// What the list is asked for (GET parameters; no personal data).
#[derive(Debug, Clone, Default)]
pub struct CaseloadQuery {
    pub stage: Option<Stage>,
    /// Only the cases the reader registered (is assigned to).
    pub mine: bool,
    /// Only the cases with at least one next-step prompt.
    pub needs_action: bool,
    pub status: Option<CaseStatus>,
    pub sort: Option<CaseloadSort>,
    /// The cursor of the previous page's last row.
    pub after: Option<String>,
    pub limit: i64,
}

/// One row of the caseload list.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CaseloadRow {
    pub id: Uuid,
    pub case_number: String,
    /// The name the organisation's policy shows: initials (only when the reader may read the
    /// identity; the read is audited), a pseudonym, or none.
    pub display_name: Option<String>,
    pub status: CaseStatus,
    pub stage: Stage,
    /// Next-step prompts, the next action first.
    pub next_steps: Vec<Prompt>,
    /// The earliest due date of the prompts (YYYY-MM-DD).
    pub due: Option<String>,
    /// The worker the case is assigned to (who registered it); own cases only.
    pub assigned_to: Option<String>,
    /// The latest contact the reader may see (RFC 3339).
    pub last_contact: Option<String>,
    /// The case was received by an accepted referral (another organisation owns it).
    pub referred_to_us: bool,
    pub created_at: String,
}

/// A case's place on the path and its prompts (the case page's header).
#[derive(Debug, Clone)]
pub struct CaseProgress {
    pub stage: Stage,
    pub steps: Vec<NextStep>,
}

/// One page of the caseload list; `next` is the cursor of the following page.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CaseloadPage {
    pub rows: Vec<CaseloadRow>,
    pub next: Option<String>,
    /// The organisation's display-name policy the rows follow.
    pub display_name: DisplayName,
}

struct Item {
    row: CaseloadRow,
    steps: Vec<NextStep>,
    assignee: Option<String>,
    key: i64,
}

/// The caseload's candidate cases: the organisation's own and those it received.
const CANDIDATES: &str = "SELECT id FROM cases WHERE owner_org_id = $1 AND erased_at IS NULL \
     UNION SELECT case_id FROM referrals WHERE to_org = $1 AND off_platform = 0 \
     AND state IN ('Accepted', 'Completed', 'Withdrawn')";

fn day(s: &str) -> Option<Date> {
    Date::parse(s, time::macros::format_description!("[year]-[month]-[day]")).ok()
}

fn day_text(d: Date) -> String {
    format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}

fn bad_cursor() -> StoreError {
    ValidationErrors::single(FieldError::new(
        "after",
        "invalid_value",
        "not a cursor of this list",
    ))
    .into()
}

fn parse_cursor(s: &str) -> Result<(i64, Uuid)> {
    let (k, id) = s.split_once('~').ok_or_else(bad_cursor)?;
    let k = k.parse::<i64>().map_err(|_| bad_cursor())?;
    Ok((k, Uuid::parse_str(id).map_err(|_| bad_cursor())?))
}

impl Store {
    /// The organisation's display-name policy for the caseload list (default `None`).
    pub async fn caseload_display_name(&self, org: Uuid) -> Result<DisplayName> {
        let v: Option<String> =
            sqlx::query_scalar("SELECT display_name FROM org_caseload_settings WHERE org_id = $1")
                .bind(org.to_string())
                .fetch_optional(&self.pool)
                .await?;
        Ok(v.and_then(|v| DisplayName::parse(&v).ok())
            .unwrap_or(DisplayName::None))
    }

    /// Sets the actor's organisation's display-name policy: an org admin or a supervisor of
    /// it (`Action::ManageDirectory`, like its other settings); audited
    /// `caseload.display_name`.
    pub async fn set_caseload_display_name(
        &self,
        ctx: &Ctx<'_>,
        policy: DisplayName,
    ) -> Result<DisplayName> {
        let org = ctx.actor.org_id;
        let d = decide(
            ctx.actor,
            Action::ManageDirectory,
            Resource::Organisation(org),
        );
        if !d.allowed {
            let mut e = ctx.entry("caseload.display_name", "denied", "");
            e.detail = d.reason.to_string();
            self.audit(e, ctx.now).await?;
            return Err(StoreError::Forbidden(d.reason));
        }
        let at = millis(ctx.now);
        let mut tx = self.begin_write().await?;
        sqlx::query("DELETE FROM org_caseload_settings WHERE org_id = $1")
            .bind(org.to_string())
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO org_caseload_settings (org_id, display_name, updated_by, updated_at) \
             VALUES ($1, $2, $3, $4)",
        )
        .bind(org.to_string())
        .bind(policy.as_str())
        .bind(ctx.actor.user_id.to_string())
        .bind(at)
        .execute(&mut *tx)
        .await?;
        let mut e = ctx.entry("caseload.display_name", "success", "");
        e.detail = format!("display_name={}", policy.as_str());
        tx.commit_with(&e, at).await?;
        Ok(policy)
    }

    /// Case ids of the caseload with one grouped value each (`SELECT case_id, <v> AS v …`).
    async fn caseload_values(
        &self,
        bind: &str,
        scope: &str,
        sql: &str,
    ) -> Result<Vec<sqlx::any::AnyRow>> {
        Ok(
            sqlx::query(sqlx::AssertSqlSafe(sql.replace("{CANDIDATES}", scope)))
                .bind(bind)
                .fetch_all(&self.pool)
                .await?,
        )
    }

    async fn caseload_set(
        &self,
        bind: &str,
        scope: &str,
        sql: &str,
    ) -> Result<HashMap<String, i64>> {
        let mut out = HashMap::new();
        for r in self.caseload_values(bind, scope, sql).await? {
            let v: Option<i64> = r.try_get("v")?;
            out.insert(r.try_get("case_id")?, v.unwrap_or(0));
        }
        Ok(out)
    }

    async fn caseload_days(
        &self,
        bind: &str,
        scope: &str,
        sql: &str,
    ) -> Result<HashMap<String, Date>> {
        let mut out = HashMap::new();
        for r in self.caseload_values(bind, scope, sql).await? {
            let v: Option<String> = r.try_get("v")?;
            if let Some(d) = v.as_deref().and_then(day) {
                out.insert(r.try_get("case_id")?, d);
            }
        }
        Ok(out)
    }

    /// The caseload list of the actor's organisation (policy `ListCases`): its own cases and
    /// those it received by an accepted referral, each row limited to what the reader may
    /// read. A received case's assigned worker is not shown.
    pub async fn caseload(&self, ctx: &Ctx<'_>, q: &CaseloadQuery) -> Result<CaseloadPage> {
        self.authorize_org(ctx, Action::ListCases)?;
        let after = q.after.as_deref().map(parse_cursor).transpose()?;
        let me = ctx.actor.org_id;
        let sort = q.sort.unwrap_or(CaseloadSort::Due);
        let me_user = ctx.actor.user_id.to_string();
        let mut items = self
            .progress_items(ctx, CANDIDATES, &me.to_string(), sort)
            .await?;
        items.retain(|i| {
            q.stage.is_none_or(|s| i.row.stage == s)
                && (!q.mine || i.assignee.as_deref() == Some(me_user.as_str()))
                && (!q.needs_action || !i.row.next_steps.is_empty())
                && q.status.is_none_or(|s| i.row.status == s)
        });
        // Uuid order is the order of its lower-case text (the cursor's form).
        items.sort_by_key(|i| (i.key, i.row.id));
        if let Some(after) = after {
            items.retain(|i| (i.key, i.row.id) > after);
        }
        let limit = q.limit.clamp(1, 200) as usize;
        let more = items.len() > limit;
        items.truncate(limit);
        let next = if more {
            items.last().map(|i| format!("{}~{}", i.key, i.row.id))
        } else {
            None
        };
        let policy = self.caseload_display_name(me).await?;
        let mut rows = Vec::with_capacity(items.len());
        for mut i in items {
            i.row.display_name = self.display_name_of(ctx, policy, i.row.id).await?;
            rows.push(i.row);
        }
        Ok(CaseloadPage {
            rows,
            next,
            display_name: policy,
        })
    }

    /// One case's stage and next steps for its page (policy `ReadCase`, denial audited),
    /// from the same facts as its caseload row.
    pub async fn case_progress(&self, ctx: &Ctx<'_>, id: Uuid) -> Result<CaseProgress> {
        self.authorize_case(ctx, Action::ReadCase, id).await?;
        let item = self
            .progress_items(
                ctx,
                "SELECT id FROM cases WHERE id = $1",
                &id.to_string(),
                CaseloadSort::Due,
            )
            .await?
            .pop()
            .ok_or(StoreError::NotFound)?;
        Ok(CaseProgress {
            stage: item.row.stage,
            steps: item.steps,
        })
    }

    /// The rows of the cases `scope` selects (SQL with `$1` = `bind`), each with the facts
    /// its reader may see; rows the reader may not read are left out.
    async fn progress_items(
        &self,
        ctx: &Ctx<'_>,
        scope: &'static str,
        bind: &str,
        sort: CaseloadSort,
    ) -> Result<Vec<Item>> {
        let today = ctx.now.date();
        let me = ctx.actor.org_id;
        let org = me.to_string();
        let base = self
            .caseload_values(
                bind,
                scope,
                "SELECT c.id AS case_id, c.case_number, c.owner_org_id, c.cas_status, \
                 c.created_at, c.created_by, u.username FROM cases c \
                 LEFT JOIN users u ON u.id = c.created_by \
                 WHERE c.erased_at IS NULL AND c.id IN ({CANDIDATES})",
            )
            .await?;
        let consent = self
            .caseload_set(
                bind,
                scope,
                "SELECT case_id, MAX(CAST(CASE WHEN given = 1 AND withdrawn_at IS NULL THEN 1 ELSE 0 END AS BIGINT)) AS v \
                 FROM consents WHERE case_id IN ({CANDIDATES}) GROUP BY case_id",
            )
            .await?;
        let screened = self
            .caseload_set(
                bind,
                scope,
                "SELECT case_id, COUNT(*) AS v FROM screenings WHERE case_id IN ({CANDIDATES}) GROUP BY case_id",
            )
            .await?;
        let decided = self
            .caseload_set(
                bind,
                scope,
                "SELECT case_id, COUNT(*) AS v FROM identification_decisions WHERE case_id IN ({CANDIDATES}) GROUP BY case_id",
            )
            .await?;
        let referred = self
            .caseload_set(
                bind,
                scope,
                "SELECT case_id, MIN(CASE WHEN state = 'Pending' THEN created_at END) AS v \
                 FROM referrals WHERE case_id IN ({CANDIDATES}) GROUP BY case_id",
            )
            .await?;
        // The latest plan: awaiting approval (v = 0) or approved (v = 1).
        let plan = self
            .caseload_set(
                bind,
                scope,
                "SELECT p.case_id, CAST(CASE WHEN p.approved_at IS NULL THEN 0 ELSE 1 END AS BIGINT) AS v FROM plans p \
                 WHERE p.case_id IN ({CANDIDATES}) AND p.created_at = \
                 (SELECT MAX(q.created_at) FROM plans q WHERE q.case_id = p.case_id)",
            )
            .await?;
        let action_due = self
            .caseload_days(
                bind,
                scope,
                "SELECT p.case_id, MIN(a.due_on) AS v FROM plan_actions a JOIN plans p ON p.id = a.plan_id \
                 WHERE a.status IN ('Planned', 'InProgress') AND a.due_on IS NOT NULL \
                 AND p.case_id IN ({CANDIDATES}) GROUP BY p.case_id",
            )
            .await?;
        let services = self
            .caseload_set(
                bind,
                scope,
                "SELECT case_id, COUNT(*) AS v FROM services_delivered WHERE case_id IN ({CANDIDATES}) GROUP BY case_id",
            )
            .await?;
        let followup = self
            .caseload_set(
                bind,
                scope,
                "SELECT case_id, COUNT(*) AS v FROM followup_plans WHERE case_id IN ({CANDIDATES}) GROUP BY case_id",
            )
            .await?;
        let followup_due = self
            .caseload_days(
                bind,
                scope,
                "SELECT case_id, MIN(due_on) AS v FROM followup_tasks WHERE state = 'open' \
                 AND case_id IN ({CANDIDATES}) GROUP BY case_id",
            )
            .await?;
        let contact = self
            .caseload_set(
                bind,
                scope,
                "SELECT case_id, MAX(created_at) AS v FROM contacts WHERE case_id IN ({CANDIDATES}) GROUP BY case_id",
            )
            .await?;
        let fu_contact = self
            .caseload_set(
                bind,
                scope,
                "SELECT case_id, MAX(at) AS v FROM followup_contacts WHERE case_id IN ({CANDIDATES}) GROUP BY case_id",
            )
            .await?;

        // The owner's readable sections are the same for every own case.
        let own_facts = CaseFacts {
            owner_org: me,
            erased: false,
            grants: vec![],
            break_glass: vec![],
        };
        let own_sections: Vec<Section> = Section::ALL
            .iter()
            .copied()
            .filter(|s| {
                decide(
                    ctx.actor,
                    Action::ReadSection(*s),
                    Resource::Case(&own_facts),
                )
                .allowed
            })
            .collect();
        let own_may_read = decide(ctx.actor, Action::ReadCase, Resource::Case(&own_facts)).allowed;

        // Received cases: the policy's facts of all of them in three queries.
        let received_access = self
            .accesses_if_allowed(ctx, Action::ReadCase, scope, bind)
            .await?;
        let mut items: Vec<Item> = Vec::with_capacity(base.len());
        for r in &base {
            let id: String = r.try_get("case_id")?;
            let uid = Uuid::parse_str(&id).map_err(|e| StoreError::Data(e.to_string()))?;
            let owner: String = r.try_get("owner_org_id")?;
            let received = owner != org;
            let (reader, sections) = if received {
                match received_access.get(&uid) {
                    Some(a) => (Reader::Other, a.readable_sections()),
                    None => continue,
                }
            } else if own_may_read {
                (Reader::Owner, own_sections.clone())
            } else {
                continue;
            };
            let status = CaseStatus::parse(&r.try_get::<String, _>("cas_status")?)
                .map_err(|e| StoreError::Data(e.message))?;
            let has = |m: &HashMap<String, i64>| Some(m.get(&id).is_some_and(|v| *v > 0));
            let facts = ProgressFacts {
                closed: matches!(status, CaseStatus::Closed | CaseStatus::ClosedReferred),
                received,
                consent: has(&consent),
                screened: has(&screened),
                decided: has(&decided),
                referred: Some(referred.contains_key(&id)),
                pending_referral_since: referred
                    .get(&id)
                    .filter(|v| **v > 0)
                    .map(|v| from_millis(*v).date()),
                plan: Some(match plan.get(&id) {
                    None => PlanState::NoPlan,
                    Some(0) => PlanState::AwaitingApproval,
                    Some(_) => PlanState::Approved,
                }),
                plan_action_due: action_due.get(&id).copied(),
                services: has(&services),
                followup: has(&followup),
                followup_due: followup_due.get(&id).copied(),
            }
            .visible_to(reader, &sections);
            let steps = facts.next_steps(today);
            let due = next_due(&steps);
            let may = |s: Section| sections.contains(&s);
            let last_contact = [
                contact.get(&id).filter(|_| may(Section::VictimContext)),
                fu_contact.get(&id).filter(|_| may(Section::FollowUp)),
            ]
            .into_iter()
            .flatten()
            .copied()
            .max();
            let created_at: i64 = r.try_get("created_at")?;
            let key = match sort {
                CaseloadSort::Due => due
                    .map(|d| i64::from(d.to_julian_day()))
                    .unwrap_or(i64::MAX),
                CaseloadSort::LastContact => last_contact.map(|t| -t).unwrap_or(i64::MAX),
                CaseloadSort::Newest => -created_at,
            };
            let assignee: Option<String> = r.try_get("created_by")?;
            let row = CaseloadRow {
                id: uid,
                case_number: r.try_get("case_number")?,
                display_name: None,
                status,
                stage: facts.stage(),
                next_steps: steps.iter().map(|s| s.prompt).collect(),
                due: due.map(day_text),
                assigned_to: if received {
                    None
                } else {
                    r.try_get("username")?
                },
                last_contact: last_contact.map(ts),
                referred_to_us: received,
                created_at: ts(created_at),
            };
            items.push(Item {
                row,
                steps,
                assignee: if received { None } else { assignee },
                key,
            });
        }
        Ok(items)
    }

    /// The row's name under the policy. Initials only when the reader may read the identity
    /// section; the decryption is an identity read, audited as such (`get_case_of`).
    async fn display_name_of(
        &self,
        ctx: &Ctx<'_>,
        policy: DisplayName,
        id: Uuid,
    ) -> Result<Option<String>> {
        match policy {
            DisplayName::None => Ok(None),
            DisplayName::Pseudonym => Ok(Some(pseudonym(id))),
            DisplayName::Initials => {
                let Some(access): Option<CaseAccess> =
                    self.access_if_allowed(ctx, Action::ReadCase, id).await?
                else {
                    return Ok(None);
                };
                if !access.may(Action::ReadSection(Section::Identity)) {
                    return Ok(None);
                }
                let v = self.get_case_of(ctx, &access, true).await?;
                Ok(v.identity
                    .map(|i| initials(i.first_name.as_deref(), i.second_name.as_deref()))
                    .filter(|s| !s.is_empty()))
            }
        }
    }
}

/// The caseload list's GET parameters as sent (API and screen): every one optional text,
/// parsed by [`CaseloadParams::query`] into a [`CaseloadQuery`] with field-named errors.
#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CaseloadParams {
    /// Only cases at this stage: Contact, Screening, Identification, Referral, Assistance, FollowUp.
    pub stage: Option<String>,
    /// `true`: only the cases assigned to the caller.
    pub mine: Option<String>,
    /// `true`: only the cases with a next-step prompt.
    pub needs_action: Option<String>,
    /// Only cases with this cas_Status: Active, FollowUp, Closed, ClosedReferred.
    pub status: Option<String>,
    /// Due (default), LastContact or Newest.
    pub sort: Option<String>,
    /// The `next` cursor of the previous page.
    pub after: Option<String>,
    /// Rows per page (1-200, default 50).
    pub limit: Option<String>,
}

impl CaseloadParams {
    /// The query these parameters ask for; an empty parameter is no filter. Every refused
    /// parameter is named (never its value).
    pub fn query(&self) -> std::result::Result<CaseloadQuery, ValidationErrors> {
        let mut errors = Vec::new();
        let text = |v: &Option<String>| {
            v.as_deref()
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
        };
        let mut flag = |name: &str, v: &Option<String>| match text(v).as_deref() {
            None | Some("false") => false,
            Some("true" | "1" | "on") => true,
            Some(_) => {
                errors.push(FieldError::new(name, "invalid_value", "true or false"));
                false
            }
        };
        let mine = flag("mine", &self.mine);
        let needs_action = flag("needs_action", &self.needs_action);
        let stage =
            text(&self.stage).and_then(|s| Stage::parse(&s).map_err(|e| errors.push(e)).ok());
        let status = text(&self.status).and_then(|s| {
            CaseStatus::parse_for("status", &s)
                .map_err(|e| errors.push(e))
                .ok()
        });
        let sort =
            text(&self.sort).and_then(|s| CaseloadSort::parse(&s).map_err(|e| errors.push(e)).ok());
        let limit = match text(&self.limit) {
            None => 50,
            Some(s) => match s.parse::<i64>() {
                Ok(n) if (1..=200).contains(&n) => n,
                _ => {
                    errors.push(FieldError::new(
                        "limit",
                        "out_of_range",
                        "a number from 1 to 200",
                    ));
                    50
                }
            },
        };
        let after = text(&self.after);
        if let Some(a) = &after
            && parse_cursor(a).is_err()
        {
            errors.push(FieldError::new(
                "after",
                "invalid_value",
                "not a cursor of this list",
            ));
        }
        if !errors.is_empty() {
            return Err(ValidationErrors { errors });
        }
        Ok(CaseloadQuery {
            stage,
            mine,
            needs_action,
            status,
            sort,
            after,
            limit,
        })
    }
}
