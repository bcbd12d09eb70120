//! Shelter facilities and stays (length-of-stay rule, extensions, exit).

use super::*;
use dayaq_domain::rules::{AdmissionFacts, admission_check};

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FacilityInput {
    pub name: String,
    pub beds: i64,
    /// Default 30 (the state shelter's legal limit).
    #[serde(default)]
    pub max_stay_days: Option<i64>,
    /// A state-run shelter (counted as such in the statistics). Admission conditions are the
    /// facility's rules (`/rules`), not this flag.
    #[serde(default)]
    pub state_shelter: bool,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Facility {
    pub id: Uuid,
    pub org_id: Uuid,
    pub name: String,
    pub beds: i64,
    pub max_stay_days: i64,
    pub state_shelter: bool,
    /// Survivors plus dependants currently staying.
    pub occupied: i64,
    pub available: i64,
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AdmissionInput {
    pub facility_id: Uuid,
    pub admitted_on: String,
    #[serde(default)]
    pub dependants: i64,
    /// Cost of one shelter day in qəpik, charged to `funding_source_id`.
    #[serde(default)]
    pub daily_cost_minor: i64,
    #[serde(default)]
    pub funding_source_id: Option<Uuid>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Extension {
    pub id: Uuid,
    pub days: i64,
    pub approved: bool,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Stay {
    pub id: Uuid,
    pub case_id: Uuid,
    pub facility_id: Uuid,
    pub admitted_on: String,
    pub dependants: i64,
    pub exited_on: Option<String>,
    pub exit_destination: Option<String>,
    pub extensions: Vec<Extension>,
    /// The length-of-stay rule on `today` (None after exit).
    pub length_of_stay: Option<StayState>,
}

impl Store {
    /// Registers a shelter facility of the actor's organisation (supervisor or org admin).
    pub async fn add_facility(&self, ctx: &Ctx<'_>, f: &FacilityInput) -> Result<Facility> {
        self.authorize_org(ctx, Action::ManageDirectory)?;
        let mut errs = ValidationErrors::default();
        let name = f.name.trim();
        if name.is_empty() || name.chars().count() > 200 {
            errs.push(FieldError::new(
                "name",
                "invalid_value",
                "name is required (at most 200 characters)",
            ));
        }
        if !(1..=10_000).contains(&f.beds) {
            errs.push(FieldError::new(
                "beds",
                "out_of_range",
                "beds must be between 1 and 10000",
            ));
        }
        let max = f.max_stay_days.unwrap_or(STATE_SHELTER_MAX_STAY_DAYS);
        if !(1..=3650).contains(&max) {
            errs.push(FieldError::new(
                "max_stay_days",
                "out_of_range",
                "max_stay_days must be between 1 and 3650",
            ));
        }
        errs.into_result()?;
        let id = Uuid::new_v4();
        let now = millis(ctx.now);
        let mut tx = self.begin_write().await?;
        sqlx::query("INSERT INTO shelter_facilities (id, org_id, name, beds, max_stay_days, state_shelter, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)")
            .bind(id.to_string())
            .bind(ctx.actor.org_id.to_string())
            .bind(name)
            .bind(f.beds)
            .bind(max)
            .bind(i64::from(f.state_shelter))
            .bind(now)
            .execute(&mut *tx)
            .await
            .map_err(|e| unique_as(e, "name"))?;
        tx.commit_with(
            &Self::audit_entry(ctx, "shelter.facility_add", "", format!("facility={id}")),
            now,
        )
        .await?;
        Ok(Facility {
            id,
            org_id: ctx.actor.org_id,
            name: name.into(),
            beds: f.beds,
            max_stay_days: max,
            state_shelter: f.state_shelter,
            occupied: 0,
            available: f.beds,
        })
    }

    /// All facilities with occupancy (survivors plus dependants staying) and free beds.
    /// Only counts — nothing about who stays.
    pub async fn facilities(&self) -> Result<Vec<Facility>> {
        let rows = sqlx::query(
            "SELECT f.id, f.org_id, f.name, f.beds, f.max_stay_days, f.state_shelter, \
             CAST(COALESCE((SELECT SUM(1 + s.dependants) FROM shelter_stays s WHERE s.facility_id = f.id AND s.exited_on IS NULL), 0) AS BIGINT) AS occupied \
             FROM shelter_facilities f ORDER BY f.name, f.id",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let beds: i64 = r.try_get("beds")?;
                let occupied: i64 = r.try_get("occupied")?;
                Ok(Facility {
                    id: uuid_of(&r.try_get::<String, _>("id")?)?,
                    org_id: uuid_of(&r.try_get::<String, _>("org_id")?)?,
                    name: r.try_get("name")?,
                    beds,
                    max_stay_days: r.try_get("max_stay_days")?,
                    state_shelter: r.try_get::<i64, _>("state_shelter")? != 0,
                    occupied,
                    available: (beds - occupied).max(0),
                })
            })
            .collect()
    }

    /// Admits the survivor of `case` (with dependants) to a facility. The facility's admission
    /// rules (data, set by the coordinator; none by default) may refuse it — counted by reason
    /// and audited; a full facility refuses; one open stay per case.
    pub async fn admit(&self, ctx: &Ctx<'_>, case: Uuid, a: &AdmissionInput) -> Result<Stay> {
        let access = self.authorize_case(ctx, Action::UpdateCase, case).await?;
        let mut errs = ValidationErrors::default();
        let admitted = parse_date("admitted_on", &a.admitted_on)
            .map_err(|e| errs.push(e))
            .ok();
        if !(0..=10_000_000).contains(&a.daily_cost_minor) {
            errs.push(FieldError::new(
                "daily_cost_minor",
                "out_of_range",
                "daily_cost_minor must not be negative",
            ));
        }
        if let Some(f) = a.funding_source_id
            && !self.funding_source_exists(ctx, f).await?
        {
            errs.push(FieldError::new(
                "funding_source_id",
                "unknown_funding_source",
                "no such funding source",
            ));
        }
        if !(0..=20).contains(&a.dependants) {
            errs.push(FieldError::new(
                "dependants",
                "out_of_range",
                "dependants must be between 0 and 20",
            ));
        }
        errs.into_result()?;
        let Some(admitted) = admitted else {
            return Err(StoreError::Data("unreachable".into()));
        };
        let fac = self
            .facilities()
            .await?
            .into_iter()
            .find(|f| f.id == a.facility_id)
            .ok_or_else(|| {
                invalid(FieldError::new(
                    "facility_id",
                    "unknown_facility",
                    "no such shelter facility",
                ))
            })?;
        let cs = case.to_string();
        // The facility's admission rules (data, `rules/`): none switched on = no condition.
        let rules = {
            let mut conn = self.pool.acquire().await?;
            crate::rules::rules_of(&mut conn, &fac.id.to_string()).await?
        };
        let coop: Option<String> =
            sqlx::query_scalar("SELECT cooperation FROM case_legal WHERE case_id = $1")
                .bind(&cs)
                .fetch_optional(&self.pool)
                .await?;
        let facts = AdmissionFacts {
            cooperates: coop.as_deref() == Some("Yes"),
        };
        if let Err(reason) = admission_check(&rules, &facts) {
            // Counted by reason for the scorecard and audited; nothing else changes.
            let mut w = self.write_case(ctx, &access).await?;
            let now = w.now();
            crate::rules::record_refusal(
                &mut w,
                &fac.id.to_string(),
                &fac.org_id.to_string(),
                reason,
                ctx.now.date(),
                now,
            )
            .await?;
            w.commit(
                "case.shelter_admission_refused",
                format!("facility={} reason={}", fac.id, reason.as_str()),
            )
            .await?;
            return Err(invalid(reason.error()));
        }
        let id = Uuid::new_v4();
        let now = millis(ctx.now);
        let mut w = self.write_case(ctx, &access).await?;
        let open_stays: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM shelter_stays WHERE case_id = $1 AND exited_on IS NULL",
        )
        .bind(&cs)
        .fetch_one(&mut *w)
        .await?;
        if open_stays > 0 {
            return Err(invalid(FieldError::new(
                "case",
                "already_admitted",
                "the survivor already has an open shelter stay",
            )));
        }
        let occupied: i64 = sqlx::query_scalar("SELECT CAST(COALESCE(SUM(1 + dependants), 0) AS BIGINT) FROM shelter_stays WHERE facility_id = $1 AND exited_on IS NULL")
            .bind(fac.id.to_string())
            .fetch_one(&mut *w)
            .await?;
        if occupied + 1 + a.dependants > fac.beds {
            return Err(invalid(FieldError::new(
                "facility_id",
                "no_beds",
                "not enough free beds in this facility",
            )));
        }
        sqlx::query("INSERT INTO shelter_stays (id, case_id, facility_id, admitted_on, dependants, created_by, created_at, daily_cost_minor, funding_source_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)")
            .bind(id.to_string())
            .bind(&cs)
            .bind(fac.id.to_string())
            .bind(fmt_date(admitted))
            .bind(a.dependants)
            .bind(ctx.actor.user_id.to_string())
            .bind(now)
            .bind(a.daily_cost_minor)
            .bind(a.funding_source_id.map(|f| f.to_string()))
            .execute(&mut *w)
            .await?;
        w.event("shelter.admitted", &format!("facility={}", fac.id))
            .await?;
        w.commit("case.shelter_admit", format!("stay={id}")).await?;
        Ok(Stay {
            id,
            case_id: case,
            facility_id: fac.id,
            admitted_on: fmt_date(admitted),
            dependants: a.dependants,
            exited_on: None,
            exit_destination: None,
            extensions: Vec::new(),
            length_of_stay: Some(stay_state(admitted, ctx.now.date(), fac.max_stay_days, &[])),
        })
    }

    /// Shelter stays of a case with the length-of-stay rule on `ctx.now` (needs `Section::Services`).
    pub async fn stays(&self, ctx: &Ctx<'_>, case: Uuid) -> Result<Vec<Stay>> {
        self.authorize_case(ctx, Action::ReadSection(Section::Services), case)
            .await?;
        let rows = sqlx::query(
            "SELECT s.id, s.facility_id, s.admitted_on, s.dependants, s.exited_on, s.exit_destination, f.max_stay_days \
             FROM shelter_stays s JOIN shelter_facilities f ON f.id = s.facility_id WHERE s.case_id = $1 ORDER BY s.admitted_on DESC, s.id",
        )
        .bind(case.to_string())
        .fetch_all(&self.pool)
        .await?;
        let mut out = Vec::new();
        for r in &rows {
            let ids: String = r.try_get("id")?;
            let erows = sqlx::query("SELECT id, days, approved_at FROM shelter_extensions WHERE stay_id = $1 ORDER BY requested_at, id")
                .bind(&ids)
                .fetch_all(&self.pool)
                .await?;
            let mut extensions = Vec::new();
            for e in &erows {
                extensions.push(Extension {
                    id: uuid_of(&e.try_get::<String, _>("id")?)?,
                    days: e.try_get("days")?,
                    approved: e.try_get::<Option<i64>, _>("approved_at")?.is_some(),
                });
            }
            let admitted_on: String = r.try_get("admitted_on")?;
            let exited_on: Option<String> = r.try_get("exited_on")?;
            let approved: Vec<i64> = extensions
                .iter()
                .filter(|e| e.approved)
                .map(|e| e.days)
                .collect();
            let rule = match (&exited_on, parse_date("admitted_on", &admitted_on)) {
                (None, Ok(d)) => Some(stay_state(
                    d,
                    ctx.now.date(),
                    r.try_get("max_stay_days")?,
                    &approved,
                )),
                _ => None,
            };
            out.push(Stay {
                id: uuid_of(&ids)?,
                case_id: case,
                facility_id: uuid_of(&r.try_get::<String, _>("facility_id")?)?,
                admitted_on,
                dependants: r.try_get("dependants")?,
                exited_on,
                exit_destination: r.try_get("exit_destination")?,
                extensions,
                length_of_stay: rule,
            });
        }
        Ok(out)
    }

    /// The length-of-stay state of one stay on `ctx.now`; `Blocked` means the stay may not
    /// continue without an approved extension.
    pub async fn stay_check(&self, ctx: &Ctx<'_>, case: Uuid, stay: Uuid) -> Result<StayState> {
        let s = self
            .stays(ctx, case)
            .await?
            .into_iter()
            .find(|s| s.id == stay)
            .ok_or(StoreError::NotFound)?;
        s.length_of_stay
            .ok_or_else(|| invalid(FieldError::new("stay", "stay_ended", "the stay has ended")))
    }

    /// Asks for an extension of a stay (reason encrypted); it counts only once approved.
    pub async fn request_extension(
        &self,
        ctx: &Ctx<'_>,
        case: Uuid,
        stay: Uuid,
        days: i64,
        reason: &str,
    ) -> Result<Uuid> {
        let access = self.authorize_case(ctx, Action::UpdateCase, case).await?;
        let mut errs = ValidationErrors::default();
        if !(1..=365).contains(&days) {
            errs.push(FieldError::new(
                "days",
                "out_of_range",
                "days must be between 1 and 365",
            ));
        }
        let reason = reason.trim();
        if reason.is_empty() {
            errs.push(FieldError::new(
                "reason",
                "required",
                "an extension needs a reason",
            ));
        }
        text_ok(&mut errs, "reason", Some(reason));
        errs.into_result()?;
        let cs = case.to_string();
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM shelter_stays WHERE id = $1 AND case_id = $2 AND exited_on IS NULL")
            .bind(stay.to_string())
            .bind(&cs)
            .fetch_one(&self.pool)
            .await?;
        if n != 1 {
            return Err(StoreError::NotFound);
        }
        let id = Uuid::new_v4();
        let ids = id.to_string();
        let now = millis(ctx.now);
        let mut w = self.write_case(ctx, &access).await?;
        let key = self.case_key(&mut w, &access).await?;
        sqlx::query("INSERT INTO shelter_extensions (id, stay_id, days, reason, requested_by, requested_at) VALUES ($1, $2, $3, $4, $5, $6)")
            .bind(&ids)
            .bind(stay.to_string())
            .bind(days)
            .bind(seal(&key, "shelter_extensions", "reason", &ids, Some(reason))?)
            .bind(ctx.actor.user_id.to_string())
            .bind(now)
            .execute(&mut *w)
            .await?;
        w.event("shelter.extension", &format!("days={days}"))
            .await?;
        w.commit("case.shelter_extension", format!("extension={ids}"))
            .await?;
        Ok(id)
    }

    /// A supervisor of the owner organisation approves an extension.
    pub async fn approve_extension(
        &self,
        ctx: &Ctx<'_>,
        case: Uuid,
        extension: Uuid,
    ) -> Result<()> {
        let access = self.authorize_case(ctx, Action::Approve, case).await?;
        let cs = case.to_string();
        let now = millis(ctx.now);
        let mut w = self.write_case(ctx, &access).await?;
        one_row(sqlx::query(
            "UPDATE shelter_extensions SET approved_by = $1, approved_at = $2 WHERE id = $3 AND approved_at IS NULL \
             AND stay_id IN (SELECT id FROM shelter_stays WHERE case_id = $4)",
        )
        .bind(ctx.actor.user_id.to_string())
        .bind(now)
        .bind(extension.to_string())
        .bind(&cs)
        .execute(&mut *w)
        .await?)?;
        w.event("shelter.extended", "").await?;
        w.commit(
            "case.shelter_extension_approve",
            format!("extension={extension}"),
        )
        .await?;
        Ok(())
    }

    /// Ends a stay with the exit destination.
    pub async fn exit_stay(
        &self,
        ctx: &Ctx<'_>,
        case: Uuid,
        stay: Uuid,
        on: &str,
        destination: &str,
    ) -> Result<()> {
        let access = self.authorize_case(ctx, Action::UpdateCase, case).await?;
        let mut errs = ValidationErrors::default();
        let d = parse_date("exited_on", on).map_err(|e| errs.push(e)).ok();
        let dest = ExitDestination::parse(destination)
            .map_err(|e| errs.push(e))
            .ok();
        errs.into_result()?;
        let (Some(d), Some(dest)) = (d, dest) else {
            return Err(StoreError::Data("unreachable".into()));
        };
        let cs = case.to_string();
        let mut w = self.write_case(ctx, &access).await?;
        one_row(sqlx::query("UPDATE shelter_stays SET exited_on = $1, exit_destination = $2 WHERE id = $3 AND case_id = $4 AND exited_on IS NULL")
            .bind(fmt_date(d))
            .bind(dest.as_str())
            .bind(stay.to_string())
            .bind(&cs)
            .execute(&mut *w)
            .await?)?;
        w.event("shelter.exited", dest.as_str()).await?;
        w.commit("case.shelter_exit", format!("stay={stay}"))
            .await?;
        Ok(())
    }
}
