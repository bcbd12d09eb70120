//! Episodes of the same person (re-trafficking), linked both ways.
use super::*;

/// A new episode of the same person (re-trafficking), with a reason.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EpisodeInput {
    #[serde(default)]
    pub reason: Option<String>,
}

/// One case of the person's series of episodes. Cases the reader may not open show only
/// their episode number (`accessible = false`, no id).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct EpisodeRef {
    pub episode: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub case_id: Option<Uuid>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub case_number: Option<String>,
    #[serde(rename = "cas_Status", skip_serializing_if = "Option::is_none")]
    pub status: Option<CaseStatus>,
    pub accessible: bool,
    pub current: bool,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Episodes {
    pub episode: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub previous_case: Option<Uuid>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_case: Option<Uuid>,
    pub series: Vec<EpisodeRef>,
}

impl Store {
    // ------------------------------------------------------------ episodes

    /// (series id, episode, previous case) of a case; a case without a row is episode 1 of
    /// its own series.
    async fn episode_of(
        conn: &mut AnyConnection,
        cs: &str,
    ) -> Result<(String, i64, Option<String>)> {
        let r = sqlx::query(
            "SELECT series_id, episode, previous_case_id FROM case_episodes WHERE case_id = $1",
        )
        .bind(cs)
        .fetch_optional(&mut *conn)
        .await?;
        Ok(match r {
            Some(r) => (
                r.try_get("series_id")?,
                r.try_get("episode")?,
                r.try_get("previous_case_id")?,
            ),
            None => (cs.to_string(), 1, None),
        })
    }

    async fn next_of(conn: &mut AnyConnection, cs: &str) -> Result<Option<String>> {
        Ok(
            sqlx::query("SELECT case_id FROM case_episodes WHERE previous_case_id = $1")
                .bind(cs)
                .fetch_optional(&mut *conn)
                .await?
                .map(|r| r.try_get::<String, _>("case_id"))
                .transpose()?,
        )
    }

