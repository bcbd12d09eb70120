//! Case records: create, read (with audited identity reveal), update with optimistic
//! concurrency, list, blind-index search, erase (crypto-shredding).
//! Every function asks the access policy first; denials are audited too.

use crate::audit::append;
use crate::crypto::{SecretKey, field_aad};
use crate::kernel::ts;
use crate::{Result, Store, StoreError, millis};
use dayaq_domain::case::{
    CaseView, Identity, ValidCase, age_band, normalise_name, normalise_phone,
};
use dayaq_domain::policy::{Action, CaseFacts, Resource, Section, decide};
use dayaq_domain::vocab::{CaseStatus, Gender, TraffickingStatus, TypeOfExploitation};
use serde::{Deserialize, Serialize};
use sqlx::{AnyConnection, FromRow, Row};
use std::collections::HashMap;
use uuid::Uuid;

pub use crate::kernel::{CaseAccess, Ctx};

mod caseload;
pub use caseload::{CaseProgress, CaseloadPage, CaseloadParams, CaseloadQuery, CaseloadRow};

/// Exact-match search through the blind index. Sent in a request body, never in a URL.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SearchQuery {
    #[serde(rename = "prs_FirstName", default)]
    pub first_name: Option<String>,
    #[serde(rename = "prs_SecondName", default)]
    pub second_name: Option<String>,
    #[serde(rename = "prs_Birthdate", default)]
    pub birthdate: Option<String>,
    #[serde(rename = "prs_MobilePhone", default)]
    pub phone: Option<String>,
    #[serde(rename = "prs_IdentityNumber", default)]
    pub identity_number: Option<String>,
    #[serde(default)]
    pub case_number: Option<String>,
}

/// Search answer: the visible cases, and organisations that hold a possible match the actor
/// cannot see (no content of those records is revealed).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SearchResult {
    pub cases: Vec<CaseView>,
    pub possible_matches_elsewhere: Vec<String>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CaseEvent {
    pub at: String,
    pub kind: String,
    pub detail: String,
}

pub(crate) fn blind_terms(id: &Identity) -> Vec<(&'static str, String)> {
    let mut v = Vec::new();
    if let (Some(f), Some(s), Some(b)) = (&id.first_name, &id.second_name, &id.birthdate) {
        v.push((
            "name_dob",
            format!("{}|{}|{}", normalise_name(f), normalise_name(s), b.trim()),
        ));
    }
    for p in [&id.mobile_phone, &id.home_phone].into_iter().flatten() {
        v.push(("phone", normalise_phone(p)));
    }
    if let Some(n) = &id.identity_number {
        v.push((
            "idnum",
            n.split_whitespace().collect::<String>().to_uppercase(),
        ));
    }
    v.sort();
    v.dedup();
    v
}

pub(crate) const CASE_COLS: &str = "id, case_number, owner_org_id, version, cas_status, vic_trafficking_status, \
     prs_gender, age_when_trafficked, age_band, created_at, updated_at, closure";

