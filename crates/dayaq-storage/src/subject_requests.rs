//! Data-subject requests (issue #17 part 2): recorded on a case by its case managers
//! (`Action::RecordSubjectRequest`), decided by a supervisor of the owning organisation
//! (`Action::DecideSubjectRequest`). Rules in `dayaq_domain::subject_request`.
//!
//! - Access: [`Store::subject_access_source`] gives the caller her record (identity included)
//!   and the organisations that received her data; the caller renders and packs it, then
//!   [`Store::seal_subject_access`] encrypts the package with `age` to a fresh passphrase (scrypt
//!   recipient) that is returned once and never stored, and keeps the ciphertext until
//!   [`Store::take_subject_access`] hands it to the supervisor once (then it is deleted).
//! - Correction, restriction: a decision with its outcome (changed field names only, or a legal
//!   refusal reason); an accepted restriction is the case's restriction flag until a
//!   supervisor lifts it ([`Store::lift_subject_restriction`]).
//! - Erasure: approved by a supervisor other than the recorder, or refused; executed through
//!   the existing [`Store::erase_case`] (crypto-shredding).
//!
//! Every read of the list is audited; every change writes a timeline event and an audit row
//! (codes only) in its own transaction. A free-text refusal reason is sealed with the case key.

use crate::crypto::field_aad;
use crate::kernel::{CaseAccess, Ctx, millis, one_row, ts, uuid_of};
use crate::{Result, Store, StoreError};
use dayaq_domain::ValidationErrors;
use dayaq_domain::case::CaseView;
use dayaq_domain::policy::Action;
use dayaq_domain::subject_request::{
    Channel, Decision, DecisionInput, RecordLanguage, RefusalReason, RequestInput, RequestKind,
    RequestRef, RequestState, Stored, may_execute, may_export, may_lift, request_id,
    unknown_request,
};
pub use dayaq_interchange::subject_access::{HTML_NAME, JSON_NAME, PDF_NAME, unpack};
use serde::Serialize;
use sqlx::Row;
use sqlx::any::AnyRow;
use uuid::Uuid;
pub use zeroize::Zeroizing;

/// One data-subject request as shown to its organisation (no staff names: the recorder is
/// an account id, for the four-eyes rule on screen).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SubjectRequestView {
    pub id: Uuid,
    pub kind: RequestKind,
    pub channel: Channel,
    /// The language of her copy (access only).
    pub language: Option<RecordLanguage>,
    /// YYYY-MM-DD
    pub requested_on: String,
    pub state: RequestState,
    pub recorded_by: Uuid,
    pub recorded_at: String,
    pub decided_at: Option<String>,
    pub refusal_reason: Option<RefusalReason>,
    /// The reason in words when `refusal_reason` is `other` (decrypted).
    pub refusal_text: Option<String>,
    /// A correction accepted: the HTCDS field names changed.
    pub changed_fields: Vec<String>,
    pub completed_at: Option<String>,
    /// An access export is waiting for its one download.
    pub export_ready: bool,
    pub export_downloaded_at: Option<String>,
    /// A restriction lifted by a supervisor (state `lifted`): when.
    pub lifted_at: Option<String>,
}

/// The requests of a case and its restriction flag.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SubjectRequests {
    /// An accepted restriction request: processing of her data is restricted.
    pub restricted: bool,
    pub requests: Vec<SubjectRequestView>,
}

/// An organisation that received her data, and when (never a person).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct DataRecipient {
    /// HTCDS `org_Name`.
    pub organisation: String,
    /// referral | package | transfer
    pub how: String,
    /// RFC 3339
    pub at: String,
    /// The referral's state (referrals only).
    pub state: Option<String>,
}

/// What her copy is made of: the record (identity included), the organisations that received
/// her data, the language and the time.
#[derive(Debug, Clone)]
pub struct AccessSource {
    pub case: CaseView,
    pub recipients: Vec<DataRecipient>,
    pub language: RecordLanguage,
    pub owner_org: String,
}

const COLS: &str = "id, kind, channel, language, requested_on, state, recorded_by, recorded_at, \
    decided_at, refusal_reason, sealed, changed_fields, completed_at, \
    CASE WHEN export_blob IS NULL THEN 0 ELSE 1 END AS export_ready, export_downloaded_at, lifted_at";

fn data(e: impl std::fmt::Display) -> StoreError {
    StoreError::Data(e.to_string())
}

fn code<T>(parse: fn(&str) -> Option<T>, s: &str) -> Result<T> {
    parse(s).ok_or_else(|| data("unknown code in subject_requests"))
}

