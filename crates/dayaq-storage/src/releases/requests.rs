//! Release requests: the researcher's age key, asking for a release, the register, refusal.
//! (Approval generates the file: `delivery.rs`.)

use super::{
    DATASET, DEFAULT_EPSILON, DEFAULT_K, EPSILON_BUDGET, EPSILON_CAP, FileFacts, LedgerEntry,
    MAX_TEXT, MIN_K, ReleaseAccess, ReleaseKind, ReleaseRequest, ReleaseState,
};
use crate::audit::append;
use crate::packages::parse_age_recipient;
use crate::{Result, Store, StoreError, from_millis, millis};
use dayaq_domain::case::parse_date;
use dayaq_domain::policy::{Action, ReleaseFacts, Resource, decide};
use dayaq_domain::release::{ReleaseError, ReleaseVariable, check_budget, microdata_period};
use dayaq_domain::{FieldError, ValidationErrors};
use sqlx::Row;
use time::Date;
use uuid::Uuid;

/// A release request as typed (screen, API, CLI), before it is checked.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ReleaseInput {
    pub purpose: String,
    /// `microdata` or `tables`.
    pub kind: String,
    /// `YYYY-MM-DD`, both included.
    pub period_from: String,
    pub period_to: String,
    /// Release-schema variable names.
    pub variables: Vec<String>,
    /// Microdata only (default 11, never below 5).
    pub k: Option<i64>,
    /// Tables only (default 1.0, above 0 and at most the cap).
    pub epsilon: Option<f64>,
    pub terms_accepted: bool,
}

/// A checked request.
#[derive(Debug, Clone, PartialEq)]
pub struct ValidRelease {
    pub purpose: String,
    pub kind: ReleaseKind,
    pub period_from: Date,
    pub period_to: Date,
    pub variables: Vec<ReleaseVariable>,
    pub k: Option<i64>,
    pub epsilon: Option<f64>,
}

/// Every variable a request may ask for, by name.
pub fn variable_names() -> Vec<&'static str> {
    ReleaseVariable::ALL.iter().map(|v| v.as_str()).collect()
}

/// Checks a request (every problem, each named by its field; never repeats a value). `today`
/// bounds the period.
pub fn validate(input: &ReleaseInput, today: Date) -> Result<ValidRelease, ValidationErrors> {
    let mut errors = ValidationErrors::default();
    let purpose = input.purpose.trim().to_string();
    if purpose.is_empty() {
        errors.push(FieldError::new(
            "purpose",
            "required",
            "purpose is required",
        ));
    } else if purpose.chars().count() > MAX_TEXT {
        errors.push(FieldError::new(
            "purpose",
            "too_long",
            format!("purpose must be at most {MAX_TEXT} characters"),
        ));
    }
    let kind = ReleaseKind::parse(input.kind.trim());
    if kind.is_none() {
        errors.push(FieldError::new(
            "kind",
            "unknown",
            "kind must be microdata or tables",
        ));
    }
    let from = parse_date("period_from", input.period_from.trim());
    let to = parse_date("period_to", input.period_to.trim());
    match (&from, &to) {
        (Ok(f), Ok(t)) if f > t => errors.push(FieldError::new(
            "period_to",
            "before_start",
            "period_to must not be before period_from",
        )),
        (_, Ok(t)) if *t > today => errors.push(FieldError::new(
            "period_to",
            "in_future",
            "period_to must not be in the future",
        )),
        _ => {}
    }
    if let Err(e) = &from {
        errors.push(e.clone());
    }
    if let Err(e) = &to {
        errors.push(e.clone());
    }
    let mut variables = Vec::new();
    let mut unknown = false;
    for name in input
        .variables
        .iter()
        .map(|v| v.trim())
        .filter(|v| !v.is_empty())
    {
        match ReleaseVariable::parse(name) {
            Ok(v) if !variables.contains(&v) => variables.push(v),
            Ok(_) => {}
            Err(_) => unknown = true,
        }
    }
    if unknown {
        errors.push(FieldError::new(
            "variables",
            "unknown_variable",
            "variables must be names of the release schema (docs/RELEASES.md)",
        ));
    } else if variables.is_empty() {
        errors.push(FieldError::new(
            "variables",
            "required",
            "choose at least one variable",
        ));
    }
    if let (Some(ReleaseKind::Microdata), Ok(f), Ok(t)) = (kind, &from, &to)
        && let Err(e) = microdata_period(*f, *t)
    {
        errors.push(FieldError::new("period_from", "whole_years", e.to_string()));
    }
    let (k, epsilon) = match kind {
        Some(ReleaseKind::Microdata) => {
            let k = input.k.unwrap_or(DEFAULT_K);
            if k < MIN_K {
                errors.push(FieldError::new(
                    "k",
                    "below_minimum",
                    format!("k must be at least {MIN_K}"),
                ));
            } else if k > 1000 {
                errors.push(FieldError::new("k", "too_large", "k must be at most 1000"));
            }
            (Some(k), None)
        }
        Some(ReleaseKind::Tables) => {
            let eps = input.epsilon.unwrap_or(DEFAULT_EPSILON);
            if !eps.is_finite() || eps <= 0.0 {
                errors.push(FieldError::new(
                    "epsilon",
                    "not_positive",
                    "epsilon must be above 0",
                ));
            } else if eps > EPSILON_CAP {
                errors.push(FieldError::new(
                    "epsilon",
                    "above_cap",
                    format!("epsilon must be at most {EPSILON_CAP}"),
                ));
            }
            (None, Some(eps))
        }
        None => (None, None),
    };
    if !input.terms_accepted {
        errors.push(FieldError::new(
            "terms_accepted",
            "required",
            "the data-use terms must be accepted",
        ));
    }
    errors.into_result()?;
    match (kind, from, to) {
        (Some(kind), Ok(period_from), Ok(period_to)) => Ok(ValidRelease {
            purpose,
            kind,
            period_from,
            period_to,
            variables,
            k,
            epsilon,
        }),
        _ => Err(ValidationErrors::single(FieldError::new(
            "kind",
            "unknown",
            "kind must be microdata or tables",
        ))),
    }
}

