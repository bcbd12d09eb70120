//! HTCDS import and export: the SQL side. The file formats, the column mapping, parsing and
//! validation are in `dayaq_interchange::htcds` (re-exported here); this module
//!
//! - writes validated cases ([`Store::import_cases`]) in one transaction through the same
//!   insert path as `create_case` ([`Store::insert_prepared`]), with one audit entry
//!   `case.import`;
//! - pages through the cases the actor may read ([`Store::export_cases`]), decrypts identity,
//!   and hands each case to a [`CaseSink`] ([`CsvSink`], [`XlsxSink`], [`ChannelSink`] for a
//!   streamed HTTP body), audited once as `case.export`.
//!
//! This module does no file I/O: callers pass bytes in and take bytes or a stream out.

use crate::cases::{CASE_COLS, Ctx, blind_terms};
use crate::crypto::{SecretKey, field_aad, random_bytes};
use crate::keys::Keys;
use crate::{Result, Store, StoreError, millis};
use dayaq_domain::case::{CaseView, Identity, ValidCase, age_band};
use dayaq_domain::policy::{Action, CaseFacts, Resource, Section, decide};
use dayaq_domain::vocab::TraffickingStatus;
use dayaq_interchange::htcds::export::{CsvCases, XlsxCases};
use dayaq_interchange::tabular::WriteError;
use serde::Serialize;
use sqlx::{AnyConnection, Row};
use std::collections::HashSet;
use std::fmt::Write as _;
use std::future::Future;
use std::sync::Arc;
use time::OffsetDateTime;
use uuid::Uuid;

// ------------------------------------------------------------------------------------------
// The file formats (dayaq-interchange) and the sinks an export writes into

pub use dayaq_interchange::htcds::export::case_cells;
pub use dayaq_interchange::htcds::{
    COLUMNS, Column, ColumnKind, Format, HTCDS_FIELDS, IgnoredColumn, ImportErrors, MAX_ERRORS,
    MAX_ROWS, MULTI_SEPARATOR, ParsedImport, RowError, column, column_letter, parse,
};

impl From<WriteError> for StoreError {
    fn from(e: WriteError) -> Self {
        StoreError::Data(e.0)
    }
}

fn io_error(e: WriteError) -> StoreError {
    StoreError::Io(std::io::Error::other(e.0))
}

/// Receives the exported cases one by one.
pub trait CaseSink: Send {
    fn case(&mut self, case: CaseView) -> impl Future<Output = Result<()>> + Send;
}

/// Collects the cases (for tests and small exports).
impl CaseSink for Vec<CaseView> {
    fn case(&mut self, case: CaseView) -> impl Future<Output = Result<()>> + Send {
        self.push(case);
        std::future::ready(Ok(()))
    }
}

/// Writes CSV (UTF-8, comma, CRLF, header row) to any writer, e.g. a file.
pub struct CsvSink<W: std::io::Write + Send> {
    w: CsvCases<W>,
}

impl<W: std::io::Write + Send> CsvSink<W> {
    pub fn new(w: W) -> Result<Self> {
        Ok(Self {
            w: CsvCases::new(w)?,
        })
    }

    /// Flushes and returns the writer.
    pub fn finish(self) -> Result<W> {
        self.w.into_inner().map_err(io_error)
    }
}

impl<W: std::io::Write + Send> CaseSink for CsvSink<W> {
    fn case(&mut self, case: CaseView) -> impl Future<Output = Result<()>> + Send {
        std::future::ready(self.w.case(&case).map_err(StoreError::from))
    }
}

/// Builds an XLSX workbook (one sheet "HTCDS", header in row 1). The workbook is assembled in
/// memory: use CSV for very large exports.
pub struct XlsxSink {
    w: XlsxCases,
}

impl XlsxSink {
    pub fn new() -> Result<Self> {
        Ok(Self {
            w: XlsxCases::new()?,
        })
    }

    /// The workbook as bytes.
    pub fn finish(self) -> Result<Vec<u8>> {
        Ok(self.w.finish()?)
    }
}

impl CaseSink for XlsxSink {
    fn case(&mut self, case: CaseView) -> impl Future<Output = Result<()>> + Send {
        std::future::ready(self.w.case(&case).map_err(StoreError::from))
    }
}

