//! Funding sources, grants, cost reports and the screens' read models of them.

use super::*;

const FUNDING_KINDS: &[&str] = &["StateBudget", "VictimAssistanceFund", "Donor", "Other"];

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GrantInput {
    pub amount_minor: i64,
    pub currency: String,
    pub period_start: String,
    pub period_end: String,
    pub purpose: String,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Grant {
    pub id: Uuid,
    pub amount_minor: i64,
    pub currency: String,
    pub period_start: String,
    pub period_end: String,
    pub purpose: String,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct FundingSource {
    pub id: Uuid,
    pub name: String,
    pub kind: String,
    pub grants: Vec<Grant>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct SourceCost {
    pub source_id: Uuid,
    pub name: String,
    pub services_minor: i64,
    pub shelter_minor: i64,
    pub total_minor: i64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct CostReport {
    /// AZN minor units throughout.
    pub per_source: Vec<SourceCost>,
    /// (case id, total) — the survivor is the case; no personal data.
    pub per_survivor: Vec<(Uuid, i64)>,
    /// (service type, total); shelter days count as Shelter.
    pub per_service: Vec<(String, i64)>,
    pub total_minor: i64,
}

/// Sums cost lines (source id, source name, case, service, amount) into the report, sorted.
fn cost_report_of(lines: &[(Uuid, String, Uuid, String, i64)]) -> CostReport {
    use std::collections::BTreeMap;
    let mut src: BTreeMap<(String, Uuid), (i64, i64)> = BTreeMap::new();
    let mut case: BTreeMap<Uuid, i64> = BTreeMap::new();
    let mut svc: BTreeMap<String, i64> = BTreeMap::new();
    let mut total = 0;
    for (sid, name, c, service, amount) in lines {
        let e = src.entry((name.clone(), *sid)).or_default();
        if service == Service::Shelter.as_str() {
            e.1 += amount;
        } else {
            e.0 += amount;
        }
        *case.entry(*c).or_default() += amount;
        *svc.entry(service.clone()).or_default() += amount;
        total += amount;
    }
    CostReport {
        per_source: src
            .into_iter()
            .map(|((name, source_id), (a, b))| SourceCost {
                source_id,
                name,
                services_minor: a,
                shelter_minor: b,
                total_minor: a + b,
            })
            .collect(),
        per_survivor: case.into_iter().collect(),
        per_service: svc.into_iter().collect(),
        total_minor: total,
    }
}

impl Store {
    /// A funding source of the actor's organisation (supervisor or org admin).
    pub async fn add_funding_source(&self, ctx: &Ctx<'_>, name: &str, kind: &str) -> Result<Uuid> {
        self.authorize_org(ctx, Action::ManageDirectory)?;
        let mut errs = ValidationErrors::default();
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 200 {
            errs.push(FieldError::new(
                "name",
                "invalid_value",
                "name is required (at most 200 characters)",
            ));
        }
        if !FUNDING_KINDS.contains(&kind) {
            errs.push(FieldError::new(
                "kind",
                "invalid_value",
                format!("kind must be one of {}", FUNDING_KINDS.join(", ")),
            ));
        }
        errs.into_result()?;
        let id = Uuid::new_v4();
        let now = millis(ctx.now);
        let mut tx = self.begin_write().await?;
        sqlx::query("INSERT INTO funding_sources (id, org_id, name, kind, created_at) VALUES ($1, $2, $3, $4, $5)")
            .bind(id.to_string())
            .bind(ctx.actor.org_id.to_string())
            .bind(name)
            .bind(kind)
            .bind(now)
            .execute(&mut *tx)
            .await
            .map_err(|e| unique_as(e, "name"))?;
        tx.commit_with(
            &Self::audit_entry(ctx, "funding.source_add", "", format!("source={id}")),
            now,
        )
        .await?;
        Ok(id)
    }

    /// A grant from a source of the actor's organisation.
    pub async fn add_grant(&self, ctx: &Ctx<'_>, source: Uuid, g: &GrantInput) -> Result<Uuid> {
        self.authorize_org(ctx, Action::ManageDirectory)?;
        let owner: Option<String> =
            sqlx::query_scalar("SELECT org_id FROM funding_sources WHERE id = $1")
                .bind(source.to_string())
                .fetch_optional(&self.pool)
                .await?;
        if owner != Some(ctx.actor.org_id.to_string()) {
            return Err(StoreError::NotFound);
        }
        let mut errs = ValidationErrors::default();
        if !(1..=1_000_000_000_000).contains(&g.amount_minor) {
            errs.push(FieldError::new(
                "amount_minor",
                "out_of_range",
                "amount_minor must be positive",
            ));
        }
        if !(g.currency.len() == 3 && g.currency.bytes().all(|b| b.is_ascii_uppercase())) {
            errs.push(FieldError::new(
                "currency",
                "invalid_value",
                "currency must be an ISO 4217 code such as AZN, USD or EUR",
            ));
        }
        let start = parse_date("period_start", &g.period_start)
            .map_err(|e| errs.push(e))
            .ok();
        let end = parse_date("period_end", &g.period_end)
            .map_err(|e| errs.push(e))
            .ok();
        if let (Some(s), Some(e)) = (start, end)
            && e < s
        {
            errs.push(FieldError::new(
                "period_end",
                "before_start",
                "period_end is before period_start",
            ));
        }
        let purpose = g.purpose.trim();
        if purpose.is_empty() || purpose.chars().count() > 500 {
            errs.push(FieldError::new(
                "purpose",
                "invalid_value",
                "purpose is required (at most 500 characters)",
            ));
        }
        errs.into_result()?;
        let (Some(start), Some(end)) = (start, end) else {
            return Err(StoreError::Data("unreachable".into()));
        };
        let id = Uuid::new_v4();
        let now = millis(ctx.now);
        let mut tx = self.begin_write().await?;
        sqlx::query("INSERT INTO grants (id, source_id, amount_minor, currency, period_start, period_end, purpose, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)")
            .bind(id.to_string())
            .bind(source.to_string())
            .bind(g.amount_minor)
            .bind(&g.currency)
            .bind(fmt_date(start))
            .bind(fmt_date(end))
            .bind(purpose)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        tx.commit_with(
            &Self::audit_entry(ctx, "funding.grant_add", "", format!("grant={id}")),
            now,
        )
        .await?;
        Ok(id)
    }

    /// Funding sources of the actor's organisation with their grants.
    pub async fn funding_sources(&self, ctx: &Ctx<'_>) -> Result<Vec<FundingSource>> {
        self.authorize_org(ctx, Action::ManageDirectory)?;
        let rows = sqlx::query(
            "SELECT id, name, kind FROM funding_sources WHERE org_id = $1 ORDER BY name, id",
        )
        .bind(ctx.actor.org_id.to_string())
        .fetch_all(&self.pool)
        .await?;
        let mut out = Vec::new();
        for r in &rows {
            let ids: String = r.try_get("id")?;
            let grows = sqlx::query("SELECT id, amount_minor, currency, period_start, period_end, purpose FROM grants WHERE source_id = $1 ORDER BY period_start, id")
                .bind(&ids)
                .fetch_all(&self.pool)
                .await?;
            let mut grants = Vec::new();
            for g in &grows {
                grants.push(Grant {
                    id: uuid_of(&g.try_get::<String, _>("id")?)?,
                    amount_minor: g.try_get("amount_minor")?,
                    currency: g.try_get("currency")?,
                    period_start: g.try_get("period_start")?,
                    period_end: g.try_get("period_end")?,
                    purpose: g.try_get("purpose")?,
                });
            }
            out.push(FundingSource {
                id: uuid_of(&ids)?,
                name: r.try_get("name")?,
                kind: r.try_get("kind")?,
                grants,
            });
        }
        Ok(out)
    }

    /// Costs charged to the actor's organisation's funding sources on `ctx.now`: services
    /// delivered (their cost) and shelter days (days stayed up to the exit or today, excluding
    /// the exit day, times the daily cost); per source, per survivor (case) and per service type.
    pub async fn cost_report(&self, ctx: &Ctx<'_>) -> Result<CostReport> {
        self.authorize_org(ctx, Action::ManageDirectory)?;
        let lines = self
            .cost_lines(Some(ctx.actor.org_id), ctx.now.date())
            .await?
            .into_iter()
            .map(|l| {
                (
                    l.source_id,
                    l.source_name,
                    l.case_id,
                    l.service,
                    l.amount_minor,
                )
            })
            .collect::<Vec<_>>();
        Ok(cost_report_of(&lines))
    }

    /// Cost lines charged to funding sources (of `org`, or of every organisation): services
    /// delivered (their cost) and shelter days (days stayed up to the exit or `today`,
    /// excluding the exit day, times the daily cost). Uncharged costs are not included.
    async fn cost_lines(&self, org: Option<Uuid>, today: Date) -> Result<Vec<CostLine>> {
        let (services_sql, stays_sql) = if org.is_some() {
            (
                "SELECT f.id, f.name, f.kind, s.case_id, s.service, s.cost_minor FROM services_delivered s \
                 JOIN funding_sources f ON f.id = s.funding_source_id WHERE f.org_id = $1",
                "SELECT f.id, f.name, f.kind, s.case_id, s.admitted_on, s.exited_on, s.daily_cost_minor FROM shelter_stays s \
                 JOIN funding_sources f ON f.id = s.funding_source_id WHERE f.org_id = $1",
            )
        } else {
            (
                "SELECT f.id, f.name, f.kind, s.case_id, s.service, s.cost_minor FROM services_delivered s \
                 JOIN funding_sources f ON f.id = s.funding_source_id",
                "SELECT f.id, f.name, f.kind, s.case_id, s.admitted_on, s.exited_on, s.daily_cost_minor FROM shelter_stays s \
                 JOIN funding_sources f ON f.id = s.funding_source_id",
            )
        };
        let org = org.map(|o| o.to_string());
        let mut q = sqlx::query(services_sql);
        if let Some(o) = &org {
            q = q.bind(o);
        }
        let mut lines = Vec::new();
        for r in &q.fetch_all(&self.pool).await? {
            lines.push(CostLine {
                source_id: uuid_of(&r.try_get::<String, _>("id")?)?,
                source_name: r.try_get("name")?,
                source_kind: r.try_get("kind")?,
                case_id: uuid_of(&r.try_get::<String, _>("case_id")?)?,
                service: r.try_get("service")?,
                amount_minor: r.try_get("cost_minor")?,
            });
        }
        let mut q = sqlx::query(stays_sql);
        if let Some(o) = &org {
            q = q.bind(o);
        }
        for r in &q.fetch_all(&self.pool).await? {
            let from = parse_date("admitted_on", &r.try_get::<String, _>("admitted_on")?)
                .map_err(|e| StoreError::Data(e.message))?;
            let to = match r.try_get::<Option<String>, _>("exited_on")? {
                Some(d) => parse_date("exited_on", &d)
                    .map_err(|e| StoreError::Data(e.message))?
                    .min(today),
                None => today,
            };
            let days = (to - from).whole_days().max(0);
            let daily: i64 = r.try_get("daily_cost_minor")?;
            lines.push(CostLine {
                source_id: uuid_of(&r.try_get::<String, _>("id")?)?,
                source_name: r.try_get("name")?,
                source_kind: r.try_get("kind")?,
                case_id: uuid_of(&r.try_get::<String, _>("case_id")?)?,
                service: Service::Shelter.as_str().into(),
                amount_minor: days * daily,
            });
        }
        Ok(lines)
    }
}

// ---------- read models of the screens (funding options, national overview) ----------

/// One cost charged to a funding source (internal to the cost reports).
struct CostLine {
    source_id: Uuid,
    source_name: String,
    source_kind: String,
    case_id: Uuid,
    service: String,
    amount_minor: i64,
}

/// A funding source as a form choice (no amounts).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct FundingOption {
    pub id: Uuid,
    pub name: String,
    pub kind: String,
}

/// Funding of one kind of source across all organisations. Money is `None` when the survivor
/// count is suppressed (1–4 survivors): a small total would tell what one person received.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct KindFunding {
    pub kind: String,
    pub sources: i64,
    /// (currency, total of grants in minor units)
    pub grants: Vec<(String, i64)>,
    pub survivors: Cell,
    pub services_minor: Option<i64>,
    pub shelter_minor: Option<i64>,
    pub total_minor: Option<i64>,
}

/// Charged costs of one service type across all organisations (shelter days count as Shelter).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct ServiceFunding {
    pub service: String,
    pub survivors: Cell,
    pub total_minor: Option<i64>,
}

/// The national coordinator's funding overview: aggregates only, small cells suppressed
/// (`dayaq_domain::stats::Cell`), no case ids, no organisation names.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct FundingOverview {
    pub per_kind: Vec<KindFunding>,
    pub per_service: Vec<ServiceFunding>,
    pub survivors: Option<Cell>,
    pub total_minor: Option<i64>,
}