/// A generator's or the budget rule's refusal as a field error (`variables`, `k`,
/// `epsilon`, `period` or `budget`; the message never carries personal data).
pub fn release_error(e: &ReleaseError) -> ValidationErrors {
    let code = match e {
        ReleaseError::Budget { .. } => "budget_exceeded",
        ReleaseError::TooFewRecords { .. } => "too_few_records",
        ReleaseError::UnknownVariable(_) => "unknown_variable",
        _ => "invalid",
    };
    ValidationErrors::single(FieldError::new(e.field(), code, e.to_string()))
}

fn text_date(d: Date) -> String {
    format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}

fn row_date(s: &str) -> Result<Date> {
    parse_date("period", s).map_err(|e| StoreError::Data(e.message))
}

fn uuid(s: &str) -> Result<Uuid> {
    Uuid::parse_str(s).map_err(|e| StoreError::Data(e.to_string()))
}

fn eps_of(s: &str) -> Result<f64> {
    s.parse::<f64>()
        .map_err(|_| StoreError::Data("epsilon is not a number".into()))
}

const SELECT: &str = "SELECT r.id AS id, r.requester AS requester, u.username AS username, \
     r.purpose AS purpose, r.kind AS kind, r.period_from AS period_from, r.period_to AS period_to, \
     r.variables AS variables, r.k AS k, r.epsilon AS epsilon, r.terms_accepted AS terms_accepted, \
     r.state AS state, r.decider AS decider, r.reason AS reason, r.created_at AS created_at, \
     r.decided_at AS decided_at, r.generated_at AS generated_at, r.downloaded_at AS downloaded_at, \
     f.size AS size, f.sha256 AS sha256, f.records AS records, f.suppressed AS suppressed \
     FROM release_requests r LEFT JOIN users u ON u.id = r.requester \
     LEFT JOIN release_files f ON f.request_id = r.id";

