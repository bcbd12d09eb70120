//! Encrypted attachments of a case section (issue #21 §1): SQL rows (`case_attachments`,
//! migration 0029), streaming encryption (`cipher`), the object store (`blobs`).
//!
//! Order of writes, so that nothing is left half-written:
//! 1. the policy (`attachments::actions`), the name, the first bytes' type — all before
//!    anything is written;
//! 2. a `pending` row (no audit, invisible to lists), then the object is streamed through the
//!    encryptor into the store;
//! 3. on any failure (too large, interrupted, infected, store down) the upload is aborted and
//!    the row deleted; on success the row becomes `stored` with the timeline event and the audit
//!    row in one transaction.
//!
//! Deleting (and erasing the case) marks rows `deleting` first (committed, audited), then
//! removes the objects and rows. What a crash leaves behind — old `pending` rows, `deleting`
//! rows, objects without a row, `stored` rows without an object — is listed and fixed by
//! `dayaq attachments repair` ([`Store::repair_attachments`]).

pub mod blobs;
pub mod cipher;

pub use blobs::{Blobs, S3Config, ScanSession, Scanner};

use crate::crypto::random_bytes;
use crate::kernel::case_keys::{open_text, seal_text};
use crate::kernel::{CaseAccess, Ctx, ts, uuid_of};
use crate::{Result, Store, StoreError};
use bytes::Bytes;
use dayaq_domain::attachments::{self as rules, Kind, Op, SNIFF_BYTES};
use dayaq_domain::package::{parse_section, section_name};
use dayaq_domain::policy::Section;
use dayaq_domain::{FieldError, ValidationErrors};
use futures_util::stream::{BoxStream, Stream, StreamExt};
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStore, ObjectStoreExt, WriteMultipart};
use serde::Serialize;
use sha2::{Digest, Sha256};
use uuid::Uuid;

const TABLE: &str = "case_attachments";
/// A `pending` row older than this is an interrupted upload (repair removes it).
const PENDING_STALE_MS: i64 = 60 * 60 * 1000;

/// One attachment as listed (the name opened; never the object's name).
#[derive(Debug, Clone, Serialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct AttachmentView {
    pub id: Uuid,
    pub section: Section,
    pub kind: Kind,
    pub size_bytes: i64,
    /// The name given at upload (shown on the case; downloads use a neutral name).
    pub name: String,
    pub created_at: String,
}

/// A download: its neutral name, type and the decrypting stream.
pub struct AttachmentDownload {
    pub file_name: String,
    pub kind: Kind,
    pub size_bytes: i64,
    /// Plaintext pieces; an error mid-way (tampering, the store failing) ends the stream.
    pub body: BoxStream<'static, std::io::Result<Bytes>>,
}

/// What `repair_attachments` found (and fixed, when asked).
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct RepairReport {
    /// Rows of interrupted uploads (`pending` for over an hour).
    pub stale_pending: Vec<Uuid>,
    /// Rows whose deletion was not finished.
    pub deleting: Vec<Uuid>,
    /// Stored rows whose object is gone (not fixable; reported).
    pub missing_objects: Vec<Uuid>,
    /// Objects with no row (by object name; the name is random).
    pub orphan_objects: Vec<String>,
    pub fixed: bool,
}

impl RepairReport {
    pub fn is_clean(&self) -> bool {
        self.stale_pending.is_empty()
            && self.deleting.is_empty()
            && self.missing_objects.is_empty()
            && self.orphan_objects.is_empty()
    }
}

/// A stored object and the SHA-256 of its ciphertext recorded at upload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct AttachmentChecksum {
    pub object_key: String,
    pub sha256: String,
}

#[derive(sqlx::FromRow)]
struct Row {
    id: String,
    section: String,
    kind: String,
    size_bytes: i64,
    name: Vec<u8>,
    object_key: String,
    state: String,
    created_at: i64,
}

fn invalid(e: FieldError) -> StoreError {
    StoreError::Invalid(ValidationErrors::single(e))
}

fn store_down(e: object_store::Error) -> StoreError {
    // The object store's message may hold the bucket URL, never case data.
    tracing::warn!(error = %e, "attachment store failed");
    StoreError::Unavailable("attachment_store_unavailable")
}

fn io_err(what: &'static str) -> std::io::Error {
    std::io::Error::other(what)
}

impl Row {
    fn section(&self) -> Result<Section> {
        parse_section("section", &self.section)
            .map_err(|_| StoreError::Data("attachment section".into()))
    }
    fn kind(&self) -> Result<Kind> {
        Kind::parse(&self.kind).ok_or_else(|| StoreError::Data("attachment kind".into()))
    }
}