/// The passphrase alphabet: Crockford base32 without look-alikes (no I, L, O, U).
const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// A fresh passphrase: 25 random characters (125 bits) in five groups of five, to be read out
/// and written down.
fn new_passphrase() -> Result<Zeroizing<String>> {
    let mut raw = Zeroizing::new([0u8; 25]);
    getrandom::fill(raw.as_mut()).map_err(|_| data("no randomness"))?;
    let mut out = Zeroizing::new(String::with_capacity(29));
    for (i, b) in raw.iter().enumerate() {
        if i > 0 && i % 5 == 0 {
            out.push('-');
        }
        out.push(char::from(ALPHABET[usize::from(b & 31)]));
    }
    Ok(out)
}

impl Store {
    fn request_view(
        r: &AnyRow,
        key: Option<&crate::crypto::SecretKey>,
    ) -> Result<SubjectRequestView> {
        let id: String = r.try_get("id")?;
        let refusal_text = match (key, r.try_get::<Option<Vec<u8>>, _>("sealed")?) {
            (Some(k), Some(ct)) => {
                let plain = k.open(&field_aad("subject_requests", "sealed", &id, "case"), &ct)?;
                Some(String::from_utf8(plain.to_vec()).map_err(data)?)
            }
            _ => None,
        };
        let opt_ts =
            |c: &str| -> Result<Option<String>> { Ok(r.try_get::<Option<i64>, _>(c)?.map(ts)) };
        Ok(SubjectRequestView {
            id: uuid_of(&id)?,
            kind: code(RequestKind::parse_code, &r.try_get::<String, _>("kind")?)?,
            channel: code(Channel::parse_code, &r.try_get::<String, _>("channel")?)?,
            language: match r.try_get::<Option<String>, _>("language")? {
                Some(l) => Some(code(RecordLanguage::parse_code, &l)?),
                None => None,
            },
            requested_on: r.try_get("requested_on")?,
            state: code(RequestState::parse_code, &r.try_get::<String, _>("state")?)?,
            recorded_by: uuid_of(&r.try_get::<String, _>("recorded_by")?)?,
            recorded_at: ts(r.try_get("recorded_at")?),
            decided_at: opt_ts("decided_at")?,
            refusal_reason: match r.try_get::<Option<String>, _>("refusal_reason")? {
                Some(s) => Some(code(RefusalReason::parse_code, &s)?),
                None => None,
            },
            refusal_text,
            changed_fields: r
                .try_get::<Option<String>, _>("changed_fields")?
                .map(|s| {
                    s.split(',')
                        .filter(|x| !x.is_empty())
                        .map(str::to_string)
                        .collect()
                })
                .unwrap_or_default(),
            completed_at: opt_ts("completed_at")?,
            export_ready: r.try_get::<i64, _>("export_ready")? != 0,
            export_downloaded_at: opt_ts("export_downloaded_at")?,
            lifted_at: opt_ts("lifted_at")?,
        })
    }

    /// The stored facts of request `req` of the checked case (`NotFound` if it is another
    /// case's).
    async fn stored_request(
        &self,
        access: &CaseAccess,
        req: Option<&str>,
    ) -> Result<(Uuid, Stored)> {
        let req = request_id(req)?;
        let r = sqlx::query(
            "SELECT kind, state, recorded_by FROM subject_requests WHERE id = $1 AND case_id = $2",
        )
        .bind(req.to_string())
        .bind(access.id_str())
        .fetch_optional(&self.pool)
        .await?
        .ok_or_else(unknown_request)?;
        Ok((
            req,
            Stored {
                kind: code(RequestKind::parse_code, &r.try_get::<String, _>("kind")?)?,
                state: code(RequestState::parse_code, &r.try_get::<String, _>("state")?)?,
                recorded_by: uuid_of(&r.try_get::<String, _>("recorded_by")?)?,
            },
        ))
    }

    async fn one_request(
        &self,
        ctx: &Ctx<'_>,
        case: Uuid,
        req: Uuid,
    ) -> Result<SubjectRequestView> {
        self.subject_requests(ctx, case)
            .await?
            .requests
            .into_iter()
            .find(|r| r.id == req)
            .ok_or(StoreError::NotFound)
    }