/// Money is published only with a published survivor count.
fn money_if(survivors: Cell, minor: i64) -> Option<i64> {
    match survivors {
        Cell::Count(_) => Some(minor),
        Cell::Suppressed(_) => None,
    }
}

/// Aggregates cost lines and source counts into the overview (pure; every funding kind is
/// listed, in the vocabulary's order, so that an empty kind shows as zero).
fn funding_overview_of(
    lines: &[CostLine],
    sources: &[(String, i64)],
    grants: &[(String, String, i64)],
) -> FundingOverview {
    use dayaq_domain::statistics::sdc::Constraint;
    use std::collections::{BTreeMap, BTreeSet};
    let survivors_of = |pred: &dyn Fn(&CostLine) -> bool| {
        let set: BTreeSet<Uuid> = lines
            .iter()
            .filter(|l| pred(l))
            .map(|l| l.case_id)
            .collect();
        set.len() as i64
    };
    let mut by_service: BTreeMap<&str, i64> = BTreeMap::new();
    for l in lines {
        *by_service.entry(l.service.as_str()).or_default() += l.amount_minor;
    }
    // Survivors: all, then per kind, then per service. A survivor may be funded by several
    // kinds and receive several services (multi-valued): each is at most all, together at
    // least all. Complementary suppression over them (the national report's rule).
    let mut values = vec![survivors_of(&|_| true)];
    values.extend(
        FUNDING_KINDS
            .iter()
            .map(|kind| survivors_of(&|l: &CostLine| l.source_kind == *kind)),
    );
    values.extend(
        by_service
            .keys()
            .map(|service| survivors_of(&|l: &CostLine| l.service == *service)),
    );
    let kinds: Vec<usize> = (1..=FUNDING_KINDS.len()).collect();
    let services: Vec<usize> = (FUNDING_KINDS.len() + 1..values.len()).collect();
    let mut constraints = Vec::new();
    for parts in [kinds, services] {
        constraints.extend(
            parts
                .iter()
                .map(|&cell| Constraint::AtMost { cell, bound: 0 }),
        );
        constraints.push(Constraint::Cover { total: 0, parts });
    }
    let cells = dayaq_domain::stats::publish(&values, &constraints);
    let all = cells.first().copied().unwrap_or(Cell::Count(0));
    let mut per_kind: Vec<KindFunding> = FUNDING_KINDS
        .iter()
        .zip(cells.iter().skip(1))
        .map(|(kind, survivors)| {
            let survivors = *survivors;
            let of_kind = |l: &CostLine| l.source_kind == *kind;
            let (mut services, mut shelter) = (0i64, 0i64);
            for l in lines.iter().filter(|l| of_kind(l)) {
                if l.service == Service::Shelter.as_str() {
                    shelter += l.amount_minor;
                } else {
                    services += l.amount_minor;
                }
            }
            KindFunding {
                kind: (*kind).to_string(),
                sources: sources
                    .iter()
                    .filter(|(k, _)| k == kind)
                    .map(|(_, n)| *n)
                    .sum(),
                grants: grants
                    .iter()
                    .filter(|(k, _, _)| k == kind)
                    .map(|(_, c, n)| (c.clone(), *n))
                    .collect(),
                survivors,
                services_minor: money_if(survivors, services),
                shelter_minor: money_if(survivors, shelter),
                total_minor: money_if(survivors, services + shelter),
            }
        })
        .collect();
    let mut per_service: Vec<ServiceFunding> = by_service
        .into_iter()
        .zip(cells.iter().skip(1 + FUNDING_KINDS.len()))
        .map(|((service, total), survivors)| ServiceFunding {
            service: service.to_string(),
            survivors: *survivors,
            total_minor: money_if(*survivors, total),
        })
        .collect();
    // Money adds up to the published total in both lists: never leave exactly one amount
    // hidden in a list (it would be the total minus the others); hide the smallest other too.
    let second = |amounts: Vec<Option<i64>>| -> Option<usize> {
        (amounts.iter().filter(|a| a.is_none()).count() == 1)
            .then(|| {
                amounts
                    .iter()
                    .enumerate()
                    .filter_map(|(i, a)| a.filter(|m| *m > 0).map(|m| (i, m)))
                    .min_by_key(|(_, m)| *m)
                    .map(|(i, _)| i)
            })
            .flatten()
    };
    if let Some(i) = second(per_kind.iter().map(|k| k.total_minor).collect()) {
        let k = &mut per_kind[i];
        (k.services_minor, k.shelter_minor, k.total_minor) = (None, None, None);
    }
    if let Some(i) = second(per_service.iter().map(|s| s.total_minor).collect()) {
        per_service[i].total_minor = None;
    }
    // Per kind, the shelter amounts add up to the service `Shelter`'s amount: the same rule.
    if per_service
        .iter()
        .any(|s| s.service == Service::Shelter.as_str() && s.total_minor.is_some())
        && let Some(i) = second(per_kind.iter().map(|k| k.shelter_minor).collect())
    {
        let k = &mut per_kind[i];
        (k.services_minor, k.shelter_minor, k.total_minor) = (None, None, None);
    }
    FundingOverview {
        per_kind,
        per_service,
        survivors: Some(all),
        total_minor: money_if(all, lines.iter().map(|l| l.amount_minor).sum()),
    }
}