/// One row of `CASE_COLS`, read by column name (`closure` is sealed: it is read on its own,
/// only where a case key is at hand).
#[derive(sqlx::FromRow)]
pub(crate) struct CaseRow {
    pub id: String,
    pub case_number: String,
    pub owner_org_id: String,
    pub version: i64,
    pub cas_status: String,
    pub vic_trafficking_status: String,
    pub prs_gender: Option<String>,
    pub age_when_trafficked: Option<i64>,
    pub age_band: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

impl Store {
    /// Writes the encrypted and derived parts of a case (identity, closure, blind index,
    /// multi-valued attributes), replacing what was there.
    async fn write_case_parts(
        &self,
        conn: &mut AnyConnection,
        id: &str,
        owner: &str,
        key: &SecretKey,
        c: &ValidCase,
        with_closure: bool,
    ) -> Result<()> {
        let identity_json =
            serde_json::to_vec(&c.identity).map_err(|e| StoreError::Data(e.to_string()))?;
        let identity = key.seal(&field_aad("cases", "identity", id, "case"), &identity_json)?;
        if with_closure {
            let closure = match &c.reason_for_closure {
                Some(t) => {
                    Some(key.seal(&field_aad("cases", "closure", id, "case"), t.as_bytes())?)
                }
                None => None,
            };
            sqlx::query("UPDATE cases SET identity = $1, closure = $2 WHERE id = $3")
                .bind(identity)
                .bind(closure)
                .bind(id)
                .execute(&mut *conn)
                .await?;
        } else {
            // The status (and so its closure reason) is kept.
            sqlx::query("UPDATE cases SET identity = $1 WHERE id = $2")
                .bind(identity)
                .bind(id)
                .execute(&mut *conn)
                .await?;
        }
        sqlx::query("DELETE FROM blind_index WHERE case_id = $1")
            .bind(id)
            .execute(&mut *conn)
            .await?;
        for (kind, value) in blind_terms(&c.identity) {
            sqlx::query(
                "INSERT INTO blind_index (case_id, org_id, kind, digest) VALUES ($1, $2, $3, $4)",
            )
            .bind(id)
            .bind(owner)
            .bind(kind)
            .bind(self.keys.blind()?.hmac_hex(kind, &value)?)
            .execute(&mut *conn)
            .await?;
        }
        sqlx::query("DELETE FROM case_values WHERE case_id = $1")
            .bind(id)
            .execute(&mut *conn)
            .await?;
        let values = c
            .citizenship
            .iter()
            .map(|v| ("prs_Citizenship", v.as_str()))
            .chain(
                c.types_of_exploitation
                    .iter()
                    .map(|t| ("vic_TypeOfExploitation", t.as_str())),
            )
            .map(|(f, v)| (f, v.to_string()))
            .chain(c.context.to_values());
        for (field, value) in values {
            sqlx::query("INSERT INTO case_values (case_id, field, value) VALUES ($1, $2, $3)")
                .bind(id)
                .bind(field)
                .bind(value)
                .execute(&mut *conn)
                .await?;
        }
        Ok(())
    }

    /// Creates a case through the insert path it shares with the HTCDS import
    /// (`Store::insert_prepared` in `htcds.rs`).
    pub async fn create_case(&self, ctx: &Ctx<'_>, c: &ValidCase) -> Result<CaseView> {
        self.authorize_org(ctx, Action::CreateCase)?;
        let prepared = self.prepare_cases(ctx.now, std::slice::from_ref(c))?;
        let ids = prepared
            .first()
            .map(|p| p.id.clone())
            .ok_or_else(|| StoreError::Data("no case prepared".into()))?;
        let mut tx = self.begin_write().await?;
        self.insert_prepared(&mut tx, ctx, &prepared, "").await?;
        tx.commit_with(&ctx.entry("case.create", "success", &ids), millis(ctx.now))
            .await?;
        self.case_view(&ids, None).await
    }

    pub(crate) async fn values_for(
        &self,
        ids: &[String],
    ) -> Result<HashMap<String, Vec<(String, String)>>> {
        let mut out: HashMap<String, Vec<(String, String)>> = HashMap::new();
        if ids.is_empty() {
            return Ok(out);
        }
        let placeholders: Vec<String> = (1..=ids.len()).map(|i| format!("${i}")).collect();
        let q = format!(
            "SELECT case_id, field, value FROM case_values WHERE case_id IN ({}) ORDER BY case_id, field, value",
            placeholders.join(", ")
        );
        let mut query = sqlx::query(sqlx::AssertSqlSafe(q));
        for id in ids {
            query = query.bind(id);
        }
        for r in query.fetch_all(&self.pool).await? {
            let id: String = r.try_get("case_id")?;
            out.entry(id)
                .or_default()
                .push((r.try_get("field")?, r.try_get("value")?));
        }
        Ok(out)
    }

