//! Her copy of her record (issue #17 part 2, access request): the machine-readable HTCDS JSON
//! document and the ZIP that carries it with the readable HTML page and the printable PDF
//! (issue #21 §2). Pure: the caller renders the HTML and the PDF and encrypts the ZIP.
//!
//! The case object uses the HTCDS export mapping (`htcds::COLUMNS`, `htcds::case_cells`): the
//! same field names and values as an HTCDS export, empty fields left out.

use crate::htcds::{COLUMNS, case_cells};
use dayaq_domain::case::CaseView;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::io::{Cursor, Read, Write};

/// The document's format name and version.
pub const FORMAT: &str = "dayaq-subject-access";
pub const VERSION: i64 = 1;
/// The files in the ZIP.
pub const HTML_NAME: &str = "record.html";
pub const JSON_NAME: &str = "record.json";
pub const PDF_NAME: &str = "record.pdf";
/// Largest unpacked file `unpack` accepts (a copy is a few kilobytes).
const MAX_FILE: u64 = 16 * 1024 * 1024;

/// An organisation that received her data (never a person).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Recipient {
    /// HTCDS `org_Name`
    #[serde(rename = "org_Name")]
    pub organisation: String,
    /// referral | package | transfer
    pub how: String,
    /// RFC 3339
    pub at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
}

/// The JSON document.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AccessDocument {
    pub format: String,
    pub version: i64,
    /// RFC 3339 time the copy was made.
    pub created: String,
    /// az | ru | en
    pub language: String,
    /// HTCDS `org_Name` of the organisation that holds her record.
    pub holder: String,
    /// The record: HTCDS field name → value (empty fields left out).
    pub case: Map<String, Value>,
    /// The organisations that received her data, oldest first.
    pub recipients: Vec<Recipient>,
}

/// The record as an HTCDS object: each export column with a value, multi-select values as
/// arrays.
pub fn htcds_case(v: &CaseView) -> Map<String, Value> {
    COLUMNS
        .iter()
        .zip(case_cells(v))
        .filter(|(_, cell)| !cell.is_empty())
        .map(|(c, cell)| {
            let value = if c.kind == crate::htcds::ColumnKind::Multi {
                Value::Array(
                    cell.split(crate::htcds::MULTI_SEPARATOR)
                        .map(|s| Value::String(s.to_string()))
                        .collect(),
                )
            } else {
                Value::String(cell)
            };
            (c.name.to_string(), value)
        })
        .collect()
}

#[derive(Debug, thiserror::Error)]
pub enum PackError {
    #[error("zip: {0}")]
    Zip(#[from] zip::result::ZipError),
    #[error("i/o: {0}")]
    Io(#[from] std::io::Error),
    #[error("json: {0}")]
    Json(#[from] serde_json::Error),
    #[error("file too large")]
    TooLarge,
}

/// The ZIP of her copy: `record.html`, `record.json` and `record.pdf`.
pub fn pack(html: &str, doc: &AccessDocument, pdf: &[u8]) -> Result<Vec<u8>, PackError> {
    let json = serde_json::to_vec_pretty(doc)?;
    let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let opt = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    zip.start_file(HTML_NAME, opt)?;
    zip.write_all(html.as_bytes())?;
    zip.start_file(JSON_NAME, opt)?;
    zip.write_all(&json)?;
    zip.start_file(PDF_NAME, opt)?;
    zip.write_all(pdf)?;
    Ok(zip.finish()?.into_inner())
}

/// The files of a ZIP made by [`pack`] (name, bytes), for checks and tools.
pub fn unpack(bytes: &[u8]) -> Result<Vec<(String, Vec<u8>)>, PackError> {
    let mut a = zip::ZipArchive::new(Cursor::new(bytes))?;
    let mut out = Vec::new();
    for i in 0..a.len() {
        let f = a.by_index(i)?;
        let name = f.name()?.to_string();
        let mut buf = Vec::new();
        f.take(MAX_FILE + 1).read_to_end(&mut buf)?;
        if buf.len() as u64 > MAX_FILE {
            return Err(PackError::TooLarge);
        }
        out.push((name, buf));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pack_and_unpack_keep_both_files() {
        let doc = AccessDocument {
            format: FORMAT.into(),
            version: VERSION,
            created: "2026-12-05T10:00:00Z".into(),
            language: "az".into(),
            holder: "Org".into(),
            case: Map::new(),
            recipients: vec![Recipient {
                organisation: "Shelter".into(),
                how: "referral".into(),
                at: "2026-11-01T10:00:00Z".into(),
                state: Some("accepted".into()),
            }],
        };
        let z = pack("<p>ə ğ ı ö ü ş ç — Ж</p>", &doc, b"%PDF-1.7").unwrap();
        let files = unpack(&z).unwrap();
        assert_eq!(files.len(), 3);
        assert_eq!(files[2].0, PDF_NAME);
        assert_eq!(files[2].1, b"%PDF-1.7");
        assert_eq!(files[0].0, HTML_NAME);
        assert_eq!(
            String::from_utf8(files[0].1.clone()).unwrap(),
            "<p>ə ğ ı ö ü ş ç — Ж</p>"
        );
        let back: AccessDocument = serde_json::from_slice(&files[1].1).unwrap();
        assert_eq!(back.recipients, doc.recipients);
        assert!(String::from_utf8_lossy(&files[1].1).contains("\"org_Name\": \"Shelter\""));
    }
}