impl Store {
    /// Funding sources of the actor's organisation as choices in forms (charging a service or
    /// shelter days): for those who work its cases and those who manage its funding.
    pub async fn funding_source_options(&self, ctx: &Ctx<'_>) -> Result<Vec<FundingOption>> {
        let org = Resource::Organisation(ctx.actor.org_id);
        let d = decide(ctx.actor, Action::ListCases, org);
        if !d.allowed && self.authorize_org(ctx, Action::ManageDirectory).is_err() {
            return Err(StoreError::Forbidden(d.reason));
        }
        let rows = sqlx::query(
            "SELECT id, name, kind FROM funding_sources WHERE org_id = $1 ORDER BY name, id",
        )
        .bind(ctx.actor.org_id.to_string())
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(FundingOption {
                    id: uuid_of(&r.try_get::<String, _>("id")?)?,
                    name: r.try_get("name")?,
                    kind: r.try_get("kind")?,
                })
            })
            .collect()
    }

    /// The national funding overview on `ctx.now` (`ReadStatistics`: national coordinator,
    /// supervisors): per kind of source and per service type, survivors counted with small
    /// cells suppressed and money hidden where the count is.
    pub async fn funding_overview(&self, ctx: &Ctx<'_>) -> Result<FundingOverview> {
        let d = decide(ctx.actor, Action::ReadStatistics, Resource::System);
        if !d.allowed {
            return Err(StoreError::Forbidden(d.reason));
        }
        let lines = self.cost_lines(None, ctx.now.date()).await?;
        let rows = sqlx::query(
            "SELECT kind, CAST(COUNT(*) AS BIGINT) AS n FROM funding_sources GROUP BY kind ORDER BY kind",
        )
        .fetch_all(&self.pool)
        .await?;
        let sources = rows
            .iter()
            .map(|r| Ok((r.try_get("kind")?, r.try_get("n")?)))
            .collect::<Result<Vec<(String, i64)>>>()?;
        let rows = sqlx::query(
            "SELECT f.kind, g.currency, CAST(SUM(g.amount_minor) AS BIGINT) AS total FROM grants g \
             JOIN funding_sources f ON f.id = g.source_id GROUP BY f.kind, g.currency ORDER BY f.kind, g.currency",
        )
        .fetch_all(&self.pool)
        .await?;
        let grants = rows
            .iter()
            .map(|r| {
                Ok((
                    r.try_get("kind")?,
                    r.try_get("currency")?,
                    r.try_get("total")?,
                ))
            })
            .collect::<Result<Vec<(String, String, i64)>>>()?;
        Ok(funding_overview_of(&lines, &sources, &grants))
    }
}

