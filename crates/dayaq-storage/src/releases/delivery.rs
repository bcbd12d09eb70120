//! Approval, generation and delivery of a release: the facts are loaded (`records.rs`), the
//! generator of the kind runs (k-anonymous microdata in the domain, differentially private
//! tables in `dayaq-privacy`), the file — a ZIP with `data.csv` and `README.md` — is
//! age-encrypted to the requester's key, and in ONE transaction the request becomes
//! `generated`, the privacy budget is checked and spent in the ledger, and the file row is
//! written. A refusal (too few records, budget overrun) changes nothing but its audit row.

use super::requests::release_error;
use super::{DATASET, EPSILON_BUDGET, ReleaseAccess, ReleaseKind, ReleaseRequest, ReleaseState};
use crate::audit::append;
use crate::{Result, Store, StoreError, millis};
use dayaq_domain::ValidationErrors;
use dayaq_domain::policy::{Action, ReleaseFacts, Resource, decide};
use dayaq_domain::release::{
    MicrodataCounter, MicrodataParams, MicrodataRelease, ReleaseError, ReleaseRecord,
    ReleaseVariable, check_budget,
};
use sha2::Digest;
use std::io::{Cursor, Read, Write};
use uuid::Uuid;

/// The data-use terms a researcher accepts with every request; printed in every README.
pub const DATA_USE_TERMS: &str = "\
1. Use the data only for the purpose stated in the request.\n\
2. Do not try to identify any person, and do not link the data with other data to do so.\n\
3. Do not pass the data on; publish only aggregate results.\n\
4. Keep the file encrypted at rest; delete it when the purpose is fulfilled.\n\
5. Report any suspected disclosure to the national coordinator at once.\n";

/// The file body a generator made.
#[derive(Debug, Clone)]
pub enum Body {
    Microdata(MicrodataRelease),
    Tables(dayaq_privacy::DpTables),
}

/// What a generator made: the CSV body and the README's method section.
#[derive(Debug, Clone)]
pub struct Made {
    pub body: Body,
    /// Markdown lines: method, parameters, k or ε/mechanism/expected error, suppressed count,
    /// generalisations.
    pub method: String,
    /// Records in the period, and records released (microdata) or counted (tables).
    pub records: usize,
    pub suppressed: usize,
}

impl Made {
    /// Writes `data.csv` (streamed: a microdata file is never held whole).
    pub fn write_csv(&self, w: &mut impl Write) -> std::io::Result<()> {
        match &self.body {
            Body::Microdata(m) => m.write_csv(w),
            Body::Tables(t) => w.write_all(t.to_csv().as_bytes()),
        }
    }

    /// `data.csv` in memory (tests and small releases).
    pub fn csv(&self) -> Result<Vec<u8>> {
        let mut out = Vec::new();
        self.write_csv(&mut out)?;
        Ok(out)
    }
}

/// The encrypted release file handed to the requester.
#[derive(Debug, Clone)]
pub struct ReleaseFile {
    pub request_id: Uuid,
    pub ciphertext: Vec<u8>,
    pub sha256: String,
}

impl ReleaseFile {
    /// `release-<id>.zip.age`.
    pub fn file_name(&self) -> String {
        format!("release-{}.zip.age", self.request_id)
    }
}

/// The standard tables a table release makes: those whose variables were all asked for.
pub fn tables_for(variables: &[ReleaseVariable]) -> Vec<dayaq_privacy::StandardTable> {
    dayaq_privacy::StandardTable::ALL
        .iter()
        .copied()
        .filter(|t| {
            t.variables()
                .iter()
                .all(|v| variables.iter().any(|x| x.as_str() == *v))
        })
        .collect()
}

/// The generator of a request's kind, fed the period's records a page at a time
/// (`Store::for_each_release_page`): it keeps counts, never the records.
#[derive(Debug, Clone)]
pub enum Generator {
    Microdata(MicrodataCounter),
    Tables {
        counts: dayaq_privacy::TableCounts,
        params: dayaq_privacy::DpParams,
        records: usize,
    },
}