impl Store {
    /// The attachment store (local disk or S3) and its limits.
    pub fn attachment_store(&self) -> &Blobs {
        &self.blobs
    }

    /// The same store with another attachment store or limits (`serve --s3-*`,
    /// `--attachment-max-bytes`).
    pub fn with_attachment_store(mut self, blobs: Blobs) -> Store {
        self.blobs = blobs;
        self
    }

    /// Asks every policy question of `op` on an attachment of `section` (denials audited).
    async fn require_attachment(
        &self,
        ctx: &Ctx<'_>,
        access: &CaseAccess,
        op: Op,
        section: Section,
    ) -> Result<()> {
        for a in rules::actions(op, section) {
            self.require(ctx, access, a).await?;
        }
        Ok(())
    }

    /// Uploads a file to a section of case `case`, streaming `body` through the encryptor into
    /// the attachment store. `name` is the name the user gave (kept sealed).
    pub async fn upload_attachment<S>(
        &self,
        ctx: &Ctx<'_>,
        case: Uuid,
        section: &str,
        name: Option<&str>,
        mut body: S,
    ) -> Result<AttachmentView>
    where
        S: Stream<Item = std::io::Result<Bytes>> + Unpin + Send,
    {
        let access = self
            .authorize_case(ctx, dayaq_domain::Action::UpdateCase, case)
            .await?;
        let section = parse_section("section", section.trim()).map_err(invalid)?;
        self.require_attachment(ctx, &access, Op::Write, section)
            .await?;
        let name = rules::validate_name(name).map_err(invalid)?;
        let max = self.blobs.max_bytes;
        // The first bytes decide the type before anything is written.
        let mut head: Vec<u8> = Vec::with_capacity(SNIFF_BYTES);
        let mut ended = false;
        while head.len() < SNIFF_BYTES {
            match body.next().await {
                Some(Ok(b)) => head.extend_from_slice(&b),
                Some(Err(_)) => return Err(interrupted()),
                None => {
                    ended = true;
                    break;
                }
            }
            if head.len() as u64 > max {
                return Err(invalid(rules::too_large(max)));
            }
        }
        if head.is_empty() {
            return Err(invalid(FieldError::new(
                "file",
                "required",
                "choose a file to upload",
            )));
        }
        let kind = rules::sniff(&head).map_err(invalid)?;
        let key = {
            let mut conn = self.pool.acquire().await?;
            self.case_key(&mut conn, &access).await?
        };
        let id = Uuid::now_v7();
        let object_key = hex::encode(random_bytes::<24>()?);
        let sealed = seal_text(&key, TABLE, "name", &id.to_string(), Some(&name))?
            .ok_or_else(|| StoreError::Data("sealed name".into()))?;
        let now = crate::kernel::millis(ctx.now);
        {
            let mut tx = self.begin_write().await?;
            sqlx::query(
                "INSERT INTO case_attachments (id, case_id, section, kind, name, object_key, state, size_bytes, sha256, created_at, created_by)
                 VALUES ($1, $2, $3, $4, $5, $6, 'pending', 0, NULL, $7, $8)",
            )
            .bind(id.to_string())
            .bind(access.id_str())
            .bind(section_name(section))
            .bind(kind.as_str())
            .bind(sealed)
            .bind(&object_key)
            .bind(now)
            .bind(ctx.actor.user_id.to_string())
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
        }
        let written = self
            .stream_attachment_object(&key, case, id, &object_key, head, ended, &mut body)
            .await;
        let (size, digest) = match written {
            Ok(v) => v,
            Err(e) => {
                self.drop_pending_attachment(id).await;
                return Err(e);
            }
        };
        let mut w = self.write_case(ctx, &access).await?;
        let done = sqlx::query(
            "UPDATE case_attachments SET state = 'stored', size_bytes = $1, sha256 = $2 WHERE id = $3 AND state = 'pending'",
        )
        .bind(size as i64)
        .bind(&digest)
        .bind(id.to_string())
        .execute(&mut *w)
        .await?;
        crate::kernel::one_row(done)?;
        w.event("attachment.added", section_name(section)).await?;
        w.commit(
            "attachment.upload",
            format!(
                "attachment={id} section={} kind={}",
                section_name(section),
                kind.as_str()
            ),
        )
        .await?;
        Ok(AttachmentView {
            id,
            section,
            kind,
            size_bytes: size as i64,
            name,
            created_at: ts(now),
        })
    }