fn request_of(r: &sqlx::any::AnyRow) -> Result<ReleaseRequest> {
    let kind: String = r.try_get("kind")?;
    let state: String = r.try_get("state")?;
    let variables: String = r.try_get("variables")?;
    let eps: Option<String> = r.try_get("epsilon")?;
    let decider: Option<String> = r.try_get("decider")?;
    let size: Option<i64> = r.try_get("size")?;
    let file = match size {
        Some(size) => Some(FileFacts {
            size,
            sha256: r.try_get("sha256")?,
            records: r.try_get("records")?,
            suppressed: r.try_get("suppressed")?,
        }),
        None => None,
    };
    Ok(ReleaseRequest {
        id: uuid(&r.try_get::<String, _>("id")?)?,
        requester: uuid(&r.try_get::<String, _>("requester")?)?,
        requester_name: r
            .try_get::<Option<String>, _>("username")?
            .unwrap_or_default(),
        purpose: r.try_get("purpose")?,
        kind: ReleaseKind::parse(&kind)
            .ok_or_else(|| StoreError::Data("release kind out of vocabulary".into()))?,
        period_from: row_date(&r.try_get::<String, _>("period_from")?)?,
        period_to: row_date(&r.try_get::<String, _>("period_to")?)?,
        variables: variables
            .split(',')
            .filter(|v| !v.is_empty())
            .map(str::to_string)
            .collect(),
        k: r.try_get("k")?,
        epsilon: eps.as_deref().map(eps_of).transpose()?,
        terms_accepted: r.try_get::<i64, _>("terms_accepted")? != 0,
        state: ReleaseState::parse(&state)
            .ok_or_else(|| StoreError::Data("release state out of vocabulary".into()))?,
        decider: decider.as_deref().map(uuid).transpose()?,
        reason: r.try_get("reason")?,
        created_at: from_millis(r.try_get("created_at")?),
        decided_at: r.try_get::<Option<i64>, _>("decided_at")?.map(from_millis),
        generated_at: r
            .try_get::<Option<i64>, _>("generated_at")?
            .map(from_millis),
        downloaded_at: r
            .try_get::<Option<i64>, _>("downloaded_at")?
            .map(from_millis),
        file,
    })
}

impl Store {
    /// Sets the researcher's own age public key (`age1…`), to which her releases are
    /// encrypted; audited (`release.age_recipient`).
    pub async fn set_release_recipient(
        &self,
        access: &ReleaseAccess<'_>,
        recipient: &str,
    ) -> Result<String> {
        if access.action != Action::RequestRelease {
            return Err(StoreError::Forbidden("role_cannot_request_release"));
        }
        let ctx = &access.ctx;
        let r = parse_age_recipient("age_recipient", recipient)
            .map_err(|e| StoreError::Invalid(ValidationErrors::single(e)))?
            .to_string();
        let now = millis(ctx.now);
        let me = ctx.actor.user_id.to_string();
        let mut tx = self.begin_write().await?;
        sqlx::query("DELETE FROM release_recipients WHERE user_id = $1")
            .bind(&me)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO release_recipients (user_id, recipient, updated_at) VALUES ($1, $2, $3)",
        )
        .bind(&me)
        .bind(&r)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        append(
            &mut tx,
            &ctx.entry("release.age_recipient", "success", ""),
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(r)
    }

    /// The age public key a user set for her releases.
    pub async fn release_recipient(&self, user: Uuid) -> Result<Option<String>> {
        let mut conn = self.pool.acquire().await?;
        Ok(
            sqlx::query_scalar("SELECT recipient FROM release_recipients WHERE user_id = $1")
                .bind(user.to_string())
                .fetch_optional(&mut *conn)
                .await?,
        )
    }

    /// ε spent on releases whose period overlaps `from..=to`.
    pub async fn privacy_spent(&self, from: Date, to: Date) -> Result<f64> {
        let mut conn = self.pool.acquire().await?;
        let rows: Vec<String> = sqlx::query_scalar(
            "SELECT epsilon FROM privacy_ledger WHERE dataset = $1 AND period_from <= $2 AND period_to >= $3",
        )
        .bind(DATASET)
        .bind(text_date(to))
        .bind(text_date(from))
        .fetch_all(&mut *conn)
        .await?;
        rows.iter().map(|e| eps_of(e)).sum()
    }