/// A chunk of a streamed export, or the error that ends it.
pub type Chunk = std::result::Result<Vec<u8>, std::io::Error>;

/// Streams CSV through a bounded channel (for an HTTP body): the producer waits while the
/// consumer is slow, so an export never sits in memory whole.
pub struct ChannelSink {
    w: CsvCases<Vec<u8>>,
    tx: tokio::sync::mpsc::Sender<Chunk>,
}

/// The receiving end of [`csv_channel`] as a `Stream` of byte chunks.
pub struct ByteStream(tokio::sync::mpsc::Receiver<Chunk>);

impl futures_util::Stream for ByteStream {
    type Item = Chunk;
    fn poll_next(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Chunk>> {
        self.0.poll_recv(cx)
    }
}

const CHUNK_BYTES: usize = 64 * 1024;

/// A CSV sink and the stream of its bytes (header first).
pub fn csv_channel() -> Result<(ChannelSink, ByteStream)> {
    let (tx, rx) = tokio::sync::mpsc::channel(4);
    let w = CsvCases::new(Vec::with_capacity(CHUNK_BYTES))?;
    Ok((ChannelSink { w, tx }, ByteStream(rx)))
}

impl ChannelSink {
    fn take(&mut self) -> Result<Vec<u8>> {
        let full = std::mem::replace(
            &mut self.w,
            CsvCases::continued(Vec::with_capacity(CHUNK_BYTES)),
        );
        full.into_inner().map_err(io_error)
    }

