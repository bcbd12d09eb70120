//! Funding sources, grants and the cost overview.

use super::*;

// ---------- funding ----------

pub struct GrantRow {
    pub amount: String,
    pub period: String,
    pub purpose: String,
}

pub struct SourceRow {
    pub name: String,
    pub kind: String,
    pub grants: Vec<GrantRow>,
}

pub struct CostRow {
    pub name: String,
    pub services: String,
    pub shelter: String,
    pub total: String,
}

pub struct OverviewRow {
    pub label: String,
    pub sources: String,
    pub grants: String,
    pub survivors: String,
    pub services: String,
    pub shelter: String,
    pub total: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "funding.html")]
pub(super) struct FundingPage {
    c: Chrome,
    can_manage: bool,
    sources: Vec<SourceRow>,
    source_opts: Vec<Opt>,
    kinds: Vec<Opt>,
    per_source: Vec<CostRow>,
    per_survivor: Vec<(String, String, String)>,
    per_service: Vec<(String, String)>,
    total: String,
    overview: Option<(Vec<OverviewRow>, Vec<OverviewRow>, String, String)>,
    posted: Posted,
    errs: FieldErrs,
}

/// Amounts in minor units of `currency`, e.g. "1 250.00 USD".
pub(super) fn amount(minor: i64, currency: &str) -> String {
    let sign = if minor < 0 { "-" } else { "" };
    let m = minor.unsigned_abs();
    let whole = (m / 100).to_string();
    let mut grouped = String::new();
    for (i, ch) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i).is_multiple_of(3) {
            grouped.push('\u{a0}');
        }
        grouped.push(ch);
    }
    format!("{sign}{grouped}.{:02} {currency}", m % 100)
}

pub(super) fn may_see_funding(actor: &dayaq_domain::Actor) -> (bool, bool) {
    let manage = decide(
        actor,
        Action::ManageDirectory,
        Resource::Organisation(actor.org_id),
    )
    .allowed;
    let national = decide(actor, Action::ReadStatistics, Resource::System).allowed;
    (manage, national)
}

pub(super) async fn funding_with(
    state: &AppState,
    a: &Authed,
    posted: Posted,
    errs: FieldErrs,
    status: StatusCode,
) -> Response {
    let actor = &a.actor;
    let (can_manage, national) = may_see_funding(actor);
    if !can_manage && !national {
        return page_error(
            state,
            a,
            "funding",
            AppError::Forbidden("role_cannot_see_funding"),
        );
    }
    let c = Chrome::for_user(state, a, "funding");
    let r: Result<Response, AppError> = async {
        let t = c.t;
        let ctx = a.cx();
        let (sources, report) = if can_manage {
            (
                state.store.funding_sources(&ctx).await?,
                state.store.cost_report(&ctx).await?,
            )
        } else {
            Default::default()
        };
        let overview = if national {
            let o = state.store.funding_overview(&ctx).await?;
            let cash = |m: Option<i64>| {
                m.map(|m| amount(m, "AZN"))
                    .unwrap_or_else(|| t.get("fund-suppressed"))
            };
            let kinds = o
                .per_kind
                .iter()
                .map(|k| OverviewRow {
                    label: label(&t, FUNDING_KINDS, &k.kind),
                    sources: k.sources.to_string(),
                    grants: k
                        .grants
                        .iter()
                        .map(|(cur, n)| amount(*n, cur))
                        .collect::<Vec<_>>()
                        .join(", "),
                    survivors: k.survivors.to_string(),
                    services: cash(k.services_minor),
                    shelter: cash(k.shelter_minor),
                    total: cash(k.total_minor),
                })
                .collect();
            let services = o
                .per_service
                .iter()
                .map(|s| OverviewRow {
                    label: service_label(&t, &s.service),
                    sources: String::new(),
                    grants: String::new(),
                    survivors: s.survivors.to_string(),
                    services: String::new(),
                    shelter: String::new(),
                    total: cash(s.total_minor),
                })
                .collect();
            Some((
                kinds,
                services,
                o.survivors.map(|c| c.to_string()).unwrap_or_default(),
                cash(o.total_minor),
            ))
        } else {
            None
        };
        Ok((
            status,
            FundingPage {
                can_manage,
                source_opts: sources
                    .iter()
                    .map(|s| Opt {
                        value: s.id.to_string(),
                        label: s.name.clone(),
                    })
                    .collect(),
                sources: sources
                    .iter()
                    .map(|s| SourceRow {
                        name: s.name.clone(),
                        kind: label(&t, FUNDING_KINDS, &s.kind),
                        grants: s
                            .grants
                            .iter()
                            .map(|g| GrantRow {
                                amount: amount(g.amount_minor, &g.currency),
                                period: format!(
                                    "{} – {}",
                                    t.date(&g.period_start),
                                    t.date(&g.period_end)
                                ),
                                purpose: g.purpose.clone(),
                            })
                            .collect(),
                    })
                    .collect(),
                kinds: opts(&t, FUNDING_KINDS),
                per_source: report
                    .per_source
                    .iter()
                    .map(|s| CostRow {
                        name: s.name.clone(),
                        services: amount(s.services_minor, "AZN"),
                        shelter: amount(s.shelter_minor, "AZN"),
                        total: amount(s.total_minor, "AZN"),
                    })
                    .collect(),
                per_survivor: report
                    .per_survivor
                    .iter()
                    .map(|(case, n)| {
                        let id = case.to_string();
                        let short = id.chars().take(8).collect();
                        (id, short, amount(*n, "AZN"))
                    })
                    .collect(),
                per_service: report
                    .per_service
                    .iter()
                    .map(|(s, n)| (service_label(&t, s), amount(*n, "AZN")))
                    .collect(),
                total: amount(report.total_minor, "AZN"),
                overview,
                posted,
                errs,
                c,
            },
        )
            .into_response())
    }
    .await;
    r.unwrap_or_else(|e| page_error(state, a, "funding", e))
}

