//! The service directory: offers, the directory search, coverage by region.
use super::*;

/// One organisation's offer of one service.
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ServiceOffer {
    pub service: String,
    pub region: String,
    #[serde(default)]
    pub city: String,
    /// ISO 639-1 codes, comma-separated (e.g. "az,ru").
    #[serde(default)]
    pub languages: String,
    #[serde(default)]
    pub opening_hours: String,
    /// Free places (beds for a shelter), if counted.
    #[serde(default)]
    pub capacity: Option<i64>,
    #[serde(default, flatten)]
    pub eligibility: Eligibility,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct DirectoryEntry {
    pub org_id: Uuid,
    pub org_slug: String,
    pub org_name: String,
    #[serde(rename = "org_Type")]
    pub org_type: String,
    pub service: String,
    pub region: String,
    pub city: String,
    pub languages: String,
    pub opening_hours: String,
    pub capacity: Option<i64>,
    pub eligibility: Eligibility,
}

impl Store {
    // ---------- directory ----------

    /// Adds or replaces an organisation's offer of a service.
    pub async fn set_service(
        &self,
        ctx: &Ctx<'_>,
        org_slug: &str,
        offer: &ServiceOffer,
    ) -> Result<()> {
        let org = self.org_by_slug(org_slug).await?;
        let d = decide(
            ctx.actor,
            Action::ManageDirectory,
            Resource::Organisation(org.id),
        );
        if !d.allowed {
            return Err(StoreError::Forbidden(d.reason));
        }
        let mut errs = ValidationErrors::default();
        let service = Service::parse_for("service", &offer.service)
            .map_err(|e| errs.push(e))
            .ok();
        if offer.region.trim().is_empty() || offer.region.chars().count() > 100 {
            errs.push(FieldError::new(
                "region",
                "invalid_length",
                "region must be 1-100 characters",
            ));
        }
        if offer.capacity.is_some_and(|c| !(0..=100_000).contains(&c)) {
            errs.push(FieldError::new(
                "capacity",
                "out_of_range",
                "capacity must be between 0 and 100000",
            ));
        }
        for (f, v) in [
            ("city", &offer.city),
            ("languages", &offer.languages),
            ("opening_hours", &offer.opening_hours),
        ] {
            if v.chars().count() > 200 {
                errs.push(FieldError::new(
                    f,
                    "too_long",
                    format!("{f} is longer than 200 characters"),
                ));
            }
        }
        errs.into_result()?;
        let Some(service) = service else {
            return Err(StoreError::Data("unreachable".into()));
        };
        let e = &offer.eligibility;
        let mut tx = self.begin_write().await?;
        sqlx::query("DELETE FROM org_services WHERE org_id = $1 AND service = $2")
            .bind(org.id.to_string())
            .bind(service.as_str())
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO org_services (id, org_id, service, region, city, languages, opening_hours, capacity, \
             requires_police_cooperation, requires_criminal_case, requires_identified_victim, women_only, children_only, adults_only) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
        )
        .bind(Uuid::new_v4().to_string())
        .bind(org.id.to_string())
        .bind(service.as_str())
        .bind(offer.region.trim())
        .bind(offer.city.trim())
        .bind(offer.languages.trim())
        .bind(offer.opening_hours.trim())
        .bind(offer.capacity)
        .bind(b(e.requires_police_cooperation))
        .bind(b(e.requires_criminal_case))
        .bind(b(e.requires_identified_victim))
        .bind(b(e.women_only))
        .bind(b(e.children_only))
        .bind(b(e.adults_only))
        .execute(&mut *tx)
        .await?;
        let mut a = ctx.entry("directory.update", "success", "");
        a.detail = format!("org={} service={}", org.id, service.as_str());
        tx.commit_with(&a, millis(ctx.now)).await?;
        Ok(())
    }

    /// "Who can help with X in region Y": the directory, optionally filtered.
    pub async fn directory(
        &self,
        service: Option<&str>,
        region: Option<&str>,
    ) -> Result<Vec<DirectoryEntry>> {
        let rows = sqlx::query(
            "SELECT s.org_id, o.slug, o.name, o.org_type, s.service, s.region, s.city, s.languages, s.opening_hours, s.capacity, \
             s.requires_police_cooperation, s.requires_criminal_case, s.requires_identified_victim, s.women_only, s.children_only, s.adults_only \
             FROM org_services s JOIN organisations o ON o.id = s.org_id \
             WHERE ($1 = '' OR s.service = $1) AND ($2 = '' OR s.region = $2) ORDER BY s.service, s.region, o.name",
        )
        .bind(service.unwrap_or(""))
        .bind(region.unwrap_or(""))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(DirectoryEntry {
                    org_id: uuid_of(&r.try_get::<String, _>("org_id")?)?,
                    org_slug: r.try_get("slug")?,
                    org_name: r.try_get("name")?,
                    org_type: r.try_get("org_type")?,
                    service: r.try_get("service")?,
                    region: r.try_get("region")?,
                    city: r.try_get("city")?,
                    languages: r.try_get("languages")?,
                    opening_hours: r.try_get("opening_hours")?,
                    capacity: r.try_get("capacity")?,
                    eligibility: Eligibility {
                        requires_police_cooperation: r
                            .try_get::<i64, _>("requires_police_cooperation")?
                            != 0,
                        requires_criminal_case: r.try_get::<i64, _>("requires_criminal_case")? != 0,
                        requires_identified_victim: r
                            .try_get::<i64, _>("requires_identified_victim")?
                            != 0,
                        women_only: r.try_get::<i64, _>("women_only")? != 0,
                        children_only: r.try_get::<i64, _>("children_only")? != 0,
                        adults_only: r.try_get::<i64, _>("adults_only")? != 0,
                    },
                })
            })
            .collect()
    }

    /// Coverage by region: for every region on the platform, the services offered there
    /// (a missing service is a gap).
    pub async fn coverage(&self) -> Result<Vec<(String, Vec<String>)>> {
        let mut regions: Vec<String> =
            sqlx::query_scalar("SELECT DISTINCT region FROM organisations")
                .fetch_all(&self.pool)
                .await?;
        let offered: Vec<String> = sqlx::query_scalar("SELECT DISTINCT region FROM org_services")
            .fetch_all(&self.pool)
            .await?;
        regions.extend(offered);
        regions.sort();
        regions.dedup();
        let mut out = Vec::new();
        for region in regions {
            let services: Vec<String> = sqlx::query_scalar(
                "SELECT DISTINCT service FROM org_services WHERE region = $1 ORDER BY service",
            )
            .bind(&region)
            .fetch_all(&self.pool)
            .await?;
            out.push((region, services));
        }
        Ok(out)
    }
}