    /// The data-subject requests of a case, newest first, and its restriction flag (audited
    /// read: a refusal reason in words is decrypted).
    pub async fn subject_requests(&self, ctx: &Ctx<'_>, case: Uuid) -> Result<SubjectRequests> {
        let access = self
            .authorize_case(ctx, Action::RecordSubjectRequest, case)
            .await?;
        let sql = format!(
            "SELECT {COLS} FROM subject_requests WHERE case_id = $1 ORDER BY recorded_at DESC, id"
        );
        let mut conn = self.pool.acquire().await?;
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(access.id_str())
            .fetch_all(&mut *conn)
            .await?;
        let sealed = rows
            .iter()
            .any(|r| matches!(r.try_get::<Option<Vec<u8>>, _>("sealed"), Ok(Some(_))));
        let key = if sealed {
            Some(self.case_key(&mut conn, &access).await?)
        } else {
            None
        };
        drop(conn);
        let requests = rows
            .iter()
            .map(|r| Self::request_view(r, key.as_ref()))
            .collect::<Result<Vec<_>>>()?;
        self.audit_read(ctx, &access, "subject_request.list")
            .await?;
        Ok(SubjectRequests {
            restricted: requests
                .iter()
                .any(|r| r.kind == RequestKind::Restriction && r.state == RequestState::Completed),
            requests,
        })
    }