pub(super) async fn funding_page(State(state): State<AppState>, PageUser(a): PageUser) -> Response {
    funding_with(
        &state,
        &a,
        Posted::default(),
        FieldErrs::default(),
        StatusCode::OK,
    )
    .await
}

pub(super) async fn funding_refused(
    state: &AppState,
    a: &Authed,
    form: &'static str,
    posted: Posted,
    e: StoreError,
) -> Response {
    match form_errors(e) {
        Ok(v) => {
            let t = Tr::new(lang_of(a));
            let e = FieldErrs::of(&t, form, &v);
            funding_with(state, a, posted, e, StatusCode::UNPROCESSABLE_ENTITY).await
        }
        Err(e) => page_error(state, a, "funding", e),
    }
}

pub(super) async fn source_submit(
    State(state): State<AppState>,
    PageUser(a): PageUser,
    Form(f): Form<Vec<(String, String)>>,
) -> Response {
    let posted = Posted(f);
    let ctx = a.cx();
    match state
        .store
        .add_funding_source(&ctx, &posted.v("name"), &posted.v("kind"))
        .await
    {
        Ok(_) => see_other("/funding"),
        Err(e) => funding_refused(&state, &a, "source", posted, e).await,
    }
}

pub(super) async fn grant_submit(
    State(state): State<AppState>,
    PageUser(a): PageUser,
    Form(f): Form<Vec<(String, String)>>,
) -> Response {
    let source = opt_uuid(&f, "source");
    let amount_minor = parse_money("amount_minor", &value(&f, "amount_minor"));
    let posted = Posted(f);
    let Some(source) = source else {
        let e = field_err("source", "required", "choose a funding source");
        return funding_refused(&state, &a, "grant", posted, StoreError::Invalid(e)).await;
    };
    // An unreadable amount goes to storage as 0, which it refuses (nothing is written).
    let input = GrantInput {
        amount_minor: amount_minor.clone().unwrap_or(0),
        currency: posted.v("currency").trim().to_uppercase(),
        period_start: posted.v("period_start"),
        period_end: posted.v("period_end"),
        purpose: posted.v("purpose"),
    };
    let ctx = a.cx();
    match merged(
        gather(&[&amount_minor]),
        state.store.add_grant(&ctx, source, &input).await,
    ) {
        Ok(_) => see_other("/funding"),
        Err(e) => funding_refused(&state, &a, "grant", posted, e).await,
    }
}
