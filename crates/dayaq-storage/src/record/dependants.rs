//! Dependants and how the child records compare with `prs_NumberOfChildren`.
use super::*;

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct DependantsView {
    pub children: ChildrenCount,
    pub dependants: Vec<DependantView>,
}

#[derive(Serialize, Deserialize, Default, utoipa::ToSchema)]
struct DependantSealed {
    #[serde(default)]
    whereabouts: Option<String>,
}

impl Store {
    // ------------------------------------------------------------ dependants

    async fn declared_children(conn: &mut AnyConnection, cs: &str) -> Result<Option<i64>> {
        let r = sqlx::query(
            "SELECT value FROM case_values WHERE case_id = $1 AND field = 'prs_NumberOfChildren'",
        )
        .bind(cs)
        .fetch_optional(&mut *conn)
        .await?;
        Ok(match r {
            Some(r) => r.try_get::<String, _>("value")?.parse().ok(),
            None => None,
        })
    }

    async fn recorded_children(conn: &mut AnyConnection, cs: &str) -> Result<i64> {
        let counted: Vec<&str> = Relation::ALL
            .iter()
            .filter(|r| r.counts_as_child())
            .map(|r| r.as_str())
            .collect();
        let mut n = 0;
        for rel in counted {
            let r = sqlx::query(
                "SELECT COUNT(*) AS n FROM dependants WHERE case_id = $1 AND relation = $2",
            )
            .bind(cs)
            .bind(rel)
            .fetch_one(&mut *conn)
            .await?;
            n += r.try_get::<i64, _>("n")?;
        }
        Ok(n)
    }

    /// Links a dependant to the case (plan section). A child beyond a set
    /// `prs_NumberOfChildren` is refused (`dayaq_domain::record::check_new_dependant`).
    pub async fn add_dependant(
        &self,
        ctx: &Ctx<'_>,
        case: Uuid,
        input: DependantInput,
    ) -> Result<DependantView> {
        let access = self.authorize_case(ctx, Action::UpdateCase, case).await?;
        self.require(ctx, &access, Action::ReadSection(rules::DEPENDANTS_SECTION))
            .await?;
        let today = crate::followup::today(ctx.now);
        let d = input.validate(today)?;
        let id = Uuid::new_v4();
        let ids = id.to_string();
        let cs = case.to_string();
        let now = millis(ctx.now);
        self.record_write(ctx, &access, "record.dependant.add", async |tx, key| {
            // Checked inside the write transaction, so two concurrent additions cannot both
            // pass the count.
            let declared = Self::declared_children(tx, &cs).await?;
            let recorded = Self::recorded_children(tx, &cs).await?;
            rules::check_new_dependant(d.relation, declared, recorded)
                .map_err(ValidationErrors::single)?;
            let sealed = match &d.whereabouts {
                Some(w) => Some(seal_json(
                    key,
                    &field_aad("dependants", "sealed", &ids, "case"),
                    &DependantSealed {
                        whereabouts: Some(w.clone()),
                    },
                )?),
                None => None,
            };
            sqlx::query(
                "INSERT INTO dependants (id, case_id, relation, prs_gender, birth_year, with_victim, needs_schooling, needs_childcare, sealed, created_by, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
            )
            .bind(&ids)
            .bind(&cs)
            .bind(d.relation.as_str())
            .bind(d.gender.map(|g| g.as_str()))
            .bind(d.birth_year.map(i64::from))
            .bind(i64::from(d.with_victim))
            .bind(i64::from(d.needs_schooling))
            .bind(i64::from(d.needs_childcare))
            .bind(sealed)
            .bind(ctx.actor.user_id.to_string())
            .bind(now)
            .execute(&mut *tx)
            .await?;
            Store::case_event(tx, ctx, &access, "record.dependant", d.relation.as_str()).await
        })
        .await?;
        Ok(DependantView {
            id,
            relation: d.relation,
            gender: d.gender,
            birth_year: d.birth_year,
            age: d.birth_year.map(|y| today.year() - y),
            with_victim: d.with_victim,
            whereabouts: d.whereabouts,
            needs_schooling: d.needs_schooling,
            needs_childcare: d.needs_childcare,
            created_at: ts(now),
        })
    }

    /// The dependants and how the child records compare with `prs_NumberOfChildren`.
    pub async fn dependants(&self, ctx: &Ctx<'_>, case: Uuid) -> Result<DependantsView> {
        let access = self
            .authorize_case(ctx, Action::ReadSection(rules::DEPENDANTS_SECTION), case)
            .await?;
        let cs = case.to_string();
        let year = crate::followup::today(ctx.now).year();
        let mut conn = self.pool.acquire().await?;
        let declared = Self::declared_children(&mut conn, &cs).await?;
        let recorded = Self::recorded_children(&mut conn, &cs).await?;
        let rows = sqlx::query(
            "SELECT id, relation, prs_gender, birth_year, with_victim, needs_schooling, needs_childcare, sealed, created_at \
             FROM dependants WHERE case_id = $1 ORDER BY created_at, id",
        )
        .bind(&cs)
        .fetch_all(&mut *conn)
        .await?;
        let mut out = Vec::with_capacity(rows.len());
        if !rows.is_empty() {
            let key = self.case_key(&mut conn, &access).await?;
            for r in rows {
                let id: String = r.try_get("id")?;
                let rel: String = r.try_get("relation")?;
                let gender: Option<String> = r.try_get("prs_gender")?;
                let birth_year = r
                    .try_get::<Option<i64>, _>("birth_year")?
                    .and_then(|y| i32::try_from(y).ok());
                let sealed: DependantSealed =
                    open_sealed(&key, "dependants", &id, r.try_get("sealed")?)?;
                out.push(DependantView {
                    id: uuid_of(&id)?,
                    relation: Relation::parse(&rel).map_err(|e| data(e.message))?,
                    gender: match gender {
                        Some(g) => Some(Gender::parse(&g).map_err(|e| data(e.message))?),
                        None => None,
                    },
                    birth_year,
                    age: birth_year.map(|y| year - y),
                    with_victim: r.try_get::<i64, _>("with_victim")? != 0,
                    needs_schooling: r.try_get::<i64, _>("needs_schooling")? != 0,
                    needs_childcare: r.try_get::<i64, _>("needs_childcare")? != 0,
                    whereabouts: sealed.whereabouts,
                    created_at: ts(r.try_get("created_at")?),
                });
            }
            drop(conn);
            self.audit_read(ctx, &access, "record.dependants.read")
                .await?;
        }
        Ok(DependantsView {
            children: rules::children_count(declared, recorded),
            dependants: out,
        })
    }

    pub async fn delete_dependant(&self, ctx: &Ctx<'_>, case: Uuid, id: Uuid) -> Result<()> {
        let access = self.authorize_case(ctx, Action::UpdateCase, case).await?;
        self.delete_row(ctx, &access, id, "dependants", "record.dependant.delete")
            .await
    }
}