impl Generator {
    /// Checks the request's parameters that need no data (k, variables, tables).
    pub fn new(r: &ReleaseRequest) -> Result<Self, ReleaseError> {
        let variables = ReleaseVariable::parse_list(&r.variables)?;
        match r.kind {
            ReleaseKind::Microdata => {
                let k = usize::try_from(r.k.unwrap_or(super::DEFAULT_K)).unwrap_or(0);
                Ok(Self::Microdata(MicrodataCounter::new(&MicrodataParams {
                    k,
                    variables,
                })?))
            }
            ReleaseKind::Tables => {
                let tables = tables_for(&variables);
                if tables.is_empty() {
                    return Err(ReleaseError::Variables(
                        "the variables make no standard table (docs/RELEASES.md)".into(),
                    ));
                }
                let params = dayaq_privacy::DpParams {
                    epsilon: r.epsilon.unwrap_or(super::DEFAULT_EPSILON),
                    years: (r.period_from.year(), r.period_to.year()),
                    tables,
                };
                Ok(Self::Tables {
                    counts: dayaq_privacy::TableCounts::new(params.years, &params.tables),
                    params,
                    records: 0,
                })
            }
        }
    }

    /// Counts a page of records (every record of a person in the same page).
    pub fn add_page(&mut self, page: &[ReleaseRecord]) {
        match self {
            Self::Microdata(m) => page.iter().for_each(|r| m.add(r)),
            Self::Tables {
                counts, records, ..
            } => {
                counts.add_page(page);
                *records += page.len();
            }
        }
    }

    /// Suppresses (microdata) or adds the noise (tables).
    pub fn finish(self) -> Result<Made, ReleaseError> {
        match self {
            Self::Microdata(counter) => {
                let m = counter.finish()?;
                let mut method = format!(
                    "k-anonymous microdata (CTDC-compatible layout), one generalised record per person.\n\n\
                     - k: {k} (every combination of the released values occurs at least k times)\n\
                     - records in the period: {}\n\
                     - records released: {}\n\
                     - records suppressed: {}\n\
                     - generalisations applied:\n",
                    m.records,
                    m.released,
                    m.suppressed,
                    k = m.k,
                );
                if m.generalisations.is_empty() {
                    method.push_str("  - none\n");
                }
                for g in &m.generalisations {
                    method.push_str(&format!(
                        "  - {}: {} ({} records)\n",
                        g.variable.as_str(),
                        g.rule,
                        g.records
                    ));
                }
                Ok(Made {
                    records: m.released,
                    suppressed: m.suppressed,
                    body: Body::Microdata(m),
                    method,
                })
            }
            Self::Tables {
                counts,
                params,
                records,
            } => {
                let t = dayaq_privacy::dp_tables_from(&counts, &params)?;
                Ok(Made {
                    method: format!("{}\n- records in the period: {records}\n", t.method()),
                    body: Body::Tables(t),
                    records,
                    suppressed: 0,
                })
            }
        }
    }
}

/// Runs the generator of the request's kind over `records` (all in memory: tests).
pub fn generate(r: &ReleaseRequest, records: &[ReleaseRecord]) -> Result<Made, ReleaseError> {
    let mut g = Generator::new(r)?;
    g.add_page(records);
    g.finish()
}

/// The README of a release.
pub fn readme(r: &ReleaseRequest, made: &Made, now: time::OffsetDateTime) -> String {
    format!(
        "# Dayaq research data release {id}\n\n\
         - kind: {kind}\n\
         - period: {from} to {to} (both included)\n\
         - variables: {vars}\n\
         - generated: {date} (UTC)\n\n\
         ## Method\n\n{method}\n\
         No direct identifier, free text, exact date or case number is in this release.\n\
         `data.csv` is UTF-8 with a header line; the columns are described in docs/RELEASES.md.\n\n\
         ## Data-use terms (accepted with the request)\n\n{terms}",
        id = r.id,
        kind = r.kind.name(),
        from = r.period_from,
        to = r.period_to,
        vars = r.variables.join(", "),
        date = now.date(),
        method = made.method,
        terms = DATA_USE_TERMS,
    )
}