#[cfg(test)]
mod screen_tests {
    use super::*;
    use dayaq_domain::statistics::SUPPRESSED_MARK;

    fn line(kind: &str, case: u128, service: &str, amount: i64) -> CostLine {
        CostLine {
            source_id: Uuid::from_u128(1),
            source_name: "s".into(),
            source_kind: kind.into(),
            case_id: Uuid::from_u128(case),
            service: service.into(),
            amount_minor: amount,
        }
    }

    #[test]
    fn overview_suppresses_small_cells_and_their_money() {
        // Donor: 5 survivors; StateBudget: 2 survivors (suppressed).
        let mut lines: Vec<CostLine> = (1..=5)
            .map(|c| line("Donor", c, "VocationalTraining", 1_000))
            .collect();
        lines.push(line("Donor", 1, "Shelter", 700));
        lines.push(line("StateBudget", 10, "Medical", 5_000));
        lines.push(line("StateBudget", 11, "Medical", 2_500));
        let o = funding_overview_of(
            &lines,
            &[("Donor".into(), 2), ("StateBudget".into(), 1)],
            &[("Donor".into(), "USD".into(), 900_000)],
        );
        // Donor's 5 is hidden too (complementary suppression): next to the 7 survivors in
        // all, it would tell that StateBudget funded at least 2.
        let donor = o.per_kind.iter().find(|k| k.kind == "Donor").unwrap();
        assert_eq!(donor.survivors, Cell::Suppressed(SUPPRESSED_MARK));
        assert_eq!(
            (donor.services_minor, donor.shelter_minor, donor.total_minor),
            (None, None, None)
        );
        assert_eq!(
            (donor.sources, donor.grants.clone()),
            (2, vec![("USD".into(), 900_000)])
        );
        let state = o.per_kind.iter().find(|k| k.kind == "StateBudget").unwrap();
        assert_eq!(state.survivors, Cell::Suppressed(SUPPRESSED_MARK));
        assert_eq!((state.total_minor, state.services_minor), (None, None));
        let fund = o
            .per_kind
            .iter()
            .find(|k| k.kind == "VictimAssistanceFund")
            .unwrap();
        assert_eq!(
            (fund.survivors, fund.total_minor),
            (Cell::Count(0), Some(0))
        );
        assert_eq!(o.per_kind.len(), FUNDING_KINDS.len());
        let medical = o
            .per_service
            .iter()
            .find(|s| s.service == "Medical")
            .unwrap();
        assert_eq!(
            (medical.survivors, medical.total_minor),
            (Cell::Suppressed(SUPPRESSED_MARK), None)
        );
        let training = o
            .per_service
            .iter()
            .find(|s| s.service == "VocationalTraining")
            .unwrap();
        assert_eq!(training.total_minor, Some(5_000));
        assert_eq!(
            (o.survivors, o.total_minor),
            (Some(Cell::Count(7)), Some(13_200))
        );
    }