    /// The privacy-budget ledger, newest first (the coordinator's register). Audited
    /// `release.ledger_read` (entry count and the channel `via`: `json`, `screen`, `cli`).
    pub async fn privacy_ledger(
        &self,
        access: &ReleaseAccess<'_>,
        via: &'static str,
    ) -> Result<Vec<LedgerEntry>> {
        if access.action != Action::DecideRelease {
            return Err(StoreError::Forbidden("role_cannot_decide_release"));
        }
        let mut conn = self.pool.acquire().await?;
        let rows = sqlx::query(
            "SELECT dataset, period_from, period_to, epsilon, release_id, created_at \
             FROM privacy_ledger ORDER BY created_at DESC, id",
        )
        .fetch_all(&mut *conn)
        .await?;
        drop(conn);
        self.audit_release_read(
            &access.ctx,
            "release.ledger_read",
            format!("entries={} via={via}", rows.len()),
        )
        .await?;
        rows.iter()
            .map(|r| {
                Ok(LedgerEntry {
                    dataset: r.try_get("dataset")?,
                    period_from: row_date(&r.try_get::<String, _>("period_from")?)?,
                    period_to: row_date(&r.try_get::<String, _>("period_to")?)?,
                    epsilon: eps_of(&r.try_get::<String, _>("epsilon")?)?,
                    release_id: uuid(&r.try_get::<String, _>("release_id")?)?,
                    created_at: from_millis(r.try_get("created_at")?),
                })
            })
            .collect()
    }