    /// Encrypts `head` and the rest of `body` into a new object; aborts the upload on any
    /// failure. Gives the plaintext size and the SHA-256 of the stored ciphertext.
    #[allow(clippy::too_many_arguments)]
    async fn stream_attachment_object<S>(
        &self,
        key: &crate::crypto::SecretKey,
        case: Uuid,
        id: Uuid,
        object_key: &str,
        head: Vec<u8>,
        ended: bool,
        body: &mut S,
    ) -> Result<(u64, String)>
    where
        S: Stream<Item = std::io::Result<Bytes>> + Unpin + Send,
    {
        let max = self.blobs.max_bytes;
        let mut sealer = cipher::Sealer::new(key, case, id)?;
        let mut scan = self.blobs.scanner.as_ref().map(|s| s.begin());
        let upload = self
            .blobs
            .store
            .put_multipart(&ObjectPath::from(object_key))
            .await
            .map_err(store_down)?;
        let mut w = WriteMultipart::new_with_chunk_size(upload, self.blobs.part_bytes);
        let mut hash = Sha256::new();
        let mut size = head.len() as u64;
        let mut out = Vec::with_capacity(cipher::CHUNK + 64);
        let step = |sealer: &mut cipher::Sealer,
                    scan: &mut Option<Box<dyn ScanSession>>,
                    piece: &[u8],
                    out: &mut Vec<u8>|
         -> Result<()> {
            if let Some(s) = scan.as_mut() {
                s.feed(piece);
            }
            sealer.push(piece, out)?;
            Ok(())
        };
        let res: Result<()> = async {
            step(&mut sealer, &mut scan, &head, &mut out)?;
            drop(head);
            if !ended {
                while let Some(piece) = body.next().await {
                    let piece = piece.map_err(|_| interrupted())?;
                    size += piece.len() as u64;
                    if size > max {
                        return Err(invalid(rules::too_large(max)));
                    }
                    step(&mut sealer, &mut scan, &piece, &mut out)?;
                    if out.len() >= cipher::CHUNK {
                        hash.update(&out);
                        w.write(&out);
                        out.clear();
                        w.wait_for_capacity(2).await.map_err(store_down)?;
                    }
                }
            }
            Ok(())
        }
        .await;
        if let Err(e) = res {
            let _ = w.abort().await;
            return Err(e);
        }
        if let Some(s) = scan
            && !s
                .clean()
                .map_err(|_| StoreError::Unavailable("malware_scanner_unavailable"))?
        {
            let _ = w.abort().await;
            return Err(invalid(FieldError::new(
                "file",
                "malware",
                "the malware scanner refused this file",
            )));
        }
        sealer.finish(&mut out)?;
        hash.update(&out);
        w.write(&out);
        w.finish().await.map_err(store_down)?;
        Ok((size, hex::encode(hash.finalize())))
    }

    /// Removes the row of an upload that failed (its object was aborted). A failure here is
    /// left to `repair` (the row is `pending`, invisible).
    async fn drop_pending_attachment(&self, id: Uuid) {
        let res: Result<()> = async {
            let mut tx = self.begin_write().await?;
            sqlx::query("DELETE FROM case_attachments WHERE id = $1 AND state = 'pending'")
                .bind(id.to_string())
                .execute(&mut *tx)
                .await?;
            tx.commit().await
        }
        .await;
        if let Err(e) = res {
            tracing::warn!(error = %e, "a failed upload's row is left for attachments repair");
        }
    }

    /// The attachments of case `case` the actor may read (sections the policy grants).
    pub async fn attachments(&self, ctx: &Ctx<'_>, case: Uuid) -> Result<Vec<AttachmentView>> {
        let access = self
            .authorize_case(ctx, dayaq_domain::Action::ReadCase, case)
            .await?;
        let rows: Vec<Row> = sqlx::query_as(
            "SELECT id, section, kind, size_bytes, name, object_key, state, created_at FROM case_attachments
             WHERE case_id = $1 AND state = 'stored' ORDER BY created_at, id",
        )
        .bind(access.id_str())
        .fetch_all(&self.pool)
        .await?;
        let readable: Vec<Row> = rows
            .into_iter()
            .filter(|r| {
                r.section().is_ok_and(|s| {
                    rules::actions(Op::Read, s)
                        .into_iter()
                        .all(|a| access.may(a))
                })
            })
            .collect();
        if readable.is_empty() {
            return Ok(Vec::new());
        }
        let key = {
            let mut conn = self.pool.acquire().await?;
            self.case_key(&mut conn, &access).await?
        };
        let mut out = Vec::with_capacity(readable.len());
        for r in readable {
            let name =
                open_text(&key, TABLE, "name", &r.id, Some(r.name.clone()))?.unwrap_or_default();
            out.push(AttachmentView {
                id: uuid_of(&r.id)?,
                section: r.section()?,
                kind: r.kind()?,
                size_bytes: r.size_bytes,
                name,
                created_at: ts(r.created_at),
            });
        }
        self.audit_read(ctx, &access, "attachment.list").await?;
        Ok(out)
    }