    #[test]
    fn one_hidden_amount_never_stands_next_to_the_total() {
        let mut lines: Vec<CostLine> = (1..=12)
            .map(|c| line("Donor", c, "VocationalTraining", 1_000))
            .collect();
        lines.push(line("StateBudget", 10, "Medical", 5_000));
        lines.push(line("StateBudget", 11, "Medical", 2_500));
        let o = funding_overview_of(&lines, &[], &[]);
        let kind = |k: &str| o.per_kind.iter().find(|x| x.kind == k).unwrap().clone();
        assert_eq!(kind("Donor").survivors, Cell::Count(12));
        assert_eq!(
            kind("StateBudget").survivors,
            Cell::Suppressed(SUPPRESSED_MARK)
        );
        // 19,500 in all − 12,000 would be the state budget's 7,500: the donor's amount is
        // hidden too, and so is the training's next to the medical one.
        assert_eq!(o.total_minor, Some(19_500));
        assert_eq!(kind("Donor").total_minor, None);
        let service = |s: &str| {
            o.per_service
                .iter()
                .find(|x| x.service == s)
                .unwrap()
                .clone()
        };
        assert_eq!(service("Medical").total_minor, None);
        assert_eq!(service("VocationalTraining").total_minor, None);
        assert_eq!(service("VocationalTraining").survivors, Cell::Count(12));
    }
}
