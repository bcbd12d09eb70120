//! The survivor's contact protocol (personal parts sealed with the case key).
use super::*;

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Sealed {
    safe_numbers: Vec<String>,
    never_contact: Vec<String>,
    never_places: Vec<String>,
    cover_reason: String,
    code_word: String,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Protocol {
    pub case_id: Uuid,
    pub channels: Vec<String>,
    pub windows: Vec<String>,
    pub utc_offset_min: i32,
    pub do_not_contact: bool,
    pub caller_user: Option<Uuid>,
    pub language: String,
    pub safe_numbers: Vec<String>,
    pub never_contact: Vec<String>,
    pub never_places: Vec<String>,
    pub cover_reason: String,
    pub code_word: String,
    pub updated_at: String,
}

impl Protocol {
    pub fn rules(&self) -> ContactRules {
        ContactRules {
            channels: self
                .channels
                .iter()
                .filter_map(|c| Channel::parse(c))
                .collect(),
            windows: self
                .windows
                .iter()
                .filter_map(|w| Window::parse(w))
                .collect(),
            utc_offset_min: self.utc_offset_min,
            do_not_contact: self.do_not_contact,
            caller: self.caller_user,
            language: self.language.clone(),
        }
    }
}

impl Store {
    /// Records (or replaces) the survivor's contact protocol.
    pub async fn set_protocol(
        &self,
        ctx: &Ctx<'_>,
        case: Uuid,
        input: &ProtocolInput,
    ) -> Result<Protocol> {
        let access = self.authorize_case(ctx, Action::UpdateCase, case).await?;
        let mut errs = ValidationErrors::default();
        let (channels, windows) = input.check(&mut errs);
        let caller = match input
            .caller
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            Some(name) => {
                let row = sqlx::query("SELECT id FROM users WHERE username = $1 AND org_id = $2")
                    .bind(name)
                    .bind(access.facts().owner_org.to_string())
                    .fetch_optional(&self.pool)
                    .await?;
                match row {
                    Some(r) => Some(uuid_of(&r.try_get::<String, _>("id")?)?),
                    None => {
                        errs.push(FieldError::new(
                            "caller",
                            "unknown_user",
                            "no such caseworker in the owner organisation",
                        ));
                        None
                    }
                }
            }
            None => None,
        };
        let rules = ContactRules {
            channels: channels.clone(),
            windows: windows.clone(),
            utc_offset_min: input.utc_offset_min.unwrap_or(DEFAULT_UTC_OFFSET_MIN),
            do_not_contact: input.do_not_contact,
            caller,
            language: input.language.trim().to_string(),
        };
        if let Err(e) = rules.validate() {
            errs.errors.extend(e.errors);
        }
        errs.into_result()?;
        let sealed = Sealed {
            safe_numbers: clean(&input.safe_numbers),
            never_contact: clean(&input.never_contact),
            never_places: clean(&input.never_places),
            cover_reason: input.cover_reason.trim().to_string(),
            code_word: input.code_word.trim().to_string(),
        };
        let cs = case.to_string();
        let now = millis(ctx.now);
        let mut w = self.write_case(ctx, &access).await?;
        let key = self.case_key(&mut w, &access).await?;
        let plain = serde_json::to_vec(&sealed).map_err(|e| StoreError::Data(e.to_string()))?;
        let ct = key.seal(
            &field_aad("followup_protocols", "sealed", &cs, "case"),
            &plain,
        )?;
        let ch: Vec<&str> = channels.iter().map(|c| c.as_str()).collect();
        let wi: Vec<String> = windows.iter().map(Window::encode).collect();
        w.exec("DELETE FROM followup_protocols WHERE case_id = $1")
            .await?;
        sqlx::query(
            "INSERT INTO followup_protocols (case_id, channels, windows, utc_offset_min, do_not_contact, caller_user, language, sealed, updated_by, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(&cs)
        .bind(ch.join(","))
        .bind(wi.join(","))
        .bind(i64::from(rules.utc_offset_min))
        .bind(i64::from(rules.do_not_contact))
        .bind(caller.map(|c| c.to_string()))
        .bind(&rules.language)
        .bind(ct)
        .bind(ctx.actor.user_id.to_string())
        .bind(now)
        .execute(&mut *w)
        .await?;
        let detail = format!("do_not_contact={}", rules.do_not_contact);
        w.event("followup.protocol", &detail).await?;
        w.commit("followup.protocol", detail).await?;
        Ok(Protocol {
            case_id: case,
            channels: ch.iter().map(|c| c.to_string()).collect(),
            windows: wi,
            utc_offset_min: rules.utc_offset_min,
            do_not_contact: rules.do_not_contact,
            caller_user: caller,
            language: rules.language,
            safe_numbers: sealed.safe_numbers,
            never_contact: sealed.never_contact,
            never_places: sealed.never_places,
            cover_reason: sealed.cover_reason,
            code_word: sealed.code_word,
            updated_at: ts(now),
        })
    }

    pub(super) async fn load_protocol(
        &self,
        conn: &mut AnyConnection,
        access: &CaseAccess,
        decrypt: bool,
    ) -> Result<Option<Protocol>> {
        let cs = access.id_str();
        let Some(r) = sqlx::query(
            "SELECT channels, windows, utc_offset_min, do_not_contact, caller_user, language, sealed, updated_at \
             FROM followup_protocols WHERE case_id = $1",
        )
        .bind(cs)
        .fetch_optional(&mut *conn)
        .await?
        else {
            return Ok(None);
        };
        let sealed = match (decrypt, r.try_get::<Option<Vec<u8>>, _>("sealed")?) {
            (true, Some(ct)) => {
                let key = self.case_key(conn, access).await?;
                let plain =
                    key.open(&field_aad("followup_protocols", "sealed", cs, "case"), &ct)?;
                serde_json::from_slice(&plain).map_err(|e| StoreError::Data(e.to_string()))?
            }
            _ => Sealed::default(),
        };
        let split = |s: String| -> Vec<String> {
            s.split(',')
                .filter(|x| !x.is_empty())
                .map(str::to_string)
                .collect()
        };
        let caller: Option<String> = r.try_get("caller_user")?;
        Ok(Some(Protocol {
            case_id: uuid_of(cs)?,
            channels: split(r.try_get("channels")?),
            windows: split(r.try_get("windows")?),
            utc_offset_min: r.try_get::<i64, _>("utc_offset_min")? as i32,
            do_not_contact: r.try_get::<i64, _>("do_not_contact")? != 0,
            caller_user: caller.as_deref().map(uuid_of).transpose()?,
            language: r.try_get("language")?,
            safe_numbers: sealed.safe_numbers,
            never_contact: sealed.never_contact,
            never_places: sealed.never_places,
            cover_reason: sealed.cover_reason,
            code_word: sealed.code_word,
            updated_at: ts(r.try_get("updated_at")?),
        }))
    }

    /// The protocol with its personal parts decrypted (audited read).
    pub async fn protocol(&self, ctx: &Ctx<'_>, case: Uuid) -> Result<Option<Protocol>> {
        let access = self
            .authorize_case(ctx, Action::ReadSection(Section::FollowUp), case)
            .await?;
        let mut conn = self.pool.acquire().await?;
        let p = self.load_protocol(&mut conn, &access, true).await?;
        drop(conn);
        if p.is_some() {
            self.audit_read(ctx, &access, "followup.protocol.read")
                .await?;
        }
        Ok(p)
    }
}