    /// Opens a new episode (re-trafficking) of the person of case `case`: a new Active case in
    /// the actor's organisation with the same identity (re-sealed under the new case's key),
    /// gender, citizenship and person attributes, linked both ways to the previous case. The
    /// previous case must be the latest episode and no longer Active. Returns the new case id.
    pub async fn open_episode(
        &self,
        ctx: &Ctx<'_>,
        case: Uuid,
        input: &EpisodeInput,
    ) -> Result<Uuid> {
        let access = self.authorize_case(ctx, Action::OpenEpisode, case).await?;
        self.require(
            ctx,
            &access,
            Action::ReadSection(dayaq_domain::policy::Section::Identity),
        )
        .await?;
        self.authorize_org(ctx, Action::CreateCase)?;
        let prev = case.to_string();
        // Read the person's identity and attributes from the previous case.
        let (identity, gender, citizenship, context) = {
            let mut conn = self.pool.acquire().await?;
            let key = self.case_key(&mut conn, &access).await?;
            let r = sqlx::query("SELECT identity, prs_gender FROM cases WHERE id = $1")
                .bind(&prev)
                .fetch_one(&mut *conn)
                .await?;
            let identity: Identity = match r.try_get::<Option<Vec<u8>>, _>("identity")? {
                Some(ct) => open_json(&key, &field_aad("cases", "identity", &prev, "case"), &ct)?,
                None => Identity::default(),
            };
            let gender = match r.try_get::<Option<String>, _>("prs_gender")? {
                Some(g) => Some(Gender::parse(&g).map_err(|e| data(e.message))?),
                None => None,
            };
            let values = self.values_for(std::slice::from_ref(&prev)).await?;
            let values = values.get(&prev).cloned().unwrap_or_default();
            let citizenship: Vec<String> = values
                .iter()
                .filter(|(f, _)| f == "prs_Citizenship")
                .map(|(_, v)| v.clone())
                .collect();
            let full = dayaq_domain::case::VictimContext::from_values(&values);
            // Person attributes carry over; the circumstances of the new trafficking do not.
            let context = dayaq_domain::case::VictimContext {
                marital_status: full.marital_status,
                number_of_children: full.number_of_children,
                primary_language: full.primary_language,
                secondary_language: full.secondary_language,
                ..Default::default()
            };
            (identity, gender, citizenship, context)
        };
        let mut identity = identity;
        // Case notes belong to the previous episode.
        identity.notes = None;
        let valid = dayaq_domain::case::ValidCase {
            identity,
            context,
            gender,
            citizenship,
            age_when_trafficked: None,
            types_of_exploitation: vec![],
            status: CaseStatus::Active,
            reason_for_closure: None,
        };
        let prepared = self.prepare_cases(ctx.now, std::slice::from_ref(&valid))?;
        let new_id = prepared
            .first()
            .map(|p| p.id.clone())
            .ok_or_else(|| data("no case prepared"))?;
        let now = millis(ctx.now);
        let mut tx = self.begin_write().await?;
        let prev_status = Self::current_status(&mut tx, &prev).await?;
        let latest = Self::next_of(&mut tx, &prev).await?.is_none();
        let reason = rules::check_new_episode(prev_status, latest, input.reason.as_deref())?;
        let (series, episode, _) = Self::episode_of(&mut tx, &prev).await?;
        self.insert_prepared(&mut tx, ctx, &prepared, "").await?;
        if episode == 1 {
            // Make the first episode explicit (idempotent: no row yet for it).
            sqlx::query(
                "INSERT INTO case_episodes (case_id, series_id, episode, previous_case_id, created_at) \
                 SELECT $1, $2, 1, NULL, $3 WHERE NOT EXISTS (SELECT 1 FROM case_episodes WHERE case_id = $4)",
            )
            .bind(&prev)
            .bind(&series)
            .bind(now)
            .bind(&prev)
            .execute(&mut *tx)
            .await?;
        }
        sqlx::query(
            "INSERT INTO case_episodes (case_id, series_id, episode, previous_case_id, created_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(&new_id)
        .bind(&series)
        .bind(episode + 1)
        .bind(&prev)
        .bind(now)
        .execute(&mut *tx)
        .await
        .map_err(|e| crate::unique_as(e, "episode"))?;
        let new_access = self.new_case_access(ctx, &new_id)?;
        let key = self.case_key(&mut tx, &new_access).await?;
        Self::write_status(
            &mut tx,
            ctx,
            &key,
            &new_access,
            None,
            CaseStatus::Active,
            StatusChange::NewEpisode,
            Some(&reason),
            true,
        )
        .await?;
        Store::case_event(&mut tx, ctx, &access, "record.next-episode", &new_id).await?;
        append(
            &mut tx,
            &ctx.entry("record.episode.open", "success", &prev),
            now,
        )
        .await?;
        tx.commit_with(&ctx.entry("case.create", "success", &new_id), now)
            .await?;
        uuid_of(&new_id)
    }

    /// The person's series of episodes as seen from case `case` (links both ways). Other
    /// episodes the actor may not read are listed by number only.
    pub async fn episodes(&self, ctx: &Ctx<'_>, case: Uuid) -> Result<Episodes> {
        self.authorize_case(ctx, Action::ReadCase, case).await?;
        let cs = case.to_string();
        let mut conn = self.pool.acquire().await?;
        let (series, episode, previous) = Self::episode_of(&mut conn, &cs).await?;
        let next = Self::next_of(&mut conn, &cs).await?;
        let rows = sqlx::query(
            "SELECT e.case_id, e.episode, c.case_number, c.cas_status FROM case_episodes e \
             JOIN cases c ON c.id = e.case_id WHERE e.series_id = $1 ORDER BY e.episode",
        )
        .bind(&series)
        .fetch_all(&mut *conn)
        .await?;
        drop(conn);
        let mut out = Vec::new();
        for r in rows {
            let id = uuid_of(&r.try_get::<String, _>("case_id")?)?;
            let n: i64 = r.try_get("episode")?;
            let visible = self
                .access_if_allowed(ctx, Action::ReadCase, id)
                .await?
                .is_some();
            let status: String = r.try_get("cas_status")?;
            out.push(EpisodeRef {
                episode: n,
                case_id: visible.then_some(id),
                case_number: if visible {
                    Some(r.try_get("case_number")?)
                } else {
                    None
                },
                status: if visible {
                    Some(CaseStatus::parse(&status).map_err(|e| data(e.message))?)
                } else {
                    None
                },
                accessible: visible,
                current: id == case,
            });
        }
        let visible_id = |s: Option<String>| -> Result<Option<Uuid>> {
            Ok(match s {
                Some(s) => {
                    let id = uuid_of(&s)?;
                    out.iter().any(|e| e.case_id == Some(id)).then_some(id)
                }
                None => None,
            })
        };
        Ok(Episodes {
            episode,
            previous_case: visible_id(previous)?,
            next_case: visible_id(next)?,
            series: out,
        })
    }
}
