//! Perpetrator roles (`per_*`, legal section); no perpetrator identity is kept.
use super::*;

#[derive(Serialize, Deserialize, Default, utoipa::ToSchema)]
struct PerpetratorSealed {
    #[serde(default)]
    details: Option<String>,
}

impl Store {
    // ------------------------------------------------------------ perpetrator roles

    /// Adds one perpetrator's roles (legal section); no perpetrator identity is kept.
    pub async fn add_perpetrator(
        &self,
        ctx: &Ctx<'_>,
        case: Uuid,
        input: PerpetratorInput,
    ) -> Result<PerpetratorView> {
        let access = self.authorize_case(ctx, Action::UpdateCase, case).await?;
        self.require(
            ctx,
            &access,
            Action::ReadSection(rules::PERPETRATORS_SECTION),
        )
        .await?;
        let p = input.validate()?;
        let id = Uuid::new_v4();
        let ids = id.to_string();
        let cs = case.to_string();
        let now = millis(ctx.now);
        self.record_write(ctx, &access, "record.perpetrator.add", async |tx, key| {
            let sealed = match &p.details {
                Some(d) => Some(seal_json(
                    key,
                    &field_aad("perpetrator_roles", "sealed", &ids, "case"),
                    &PerpetratorSealed {
                        details: Some(d.clone()),
                    },
                )?),
                None => None,
            };
            sqlx::query(
                "INSERT INTO perpetrator_roles (id, case_id, per_role_in_process, sealed, created_by, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(&ids)
            .bind(&cs)
            .bind(rules::encode_roles(&p.roles))
            .bind(sealed)
            .bind(ctx.actor.user_id.to_string())
            .bind(now)
            .execute(&mut *tx)
            .await?;
            Store::case_event(tx, ctx, &access, "record.perpetrator", "").await
        })
        .await?;
        Ok(PerpetratorView {
            id,
            roles: p.roles,
            details: p.details,
            created_at: ts(now),
        })
    }

    pub async fn perpetrators(&self, ctx: &Ctx<'_>, case: Uuid) -> Result<Vec<PerpetratorView>> {
        let access = self
            .authorize_case(ctx, Action::ReadSection(rules::PERPETRATORS_SECTION), case)
            .await?;
        let sql = "SELECT id, per_role_in_process, sealed, created_at FROM perpetrator_roles \
             WHERE case_id = $1 ORDER BY created_at, id";
        let Some((rows, key)) = self.case_rows_keyed(&access, sql).await? else {
            return Ok(vec![]);
        };
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            let id: String = r.try_get("id")?;
            let roles: String = r.try_get("per_role_in_process")?;
            let sealed: PerpetratorSealed =
                open_sealed(&key, "perpetrator_roles", &id, r.try_get("sealed")?)?;
            out.push(PerpetratorView {
                id: uuid_of(&id)?,
                roles: rules::decode_roles(&roles).map_err(|e| data(e.message))?,
                details: sealed.details,
                created_at: ts(r.try_get("created_at")?),
            });
        }
        self.audit_read(ctx, &access, "record.perpetrators.read")
            .await?;
        Ok(out)
    }

    pub async fn delete_perpetrator(&self, ctx: &Ctx<'_>, case: Uuid, id: Uuid) -> Result<()> {
        let access = self.authorize_case(ctx, Action::UpdateCase, case).await?;
        self.delete_row(
            ctx,
            &access,
            id,
            "perpetrator_roles",
            "record.perpetrator.delete",
        )
        .await
    }
}