/// The ZIP (`data.csv`, `README.md`) of a release (the CSV streamed into it).
pub fn zip_release(made: &Made, readme: &str) -> Result<Vec<u8>> {
    let z = |e: zip::result::ZipError| StoreError::Data(format!("zip: {e}"));
    let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let opt = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    w.start_file("data.csv", opt).map_err(z)?;
    made.write_csv(&mut w)?;
    w.start_file("README.md", opt).map_err(z)?;
    w.write_all(readme.as_bytes())?;
    Ok(w.finish().map_err(z)?.into_inner())
}

/// Decrypts a release file with an age identity (`AGE-SECRET-KEY-1…` lines) and returns the
/// ZIP's entries by name (what `age -d` and `unzip` do; for tests and checks).
pub fn open_release(identity: &str, ciphertext: &[u8]) -> Result<Vec<(String, Vec<u8>)>> {
    let ids = crate::packages::parse_age_identities(identity)?;
    let d = age::Decryptor::new_buffered(ciphertext)
        .map_err(|_| StoreError::Data("not an age file".into()))?;
    let mut plain = Vec::new();
    d.decrypt(ids.iter().map(|i| i as &dyn age::Identity))
        .map_err(|_| StoreError::Data("no matching age identity".into()))?
        .read_to_end(&mut plain)?;
    let mut zip = zip::ZipArchive::new(Cursor::new(plain))
        .map_err(|e| StoreError::Data(format!("zip: {e}")))?;
    let mut out = Vec::new();
    for i in 0..zip.len() {
        let mut f = zip
            .by_index(i)
            .map_err(|e| StoreError::Data(format!("zip: {e}")))?;
        let mut bytes = Vec::new();
        f.read_to_end(&mut bytes)?;
        let name = f.name().map(|n| n.to_string()).unwrap_or_default();
        out.push((name, bytes));
    }
    Ok(out)
}

