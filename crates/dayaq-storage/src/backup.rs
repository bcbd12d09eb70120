//! Online, consistent, encrypted backups (engine-neutral).
//!
//! A backup is a stream of JSON lines — a header, then every row of every table in
//! `schema::TABLES` order — read inside one snapshot transaction and encrypted with `age`
//! (to an X25519 recipient or a passphrase) as it is written. The master key is never in a
//! backup: the wrapped keys are, so a backup is useless without the separately kept key file.
//! A restore goes into an empty database of either engine.

use crate::schema::{Kind, all_tables};
use crate::{Engine, Result, Store, StoreError};
use base64::Engine as _;
use futures_util::TryStreamExt;
use serde_json::{Value, json};
use sqlx::Row;
use std::io::{BufRead, Write};
use std::path::Path;

const FORMAT: &str = "dayaq-backup";
const FORMAT_VERSION: i64 = 1;

/// How a backup is encrypted.
pub enum BackupKey {
    Passphrase(String),
    /// An age X25519 recipient (`age1...`).
    Recipient(String),
}

/// How a backup is decrypted.
pub enum RestoreKey {
    Passphrase(String),
    /// An age identity file's contents (`AGE-SECRET-KEY-1...`).
    Identity(String),
}

fn backup_err(e: impl std::fmt::Display) -> StoreError {
    StoreError::Backup(e.to_string())
}

/// One column of a dumped row, read by its name.
fn cell(r: &sqlx::any::AnyRow, col: &str, k: Kind) -> Result<Value> {
    Ok(match k {
        Kind::Int => r
            .try_get::<Option<i64>, _>(col)?
            .map(Value::from)
            .unwrap_or(Value::Null),
        Kind::Text => r
            .try_get::<Option<String>, _>(col)?
            .map(Value::from)
            .unwrap_or(Value::Null),
        Kind::Blob => r
            .try_get::<Option<Vec<u8>>, _>(col)?
            .map(|b| Value::from(base64::engine::general_purpose::STANDARD.encode(b)))
            .unwrap_or(Value::Null),
    })
}

impl Store {
    /// Writes an encrypted backup to `path` (atomically: a temporary file is renamed).
    /// Returns the number of rows written.
    pub async fn backup(&self, path: &Path, key: BackupKey) -> Result<u64> {
        let name = path
            .file_name()
            .map(|n| format!("{}.partial", n.to_string_lossy()))
            .ok_or_else(|| backup_err("the backup path has no file name"))?;
        let tmp = path.with_file_name(name);
        let r = self.backup_to(&tmp, path, key).await;
        if r.is_err() {
            let _ = std::fs::remove_file(&tmp);
        }
        r
    }