    /// Is processing of the case's data restricted (an accepted restriction request)? For
    /// anyone who may read the case (a receiving organisation must know it too); not audited:
    /// a flag, no personal data.
    pub async fn case_restricted(&self, ctx: &Ctx<'_>, case: Uuid) -> Result<bool> {
        let access = self.authorize_case(ctx, Action::ReadCase, case).await?;
        let n: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM subject_requests WHERE case_id = $1 AND kind = 'restriction' AND state = 'completed'",
        )
        .bind(access.id_str())
        .fetch_one(&self.pool)
        .await?;
        Ok(n > 0)
    }

    /// Records a request (caseworker or supervisor of the owning organisation).
    pub async fn record_subject_request(
        &self,
        ctx: &Ctx<'_>,
        case: Uuid,
        input: &RequestInput,
    ) -> Result<SubjectRequestView> {
        let access = self
            .authorize_case(ctx, Action::RecordSubjectRequest, case)
            .await?;
        let v = input.validate(ctx.now.date())?;
        let id = Uuid::new_v4();
        let mut w = self.write_case(ctx, &access).await?;
        sqlx::query(
            "INSERT INTO subject_requests (id, case_id, org_id, kind, channel, language, requested_on, state, recorded_by, recorded_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(id.to_string())
        .bind(access.id_str())
        .bind(access.facts().owner_org.to_string())
        .bind(v.kind.as_str())
        .bind(v.channel.as_str())
        .bind(v.language.map(|l| l.as_str()))
        .bind(v.requested_on.to_string())
        .bind(RequestState::Requested.as_str())
        .bind(ctx.actor.user_id.to_string())
        .bind(millis(ctx.now))
        .execute(&mut *w)
        .await?;
        w.event("subject_request.recorded", v.kind.as_str()).await?;
        w.commit(
            "subject_request.record",
            format!("request={id} kind={}", v.kind.as_str()),
        )
        .await?;
        self.one_request(ctx, case, id).await
    }

    /// A supervisor's decision: accept (correction, restriction), approve (erasure; not by
    /// the recorder) or refuse with a legal reason.
    pub async fn decide_subject_request(
        &self,
        ctx: &Ctx<'_>,
        case: Uuid,
        input: &DecisionInput,
    ) -> Result<SubjectRequestView> {
        let access = self
            .authorize_case(ctx, Action::DecideSubjectRequest, case)
            .await?;
        // The decision's code first: a body without one is refused before any lookup.
        if Decision::parse_code(input.decision.trim()).is_none() {
            return Err(ValidationErrors::single(dayaq_domain::FieldError::new(
                "decision",
                "invalid_value",
                "expected accept, approve or refuse",
            ))
            .into());
        }
        let (req, stored) = self
            .stored_request(&access, input.request.as_deref())
            .await?;
        let known = |n: &str| {
            dayaq_interchange::htcds::COLUMNS
                .iter()
                .any(|c| c.name == n)
        };
        let (d, next) = input.validate(stored, ctx.actor.user_id, &known)?;
        let rid = req.to_string();
        let mut w = self.write_case(ctx, &access).await?;
        let sealed = match &d.refusal_text {
            Some(t) => {
                let key = self.case_key(&mut w, &access).await?;
                Some(key.seal(
                    &field_aad("subject_requests", "sealed", &rid, "case"),
                    t.as_bytes(),
                )?)
            }
            None => None,
        };
        let now = w.now();
        let completed = (next == RequestState::Completed).then_some(now);
        let done = sqlx::query(
            "UPDATE subject_requests SET state = $1, decided_by = $2, decided_at = $3, refusal_reason = $4, \
             sealed = $5, changed_fields = $6, completed_at = $7 \
             WHERE id = $8 AND case_id = $9 AND state = $10",
        )
        .bind(next.as_str())
        .bind(ctx.actor.user_id.to_string())
        .bind(now)
        .bind(d.refusal_reason.map(|r| r.as_str()))
        .bind(sealed)
        .bind((!d.changed_fields.is_empty()).then(|| d.changed_fields.join(",")))
        .bind(completed)
        .bind(&rid)
        .bind(access.id_str())
        .bind(stored.state.as_str())
        .execute(&mut *w)
        .await?;
        one_row(done).map_err(|_| StoreError::Conflict)?;
        let what = format!("{}:{}", stored.kind.as_str(), d.decision.as_str());
        w.event("subject_request.decided", &what).await?;
        let reason = d.refusal_reason.map(|r| r.as_str()).unwrap_or("");
        w.commit(
            "subject_request.decide",
            format!(
                "request={rid} kind={} decision={} reason={reason} fields={}",
                stored.kind.as_str(),
                d.decision.as_str(),
                d.changed_fields.join(",")
            ),
        )
        .await?;
        self.one_request(ctx, case, req).await
    }

    /// Lifts an accepted restriction (supervisor of the owning organisation): the request moves
    /// from `completed` to `lifted`, with who and when; processing of her data is no longer
    /// restricted unless another accepted restriction stands. Timeline event and audit row
    /// (codes and ids) in the same transaction.
    pub async fn lift_subject_restriction(
        &self,
        ctx: &Ctx<'_>,
        case: Uuid,
        r: &RequestRef,
    ) -> Result<SubjectRequestView> {
        let access = self
            .authorize_case(ctx, Action::DecideSubjectRequest, case)
            .await?;
        let (req, stored) = self.stored_request(&access, r.request.as_deref()).await?;
        may_lift(stored).map_err(ValidationErrors::single)?;
        let mut w = self.write_case(ctx, &access).await?;
        let now = w.now();
        let done = sqlx::query(
            "UPDATE subject_requests SET state = $1, lifted_by = $2, lifted_at = $3 \
             WHERE id = $4 AND case_id = $5 AND kind = 'restriction' AND state = $6",
        )
        .bind(RequestState::Lifted.as_str())
        .bind(ctx.actor.user_id.to_string())
        .bind(now)
        .bind(req.to_string())
        .bind(access.id_str())
        .bind(RequestState::Completed.as_str())
        .execute(&mut *w)
        .await?;
        one_row(done).map_err(|_| StoreError::Conflict)?;
        w.event("subject_request.restriction_lifted", "").await?;
        w.commit("subject_request.lift", format!("request={req}"))
            .await?;
        self.one_request(ctx, case, req).await
    }

    /// Her record for an access request (supervisor): the case with its identity (an audited
    /// identity read), the organisations that received her data and the language of her copy.
    pub async fn subject_access_source(
        &self,
        ctx: &Ctx<'_>,
        case: Uuid,
        r: &RequestRef,
    ) -> Result<AccessSource> {
        let access = self
            .authorize_case(ctx, Action::DecideSubjectRequest, case)
            .await?;
        let (req, stored) = self.stored_request(&access, r.request.as_deref()).await?;
        may_export(stored).map_err(ValidationErrors::single)?;
        let language: Option<String> =
            sqlx::query_scalar("SELECT language FROM subject_requests WHERE id = $1")
                .bind(req.to_string())
                .fetch_one(&self.pool)
                .await?;
        let language = code(
            RecordLanguage::parse_code,
            language.as_deref().unwrap_or("az"),
        )?;
        let recipients = self.data_recipients(&access).await?;
        let owner_org: String = sqlx::query_scalar("SELECT name FROM organisations WHERE id = $1")
            .bind(access.facts().owner_org.to_string())
            .fetch_one(&self.pool)
            .await?;
        let case = self.get_case_of(ctx, &access, true).await?;
        Ok(AccessSource {
            case,
            recipients,
            language,
            owner_org,
        })
    }

    /// The organisations that received data of the case: referrals (with their state),
    /// off-platform packages and hand-overs, oldest first.
    async fn data_recipients(&self, access: &CaseAccess) -> Result<Vec<DataRecipient>> {
        let mut out: Vec<(i64, DataRecipient)> = Vec::new();
        let name_of = async |id: &str| -> Result<String> {
            let n: Option<String> =
                sqlx::query_scalar("SELECT name FROM organisations WHERE id = $1")
                    .bind(id)
                    .fetch_optional(&self.pool)
                    .await?;
            Ok(n.unwrap_or_else(|| "?".into()))
        };
        for r in self
            .case_rows(
                access,
                "SELECT to_org, created_at, state, off_platform FROM referrals WHERE case_id = $1",
            )
            .await?
        {
            // An off-platform referral is the package listed below.
            if r.try_get::<i64, _>("off_platform")? != 0 {
                continue;
            }
            let at: i64 = r.try_get("created_at")?;
            out.push((
                at,
                DataRecipient {
                    organisation: name_of(&r.try_get::<String, _>("to_org")?).await?,
                    how: "referral".into(),
                    at: ts(at),
                    state: Some(r.try_get("state")?),
                },
            ));
        }
        for r in self
            .case_rows(
                access,
                "SELECT counterpart, created_at FROM referral_packages WHERE case_id = $1 AND direction = 'sent'",
            )
            .await?
        {
            let at: i64 = r.try_get("created_at")?;
            out.push((
                at,
                DataRecipient {
                    organisation: name_of(&r.try_get::<String, _>("counterpart")?).await?,
                    how: "package".into(),
                    at: ts(at),
                    state: None,
                },
            ));
        }
        for r in self
            .case_rows(
                access,
                "SELECT at, detail FROM case_events WHERE case_id = $1 AND kind = 'case.transferred'",
            )
            .await?
        {
            let at: i64 = r.try_get("at")?;
            let detail: String = r.try_get("detail")?;
            let Some(to) = detail
                .split_whitespace()
                .find_map(|p| p.strip_prefix("to="))
            else {
                continue;
            };
            out.push((
                at,
                DataRecipient {
                    organisation: name_of(to).await?,
                    how: "transfer".into(),
                    at: ts(at),
                    state: None,
                },
            ));
        }
        out.sort_by(|a, b| {
            a.0.cmp(&b.0)
                .then_with(|| a.1.organisation.cmp(&b.1.organisation))
        });
        Ok(out.into_iter().map(|(_, r)| r).collect())
    }

    /// Encrypts her packed record (`plain`, a ZIP) with `age` to a new passphrase, keeps the
    /// ciphertext for one download and completes the access request. The passphrase is
    /// returned once: it is not stored or logged anywhere.
    pub async fn seal_subject_access(
        &self,
        ctx: &Ctx<'_>,
        case: Uuid,
        r: &RequestRef,
        plain: &[u8],
    ) -> Result<Zeroizing<String>> {
        let access = self
            .authorize_case(ctx, Action::DecideSubjectRequest, case)
            .await?;
        let (req, stored) = self.stored_request(&access, r.request.as_deref()).await?;
        may_export(stored).map_err(ValidationErrors::single)?;
        let pass = new_passphrase()?;
        let recipient = age::scrypt::Recipient::new(pass.as_str().to_owned().into());
        let blob = age::encrypt(&recipient, plain).map_err(data)?;
        let mut w = self.write_case(ctx, &access).await?;
        let now = w.now();
        let done = sqlx::query(
            "UPDATE subject_requests SET export_blob = $1, export_made_at = $2, export_downloaded_at = NULL, \
             state = $3, completed_at = $2, decided_by = $4, decided_at = $2 \
             WHERE id = $5 AND case_id = $6 AND kind = 'access' AND state <> 'refused'",
        )
        .bind(blob)
        .bind(now)
        .bind(RequestState::Completed.as_str())
        .bind(ctx.actor.user_id.to_string())
        .bind(req.to_string())
        .bind(access.id_str())
        .execute(&mut *w)
        .await?;
        one_row(done).map_err(|_| StoreError::Conflict)?;
        w.event("subject_request.access_export", "").await?;
        w.commit("subject_request.export", format!("request={req}"))
            .await?;
        Ok(pass)
    }

    /// Hands the encrypted copy to the supervisor once (then it is deleted); `NotFound` when
    /// there is none waiting.
    pub async fn take_subject_access(
        &self,
        ctx: &Ctx<'_>,
        case: Uuid,
        r: &RequestRef,
    ) -> Result<Vec<u8>> {
        let access = self
            .authorize_case(ctx, Action::DecideSubjectRequest, case)
            .await?;
        let req = request_id(r.request.as_deref())?;
        let mut w = self.write_case(ctx, &access).await?;
        let blob: Option<Option<Vec<u8>>> = sqlx::query_scalar(
            "SELECT export_blob FROM subject_requests WHERE id = $1 AND case_id = $2",
        )
        .bind(req.to_string())
        .bind(access.id_str())
        .fetch_optional(&mut *w)
        .await?;
        let blob = match blob {
            None => return Err(unknown_request().into()),
            Some(None) => {
                return Err(ValidationErrors::single(dayaq_domain::FieldError::new(
                    "request",
                    "no_copy_waiting",
                    "no copy is waiting: it was downloaded already, or none was made",
                ))
                .into());
            }
            Some(Some(b)) => b,
        };
        let now = w.now();
        sqlx::query(
            "UPDATE subject_requests SET export_blob = NULL, export_downloaded_at = $1 WHERE id = $2 AND case_id = $3",
        )
        .bind(now)
        .bind(req.to_string())
        .bind(access.id_str())
        .execute(&mut *w)
        .await?;
        w.event("subject_request.access_download", "").await?;
        w.commit("subject_request.download", format!("request={req}"))
            .await?;
        Ok(blob)
    }

    /// Executes an approved erasure in ONE transaction: crypto-shreds the case (the writes of
    /// [`Store::erase_case`], asked as the same policy question `EraseCase`), marks the request
    /// completed and clears what the case's requests still held (sealed reasons, a waiting
    /// export); a failure anywhere leaves the case and the request as they were (the request
    /// stays approved and can be executed again). The request rows stay, with codes and dates
    /// only. The attachments' objects and SQLite's log are cleaned after the commit (repeatable).
    pub async fn execute_subject_erasure(
        &self,
        ctx: &Ctx<'_>,
        case: Uuid,
        r: &RequestRef,
    ) -> Result<()> {
        let access = self
            .authorize_case(ctx, Action::DecideSubjectRequest, case)
            .await?;
        let (req, stored) = self.stored_request(&access, r.request.as_deref()).await?;
        may_execute(stored).map_err(ValidationErrors::single)?;
        let erase = self.authorize_case(ctx, Action::EraseCase, case).await?;
        let mut w = self.write_case(ctx, &erase).await?;
        Self::shred_case(&mut w).await?;
        w.exec("UPDATE subject_requests SET sealed = NULL, export_blob = NULL WHERE case_id = $1")
            .await?;
        let now = w.now();
        // Still approved inside the transaction (a refusal or a second execution meanwhile
        // changes no row: conflict, nothing written).
        let done = sqlx::query(
            "UPDATE subject_requests SET state = $1, completed_at = $2 \
             WHERE id = $3 AND case_id = $4 AND kind = 'erasure' AND state = $5",
        )
        .bind(RequestState::Completed.as_str())
        .bind(now)
        .bind(req.to_string())
        .bind(access.id_str())
        .bind(RequestState::Approved.as_str())
        .execute(&mut *w)
        .await?;
        one_row(done).map_err(|_| StoreError::Conflict)?;
        w.audit("case.erase", String::new()).await?;
        w.commit("subject_request.erasure_executed", format!("request={req}"))
            .await?;
        self.after_erasure(&erase).await;
        Ok(())
    }
}

/// The date part of an RFC 3339 time (for screens).
pub fn date_of(rfc3339: &str) -> String {
    rfc3339.get(..10).unwrap_or(rfc3339).to_string()
}

/// Opens her encrypted copy with its passphrase (as `age -d` does), for checks and tools.
/// A wrong passphrase is an error.
pub fn open_subject_access(blob: &[u8], passphrase: &str) -> Result<Zeroizing<Vec<u8>>> {
    use std::io::Read;
    let dec = age::Decryptor::new_buffered(blob).map_err(data)?;
    let id = age::scrypt::Identity::new(passphrase.to_owned().into());
    let mut r = dec
        .decrypt(std::iter::once(&id as &dyn age::Identity))
        .map_err(data)?;
    let mut out = Zeroizing::new(Vec::new());
    r.read_to_end(&mut out)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passphrases_are_long_grouped_and_fresh() {
        let a = new_passphrase().unwrap();
        let b = new_passphrase().unwrap();
        assert_eq!(a.len(), 29);
        assert_eq!(a.matches('-').count(), 4);
        assert!(a.chars().all(|c| c == '-' || ALPHABET.contains(&(c as u8))));
        assert_ne!(*a, *b);
    }
}