    pub(crate) fn view_from_row(
        &self,
        r: &sqlx::any::AnyRow,
        values: &[(String, String)],
        identity: Option<Identity>,
    ) -> Result<CaseView> {
        let data = |e: String| StoreError::Data(e);
        let row = CaseRow::from_row(r)?;
        let id = row.id;
        let owner = row.owner_org_id;
        let status = row.cas_status;
        let tstatus = row.vic_trafficking_status;
        let gender = row.prs_gender;
        let mut types = Vec::new();
        let mut citizenship = Vec::new();
        for (f, v) in values {
            match f.as_str() {
                "prs_Citizenship" => citizenship.push(v.clone()),
                "vic_TypeOfExploitation" => {
                    types.push(TypeOfExploitation::parse(v).map_err(|e| data(e.message))?)
                }
                _ => {}
            }
        }
        Ok(CaseView {
            id: Uuid::parse_str(&id).map_err(|e| data(e.to_string()))?,
            case_number: row.case_number,
            version: row.version,
            owner_org: Uuid::parse_str(&owner).map_err(|e| data(e.to_string()))?,
            status: CaseStatus::parse(&status).map_err(|e| data(e.message))?,
            reason_for_closure: None,
            trafficking_status: TraffickingStatus::parse(&tstatus).map_err(|e| data(e.message))?,
            gender: gender
                .map(|g| Gender::parse(&g))
                .transpose()
                .map_err(|e| data(e.message))?,
            citizenship,
            age_when_trafficked: row.age_when_trafficked,
            age_band: row.age_band,
            types_of_exploitation: types,
            context: dayaq_domain::case::VictimContext::from_values(values),
            created_at: ts(row.created_at),
            updated_at: ts(row.updated_at),
            identity,
        })
    }

    /// Reads one case row into a view; decrypts identity and closure with `key` if given.
    async fn case_view(&self, id: &str, key: Option<&SecretKey>) -> Result<CaseView> {
        let q =
            format!("SELECT {CASE_COLS}, identity FROM cases WHERE id = $1 AND erased_at IS NULL");
        let r = sqlx::query(sqlx::AssertSqlSafe(q))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or(StoreError::NotFound)?;
        let values = self.values_for(&[id.to_string()]).await?;
        let mut identity = None;
        let mut closure = None;
        if let Some(key) = key {
            if let Some(ct) = r.try_get::<Option<Vec<u8>>, _>("identity")? {
                let plain = key.open(&field_aad("cases", "identity", id, "case"), &ct)?;
                identity = Some(
                    serde_json::from_slice(&plain).map_err(|e| StoreError::Data(e.to_string()))?,
                );
            }
            if let Some(ct) = r.try_get::<Option<Vec<u8>>, _>("closure")? {
                let plain = key.open(&field_aad("cases", "closure", id, "case"), &ct)?;
                closure = Some(String::from_utf8_lossy(&plain).into_owned());
            }
        }
        let mut v = self.view_from_row(
            &r,
            values.get(id).map(|v| v.as_slice()).unwrap_or(&[]),
            identity,
        )?;
        v.reason_for_closure = closure;
        Ok(v)
    }

    /// Reads a case. With `reveal_identity`, the identity section is decrypted — a separate
    /// policy decision, and the read is audited durably before the data is returned.
    pub async fn get_case(
        &self,
        ctx: &Ctx<'_>,
        id: Uuid,
        reveal_identity: bool,
    ) -> Result<CaseView> {
        let access = self.authorize_case(ctx, Action::ReadCase, id).await?;
        self.get_case_of(ctx, &access, reveal_identity).await
    }

    /// [`Store::get_case`] of a checked case: asks `ReadCase` on the carried facts.
    pub(crate) async fn get_case_of(
        &self,
        ctx: &Ctx<'_>,
        access: &CaseAccess,
        reveal_identity: bool,
    ) -> Result<CaseView> {
        self.require(ctx, access, Action::ReadCase).await?;
        let ids = access.id_str().to_string();
        // Need-to-know: the sections this actor may read (all of them in the owning
        // organisation; those of an accepted referral otherwise).
        let allowed: Vec<Section> = access.readable_sections();
        let redact = |v: CaseView| dayaq_domain::referral::redact_case(v, &allowed);
        if !reveal_identity {
            return Ok(redact(self.case_view(&ids, None).await?));
        }
        let personal = [Section::Identity, Section::ContactDetails, Section::Notes];
        if !personal.iter().any(|s| allowed.contains(s)) {
            self.require(ctx, access, Action::ReadSection(Section::Identity))
                .await?;
        }
        let mut tx = self.begin_write().await?;
        let mut read = ctx.entry("case.read_identity", "success", &ids);
        read.grant = access.grant();
        append(&mut tx, &read, millis(ctx.now)).await?;
        let key = self.case_key(&mut tx, access).await?;
        tx.commit().await?;
        Ok(redact(self.case_view(&ids, Some(&key)).await?))
    }