    /// Sends what is left, or ends the stream with an error when the export failed (the
    /// client then sees a broken download rather than a silently short file).
    pub async fn finish(mut self, outcome: &Result<usize>) {
        let last = match outcome {
            Ok(_) => self
                .take()
                .map_err(|e| std::io::Error::other(e.to_string())),
            Err(_) => Err(std::io::Error::other("the export failed")),
        };
        let _ = self.tx.send(last).await;
    }
}

impl CaseSink for ChannelSink {
    async fn case(&mut self, case: CaseView) -> Result<()> {
        self.w.case(&case)?;
        if self.w.get_ref().len() >= CHUNK_BYTES {
            let chunk = self.take()?;
            self.tx
                .send(Ok(chunk))
                .await
                .map_err(|_| StoreError::Io(std::io::Error::other("the client went away")))?;
        }
        Ok(())
    }
}

// ------------------------------------------------------------------------------------------
// The insert path shared with `create_case`

/// A new case with everything encrypted and derived; no plaintext identity is kept.
pub(crate) struct PreparedCase {
    pub(crate) id: String,
    status: &'static str,
    gender: Option<&'static str>,
    age: Option<i64>,
    age_band: Option<&'static str>,
    identity: Vec<u8>,
    closure: Option<Vec<u8>>,
    key_id: String,
    wrapped: Vec<u8>,
    blind: Vec<(&'static str, String)>,
    values: Vec<(&'static str, String)>,
}

/// The non-identifying attribute rows of a case (`case_values`): citizenship, types of
/// exploitation and the victim context, one row per value.
pub(crate) fn case_values(c: &ValidCase) -> Vec<(&'static str, String)> {
    c.citizenship
        .iter()
        .map(|v| ("prs_Citizenship", v.clone()))
        .chain(
            c.types_of_exploitation
                .iter()
                .map(|t| ("vic_TypeOfExploitation", t.as_str().to_string())),
        )
        .chain(c.context.to_values())
        .collect()
}

/// Time-ordered ids (UUIDv7): `ctx.now` in the timestamp, then the position in the batch,
/// then random bits; so cases created together keep their order (an export, re-imported,
/// exports in the same order).
fn ordered_ids(now: OffsetDateTime, n: usize) -> Result<Vec<Uuid>> {
    let ms = u64::try_from(millis(now)).unwrap_or(0);
    (0..n)
        .map(|i| {
            let mut r = random_bytes::<10>()?;
            let i = i as u32;
            r[0] = ((i >> 14) & 0x0F) as u8;
            r[1] = ((i >> 6) & 0xFF) as u8;
            r[2] = (i & 0x3F) as u8;
            Ok(uuid::Builder::from_unix_timestamp_millis(ms, &r).into_uuid())
        })
        .collect()
}

fn prepare_one(keys: &Keys, blind: &SecretKey, id: Uuid, c: &ValidCase) -> Result<PreparedCase> {
    let id = id.to_string();
    let key = SecretKey::generate()?;
    let (key_id, wrapped) = keys.wrap_case_key(&key)?;
    let identity_json =
        serde_json::to_vec(&c.identity).map_err(|e| StoreError::Data(e.to_string()))?;
    let identity = key.seal(&field_aad("cases", "identity", &id, "case"), &identity_json)?;
    let closure = match &c.reason_for_closure {
        Some(t) => Some(key.seal(&field_aad("cases", "closure", &id, "case"), t.as_bytes())?),
        None => None,
    };
    let blind = blind_terms(&c.identity)
        .into_iter()
        .map(|(kind, value)| Ok((kind, blind.hmac_hex(kind, &value)?)))
        .collect::<Result<Vec<_>>>()?;
    Ok(PreparedCase {
        id,
        status: c.status.as_str(),
        gender: c.gender.map(|g| g.as_str()),
        age: c.age_when_trafficked,
        age_band: c.age_when_trafficked.map(age_band),
        identity,
        closure,
        key_id,
        wrapped,
        blind,
        values: case_values(c),
    })
}

/// `($n, $n+1, …), (…)` for `rows` rows of `cols` parameters, numbered after the `first`
/// parameters bound before them.
fn placeholders(first: usize, rows: usize, cols: usize) -> String {
    let mut s = String::with_capacity(rows * cols * 6);
    for r in 0..rows {
        if r > 0 {
            s.push_str(", ");
        }
        s.push('(');
        for c in 0..cols {
            if c > 0 {
                s.push_str(", ");
            }
            let _ = write!(s, "${}", first + r * cols + c + 1);
        }
        s.push(')');
    }
    s
}

/// Rows per multi-row INSERT (kept well under SQLite's and PostgreSQL's parameter limits).
const INSERT_ROWS: usize = 250;

impl Store {
    /// Encrypts and derives everything for new cases (CPU only; no database access).
    pub(crate) fn prepare_cases(
        &self,
        now: OffsetDateTime,
        cases: &[ValidCase],
    ) -> Result<Vec<PreparedCase>> {
        prepare_cases(&self.keys, now, cases)
    }

    /// Inserts prepared cases with their keys, blind index, attribute values and a
    /// `case.created` timeline event, in the caller's transaction. Used by `create_case` (one
    /// case) and the import (many). Multi-row statements of the form
    /// `INSERT … SELECT column1, $1, column2 … FROM (VALUES …) AS v` (common to SQLite and
    /// PostgreSQL) bind values shared by all rows once. Does not audit: callers do.
    pub(crate) async fn insert_prepared(
        &self,
        conn: &mut AnyConnection,
        ctx: &Ctx<'_>,
        cases: &[PreparedCase],
        event_detail: &str,
    ) -> Result<()> {
        let owner = ctx.actor.org_id.to_string();
        let user = ctx.actor.user_id.to_string();
        let now = millis(ctx.now);
        let numbers = fresh_case_numbers(conn, ctx.now.year(), cases.len()).await?;
        let trafficking = TraffickingStatus::PossibleVictimOfTrafficking.as_str();
        for (chunk, nums) in cases.chunks(INSERT_ROWS).zip(numbers.chunks(INSERT_ROWS)) {
            let sql = format!(
                "INSERT INTO cases (id, case_number, owner_org_id, created_by, version, cas_status, \
                 vic_trafficking_status, prs_gender, age_when_trafficked, age_band, identity, \
                 closure, created_at, updated_at) \
                 SELECT column1, column2, $1, $2, 1, column3, $3, column4, column5, column6, \
                 column7, column8, $4, $4 FROM (VALUES {}) AS v",
                placeholders(4, chunk.len(), 8)
            );
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(&owner)
                .bind(&user)
                .bind(trafficking)
                .bind(now);
            for (c, number) in chunk.iter().zip(nums) {
                q = q
                    .bind(&c.id)
                    .bind(number)
                    .bind(c.status)
                    .bind(c.gender)
                    .bind(c.age)
                    .bind(c.age_band)
                    .bind(&c.identity)
                    .bind(&c.closure);
            }
            q.execute(&mut *conn).await?;
        }
        for chunk in cases.chunks(INSERT_ROWS) {
            let sql = format!(
                "INSERT INTO case_keys (case_id, master_key_id, wrapped) VALUES {}",
                placeholders(0, chunk.len(), 3)
            );
            // Prepared before the transaction: if the master key was rotated in between (by
            // another process; `begin_write` has adopted the new key), re-wrap under it.
            let current = self.keys.current_key_id()?;
            let mut keys = Vec::with_capacity(chunk.len());
            for c in chunk {
                if c.key_id == current {
                    keys.push((c.key_id.clone(), c.wrapped.clone()));
                } else {
                    let k = self.keys.unwrap_case_key(&c.key_id, &c.wrapped)?;
                    keys.push(self.keys.wrap_case_key(&k)?);
                }
            }
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
            for (c, (kid, wrapped)) in chunk.iter().zip(keys) {
                q = q.bind(&c.id).bind(kid).bind(wrapped);
            }
            q.execute(&mut *conn).await?;
        }
        // Blind-index entries grouped by kind, attribute values grouped by field: the kind
        // or field is bound once per statement.
        let mut blind: Vec<(&str, &str, &str)> = cases
            .iter()
            .flat_map(|c| {
                c.blind
                    .iter()
                    .map(move |(k, d)| (*k, c.id.as_str(), d.as_str()))
            })
            .collect();
        blind.sort_by_key(|(k, _, _)| *k);
        for group in blind.chunk_by(|a, b| a.0 == b.0) {
            for chunk in group.chunks(INSERT_ROWS) {
                let sql = format!(
                    "INSERT INTO blind_index (case_id, org_id, kind, digest) \
                     SELECT column1, $1, $2, column2 FROM (VALUES {}) AS v",
                    placeholders(2, chunk.len(), 2)
                );
                let mut q = sqlx::query(sqlx::AssertSqlSafe(sql))
                    .bind(&owner)
                    .bind(chunk[0].0);
                for (_, id, digest) in chunk {
                    q = q.bind(*id).bind(*digest);
                }
                q.execute(&mut *conn).await?;
            }
        }
        let mut values: Vec<(&str, &str, &str)> = cases
            .iter()
            .flat_map(|c| {
                c.values
                    .iter()
                    .map(move |(f, v)| (*f, c.id.as_str(), v.as_str()))
            })
            .collect();
        values.sort_by_key(|(f, _, _)| *f);
        for group in values.chunk_by(|a, b| a.0 == b.0) {
            for chunk in group.chunks(INSERT_ROWS) {
                let sql = format!(
                    "INSERT INTO case_values (case_id, field, value) \
                     SELECT column1, $1, column2 FROM (VALUES {}) AS v",
                    placeholders(1, chunk.len(), 2)
                );
                let mut q = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(chunk[0].0);
                for (_, id, value) in chunk {
                    q = q.bind(*id).bind(*value);
                }
                q.execute(&mut *conn).await?;
            }
        }
        for chunk in cases.chunks(INSERT_ROWS) {
            let sql = format!(
                "INSERT INTO case_events (id, case_id, at, actor_user, kind, detail) \
                 SELECT column1, column2, $1, $2, $3, $4 FROM (VALUES {}) AS v",
                placeholders(4, chunk.len(), 2)
            );
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(now)
                .bind(&user)
                .bind("case.created")
                .bind(event_detail);
            for c in chunk {
                q = q.bind(Uuid::new_v4().to_string()).bind(&c.id);
            }
            q.execute(&mut *conn).await?;
        }
        Ok(())
    }

    /// May the actor import into their organisation? (Asked before a file is even read.)
    pub fn authorize_import(&self, ctx: &Ctx<'_>) -> Result<()> {
        self.authorize_org(ctx, Action::ImportCases)
    }

    /// May the actor export their organisation's cases?
    pub fn authorize_export(&self, ctx: &Ctx<'_>) -> Result<()> {
        self.authorize_org(ctx, Action::ExportCases)
    }

    /// Imports validated cases into the actor's organisation: all of them in one transaction,
    /// or none. New cases start as `PossibleVictimOfTrafficking` with fresh case numbers. One
    /// audit entry `case.import` records the count. Returns the number of cases written.
    pub async fn import_cases(&self, ctx: &Ctx<'_>, rows: Vec<ValidCase>) -> Result<usize> {
        self.authorize_import(ctx)?;
        let n = rows.len();
        // Encryption and key wrapping are CPU work: keep them off the async threads and
        // outside the write transaction.
        let keys = Arc::clone(&self.keys);
        let now = ctx.now;
        let prepared = tokio::task::spawn_blocking(move || prepare_cases(&keys, now, &rows))
            .await
            .map_err(|e| StoreError::Data(format!("import worker: {e}")))??;
        let mut tx = self.begin_write().await?;
        self.insert_prepared(&mut tx, ctx, &prepared, "import")
            .await?;
        let mut e = ctx.entry("case.import", "success", "");
        e.detail = format!("count={n}");
        tx.commit_with(&e, millis(ctx.now)).await?;
        Ok(n)
    }

    /// May the actor export identities (`Action::ExportIdentities`: caseworkers and
    /// supervisors of the organisation)? The HTTP layer also asks for a session with a
    /// completed second factor.
    pub fn may_export_identities(&self, ctx: &Ctx<'_>) -> bool {
        decide(
            ctx.actor,
            Action::ExportIdentities,
            Resource::Organisation(ctx.actor.org_id),
        )
        .allowed
    }

    /// Audits a refused identity export (reason code only).
    pub async fn audit_export_refusal(&self, ctx: &Ctx<'_>, reason: &'static str) -> Result<()> {
        let mut e = ctx.entry("case.export", "denied", "");
        e.detail = reason.to_string();
        self.audit(e, ctx.now).await
    }

    /// Exports every case the actor may read, with identities when the policy allows the actor
    /// to export them (`ExportIdentities`), without them otherwise. See `export_cases_with`.
    pub async fn export_cases<S: CaseSink>(&self, ctx: &Ctx<'_>, sink: &mut S) -> Result<usize> {
        let identities = self.may_export_identities(ctx);
        self.export_cases_with(ctx, sink, identities).await
    }

    /// Exports every case the actor may read (their organisation's, not erased, created up to
    /// `ctx.now`), oldest first. With `identities`, the identity block and closure reason are
    /// decrypted — that needs `Action::ExportIdentities` (refused otherwise); without, they are
    /// left out. The export is audited once (`case.export`, with the count) before any case is
    /// handed out, and each page of cases is audited with its case ids (`case.export_ids`)
    /// before that page leaves; cases are read a page at a time, so nothing holds the whole
    /// export. Returns the count.
    pub async fn export_cases_with<S: CaseSink>(
        &self,
        ctx: &Ctx<'_>,
        sink: &mut S,
        identities: bool,
    ) -> Result<usize> {
        self.authorize_export(ctx)?;
        if identities && !self.may_export_identities(ctx) {
            let mut e = ctx.entry("case.export", "denied", "");
            e.detail = "identity_export_needs_case_manager".into();
            self.audit(e, ctx.now).await?;
            return Err(StoreError::Forbidden("identity_export_needs_case_manager"));
        }
        let org = ctx.actor.org_id.to_string();
        let until = millis(ctx.now);
        let total: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM cases WHERE owner_org_id = $1 AND erased_at IS NULL \
             AND created_at <= $2",
        )
        .bind(&org)
        .bind(until)
        .fetch_one(&self.pool)
        .await?;
        let mut e = ctx.entry("case.export", "success", "");
        e.detail = if identities {
            format!("count={total}")
        } else {
            format!("count={total} identity=none")
        };
        self.audit(e, ctx.now).await?;

        const PAGE: i64 = 500;
        let q = format!(
            "SELECT {CASE_COLS}, identity, (SELECT master_key_id FROM case_keys WHERE case_id = cases.id) AS key_id, \
             (SELECT wrapped FROM case_keys WHERE case_id = cases.id) AS wrapped \
             FROM cases WHERE owner_org_id = $1 AND erased_at IS NULL AND created_at <= $2 \
             AND (created_at, id) > ($3, $4) \
             ORDER BY created_at, id LIMIT $5"
        );
        let mut after: (i64, String) = (i64::MIN, String::new());
        let mut count = 0usize;
        loop {
            let rows = sqlx::query(sqlx::AssertSqlSafe(q.clone()))
                .bind(&org)
                .bind(until)
                .bind(after.0)
                .bind(&after.1)
                .bind(PAGE)
                .fetch_all(&self.pool)
                .await?;
            let Some(last) = rows.last() else { break };
            after = (last.try_get("created_at")?, last.try_get("id")?);
            let ids: Vec<String> = rows
                .iter()
                .map(|r| r.try_get("id"))
                .collect::<Result<_, _>>()?;
            let values = self.values_for(&ids).await?;
            let mut views = Vec::with_capacity(rows.len());
            let mut jobs = Vec::new();
            for r in &rows {
                let id: String = r.try_get("id")?;
                let v =
                    self.view_from_row(r, values.get(&id).map(Vec::as_slice).unwrap_or(&[]), None)?;
                let facts = CaseFacts {
                    owner_org: v.owner_org,
                    erased: false,
                    grants: vec![],
                    break_glass: vec![],
                };
                if !decide(ctx.actor, Action::ReadCase, Resource::Case(&facts)).allowed {
                    continue;
                }
                if identities
                    && decide(
                        ctx.actor,
                        Action::ReadSection(Section::Identity),
                        Resource::Case(&facts),
                    )
                    .allowed
                {
                    jobs.push(Sealed {
                        index: views.len(),
                        id,
                        closure: r.try_get("closure")?,
                        identity: r.try_get("identity")?,
                        key_id: r.try_get("key_id")?,
                        wrapped: r.try_get("wrapped")?,
                    });
                }
                views.push(v);
            }
            // Decryption is CPU work: off the async threads, on every core.
            let keys = Arc::clone(&self.keys);
            let opened = tokio::task::spawn_blocking(move || {
                par_map(&jobs, |j| Ok((j.index, open_sealed(&keys, j)?)))
            })
            .await
            .map_err(|e| StoreError::Data(format!("export worker: {e}")))??;
            for (index, (identity, closure)) in opened {
                if let Some(v) = views.get_mut(index) {
                    v.identity = identity;
                    v.reason_for_closure = closure;
                }
            }
            // The page's case ids are audited before any of its cases leaves.
            if !views.is_empty() {
                let mut e = ctx.entry("case.export_ids", "success", "");
                e.detail = format!(
                    "identity={} ids={}",
                    if identities { "yes" } else { "none" },
                    views
                        .iter()
                        .map(|v| v.id.to_string())
                        .collect::<Vec<_>>()
                        .join(",")
                );
                self.audit(e, ctx.now).await?;
            }
            for v in views {
                sink.case(v).await?;
                count += 1;
            }
            if (rows.len() as i64) < PAGE {
                break;
            }
        }
        Ok(count)
    }
}

/// The sealed parts of one exported case.
struct Sealed {
    index: usize,
    id: String,
    closure: Option<Vec<u8>>,
    identity: Option<Vec<u8>>,
    key_id: Option<String>,
    wrapped: Option<Vec<u8>>,
}

/// Identity and closure reason of an exported case (none when its key is gone).
fn open_sealed(keys: &Keys, s: &Sealed) -> Result<(Option<Identity>, Option<String>)> {
    let (Some(kid), Some(wrapped)) = (&s.key_id, &s.wrapped) else {
        return Ok((None, None));
    };
    let key = keys.unwrap_case_key(kid, wrapped)?;
    let identity = match &s.identity {
        Some(ct) => {
            let plain = key.open(&field_aad("cases", "identity", &s.id, "case"), ct)?;
            Some(serde_json::from_slice(&plain).map_err(|e| StoreError::Data(e.to_string()))?)
        }
        None => None,
    };
    let closure = match &s.closure {
        Some(ct) => {
            let plain = key.open(&field_aad("cases", "closure", &s.id, "case"), ct)?;
            Some(String::from_utf8_lossy(&plain).into_owned())
        }
        None => None,
    };
    Ok((identity, closure))
}

/// What an import wrote.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ImportReport {
    pub imported: usize,
    /// Columns of the file that held data but were not imported.
    pub ignored_columns: Vec<IgnoredColumn>,
}

/// Why an import wrote nothing: problems in the file, or a refusal / failure of the store.
#[derive(Debug, thiserror::Error)]
pub enum ImportFailure {
    #[error(transparent)]
    Invalid(#[from] ImportErrors),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl Store {
    /// Checks the policy, reads and validates a whole file, then imports every case or none.
    pub async fn import_file(
        &self,
        ctx: &Ctx<'_>,
        bytes: Vec<u8>,
        format: Format,
    ) -> Result<ImportReport, ImportFailure> {
        self.authorize_import(ctx)?;
        let today = ctx.now.date();
        let parsed = tokio::task::spawn_blocking(move || parse(&bytes, format, today))
            .await
            .map_err(|e| StoreError::Data(format!("import worker: {e}")))??;
        let imported = self.import_cases(ctx, parsed.cases).await?;
        Ok(ImportReport {
            imported,
            ignored_columns: parsed.ignored,
        })
    }
}

fn prepare_cases(
    keys: &Keys,
    now: OffsetDateTime,
    cases: &[ValidCase],
) -> Result<Vec<PreparedCase>> {
    let blind = keys.blind()?;
    let ids = ordered_ids(now, cases.len())?;
    let work: Vec<(Uuid, &ValidCase)> = ids.into_iter().zip(cases).collect();
    par_map(&work, |(id, c)| prepare_one(keys, &blind, *id, c))
}

/// `f` over `items` on every core (scoped threads), results in order. Small inputs run on
/// the calling thread.
fn par_map<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> Result<R> + Sync) -> Result<Vec<R>> {
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .min(8);
    if threads <= 1 || items.len() < 64 {
        return items.iter().map(&f).collect();
    }
    let f = &f;
    std::thread::scope(|s| {
        let handles: Vec<_> = items
            .chunks(items.len().div_ceil(threads))
            .map(|chunk| s.spawn(move || chunk.iter().map(f).collect::<Result<Vec<R>>>()))
            .collect();
        let mut out = Vec::with_capacity(items.len());
        for h in handles {
            out.extend(
                h.join()
                    .map_err(|_| StoreError::Data("a worker thread failed".into()))??,
            );
        }
        Ok(out)
    })
}

/// `n` case numbers `DQ-<year>-<8 hex>` that are not in use (checked inside the caller's
/// write transaction, so no concurrent insert can take one).
async fn fresh_case_numbers(conn: &mut AnyConnection, year: i32, n: usize) -> Result<Vec<String>> {
    let mut seen: HashSet<String> = HashSet::new();
    let mut out: Vec<String> = Vec::with_capacity(n);
    loop {
        while out.len() < n {
            let candidate = format!("DQ-{year}-{}", hex::encode_upper(random_bytes::<4>()?));
            if seen.insert(candidate.clone()) {
                out.push(candidate);
            }
        }
        let mut taken: HashSet<String> = HashSet::new();
        for chunk in out.chunks(500) {
            let sql = format!(
                "SELECT case_number FROM cases WHERE case_number IN ({})",
                (1..=chunk.len())
                    .map(|i| format!("${i}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            let mut q = sqlx::query_scalar::<_, String>(sqlx::AssertSqlSafe(sql));
            for s in chunk {
                q = q.bind(s);
            }
            taken.extend(q.fetch_all(&mut *conn).await?);
        }
        if taken.is_empty() {
            return Ok(out);
        }
        out.retain(|s| !taken.contains(s));
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    #[test]
    fn ids_keep_batch_order() {
        let now = OffsetDateTime::now_utc();
        let ids = ordered_ids(now, 70_000).unwrap();
        let texts: Vec<String> = ids.iter().map(|u| u.to_string()).collect();
        let mut sorted = texts.clone();
        sorted.sort();
        assert_eq!(texts, sorted);
        assert!(ids.iter().all(|u| u.get_version_num() == 7));
    }

    #[test]
    fn column_letters() {
        assert_eq!(column_letter(0), "A");
        assert_eq!(column_letter(25), "Z");
        assert_eq!(column_letter(26), "AA");
        assert_eq!(column_letter(38), "AM");
        assert_eq!(column_letter(701), "ZZ");
        assert_eq!(column_letter(702), "AAA");
    }

    #[test]
    fn placeholder_lists() {
        assert_eq!(placeholders(0, 2, 2), "($1, $2), ($3, $4)");
        assert_eq!(placeholders(1, 1, 2), "($2, $3)");
    }
}
