use crate::{Result, Store, StoreError, millis, unique_as};
use dayaq_domain::vocab::OrgType;
use dayaq_domain::{FieldError, ValidationErrors};
use serde::Serialize;
use sqlx::Row;
use uuid::Uuid;

#[derive(Debug, Clone, Serialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct Organisation {
    pub id: Uuid,
    pub slug: String,
    #[serde(rename = "org_Name")]
    pub name: String,
    #[serde(rename = "org_Type")]
    pub org_type: OrgType,
    pub region: String,
}

pub fn validate_slug(slug: &str) -> Result<(), FieldError> {
    let ok = (2..=40).contains(&slug.len())
        && slug
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !slug.starts_with('-');
    if ok {
        Ok(())
    } else {
        Err(FieldError::new(
            "slug",
            "invalid_slug",
            "slug must be 2-40 characters: lowercase letters, digits and '-'",
        ))
    }
}

fn from_row(r: &sqlx::any::AnyRow) -> Result<Organisation> {
    let id: String = r.try_get("id")?;
    let t: String = r.try_get("org_type")?;
    Ok(Organisation {
        id: Uuid::parse_str(&id).map_err(|e| StoreError::Data(e.to_string()))?,
        slug: r.try_get("slug")?,
        name: r.try_get("name")?,
        org_type: OrgType::parse(&t).map_err(|e| StoreError::Data(e.message))?,
        region: r.try_get("region")?,
    })
}

impl Store {
    pub async fn add_org(
        &self,
        slug: &str,
        name: &str,
        org_type: &str,
        region: &str,
        now: time::OffsetDateTime,
    ) -> Result<Organisation> {
        let mut errs = ValidationErrors::default();
        if let Err(e) = validate_slug(slug) {
            errs.push(e);
        }
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 200 {
            errs.push(FieldError::new(
                "org_Name",
                "invalid_length",
                "org_Name must be 1-200 characters",
            ));
        }
        let region = region.trim();
        if region.is_empty() || region.chars().count() > 100 {
            errs.push(FieldError::new(
                "region",
                "invalid_length",
                "region must be 1-100 characters",
            ));
        }
        let t = match OrgType::parse(org_type) {
            Ok(t) => Some(t),
            Err(e) => {
                errs.push(e);
                None
            }
        };
        errs.into_result()?;
        let org = Organisation {
            id: Uuid::new_v4(),
            slug: slug.to_string(),
            name: name.to_string(),
            org_type: t.unwrap_or(OrgType::NGO),
            region: region.to_string(),
        };
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO organisations (id, slug, name, org_type, region, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(org.id.to_string())
        .bind(&org.slug)
        .bind(&org.name)
        .bind(org.org_type.as_str())
        .bind(&org.region)
        .bind(millis(now))
        .execute(&mut *tx)
        .await
        .map_err(|e| unique_as(e, "slug"))?;
        let mut e = crate::audit::AuditEntry::new("org.create", "success");
        e.actor_org = org.id.to_string();
        tx.commit_with(&e, millis(now)).await?;
        Ok(org)
    }

    pub async fn list_orgs(&self) -> Result<Vec<Organisation>> {
        let rows =
            sqlx::query("SELECT id, slug, name, org_type, region FROM organisations ORDER BY slug")
                .fetch_all(&self.pool)
                .await?;
        rows.iter().map(from_row).collect()
    }

    pub async fn org_by_slug(&self, slug: &str) -> Result<Organisation> {
        let r = sqlx::query(
            "SELECT id, slug, name, org_type, region FROM organisations WHERE slug = $1",
        )
        .bind(slug)
        .fetch_optional(&self.pool)
        .await?
        .ok_or(StoreError::NotFound)?;
        from_row(&r)
    }

    pub async fn org_by_id(&self, id: Uuid) -> Result<Organisation> {
        let r =
            sqlx::query("SELECT id, slug, name, org_type, region FROM organisations WHERE id = $1")
                .bind(id.to_string())
                .fetch_optional(&self.pool)
                .await?
                .ok_or(StoreError::NotFound)?;
        from_row(&r)
    }
}

impl Store {
    /// The organisation an input field names by slug. An unknown slug is pushed to `errs`
    /// as `unknown_organisation` on `field` (and gives `None`), so the caller can report it
    /// with the input's other errors.
    pub(crate) async fn org_of_field(
        &self,
        field: &str,
        slug: &str,
        errs: &mut ValidationErrors,
    ) -> Result<Option<Organisation>> {
        match self.org_by_slug(slug).await {
            Ok(o) => Ok(Some(o)),
            Err(StoreError::NotFound) => {
                errs.push(FieldError::new(
                    field,
                    "unknown_organisation",
                    "no organisation with this slug",
                ));
                Ok(None)
            }
            Err(e) => Err(e),
        }
    }

    /// [`Store::org_of_field`] where the slug is the only input: an unknown slug is the error.
    pub(crate) async fn org_of_field_or_invalid(
        &self,
        field: &str,
        slug: &str,
    ) -> Result<Organisation> {
        let mut errs = ValidationErrors::default();
        match self.org_of_field(field, slug, &mut errs).await? {
            Some(o) => Ok(o),
            None => Err(errs.into()),
        }
    }

    /// The organisation a case is handed or referred to (`field` names it by slug): unknown
    /// (`unknown_organisation`) or the case's own organisation `owner` (`same_organisation`)
    /// is pushed to `errs` and gives `None`.
    pub(crate) async fn receiver_of_field(
        &self,
        field: &str,
        slug: &str,
        owner: Uuid,
        errs: &mut ValidationErrors,
    ) -> Result<Option<Organisation>> {
        let o = self.org_of_field(field, slug, errs).await?;
        if o.as_ref().is_some_and(|o| o.id == owner) {
            errs.push(FieldError::new(
                field,
                "same_organisation",
                "the case already belongs to this organisation",
            ));
            return Ok(None);
        }
        Ok(o)
    }
}

// Issue #23 §4: the organisation's time zone (migration 0026).
impl Store {
    /// Sets the time zone (an IANA name) in which the organisation's screens show times and
    /// read the local times typed in forms. Audited (`org.timezone`); an unknown slug or zone
    /// is a field error and nothing is written.
    pub async fn set_org_timezone(
        &self,
        slug: &str,
        zone: &str,
        now: time::OffsetDateTime,
    ) -> Result<String> {
        let zone = dayaq_domain::zone::valid_zone("timezone", zone)
            .map_err(|e| StoreError::Invalid(ValidationErrors::single(e)))?;
        let org = self.org_of_field_or_invalid("slug", slug).await?;
        let mut tx = self.begin_write().await?;
        sqlx::query("UPDATE organisations SET timezone = $1 WHERE id = $2")
            .bind(&zone)
            .bind(org.id.to_string())
            .execute(&mut *tx)
            .await?;
        let mut e = crate::audit::AuditEntry::new("org.timezone", "success");
        e.actor_org = org.id.to_string();
        e.source = "cli".into();
        tx.commit_with(&e, millis(now)).await?;
        Ok(zone)
    }

    /// The organisation's time zone (the default zone for an unknown organisation).
    pub async fn org_timezone(&self, org: Uuid) -> Result<String> {
        let zone: Option<String> =
            sqlx::query_scalar("SELECT timezone FROM organisations WHERE id = $1")
                .bind(org.to_string())
                .fetch_optional(&self.pool)
                .await?;
        Ok(zone.unwrap_or_else(|| dayaq_domain::zone::DEFAULT_ZONE.to_string()))
    }
}