    /// The sections of a case the actor may read (for screens that show or hide parts).
    pub async fn readable_sections(&self, ctx: &Ctx<'_>, id: Uuid) -> Result<Vec<Section>> {
        let access = self.authorize_case(ctx, Action::ReadCase, id).await?;
        Ok(access.readable_sections())
    }

    /// Replaces a case's fields when `version` is current; otherwise `Conflict`. When
    /// `status_given` is false the case keeps its `cas_Status`; otherwise a different status
    /// is a status change under the life-cycle rules (kept in the history).
    pub async fn update_case(
        &self,
        ctx: &Ctx<'_>,
        id: Uuid,
        version: i64,
        c: &ValidCase,
        status_given: bool,
    ) -> Result<CaseView> {
        let access = self.authorize_case(ctx, Action::UpdateCase, id).await?;
        let ids = id.to_string();
        let mut w = self.write_case(ctx, &access).await?;
        // `cas_Status` is never overwritten here: a change goes through the same rules and
        // history as the status action (closing needs a reason and a case manager; a closed
        // case is reopened explicitly).
        let from = Self::current_status(&mut w, &ids).await?;
        let status_change = if !status_given || from == c.status {
            None
        } else {
            let (to, kind, reason) = dayaq_domain::record::check_status_change(
                from,
                c.status.as_str(),
                c.reason_for_closure.as_deref(),
            )?;
            if kind == dayaq_domain::record::StatusChange::Close {
                let d = decide(ctx.actor, Action::CloseCase, Resource::Case(access.facts()));
                if !d.allowed {
                    drop(w);
                    let mut e = ctx.entry("access.denied", "denied", &ids);
                    e.detail = d.reason.to_string();
                    self.audit(e, ctx.now).await?;
                    return Err(StoreError::Forbidden(d.reason));
                }
            }
            Some((to, kind, reason))
        };
        let n = sqlx::query(
            "UPDATE cases SET version = version + 1, prs_gender = $1, age_when_trafficked = $2, \
             age_band = $3, updated_at = $4 WHERE id = $5 AND version = $6 AND erased_at IS NULL",
        )
        .bind(c.gender.map(|g| g.as_str()))
        .bind(c.age_when_trafficked)
        .bind(c.age_when_trafficked.map(age_band))
        .bind(millis(ctx.now))
        .bind(&ids)
        .bind(version)
        .execute(&mut *w)
        .await?
        .rows_affected();
        if n != 1 {
            drop(w);
            return Err(StoreError::Conflict);
        }
        let key = self.case_key(&mut w, &access).await?;
        if let Some((to, kind, reason)) = status_change {
            Self::write_status(
                &mut w,
                ctx,
                &key,
                &access,
                Some(from),
                to,
                kind,
                reason.as_deref(),
                false,
            )
            .await?;
        }
        self.write_case_parts(
            &mut w,
            &ids,
            &access.facts().owner_org.to_string(),
            &key,
            c,
            status_given,
        )
        .await?;
        w.event("case.updated", &format!("version={}", version + 1))
            .await?;
        w.commit("case.update", String::new()).await?;
        self.case_view(&ids, None).await
    }

    /// Crypto-shreds a case: its key, blind-index entries and ciphertexts are deleted; a
    /// tombstone row with no personal data remains so that the audit trail still resolves.
    pub async fn erase_case(&self, ctx: &Ctx<'_>, id: Uuid) -> Result<()> {
        let access = self.authorize_case(ctx, Action::EraseCase, id).await?;
        let mut w = self.write_case(ctx, &access).await?;
        Self::shred_case(&mut w).await?;
        w.commit("case.erase", String::new()).await?;
        self.after_erasure(&access).await;
        Ok(())
    }