    async fn backup_to(&self, tmp: &Path, path: &Path, key: BackupKey) -> Result<u64> {
        let recipient: Box<dyn age::Recipient + Send> = match key {
            BackupKey::Passphrase(p) => Box::new(age::scrypt::Recipient::new(p.into())),
            BackupKey::Recipient(r) => {
                Box::new(r.parse::<age::x25519::Recipient>().map_err(backup_err)?)
            }
        };
        let file = std::fs::File::create(tmp)?;
        let enc = age::Encryptor::with_recipients(std::iter::once(
            recipient.as_ref() as &dyn age::Recipient
        ))
        .map_err(backup_err)?;
        let mut w = std::io::BufWriter::new(enc.wrap_output(file)?);
        let mut tx = match self.engine {
            Engine::Sqlite => self.pool.begin().await?,
            Engine::Postgres => {
                self.pool
                    .begin_with("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
                    .await?
            }
        };
        let tables = all_tables();
        let header = json!({"format": FORMAT, "version": FORMAT_VERSION, "tables": tables.len()});
        writeln!(w, "{header}")?;
        let mut n = 0u64;
        for (table, cols) in all_tables() {
            let names: Vec<&str> = cols.iter().map(|c| c.0).collect();
            let q = format!("SELECT {} FROM {table} ORDER BY 1", names.join(", "));
            let mut rows = sqlx::query(sqlx::AssertSqlSafe(q)).fetch(&mut *tx);
            while let Some(r) = rows.try_next().await? {
                let vals = cols
                    .iter()
                    .map(|(name, k)| cell(&r, name, *k))
                    .collect::<Result<Vec<_>>>()?;
                writeln!(w, "{}", json!({"t": table, "r": vals}))?;
                n += 1;
            }
        }
        tx.commit().await?;
        let enc_writer = w.into_inner().map_err(|e| backup_err(e.error()))?;
        let file = enc_writer.finish()?;
        file.sync_all()?;
        std::fs::rename(tmp, path)?;
        Ok(n)
    }

    /// Restores a backup into this (empty) database. All or nothing: the transaction is not
    /// committed unless every row loads and the backup's keyring was wrapped by the master key
    /// this store was opened with. The store's in-memory keys are reloaded from the restored
    /// keyring. Callers audit the restore (the restored log must equal the backed-up one).
    pub async fn restore(&self, path: &Path, key: RestoreKey) -> Result<u64> {
        let has_rows: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM organisations")
            .fetch_one(&self.pool)
            .await?;
        let audit_rows: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM audit_log")
            .fetch_one(&self.pool)
            .await?;
        if has_rows > 0 || audit_rows > 0 {
            return Err(StoreError::Backup(
                "the target database is not empty; restore needs an empty data directory".into(),
            ));
        }
        let file = std::fs::File::open(path)?;
        let dec = age::Decryptor::new(std::io::BufReader::new(file)).map_err(backup_err)?;
        let reader: Box<dyn std::io::Read> = match key {
            RestoreKey::Passphrase(p) => {
                let id = age::scrypt::Identity::new(p.into());
                Box::new(
                    dec.decrypt(std::iter::once(&id as &dyn age::Identity))
                        .map_err(backup_err)?,
                )
            }
            RestoreKey::Identity(text) => {
                let ids = age::IdentityFile::from_buffer(text.as_bytes())
                    .map_err(backup_err)?
                    .into_identities()
                    .map_err(backup_err)?;
                Box::new(
                    dec.decrypt(ids.iter().map(|i| i.as_ref() as &dyn age::Identity))
                        .map_err(backup_err)?,
                )
            }
        };
        let mut lines = std::io::BufReader::new(reader).lines();
        let header: Value =
            serde_json::from_str(&lines.next().ok_or_else(|| backup_err("empty backup"))??)
                .map_err(backup_err)?;
        if header["format"] != FORMAT || header["version"] != FORMAT_VERSION {
            return Err(backup_err("not a Dayaq backup of a known version"));
        }
        let mut tx = self.begin_write().await?;
        // The fresh schema seeds the keyring and the audit head: the backup's rows replace them.
        sqlx::query("DELETE FROM keyring").execute(&mut *tx).await?;
        sqlx::query("DELETE FROM audit_head")
            .execute(&mut *tx)
            .await?;
        let mut n = 0u64;
        for line in lines {
            let line = line?;
            let v: Value = serde_json::from_str(&line).map_err(backup_err)?;
            let table = v["t"]
                .as_str()
                .ok_or_else(|| backup_err("row without table"))?;
            let tables = all_tables();
            let (tname, cols) = tables
                .iter()
                .find(|(t, _)| *t == table)
                .ok_or_else(|| backup_err("unknown table in backup"))?;
            let vals = v["r"]
                .as_array()
                .ok_or_else(|| backup_err("row without values"))?;
            // Backups from before the audit head's seal (0014) have its first three columns:
            // the head is restored unsealed (`dayaq audit seal`).
            let padded;
            let vals = if *tname == "audit_head" && vals.len() == 3 && cols.len() == 7 {
                padded = vals
                    .iter()
                    .cloned()
                    .chain([json!(0), json!(""), json!(""), json!("")])
                    .collect::<Vec<Value>>();
                &padded
            } else {
                vals
            };
            if vals.len() != cols.len() {
                return Err(backup_err(format!(
                    "row of {tname} has {} values, expected {}",
                    vals.len(),
                    cols.len()
                )));
            }
            let names: Vec<&str> = cols.iter().map(|c| c.0).collect();
            let ph: Vec<String> = (1..=cols.len()).map(|i| format!("${i}")).collect();
            let q = format!(
                "INSERT INTO {tname} ({}) VALUES ({})",
                names.join(", "),
                ph.join(", ")
            );
            let mut query = sqlx::query(sqlx::AssertSqlSafe(q));
            for ((_, k), val) in cols.iter().zip(vals) {
                query = match k {
                    Kind::Int => query.bind(val.as_i64()),
                    Kind::Text => query.bind(val.as_str().map(str::to_string)),
                    Kind::Blob => query.bind(
                        val.as_str()
                            .map(|s| base64::engine::general_purpose::STANDARD.decode(s))
                            .transpose()
                            .map_err(backup_err)?,
                    ),
                };
            }
            query.execute(&mut *tx).await?;
            n += 1;
        }
        let current = self.keys.current_key_id()?;
        let ids: Vec<String> = sqlx::query_scalar("SELECT master_key_id FROM keyring")
            .fetch_all(&mut *tx)
            .await?;
        if ids.is_empty() || ids.iter().any(|k| *k != current) {
            return Err(backup_err(format!(
                "the backup's keys are wrapped by master key {}, but the key file holds {current}; \
                 put the master key file of the backed-up instance in place first",
                ids.first().map(String::as_str).unwrap_or("(none)")
            )));
        }
        tx.commit().await?;
        self.keys.reload(&self.pool).await?;
        Ok(n)
    }

    /// A canonical, engine-neutral dump of every row (for tests comparing two databases).
    pub async fn logical_dump(&self) -> Result<Vec<Value>> {
        let mut out = Vec::new();
        for (table, cols) in all_tables() {
            let names: Vec<&str> = cols.iter().map(|c| c.0).collect();
            let q = format!("SELECT {} FROM {table} ORDER BY 1", names.join(", "));
            for r in sqlx::query(sqlx::AssertSqlSafe(q))
                .fetch_all(&self.pool)
                .await?
            {
                let vals = cols
                    .iter()
                    .map(|(name, k)| cell(&r, name, *k))
                    .collect::<Result<Vec<_>>>()?;
                out.push(json!({"t": table, "r": vals}));
            }
        }
        Ok(out)
    }
}