    /// Records a researcher's request after checking it (every field; the age key must be set;
    /// a table release must fit the privacy budget of its period). A refusal writes only its
    /// audit row (`release.request_refused`, field codes); a request is audited
    /// `release.requested` (id, kind, counts of variables, k or ε).
    pub async fn request_release(
        &self,
        access: &ReleaseAccess<'_>,
        input: &ReleaseInput,
    ) -> Result<ReleaseRequest> {
        if access.action != Action::RequestRelease {
            return Err(StoreError::Forbidden("role_cannot_request_release"));
        }
        let ctx = &access.ctx;
        let checked = match validate(input, ctx.now.date()) {
            Ok(v) => self
                .release_preconditions(ctx.actor.user_id, &v)
                .await
                .map(|()| v),
            Err(e) => Err(e),
        };
        let v = match checked {
            Ok(v) => v,
            Err(errors) => {
                self.release_refused(ctx, "release.request_refused", None, &errors)
                    .await?;
                return Err(StoreError::Invalid(errors));
            }
        };
        let id = Uuid::now_v7();
        let now = millis(ctx.now);
        let names: Vec<&str> = v.variables.iter().map(|x| x.as_str()).collect();
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO release_requests (id, requester, purpose, kind, period_from, period_to, \
             variables, k, epsilon, terms_accepted, state, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 1, 'requested', $10)",
        )
        .bind(id.to_string())
        .bind(ctx.actor.user_id.to_string())
        .bind(&v.purpose)
        .bind(v.kind.name())
        .bind(text_date(v.period_from))
        .bind(text_date(v.period_to))
        .bind(names.join(","))
        .bind(v.k)
        .bind(v.epsilon.map(|e| e.to_string()))
        .bind(now)
        .execute(&mut *tx)
        .await?;
        let mut e = ctx.entry("release.requested", "success", "");
        e.detail = format!(
            "request={id} kind={} variables={} {}",
            v.kind.name(),
            names.len(),
            match (v.k, v.epsilon) {
                (Some(k), _) => format!("k={k}"),
                (_, Some(eps)) => format!("epsilon={eps}"),
                _ => String::new(),
            }
        );
        append(&mut tx, &e, now).await?;
        tx.commit().await?;
        self.release_request_row(id)
            .await?
            .ok_or(StoreError::NotFound)
    }

    /// What the stored data decides about a checked request: the requester's age key, and
    /// the budget of a table release.
    async fn release_preconditions(
        &self,
        requester: Uuid,
        v: &ValidRelease,
    ) -> Result<(), ValidationErrors> {
        let key = self.release_recipient(requester).await.ok().flatten();
        if key.is_none() {
            return Err(ValidationErrors::single(FieldError::new(
                "age_recipient",
                "required",
                "set your age public key before asking for a release",
            )));
        }
        if let Some(eps) = v.epsilon {
            let spent = self
                .privacy_spent(v.period_from, v.period_to)
                .await
                .unwrap_or(f64::INFINITY);
            check_budget(spent, eps, EPSILON_BUDGET).map_err(|e| release_error(&e))?;
        }
        Ok(())
    }

    pub(crate) async fn release_request_row(&self, id: Uuid) -> Result<Option<ReleaseRequest>> {
        let mut conn = self.pool.acquire().await?;
        let sql = format!("{SELECT} WHERE r.id = $1");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id.to_string())
            .fetch_optional(&mut *conn)
            .await?;
        row.as_ref().map(request_of).transpose()
    }

    /// Writes the audit row of a read of the release register (codes, ids and counts only).
    async fn audit_release_read(
        &self,
        ctx: &crate::cases::Ctx<'_>,
        action: &'static str,
        detail: String,
    ) -> Result<()> {
        let e = ctx.entry_with(action, "success", "", detail);
        let mut tx = self.begin_write().await?;
        append(&mut tx, &e, millis(ctx.now)).await?;
        tx.commit().await
    }

    /// The requests the actor may see: a researcher her own, the national coordinator all of
    /// them (the register), newest first. Audited `release.listed` (scope `own`/`all`, the
    /// number of requests and of generated files, the channel `via`: `json`, `screen`, `cli`).
    pub async fn release_requests(
        &self,
        access: &ReleaseAccess<'_>,
        via: &'static str,
    ) -> Result<Vec<ReleaseRequest>> {
        let list = self.release_requests_unaudited(access).await?;
        let scope = if access.action == Action::DecideRelease {
            "all"
        } else {
            "own"
        };
        self.audit_release_read(
            &access.ctx,
            "release.listed",
            format!(
                "scope={scope} requests={} files={} via={via}",
                list.len(),
                list.iter().filter(|r| r.file.is_some()).count()
            ),
        )
        .await?;
        Ok(list)
    }

    async fn release_requests_unaudited(
        &self,
        access: &ReleaseAccess<'_>,
    ) -> Result<Vec<ReleaseRequest>> {
        let mut conn = self.pool.acquire().await?;
        let rows = match access.action {
            Action::DecideRelease => {
                let sql = format!("{SELECT} ORDER BY r.created_at DESC, r.id");
                sqlx::query(sqlx::AssertSqlSafe(sql))
                    .fetch_all(&mut *conn)
                    .await?
            }
            Action::RequestRelease | Action::DownloadRelease => {
                let sql =
                    format!("{SELECT} WHERE r.requester = $1 ORDER BY r.created_at DESC, r.id");
                sqlx::query(sqlx::AssertSqlSafe(sql))
                    .bind(access.ctx.actor.user_id.to_string())
                    .fetch_all(&mut *conn)
                    .await?
            }
            _ => return Err(StoreError::Forbidden("no_rule")),
        };
        rows.iter().map(request_of).collect()
    }

    /// One request, if the actor may see it (its requester, or the coordinator); otherwise
    /// not found. Audited `release.viewed` (the request id, its state, the channel `via`);
    /// a request the actor may not see is audited `access.denied` and answered not found.
    pub async fn release_request(
        &self,
        access: &ReleaseAccess<'_>,
        id: Uuid,
        via: &'static str,
    ) -> Result<ReleaseRequest> {
        let r = self
            .release_request_row(id)
            .await?
            .ok_or(StoreError::NotFound)?;
        let visible = match access.action {
            Action::DecideRelease => true,
            _ => r.requester == access.ctx.actor.user_id,
        };
        if !visible {
            self.release_denied(&access.ctx, "not_requester", Some(id))
                .await?;
            return Err(StoreError::NotFound);
        }
        self.audit_release_read(
            &access.ctx,
            "release.viewed",
            format!("request={id} state={} via={via}", r.state.name()),
        )
        .await?;
        Ok(r)
    }

    /// Loads a request for a decision and asks the policy on it (never the requester); a
    /// denial is audited. A request that is not `requested` any more is a conflict.
    pub(crate) async fn request_for_decision(
        &self,
        access: &ReleaseAccess<'_>,
        id: Uuid,
    ) -> Result<ReleaseRequest> {
        let ctx = &access.ctx;
        let r = self
            .release_request_row(id)
            .await?
            .ok_or(StoreError::NotFound)?;
        let d = decide(
            ctx.actor,
            Action::DecideRelease,
            Resource::Release(ReleaseFacts {
                requester: r.requester,
            }),
        );
        if !d.allowed || access.action != Action::DecideRelease {
            return Err(self.release_denied(ctx, d.reason, Some(id)).await?);
        }
        if r.state != ReleaseState::Requested {
            return Err(StoreError::Conflict);
        }
        Ok(r)
    }

    /// Refuses a request with a reason (required); audited `release.refused`.
    pub async fn refuse_release(
        &self,
        access: &ReleaseAccess<'_>,
        id: Uuid,
        reason: &str,
    ) -> Result<ReleaseRequest> {
        let ctx = &access.ctx;
        self.request_for_decision(access, id).await?;
        let reason = check_reason(reason)?;
        let now = millis(ctx.now);
        let mut tx = self.begin_write().await?;
        let done = sqlx::query(
            "UPDATE release_requests SET state = 'refused', decider = $1, reason = $2, decided_at = $3 \
             WHERE id = $4 AND state = 'requested'",
        )
        .bind(ctx.actor.user_id.to_string())
        .bind(&reason)
        .bind(now)
        .bind(id.to_string())
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() != 1 {
            return Err(StoreError::Conflict);
        }
        let mut e = ctx.entry("release.refused", "success", "");
        e.detail = format!("request={id}");
        append(&mut tx, &e, now).await?;
        tx.commit().await?;
        self.release_request_row(id)
            .await?
            .ok_or(StoreError::NotFound)
    }
}