    /// The erasure's writes inside the caller's transaction on a case checked for
    /// `Action::EraseCase` (`erase_case`, and an approved data-subject erasure, which completes
    /// its request in the same transaction): the legal-hold check, the shredding and the
    /// timeline event. Nothing is written if the case is under legal hold.
    pub(crate) async fn shred_case(w: &mut crate::kernel::CaseWrite<'_>) -> Result<()> {
        // A case under legal hold (retention, issue #17 part 3) is never erased, whichever
        // path asks (the API, a data-subject erasure, the retention job): lift the hold first.
        // Asked inside the write transaction, so a hold placed meanwhile is seen.
        let case_id = w.case_id().to_string();
        let held: Option<String> =
            sqlx::query_scalar("SELECT reason FROM retention_holds WHERE case_id = $1")
                .bind(&case_id)
                .fetch_optional(&mut **w)
                .await?;
        if held.is_some() {
            return Err(
                dayaq_domain::ValidationErrors::single(dayaq_domain::FieldError::new(
                    "case",
                    "legal_hold",
                    "the case is under legal hold: lift the hold before erasing it",
                ))
                .into(),
            );
        }
        w.exec("DELETE FROM case_keys WHERE case_id = $1").await?;
        w.exec("DELETE FROM blind_index WHERE case_id = $1").await?;
        // Contacts of the case are shredded with it.
        w.exec("UPDATE contacts SET wrapped_key = NULL, master_key_id = NULL, summary = NULL WHERE case_id = $1")
            .await?;
        // The once-per-person allowance rule keys on the name + birth-date digest: replace it
        // by the payment's own id, so that no identifier derived from the person survives (the
        // payment row stays for the accounts; the rule no longer links her to it).
        w.exec("UPDATE allowance_payments SET person_key = 'erased:' || id WHERE case_id = $1")
            .await?;
        let now = w.now();
        sqlx::query("UPDATE cases SET identity = NULL, closure = NULL, erased_at = $1, version = version + 1 WHERE id = $2")
            .bind(now)
            .bind(case_id)
            .execute(&mut **w)
            .await?;
        // Attachments: their names die with the key; the objects are removed after commit.
        w.exec("UPDATE case_attachments SET state = 'deleting' WHERE case_id = $1")
            .await?;
        w.event("case.erased", "").await?;
        Ok(())
    }

    /// After an erasure's commit: the attachments' objects are removed and SQLite's log is
    /// scrubbed. Both are repeatable (a crash before them leaves work the next erasure, the
    /// `attachments repair` command and the next checkpoint finish).
    pub(crate) async fn after_erasure(&self, access: &CaseAccess) {
        self.purge_erased_attachments(access.id_str()).await;
        self.scrub_after_erasure().await;
    }

    /// SQLite keeps the pre-erasure page images in the write-ahead log until a checkpoint:
    /// copy the log into the database (where `secure_delete` has zeroed the freed bytes) and
    /// truncate it to zero bytes. A checkpoint still blocked by a long reader after the busy
    /// timeout is left to the next one (reported in the log, without ids). PostgreSQL: old
    /// row versions stay in the table's pages until they are reused (see docs/ARCHITECTURE.md).
    async fn scrub_after_erasure(&self) {
        if self.engine != crate::Engine::Sqlite {
            return;
        }
        // One attempt: it waits (busy_timeout) for readers and writers to move on, and
        // holds new writers back meanwhile; erasures are rare.
        match sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
            .fetch_one(&self.pool)
            .await
        {
            Ok(r) if r.try_get::<i64, _>("busy").unwrap_or(1) == 0 => {}
            Ok(_) => tracing::warn!(
                "WAL checkpoint after an erasure was blocked by readers; the next checkpoint completes it"
            ),
            Err(e) => tracing::warn!(error = %e, "WAL checkpoint after an erasure failed"),
        }
    }

    /// The actor's organisation's cases, most recently updated first (no identity).
    pub async fn list_cases(
        &self,
        ctx: &Ctx<'_>,
        limit: i64,
        offset: i64,
    ) -> Result<Vec<CaseView>> {
        self.authorize_org(ctx, Action::ListCases)?;
        let q = format!(
            "SELECT {CASE_COLS} FROM cases WHERE owner_org_id = $1 AND erased_at IS NULL \
             ORDER BY updated_at DESC, id LIMIT $2 OFFSET $3"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(q))
            .bind(ctx.actor.org_id.to_string())
            .bind(limit.clamp(1, 500))
            .bind(offset.max(0))
            .fetch_all(&self.pool)
            .await?;
        self.views(ctx, rows).await
    }

