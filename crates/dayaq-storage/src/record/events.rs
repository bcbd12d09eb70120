//! Trafficking events (`hte_*`, victim-context section).
use super::*;

impl Store {
    // ------------------------------------------------------------ trafficking events

    /// Adds a trafficking event (victim-context section).
    pub async fn add_trafficking_event(
        &self,
        ctx: &Ctx<'_>,
        case: Uuid,
        input: EventInput,
    ) -> Result<EventView> {
        let access = self.authorize_case(ctx, Action::UpdateCase, case).await?;
        self.require(ctx, &access, Action::ReadSection(rules::EVENTS_SECTION))
            .await?;
        let e = input.validate(crate::followup::today(ctx.now))?;
        let id = Uuid::new_v4();
        let ids = id.to_string();
        let date = e.date.map(|d| {
            d.format(format_description!("[year]-[month]-[day]"))
                .unwrap_or_default()
        });
        let cs = case.to_string();
        let now = millis(ctx.now);
        self.record_write(ctx, &access, "record.event.add", async |tx, key| {
            let sealed = seal_json(
                key,
                &field_aad("trafficking_events", "sealed", &ids, "case"),
                &e.sealed,
            )?;
            sqlx::query(
                "INSERT INTO trafficking_events (id, case_id, hte_type, hte_country, hte_city, hte_state, hte_date, sealed, created_by, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
            )
            .bind(&ids)
            .bind(&cs)
            .bind(e.kind.as_str())
            .bind(e.country.as_deref())
            .bind(e.city.as_deref())
            .bind(e.state.as_deref())
            .bind(date.as_deref())
            .bind(sealed)
            .bind(ctx.actor.user_id.to_string())
            .bind(now)
            .execute(&mut *tx)
            .await?;
            Store::case_event(tx, ctx, &access, "record.event", e.kind.as_str()).await
        })
        .await?;
        Ok(EventView {
            id,
            kind: e.kind,
            country: e.country,
            city: e.city,
            state: e.state,
            date,
            sealed: e.sealed,
            created_at: ts(now),
            entered_ms: now,
        })
    }

    /// The case's trafficking events in chronological order, sealed parts opened (audited).
    pub async fn trafficking_events(&self, ctx: &Ctx<'_>, case: Uuid) -> Result<Vec<EventView>> {
        let access = self
            .authorize_case(ctx, Action::ReadSection(rules::EVENTS_SECTION), case)
            .await?;
        let sql = "SELECT id, hte_type, hte_country, hte_city, hte_state, hte_date, sealed, created_at \
             FROM trafficking_events WHERE case_id = $1";
        let Some((rows, key)) = self.case_rows_keyed(&access, sql).await? else {
            return Ok(vec![]);
        };
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            let id: String = r.try_get("id")?;
            let kind: String = r.try_get("hte_type")?;
            let sealed: EventSealed =
                open_sealed(&key, "trafficking_events", &id, r.try_get("sealed")?)?;
            let at: i64 = r.try_get("created_at")?;
            out.push(EventView {
                id: uuid_of(&id)?,
                kind: EventType::parse(&kind).map_err(|e| data(e.message))?,
                country: r.try_get("hte_country")?,
                city: r.try_get("hte_city")?,
                state: r.try_get("hte_state")?,
                date: r.try_get("hte_date")?,
                sealed,
                created_at: ts(at),
                entered_ms: at,
            });
        }
        rules::sort_chronologically(&mut out);
        self.audit_read(ctx, &access, "record.events.read").await?;
        Ok(out)
    }

    /// Removes an event recorded in error.
    pub async fn delete_trafficking_event(
        &self,
        ctx: &Ctx<'_>,
        case: Uuid,
        id: Uuid,
    ) -> Result<()> {
        let access = self.authorize_case(ctx, Action::UpdateCase, case).await?;
        self.delete_row(
            ctx,
            &access,
            id,
            "trafficking_events",
            "record.event.delete",
        )
        .await
    }
}