/// A decision's reason: required, at most [`MAX_TEXT`] characters.
pub fn check_reason(reason: &str) -> Result<String> {
    let r = reason.trim();
    if r.is_empty() {
        return Err(StoreError::Invalid(ValidationErrors::single(
            FieldError::new("reason", "required", "a reason is required"),
        )));
    }
    if r.chars().count() > MAX_TEXT {
        return Err(StoreError::Invalid(ValidationErrors::single(
            FieldError::new(
                "reason",
                "too_long",
                format!("reason must be at most {MAX_TEXT} characters"),
            ),
        )));
    }
    Ok(r.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn today() -> Date {
        time::macros::date!(2026 - 12 - 01)
    }

    fn input() -> ReleaseInput {
        ReleaseInput {
            purpose: "Study of exploitation forms".into(),
            kind: "microdata".into(),
            period_from: "2025-01-01".into(),
            period_to: "2025-12-31".into(),
            variables: variable_names()
                .iter()
                .take(2)
                .map(|s| s.to_string())
                .collect(),
            k: None,
            epsilon: None,
            terms_accepted: true,
        }
    }

    fn fields(e: ValidationErrors) -> Vec<String> {
        e.errors.into_iter().map(|e| e.field).collect()
    }

    #[test]
    fn defaults_and_fields() {
        let v = validate(&input(), today()).ok();
        assert_eq!(v.as_ref().and_then(|v| v.k), Some(DEFAULT_K));
        let mut bad = input();
        bad.variables = vec!["cas_Name".into()];
        bad.k = Some(4);
        bad.terms_accepted = false;
        bad.period_to = "2027-01-01".into();
        let e = validate(&bad, today())
            .err()
            .map(fields)
            .unwrap_or_default();
        assert_eq!(
            e,
            [
                "period_to",
                "variables",
                "period_from",
                "k",
                "terms_accepted"
            ]
        );
        let mut t = input();
        t.kind = "tables".into();
        for eps in [0.0, -1.0, EPSILON_CAP + 0.1, f64::NAN] {
            t.epsilon = Some(eps);
            let e = validate(&t, today()).err().map(fields).unwrap_or_default();
            assert_eq!(e, ["epsilon"]);
        }
    }

    proptest! {
        /// k below the floor is always refused, at or above it accepted (up to 1000).
        #[test]
        fn k_floor(k in -5i64..2000) {
            let mut i = input();
            i.k = Some(k);
            prop_assert_eq!(validate(&i, today()).is_ok(), (MIN_K..=1000).contains(&k));
        }
    }
}