    async fn attachment_row(
        &self,
        access: &CaseAccess,
        id: Uuid,
        states: &'static str,
    ) -> Result<Row> {
        let sql = match states {
            "stored" => {
                "SELECT id, section, kind, size_bytes, name, object_key, state, created_at FROM case_attachments WHERE id = $1 AND case_id = $2 AND state = 'stored'"
            }
            _ => {
                "SELECT id, section, kind, size_bytes, name, object_key, state, created_at FROM case_attachments WHERE id = $1 AND case_id = $2 AND state IN ('stored', 'deleting')"
            }
        };
        sqlx::query_as(sql)
            .bind(id.to_string())
            .bind(access.id_str())
            .fetch_optional(&self.pool)
            .await?
            .ok_or(StoreError::NotFound)
    }

    /// Downloads attachment `id` of case `case`: audited, decrypted as it streams.
    pub async fn download_attachment(
        &self,
        ctx: &Ctx<'_>,
        case: Uuid,
        id: Uuid,
    ) -> Result<AttachmentDownload> {
        let access = self
            .authorize_case(ctx, dayaq_domain::Action::ReadCase, case)
            .await?;
        let row = self.attachment_row(&access, id, "stored").await?;
        self.require_attachment(ctx, &access, Op::Read, row.section()?)
            .await?;
        let kind = row.kind()?;
        let key = {
            let mut conn = self.pool.acquire().await?;
            self.case_key(&mut conn, &access).await?
        };
        let opener = cipher::Opener::new(&key, case, id)?;
        let got = match self
            .blobs
            .store
            .get(&ObjectPath::from(row.object_key.as_str()))
            .await
        {
            Ok(g) => g,
            Err(object_store::Error::NotFound { .. }) => {
                tracing::warn!(attachment = %id, "attachment object missing from the store");
                return Err(StoreError::Unavailable("attachment_object_missing"));
            }
            Err(e) => return Err(store_down(e)),
        };
        self.audit(
            ctx.entry_with(
                "attachment.download",
                "success",
                access.id_str(),
                format!("attachment={id}"),
            ),
            ctx.now,
        )
        .await?;
        let inner = got.into_stream();
        let body = futures_util::stream::unfold(Some((inner, opener)), |st| async move {
            let (mut inner, mut opener) = st?;
            loop {
                let mut out = Vec::new();
                match inner.next().await {
                    Some(Ok(b)) => {
                        if opener.push(&b, &mut out).is_err() {
                            return Some((Err(io_err("attachment failed to decrypt")), None));
                        }
                        if !out.is_empty() {
                            return Some((Ok(Bytes::from(out)), Some((inner, opener))));
                        }
                    }
                    Some(Err(_)) => return Some((Err(io_err("attachment store failed")), None)),
                    None => {
                        return match opener.finish(&mut out) {
                            Ok(()) => Some((Ok(Bytes::from(out)), None)),
                            Err(_) => Some((Err(io_err("attachment failed to decrypt")), None)),
                        };
                    }
                }
            }
        })
        .boxed();
        Ok(AttachmentDownload {
            file_name: rules::download_name(id, kind),
            kind,
            size_bytes: row.size_bytes,
            body,
        })
    }

    /// Deletes attachment `id`: the row is marked (audited, timeline), then the object and
    /// the row are removed. A store that is down answers 503 and the marked row stays hidden
    /// until a retry or `repair` finishes it.
    pub async fn delete_attachment(&self, ctx: &Ctx<'_>, case: Uuid, id: Uuid) -> Result<()> {
        let access = self
            .authorize_case(ctx, dayaq_domain::Action::UpdateCase, case)
            .await?;
        let row = self.attachment_row(&access, id, "any").await?;
        let section = row.section()?;
        self.require_attachment(ctx, &access, Op::Write, section)
            .await?;
        if row.state == "stored" {
            let mut w = self.write_case(ctx, &access).await?;
            sqlx::query(
                "UPDATE case_attachments SET state = 'deleting' WHERE id = $1 AND state = 'stored'",
            )
            .bind(&row.id)
            .execute(&mut *w)
            .await?;
            w.event("attachment.deleted", section_name(section)).await?;
            w.commit("attachment.delete", format!("attachment={id}"))
                .await?;
        }
        self.purge_attachment_object(&row.id, &row.object_key).await
    }