impl Store {
    /// Approves a request (the national coordinator, never its requester; reason required)
    /// and generates its file at once. On a generator's or the budget's refusal nothing
    /// changes (the request stays `requested`) but the audit row
    /// (`release.generation_refused`), and the answer is 422 naming the field.
    pub async fn approve_release(
        &self,
        access: &ReleaseAccess<'_>,
        id: Uuid,
        reason: &str,
    ) -> Result<ReleaseRequest> {
        let ctx = &access.ctx;
        let r = self.request_for_decision(access, id).await?;
        let reason = super::requests::check_reason(reason)?;
        let recipient = self
            .release_recipient(r.requester)
            .await?
            .ok_or(StoreError::Data("the requester has no age key".into()))?;
        let recipient = crate::packages::parse_age_recipient("age_recipient", &recipient)
            .map_err(|e| StoreError::Data(e.message))?;
        let mut generator = match Generator::new(&r) {
            Ok(g) => g,
            Err(e) => return Err(self.generation_refused(access, id, &e).await?),
        };
        self.for_each_release_page(r.period_from, r.period_to, |page| {
            generator.add_page(&page);
            Ok(())
        })
        .await?;
        let made = match generator.finish() {
            Ok(m) => m,
            Err(e) => return Err(self.generation_refused(access, id, &e).await?),
        };
        let plain = zip_release(&made, &readme(&r, &made, ctx.now))?;
        let ciphertext =
            age::encrypt(&recipient, &plain).map_err(|e| StoreError::Data(e.to_string()))?;
        let sha = hex::encode(sha2::Sha256::digest(&ciphertext));
        let now = millis(ctx.now);

        let mut tx = self.begin_write().await?;
        let done = sqlx::query(
            "UPDATE release_requests SET state = 'generated', decider = $1, reason = $2, \
             decided_at = $3, generated_at = $3 WHERE id = $4 AND state = 'requested'",
        )
        .bind(ctx.actor.user_id.to_string())
        .bind(&reason)
        .bind(now)
        .bind(id.to_string())
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() != 1 {
            return Err(StoreError::Conflict);
        }
        if let Some(eps) = r.epsilon.filter(|_| r.kind == ReleaseKind::Tables) {
            let rows: Vec<String> = sqlx::query_scalar(
                "SELECT epsilon FROM privacy_ledger WHERE dataset = $1 AND period_from <= $2 AND period_to >= $3",
            )
            .bind(DATASET)
            .bind(r.period_to.to_string())
            .bind(r.period_from.to_string())
            .fetch_all(&mut *tx)
            .await?;
            let mut spent = 0.0;
            for e in &rows {
                spent += e
                    .parse::<f64>()
                    .map_err(|_| StoreError::Data("epsilon is not a number".into()))?;
            }
            if let Err(e) = check_budget(spent, eps, EPSILON_BUDGET) {
                drop(tx);
                return Err(self.generation_refused(access, id, &e).await?);
            }
            sqlx::query(
                "INSERT INTO privacy_ledger (id, dataset, period_from, period_to, epsilon, release_id, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(Uuid::now_v7().to_string())
            .bind(DATASET)
            .bind(r.period_from.to_string())
            .bind(r.period_to.to_string())
            .bind(eps.to_string())
            .bind(id.to_string())
            .bind(now)
            .execute(&mut *tx)
            .await?;
        }
        sqlx::query(
            "INSERT INTO release_files (request_id, ciphertext, sha256, size, records, suppressed, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(id.to_string())
        .bind(ciphertext.clone())
        .bind(&sha)
        .bind(ciphertext.len() as i64)
        .bind(made.records as i64)
        .bind(made.suppressed as i64)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        let mut e = ctx.entry("release.approved", "success", "");
        e.detail = format!("request={id}");
        append(&mut tx, &e, now).await?;
        let mut e = ctx.entry("release.generated", "success", "");
        e.detail = format!(
            "request={id} kind={} records={} suppressed={} size={}{}",
            r.kind.name(),
            made.records,
            made.suppressed,
            ciphertext.len(),
            r.epsilon
                .map(|x| format!(" epsilon={x}"))
                .unwrap_or_default()
        );
        append(&mut tx, &e, now).await?;
        tx.commit().await?;
        self.release_request_row(id)
            .await?
            .ok_or(StoreError::NotFound)
    }

    async fn generation_refused(
        &self,
        access: &ReleaseAccess<'_>,
        id: Uuid,
        e: &ReleaseError,
    ) -> Result<StoreError> {
        let errors: ValidationErrors = release_error(e);
        self.release_refused(&access.ctx, "release.generation_refused", Some(id), &errors)
            .await?;
        Ok(StoreError::Invalid(errors))
    }

    /// The encrypted file of a generated request: its requester only (the policy on the
    /// request); audited `release.downloaded` (size, digest prefix), a denial `access.denied`.
    pub async fn download_release(
        &self,
        access: &ReleaseAccess<'_>,
        id: Uuid,
    ) -> Result<ReleaseFile> {
        let ctx = &access.ctx;
        let r = self
            .release_request_row(id)
            .await?
            .ok_or(StoreError::NotFound)?;
        let d = decide(
            ctx.actor,
            Action::DownloadRelease,
            Resource::Release(ReleaseFacts {
                requester: r.requester,
            }),
        );
        if !d.allowed || access.action != Action::DownloadRelease {
            return Err(self.release_denied(ctx, d.reason, Some(id)).await?);
        }
        if !r.state.has_file() {
            return Err(StoreError::NotFound);
        }
        let now = millis(ctx.now);
        let mut tx = self.begin_write().await?;
        let row: Option<(Vec<u8>, String)> =
            sqlx::query_as("SELECT ciphertext, sha256 FROM release_files WHERE request_id = $1")
                .bind(id.to_string())
                .fetch_optional(&mut *tx)
                .await?;
        let Some((ciphertext, sha256)) = row else {
            return Err(StoreError::NotFound);
        };
        if r.state == ReleaseState::Generated {
            sqlx::query(
                "UPDATE release_requests SET state = 'downloaded', downloaded_at = $1 WHERE id = $2",
            )
            .bind(now)
            .bind(id.to_string())
            .execute(&mut *tx)
            .await?;
        }
        let mut e = ctx.entry("release.downloaded", "success", "");
        e.detail = format!("request={id} size={}", ciphertext.len());
        append(&mut tx, &e, now).await?;
        tx.commit().await?;
        Ok(ReleaseFile {
            request_id: id,
            ciphertext,
            sha256,
        })
    }
}