    /// Builds views for rows, keeping only those the policy lets the actor read.
    async fn views(&self, ctx: &Ctx<'_>, rows: Vec<sqlx::any::AnyRow>) -> Result<Vec<CaseView>> {
        let ids: Vec<String> = rows
            .iter()
            .map(|r| r.try_get("id"))
            .collect::<Result<_, _>>()?;
        let values = self.values_for(&ids).await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in &rows {
            let id: String = r.try_get("id")?;
            let v = self.view_from_row(
                r,
                values.get(&id).map(|v| v.as_slice()).unwrap_or(&[]),
                None,
            )?;
            let facts = CaseFacts {
                owner_org: v.owner_org,
                erased: false,
                grants: vec![],
                break_glass: vec![],
            };
            if decide(ctx.actor, Action::ReadCase, Resource::Case(&facts)).allowed {
                out.push(v);
            }
        }
        Ok(out)
    }

    pub async fn count_cases(&self, ctx: &Ctx<'_>) -> Result<i64> {
        self.authorize_org(ctx, Action::ListCases)?;
        Ok(sqlx::query_scalar(
            "SELECT COUNT(*) FROM cases WHERE owner_org_id = $1 AND erased_at IS NULL",
        )
        .bind(ctx.actor.org_id.to_string())
        .fetch_one(&self.pool)
        .await?)
    }

    /// Spends one search of the actor's budget (`Settings::search_limit` per
    /// `search_window_ms`, in memory, keyed by user id); `RateLimited` when it is used up.
    fn spend_search(&self, ctx: &Ctx<'_>) -> Result<()> {
        let now = millis(ctx.now);
        let window = self.settings.search_window_ms;
        let mut map = self
            .searches
            .lock()
            .map_err(|_| StoreError::Data("search budget lock poisoned".into()))?;
        // Forget users whose searches are all outside the window (bounded memory).
        map.retain(|_, v| v.iter().any(|t| now - *t < window));
        let recent = map.entry(ctx.actor.user_id).or_default();
        recent.retain(|t| now - *t < window);
        if recent.len() >= self.settings.search_limit {
            let oldest = recent.iter().copied().min().unwrap_or(now);
            let retry = ((oldest + window - now) / 1000).max(1);
            return Err(StoreError::RateLimited(retry));
        }
        recent.push(now);
        Ok(())
    }