    /// Deletes one object (a missing one is fine) and then its row.
    async fn purge_attachment_object(&self, row_id: &str, object_key: &str) -> Result<()> {
        match self.blobs.store.delete(&ObjectPath::from(object_key)).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => {}
            Err(e) => return Err(store_down(e)),
        }
        let mut tx = self.begin_write().await?;
        sqlx::query("DELETE FROM case_attachments WHERE id = $1")
            .bind(row_id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await
    }

    /// After an erasure (its transaction marked the rows `deleting`): removes the case's
    /// objects and rows. What fails is left to `repair` (the ciphertext is unreadable anyway:
    /// the case key is gone).
    pub(crate) async fn purge_erased_attachments(&self, case_id: &str) {
        let rows: std::result::Result<Vec<Row>, sqlx::Error> = sqlx::query_as(
            "SELECT id, section, kind, size_bytes, name, object_key, state, created_at FROM case_attachments WHERE case_id = $1 AND state = 'deleting'",
        )
        .bind(case_id)
        .fetch_all(&self.pool)
        .await;
        match rows {
            Ok(rows) => {
                for r in rows {
                    if let Err(e) = self.purge_attachment_object(&r.id, &r.object_key).await {
                        tracing::warn!(error = %e, "an erased case's attachment is left for attachments repair");
                    }
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "erased attachments are left for attachments repair")
            }
        }
    }

    /// Lists what interrupted uploads, unfinished deletions and lost objects left behind;
    /// with `fix`, removes stale pending rows, finishes deletions and deletes orphan objects
    /// (audited as `attachments.repair`). `now_ms` decides which pending rows are stale.
    pub async fn repair_attachments(&self, now_ms: i64, fix: bool) -> Result<RepairReport> {
        let rows: Vec<Row> = sqlx::query_as(
            "SELECT id, section, kind, size_bytes, name, object_key, state, created_at FROM case_attachments ORDER BY id",
        )
        .fetch_all(&self.pool)
        .await?;
        let mut objects = std::collections::BTreeSet::new();
        let mut listing = self.blobs.store.list(None);
        while let Some(meta) = listing.next().await {
            let meta = meta.map_err(store_down)?;
            objects.insert(meta.location.to_string());
        }
        let mut report = RepairReport::default();
        let known: std::collections::BTreeSet<&str> =
            rows.iter().map(|r| r.object_key.as_str()).collect();
        report.orphan_objects = objects
            .iter()
            .filter(|o| !known.contains(o.as_str()))
            .cloned()
            .collect();
        let mut to_purge = Vec::new();
        for r in &rows {
            let uid = uuid_of(&r.id)?;
            match r.state.as_str() {
                "pending" if now_ms - r.created_at > PENDING_STALE_MS => {
                    report.stale_pending.push(uid);
                    to_purge.push((&r.id, &r.object_key));
                }
                "deleting" => {
                    report.deleting.push(uid);
                    to_purge.push((&r.id, &r.object_key));
                }
                "stored" if !objects.contains(&r.object_key) => report.missing_objects.push(uid),
                _ => {}
            }
        }
        if fix && !report.is_clean() {
            for (id, obj) in to_purge {
                self.purge_attachment_object(id, obj).await?;
            }
            for o in &report.orphan_objects {
                match self.blobs.store.delete(&ObjectPath::from(o.as_str())).await {
                    Ok(()) | Err(object_store::Error::NotFound { .. }) => {}
                    Err(e) => return Err(store_down(e)),
                }
            }
            let mut e = crate::audit::AuditEntry::new("attachments.repair", "success");
            e.detail = format!(
                "pending={} deleting={} orphans={} missing={}",
                report.stale_pending.len(),
                report.deleting.len(),
                report.orphan_objects.len(),
                report.missing_objects.len()
            );
            self.audit(e, crate::kernel::from_millis(now_ms)).await?;
            report.fixed = true;
        }
        Ok(report)
    }

    /// Every stored object's name with the SHA-256 of its ciphertext as recorded at upload
    /// (the restore drill compares these with what it reads back).
    pub async fn attachment_checksums(&self) -> Result<Vec<AttachmentChecksum>> {
        Ok(sqlx::query_as(
            "SELECT object_key, sha256 FROM case_attachments WHERE state = 'stored' ORDER BY object_key",
        )
        .fetch_all(&self.pool)
        .await?)
    }
}

fn interrupted() -> StoreError {
    invalid(FieldError::new(
        "file",
        "interrupted",
        "the upload was cut off before the end of the file; nothing was kept, send it again",
    ))
}
