//! Consent-scoped referrals that grant need-to-know access: eligibility, creation, reads
//! (details decrypted and audited as `detail_read` says), responses.
use super::*;
use dayaq_domain::webhooks::{EventSubject, EventType};

#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReferralInput {
    /// Receiving organisation's slug.
    pub to_org: String,
    pub services: Vec<String>,
    /// HTCDS `cas_ReasonForOutgoingReferral`.
    #[serde(rename = "cas_ReasonForOutgoingReferral")]
    pub reason: String,
    /// HTCDS `cas_OutgoingReferralDetails` (encrypted).
    #[serde(rename = "cas_OutgoingReferralDetails", default)]
    pub details: Option<String>,
    /// A supervisor's written reason to send without a covering consent.
    #[serde(default)]
    pub consent_override_reason: Option<String>,
    /// Travel details: required for ReturnHome and AirportMeeting (encrypted).
    #[serde(default)]
    pub travel: Option<Travel>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Referral {
    pub id: Uuid,
    pub case_id: Uuid,
    pub case_number: String,
    #[serde(rename = "cas_ReferringOrganisation")]
    pub from_org: Uuid,
    #[serde(rename = "cas_ReferredOrganisation")]
    pub to_org: Uuid,
    pub services: Vec<String>,
    #[serde(rename = "cas_ReasonForOutgoingReferral")]
    pub reason: String,
    pub state: String,
    pub consent_override: bool,
    #[serde(rename = "cas_OutgoingReferralDate")]
    pub created_at: String,
    pub responded_at: Option<String>,
    pub decline_reason: Option<String>,
    pub overdue: bool,
    /// Decrypted for the two organisations involved.
    #[serde(
        rename = "cas_OutgoingReferralDetails",
        skip_serializing_if = "Option::is_none"
    )]
    pub details: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub override_reason: Option<String>,
    /// Travel details (return home, airport meeting), decrypted for the two organisations.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub travel: Option<Travel>,
}

/// How the actor reads one referral row's encrypted parts (details, travel).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DetailRead {
    /// Not at all (another organisation, a past sender, a declined or ended referral).
    No,
    /// The case's owning organisation.
    Owner,
    /// The receiving organisation while the referral is live: decrypted and audited.
    Receiver,
}

impl Store {
    async fn eligibility_facts(&self, case: Uuid) -> Result<EligibilityFacts> {
        let cs = case.to_string();
        let r = sqlx::query("SELECT prs_gender, age_when_trafficked, vic_trafficking_status FROM cases WHERE id = $1")
            .bind(&cs)
            .fetch_one(&self.pool)
            .await?;
        let gender: Option<String> = r.try_get("prs_gender")?;
        let legal = sqlx::query(
            "SELECT cooperation, criminal_case_ref IS NOT NULL AS has_case FROM case_legal WHERE case_id = $1",
        )
        .bind(&cs)
        .fetch_optional(&self.pool)
        .await?;
        let (coop, has_case) = match legal {
            Some(l) => (
                l.try_get::<String, _>("cooperation")? == "Yes",
                l.try_get::<bool, _>("has_case")
                    .or_else(|_| l.try_get::<i64, _>("has_case").map(|v| v != 0))?,
            ),
            None => (false, false),
        };
        Ok(EligibilityFacts {
            cooperates_with_police: coop,
            has_criminal_case: has_case,
            identified_victim: r.try_get::<String, _>("vic_trafficking_status")?
                == TraffickingStatus::ActualVictimOfTrafficking.as_str(),
            feminine: matches!(
                gender.as_deref().and_then(|g| Gender::parse(g).ok()),
                Some(Gender::Feminine | Gender::TransgenderFeminine)
            ),
            age: r.try_get("age_when_trafficked")?,
        })
    }