    /// Exact search by case number or through the blind index, in the actor's organisation.
    /// Other organisations' cases are reported (as the organisation's name only, for duplicate
    /// detection) only when name + birth date *and* one more identifier (phone or identity
    /// number) match the same case: a phone number or an identity number alone never reveals
    /// whether or where a person is registered elsewhere. Searches are rate-limited per user;
    /// the audit row records the kinds searched (`name+birth,phone`), never the values.
    pub async fn search_cases(&self, ctx: &Ctx<'_>, q: &SearchQuery) -> Result<SearchResult> {
        self.authorize_org(ctx, Action::ListCases)?;
        let probe = Identity {
            first_name: q.first_name.clone(),
            second_name: q.second_name.clone(),
            birthdate: q.birthdate.clone(),
            mobile_phone: q.phone.clone(),
            identity_number: q.identity_number.clone(),
            ..Default::default()
        };
        let terms = blind_terms(&probe);
        let case_number = q
            .case_number
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty());
        let mut kinds: Vec<&str> = Vec::new();
        if case_number.is_some() {
            kinds.push("case_number");
        }
        for (kind, _) in &terms {
            let k = match *kind {
                "name_dob" => "name+birth",
                "phone" => "phone",
                _ => "id_number",
            };
            if !kinds.contains(&k) {
                kinds.push(k);
            }
        }
        let kinds = kinds.join(",");
        if let Err(e) = self.spend_search(ctx) {
            let mut d = ctx.entry("case.search", "denied", "");
            d.detail = format!("rate_limited kinds={kinds}");
            self.audit(d, ctx.now).await?;
            return Err(e);
        }
        let me = ctx.actor.org_id.to_string();
        let mut ids: Vec<String> = Vec::new();
        if let Some(n) = case_number {
            let found: Vec<String> = sqlx::query_scalar("SELECT id FROM cases WHERE case_number = $1 AND owner_org_id = $2 AND erased_at IS NULL")
                .bind(n.to_uppercase())
                .bind(&me)
                .fetch_all(&self.pool)
                .await?;
            ids.extend(found);
        }
        // Other organisations' cases matching name + birth date, and those matching another
        // identifier: only a case in both sets is a possible duplicate worth naming.
        let mut elsewhere_by_name: Vec<(String, String)> = Vec::new();
        let mut elsewhere_by_other: Vec<String> = Vec::new();
        for (kind, value) in &terms {
            let digest = self.keys.blind()?.hmac_hex(kind, value)?;
            let rows = sqlx::query(
                "SELECT case_id, org_id FROM blind_index WHERE kind = $1 AND digest = $2",
            )
            .bind(*kind)
            .bind(digest)
            .fetch_all(&self.pool)
            .await?;
            for r in rows {
                let cid: String = r.try_get("case_id")?;
                let org: String = r.try_get("org_id")?;
                if org == me {
                    ids.push(cid);
                } else if *kind == "name_dob" {
                    elsewhere_by_name.push((cid, org));
                } else {
                    elsewhere_by_other.push(cid);
                }
            }
        }
        ids.sort();
        ids.dedup();
        let mut cases = Vec::new();
        for id in ids {
            let Ok(uid) = Uuid::parse_str(&id) else {
                continue;
            };
            match self.authorize_case(ctx, Action::ReadCase, uid).await {
                Ok(_) => cases.push(self.case_view(&id, None).await?),
                Err(StoreError::NotFound | StoreError::Forbidden(_)) => {}
                Err(e) => return Err(e),
            }
        }
        let mut elsewhere_orgs: Vec<String> = elsewhere_by_name
            .into_iter()
            .filter(|(cid, _)| elsewhere_by_other.contains(cid))
            .map(|(_, org)| org)
            .collect();
        elsewhere_orgs.sort();
        elsewhere_orgs.dedup();
        let mut elsewhere = Vec::new();
        for org in elsewhere_orgs {
            if let Ok(o) = Uuid::parse_str(&org)
                && let Ok(o) = self.org_by_id(o).await
            {
                elsewhere.push(o.name);
            }
        }
        let mut e = ctx.entry("case.search", "success", "");
        e.detail = format!(
            "kinds={kinds} results={} elsewhere={}",
            cases.len(),
            elsewhere.len()
        );
        self.audit(e, ctx.now).await?;
        Ok(SearchResult {
            cases,
            possible_matches_elsewhere: elsewhere,
        })
    }

    /// The case timeline, filtered by the same section grants as the case page: an event is
    /// shown only when the reader may read every section it reveals
    /// (`policy::event_sections`); a receiving organisation sees the events of its own
    /// referrals only, never those of the case's other referrals.
    pub async fn case_events(&self, ctx: &Ctx<'_>, id: Uuid) -> Result<Vec<CaseEvent>> {
        let access = self.authorize_case(ctx, Action::ReadCase, id).await?;
        let allowed: Vec<Section> = access.readable_sections();
        let everything = allowed.len() == Section::ALL.len();
        let own_referrals: Vec<String> = if everything {
            vec![]
        } else {
            sqlx::query_scalar("SELECT id FROM referrals WHERE case_id = $1 AND to_org = $2")
                .bind(id.to_string())
                .bind(ctx.actor.org_id.to_string())
                .fetch_all(&self.pool)
                .await?
        };
        let rows = sqlx::query(
            "SELECT at, kind, detail FROM case_events WHERE case_id = $1 ORDER BY at, id",
        )
        .bind(id.to_string())
        .fetch_all(&self.pool)
        .await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in &rows {
            let kind: String = r.try_get("kind")?;
            let detail: String = r.try_get("detail")?;
            if !everything {
                if !dayaq_domain::policy::event_visible(&kind, &allowed) {
                    continue;
                }
                if kind.starts_with("referral.") {
                    let referral = detail
                        .split_whitespace()
                        .find_map(|w| w.strip_prefix("referral="))
                        .unwrap_or("");
                    if !own_referrals.iter().any(|x| x == referral) {
                        continue;
                    }
                }
            }
            // A detail derived from a section (a plan type) obeys that section's grant.
            let detail = if everything {
                detail
            } else {
                dayaq_domain::policy::event_detail(&kind, &detail, &allowed).to_string()
            };
            out.push(CaseEvent {
                at: ts(r.try_get("at")?),
                kind,
                detail,
            });
        }
        Ok(out)
    }
}