    /// Checks the receiving organisation's eligibility rules for the services: the list of
    /// (service, unmet rule codes) for every service with an unmet rule.
    pub async fn check_eligibility(
        &self,
        ctx: &Ctx<'_>,
        case: Uuid,
        to_org: Uuid,
        services: &[Service],
    ) -> Result<Vec<(String, Vec<&'static str>)>> {
        self.authorize_case(ctx, Action::ReadCase, case).await?;
        let facts = self.eligibility_facts(case).await?;
        let offers = self.directory(None, None).await?;
        let mut out = Vec::new();
        for s in services {
            if let Some(o) = offers
                .iter()
                .find(|o| o.org_id == to_org && o.service == s.as_str())
            {
                let u = unmet(&o.eligibility, &facts);
                if !u.is_empty() {
                    out.push((s.as_str().to_string(), u));
                }
            }
        }
        Ok(out)
    }
}

impl Store {
    // ---------- referrals ----------

    pub async fn create_referral(
        &self,
        ctx: &Ctx<'_>,
        case: Uuid,
        input: &ReferralInput,
    ) -> Result<Referral> {
        let access = self.authorize_case(ctx, Action::ReferCase, case).await?;
        let mut errs = ValidationErrors::default();
        let owner = access.facts().owner_org;
        let to = self
            .receiver_of_field("to_org", input.to_org.trim(), owner, &mut errs)
            .await?;
        let mut services = parse_services(&input.services, &mut errs);
        let reason = ReferralReason::parse(&input.reason)
            .map_err(|e| errs.push(e))
            .ok();
        if input
            .details
            .as_deref()
            .is_some_and(|d| d.chars().count() > dayaq_domain::case::MAX_LONG_TEXT)
        {
            errs.push(FieldError::new(
                "cas_OutgoingReferralDetails",
                "too_long",
                "the details are too long",
            ));
        }
        let travel = match check_travel(&services, input.travel.as_ref(), ctx.now.date()) {
            Ok(t) => t,
            Err(e) => {
                errs.extend(e);
                None
            }
        };
        errs.into_result()?;
        let (Some(to), Some(reason)) = (to, reason) else {
            return Err(StoreError::Data("unreachable".into()));
        };
        services.sort();
        // Eligibility rules of the receiving service, explained before sending.
        let unmet_rules = self.check_eligibility(ctx, case, to.id, &services).await?;
        if !unmet_rules.is_empty() {
            let mut errs = ValidationErrors::default();
            for (svc, codes) in unmet_rules {
                for c in codes {
                    errs.push(FieldError::new(
                        "services",
                        c,
                        format!("{svc}: eligibility rule not met ({c})"),
                    ));
                }
            }
            return Err(errs.into());
        }
        // Consent: a record covering the recipient, or a supervisor's written override.
        let override_reason = input
            .consent_override_reason
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty());
        let covered = self
            .consent_or_override(ctx, &access, &to, override_reason, "referral.create")
            .await?;
        let id = Uuid::new_v4();
        let ids = id.to_string();
        let cs = case.to_string();
        let now = millis(ctx.now);
        let mut w = self.write_case(ctx, &access).await?;
        let key = self.case_key(&mut w, &access).await?;
        let details = match input
            .details
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            Some(d) => Some(key.seal(
                &field_aad("referrals", "details", &ids, "case"),
                d.as_bytes(),
            )?),
            None => None,
        };
        let ovr = match (covered, override_reason) {
            (false, Some(r)) => Some(key.seal(
                &field_aad("referrals", "consent_override", &ids, "case"),
                r.as_bytes(),
            )?),
            _ => None,
        };
        let travel = match &travel {
            Some(t) => {
                let json = serde_json::to_vec(t).map_err(|e| StoreError::Data(e.to_string()))?;
                Some(key.seal(&field_aad("referrals", "travel", &ids, "case"), &json)?)
            }
            None => None,
        };
        let svc: Vec<&str> = services.iter().map(|s| s.as_str()).collect();
        sqlx::query(
            "INSERT INTO referrals (id, case_id, from_org, to_org, services, reason, details, state, consent_override, override_by, created_by, created_at, travel) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, 'Pending', $8, $9, $10, $11, $12)",
        )
        .bind(&ids)
        .bind(&cs)
        .bind(access.facts().owner_org.to_string())
        .bind(to.id.to_string())
        .bind(svc.join(","))
        .bind(reason.as_str())
        .bind(details)
        .bind(ovr.clone())
        .bind(ovr.as_ref().map(|_| ctx.actor.user_id.to_string()))
        .bind(ctx.actor.user_id.to_string())
        .bind(now)
        .bind(travel)
        .execute(&mut *w)
        .await?;
        let kind = if ovr.is_some() {
            "referral.override"
        } else {
            "referral.created"
        };
        w.event(kind, &format!("referral={ids} services={}", svc.join(",")))
            .await?;
        Self::notify(&mut w, to.id, None, "referral.received", &ids, now).await?;
        Self::enqueue_webhook(
            &mut w,
            to.id,
            EventType::ReferralReceived,
            EventSubject {
                referral_id: Some(id),
                case_id: Some(case),
                ..Default::default()
            },
            ctx.now,
        )
        .await?;
        w.commit(
            if ovr.is_some() {
                "referral.consent_override"
            } else {
                "referral.create"
            },
            format!("referral={ids} to_org={}", to.id),
        )
        .await?;
        self.referral(ctx, id).await
    }

    fn referral_from_row(
        &self,
        r: &sqlx::any::AnyRow,
        now: i64,
        decrypt: Option<&crate::crypto::SecretKey>,
    ) -> Result<Referral> {
        let id: String = r.try_get("id")?;
        let state: String = r.try_get("state")?;
        let created: i64 = r.try_get("created_at")?;
        let services: String = r.try_get("services")?;
        let open = |col: &str, v: Option<Vec<u8>>| -> Result<Option<String>> {
            match (decrypt, v) {
                (Some(k), Some(ct)) => Ok(Some(
                    String::from_utf8_lossy(
                        &k.open(&field_aad("referrals", col, &id, "case"), &ct)?,
                    )
                    .into_owned(),
                )),
                _ => Ok(None),
            }
        };
        let override_ct: Option<Vec<u8>> = r.try_get("consent_override")?;
        Ok(Referral {
            case_id: uuid_of(&r.try_get::<String, _>("case_id")?)?,
            case_number: r.try_get("case_number")?,
            from_org: uuid_of(&r.try_get::<String, _>("from_org")?)?,
            to_org: uuid_of(&r.try_get::<String, _>("to_org")?)?,
            services: services
                .split(',')
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect(),
            reason: r.try_get("reason")?,
            overdue: state == "Pending" && now - created > self.settings.referral_overdue_ms,
            state,
            consent_override: override_ct.is_some(),
            details: open("details", r.try_get("details")?)?,
            override_reason: open("consent_override", override_ct)?,
            travel: match open("travel", r.try_get("travel")?)? {
                Some(j) => {
                    Some(serde_json::from_str(&j).map_err(|e| StoreError::Data(e.to_string()))?)
                }
                None => None,
            },
            created_at: ts(created),
            responded_at: r.try_get::<Option<i64>, _>("responded_at")?.map(ts),
            decline_reason: r.try_get("decline_reason")?,
            id: uuid_of(&id)?,
        })
    }

    const REFERRAL_COLS: &'static str = "r.id, r.case_id, c.case_number, r.from_org, r.to_org, r.services, r.reason, r.state, \
         r.details, r.consent_override, r.created_at, r.responded_at, r.decline_reason, r.travel, \
         c.owner_org_id AS case_owner, r.ended_at AS ended_at, r.ended_by AS ended_by";

    /// May the actor decrypt this referral row's details and travel data? The case owner
    /// always; the receiving organisation while the referral is pending or accepted (or within
    /// the grace of an ordinary end); nobody else — not a sender the case was transferred away
    /// from, not a receiver after a decline, completion, withdrawal or consent withdrawal.
    fn detail_read(&self, ctx: &Ctx<'_>, r: &sqlx::any::AnyRow) -> Result<DetailRead> {
        if !ctx.actor.role.works_cases() {
            return Ok(DetailRead::No);
        }
        let me = ctx.actor.org_id.to_string();
        let owner: String = r.try_get("case_owner")?;
        if owner == me {
            return Ok(DetailRead::Owner);
        }
        let to: String = r.try_get("to_org")?;
        if to != me {
            return Ok(DetailRead::No);
        }
        let state = ReferralState::parse(&r.try_get::<String, _>("state")?)
            .unwrap_or(ReferralState::Declined);
        let ended_by: Option<String> = r.try_get("ended_by")?;
        let live = details_readable(
            state,
            r.try_get("ended_at")?,
            ended_by.as_deref() == Some(ENDED_BY_CONSENT),
            millis(ctx.now),
            self.settings.referral_grace_ms,
        );
        Ok(if live {
            DetailRead::Receiver
        } else {
            DetailRead::No
        })
    }

    /// Does the row hold encrypted details or travel data?
    fn has_sealed_details(r: &sqlx::any::AnyRow) -> Result<bool> {
        Ok(r.try_get::<Option<Vec<u8>>, _>("details")?.is_some()
            || r.try_get::<Option<Vec<u8>>, _>("travel")?.is_some())
    }

    /// Audits the receiving organisation's reads of referral details (one row per referral,
    /// case id and referral id only), durably, before the details are handed out.
    async fn audit_detail_reads(&self, ctx: &Ctx<'_>, reads: &[(String, String)]) -> Result<()> {
        if reads.is_empty() {
            return Ok(());
        }
        let now = millis(ctx.now);
        let mut tx = self.begin_write().await?;
        for (case, referral) in reads {
            let mut a = ctx.entry("referral.read_details", "success", case);
            a.detail = format!("referral={referral}");
            append(&mut tx, &a, now).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// One referral, for the case's owning organisation or the receiving organisation (with
    /// its details while the receiver may still read them; such reads are audited).
    pub async fn referral(&self, ctx: &Ctx<'_>, id: Uuid) -> Result<Referral> {
        self.referral_read(ctx, id, true).await
    }

    async fn referral_read(&self, ctx: &Ctx<'_>, id: Uuid, with_details: bool) -> Result<Referral> {
        let q = format!(
            "SELECT {} FROM referrals r JOIN cases c ON c.id = r.case_id WHERE r.id = $1",
            Self::REFERRAL_COLS
        );
        let r = sqlx::query(sqlx::AssertSqlSafe(q))
            .bind(id.to_string())
            .fetch_optional(&self.pool)
            .await?
            .ok_or(StoreError::NotFound)?;
        let to: String = r.try_get("to_org")?;
        let owner: String = r.try_get("case_owner")?;
        let me = ctx.actor.org_id.to_string();
        // The sender reads the referral as the case's owner: after a transfer, the previous
        // owner no longer does.
        if (me != owner && me != to) || !ctx.actor.role.works_cases() {
            return Err(StoreError::NotFound);
        }
        let cs: String = r.try_get("case_id")?;
        let read = if with_details {
            self.detail_read(ctx, &r)?
        } else {
            DetailRead::No
        };
        let key = if read == DetailRead::No {
            None
        } else {
            if read == DetailRead::Receiver && Self::has_sealed_details(&r)? {
                self.audit_detail_reads(ctx, &[(cs.clone(), id.to_string())])
                    .await?;
            }
            let access = self
                .access_by_referral(ctx, Action::ReadCase, uuid_of(&cs)?)
                .await?;
            let mut conn = self.pool.acquire().await?;
            self.case_key(&mut conn, &access).await.ok()
        };
        self.referral_from_row(&r, millis(ctx.now), key.as_ref())
    }

    /// Referrals of a case. The owning organisation (and a break-glass holder) sees them all;
    /// a receiving organisation sees only its own referrals, never the case's other referrals
    /// (their services, reasons, decline reasons). Details and travel data are decrypted as
    /// `detail_read` says; the receiver's reads are audited.
    pub async fn case_referrals(&self, ctx: &Ctx<'_>, case: Uuid) -> Result<Vec<Referral>> {
        let access = self.authorize_case(ctx, Action::ReadCase, case).await?;
        let q = format!(
            "SELECT {} FROM referrals r JOIN cases c ON c.id = r.case_id WHERE r.case_id = $1 ORDER BY r.created_at, r.id",
            Self::REFERRAL_COLS
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(q))
            .bind(case.to_string())
            .fetch_all(&self.pool)
            .await?;
        let now = millis(ctx.now);
        let me = ctx.actor.org_id.to_string();
        let sees_all = access.facts().owner_org == ctx.actor.org_id
            || (ctx.actor.role == dayaq_domain::Role::Supervisor
                && access.facts().break_glass.contains(&ctx.actor.user_id));
        let mut kept = Vec::with_capacity(rows.len());
        for r in rows {
            let to: String = r.try_get("to_org")?;
            if sees_all || to == me {
                let read = self.detail_read(ctx, &r)?;
                kept.push((r, read));
            }
        }
        let cs = case.to_string();
        let mut reads = Vec::new();
        for (r, read) in &kept {
            if *read == DetailRead::Receiver && Self::has_sealed_details(r)? {
                reads.push((cs.clone(), r.try_get::<String, _>("id")?));
            }
        }
        self.audit_detail_reads(ctx, &reads).await?;
        let mut key = None;
        if kept.iter().any(|(_, read)| *read != DetailRead::No) {
            let mut conn = self.pool.acquire().await?;
            key = Some(self.case_key(&mut conn, &access).await?);
        }
        kept.iter()
            .map(|(r, read)| {
                let k = if *read == DetailRead::No {
                    None
                } else {
                    key.as_ref()
                };
                self.referral_from_row(r, now, k)
            })
            .collect()
    }

    /// Incoming referrals of the actor's organisation (the inbox) or outgoing ones (of cases
    /// the organisation still owns).
    pub async fn referral_box(&self, ctx: &Ctx<'_>, incoming: bool) -> Result<Vec<Referral>> {
        self.authorize_org(ctx, Action::RespondReferral)?;
        let cond = if incoming {
            "r.to_org = $1"
        } else {
            "r.from_org = $1 AND c.owner_org_id = $1"
        };
        let q = format!(
            "SELECT {}, k.master_key_id AS key_id, k.wrapped AS key_wrapped FROM referrals r JOIN cases c ON c.id = r.case_id \
             LEFT JOIN case_keys k ON k.case_id = r.case_id \
             WHERE {cond} AND c.erased_at IS NULL ORDER BY r.created_at DESC LIMIT 500",
            Self::REFERRAL_COLS
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(q))
            .bind(ctx.actor.org_id.to_string())
            .fetch_all(&self.pool)
            .await?;
        let now = millis(ctx.now);
        // Details and travel are decrypted as `detail_read` says (case keys come with the
        // rows, one query); the receiver's reads are audited first.
        let mut reads = Vec::new();
        let mut how = Vec::with_capacity(rows.len());
        for r in &rows {
            let read = self.detail_read(ctx, r)?;
            if read == DetailRead::Receiver && Self::has_sealed_details(r)? {
                reads.push((
                    r.try_get::<String, _>("case_id")?,
                    r.try_get::<String, _>("id")?,
                ));
            }
            how.push(read);
        }
        self.audit_detail_reads(ctx, &reads).await?;
        rows.iter()
            .zip(how)
            .map(|(r, read)| {
                let kid: Option<String> = r.try_get("key_id")?;
                let wrapped: Option<Vec<u8>> = r.try_get("key_wrapped")?;
                let key = match (read, kid, wrapped) {
                    (DetailRead::Owner | DetailRead::Receiver, Some(kid), Some(w)) => {
                        self.keys.unwrap_case_key(&kid, &w).ok()
                    }
                    _ => None,
                };
                self.referral_from_row(r, now, key.as_ref())
            })
            .collect()
    }

    /// Moves a referral: the receiver accepts, declines (with a reason) or completes; the
    /// sender withdraws or completes.
    pub async fn respond_referral(
        &self,
        ctx: &Ctx<'_>,
        id: Uuid,
        event: ReferralEvent,
        decline_reason: Option<&str>,
    ) -> Result<Referral> {
        let current = self.referral_read(ctx, id, false).await?;
        let access = self
            .access_by_referral(ctx, Action::RespondReferral, current.case_id)
            .await?;
        let side = if ctx.actor.org_id == current.to_org {
            Side::Receiver
        } else {
            Side::Sender
        };
        let d = match side {
            Side::Receiver => decide(
                ctx.actor,
                Action::RespondReferral,
                Resource::Organisation(current.to_org),
            ),
            Side::Sender => decide(ctx.actor, Action::ReferCase, Resource::Case(access.facts())),
        };
        if !d.allowed {
            return Err(StoreError::Forbidden(d.reason));
        }
        let state = ReferralState::parse(&current.state)
            .ok_or_else(|| StoreError::Data("bad state".into()))?;
        let Some(next) = transition(state, event, side) else {
            return Err(invalid(
                "state",
                "invalid_transition",
                "this step is not possible in the referral's current state",
            ));
        };
        let reason = decline_reason.map(str::trim).filter(|s| !s.is_empty());
        if event == ReferralEvent::Decline && reason.is_none() {
            return Err(invalid(
                "decline_reason",
                "required",
                "a declined referral needs a reason",
            ));
        }
        if reason.is_some_and(|r| r.chars().count() > 500) {
            return Err(invalid(
                "decline_reason",
                "too_long",
                "the reason is too long",
            ));
        }
        let now = millis(ctx.now);
        let ended =
            matches!(next, ReferralState::Completed | ReferralState::Withdrawn).then_some(now);
        let mut w = self.write_case(ctx, &access).await?;
        let n = sqlx::query(
            "UPDATE referrals SET state = $1, responded_by = $2, responded_at = $3, decline_reason = COALESCE($4, decline_reason), ended_at = COALESCE($5, ended_at) \
             WHERE id = $6 AND state = $7",
        )
        .bind(next.as_str())
        .bind(ctx.actor.user_id.to_string())
        .bind(now)
        .bind(reason)
        .bind(ended)
        .bind(id.to_string())
        .bind(state.as_str())
        .execute(&mut *w)
        .await?
        .rows_affected();
        if n != 1 {
            return Err(StoreError::Conflict);
        }
        let kind = match next {
            ReferralState::Accepted => "referral.accepted",
            ReferralState::Declined => "referral.declined",
            ReferralState::Completed => "referral.completed",
            ReferralState::Withdrawn => "referral.withdrawn",
            ReferralState::Pending => "referral.pending",
        };
        w.event(kind, &format!("referral={id}")).await?;
        let other = if side == Side::Receiver {
            current.from_org
        } else {
            current.to_org
        };
        Self::notify(&mut w, other, None, kind, &id.to_string(), now).await?;
        if side == Side::Receiver
            && matches!(next, ReferralState::Accepted | ReferralState::Declined)
        {
            Self::enqueue_webhook(
                &mut w,
                other,
                EventType::ReferralAnswered,
                EventSubject {
                    referral_id: Some(id),
                    case_id: Some(current.case_id),
                    ..Default::default()
                },
                ctx.now,
            )
            .await?;
        }
        w.commit(
            "referral.respond",
            format!("referral={id} state={}", next.as_str()),
        )
        .await?;
        self.referral(ctx, id).await
    }
}
